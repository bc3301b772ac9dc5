// Typed, position-aware access to one TOML table of a plan (private to
// src/plan). Every wrong type, missing key or unknown key becomes a Problem
// instead of an exception, so one pass finds all of them; the position of each
// value read is remembered for the cross-reference checks that come later.
#pragma once

#include <toml++/toml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "plan/problems.h"

namespace dbsplit::plan {

// Where the parts of one plan entry ([migration], one [[table]], ...) were written.
struct EntryPositions {
  SourcePos entry;                                      // the header or inline table
  std::map<std::string, SourcePos> values;              // key -> its value
  std::map<std::string, std::vector<SourcePos>> items;  // key -> accepted array elements

  // The value's position, or the entry's when the key was not written.
  SourcePos at(const std::string& key) const;
  // The i-th accepted element's position, or at(key).
  SourcePos item(const std::string& key, size_t i) const;
};

SourcePos toPos(const toml::source_region& region, const std::string& file);
// "a string", "an integer", ... for "expected X, found Y" messages.
std::string describeType(toml::node_type type);

class EntryReader {
 public:
  // `label` names the entry in messages: "[migration]", "[[table]]", "[step.split]".
  EntryReader(const toml::table& table, std::string label, const std::string& file,
              Problems* problems, EntryPositions* positions);

  // Reports each key not in `known`, with a did-you-mean among them.
  void checkKeys(const std::vector<std::string>& known);

  // Each getter returns nullopt when the key is absent (a problem if `required`)
  // or holds the wrong type (always a problem). Required strings must not be
  // empty. String arrays drop (and report) non-string, empty and repeated elements.
  std::optional<std::string> string(const std::string& key, bool required);
  std::optional<bool> boolean(const std::string& key);
  std::optional<std::vector<std::string>> strings(const std::string& key, bool required);
  // A single string is read as a one-element array (aggregate_id = "id").
  std::optional<std::vector<std::string>> stringOrStrings(const std::string& key, bool required);

  // True when `key` was written as [] (absent and other types are false).
  bool isEmptyArray(const std::string& key) const;

  // A problem about `key`'s value, or about its i-th element.
  void problem(const std::string& key, const std::string& message,
               const std::string& suggestion = {});
  void itemProblem(const std::string& key, size_t i, const std::string& message,
                   const std::string& suggestion = {});
  // A problem about the entry as a whole (reported at its header).
  void entryProblem(const std::string& message);

  const std::string& label() const { return label_; }
  const EntryPositions& positions() const { return *positions_; }

 private:
  const toml::node* find(const std::string& key, bool required);
  std::optional<std::vector<std::string>> readArray(const std::string& key,
                                                    const toml::array& array);
  void wrongType(const std::string& key, const toml::node& node, const std::string& expected);

  const toml::table& table_;
  std::string label_;
  const std::string& file_;
  Problems* problems_;
  EntryPositions* positions_;
};

}  // namespace dbsplit::plan
