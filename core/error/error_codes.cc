#include "core/error/error_codes.h"

#include <array>

namespace flowengine {
namespace {

using C = ErrorClass;

constexpr std::array kCodes{
    // config
    ErrorCodeInfo{"FE-CONFIG-FILE", C::kConfig, false, "The pipeline file cannot be read.",
                  "Check the path and that the file is readable."},
    ErrorCodeInfo{"FE-CONFIG-YAML", C::kConfig, false, "The pipeline file is not valid YAML.",
                  "Fix the YAML syntax at the position shown (indentation, colons, quotes)."},
    ErrorCodeInfo{"FE-CONFIG-UNKNOWN-KEY", C::kConfig, false, "A key is not part of the schema.",
                  "Remove the key or correct its spelling; `flowengine schema` lists every key."},
    ErrorCodeInfo{"FE-CONFIG-MISSING-KEY", C::kConfig, false, "A required key is missing.",
                  "Add the key shown; docs/config.md describes it."},
    ErrorCodeInfo{"FE-CONFIG-DUPLICATE-KEY", C::kConfig, false,
                  "A key appears twice in the same map of the pipeline file.",
                  "Keep one of the two places the message names."},
    ErrorCodeInfo{"FE-CONFIG-TYPE", C::kConfig, false,
                  "A key has the wrong kind of value (map, list or scalar).",
                  "Write the value in the form shown in docs/config.md."},
    ErrorCodeInfo{"FE-CONFIG-VALUE", C::kConfig, false, "A value is not one of those allowed.",
                  "Use one of the allowed values listed in the message."},
    ErrorCodeInfo{"FE-CONFIG-UNSUPPORTED", C::kConfig, false,
                  "A documented value is not available in this version.",
                  "Use one of the values this version supports, listed in the message."},
    ErrorCodeInfo{"FE-CONFIG-SET", C::kConfig, false, "A --set override is malformed.",
                  "Write overrides as --set key.path=value, e.g. --set source.path=in.csv."},
    ErrorCodeInfo{"FE-CONFIG-HEADER", C::kConfig, false,
                  "The input header does not fit the declared columns.",
                  "Make source.columns match the header names shown, or fix the file's header."},
    ErrorCodeInfo{"FE-CONFIG-ALIAS", C::kConfig, false,
                  "An output is the same file as an input or as another output (through a "
                  "symlink, a symlinked directory, `..` or a hard link).",
                  "Give every output its own file, outside the inputs; the message shows the "
                  "file both paths lead to."},
    ErrorCodeInfo{"FE-CONFIG-NOT-REGULAR", C::kConfig, false,
                  "An output path names an existing FIFO, device, socket or directory.",
                  "Point the output at a regular file (it is replaced atomically), or remove "
                  "what is there."},
    ErrorCodeInfo{"FE-USAGE", C::kConfig, false, "The command line is not valid.",
                  "Run `flowengine --help` for the commands and options."},
    // input
    ErrorCodeInfo{"FE-INPUT-OPEN", C::kInput, false, "The input file cannot be opened.",
                  "Check source.path and the file's permissions."},
    ErrorCodeInfo{"FE-INPUT-COMPRESSED", C::kInput, false,
                  "A gzip or zstd input is damaged or truncated: its data does not decompress, "
                  "it ends inside a member or frame, or other bytes follow its last member.",
                  "Check the file with `gzip -t` or `zstd -t`; fetch or produce it again."},
    ErrorCodeInfo{"FE-INPUT-BINARY", C::kInput, false,
                  "The input is a compressed or binary file (gzip, zstd, bzip2, xz, zip, a "
                  "spreadsheet, ...), not delimited text.",
                  "Decompress or export it to CSV first (e.g. gunzip -k data.csv.gz), then point "
                  "source.path at the text file."},
    ErrorCodeInfo{"FE-INPUT-CHANGED", C::kInput, false,
                  "The input file changed while it was read: it shrank, grew past its size "
                  "when opened, was rewritten, or another file was moved to its path.",
                  "Let the producer finish (write to a temp name and rename it into place), "
                  "then run again; nothing was committed."},
    ErrorCodeInfo{"FE-INPUT-READ", C::kInput, true, "Reading the input failed.",
                  "Check the disk or network filesystem holding the input, then re-run."},
    ErrorCodeInfo{"FE-INPUT-FIELD-COUNT", C::kInput, false,
                  "A record has a different number of fields than the header.",
                  "Quote fields that contain the delimiter, or fix the record so that it has "
                  "one value per column."},
    ErrorCodeInfo{"FE-INPUT-UNTERMINATED-QUOTE", C::kInput, false,
                  "A quoted field is not closed before the end of the input.",
                  "Close the quote, or double any quote character inside the field (\"\")."},
    ErrorCodeInfo{"FE-INPUT-STRAY-QUOTE", C::kInput, false,
                  "A quote character appears inside an unquoted field.",
                  "Enclose the field in quotes and double the quote inside it: \"a \"\"b\"\" c\"."},
    ErrorCodeInfo{"FE-INPUT-BAD-ESCAPE", C::kInput, false,
                  "With source.escape: \\, a backslash is followed by something other than "
                  "\", \\, n, t, r or the delimiter, or ends a field.",
                  "Write a literal backslash as \\\\, or set source.escape back to '\"' if the "
                  "file does not use backslash escapes."},
    ErrorCodeInfo{"FE-INPUT-AFTER-QUOTE", C::kInput, false,
                  "A closing quote is followed by something other than a delimiter or line end.",
                  "Double quote characters inside quoted fields (\"\"), or move the text inside "
                  "the quotes."},
    ErrorCodeInfo{"FE-INPUT-RECORD-TOO-LARGE", C::kInput, false,
                  "A record is larger than limits.maxRecordSize.",
                  "Look for an unterminated quote near the line shown, or raise "
                  "limits.maxRecordSize."},
    ErrorCodeInfo{"FE-INPUT-MAX-ERRORS", C::kInput, false,
                  "More rows were rejected than maxErrors allows.",
                  "Fix the cause shown for the first rejected row and re-run, or raise "
                  "maxErrors; nothing was committed."},
    ErrorCodeInfo{"FE-INPUT-NO-HEADER", C::kInput, false,
                  "source.header is true but the input has no header record.",
                  "Add a header line, or set source.header: false and declare source.columns."},
    // encoding
    ErrorCodeInfo{"FE-ENCODING-UTF8", C::kEncoding, false,
                  "A field holds bytes that are not UTF-8.",
                  "Convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8 in.csv > out.csv), "
                  "or fix the bytes at the offset shown."},
    ErrorCodeInfo{"FE-ENCODING-UTF16", C::kEncoding, false,
                  "A UTF-16 file (found by its byte order mark) holds an unpaired surrogate or "
                  "ends in the middle of a character.",
                  "Re-export the file from its application, or convert it to UTF-8 "
                  "(iconv -f utf-16 -t utf-8) and look at the offset shown."},
    ErrorCodeInfo{"FE-ENCODING-BOM", C::kEncoding, false,
                  "The file starts with a byte order mark FlowEngine cannot read (UTF-32), or "
                  "one that contradicts source.encoding.",
                  "Convert the file to UTF-8 (iconv -f utf-32 -t utf-8), or remove "
                  "source.encoding: a UTF-8 or UTF-16 byte order mark says the encoding."},
    // schema
    ErrorCodeInfo{"FE-SCHEMA-TYPE", C::kSchema, false,
                  "A value does not parse as its column's declared type.",
                  "Fix the value, or declare the column with a type that fits (e.g. string)."},
    ErrorCodeInfo{"FE-SCHEMA-REQUIRED", C::kSchema, false, "A required column is empty.",
                  "Fill in the value, or drop `required: true` from the column."},
    // script
    ErrorCodeInfo{"FE-SCRIPT-SYNTAX", C::kScript, false, "The transform script does not compile.",
                  "Fix the JavaScript syntax at the line and column shown; `flowengine "
                  "validate` checks it without reading data."},
    ErrorCodeInfo{"FE-SCRIPT-NO-PROCESS", C::kScript, false,
                  "The transform script does not define process(context).",
                  "Define a top-level function process(context) that returns true or false."},
    ErrorCodeInfo{"FE-SCRIPT-ERROR", C::kScript, false, "The transform script threw an exception.",
                  "Fix the script at the line shown, or guard the row's values it did not "
                  "expect (e.g. null for empty fields)."},
    ErrorCodeInfo{"FE-SCRIPT-RETURN", C::kScript, false,
                  "process(context) returned something other than true or false.",
                  "Return true to keep the row, false to filter it out."},
    ErrorCodeInfo{"FE-SCRIPT-TIMEOUT", C::kScript, false,
                  "One process() call ran longer than limits.scriptTimeout.",
                  "Look for an endless loop in the script, or raise limits.scriptTimeout."},
    ErrorCodeInfo{"FE-SCRIPT-HEAP", C::kScript, false,
                  "The script's V8 heap grew past limits.scriptHeap.",
                  "Do not keep growing state in globals across rows, or raise "
                  "limits.scriptHeap."},
    ErrorCodeInfo{"FE-NODE-ROW", C::kScript, false,
                  "A transform node registered by the embedding application (C++) failed on a "
                  "row: its Process() threw.",
                  "Fix the row or the node; the message carries the node's own exception text."},
    ErrorCodeInfo{"FE-SCRIPT-OUTPUT", C::kScript, false,
                  "A value the transform produced does not fit its declared output column.",
                  "Set a value of the declared type, or declare the output column as string."},
    // output
    ErrorCodeInfo{
        "FE-OUTPUT-EXISTS", C::kOutput, false,
        "The outputMode of the sink, a route or the dead letters is create but the target file "
        "exists.",
        "Remove the file, or set outputMode to replace or append."},
    ErrorCodeInfo{"FE-OUTPUT-OPEN", C::kOutput, false,
                  "The output's temporary file cannot be created.",
                  "Check that the target directory exists and is writable."},
    ErrorCodeInfo{"FE-OUTPUT-WRITE", C::kOutput, false, "Writing the output failed.",
                  "Check free space and permissions of the target directory."},
    ErrorCodeInfo{"FE-OUTPUT-COMMIT", C::kOutput, false,
                  "The finished output could not be moved into place or flushed to disk (the "
                  "target directory was moved, or a rename or directory fsync failed).",
                  "Check the target directory (it must stay where it is during the run) and its "
                  "permissions; the message says whether the target was replaced."},
    ErrorCodeInfo{"FE-OUTPUT-CLOSED", C::kOutput, false,
                  "Standard output (sink.path: -) was closed by the program reading it, as "
                  "`| head` does once it has its lines; the run stopped. What was streamed stays "
                  "with the reader; routes and dead letters were not committed. The CLI exits "
                  "141 (128 + SIGPIPE) and logs this at info level.",
                  "Nothing to fix when the reader stops on purpose; otherwise check the program "
                  "the output is piped into."},
    ErrorCodeInfo{"FE-OUTPUT-PARTIAL-COMMIT", C::kOutput, false,
                  "The outputs of a run are committed as a set, and a rename failed after some "
                  "targets were already replaced.",
                  "The message lists the replaced and the untouched targets: fix the cause "
                  "(permissions, a moved directory) and run the pipeline again."},
    ErrorCodeInfo{"FE-OUTPUT-LOCKED", C::kOutput, true,
                  "Another flowengine run is writing the same target.",
                  "Wait for the run named by its pid to finish, or write to another file; a "
                  "lock left by a killed run never blocks."},
    ErrorCodeInfo{"FE-OUTPUT-SPACE", C::kOutput, false,
                  "The target's filesystem has less free space than the output needs.",
                  "Free space there, or write the output to another filesystem; nothing was "
                  "written."},
    ErrorCodeInfo{"FE-OUTPUT-APPEND-HEADER", C::kOutput, false,
                  "sink.outputMode is append but the target's header differs from the output "
                  "columns.",
                  "Append only to a file with the same columns, or use outputMode: replace."},
    // resource
    ErrorCodeInfo{"FE-RESOURCE-MEMORY", C::kResource, false,
                  "A record needs more working memory than limits.memory allows per block.",
                  "Raise limits.memory, or check the input for an unterminated quote that "
                  "makes many lines one record."},
    ErrorCodeInfo{"FE-OPS-LISTEN", C::kConfig, false,
                  "flowengine run --listen could not bind its HTTP endpoint.",
                  "Use HOST:PORT with a free port (e.g. 127.0.0.1:9464), or port 0 to let the "
                  "system pick one (the log says which)."},
    ErrorCodeInfo{"FE-RESOURCE-TIMEOUT", C::kResource, false,
                  "The run took longer than limits.timeout and was stopped; nothing was "
                  "committed.",
                  "Raise limits.timeout, or find the slow stage: run with --trace FILE or look "
                  "at flowengine_block_seconds in --metrics-file."},
    ErrorCodeInfo{"FE-RESOURCE-INTERRUPTED", C::kResource, false,
                  "The run was stopped by SIGINT or SIGTERM.",
                  "Re-run the pipeline; targets were left untouched."},
    // bench
    ErrorCodeInfo{"FE-BENCH-NOISY", C::kBench, false,
                  "flowengine bench: the wall times of the runs spread more than --budget "
                  "allows, so the figures cannot tell a change from noise.",
                  "Quiet the machine (other jobs, CPU frequency scaling), use more --runs or a "
                  "larger input, or raise --budget knowingly."},
    ErrorCodeInfo{"FE-BENCH-REGRESSION", C::kBench, false,
                  "flowengine bench: the median rows/s is more than --threshold below the "
                  "baseline's.",
                  "Look at the stage named in the message (its busy time per row grew most); "
                  "if the slowdown is expected, record a new baseline with --json."},
    ErrorCodeInfo{"FE-BENCH-BASELINE", C::kConfig, false,
                  "flowengine bench: the --compare file cannot be read or is not a "
                  "flowengine bench result.",
                  "Pass a file written by flowengine bench --json."},
    // serve
    ErrorCodeInfo{"FE-SERVE-REQUEST", C::kService, false,
                  "flowengine serve: the request is malformed (not JSON, too deep, a missing "
                  "or mistyped field, an unknown method or path).",
                  "Send a JSON body as docs/operations.md shows, e.g. {\"pipeline\": \"NAME\", "
                  "\"set\": {\"source.path\": \"in/x.csv\"}}."},
    ErrorCodeInfo{"FE-SERVE-AUTH", C::kService, false,
                  "flowengine serve: the request has no valid bearer token.",
                  "Send 'Authorization: Bearer TOKEN' with the token of the server's "
                  "--token-file."},
    ErrorCodeInfo{"FE-SERVE-PATH", C::kService, false,
                  "flowengine serve: a file the run would read or write is outside every "
                  "--data-root (after resolving links), or is standard input or output.",
                  "Use files under a --data-root of the server (relative paths in \"set\" "
                  "resolve against the first one), or start the server with another "
                  "--data-root."},
    ErrorCodeInfo{"FE-SERVE-NOT-FOUND", C::kService, false,
                  "flowengine serve: no such pipeline or run.",
                  "GET /pipelines lists the pipelines, GET /runs the runs the server "
                  "remembers."},
    ErrorCodeInfo{"FE-SERVE-QUEUE-FULL", C::kService, false,
                  "flowengine serve: --max-runs runs are running and the queue is full.",
                  "Retry later (the Retry-After header says when), or start the server with a "
                  "larger --max-queue or --max-runs."},
    ErrorCodeInfo{"FE-SERVE-MEMORY", C::kService, false,
                  "flowengine serve: the run's memory (limits.memory plus limits.scriptHeap "
                  "per JavaScript step per thread) is larger than the whole service's "
                  "--memory, so it could never start.",
                  "Lower the part the message names (\"set\": {\"limits.memory\": "
                  "\"256MiB\"} or {\"limits.scriptHeap\": \"64MiB\"}, or fewer "
                  "limits.threads) or start the server with a larger --memory."},
    ErrorCodeInfo{"FE-SERVE-DRAINING", C::kService, false,
                  "flowengine serve: the server is shutting down and takes no new runs.",
                  "Send the run to another instance, or again once this one is back."},
    // internal
    ErrorCodeInfo{"FE-INTERNAL", C::kInternal, false, "An internal invariant was violated.",
                  "Please report this with the pipeline file and the input that caused it."},
};

}  // namespace

std::span<const ErrorCodeInfo> AllErrorCodes() { return kCodes; }

const ErrorCodeInfo* FindErrorCode(std::string_view code) {
  for (const ErrorCodeInfo& info : kCodes) {
    if (info.code == code) return &info;
  }
  return nullptr;
}

}  // namespace flowengine
