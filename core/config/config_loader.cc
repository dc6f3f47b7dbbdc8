#include "core/config/config_loader.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/config/config_keys.h"
#include "core/config/suggest.h"
#include "core/engine/node_registry.h"
#include "core/error/error.h"
#include "core/memory/memory_plan.h"

namespace flowengine {
namespace {

namespace fs = std::filesystem;
using Names = std::span<const std::string_view>;

// Key lists, allowed values and ranges come from the configuration table
// (core/config/config_keys.h).
std::vector<std::string_view> Keys(std::string_view parent) { return ChildKeys(parent); }
Names Allowed(std::string_view path) { return AllowedValues(path); }
int64_t Min(std::string_view path) { return FindConfigKey(path)->min; }
int64_t Max(std::string_view path) { return FindConfigKey(path)->max; }

bool Contains(Names names, std::string_view s) {
  for (std::string_view n : names) {
    if (n == s) return true;
  }
  return false;
}

// Walks the YAML tree; knows the file, which keys came from --set, and how to point at a node.
class SpecReader {
 public:
  SpecReader(std::string file, std::set<std::string> overridden,
             std::map<std::string, Location>* locations)
      : file_(std::move(file)), overridden_(std::move(overridden)), locations_(locations) {}

  bool IsOverridden(const std::string& path) const { return overridden_.count(path) > 0; }

  Location Where(const YAML::Node& node, const std::string& path) const {
    Location loc;
    loc.field = path;
    if (IsOverridden(path)) {
      loc.file = "--set " + path;
      return loc;
    }
    loc.file = file_;
    const YAML::Mark mark = node.Mark();
    if (mark.line >= 0) {
      loc.line = mark.line + 1;
      loc.column = mark.column + 1;
    }
    return loc;
  }

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& path, const std::string& code,
                         std::string message, std::string hint = {}) const {
    Error e = MakeError(code, std::move(message), Where(node, path), "config");
    if (!hint.empty()) e.hint = std::move(hint);
    throw ErrorException(std::move(e));
  }

  // A map whose keys must all be in `allowed`.
  void ExpectMap(const YAML::Node& node, const std::string& path, Names allowed) const {
    if (!node.IsMap()) {
      Fail(node, path, "FE-CONFIG-TYPE", "Expected a map of keys for '" + path + "'",
           "Write '" + path +
               "' as indented 'key: value' lines; allowed keys: " + JoinNames(allowed) + ".");
    }
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      if (Contains(allowed, key)) continue;
      const std::string where = path.empty() ? key : path + "." + key;
      std::string suggestion = SuggestClosest(key, allowed);
      std::string hint =
          suggestion.empty()
              ? "Remove it; allowed keys here: " + JoinNames(allowed) + "."
              : "Did you mean '" + suggestion + "'? Allowed keys here: " + JoinNames(allowed) + ".";
      Fail(kv.first, where, "FE-CONFIG-UNKNOWN-KEY", "Unknown key '" + where + "'",
           std::move(hint));
    }
  }

  std::string Scalar(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) {
      Fail(node, path, "FE-CONFIG-TYPE", "Expected a single value for '" + path + "'",
           "Write '" + path + ": <value>' on one line.");
    }
    return node.Scalar();
  }

  std::string Enum(const YAML::Node& node, const std::string& path, Names allowed) const {
    std::string value = Scalar(node, path);
    if (Contains(allowed, value)) return value;
    std::string suggestion = SuggestClosest(value, allowed);
    Fail(node, path, "FE-CONFIG-VALUE",
         "Value not allowed for '" + path + "': '" + value + "'; allowed: " + JoinNames(allowed),
         suggestion.empty() ? "Use one of: " + JoinNames(allowed) + "."
                            : "Did you mean '" + suggestion + "'?");
  }

  bool Bool(const YAML::Node& node, const std::string& path) const {
    std::string value = Scalar(node, path);
    if (value == "true") return true;
    if (value == "false") return false;
    Fail(node, path, "FE-CONFIG-VALUE",
         "Value not allowed for '" + path + "': '" + value + "'; allowed: true, false");
  }

  // Int, DurationMs and Size with the key's range from the configuration table.
  int64_t Int(const YAML::Node& node, const std::string& path) const {
    return Int(node, path, Min(path), Max(path));
  }
  int64_t DurationMs(const YAML::Node& node, const std::string& path) const {
    return DurationMs(node, path, Min(path), Max(path));
  }
  int64_t Size(const YAML::Node& node, const std::string& path) const {
    return Size(node, path, Min(path), Max(path));
  }

  int64_t Int(const YAML::Node& node, const std::string& path, int64_t min, int64_t max) const {
    std::string value = Scalar(node, path);
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (ec != std::errc() || ptr != value.data() + value.size() || out < min || out > max) {
      Fail(node, path, "FE-CONFIG-VALUE",
           "Expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
               " for '" + path + "', got '" + value + "'");
    }
    return out;
  }

  // Durations: a number with ms, s, m or h ("200ms", "2s"), in milliseconds.
  int64_t DurationMs(const YAML::Node& node, const std::string& path, int64_t min,
                     int64_t max) const {
    std::string value = Scalar(node, path);
    int64_t number = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    const std::string unit(ptr, static_cast<const char*>(value.data() + value.size()));
    int64_t scale = unit == "ms"  ? 1
                    : unit == "s" ? 1000
                    : unit == "m" ? 60000
                    : unit == "h" ? 3600000
                                  : 0;
    const int64_t ms = number * scale;
    if (ec != std::errc() || scale == 0 || number < 0 || ms < min || ms > max) {
      Fail(node, path, "FE-CONFIG-VALUE",
           "Expected a duration from " + std::to_string(min) + "ms to " + std::to_string(max) +
               "ms for '" + path + "', got '" + value + "'",
           "Write a number with ms, s, m or h, e.g. 200ms or 2s.");
    }
    return ms;
  }

  int64_t Size(const YAML::Node& node, const std::string& path, int64_t min, int64_t max) const {
    std::string value = Scalar(node, path);
    int64_t out = ParseByteSize(value);
    if (out < min || out > max) {
      Fail(node, path, "FE-CONFIG-VALUE",
           "Expected a size from " + std::to_string(min) + " to " + std::to_string(max) +
               " bytes for '" + path + "', got '" + value + "'",
           "Write a byte count or a number with KiB, MiB or GiB, e.g. 64MiB.");
    }
    return out;
  }

  // A path, absolute (relative ones resolve against the pipeline file's directory, or the
  // current directory for --set). With `stdio`, "-" stays "-" (standard input or output);
  // elsewhere "-" is refused: routes, dead letters and scripts are files.
  std::string Path(const YAML::Node& node, const std::string& path, bool stdio = false) const {
    std::string value = Scalar(node, path);
    if (value.empty()) Fail(node, path, "FE-CONFIG-VALUE", "Empty path for '" + path + "'");
    if (value == "-") {
      (*locations_)[path] = Where(node, path);
      if (stdio) return value;
      Fail(node, path, "FE-CONFIG-VALUE",
           "'-' (standard input or output) is only for source.path and sink.path; '" + path +
               "' must name a file",
           "Give '" + path + "' a file name (write ./- for a file named '-').");
    }
    if (value.find('\0') != std::string::npos) {
      Fail(node, path, "FE-CONFIG-VALUE",
           "The path for '" + path + "' contains a NUL byte, which no file name can hold",
           "Remove the \\0 (or %00) from the path.");
    }
    (*locations_)[path] = Where(node, path);
    fs::path p(value);
    if (p.is_relative()) {
      fs::path base = IsOverridden(path) ? fs::current_path() : fs::path(file_).parent_path();
      p = base / p;
    }
    return p.lexically_normal().string();
  }

  const YAML::Node Require(const YAML::Node& map, const std::string& path,
                           const std::string& key) const {
    const YAML::Node child = map[key];
    if (!child) {
      Fail(map, path, "FE-CONFIG-MISSING-KEY",
           "Missing key '" + (path.empty() ? key : path + "." + key) + "'");
    }
    return child;
  }

 private:
  std::string file_;
  std::set<std::string> overridden_;
  std::map<std::string, Location>* locations_;
};

// yaml-cpp keeps every pair of a map, duplicates included (and `node[key]` finds the first):
// a duplicate key anywhere is an error naming both places.
void CheckDuplicateKeys(const SpecReader& r, const YAML::Node& node, const std::string& path) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      CheckDuplicateKeys(r, node[i], path + "[" + std::to_string(i) + "]");
    }
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, YAML::Mark> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    const std::string where = path.empty() ? key : path + "." + key;
    const auto [it, fresh] = seen.emplace(key, kv.first.Mark());
    if (!fresh) {
      r.Fail(kv.first, where, "FE-CONFIG-DUPLICATE-KEY",
             "Duplicate key '" + where + "' (first at line " + std::to_string(it->second.line + 1) +
                 ", column " + std::to_string(it->second.column + 1) + ")",
             "Keep one of the two: YAML maps hold each key once.");
    }
    CheckDuplicateKeys(r, kv.second, where);
  }
}

Dialect DialectFor(const std::string& format) {
  if (format == "tsv") return Dialect::Tsv();
  if (format == "psv") return Dialect::Psv();
  return Dialect::Csv();
}

// A list of columns: maps { name, type, required }, or (when `names_allowed`) bare names.
std::vector<ColumnSpec> ReadColumnList(const SpecReader& r, const YAML::Node& node,
                                       const std::string& list_path, bool names_allowed) {
  if (!node.IsSequence()) {
    r.Fail(node, list_path, "FE-CONFIG-TYPE", "Expected a list for '" + list_path + "'",
           "Write one '- { name: id, type: int64 }' entry per column.");
  }
  std::vector<ColumnSpec> columns;
  std::set<std::string> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node c = node[i];
    const std::string path = list_path + "[" + std::to_string(i) + "]";
    ColumnSpec col;
    const bool bare_name = names_allowed && c.IsScalar();
    if (!bare_name) r.ExpectMap(c, path, Keys("source.columns[]"));
    // (yaml-cpp's Node::operator= writes through to the node: bind once, never reassign.)
    const YAML::Node name_node = bare_name ? c : r.Require(c, path, "name");
    if (bare_name) {
      col.name = c.Scalar();
    } else {
      col.name = r.Scalar(name_node, path + ".name");
      if (c["type"]) {
        std::string type = r.Scalar(c["type"], path + ".type");
        auto parsed = ParseColumnTypeName(type);
        if (!parsed) {
          r.Fail(
              c["type"], path + ".type", "FE-CONFIG-VALUE",
              "Unknown column type '" + type + "'; allowed: " + std::string(AllColumnTypeNames()));
        }
        col.type = *parsed;
      }
      if (c["required"]) col.required = r.Bool(c["required"], path + ".required");
    }
    if (col.name.empty()) r.Fail(name_node, path + ".name", "FE-CONFIG-VALUE", "Empty column name");
    if (!seen.insert(col.name).second) {
      r.Fail(name_node, path + ".name", "FE-CONFIG-VALUE",
             "Column declared twice: '" + col.name + "'", "Declare each column once.");
    }
    columns.push_back(std::move(col));
  }
  return columns;
}

std::string ReadTextFile(const SpecReader& r, const YAML::Node& node, const std::string& path,
                         const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  if (!in || fs::is_directory(file, ec)) {
    r.Fail(node, path, "FE-CONFIG-FILE", "Cannot read the script file '" + file + "'",
           "Check the path; relative paths resolve against the pipeline file's directory.");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// source.path: a file, "-", a glob (`data/2026-*.csv`, matches sorted) or a list of files
// and globs; every file once.
std::vector<std::string> ReadSourcePaths(const SpecReader& r, const YAML::Node& node) {
  std::vector<std::string> paths;
  const auto add_glob = [&](const YAML::Node& item, const std::string& key) {
    const std::string path = r.Path(item, key);
    if (path.find_first_of("*?[") == std::string::npos) {
      paths.push_back(path);
      return;
    }
    glob_t g{};
    const int rc = ::glob(path.c_str(), GLOB_ERR, nullptr, &g);
    std::vector<std::string> found;
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; ++i) {
      std::error_code ec;
      if (fs::is_directory(g.gl_pathv[i], ec)) continue;  // a pattern matches files only
      found.emplace_back(g.gl_pathv[i]);
    }
    globfree(&g);
    if (found.empty()) {
      r.Fail(item, key, "FE-CONFIG-VALUE", "No file matches '" + path + "'",
             "Check the pattern (* ? [..] match within one directory level; relative patterns "
             "resolve against the pipeline file's directory).");
    }
    std::sort(found.begin(), found.end());
    paths.insert(paths.end(), found.begin(), found.end());
  };
  if (node.IsSequence()) {
    if (node.size() == 0) {
      r.Fail(node, "source.path", "FE-CONFIG-VALUE", "source.path is an empty list",
             "List at least one file.");
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string key = "source.path[" + std::to_string(i) + "]";
      if (!node[i].IsScalar()) {
        r.Fail(node[i], key, "FE-CONFIG-TYPE",
               "Expected a file name or a pattern for '" + key + "'",
               "Write each file as a list item; for standard input write path: \"-\" (quoted).");
      }
      add_glob(node[i], key);
    }
  } else if (node.IsScalar() && node.Scalar() == "-") {
    paths.push_back(r.Path(node, "source.path", /*stdio=*/true));
  } else {
    add_glob(node, "source.path");
  }
  std::set<std::string> seen;
  for (const std::string& p : paths) {
    if (!seen.insert(p).second) {
      r.Fail(node, "source.path", "FE-CONFIG-VALUE",
             "The input file '" + p + "' is listed twice in source.path",
             "List every file once (patterns that overlap list a file twice).");
    }
  }
  return paths;
}

// sink.columns: `[id, { name: customer, from: first_name }]`.
std::vector<SinkColumn> ReadSinkColumns(const SpecReader& r, const YAML::Node& node,
                                        const std::string& list_path) {
  if (!node.IsSequence() || node.size() == 0) {
    r.Fail(node, list_path, "FE-CONFIG-TYPE",
           "Expected a non-empty list of columns for '" + list_path + "'",
           "Write '[id, { name: customer, from: first_name }]': a name keeps that column, "
           "name and from rename one.");
  }
  std::vector<SinkColumn> columns;
  std::set<std::string> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node c = node[i];
    const std::string path = list_path + "[" + std::to_string(i) + "]";
    SinkColumn col;
    col.where = r.Where(c, path);
    if (c.IsScalar()) {
      col.name = r.Scalar(c, path);
      col.from = col.name;
    } else {
      r.ExpectMap(c, path, Keys("sink.columns[]"));
      col.name = r.Scalar(r.Require(c, path, "name"), path + ".name");
      col.from = c["from"] ? r.Scalar(c["from"], path + ".from") : col.name;
    }
    if (col.name.empty() || col.from.empty()) {
      r.Fail(c, path, "FE-CONFIG-VALUE", "Empty column name in '" + list_path + "'");
    }
    if (!seen.insert(col.name).second) {
      r.Fail(c, path, "FE-CONFIG-VALUE", "Output column '" + col.name + "' is written twice",
             "Give every output column its own name.");
    }
    columns.push_back(std::move(col));
  }
  return columns;
}

// lineEnding, quoting, header, backup and columns of a sink or route at `path`.
void ReadSinkOptions(const SpecReader& r, const YAML::Node& node, const std::string& path,
                     SinkSpec& sink) {
  if (node["columns"]) sink.columns = ReadSinkColumns(r, node["columns"], path + ".columns");
  sink.compression = CompressionForPath(sink.path);
  if (node["compression"]) {
    const std::string c =
        r.Enum(node["compression"], path + ".compression", Allowed("sink.compression"));
    sink.compression = c == "gzip"   ? Compression::kGzip
                       : c == "zstd" ? Compression::kZstd
                                     : Compression::kNone;
  }
  if (sink.compression != Compression::kNone && sink.mode == OutputMode::kAppend &&
      sink.path != "-") {
    r.Fail(node["compression"] ? node["compression"] : node, path + ".outputMode",
           "FE-CONFIG-VALUE",
           "outputMode: append cannot add to a " + std::string(CompressionName(sink.compression)) +
               " file (its header and line ending cannot be checked)",
           "Use outputMode: replace, or write an uncompressed file (compression: none).");
  }
  if (node["lineEnding"]) {
    sink.style.crlf =
        r.Enum(node["lineEnding"], path + ".lineEnding", Allowed("sink.lineEnding")) == "crlf";
  }
  if (node["quoting"]) {
    sink.style.quote_all =
        r.Enum(node["quoting"], path + ".quoting", Allowed("sink.quoting")) == "all";
  }
  if (node["header"]) sink.header = r.Bool(node["header"], path + ".header");
  if (node["backup"]) {
    sink.backup = r.Bool(node["backup"], path + ".backup");
    if (sink.backup && sink.mode != OutputMode::kReplace) {
      r.Fail(node["backup"], path + ".backup", "FE-CONFIG-VALUE",
             "backup needs outputMode: replace (only a replaced file has a previous version)",
             "Set outputMode: replace, or remove backup.");
    }
  }
}

// A registered node's options: each checked against its schema, defaults filled in.
void ReadNodeOptions(const SpecReader& r, const YAML::Node& node, const std::string& path,
                     const NodeType& type, TransformSpec& t) {
  std::vector<std::string_view> names;
  for (const NodeOptionSpec& o : type.options) names.push_back(o.name);
  if (node.IsNull()) {
    // `- my_node:` with nothing after it: no options
  } else {
    r.ExpectMap(node, path, names);
  }
  for (const NodeOptionSpec& o : type.options) {
    const std::string key = path + "." + o.name;
    const YAML::Node value = node.IsMap() ? node[o.name] : YAML::Node();
    std::string text;
    if (value) {
      text = r.Scalar(value, key);
      if (!IsValidOption(o.type, text)) {
        r.Fail(value, key, "FE-CONFIG-VALUE",
               "Expected " + std::string(OptionTypeName(o.type)) + " for '" + key + "', got '" +
                   text + "'",
               o.doc.empty() ? "" : "'" + o.name + "': " + o.doc);
      }
    } else if (o.required) {
      r.Fail(node, path, "FE-CONFIG-MISSING-KEY", "Missing key '" + key + "'",
             o.doc.empty() ? "Add it." : "Add it: " + o.doc);
    } else {
      text = o.default_value;
    }
    t.options.emplace_back(o.name, std::move(text));
  }
}

void ReadTransforms(const SpecReader& r, const YAML::Node& node, const std::string& yaml_path,
                    PipelineSpec& spec) {
  if (!node.IsSequence()) {
    r.Fail(node, "transform", "FE-CONFIG-TYPE", "Expected a list of steps for 'transform'",
           "Write '- javascript: { file: script.js }' per step.");
  }
  // A step is one key: `javascript` or a node type an application registered.
  std::vector<std::string> type_names{"javascript"};
  for (const NodeType& t : NodeRegistry::Instance().All()) {
    if (t.name != "javascript") type_names.push_back(t.name);
  }
  const std::vector<std::string_view> types(type_names.begin(), type_names.end());
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string step_path = "transform[" + std::to_string(i) + "]";
    r.ExpectMap(node[i], step_path, types);
    if (node[i].size() == 0) {
      r.Fail(node[i], step_path, "FE-CONFIG-MISSING-KEY",
             "Missing key '" + step_path +
                 ".javascript' (or another node type: " + JoinNames(types) + ")",
             "Write '- javascript: { file: script.js }'.");
    }
    if (node[i].size() != 1) {
      r.Fail(node[i], step_path, "FE-CONFIG-VALUE",
             "A transform step is one node, got " + std::to_string(node[i].size()) + " keys",
             "Write each node as its own list item ('- javascript: ...').");
    }
    const std::string type = node[i].begin()->first.as<std::string>();
    TransformSpec t;
    t.node = type;
    t.where = r.Where(node[i], step_path);
    const std::string path = step_path + "." + type;
    if (type != "javascript") {
      const std::optional<NodeType> registered = NodeRegistry::Instance().Find(type);
      if (!registered) {  // unregistered between the two lookups: cannot happen
        r.Fail(node[i], step_path, "FE-CONFIG-UNKNOWN-KEY", "Unknown node type '" + type + "'");
      }
      ReadNodeOptions(r, node[i].begin()->second, path, *registered, t);
      spec.transforms.push_back(std::move(t));
      continue;
    }
    const YAML::Node js = node[i]["javascript"];
    r.ExpectMap(js, path, Keys("transform[].javascript"));
    if (js["file"] && js["code"]) {
      r.Fail(js["code"], path + ".code", "FE-CONFIG-VALUE",
             "Both 'file' and 'code' are set for '" + path + "'", "Keep one of them.");
    }
    if (js["file"]) {
      t.script_path = r.Path(js["file"], path + ".file");
      t.code = ReadTextFile(r, js["file"], path + ".file", t.script_path);
      t.display_name = t.script_path;
    } else if (js["code"]) {
      t.code = r.Scalar(js["code"], path + ".code");
      if (r.IsOverridden(path + ".code")) {
        // Code given on the command line: its lines are its own, not the file's.
        t.display_name = "--set " + path + ".code";
        t.code_line_offset = 0;
      } else {
        t.display_name = yaml_path;
        const int mark_line = js["code"].Mark().line;
        // A block scalar (code: |) starts on the line after its key.
        t.code_line_offset =
            mark_line < 0 ? 0 : mark_line + (t.code.find('\n') != std::string::npos);
      }
    } else {
      r.Fail(js, path, "FE-CONFIG-MISSING-KEY",
             "Missing key '" + path + ".file' or '" + path + ".code'",
             "Point 'file' at a script, or write the script inline under 'code: |'.");
    }
    if (js["output"]) {
      t.output = ReadColumnList(r, js["output"], path + ".output", true);
      if (t.output.empty()) {
        r.Fail(js["output"], path + ".output", "FE-CONFIG-VALUE",
               "'" + path + ".output' is an empty list: a step must write at least one column",
               "List the output columns, or remove 'output' to keep the input columns.");
      }
    }
    spec.transforms.push_back(std::move(t));
  }
}

void ReadRoutes(const SpecReader& r, const YAML::Node& node, PipelineSpec& spec) {
  if (!node.IsMap()) {
    r.Fail(node, "routes", "FE-CONFIG-TYPE", "Expected a map of named sinks for 'routes'",
           "Write 'review: { path: out/review.csv }' per route.");
  }
  for (const auto& kv : node) {
    RouteSpec route;
    route.name = kv.first.as<std::string>();
    const std::string path = "routes." + route.name;
    r.ExpectMap(kv.second, path, Keys("routes.*"));
    route.sink.path = r.Path(r.Require(kv.second, path, "path"), path + ".path");
    route.sink.dialect =
        kv.second["format"]
            ? DialectFor(r.Enum(kv.second["format"], path + ".format", Allowed("source.format")))
            : spec.sink.dialect;
    if (kv.second["outputMode"]) {
      std::string mode =
          r.Enum(kv.second["outputMode"], path + ".outputMode", Allowed("sink.outputMode"));
      route.sink.mode = mode == "create"    ? OutputMode::kCreate
                        : mode == "replace" ? OutputMode::kReplace
                                            : OutputMode::kAppend;
    }
    ReadSinkOptions(r, kv.second, path, route.sink);
    spec.routes.push_back(std::move(route));
  }
}

// Sets `key` ("a.b", "a[1].b") to `value` in the tree, creating maps on the way. An index
// names an existing list item; with `append`, index == size adds one (and a missing list is
// created for index 0). Errors name `origin` ("--set key", or where a key came from).
void SetKey(YAML::Node& root, const std::string& key, const std::string& value, bool append,
            const std::string& origin) {
  const auto fail = [&](const std::string& why) {
    Location loc;
    loc.file = origin;
    ThrowError("FE-CONFIG-SET", why + ": '" + key + "'", loc, "config");
  };
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) {
    if (part.empty()) fail("Empty key segment in override");
    parts.push_back(part);
  }
  if (parts.empty()) fail("Empty key in override");
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  // A segment is a key, or a key and a list index: transform[1], source.path[0].
  const auto split = [&](const std::string& part, std::string* name, long* index) {
    *index = -1;
    *name = part;
    const size_t open = part.find('[');
    if (open == std::string::npos) return;
    if (part.back() != ']' || open == 0) fail("Malformed list index in override");
    const std::string digits = part.substr(open + 1, part.size() - open - 2);
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      fail("Malformed list index in override");
    }
    *name = part.substr(0, open);
    *index = std::stol(digits);
  };
  YAML::Node node = root;
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    std::string name;
    long index = -1;
    split(parts[i], &name, &index);
    if (!node.IsMap()) fail("Override path goes through a value that is not a map");
    if (index >= 0) {
      if (append && !node[name] && index == 0) node[name] = YAML::Node(YAML::NodeType::Sequence);
      YAML::Node list = node[name];
      if (!list || !list.IsSequence()) fail("Override path names a list that is not there");
      const auto at = static_cast<size_t>(index);
      if (append && at == list.size()) {
        list.push_back(last ? YAML::Node(value) : YAML::Node(YAML::NodeType::Map));
      } else if (at >= list.size()) {
        fail("Override index past the end of the list (" + std::to_string(list.size()) + " items)");
      } else if (last) {
        list[at] = value;
      }
      if (last) break;
      node.reset(list[at]);
      continue;
    }
    if (last) {
      node[name] = value;
      break;
    }
    if (!node[name] || !node[name].IsMap()) {
      if (node[name] && !node[name].IsNull()) {
        fail("Override path goes through a value that is not a map");
      }
      node[name] = YAML::Node(YAML::NodeType::Map);
    }
    node.reset(node[name]);
  }
}

std::set<std::string> ApplyOverrides(YAML::Node& root, const std::vector<std::string>& overrides) {
  std::set<std::string> paths;
  for (const std::string& o : overrides) {
    size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0) {
      Location loc;
      loc.file = "--set " + o;
      ThrowError("FE-CONFIG-SET", "Override without '=': '" + o + "'", loc, "config");
    }
    const std::string key = o.substr(0, eq);
    SetKey(root, key, o.substr(eq + 1), /*append=*/false, "--set " + o);
    paths.insert(key);
  }
  return paths;
}

// deadLetter and maxErrors, which only make sense with errorHandling: skip-row.
void ReadErrorHandling(const SpecReader& r, const YAML::Node& root, PipelineSpec& spec) {
  if (root["deadLetter"]) {
    const YAML::Node dl = root["deadLetter"];
    r.ExpectMap(dl, "deadLetter", Keys("deadLetter"));
    spec.dead_letter.path = r.Path(r.Require(dl, "deadLetter", "path"), "deadLetter.path");
    if (dl["outputMode"]) {
      std::string mode =
          r.Enum(dl["outputMode"], "deadLetter.outputMode", Allowed("sink.outputMode"));
      spec.dead_letter.mode = mode == "create"    ? OutputMode::kCreate
                              : mode == "replace" ? OutputMode::kReplace
                                                  : OutputMode::kAppend;
    }
  }
  if (spec.error_handling == ErrorHandling::kSkipRow && spec.dead_letter.path.empty()) {
    r.Fail(root["errorHandling"], "errorHandling", "FE-CONFIG-MISSING-KEY",
           "Missing key 'deadLetter.path' (required with errorHandling: skip-row)",
           "Add 'deadLetter: { path: rejects.csv }' so that rejected rows are kept.");
  }
  if (spec.error_handling == ErrorHandling::kFailFast && !spec.dead_letter.path.empty()) {
    r.Fail(root["deadLetter"], "deadLetter", "FE-CONFIG-VALUE",
           "deadLetter is set but errorHandling is fail-fast, which rejects no rows",
           "Set errorHandling: skip-row, or remove deadLetter.");
  }
  if (!root["maxErrors"]) return;
  const std::string value = r.Scalar(root["maxErrors"], "maxErrors");
  const bool percent = !value.empty() && value.back() == '%';
  const std::string number = percent ? value.substr(0, value.size() - 1) : value;
  // Digits, and for a percentage one decimal point: no sign, exponent, nan or inf.
  const size_t point = number.find('.');
  const bool digits_only =
      !number.empty() && number.find_first_not_of("0123456789.") == std::string::npos &&
      (point == std::string::npos || (percent && number.find('.', point + 1) == std::string::npos &&
                                      point > 0 && point + 1 < number.size()));
  double v = -1;
  if (digits_only) {
    v = std::strtod(number.c_str(), nullptr);
    if (!std::isfinite(v)) v = -1;
  }
  if (!digits_only || v < 0 || (percent && v > 100) || (!percent && v > 9e15)) {
    r.Fail(root["maxErrors"], "maxErrors", "FE-CONFIG-VALUE",
           "Expected a count (e.g. 100) or a percentage (e.g. 5%) for 'maxErrors', got '" + value +
               "'");
  }
  if (spec.error_handling != ErrorHandling::kSkipRow) {
    r.Fail(root["maxErrors"], "maxErrors", "FE-CONFIG-VALUE",
           "maxErrors is set but errorHandling is fail-fast, which stops at the first error",
           "Set errorHandling: skip-row, or remove maxErrors.");
  }
  if (percent) {
    spec.max_errors.percent = v;
  } else {
    spec.max_errors.count = static_cast<int64_t>(v);
  }
}

PipelineSpec BuildSpec(YAML::Node root, const std::string& yaml_path,
                       const std::vector<std::string>& overrides) {
  PipelineSpec spec;
  {
    // Duplicates are looked for before --set writes into the tree.
    const SpecReader plain(yaml_path, {}, &spec.locations);
    CheckDuplicateKeys(plain, root, "");
  }
  const std::set<std::string> overridden = ApplyOverrides(root, overrides);
  const SpecReader r(yaml_path, overridden, &spec.locations);
  if (!root || root.IsNull()) {
    Location loc;
    loc.file = yaml_path;
    ThrowError("FE-CONFIG-MISSING-KEY", "The pipeline file is empty", loc, "config");
  }
  r.ExpectMap(root, "", Keys(""));

  spec.config_path = yaml_path;
  spec.name = root["pipeline"] ? r.Scalar(root["pipeline"], "pipeline")
                               : fs::path(yaml_path).stem().string();

  const YAML::Node src = r.Require(root, "", "source");
  r.ExpectMap(src, "source", Keys("source"));
  spec.source.paths = ReadSourcePaths(r, r.Require(src, "source", "path"));
  spec.source.path = spec.source.paths.front();
  std::string source_format = "csv";
  if (src["format"])
    source_format = r.Enum(src["format"], "source.format", Allowed("source.format"));
  spec.source.dialect = DialectFor(source_format);
  if (src["header"]) spec.source.header = r.Bool(src["header"], "source.header");
  if (src["quote"] && r.Enum(src["quote"], "source.quote", Allowed("source.quote")) == "none") {
    spec.source.dialect.quote = '\0';
  }
  if (src["escape"] && r.Enum(src["escape"], "source.escape", Allowed("source.escape")) == "\\") {
    spec.source.dialect.escape = '\\';
  }
  if (spec.source.dialect.quote == '\0' && spec.source.dialect.escape == '\0' && src["escape"]) {
    r.Fail(src["escape"], "source.escape", "FE-CONFIG-VALUE",
           "source.escape: '\"' doubles quotes, but source.quote is none",
           "Remove source.escape, or set it to '\\' for backslash escapes.");
  }
  if (src["encoding"]) {
    const std::string e = r.Enum(src["encoding"], "source.encoding", Allowed("source.encoding"));
    spec.source.encoding = e == "latin-1"        ? Encoding::kLatin1
                           : e == "windows-1252" ? Encoding::kWindows1252
                                                 : Encoding::kUtf8;
  }
  if (src["skipRows"]) {
    spec.source.skip_rows = r.Int(src["skipRows"], "source.skipRows");
  }
  if (src["maxRows"]) {
    spec.source.max_rows = r.Int(src["maxRows"], "source.maxRows");
  }
  if (src["skipBlankLines"]) {
    spec.source.skip_blank_lines = r.Bool(src["skipBlankLines"], "source.skipBlankLines");
  }
  if (src["columns"]) {
    spec.source.columns = ReadColumnList(r, src["columns"], "source.columns", false);
  }
  if (!spec.source.header && spec.source.columns.empty()) {
    r.Fail(src, "source", "FE-CONFIG-MISSING-KEY",
           "Missing key 'source.columns' (required when source.header is false)",
           "Declare the columns in file order, or set source.header: true.");
  }

  const YAML::Node sink = r.Require(root, "", "sink");
  r.ExpectMap(sink, "sink", Keys("sink"));
  spec.sink.path = r.Path(r.Require(sink, "sink", "path"), "sink.path", /*stdio=*/true);
  spec.sink.dialect =
      sink["format"] ? DialectFor(r.Enum(sink["format"], "sink.format", Allowed("source.format")))
                     : spec.source.dialect.Rfc4180();
  if (sink["outputMode"]) {
    std::string mode = r.Enum(sink["outputMode"], "sink.outputMode", Allowed("sink.outputMode"));
    spec.sink.mode = mode == "create"    ? OutputMode::kCreate
                     : mode == "replace" ? OutputMode::kReplace
                                         : OutputMode::kAppend;
  }
  ReadSinkOptions(r, sink, "sink", spec.sink);

  if (root["transform"]) ReadTransforms(r, root["transform"], yaml_path, spec);
  if (root["routes"]) ReadRoutes(r, root["routes"], spec);
  if (!spec.routes.empty() && !spec.transforms.empty() &&
      spec.transforms.back().node != "javascript") {
    // Routes take the last step's rows, and only a script sends rows to them: they would be
    // committed empty (replacing their targets).
    const size_t last = spec.transforms.size() - 1;
    r.Fail(root["routes"], "routes", "FE-CONFIG-VALUE",
           "Routes take rows from the last transform step, and transform[" + std::to_string(last) +
               "] (" + spec.transforms[last].node + ") is a node that cannot send rows to routes",
           "End the transform with a javascript step that calls context.route.send, or remove "
           "'routes'.");
  }

  if (root["errorHandling"]) {
    std::string eh = r.Enum(root["errorHandling"], "errorHandling", Allowed("errorHandling"));
    if (eh == "skip-row") spec.error_handling = ErrorHandling::kSkipRow;
  }
  ReadErrorHandling(r, root, spec);

  if (root["retry"]) {
    const YAML::Node retry = root["retry"];
    r.ExpectMap(retry, "retry", Keys("retry"));
    if (retry["attempts"]) {
      spec.retry.attempts = static_cast<int>(r.Int(retry["attempts"], "retry.attempts"));
    }
    if (retry["initialDelay"]) {
      spec.retry.initial_delay_ms = r.DurationMs(retry["initialDelay"], "retry.initialDelay");
    }
    if (retry["maxDelay"]) {
      spec.retry.max_delay_ms = r.DurationMs(retry["maxDelay"], "retry.maxDelay");
    }
    if (spec.retry.max_delay_ms < spec.retry.initial_delay_ms) {
      r.Fail(retry, "retry", "FE-CONFIG-VALUE", "retry.maxDelay is smaller than retry.initialDelay",
             "Set retry.maxDelay to at least retry.initialDelay.");
    }
  }
  if (root["limits"]) {
    const YAML::Node lim = root["limits"];
    r.ExpectMap(lim, "limits", Keys("limits"));
    if (lim["timeout"]) {
      spec.limits.timeout_ms = r.DurationMs(lim["timeout"], "limits.timeout");
    }
    if (lim["threads"]) {
      spec.limits.threads = static_cast<int>(r.Int(lim["threads"], "limits.threads"));
    }
    if (lim["blockSize"]) {
      spec.limits.block_size = r.Size(lim["blockSize"], "limits.blockSize");
    }
    if (lim["scriptTimeout"]) {
      spec.limits.script_timeout_ms = r.DurationMs(lim["scriptTimeout"], "limits.scriptTimeout");
    }
    if (lim["scriptHeap"]) {
      spec.limits.script_heap = r.Size(lim["scriptHeap"], "limits.scriptHeap");
    }
    if (lim["memory"]) {
      spec.limits.memory = r.Size(lim["memory"], "limits.memory");
    }
    if (lim["maxRecordSize"]) {
      spec.limits.max_record_size = r.Size(lim["maxRecordSize"], "limits.maxRecordSize");
    }
    if (spec.limits.max_record_size < spec.limits.block_size) {
      // Point at the key that was set (maxRecordSize, else blockSize), in the file or --set.
      const bool record_set = static_cast<bool>(lim["maxRecordSize"]);
      const std::string key = record_set ? "limits.maxRecordSize" : "limits.blockSize";
      r.Fail(record_set ? lim["maxRecordSize"] : lim["blockSize"], key, "FE-CONFIG-VALUE",
             "limits.maxRecordSize (" + std::to_string(spec.limits.max_record_size) +
                 " bytes) is smaller than limits.blockSize (" +
                 std::to_string(spec.limits.block_size) + " bytes)",
             "Set limits.maxRecordSize to at least limits.blockSize.");
    }
    const MemoryPlan plan = PlanMemory(spec.limits, spec.transforms.size());
    if (lim["maxRecordSize"] &&
        plan.max_record < static_cast<size_t>(spec.limits.max_record_size)) {
      r.Fail(lim["maxRecordSize"], "limits.maxRecordSize", "FE-CONFIG-VALUE",
             "limits.maxRecordSize does not fit in limits.memory: with " +
                 std::to_string(plan.tokens) + " blocks in flight a record can be at most " +
                 std::to_string(plan.max_record) + " bytes",
             "Raise limits.memory (about " + std::to_string(plan.tokens + 2) +
                 " x 4 x maxRecordSize is needed) or lower limits.maxRecordSize.");
    }
  }
  return spec;
}

}  // namespace

int64_t ParseByteSize(const std::string& text) {
  int64_t number = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [ptr, ec] = std::from_chars(first, last, number);
  if (ec != std::errc() || number < 0) return -1;
  std::string unit(ptr, last);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  static const std::map<std::string, int64_t> kUnits{
      {"", 1},      {"B", 1},        {"KiB", 1ll << 10}, {"MiB", 1ll << 20}, {"GiB", 1ll << 30},
      {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) return -1;
  if (number > (int64_t{1} << 62) / it->second) return -1;
  return number * it->second;
}

PipelineSpec LoadPipelineSpecFromString(const std::string& yaml_text, const std::string& yaml_path,
                                        const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    Location loc;
    loc.file = yaml_path;
    loc.line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    loc.column = e.mark.column >= 0 ? e.mark.column + 1 : 0;
    ThrowError("FE-CONFIG-YAML", "Invalid YAML: " + e.msg, loc, "config");
  }
  return BuildSpec(root, yaml_path, overrides);
}

PipelineSpec LoadPipelineSpec(const std::string& yaml_path,
                              const std::vector<std::string>& overrides) {
  std::error_code ec;
  fs::path abs = fs::absolute(yaml_path, ec).lexically_normal();
  std::ifstream in(abs, std::ios::binary);
  if (!in || fs::is_directory(abs, ec)) {
    Location loc;
    loc.file = yaml_path;
    ThrowError("FE-CONFIG-FILE", "Cannot read the pipeline file '" + yaml_path + "'", loc,
               "config");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadPipelineSpecFromString(buffer.str(), abs.string(), overrides);
}

}  // namespace flowengine

namespace flowengine {

PipelineSpec LoadPipelineSpecFromKeys(const std::vector<std::pair<std::string, std::string>>& keys,
                                      const std::string& yaml_path) {
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& [key, value] : keys) SetKey(root, key, value, /*append=*/true, yaml_path);
  return BuildSpec(root, yaml_path, {});
}

}  // namespace flowengine
