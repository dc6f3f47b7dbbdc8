// BackgroundSync: syncs on its own thread, remembers the first failure for Stop(), and is
// inert after Stop().
#include "core/io/background_sync.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "tests/test_util.h"

namespace flowengine {
namespace {

TEST(BackgroundSyncTest, SyncsAFileWithoutError) {
  testing::TempDir dir;
  const std::string path = dir.File("data");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  BackgroundSync sync;
  for (int i = 0; i < 20; ++i) {
    const std::string chunk(64 * 1024, static_cast<char>('a' + i));
    ASSERT_EQ(::write(fd, chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
    sync.Request(fd);
  }
  EXPECT_EQ(sync.Stop(), 0);
  EXPECT_EQ(sync.Stop(), 0);  // idempotent
  ::close(fd);
}

// fdatasync on a pipe fails (EINVAL): the failure is kept until Stop(), as a failed
// writeback would be.
TEST(BackgroundSyncTest, StopReturnsTheFirstFailure) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  BackgroundSync sync;
  sync.Request(fds[1]);
  sync.Request(fds[1]);
  EXPECT_EQ(sync.Stop(), EINVAL);
  EXPECT_EQ(sync.Stop(), EINVAL);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(BackgroundSyncTest, RequestsAfterStopAreIgnored) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  BackgroundSync sync;
  EXPECT_EQ(sync.Stop(), 0);
  sync.Request(fds[1]);  // would fail if it ran
  EXPECT_EQ(sync.Stop(), 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace flowengine
