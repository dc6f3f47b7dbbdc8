// How many CPUs this process may use: its CPU affinity mask, capped by a cgroup CPU quota
// (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us), rounded up. This is
// the default for limits.threads, so a container limited to 2 CPUs on a 64-core host runs
// 2 threads, not 64.
#pragma once

#include <string>

namespace flowengine {

/// CPUs allowed by the affinity mask and the cgroup quota found under `cgroup_root`; at
/// least 1.
int AvailableCpus(const std::string& cgroup_root = "/sys/fs/cgroup");

/// The CPU quota (CPUs, rounded up) set in `cgroup_root`, or 0 when there is none.
int CgroupCpuQuota(const std::string& cgroup_root);

}  // namespace flowengine
