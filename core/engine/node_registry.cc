#include "core/engine/node_registry.h"

#include <charconv>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace flowengine {

NodeRegistry& NodeRegistry::Instance() {
  static NodeRegistry* registry = new NodeRegistry();  // never destroyed: runs may outlive
  return *registry;                                    // static destruction
}

void NodeRegistry::Register(NodeType type) { Add(std::move(type), false); }

void NodeRegistry::RegisterBuiltIn(NodeType type) { Add(std::move(type), true); }

void NodeRegistry::Add(NodeType type, bool built_in) {
  if (!built_in && type.name == "javascript") {
    throw std::invalid_argument("Node type 'javascript' is built in; choose another name");
  }
  bool well_formed = !type.name.empty() && type.name[0] >= 'a' && type.name[0] <= 'z';
  for (char c : type.name) {
    well_formed = well_formed && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!well_formed) {
    throw std::invalid_argument("Node type name '" + type.name +
                                "' must be lower-case letters, digits and '_', starting with a "
                                "letter");
  }
  if (!type.make) throw std::invalid_argument("Node type '" + type.name + "' has no factory");
  for (size_t i = 0; i < type.options.size(); ++i) {
    const NodeOptionSpec& o = type.options[i];
    if (o.name.empty()) throw std::invalid_argument("Node type '" + type.name + "': empty option");
    for (size_t j = 0; j < i; ++j) {
      if (type.options[j].name == o.name) {
        throw std::invalid_argument("Node type '" + type.name + "': option '" + o.name +
                                    "' is declared twice");
      }
    }
    if (!o.default_value.empty() && !IsValidOption(o.type, o.default_value)) {
      throw std::invalid_argument("Node type '" + type.name + "': the default of option '" +
                                  o.name + "' is not a valid " + OptionTypeName(o.type));
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (const NodeType& t : types_) {
    if (t.name == type.name) {
      throw std::invalid_argument("Node type '" + type.name + "' is already registered");
    }
  }
  types_.push_back(std::move(type));
}

std::optional<NodeType> NodeRegistry::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const NodeType& t : types_) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

std::vector<NodeType> NodeRegistry::All() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return types_;
}

bool IsValidOption(NodeOptionSpec::Type type, const std::string& text) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  switch (type) {
    case NodeOptionSpec::Type::kString:
      return true;
    case NodeOptionSpec::Type::kBoolean:
      return text == "true" || text == "false";
    case NodeOptionSpec::Type::kInteger: {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(first, last, v);
      return !text.empty() && ec == std::errc() && ptr == last;
    }
    case NodeOptionSpec::Type::kNumber: {
      double v = 0;
      auto [ptr, ec] = std::from_chars(first, last, v);
      return !text.empty() && ec == std::errc() && ptr == last && std::isfinite(v);
    }
  }
  return false;
}

const char* OptionTypeName(NodeOptionSpec::Type type) {
  switch (type) {
    case NodeOptionSpec::Type::kString:
      return "string";
    case NodeOptionSpec::Type::kInteger:
      return "integer";
    case NodeOptionSpec::Type::kNumber:
      return "number";
    case NodeOptionSpec::Type::kBoolean:
      return "boolean";
  }
  return "string";
}

}  // namespace flowengine
