#include "core/io/stop_flag.h"

namespace flowengine {

std::atomic<bool>& ProcessStopFlag() noexcept {
  static std::atomic<bool> flag{false};
  return flag;
}

}  // namespace flowengine
