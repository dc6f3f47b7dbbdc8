// A reused chunk starts clean: every field a stage writes (counters, row lists, outputs,
// rejects, errors) is reset by Release(), and every buffer stays charged to the budget.
#include "core/batch/chunk_pool.h"

#include <gtest/gtest.h>

namespace flowengine {
namespace {

TEST(ChunkPoolTest, ReleaseResetsEverythingAStageWrites) {
  MemoryBudget budget;
  ChunkPool pool(&budget);
  Chunk* c = pool.Acquire();
  c->EnsureRoutes(2);
  c->batch.num_rows = 7;
  c->records = 9;
  c->transform.active = true;
  c->transform.batch.num_rows = 7;
  c->transform.filtered = 1;
  c->transform.routed = 2;
  c->transform.copies = 3;
  c->transform.rejected = 4;
  const uint32_t row = 5;
  c->transform.main_rows.Append(&row, 1);
  c->transform.route_rows[1].Append(&row, 1);
  c->transform.values.Append("abc", 3);
  c->output.Append("x", 1);
  c->route_output[1].Append("y", 1);
  c->dead_output.Append("z", 1);
  c->rejects.push_back(Reject{MakeError("FE-INTERNAL", "x"), 0, 0, 1, 0});
  c->error = MakeError("FE-INTERNAL", "x");
  c->skipped = true;
  pool.Release(c);
  Chunk* again = pool.Acquire();
  ASSERT_EQ(again, c);  // recycled
  EXPECT_EQ(again->batch.num_rows, 0u);
  EXPECT_EQ(again->records, 0u);
  EXPECT_FALSE(again->transform.active);
  EXPECT_EQ(again->transform.batch.num_rows, 0u);
  EXPECT_EQ(again->transform.filtered + again->transform.routed + again->transform.copies +
                again->transform.rejected,
            0u);
  EXPECT_EQ(again->transform.main_rows.size(), 0u);
  EXPECT_EQ(again->transform.route_rows[1].size(), 0u);
  EXPECT_EQ(again->transform.values.size(), 0u);
  EXPECT_EQ(again->output.size() + again->route_output[1].size() + again->dead_output.size(), 0u);
  EXPECT_TRUE(again->rejects.empty());
  EXPECT_FALSE(again->error.has_value());
  EXPECT_FALSE(again->skipped);
}

TEST(ChunkPoolTest, EveryBufferIsChargedToTheBudget) {
  MemoryBudget budget(1 << 20);
  ChunkPool pool(&budget);
  Chunk* c = pool.Acquire();
  c->EnsureRoutes(1);
  const int64_t before = budget.reserved();
  c->transform.values.Reserve(1000);
  c->route_output[0].Reserve(1000);
  c->dead_output.Reserve(1000);
  c->transform.main_rows.Reserve(100);
  EXPECT_GE(budget.reserved() - before, 3000 + 400);
  // Growth past the limit is refused before the memory is taken.
  EXPECT_THROW(c->output.Reserve(2 << 20), MemoryBudgetExceeded);
  EXPECT_LE(budget.reserved(), 1 << 20);
  pool.Release(c);
}

}  // namespace
}  // namespace flowengine
