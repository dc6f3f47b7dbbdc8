// The protocol between the C++ side of a JavaScript transform (core/js/js_worker.cc) and
// the driver that runs in V8 (core/js/driver_js.h): the codes both sides use, defined once
// here and written into the driver's source, so that neither side relies on positional magic
// numbers. Constants and one pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types/column_type.h"

namespace flowengine::js {

/// What native.column(c) returns, by its first element.
inline constexpr int kViewNumbers = 1;  ///< [kind, Float64Array, nulls (Uint8Array, 1 = null)]
inline constexpr int kViewBools = 2;    ///< [kind, Uint8Array: 0 false, 1 true, 2 null]
inline constexpr int kViewValues = 3;   ///< [kind, Array of values] (e.g. int64 beyond 2^53)
/// [kind, Uint32Array of field spans in characters (offset, length | flags per field,
/// row-major)]: every string column reads its fields from the texts of a window
/// (native.window, core/js/column_views.h) as the flags below say.
inline constexpr int kViewBlock = 4;
/// Bits of a span's second word in a block view: the length in characters and where the
/// field's text is. No flag: in the window's block text (the block's own bytes, where the
/// field is ASCII). A span's other bit (1 << 31, quoted) is the FieldSpan's and unused here.
inline constexpr uint32_t kSpanLengthMask = (1u << 28) - 1;
/// In the window's one-byte text of transcoded fields (all characters Latin-1, some not ASCII).
inline constexpr uint32_t kSpanLatin1 = 1u << 28;
/// In the window's two-byte text (a character beyond Latin-1).
inline constexpr uint32_t kSpanWide = 1u << 29;
/// Its value is native.unescaped(i): an escaped field (doubled quotes), or one longer than
/// kSpanLengthMask (its length word is then 1).
inline constexpr uint32_t kSpanEscaped = 1u << 30;

/// Where a row goes, in the Int32Array `moves` both sides share (>= 0: a route index,
/// written by context.route.send).
inline constexpr int32_t kToMain = -1;
inline constexpr int32_t kFiltered = -2;  ///< process() returned false
inline constexpr int32_t kRejected = -3;  ///< set aside under skip-row (C++ writes it)

/// How a value set with setField is handed back, in the Int32Array of kinds/lengths the
/// driver fills (the row and column are in the matching index array): >= 0, a string of that
/// many UTF-16 units, the next piece of the batch's concatenated text; or one of these.
inline constexpr int32_t kSetEmpty = -1;  ///< null or undefined: an empty field
inline constexpr int32_t kSetTrue = -2;
inline constexpr int32_t kSetFalse = -3;
/// a value setField could not convert (converted when set, by native.convert): the next of
/// the `others` strings says why
inline constexpr int32_t kSetOther = -4;

/// The driver hands the text of the values set to C++ (native.text) once this many UTF-16
/// units, or this many values, are pending: small enough for a young-generation string.
/// Up to this many input columns, readRow gives a row's values to makeRow as arguments;
/// beyond, as one array (a call takes at most 65535 arguments).
inline constexpr size_t kMaxRowArguments = 1000;
inline constexpr int kFlushUnits = 16 * 1024;
inline constexpr int kFlushPieces = 2048;

/// runBatch(start, n) returns kBatchDone when rows [start, n) all ran, or the index of a row
/// whose process() returned something other than true or false (its value is then in the
/// driver's `lastResult`, read with badResult()), or kRowJobs.
inline constexpr int32_t kBatchDone = -1;
/// runBatch stopped after the row progress[0] - 1, which queued promise jobs (then callbacks,
/// code after an await): C++ runs them (ScriptIsolate::RunPromiseJobs) as part of that row,
/// with the API still at it, before the next row starts.
inline constexpr int32_t kRowJobs = -2;

/// The ints the API and C++ share (ScriptIsolate::progress()): [kProgressRows] rows started in
/// the current call (the driver writes it, the watchdog reads it); [kProgressJobs] non-zero
/// once a promise was made or settled since promise jobs last ran (C++'s promise hook writes
/// it, the API reads it after each row).
inline constexpr int kProgressRows = 0;
inline constexpr int kProgressJobs = 1;

/// The driver's and the API's sources (core/js/driver_js.h) with the constants above written
/// in (the placeholders $TO_MAIN$, $FILTERED$, $REJECTED$, $BATCH_DONE$,
/// $VIEW_NUMBERS$, $VIEW_BOOLS$, $VIEW_VALUES$, ...); the driver's with the reading of a row
/// made for the input columns' types (RowReadSource).
std::string DriverSource(const std::vector<ColumnType>& input);
std::string ApiSource();

/// The body of the driver's readRow(r) for input columns of these types: one statement per
/// column, with the column's index and view kind fixed, so that V8 compiles it to
/// straight-line code instead of a loop over a switch.
std::string RowReadSource(const std::vector<ColumnType>& input);

}  // namespace flowengine::js
