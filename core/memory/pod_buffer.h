// PodBuffer<T>: a growable array of trivially copyable T from mimalloc, with kPaddingBytes
// of zeroed, readable slack after the capacity so SIMD kernels may load past the end.
// Growing never initialises elements (no per-element cost). Move-only, not synchronised.
#pragma once

#include <mimalloc.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace flowengine {

/// Bytes of readable padding after every PodBuffer's capacity.
inline constexpr size_t kPaddingBytes = 64;

template <typename T>
class PodBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  PodBuffer() = default;
  PodBuffer(const PodBuffer&) = delete;
  PodBuffer& operator=(const PodBuffer&) = delete;
  PodBuffer(PodBuffer&& o) noexcept { *this = std::move(o); }
  PodBuffer& operator=(PodBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
    return *this;
  }
  ~PodBuffer() { mi_free(data_); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  /// Makes room for `n` elements, keeping the first size() of them.
  void Reserve(size_t n) {
    if (n <= capacity_) return;
    size_t bytes = n * sizeof(T) + kPaddingBytes;
    void* p = mi_realloc_aligned(data_, bytes, 64);
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<T*>(p);
    capacity_ = n;
    std::memset(reinterpret_cast<char*>(data_ + capacity_), 0, kPaddingBytes);
  }
  /// Sets the size; new elements are uninitialised. Grows geometrically.
  void Resize(size_t n) {
    if (n > capacity_) Reserve(n > capacity_ * 2 ? n : capacity_ * 2);
    size_ = n;
  }
  /// Sets the size, discarding the contents: growing never copies old bytes, and leaves
  /// 25% headroom so that slightly larger requests later do not reallocate.
  void ResizeDiscard(size_t n) {
    if (n > capacity_) {
      mi_free(data_);
      data_ = nullptr;
      capacity_ = 0;
      size_ = 0;
      Reserve(n + n / 4);
    }
    size_ = n;
  }
  void Clear() { size_ = 0; }
  void Append(const T* p, size_t n) {
    size_t old = size_;
    Resize(size_ + n);
    std::memcpy(data_ + old, p, n * sizeof(T));
  }
  /// Zeroes kPaddingBytes after size() (the bytes a SIMD load past the end would see).
  void ZeroTail() { std::memset(reinterpret_cast<char*>(data_ + size_), 0, kPaddingBytes); }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

using ByteBuffer = PodBuffer<char>;

}  // namespace flowengine
