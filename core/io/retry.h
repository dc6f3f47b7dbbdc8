// Retries of transient I/O failures: exponential backoff with full jitter, each retry
// logged on stderr. Also the test-only fault-injection seam of the I/O layer: the variable
// FLOWENGINE_TEST_FAULTS="read:EIO:2,write:EAGAIN:1" makes the next 2 reads fail with EIO and
// the next write with EAGAIN (names: EIO, EAGAIN, EINTR, ENOSPC, EBUSY, EACCES). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace flowengine {

/// `retry:` of the pipeline file.
struct RetryPolicy {
  int attempts = 3;               ///< tries in all, the first included (1: no retries)
  int64_t initial_delay_ms = 50;  ///< the first backoff's upper bound
  int64_t max_delay_ms = 2000;    ///< cap of the backoff's upper bound
};

/// Transient failures worth another try: EIO (network filesystems), EAGAIN/EWOULDBLOCK,
/// EBUSY, ENOLCK, ETIMEDOUT. Never ENOSPC, EACCES, EBADF, ...
bool IsTransientErrno(int err);

/// Logs "retry K/N in D ms: WHAT" and sleeps D, uniform in [0, min(max, initial * 2^(K-1))].
/// Retries done by this process so far (for metrics).
std::atomic<uint64_t>& RetryCount() noexcept;

void BackoffBeforeRetry(const RetryPolicy& policy, int retry, const std::string& what);

enum class IoOp { kRead, kWrite };

/// The errno to fail this operation with (consuming one injected fault), or 0.
int TakeInjectedFault(IoOp op);

}  // namespace flowengine
