// The process-wide trust of scripts (core/ops/script_trust.h): it holds only while every live
// Engine has trusted scripts, so one Engine running scripts from others keeps V8's code
// protection for the whole process, whatever order the engines come and go in.
#include "core/ops/script_trust.h"

#include <gtest/gtest.h>

namespace flowengine {
namespace {

TEST(ScriptTrustTest, HoldsOnlyWhileEveryLiveEngineTrustsItsScripts) {
  EXPECT_FALSE(ScriptsTrusted());  // no Engine: the library's default
  CountEngine(/*trusted_scripts=*/true, +1);
  EXPECT_TRUE(ScriptsTrusted());
  CountEngine(/*trusted_scripts=*/false, +1);  // an engine running its clients' scripts
  EXPECT_FALSE(ScriptsTrusted());
  CountEngine(/*trusted_scripts=*/true, +1);  // a second trusted one changes nothing
  EXPECT_FALSE(ScriptsTrusted());
  CountEngine(/*trusted_scripts=*/false, -1);
  EXPECT_TRUE(ScriptsTrusted());
  CountEngine(/*trusted_scripts=*/true, -1);
  EXPECT_TRUE(ScriptsTrusted());
  CountEngine(/*trusted_scripts=*/true, -1);
  EXPECT_FALSE(ScriptsTrusted());
  CountEngine(/*trusted_scripts=*/false, +1);  // only untrusted engines
  EXPECT_FALSE(ScriptsTrusted());
  CountEngine(/*trusted_scripts=*/false, -1);
}

}  // namespace
}  // namespace flowengine
