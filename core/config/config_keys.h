// The one table of configuration keys: name, kind, default, allowed values or range, and what
// each means. The YAML loader takes its key lists, enum values and ranges from it;
// `flowengine schema` prints it as JSON Schema (draft 2020-12); docs/config.md's key table is
// generated from it (tools/gen_config_docs.py; a test keeps the two equal).
// Key paths: "source.format"; "[]" for the items of a list ("source.columns[].name");
// "*" for the values of a map whose keys are names ("routes.*.path").
// Constant data and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flowengine {

enum class KeyKind {
  kMap,       ///< a map of the keys below it
  kList,      ///< a list of the item below it ("path[]")
  kNamedMap,  ///< a map from names to the item below it ("path.*")
  kString,
  kPath,   ///< a file path (relative to the pipeline file)
  kPaths,  ///< a path, a glob, "-" or a list of paths and globs
  kBool,
  kInt,             ///< a whole number in [min, max]
  kSize,            ///< bytes, or a number with B, KiB, MiB, GiB, KB, MB, GB; in [min, max] bytes
  kDuration,        ///< a number with ms, s, m or h; in [min, max] milliseconds
  kEnum,            ///< one of `allowed`
  kCountOrPercent,  ///< a count (100) or a percentage (5%)
};

struct ConfigKey {
  std::string_view path;
  KeyKind kind;
  std::string_view default_text;                   ///< as shown to users; "" when there is none
  std::span<const std::string_view> allowed = {};  ///< kEnum
  int64_t min = 0;
  int64_t max = 0;
  bool required = false;
  /// A list item or map that may also be written as a bare name ("[id, { name: x }]").
  bool or_name = false;
  std::string_view doc = {};
};

/// Every key, parents before children, in documentation order.
std::span<const ConfigKey> ConfigKeys();

/// The key at `path` (generic form: "routes.*.path", "transform[].javascript.file");
/// nullptr when there is none.
const ConfigKey* FindConfigKey(std::string_view path);

/// The names of the keys directly below `parent` ("" for the top level).
std::vector<std::string_view> ChildKeys(std::string_view parent);

/// kEnum values of the key at `path` (empty when it is not an enum).
std::span<const std::string_view> AllowedValues(std::string_view path);

/// The whole table as JSON Schema, draft 2020-12.
std::string ConfigJsonSchema();

/// The whole table as a Markdown table (docs/config.md, "Every key").
std::string ConfigMarkdown();

}  // namespace flowengine
