#include "core/metrics/bench_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace flowengine {
namespace {

TEST(BenchStatsTest, MedianOfOddAndEvenCounts) {
  EXPECT_EQ(Median({}), 0);
  EXPECT_EQ(Median({3}), 3);
  EXPECT_EQ(Median({5, 1, 3}), 3);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
}

TEST(BenchStatsTest, SummaryOfKnownValues) {
  // Median 3, deviations {2,1,0,1,2}: MAD 1; spread 1.4826 / 3; mean 3, sd sqrt(2.5).
  const Spread s = Summarize({1, 2, 3, 4, 5});
  EXPECT_EQ(s.median, 3);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 5);
  EXPECT_NEAR(s.robust_spread_percent, 1.4826 / 3 * 100, 1e-9);
  EXPECT_NEAR(s.cv_percent, std::sqrt(2.5) / 3 * 100, 1e-9);
}

TEST(BenchStatsTest, OneOutlierMovesTheCvButNotTheRobustSpread) {
  const Spread calm = Summarize({10, 10.1, 9.9, 10, 10.05, 9.95, 10});
  const Spread disturbed = Summarize({10, 10.1, 9.9, 10, 10.05, 9.95, 30});
  EXPECT_NEAR(calm.robust_spread_percent, disturbed.robust_spread_percent, 0.2);
  EXPECT_GT(disturbed.cv_percent, 10 * calm.cv_percent);
}

TEST(BenchStatsTest, RobustSpreadEstimatesTheRelativeStandardDeviationOfNormalData) {
  // Oracle: for normal data, 1.4826 x MAD estimates sigma.
  std::mt19937 rng(7);
  std::normal_distribution<double> normal(100.0, 5.0);
  std::vector<double> v;
  for (int i = 0; i < 20001; ++i) v.push_back(normal(rng));
  const Spread s = Summarize(v);
  EXPECT_NEAR(s.robust_spread_percent, 5.0, 0.2);
  EXPECT_NEAR(s.cv_percent, 5.0, 0.2);
}

TEST(BenchStatsTest, EmptyAndSingleSamples) {
  const Spread none = Summarize({});
  EXPECT_EQ(none.median, 0);
  const Spread one = Summarize({4});
  EXPECT_EQ(one.median, 4);
  EXPECT_EQ(one.robust_spread_percent, 0);
  EXPECT_EQ(one.cv_percent, 0);
}

}  // namespace
}  // namespace flowengine
