// Reads [[event]] (what an owner publishes, step 3) and [[projection]] (what a
// consumer keeps, step 4). Checks that need only the entry itself live here;
// checks against other entries are in validate_events.cc.
#include <algorithm>

#include "fmt/format.h"
#include "plan/identifier.h"
#include "plan/read_plan.h"
#include "util/text.h"

namespace dbsplit::plan {
namespace {

const std::vector<std::string> kOperations = {"insert", "update", "delete"};

// Column names are written exactly as pg_attribute stores them: no folding and
// no quotes, because a single name needs no dot to separate it from anything.
void checkIdentifiers(EntryReader& reader, const std::string& key,
                      const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    std::string problem = identifierProblem(names[i]);
    if (!problem.empty()) reader.itemProblem(key, i, problem);
  }
}

std::vector<std::string> readColumns(EntryReader& reader, const std::string& key, bool required) {
  std::optional<std::vector<std::string>> columns = reader.strings(key, required);
  if (!columns) return {};
  checkIdentifiers(reader, key, *columns);
  return *columns;
}

}  // namespace

void readEvents(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos) {
  forEachEntry(root, "event", ctx, [&](const toml::table& table) {
    EntryPositions& p = pos->events.emplace_back();
    EntryReader reader(table, "[[event]]", ctx.file, ctx.problems, &p);
    reader.checkKeys({"table", "aggregate_type", "aggregate_id", "columns", "exclude", "operations",
                      "truncate"});
    Event e;
    e.table = readQualifiedName(reader, "table");
    if (auto type = reader.string("aggregate_type", true)) e.aggregate_type = *type;
    if (auto ids = reader.stringOrStrings("aggregate_id", false)) {
      if (reader.isEmptyArray("aggregate_id")) {
        reader.problem("aggregate_id",
                       "must name at least one column (omit it to use the primary key)");
      }
      checkIdentifiers(reader, "aggregate_id", *ids);
      e.aggregate_id = *ids;
    }
    e.columns = readColumns(reader, "columns", false);
    if (reader.isEmptyArray("columns")) {
      reader.problem("columns",
                     "must not be empty (omit it to publish every column but those in exclude)");
    }
    e.exclude = readColumns(reader, "exclude", false);
    e.operations = kOperations;
    if (auto operations = reader.strings("operations", false)) {
      if (reader.isEmptyArray("operations")) {
        reader.problem("operations", "must list at least one of insert, update, delete");
      }
      std::vector<std::string> valid;
      for (size_t i = 0; i < operations->size(); ++i) {
        const std::string& op = (*operations)[i];
        if (std::find(kOperations.begin(), kOperations.end(), op) == kOperations.end()) {
          reader.itemProblem("operations", i,
                             fmt::format("\"{}\" is not one of insert, update, delete", op),
                             util::closestMatch(op, kOperations));
        } else {
          valid.push_back(op);
        }
      }
      e.operations = valid;
    }
    if (auto truncate = reader.string("truncate", false)) {
      if (checkEnum(reader, "truncate", *truncate, {"refuse", "publish"})) {
        e.publish_truncate = *truncate == "publish";
      }
    }
    e.pos = p.entry;
    plan->events.push_back(std::move(e));
  });
}

void readProjections(const toml::table& root, const ReadContext& ctx, Plan* plan,
                     PlanPositions* pos) {
  forEachEntry(root, "projection", ctx, [&](const toml::table& table) {
    EntryPositions& p = pos->projections.emplace_back();
    EntryReader reader(table, "[[projection]]", ctx.file, ctx.problems, &p);
    reader.checkKeys({"consumer", "source", "name", "columns", "key"});
    Projection pr;
    if (auto consumer = reader.string("consumer", true)) pr.consumer = *consumer;
    pr.source = readQualifiedName(reader, "source");
    if (auto name = reader.string("name", true)) {
      std::string problem = identifierProblem(*name);
      if (!problem.empty()) reader.problem("name", problem);
      pr.name = *name;
    }
    pr.columns = readColumns(reader, "columns", true);
    if (reader.isEmptyArray("columns")) {
      reader.problem("columns", "must list at least one column");
    }
    pr.key = readColumns(reader, "key", true);
    if (reader.isEmptyArray("key")) {
      reader.problem("key", "must list at least one column (the projection's primary key)");
    }
    for (size_t i = 0; i < pr.key.size(); ++i) {
      // Skip when columns itself was unreadable: that problem is reported already.
      if (pr.columns.empty()) break;
      if (std::find(pr.columns.begin(), pr.columns.end(), pr.key[i]) == pr.columns.end()) {
        reader.itemProblem("key", i, fmt::format("column \"{}\" is not in columns", pr.key[i]),
                           util::closestMatch(pr.key[i], pr.columns));
      }
    }
    pr.pos = p.entry;
    plan->projections.push_back(std::move(pr));
  });
}

}  // namespace dbsplit::plan
