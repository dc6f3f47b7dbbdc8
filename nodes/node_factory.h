// The NodeFactory that builds FlowEngine's built-in nodes (delimited source and sink).
#pragma once

#include "core/engine/stages.h"

namespace flowengine {

/// Factory for the delimited source and sink.
NodeFactory DelimitedNodeFactory();

}  // namespace flowengine
