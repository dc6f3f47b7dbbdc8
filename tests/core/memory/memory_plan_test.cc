#include "core/memory/memory_plan.h"

#include <gtest/gtest.h>

namespace flowengine {
namespace {

// Everything the plan allows to exist at once must fit the budget.
void ExpectWithinBudget(const MemoryPlan& p) {
  EXPECT_GE(p.tokens, 2u);
  EXPECT_LE(p.block_size + (p.tokens + 1) * p.chunk_bytes, static_cast<size_t>(p.budget));
  // A typical block (one delimiter per 14 bytes, ten columns) fits a chunk.
  const size_t b = p.block_size;
  EXPECT_LE(ChunkBytes(b, b, static_cast<int64_t>(b / 14), static_cast<int64_t>(b / 140), 10),
            p.chunk_bytes);
  // So does the largest record.
  EXPECT_LE(ChunkBytes(p.max_record, p.max_record, 0, 1, 1), p.chunk_bytes);
}

TEST(MemoryPlanTest, DefaultsKeepEveryThreadBusy) {
  LimitsSpec limits;
  limits.threads = 2;
  MemoryPlan p = PlanMemory(limits);
  EXPECT_EQ(p.threads, 2);
  EXPECT_EQ(p.tokens, 6u);
  EXPECT_EQ(p.block_size, 1u << 20);
  EXPECT_EQ(p.max_record, 16u << 20);
  ExpectWithinBudget(p);
}

TEST(MemoryPlanTest, SmallBudgetShrinksBlocksNotBelowTwoTokens) {
  LimitsSpec limits;
  limits.threads = 8;
  limits.memory = 4 << 20;
  MemoryPlan p = PlanMemory(limits);
  EXPECT_EQ(p.tokens, 2u);
  EXPECT_LT(p.block_size, 1u << 20);
  EXPECT_GE(p.block_size, 64u << 10);
  EXPECT_LT(p.max_record, 16u << 20);  // the budget lowers the record limit
  ExpectWithinBudget(p);
}

TEST(MemoryPlanTest, EveryBudgetIsRespected) {
  for (int64_t mib : {4, 5, 8, 16, 64, 100, 512, 4096}) {
    for (int threads : {1, 2, 16}) {
      LimitsSpec limits;
      limits.threads = threads;
      limits.memory = mib << 20;
      SCOPED_TRACE(std::to_string(mib) + " MiB, " + std::to_string(threads) + " threads");
      ExpectWithinBudget(PlanMemory(limits));
    }
  }
}

TEST(MemoryPlanTest, DenseDataCostsMore) {
  const size_t sparse = ChunkBytes(1 << 20, 1 << 20, 1000, 100, 10);
  const size_t dense = ChunkBytes(1 << 20, 1 << 20, 500000, 50000, 10);
  EXPECT_GT(dense, 3 * sparse);
}

}  // namespace
}  // namespace flowengine
