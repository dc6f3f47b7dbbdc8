// CPU quota from cgroup files (v2 cpu.max, v1 cfs quota/period), and the affinity mask.
#include "core/graph/cpu_count.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <filesystem>

#include "tests/test_util.h"

namespace flowengine {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(CpuCountTest, CgroupV2Quota) {
  TempDir dir;
  WriteFile(dir.File("cpu.max"), "150000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(dir.path()), 2);  // 1.5 CPUs round up
  WriteFile(dir.File("cpu.max"), "max 100000\n");
  EXPECT_EQ(CgroupCpuQuota(dir.path()), 0);
  WriteFile(dir.File("cpu.max"), "100000 100000\n");
  EXPECT_EQ(AvailableCpus(dir.path()), 1);  // capped by the quota
}

TEST(CpuCountTest, CgroupV1Quota) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("cpu"));
  WriteFile(dir.File("cpu/cpu.cfs_quota_us"), "300000\n");
  WriteFile(dir.File("cpu/cpu.cfs_period_us"), "100000\n");
  EXPECT_EQ(CgroupCpuQuota(dir.path()), 3);
  WriteFile(dir.File("cpu/cpu.cfs_quota_us"), "-1\n");
  EXPECT_EQ(CgroupCpuQuota(dir.path()), 0);
}

TEST(CpuCountTest, NoCgroupFilesMeansTheAffinityMask) {
  TempDir dir;
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(AvailableCpus(dir.path()), CPU_COUNT(&set));
}

}  // namespace
}  // namespace flowengine
