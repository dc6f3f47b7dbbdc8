#include "core/memory/pod_buffer.h"

#include <gtest/gtest.h>

#include <utility>

namespace flowengine {
namespace {

TEST(PodBufferTest, GrowsKeepsContentsAndZeroesPadding) {
  ByteBuffer b;
  b.Append("hello", 5);
  b.Reserve(1000);
  ASSERT_EQ(std::string(b.data(), b.size()), "hello");
  b.ZeroTail();
  for (size_t i = 0; i < kPaddingBytes; ++i) EXPECT_EQ(b.data()[b.size() + i], 0);
}

// Growing a buffer whose capacity is mostly unused (a block buffer reserved at open, a few
// header bytes read) copies only its contents, at either side of the half-full threshold,
// with the budget following and the padding readable and zero.
TEST(PodBufferTest, GrowingAMostlyEmptyBufferKeepsItsContents) {
  MemoryBudget budget(64 << 20);
  for (const size_t used : {size_t{0}, size_t{3}, size_t{499}, size_t{500}, size_t{501}}) {
    PodBuffer<uint32_t> b;
    b.AttachBudget(&budget);
    b.Reserve(1000);
    b.Resize(used);
    for (size_t i = 0; i < used; ++i) b[i] = static_cast<uint32_t>(i * 7 + 1);
    b.Reserve(5000);
    ASSERT_EQ(b.size(), used);
    ASSERT_EQ(b.capacity(), 5000u);
    for (size_t i = 0; i < used; ++i) ASSERT_EQ(b[i], i * 7 + 1) << used << " " << i;
    const auto* tail = reinterpret_cast<const unsigned char*>(b.data() + b.capacity());
    for (size_t i = 0; i < kPaddingBytes; ++i) EXPECT_EQ(tail[i], 0);
    EXPECT_EQ(budget.reserved(), static_cast<int64_t>(PodBuffer<uint32_t>::Bytes(5000)));
  }
  EXPECT_EQ(budget.reserved(), 0);
}

// Found by the fuzzer: an empty block (nothing ever allocated) must still get padding.
TEST(PodBufferTest, EmptyBufferGetsReadablePadding) {
  ByteBuffer b;
  b.Append("", 0);
  b.ZeroTail();
  ASSERT_NE(b.data(), nullptr);
  for (size_t i = 0; i < kPaddingBytes; ++i) EXPECT_EQ(b.data()[i], 0);
}

TEST(PodBufferTest, ResizeDiscardLeavesHeadroom) {
  PodBuffer<uint64_t> b;
  b.ResizeDiscard(100);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(b.capacity(), 125u);
  uint64_t* before = b.data();
  b.ResizeDiscard(120);  // fits the headroom: no reallocation
  EXPECT_EQ(b.data(), before);
}

TEST(PodBufferTest, BudgetFollowsReservations) {
  MemoryBudget budget(1 << 20);
  {
    ByteBuffer a;
    a.AttachBudget(&budget);
    a.Reserve(1000);
    EXPECT_EQ(budget.reserved(), static_cast<int64_t>(ByteBuffer::Bytes(1000)));
    a.ResizeDiscard(4000);
    EXPECT_EQ(budget.reserved(),
              static_cast<int64_t>(ByteBuffer::Bytes(ByteBuffer::DiscardCapacity(4000))));
  }
  EXPECT_EQ(budget.reserved(), 0);
  EXPECT_EQ(budget.peak(),
            static_cast<int64_t>(ByteBuffer::Bytes(ByteBuffer::DiscardCapacity(4000))));
}

TEST(PodBufferTest, SwapMovesReservationsBetweenAccounts) {
  MemoryBudget budget(1 << 20);
  ByteBuffer accounted;
  accounted.AttachBudget(&budget);
  ByteBuffer free_standing;
  free_standing.Reserve(5000);
  accounted.Reserve(100);
  std::swap(accounted, free_standing);
  EXPECT_EQ(accounted.capacity(), 5000u);
  EXPECT_EQ(free_standing.capacity(), 100u);
  EXPECT_EQ(budget.reserved(), static_cast<int64_t>(ByteBuffer::Bytes(5000)));
}

}  // namespace
}  // namespace flowengine
