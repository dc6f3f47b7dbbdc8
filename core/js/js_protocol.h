// The protocol between the C++ side of a JavaScript transform (core/js/js_worker.cc) and
// the driver that runs in V8 (core/js/driver_js.h): the codes both sides use, defined once
// here and written into the driver's source, so that neither side relies on positional magic
// numbers. Constants and one pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace flowengine::js {

/// What native.column(c) returns, by its first element.
inline constexpr int kViewText = 0;     ///< [kind, text, offsets (Int32Array, UTF-16), nulls]
inline constexpr int kViewNumbers = 1;  ///< [kind, Float64Array, nulls (Uint8Array, 1 = null)]
inline constexpr int kViewBools = 2;    ///< [kind, Uint8Array: 0 false, 1 true, 2 null]
inline constexpr int kViewValues = 3;   ///< [kind, Array of values] (e.g. int64 beyond 2^53)

/// Where a row goes, in the Int32Array `moves` both sides share (>= 0: a route index,
/// written by context.route.send).
inline constexpr int32_t kToMain = -1;
inline constexpr int32_t kFiltered = -2;  ///< process() returned false
inline constexpr int32_t kRejected = -3;  ///< set aside under skip-row (C++ writes it)

/// runBatch(start, n) returns kBatchDone when rows [start, n) all ran, or the index of a row
/// whose process() returned something other than true or false (its value is then in the
/// driver's `lastResult`, read with badResult()).
inline constexpr int32_t kBatchDone = -1;

/// The driver's source with the constants above written in (the placeholders $TO_MAIN$,
/// $FILTERED$, $REJECTED$, $BATCH_DONE$, $VIEW_TEXT$, $VIEW_NUMBERS$, $VIEW_BOOLS$).
std::string DriverSource();

}  // namespace flowengine::js
