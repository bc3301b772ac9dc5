// Reads [step.<name>] settings. The step names are listed here rather than
// taken from the step registry because src/steps depends on src/plan, not the
// other way round; a new step adds its name (and settings) here.
#include <algorithm>

#include "fmt/format.h"
#include "plan/read_plan.h"
#include "util/error.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::plan {
namespace {

const std::vector<std::string> kSteps = {"catalogue", "ownership", "outbox",  "projections",
                                         "revoke",    "split",     "selftest"};
const std::vector<std::string> kSelftestKinds = {"schema", "comment", "column",
                                                 "index",  "remote",  "mover"};

// Source syntax (kind prefix, non-empty path); src/catalogue reads them.
void readCatalogue(EntryReader& reader, CatalogueSettings* s) {
  reader.checkKeys({"sources"});
  auto sources = reader.strings("sources", false);
  if (!sources) return;
  for (size_t i = 0; i < sources->size(); ++i) {
    const std::string& src = (*sources)[i];
    bool ok = src == "pg_stat_statements" ||
              ((src.rfind("log:", 0) == 0 || src.rfind("sql:", 0) == 0) && src.size() > 4);
    if (!ok) {
      reader.itemProblem("sources", i,
                         fmt::format("\"{}\" is not a source: write \"pg_stat_statements\", "
                                     "\"log:PATH[@service]\" or \"sql:PATH[@service]\"",
                                     src),
                         util::closestMatch(src, {"pg_stat_statements"}));
      continue;
    }
    s->sources.push_back(src);
    s->source_pos.push_back(reader.positions().item("sources", i));
  }
}

void readRevoke(EntryReader& reader, RevokeSettings* s) {
  reader.checkKeys({"deprecation_window", "require_compare", "mode", "acknowledge_idle_window"});
  if (auto window = reader.string("deprecation_window", false)) {
    try {
      util::parseDurationMillis(*window, "deprecation_window");
      s->deprecation_window = *window;
    } catch (const Error&) {
      reader.problem("deprecation_window",
                     fmt::format("\"{}\" is not a duration (write a whole number and a unit: "
                                 "500ms, 30s, 15m, 12h or 7d)",
                                 *window));
    }
  }
  if (auto require = reader.boolean("require_compare")) s->require_compare = *require;
  if (auto ack = reader.boolean("acknowledge_idle_window")) s->acknowledge_idle_window = *ack;
  if (auto mode = reader.string("mode", false)) {
    if (checkEnum(reader, "mode", *mode, {"enforce", "observe"})) s->mode = *mode;
  }
}

void readSplit(EntryReader& reader, SplitSettings* s) {
  reader.checkKeys({"mode", "allow_unqualified", "on_cutover", "pgbouncer"});
  if (auto mode = reader.string("mode", false)) {
    if (checkEnum(reader, "mode", *mode, {"schema", "database"})) s->mode = *mode;
  }
  if (auto allow = reader.boolean("allow_unqualified")) s->allow_unqualified = *allow;
  if (auto on_cutover = reader.string("on_cutover", false)) s->on_cutover = *on_cutover;
  if (auto pgbouncer = reader.string("pgbouncer", false)) s->pgbouncer = *pgbouncer;
}

void readSelftest(EntryReader& reader, SelftestSettings* s) {
  reader.checkKeys({"kinds"});
  auto kinds = reader.strings("kinds", false);
  if (!kinds) return;
  for (size_t i = 0; i < kinds->size(); ++i) {
    const std::string& kind = (*kinds)[i];
    if (std::find(kSelftestKinds.begin(), kSelftestKinds.end(), kind) == kSelftestKinds.end()) {
      reader.itemProblem(
          "kinds", i,
          fmt::format("\"{}\" is not one of {}", kind, util::join(kSelftestKinds, ", ")),
          util::closestMatch(kind, kSelftestKinds));
    } else {
      s->kinds.push_back(kind);
    }
  }
}

}  // namespace

void readSteps(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos) {
  const toml::node* node = root.get("step");
  if (!node) return;
  const toml::table* steps = node->as_table();
  if (!steps) {
    ctx.problems->add(toPos(node->source(), ctx.file),
                      fmt::format("step: expected a table ([step.<name>]), found {}",
                                  describeType(node->type())));
    return;
  }
  for (auto&& [key, value] : *steps) {
    std::string name(key.str());
    if (std::find(kSteps.begin(), kSteps.end(), name) == kSteps.end()) {
      ctx.problems->add(
          toPos(key.source(), ctx.file),
          fmt::format("unknown key \"{}\" in [step]: there is no step \"{}\"", name, name),
          util::closestMatch(name, kSteps));
      continue;
    }
    const toml::table* table = value.as_table();
    if (!table) {
      ctx.problems->add(toPos(value.source(), ctx.file),
                        fmt::format("step.{}: expected a table ([step.{}]), found {}", name, name,
                                    describeType(value.type())));
      continue;
    }
    std::string label = "[step." + name + "]";
    EntryPositions scratch;
    EntryPositions* p = name == "catalogue"  ? &pos->catalogue
                        : name == "revoke"   ? &pos->revoke
                        : name == "split"    ? &pos->split
                        : name == "selftest" ? &pos->selftest
                                             : &scratch;
    EntryReader reader(*table, label, ctx.file, ctx.problems, p);
    if (name == "catalogue") {
      readCatalogue(reader, &plan->catalogue);
    } else if (name == "revoke") {
      readRevoke(reader, &plan->revoke);
    } else if (name == "split") {
      readSplit(reader, &plan->split);
    } else if (name == "selftest") {
      readSelftest(reader, &plan->selftest);
    } else {
      reader.checkKeys({});  // ownership .. projections take no settings yet
    }
  }
}

}  // namespace dbsplit::plan
