#include "core/graph/cpu_count.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace flowengine {
namespace {

// ceil(quota / period), or 0 when either is not a positive number.
int QuotaCpus(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return 0;
  return static_cast<int>((quota + period - 1) / period);
}

}  // namespace

int CgroupCpuQuota(const std::string& cgroup_root) {
  // cgroup v2: "max 100000" (no quota) or "150000 100000".
  std::ifstream v2(cgroup_root + "/cpu.max");
  if (v2) {
    std::string quota;
    long long period = 0;
    v2 >> quota >> period;
    if (quota == "max") return 0;
    try {
      return QuotaCpus(std::stoll(quota), period);
    } catch (...) {
      return 0;
    }
  }
  // cgroup v1: quota -1 means none.
  std::ifstream quota_file(cgroup_root + "/cpu/cpu.cfs_quota_us");
  std::ifstream period_file(cgroup_root + "/cpu/cpu.cfs_period_us");
  long long quota = 0;
  long long period = 0;
  if (quota_file >> quota && period_file >> period) return QuotaCpus(quota, period);
  return 0;
}

int AvailableCpus(const std::string& cgroup_root) {
  int cpus = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus <= 0) cpus = static_cast<int>(std::thread::hardware_concurrency());
  const int quota = CgroupCpuQuota(cgroup_root);
  if (quota > 0) cpus = std::min(cpus, quota);
  return std::max(1, cpus);
}

}  // namespace flowengine
