// Position-aware TOML access for the plan reader; see toml_reader.h.
#include "plan/toml_reader.h"

#include <algorithm>
#include <set>

#include "fmt/format.h"
#include "util/text.h"

namespace dbsplit::plan {

SourcePos EntryPositions::at(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? entry : it->second;
}

SourcePos EntryPositions::item(const std::string& key, size_t i) const {
  auto it = items.find(key);
  return it == items.end() || i >= it->second.size() ? at(key) : it->second[i];
}

SourcePos toPos(const toml::source_region& region, const std::string& file) {
  // Implicit tables (the root, `step` in [step.split]) may have no position;
  // the top of the file is the most useful place to point at then.
  int line = static_cast<int>(region.begin.line);
  int column = static_cast<int>(region.begin.column);
  if (line <= 0) line = 1;
  if (column <= 0) column = 1;
  return SourcePos{file, line, column};
}

std::string describeType(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

EntryReader::EntryReader(const toml::table& table, std::string label, const std::string& file,
                         Problems* problems, EntryPositions* positions)
    : table_(table),
      label_(std::move(label)),
      file_(file),
      problems_(problems),
      positions_(positions) {
  positions_->entry = toPos(table.source(), file_);
}

void EntryReader::checkKeys(const std::vector<std::string>& known) {
  for (auto&& [key, node] : table_) {
    std::string name(key.str());
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string message = fmt::format("unknown key \"{}\" in {}", name, label_);
    if (known.empty()) message += " (it takes no settings)";
    problems_->add(toPos(key.source(), file_), message, util::closestMatch(name, known));
  }
}

const toml::node* EntryReader::find(const std::string& key, bool required) {
  const toml::node* node = table_.get(key);
  if (!node) {
    if (required) entryProblem(fmt::format("missing required key \"{}\"", key));
    return nullptr;
  }
  positions_->values[key] = toPos(node->source(), file_);
  return node;
}

void EntryReader::wrongType(const std::string& key, const toml::node& node,
                            const std::string& expected) {
  problem(key, fmt::format("expected {}, found {}", expected, describeType(node.type())));
}

std::optional<std::string> EntryReader::string(const std::string& key, bool required) {
  const toml::node* node = find(key, required);
  if (!node) return std::nullopt;
  const auto* value = node->as_string();
  if (!value) {
    wrongType(key, *node, "a string");
    return std::nullopt;
  }
  if (required && value->get().empty()) {
    problem(key, "must not be empty");
    return std::nullopt;
  }
  return value->get();
}

std::optional<bool> EntryReader::boolean(const std::string& key) {
  const toml::node* node = find(key, false);
  if (!node) return std::nullopt;
  const auto* value = node->as_boolean();
  if (!value) {
    wrongType(key, *node, "a boolean (true or false)");
    return std::nullopt;
  }
  return value->get();
}

std::optional<std::vector<std::string>> EntryReader::strings(const std::string& key,
                                                             bool required) {
  const toml::node* node = find(key, required);
  if (!node) return std::nullopt;
  const auto* array = node->as_array();
  if (!array) {
    wrongType(key, *node, "an array of strings");
    return std::nullopt;
  }
  return readArray(key, *array);
}

std::optional<std::vector<std::string>> EntryReader::stringOrStrings(const std::string& key,
                                                                     bool required) {
  const toml::node* node = find(key, required);
  if (!node) return std::nullopt;
  if (const auto* value = node->as_string()) {
    if (value->get().empty()) {
      problem(key, "must not be empty");
      return std::nullopt;
    }
    positions_->items[key] = {positions_->at(key)};
    return std::vector<std::string>{value->get()};
  }
  const auto* array = node->as_array();
  if (!array) {
    wrongType(key, *node, "a string or an array of strings");
    return std::nullopt;
  }
  return readArray(key, *array);
}

std::optional<std::vector<std::string>> EntryReader::readArray(const std::string& key,
                                                               const toml::array& array) {
  std::vector<std::string> out;
  std::vector<SourcePos>& positions = positions_->items[key];
  std::set<std::string> seen;
  for (size_t i = 0; i < array.size(); ++i) {
    const toml::node& element = *array.get(i);
    SourcePos pos = toPos(element.source(), file_);
    std::string where = fmt::format("{} {}[{}]", label_, key, i);
    const auto* value = element.as_string();
    if (!value) {
      problems_->add(
          pos, fmt::format("{}: expected a string, found {}", where, describeType(element.type())));
    } else if (value->get().empty()) {
      problems_->add(pos, where + ": must not be empty");
    } else if (!seen.insert(value->get()).second) {
      problems_->add(pos, fmt::format("{} {}: \"{}\" is listed twice", label_, key, value->get()));
    } else {
      out.push_back(value->get());
      positions.push_back(pos);
    }
  }
  return out;
}

bool EntryReader::isEmptyArray(const std::string& key) const {
  const toml::node* node = table_.get(key);
  return node && node->is_array() && node->as_array()->empty();
}

void EntryReader::problem(const std::string& key, const std::string& message,
                          const std::string& suggestion) {
  problems_->add(positions_->at(key), fmt::format("{} {}: {}", label_, key, message), suggestion);
}

void EntryReader::itemProblem(const std::string& key, size_t i, const std::string& message,
                              const std::string& suggestion) {
  problems_->add(positions_->item(key, i), fmt::format("{} {}: {}", label_, key, message),
                 suggestion);
}

void EntryReader::entryProblem(const std::string& message) {
  problems_->add(positions_->entry, fmt::format("{}: {}", label_, message));
}

}  // namespace dbsplit::plan
