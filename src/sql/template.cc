#include "sql/template.h"

#include <stdexcept>

namespace dbsplit::sql {

const std::map<std::string, std::string>& embeddedTemplates();  // generated
const std::map<std::string, std::string>& embeddedPlaybooks();  // generated

const std::string& templateText(const std::string& path) {
  const auto& all = embeddedTemplates();
  auto it = all.find(path);
  if (it == all.end()) throw std::out_of_range("no template named " + path);
  return it->second;
}

const std::string& playbookText(const std::string& path) {
  const auto& all = embeddedPlaybooks();
  auto it = all.find(path);
  if (it == all.end()) throw std::out_of_range("no playbook file named " + path);
  return it->second;
}

std::string render(const std::string& text, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) {
      out.append(text, pos, std::string::npos);
      return out;
    }
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) throw std::invalid_argument("unclosed {{ in template");
    out.append(text, pos, open - pos);
    std::string key = text.substr(open + 2, close - open - 2);
    auto it = values.find(key);
    if (it == values.end()) throw std::invalid_argument("template hole {{" + key + "}} not filled");
    out += it->second;
    pos = close + 2;
  }
}

std::string renderTemplate(const std::string& path,
                           const std::map<std::string, std::string>& values) {
  return render(templateText(path), values);
}

}  // namespace dbsplit::sql
