// Reads the plan's root, [migration], [[service]], [[table]] and [[waiver]]
// entries one at a time; see read_plan.h for how the reading is split.
#include "plan/read_plan.h"

#include <algorithm>

#include "fmt/format.h"
#include "plan/identifier.h"
#include "util/text.h"

namespace dbsplit::plan {
namespace {

const std::vector<std::string> kRootKeys = {
    "migration", "service", "table", "event", "projection", "waiver", "view", "function", "step"};

// Migration and service names end up in file names, application_name and
// schema names, so they are kept to characters that need no quoting anywhere.
bool isPlainName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void checkPlainName(EntryReader& reader, const std::string& name) {
  if (!isPlainName(name)) {
    reader.problem("name", fmt::format("\"{}\" must match [a-z0-9_-]+ (lower-case letters, "
                                       "digits, _ and -)",
                                       name));
  }
}

}  // namespace

void forEachEntry(const toml::table& root, const std::string& key, const ReadContext& ctx,
                  const std::function<void(const toml::table&)>& fn) {
  const toml::node* node = root.get(key);
  if (!node) return;
  const toml::array* array = node->as_array();
  if (!array) {
    ctx.problems->add(toPos(node->source(), ctx.file),
                      fmt::format("{}: expected an array of tables ([[{}]]), found {}", key, key,
                                  describeType(node->type())));
    return;
  }
  for (const toml::node& element : *array) {
    if (const toml::table* table = element.as_table()) {
      fn(*table);
    } else {
      ctx.problems->add(
          toPos(element.source(), ctx.file),
          fmt::format("[[{}]]: expected a table, found {}", key, describeType(element.type())));
    }
  }
}

QualifiedName readQualifiedName(EntryReader& reader, const std::string& key) {
  std::optional<std::string> text = reader.string(key, true);
  if (!text) return {};
  std::string error;
  std::optional<QualifiedName> name = parseQualifiedName(*text, &error);
  if (!name) {
    reader.problem(key, error);
    return {};
  }
  return *name;
}

bool checkEnum(EntryReader& reader, const std::string& key, const std::string& value,
               const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return true;
  reader.problem(key, fmt::format("\"{}\" is not one of {}", value, util::join(allowed, ", ")),
                 util::closestMatch(value, allowed));
  return false;
}

void readPlan(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos) {
  for (auto&& [key, node] : root) {
    std::string name(key.str());
    if (std::find(kRootKeys.begin(), kRootKeys.end(), name) != kRootKeys.end()) continue;
    ctx.problems->add(toPos(key.source(), ctx.file),
                      fmt::format("unknown key \"{}\" at the top of the plan", name),
                      util::closestMatch(name, kRootKeys));
  }
  readMigration(root, ctx, plan, pos);
  readServices(root, ctx, plan, pos);
  readTables(root, ctx, plan, pos);
  readEvents(root, ctx, plan, pos);
  readProjections(root, ctx, plan, pos);
  readWaivers(root, ctx, plan, pos);
  readShared(root, ctx, plan, pos);
  readSteps(root, ctx, plan, pos);
}

void readMigration(const toml::table& root, const ReadContext& ctx, Plan* plan,
                   PlanPositions* pos) {
  const toml::node* node = root.get("migration");
  if (!node) {
    pos->migration.entry = SourcePos{ctx.file, 1, 1};
    ctx.problems->add(pos->migration.entry,
                      "missing required table [migration] (it names the migration)");
    return;
  }
  const toml::table* table = node->as_table();
  if (!table) {
    pos->migration.entry = toPos(node->source(), ctx.file);
    ctx.problems->add(pos->migration.entry,
                      fmt::format("migration: expected a table ([migration]), found {}",
                                  describeType(node->type())));
    return;
  }
  EntryReader reader(*table, "[migration]", ctx.file, ctx.problems, &pos->migration);
  reader.checkKeys({"name", "database", "journal"});
  Migration& m = plan->migration;
  if (auto name = reader.string("name", true)) {
    checkPlainName(reader, *name);
    if (name->size() > kMaxMigrationNameBytes) {
      reader.problem("name", fmt::format("\"{}\" is {} bytes, longer than {}: dbsplit names its "
                                         "sessions dbsplit/<name>/<step> and PostgreSQL clips "
                                         "that at 63 bytes",
                                         *name, name->size(), kMaxMigrationNameBytes));
    }
    m.name = *name;
  }
  if (auto database = reader.string("database", false)) m.database = *database;
  if (auto journal = reader.string("journal", false)) {
    if (journal->empty()) reader.problem("journal", "must not be empty (omit it for the default)");
    m.journal = *journal;
  }
  m.pos = pos->migration.entry;
}

void readServices(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos) {
  forEachEntry(root, "service", ctx, [&](const toml::table& table) {
    EntryPositions& p = pos->services.emplace_back();
    EntryReader reader(table, "[[service]]", ctx.file, ctx.problems, &p);
    reader.checkKeys({"name", "roles", "database", "pgbouncer_pool"});
    Service s;
    if (auto name = reader.string("name", true)) {
      checkPlainName(reader, *name);
      // The name is also the service's schema name (step 6).
      std::string problem = identifierProblem(*name);
      if (!problem.empty()) reader.problem("name", problem);
      s.name = *name;
    }
    if (auto roles = reader.strings("roles", false)) {
      for (size_t i = 0; i < roles->size(); ++i) {
        std::string problem = identifierProblem((*roles)[i]);
        if (!problem.empty()) reader.itemProblem("roles", i, problem);
      }
      s.roles = *roles;
    }
    if (auto database = reader.string("database", false)) s.database = *database;
    if (auto pool = reader.string("pgbouncer_pool", false)) {
      if (pool->empty()) reader.problem("pgbouncer_pool", "must not be empty (omit it)");
      s.pgbouncer_pool = *pool;
    }
    s.pos = p.entry;
    plan->services.push_back(std::move(s));
  });
}

void readTables(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos) {
  forEachEntry(root, "table", ctx, [&](const toml::table& table) {
    EntryPositions& p = pos->tables.emplace_back();
    EntryReader reader(table, "[[table]]", ctx.file, ctx.problems, &p);
    reader.checkKeys({"name", "owner"});
    Table t;
    t.name = readQualifiedName(reader, "name");
    if (auto owner = reader.string("owner", true)) t.owner = *owner;
    t.pos = p.entry;
    plan->tables.push_back(std::move(t));
  });
}

void readWaivers(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos) {
  forEachEntry(root, "waiver", ctx, [&](const toml::table& table) {
    EntryPositions& p = pos->waivers.emplace_back();
    EntryReader reader(table, "[[waiver]]", ctx.file, ctx.problems, &p);
    reader.checkKeys({"service", "table", "reason", "columns"});
    Waiver w;
    if (auto service = reader.string("service", true)) w.service = *service;
    w.table = readQualifiedName(reader, "table");
    if (auto reason = reader.string("reason", true)) {
      // A waiver is an accepted exception; the reason is what makes it reviewable.
      if (reason->find_first_not_of(" \t\r\n") == std::string::npos) {
        reader.problem("reason", "must say why the write is accepted for now");
      }
      w.reason = *reason;
    }
    if (auto columns = reader.strings("columns", false)) {
      for (size_t i = 0; i < columns->size(); ++i) {
        if ((*columns)[i].empty()) {
          reader.itemProblem("columns", i, "a column name cannot be empty");
        } else if (std::find(w.columns.begin(), w.columns.end(), (*columns)[i]) !=
                   w.columns.end()) {
          reader.itemProblem("columns", i,
                             fmt::format("column \"{}\" is listed twice", (*columns)[i]));
        } else {
          w.columns.push_back((*columns)[i]);
        }
      }
      if (columns->empty()) reader.problem("columns", "list at least one column, or leave it out");
    }
    w.pos = p.entry;
    plan->waivers.push_back(std::move(w));
  });
}

}  // namespace dbsplit::plan
