#include "core/config/config_keys.h"

#include <array>
#include <cstdio>
#include <map>
#include <memory>

#include "core/engine/node_registry.h"
#include "core/log/logger.h"

namespace flowengine {
namespace {

using K = KeyKind;
using SV = std::string_view;

constexpr std::array<SV, 3> kFormats{"csv", "tsv", "psv"};
constexpr std::array<SV, 5> kTypes{"string", "int32", "int64", "float64", "bool"};
constexpr std::array<SV, 2> kQuotes{"\"", "none"};
constexpr std::array<SV, 2> kEscapes{"\"", "\\"};
constexpr std::array<SV, 3> kEncodings{"utf-8", "latin-1", "windows-1252"};
constexpr std::array<SV, 3> kOutputModes{"create", "replace", "append"};
constexpr std::array<SV, 2> kLineEndings{"lf", "crlf"};
constexpr std::array<SV, 2> kQuotings{"minimal", "all"};
constexpr std::array<SV, 3> kCompressions{"none", "gzip", "zstd"};
constexpr std::array<SV, 2> kErrorHandlings{"fail-fast", "skip-row"};

constexpr int64_t kMiB = 1ll << 20;
constexpr int64_t kDay = 86400000;

// The keys a sink and a route share ("sink." or "routes.*." before each).
#define FE_SINK_KEYS(P, FORMAT_DEFAULT)                                                            \
  ConfigKey{P "path",                                                                              \
            K::kPath,                                                                              \
            "",                                                                                    \
            {},                                                                                    \
            0,                                                                                     \
            0,                                                                                     \
            true,                                                                                  \
            false,                                                                                 \
            "the target file; its directory must exist (sink.path also takes \"-\": standard "     \
            "output, streamed, not atomic)"},                                                      \
      ConfigKey{P "format", K::kEnum, FORMAT_DEFAULT,                                              \
                kFormats,   0,        0,                                                           \
                false,      false,    "output delimiter: , (csv), tab (tsv), | (psv)"},            \
      ConfigKey{P "outputMode",                                                                    \
                K::kEnum,                                                                          \
                "create",                                                                          \
                kOutputModes,                                                                      \
                0,                                                                                 \
                0,                                                                                 \
                false,                                                                             \
                false,                                                                             \
                "create refuses an existing target; replace replaces it atomically; append "       \
                "adds rows under a matching header"},                                              \
      ConfigKey{P "lineEnding",         K::kEnum, "lf", kLineEndings, 0, 0, false, false,          \
                "record ending written"},                                                          \
      ConfigKey{P "quoting", K::kEnum, "minimal",                                                  \
                kQuotings,   0,        0,                                                          \
                false,       false,    "quote only the fields that need it, or every field"},      \
      ConfigKey{P "header", K::kBool, "true", {}, 0, 0, false, false, "write a header line"},      \
      ConfigKey{P "backup", K::kBool, "false",                                                     \
                {},         0,        0,                                                           \
                false,      false,    "with replace: keep the previous target as <path>.bak"},     \
      ConfigKey{P "compression", K::kEnum, "from the name (.gz, .zst)",                            \
                kCompressions,   0,        0,                                                      \
                false,           false,    "each block written as one gzip member or zstd frame"}, \
      ConfigKey{P "columns", K::kList, "every input column",                                       \
                {},          0,        0,                                                          \
                false,       false,    "select, reorder and rename the columns written"},          \
      ConfigKey{                                                                                   \
          P "columns[]", K::kMap, "", {}, 0, 0, false, true, "a column name, or { name, from }"},  \
      ConfigKey{P "columns[].name",        K::kString, "", {}, 0, 0, true, false,                  \
                "the output column's name"},                                                       \
      ConfigKey {                                                                                  \
    P "columns[].from", K::kString, "name", {}, 0, 0, false, false,                                \
        "the input column written under that name"                                                 \
  }

const std::array kKeys{
    ConfigKey{"pipeline",
              K::kString,
              "the file's name",
              {},
              0,
              0,
              false,
              false,
              "the pipeline's name in logs and metrics"},
    ConfigKey{"source", K::kMap, "", {}, 0, 0, true, false, "the input"},
    ConfigKey{"source.path",
              K::kPaths,
              "",
              {},
              0,
              0,
              true,
              false,
              "a file, a glob (data/2026-*.csv), a list of files and globs read in order as "
              "one input, or \"-\" for standard input; gzip and zstd are decompressed"},
    ConfigKey{"source.format", K::kEnum, "csv", kFormats, 0, 0, false, false,
              "delimiter , (csv), tab (tsv), | (psv)"},
    ConfigKey{"source.header",
              K::kBool,
              "true",
              {},
              0,
              0,
              false,
              false,
              "the first record holds the column names"},
    ConfigKey{"source.columns",
              K::kList,
              "the header's names, as strings",
              {},
              0,
              0,
              false,
              false,
              "declared columns (types, required)"},
    ConfigKey{"source.columns[]", K::kMap, "", {}, 0, 0, false, false, "one declared column"},
    ConfigKey{"source.columns[].name",
              K::kString,
              "",
              {},
              0,
              0,
              true,
              false,
              "column name, as in the header"},
    ConfigKey{"source.columns[].type", K::kEnum, "string", kTypes, 0, 0, false, false,
              "checked while parsing"},
    ConfigKey{"source.columns[].required",
              K::kBool,
              "false",
              {},
              0,
              0,
              false,
              false,
              "an empty value is an error"},
    ConfigKey{"source.quote", K::kEnum, "\"", kQuotes, 0, 0, false, false,
              "none: no quoting, a \" is data"},
    ConfigKey{"source.escape", K::kEnum, "\"", kEscapes, 0, 0, false, false,
              "\": doubled quotes (RFC 4180); \\: backslash escapes"},
    ConfigKey{"source.encoding", K::kEnum, "utf-8", kEncodings, 0, 0, false, false,
              "utf-8 is validated; the others are transcoded"},
    ConfigKey{"source.skipRows",
              K::kInt,
              "0",
              {},
              0,
              1'000'000'000,
              false,
              false,
              "lines of preamble before the header"},
    ConfigKey{"source.maxRows",
              K::kInt,
              "all",
              {},
              1,
              INT64_MAX,
              false,
              false,
              "records to read at most"},
    ConfigKey{"source.skipBlankLines",
              K::kBool,
              "true",
              {},
              0,
              0,
              false,
              false,
              "false: a blank line is a record of one empty field"},
    ConfigKey{"transform", K::kList, "none", {}, 0, 0, false, false, "transform steps"},
    ConfigKey{"transform[]", K::kMap, "", {}, 0, 0, false, false, "one step"},
    ConfigKey{"transform[].javascript",
              K::kMap,
              "",
              {},
              0,
              0,
              false,
              false,
              "a JavaScript step (docs/javascript.md); a step is exactly one node: this or a "
              "node type the embedding application registered"},
    ConfigKey{"transform[].javascript.file",
              K::kPath,
              "",
              {},
              0,
              0,
              false,
              false,
              "the script file (or code)"},
    ConfigKey{"transform[].javascript.code",
              K::kString,
              "",
              {},
              0,
              0,
              false,
              false,
              "the script inline (or file)"},
    ConfigKey{"transform[].javascript.output",
              K::kList,
              "the input columns",
              {},
              0,
              0,
              false,
              false,
              "output columns"},
    ConfigKey{"transform[].javascript.output[]",
              K::kMap,
              "",
              {},
              0,
              0,
              false,
              true,
              "a column name, or { name, type, required }"},
    ConfigKey{"transform[].javascript.output[].name",
              K::kString,
              "",
              {},
              0,
              0,
              true,
              false,
              "column name"},
    ConfigKey{"transform[].javascript.output[].type", K::kEnum, "string", kTypes, 0, 0, false,
              false, "checked on every row written"},
    ConfigKey{"transform[].javascript.output[].required",
              K::kBool,
              "false",
              {},
              0,
              0,
              false,
              false,
              "an empty value is an error"},
    ConfigKey{"sink", K::kMap, "", {}, 0, 0, true, false, "the output"},
    FE_SINK_KEYS("sink.", "the source's format"),
    ConfigKey{"routes",
              K::kNamedMap,
              "none",
              {},
              0,
              0,
              false,
              false,
              "named sinks for context.route.send/sendCopy"},
    ConfigKey{"routes.*", K::kMap, "", {}, 0, 0, false, false, "one route: keys as for sink"},
    FE_SINK_KEYS("routes.*.", "the sink's format"),
    ConfigKey{"errorHandling", K::kEnum, "fail-fast", kErrorHandlings, 0, 0, false, false,
              "fail-fast stops at the first bad row; skip-row sets it aside"},
    ConfigKey{"deadLetter",
              K::kMap,
              "",
              {},
              0,
              0,
              false,
              false,
              "where skip-row puts rejected rows (required with skip-row)"},
    ConfigKey{"deadLetter.path", K::kPath, "", {}, 0, 0, true, false, "the dead-letter file"},
    ConfigKey{"deadLetter.outputMode", K::kEnum, "replace", kOutputModes, 0, 0, false, false,
              "as for sink"},
    ConfigKey{"maxErrors",
              K::kCountOrPercent,
              "no limit",
              {},
              0,
              0,
              false,
              false,
              "with skip-row: more rejected rows than this (100, or 5%) fail the run"},
    ConfigKey{"retry", K::kMap, "", {}, 0, 0, false, false, "retries of transient I/O errors"},
    ConfigKey{
        "retry.attempts", K::kInt, "3", {}, 1, 100, false, false, "tries in all (1: no retries)"},
    ConfigKey{"retry.initialDelay",
              K::kDuration,
              "50ms",
              {},
              0,
              3600000,
              false,
              false,
              "the first backoff's upper bound"},
    ConfigKey{
        "retry.maxDelay", K::kDuration, "2s", {}, 0, 3600000, false, false, "cap of the backoff"},
    ConfigKey{"limits", K::kMap, "", {}, 0, 0, false, false, "resources"},
    ConfigKey{
        "limits.threads", K::kInt, "0 (every CPU)", {}, 0, 1024, false, false, "worker threads"},
    ConfigKey{"limits.maxRecordSize",
              K::kSize,
              "16MiB",
              {},
              4096,
              256 * kMiB,
              false,
              false,
              "largest record"},
    ConfigKey{"limits.blockSize",
              K::kSize,
              "1MiB",
              {},
              4096,
              256 * kMiB,
              false,
              false,
              "bytes read per block"},
    ConfigKey{"limits.memory",
              K::kSize,
              "512MiB",
              {},
              4 * kMiB,
              1ll << 40,
              false,
              false,
              "hard budget of block, batch and output buffers"},
    ConfigKey{
        "limits.timeout", K::kDuration, "none", {}, 1, 7 * kDay, false, false, "the whole run"},
    ConfigKey{"limits.scriptTimeout",
              K::kDuration,
              "1s",
              {},
              1,
              3600000,
              false,
              false,
              "one process() call"},
    ConfigKey{"limits.scriptHeap",
              K::kSize,
              "128MiB",
              {},
              16 * kMiB,
              16ll << 30,
              false,
              false,
              "V8 heap per isolate, ArrayBuffers included"},
};

#undef FE_SINK_KEYS

SV Parent(SV path) {
  const size_t dot = path.rfind('.');
  const size_t bracket =
      path.size() >= 2 && path.substr(path.size() - 2) == "[]" ? path.size() - 2 : SV::npos;
  if (bracket != SV::npos) return path.substr(0, bracket);
  return dot == SV::npos ? SV() : path.substr(0, dot);
}

std::string Quote(SV s) { return JsonQuote(s); }

std::string KindName(const ConfigKey& k) {
  switch (k.kind) {
    case K::kMap:
      return k.or_name ? "name or map" : "map";
    case K::kList:
      return "list";
    case K::kNamedMap:
      return "map of names";
    case K::kString:
      return "string";
    case K::kPath:
      return "path";
    case K::kPaths:
      return "path, glob, list or \"-\"";
    case K::kBool:
      return "bool";
    case K::kInt:
      return "count";
    case K::kSize:
      return "size";
    case K::kDuration:
      return "duration";
    case K::kEnum:
      return "enum";
    case K::kCountOrPercent:
      return "count or percentage";
  }
  return "";
}

std::string SizeText(int64_t bytes) {
  if (bytes % (1ll << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
  if (bytes % (1ll << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes % 1024 == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes);
}

std::string DurationText(int64_t ms) {
  if (ms % 3600000 == 0 && ms > 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0 && ms > 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0 && ms > 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// The node types an application registered (core/engine/node_registry.h), as properties of
// a transform step: ",name:{...}" each.
std::string NodeTypeSchemas() {
  std::string out;
  for (const NodeType& t : NodeRegistry::Instance().All()) {
    if (t.name == "javascript") continue;
    std::string props, required;
    for (const NodeOptionSpec& o : t.options) {
      const char* type = o.type == NodeOptionSpec::Type::kString    ? "string"
                         : o.type == NodeOptionSpec::Type::kInteger ? "integer"
                         : o.type == NodeOptionSpec::Type::kNumber  ? "number"
                                                                    : "boolean";
      props += (props.empty() ? "" : ",") + Quote(o.name) + ":{\"type\":\"" + type + "\"" +
               (o.doc.empty() ? "" : ",\"description\":" + Quote(o.doc)) + "}";
      if (o.required) required += (required.empty() ? "" : ",") + Quote(o.name);
    }
    const std::string options =
        "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" + props + "}" +
        (required.empty() ? "" : ",\"required\":[" + required + "]") + "}";
    out += "," + Quote(t.name) + ":" +
           (required.empty() ? "{\"anyOf\":[{\"type\":\"null\"}," + options + "]"
                             : options.substr(0, options.size() - 1)) +
           (t.doc.empty() ? "" : ",\"description\":" + Quote(t.doc)) + "}";
  }
  return out;
}

// The JSON Schema of the key at `path` (its children looked up in the table).
std::string SchemaOf(const ConfigKey& k);

std::string ObjectSchema(SV path, bool or_name, SV doc) {
  std::string props;
  std::string required;
  for (const ConfigKey& c : kKeys) {
    if (Parent(c.path) != path || c.path.back() == ']' || c.path.back() == '*') continue;
    const SV name = path.empty() ? c.path : c.path.substr(path.size() + 1);
    props += (props.empty() ? "" : ",") + Quote(name) + ":" + SchemaOf(c);
    if (c.required) required += (required.empty() ? "" : ",") + Quote(name);
  }
  const bool step = path == "transform[]";
  if (step) props += NodeTypeSchemas();
  std::string object = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" +
                       props + "}" + (required.empty() ? "" : ",\"required\":[" + required + "]");
  if (step) object += ",\"minProperties\":1,\"maxProperties\":1";
  if (path.size() >= 11 && path.substr(path.size() - 11) == ".javascript") {
    // exactly one of file and code
    object += ",\"oneOf\":[{\"required\":[\"file\"]},{\"required\":[\"code\"]}]";
  }
  if (!doc.empty()) object += ",\"description\":" + Quote(doc);
  object += "}";
  if (or_name) return "{\"anyOf\":[{\"type\":\"string\",\"minLength\":1}," + object + "]}";
  return object;
}

std::string SchemaOf(const ConfigKey& k) {
  const std::string doc = k.doc.empty() ? "" : ",\"description\":" + Quote(k.doc);
  switch (k.kind) {
    case K::kMap:
      return ObjectSchema(k.path, k.or_name, k.doc);
    case K::kList: {
      const std::string item_path = std::string(k.path) + "[]";
      const ConfigKey* item = FindConfigKey(item_path);
      return "{\"type\":\"array\"" + std::string(k.path == "transform" ? "" : ",\"minItems\":1") +
             (item != nullptr ? ",\"items\":" + SchemaOf(*item) : "") + doc + "}";
    }
    case K::kNamedMap: {
      const ConfigKey* item = FindConfigKey(std::string(k.path) + ".*");
      return "{\"type\":\"object\"" +
             (item != nullptr ? ",\"additionalProperties\":" + SchemaOf(*item) : "") + doc + "}";
    }
    case K::kString:
    case K::kPath:
      return "{\"type\":\"string\",\"minLength\":1" + doc + "}";
    case K::kPaths:
      return "{\"anyOf\":[{\"type\":\"string\",\"minLength\":1},{\"type\":\"array\","
             "\"minItems\":1,\"items\":{\"type\":\"string\",\"minLength\":1}}]" +
             doc + "}";
    case K::kBool:
      return "{\"type\":\"boolean\"" + doc + "}";
    case K::kInt:
      return "{\"type\":\"integer\",\"minimum\":" + std::to_string(k.min) +
             ",\"maximum\":" + std::to_string(k.max) + doc + "}";
    case K::kSize:
      return "{\"anyOf\":[{\"type\":\"integer\",\"minimum\":" + std::to_string(k.min) +
             ",\"maximum\":" + std::to_string(k.max) +
             "},{\"type\":\"string\",\"pattern\":\"^[0-9]+ *(B|KiB|MiB|GiB|KB|MB|GB)?$\"}]" + doc +
             "}";
    case K::kDuration:
      return "{\"type\":\"string\",\"pattern\":\"^[0-9]+(ms|s|m|h)$\"" + doc + "}";
    case K::kEnum: {
      std::string values;
      for (SV v : k.allowed) values += (values.empty() ? "" : ",") + Quote(v);
      return "{\"enum\":[" + values + "]" + doc + "}";
    }
    case K::kCountOrPercent:
      return "{\"anyOf\":[{\"type\":\"integer\",\"minimum\":0},{\"type\":\"string\","
             "\"pattern\":\"^[0-9]+(\\\\.[0-9]+)?%$\"}]" +
             doc + "}";
  }
  return "{}";
}

std::string Escape(SV text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::span<const ConfigKey> ConfigKeys() { return kKeys; }

const ConfigKey* FindConfigKey(std::string_view path) {
  for (const ConfigKey& k : kKeys) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::vector<std::string_view> ChildKeys(std::string_view parent) {
  std::vector<std::string_view> out;
  for (const ConfigKey& k : kKeys) {
    if (Parent(k.path) != parent || k.path.back() == ']' || k.path.back() == '*') continue;
    out.push_back(parent.empty() ? k.path : k.path.substr(parent.size() + 1));
  }
  return out;
}

std::span<const std::string_view> AllowedValues(std::string_view path) {
  const ConfigKey* k = FindConfigKey(path);
  return k != nullptr ? k->allowed : std::span<const std::string_view>{};
}

std::string ConfigJsonSchema() {
  std::string out =
      "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
      "\"$id\":\"https://flowengine.dev/schema/pipeline.json\","
      "\"title\":\"FlowEngine pipeline\",";
  std::string object = ObjectSchema("", false, "");
  out += object.substr(1);  // the top-level object's members
  return out + "\n";
}

std::string ConfigMarkdown() {
  std::string out = "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
  for (const ConfigKey& k : kKeys) {
    std::string allowed;
    if (k.kind == K::kEnum) {
      for (SV v : k.allowed)
        allowed += (allowed.empty() ? "" : ", ") + ("`" + std::string(v) + "`");
    } else if (k.kind == K::kInt) {
      allowed = std::to_string(k.min) + " to " +
                (k.max == INT64_MAX ? std::string("any") : std::to_string(k.max));
    } else if (k.kind == K::kSize) {
      allowed = SizeText(k.min) + " to " + SizeText(k.max);
    } else if (k.kind == K::kDuration) {
      allowed = DurationText(k.min) + " to " + DurationText(k.max);
    }
    const std::string def = k.required ? "required" : std::string(k.default_text);
    out += "| `" + std::string(k.path) + "` | " + Escape(KindName(k)) + " | " + Escape(def) +
           " | " + Escape(allowed) + " | " + Escape(k.doc) + " |\n";
  }
  return out;
}

}  // namespace flowengine
