// Helpers shared by the tests: scratch directories, whole-file I/O, running the CLI.
#pragma once

#include <string>
#include <vector>

namespace flowengine::testing {

/// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// path() + "/" + name
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  /// Names of the entries in the directory, sorted.
  std::vector<std::string> List() const;

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
bool FileExists(const std::string& path);

/// True under CI=true: a test that cannot run on this machine must fail there, not skip
/// (see SKIP_UNLESS_CI).
bool InCi();

/// Skips the test locally, but fails it under CI=true, where a missing tool or permission
/// means the suite did not test what it claims.
#define FLOWENGINE_SKIP_OR_FAIL_IN_CI(why)                                  \
  do {                                                                      \
    if (::flowengine::testing::InCi()) FAIL() << "required in CI: " << why; \
    GTEST_SKIP() << why;                                                    \
  } while (0)

/// Result of running a program.
struct ProcessResult {
  int exit_code = -1;  ///< exit status, or 128 + signal when killed
  std::string out;     ///< stdout
  std::string err;     ///< stderr
};

/// Runs `argv` (argv[0] is a path) with stdin from /dev/null; captures stdout and stderr.
/// `env` entries ("NAME=value") are added to the environment.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& cwd = "",
                         const std::vector<std::string>& env = {});

/// Starts `argv` in the background with stderr to `stderr_path` (stdin and stdout
/// inherited) and `env` added to the environment; returns its pid. Throws when it cannot.
int SpawnProcess(const std::vector<std::string>& argv, const std::string& stderr_path,
                 const std::vector<std::string>& env = {});

/// Waits for `pid` up to `timeout_seconds` (then kills it and returns -1); returns the exit
/// status, or 128 + signal.
int WaitProcess(int pid, double timeout_seconds = 60);

}  // namespace flowengine::testing
