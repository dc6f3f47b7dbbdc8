// Commits the outputs of one run (sink, routes, dead letters) as a set: either every target
// is replaced or none is — a kill -9 between two renames included.
//
//   1. Prepare() every file: fsync, a name beside its target, create-mode re-checks. A
//      failure here aborts them all: nothing was replaced.
//   2. A journal ".<name>.flowengine-journal" beside the first target names every
//      temp -> target; it is written to a temp name, fsynced and renamed into place.
//   3. Publish() every file (the renames). 4. The journal is removed. 5. Finish() every
//      file (directory fsync, unlock).
// A process killed during 3 leaves the journal and the temps it names; the next run or
// `validate` touching any of the targets completes the renames first (CompleteInterrupted-
// Commits) and says so. A rename failing during 3 (in-process) ends with
// FE-OUTPUT-PARTIAL-COMMIT naming exactly which targets were replaced.
// Functions are called from one thread per run; different runs use different targets (locks).
#pragma once

#include <string>
#include <vector>

#include "core/io/atomic_file.h"

namespace flowengine {

/// Commits `files` (opened and written, not yet prepared) as one set. Throws ErrorException:
/// the failing step's code when nothing was replaced, FE-OUTPUT-PARTIAL-COMMIT when some
/// targets were, FE-OUTPUT-COMMIT when all were but a directory fsync failed.
void CommitAsSet(const std::vector<AtomicFile*>& files);

/// For each journal beside one of `targets` left by a killed run: renames the temps it
/// names that still exist over their targets, then removes it. Journals whose run is still
/// committing (its lock is held) are left alone. Returns a log line per completed journal.
/// Throws ErrorException FE-OUTPUT-COMMIT when a journal cannot be completed.
std::vector<std::string> CompleteInterruptedCommits(const std::vector<std::string>& targets);

/// The journal file name beside a target called `name`.
std::string JournalNameFor(const std::string& name);

}  // namespace flowengine
