#include "core/io/decompressing_reader.h"

#include <algorithm>
#include <cstring>

#include "core/error/error.h"

namespace flowengine {
namespace {

constexpr size_t kReadSize = 64 * 1024;    // compressed bytes per read
constexpr size_t kHandOver = 1024 * 1024;  // decompressed bytes per buffer handed over
constexpr size_t kQueued = 2;              // buffers waiting at most

}  // namespace

DecompressingReader::DecompressingReader(InputFile& file, Compression kind, const char* prefix,
                                         size_t prefix_size)
    : file_(file), kind_(kind), prefix_(prefix, prefix_size) {
  file_.SetCancelFlag(&cancel_);
  thread_ = std::thread([this] { Produce(); });
}

DecompressingReader::~DecompressingReader() {
  cancel_.store(true);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  file_.SetCancelFlag(nullptr);
}

void DecompressingReader::Push(ByteBuffer&& buffer) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return ready_.size() < kQueued || cancel_.load(); });
  if (cancel_.load()) return;
  ready_.push_back(std::move(buffer));
  cv_.notify_all();
}

void DecompressingReader::Produce() {
  try {
    Decompressor decompressor(kind_);
    Location loc;
    loc.file = file_.path();
    const auto fail = [&](const std::string& problem) {
      ThrowError("FE-INPUT-COMPRESSED",
                 "The " + std::string(CompressionName(kind_)) + " input is damaged: " + problem,
                 loc, "read");
    };
    ByteBuffer out;
    out.Reserve(kHandOver + 256 * 1024);
    std::string problem;
    // Feeds `data` (nullptr, 0: what the decoder still holds), handing over every ~1 MiB.
    const auto feed = [&](const char* data, size_t size) {
      size_t at = 0;
      while ((at < size || decompressor.HasPending()) && !cancel_.load()) {
        at += decompressor.Feed(data + at, size - at, out, kHandOver, &problem);
        if (!problem.empty()) fail(problem);
        if (out.size() >= kHandOver) {
          Push(std::move(out));
          out = ByteBuffer();
          out.Reserve(kHandOver + 256 * 1024);
        }
      }
    };
    feed(prefix_.data(), prefix_.size());
    std::string raw(kReadSize, '\0');
    while (!cancel_.load()) {
      const size_t got = file_.ReadSome(raw.data(), raw.size());
      if (got == 0) {
        feed(nullptr, 0);
        problem = decompressor.Finish();
        if (!problem.empty()) fail(problem);
        break;
      }
      feed(raw.data(), got);
    }
    if (out.size() > 0) Push(std::move(out));
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = true;
  cv_.notify_all();
}

bool DecompressingReader::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return !ready_.empty() || done_; });
  if (!ready_.empty()) {
    current_ = std::move(ready_.front());
    ready_.pop_front();
    current_pos_ = 0;
    cv_.notify_all();
    return true;
  }
  if (error_) std::rethrow_exception(error_);
  return false;
}

size_t DecompressingReader::ReadSome(char* dst, size_t n) {
  if (n == 0) return 0;
  if (current_pos_ >= current_.size() && !Next()) return 0;
  const size_t take = std::min(n, current_.size() - current_pos_);
  std::memcpy(dst, current_.data() + current_pos_, take);
  current_pos_ += take;
  return take;
}

size_t DecompressingReader::Read(char* dst, size_t n) {
  size_t total = 0;
  while (total < n) {
    const size_t got = ReadSome(dst + total, n - total);
    if (got == 0) break;
    total += got;
  }
  return total;
}

}  // namespace flowengine
