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

/// Retries done by this process so far (for metrics).
std::atomic<uint64_t>& RetryCount() noexcept;

/// Logs "retry K/N in D ms: WHAT" and sleeps D, uniform in [0, min(max, initial * 2^(K-1))].
/// The sleep ends within 20 ms of a stop request on `stop` (nullptr: the process's stop
/// flag, which signals and limits.timeout set) and then throws ErrorException
/// FE-RESOURCE-INTERRUPTED: no wait outlives a stop.
void BackoffBeforeRetry(const RetryPolicy& policy, int retry, const std::string& what,
                        const std::atomic<bool>* stop);

/// Sleeps `ms` milliseconds unless `stop` (nullptr: the process's flag) is set first; false
/// when it was.
bool SleepUnlessStopped(int64_t ms, const std::atomic<bool>* stop);

/// kSync: flushing a written file's data to disk (the background data syncs and the fsync at
/// commit; FLOWENGINE_TEST_FAULTS "sync:EIO:1").
enum class IoOp { kRead, kWrite, kSync };

/// The errno to fail this operation with (consuming one injected fault), or 0.
int TakeInjectedFault(IoOp op);

}  // namespace flowengine
