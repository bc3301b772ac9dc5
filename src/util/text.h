// Small text helpers shared by the plan parser and the command line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dbsplit::util {

// Levenshtein distance; used for "did you mean" hints.
size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when nothing is close enough to help.
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& parts, std::string_view sep);

bool startsWith(std::string_view s, std::string_view prefix);

// A JSON array of the strings, as text: how a set of names or oids travels as
// one bind parameter (json_array_elements_text($1::json)).
std::string jsonList(const std::vector<std::string>& items);

// Removes anything that looks like a password from free text: libpq key=value
// `password=...` and URI `user:secret@`. Applied to every message that leaves the
// process, as a second line of defence behind pg::redactDsn.
std::string redactSecrets(std::string text);

}  // namespace dbsplit::util
