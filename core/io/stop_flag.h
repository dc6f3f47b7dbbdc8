// The process-wide stop request, set by the CLI's SIGINT/SIGTERM handler and polled by the
// reader (also while it waits on a pipe). Lock-free and async-signal-safe to set.
#pragma once

#include <atomic>

namespace flowengine {

/// The flag itself, to hand to RunOptions::stop.
std::atomic<bool>& ProcessStopFlag() noexcept;
/// True once a stop was requested.
inline bool StopRequested() noexcept { return ProcessStopFlag().load(std::memory_order_relaxed); }

}  // namespace flowengine
