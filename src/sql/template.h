// SQL templates live in templates/ and are compiled into the binary. A template
// names its holes {{name}}; render() fills them from values that the caller has
// already quoted (quoteIdent / quoteLiteral), and refuses a template that still
// has an unfilled hole, so a typo cannot produce SQL with "{{" in it.
#pragma once

#include <map>
#include <string>

namespace dbsplit::sql {

// The text of templates/<path>. Throws std::out_of_range for an unknown path.
const std::string& templateText(const std::string& path);

// Replaces every {{key}} in `text`. Throws std::invalid_argument naming the hole
// when a key is missing.
std::string render(const std::string& text, const std::map<std::string, std::string>& values);

std::string renderTemplate(const std::string& path,
                           const std::map<std::string, std::string>& values);

// The text of playbooks/<path> (also compiled in, so `dbsplit demo` works from
// an installed binary). Throws std::out_of_range for an unknown path.
const std::string& playbookText(const std::string& path);

}  // namespace dbsplit::sql
