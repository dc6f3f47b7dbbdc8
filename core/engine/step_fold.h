// Between two transform steps: the rows the previous step sent on (its main rows) become the
// next step's input batch (Chunk::fold_batch, read through Chunk::StepInput()). Their values (the
// block's, unescaped in the source's dialect, and those the step set) are packed one after another
// at the start of the chunk's value arena, every span kArena, so the next step reads one contiguous
// text in row order (as it would a block) and appends the values it sets after them. Rows keep
// their provenance (RowInfo: line, the original record's bytes for dead letters); counts of
// filtered, routed and rejected rows carry on. Used by the transform stage of the graph, on the
// chunk's current owner's thread; allocates only when the chunk's buffers grow.
#pragma once

#include "core/batch/row_batch.h"
#include "core/csv/dialect.h"

namespace flowengine {

/// Folds chunk.transform into chunk.fold_batch (see above). `source` is the dialect of the spans
/// that still point into the block. A chunk no step has run on is left as it is. Throws
/// ErrorException (FE-RESOURCE-MEMORY) when the packed values pass the span limit (512 MiB).
void FoldForNextStep(Chunk& chunk, const Dialect& source);

}  // namespace flowengine
