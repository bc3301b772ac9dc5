// Loading a plan: read the file, parse the TOML, read and validate every entry,
// and only then hand out a Plan (DESIGN §3: nothing runs on an invalid plan).
#include "plan/plan.h"

#include <algorithm>

#include <toml++/toml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "plan/problems.h"
#include "plan/read_plan.h"
#include "util/error.h"

namespace dbsplit::plan {
namespace fs = std::filesystem;
namespace {

fs::path absolutePath(const fs::path& path) {
  std::error_code ec;
  fs::path out = fs::absolute(path, ec);
  return (ec ? path : out).lexically_normal();
}

// The journal sits beside the plan unless the plan says otherwise, so that the
// same plan run from another directory finds the same journal.
std::string resolveJournal(const Migration& m, const fs::path& plan_dir) {
  std::string journal = m.journal.empty() ? ".dbsplit/" + m.name + ".db" : m.journal;
  if (journal.rfind("~/", 0) == 0) {
    if (const char* home = std::getenv("HOME"); home && *home) {
      journal = std::string(home) + journal.substr(1);
    }
  }
  fs::path path(journal);
  if (path.is_relative()) path = plan_dir / path;
  return path.lexically_normal().string();
}

Error unreadable(const std::string& path, const std::string& reason) {
  return Error::usage("plan_unreadable", fmt::format("cannot read plan {}: {}", path, reason),
                      "pass --plan FILE or create ./dbsplit.toml");
}

}  // namespace

std::string SourcePos::str() const { return fmt::format("{}:{}:{}", file, line, column); }

const Service* Plan::findService(const std::string& name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<std::string> Plan::publishingServices() const {
  std::vector<std::string> out;
  for (const Service& s : services) {
    bool publishes = std::any_of(events.begin(), events.end(), [&](const Event& e) {
      const Table* t = findTable(e.table);
      return t && t->owner == s.name;
    });
    if (publishes) out.push_back(s.name);
  }
  return out;
}

QualifiedName outboxOf(const std::string& service) { return {service, "outbox"}; }

std::string primaryKeyNameOf(const std::string& name) {
  // makeObjectName(): the table name is clipped so that "_pkey" fits in
  // NAMEDATALEN - 1 = 63 bytes, never inside a UTF-8 sequence.
  constexpr size_t kRoom = 63 - 5;
  std::string base = name;
  if (base.size() > kRoom) {
    size_t cut = kRoom;
    while (cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0) == 0x80) --cut;
    base.resize(cut);
  }
  return base + "_pkey";
}

const Table* Plan::findTable(const QualifiedName& name) const {
  for (const auto& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const Event* Plan::findEvent(const QualifiedName& table) const {
  for (const auto& e : events) {
    if (e.table == table) return &e;
  }
  return nullptr;
}

std::vector<const SharedObject*> Plan::decisionsFor(const std::string& kind,
                                                    const QualifiedName& name) const {
  std::vector<const SharedObject*> out;
  for (const auto& o : shared) {
    if (o.kind == kind && o.name == name) out.push_back(&o);
  }
  return out;
}

const Service* Plan::serviceOfRole(const std::string& role) const {
  for (const auto& s : services) {
    for (const auto& r : s.roles) {
      if (r == role) return &s;
    }
  }
  return nullptr;
}

Plan parsePlan(const std::string& text, const std::string& path) {
  Problems problems;
  toml::table root;
  try {
    root = toml::parse(std::string_view(text), std::string_view(path));
  } catch (const toml::parse_error& e) {
    problems.add(toPos(e.source(), path), fmt::format("TOML syntax error: {}", e.description()));
    throwIfAny(problems, path);
  }

  Plan plan;
  plan.file = absolutePath(path).string();
  PlanPositions positions;
  ReadContext ctx{path, &problems};
  readPlan(root, ctx, &plan, &positions);
  validateOwnership(plan, positions, &problems);
  validateEvents(plan, positions, &problems);
  validateGeneratedNames(plan, positions, &problems);
  validateShared(plan, positions, &problems);
  throwIfAny(problems, path);

  plan.migration.journal = resolveJournal(plan.migration, fs::path(plan.file).parent_path());
  return plan;
}

Plan loadPlan(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw unreadable(path, "it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw unreadable(path, std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw unreadable(path, std::strerror(errno));
  return parsePlan(text.str(), path);
}

}  // namespace dbsplit::plan
