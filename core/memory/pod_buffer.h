// PodBuffer<T>: a growable array of trivially copyable T from mimalloc, with kPaddingBytes
// of zeroed, readable slack after the capacity so SIMD kernels may load past the end.
// Growing never initialises elements (no per-element cost). A buffer attached to a
// MemoryBudget reports every change of its reservation there; the attachment stays with the
// object when contents are swapped or moved (the reservation moves between accounts).
// Move-only, not synchronised.
#pragma once

#include <mimalloc.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "core/memory/memory_budget.h"

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
  PodBuffer(PodBuffer&& o) noexcept { Swap(o); }
  PodBuffer& operator=(PodBuffer&& o) noexcept {
    Swap(o);
    return *this;
  }
  ~PodBuffer() {
    Account(-static_cast<int64_t>(Bytes(capacity_)));
    mi_free(data_);
  }

  /// Exchanges contents; each buffer keeps its budget, and the reservations follow the data.
  void Swap(PodBuffer& o) noexcept {
    const int64_t mine = static_cast<int64_t>(Bytes(capacity_));
    const int64_t theirs = static_cast<int64_t>(Bytes(o.capacity_));
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
    if (budget_ == o.budget_) return;  // the same account: nothing moves
    // The release first, so that the account never shows both buffers at once.
    if (theirs < mine) {
      Account(theirs - mine);
      o.Account(mine - theirs);
    } else {
      o.Account(mine - theirs);
      Account(theirs - mine);
    }
  }
  /// Attaches the buffer to `budget` (nullptr: none); its reservation moves there.
  void AttachBudget(MemoryBudget* budget) noexcept {
    Account(-static_cast<int64_t>(Bytes(capacity_)));
    budget_ = budget;
    Account(static_cast<int64_t>(Bytes(capacity_)));
  }
  /// Bytes reserved for a capacity of `n` elements (0 when nothing is allocated).
  static size_t Bytes(size_t n) { return n == 0 ? 0 : n * sizeof(T) + kPaddingBytes; }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  /// Makes room for `n` elements, keeping the first size() of them. An attached budget is
  /// charged first: MemoryBudgetExceeded when it would pass its limit (nothing changes).
  void Reserve(size_t n) {
    if (n <= capacity_) return;
    const int64_t delta = static_cast<int64_t>(Bytes(n)) - static_cast<int64_t>(Bytes(capacity_));
    if (budget_ != nullptr) budget_->Charge(delta);
    // realloc would copy the whole old capacity; when little of it is used, copy just that.
    void* p = nullptr;
    if (data_ != nullptr && size_ < capacity_ / 2) {
      p = mi_malloc_aligned(Bytes(n), 64);
      if (p != nullptr) {
        if (size_ != 0) std::memcpy(p, data_, size_ * sizeof(T));
        mi_free(data_);
      }
    } else {
      p = mi_realloc_aligned(data_, Bytes(n), 64);
    }
    if (p == nullptr) {
      Account(-delta);
      throw std::bad_alloc();
    }
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
      Account(-static_cast<int64_t>(Bytes(capacity_)));
      mi_free(data_);
      data_ = nullptr;
      capacity_ = 0;
      size_ = 0;
      Reserve(DiscardCapacity(n));
    }
    size_ = n;
  }
  void Clear() { size_ = 0; }
  void Append(const T* p, size_t n) {
    if (n == 0) return;
    size_t old = size_;
    Resize(size_ + n);
    std::memcpy(data_ + old, p, n * sizeof(T));
  }
  /// Zeroes kPaddingBytes after size() (the bytes a SIMD load past the end would see).
  void ZeroTail() {
    if (data_ == nullptr) Reserve(1);  // an empty buffer still gets readable padding
    std::memset(reinterpret_cast<char*>(data_ + size_), 0, kPaddingBytes);
  }

  /// The capacity ResizeDiscard(n) reserves when it has to grow.
  static size_t DiscardCapacity(size_t n) { return n + n / 4; }

 private:
  void Account(int64_t delta) noexcept {
    if (budget_ != nullptr && delta != 0) budget_->Add(delta);
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  MemoryBudget* budget_ = nullptr;
};

using ByteBuffer = PodBuffer<char>;

}  // namespace flowengine
