// The outbox step's planner: one action per object, so that each CREATE
// TRIGGER (SHARE ROW EXCLUSIVE on a live table) runs alone under the engine's
// lock_timeout and retries. Objects that already exist under dbsplit's names
// are left alone (a dry-run after apply plans nothing new).
#include "steps/outbox/outbox.h"

#include <algorithm>

#include "fmt/format.h"
#include "steps/outbox/catalog.h"

namespace dbsplit::steps {
namespace {

class OutboxStep : public engine::Step {
 public:
  OutboxStep()
      : Step("outbox",
             "outbox table per owning service and generated triggers that publish row changes") {}
  nlohmann::json inputs(const plan::Plan& plan) const override;
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
  std::string rollbackDestroys(const std::vector<std::string>&) const override {
    return "the outbox tables and every event in them that no consumer has read yet";
  }
};

}  // namespace
namespace {

bool has(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

engine::Action outboxAction(const std::string& service) {
  engine::Action a;
  std::string display = outbox::outboxName(service).display();
  a.id = "outbox/table/" + display;
  a.description = "create the outbox table " + display + " owned by group " + service;
  a.forward = outbox::createOutboxSql(service);
  a.inverse = outbox::dropOutboxSql(service);
  a.lock = {"ACCESS EXCLUSIVE", display + " (new table; no existing table is locked)"};
  return a;
}

engine::Action functionAction(const outbox::EventSpec& e) {
  engine::Action a;
  a.id = "outbox/function/" + e.table.display();
  a.description = fmt::format("trigger function {} that writes {}'s events",
                              outbox::functionName(e).display(), e.table.display());
  a.forward = outbox::createFunctionSql(e);
  a.inverse = outbox::dropFunctionSql(e);
  a.lock = {"none", ""};
  return a;
}

std::string tableLock(const outbox::EventSpec& e, bool partitioned) {
  return e.table.display() + (partitioned ? " and each of its partitions" : "");
}

engine::Action rowTriggerAction(const outbox::EventSpec& e, bool partitioned) {
  engine::Action a;
  a.id = "outbox/trigger/" + e.table.display();
  a.description = "publish every row change of " + e.table.display() +
                  (partitioned ? " (the trigger covers every partition, present and future)" : "");
  a.forward = outbox::createRowTriggerSql(e);
  a.inverse = outbox::dropRowTriggerSql(e);
  a.lock = {"SHARE ROW EXCLUSIVE", tableLock(e, partitioned)};
  return a;
}

engine::Action truncateTriggerAction(const outbox::EventSpec& e, const outbox::TableFacts& t) {
  engine::Action a;
  a.id = "outbox/truncate/" + e.table.display();
  a.description = e.publish_truncate
                      ? "publish a truncated event when " + e.table.display() + " is truncated"
                      : "refuse TRUNCATE of " + e.table.display() + " (it would publish nothing)";
  if (!t.partitions.empty()) {
    a.description +=
        fmt::format("; refuse TRUNCATE of any of its {} partition(s) alone", t.partitions.size());
  }
  a.forward = outbox::createTruncateTriggerSql(e, t.partitions);
  a.inverse = outbox::dropTruncateTriggerSql(e, t.partitions);
  a.lock = {"SHARE ROW EXCLUSIVE", tableLock(e, t.partitioned)};
  return a;
}

}  // namespace

const engine::Step* outboxStep() {
  static const OutboxStep step;
  return &step;
}

nlohmann::json OutboxStep::inputs(const plan::Plan& plan) const {
  nlohmann::json events = nlohmann::json::array();
  for (const plan::Event& e : plan.events) {
    const plan::Table* t = plan.findTable(e.table);
    events.push_back({{"table", e.table.display()},
                      {"owner", t ? t->owner : ""},
                      {"aggregate_type", e.aggregate_type},
                      {"aggregate_id", e.aggregate_id},
                      {"columns", e.columns},
                      {"exclude", e.exclude},
                      {"operations", e.operations},
                      {"publish_truncate", e.publish_truncate}});
  }
  return {{"events", events}};
}

std::vector<engine::Action> OutboxStep::plan(const engine::PlanContext& ctx) const {
  std::vector<engine::Action> actions;
  for (const auto& [service, events] : outbox::resolveEvents(ctx.plan, ctx.catalog)) {
    outbox::ServiceFacts facts = outbox::readService(ctx.catalog, service);
    if (!facts.outbox_exists) {
      actions.push_back(outboxAction(service));
    } else if (facts.outbox_comment != outbox::outboxComment(service)) {
      throw Error::precondition(
          "outbox_table_taken",
          fmt::format("{} already exists and was not created by dbsplit; nothing changed",
                      outbox::outboxName(service).display()),
          "rename or drop it: dbsplit creates (and on rollback drops) the outbox itself");
    }
    for (const outbox::EventSpec& e : events) {
      std::optional<outbox::TableFacts> t = outbox::readTable(ctx.catalog, e.table);
      if (!outbox::functionExists(ctx.catalog, outbox::functionName(e))) {
        actions.push_back(functionAction(e));
      }
      if (!has(t->triggers, outbox::kRowTrigger)) {
        actions.push_back(rowTriggerAction(e, t->partitioned));
      }
      if (!has(t->triggers, outbox::kTruncateTrigger)) {
        actions.push_back(truncateTriggerAction(e, *t));
      }
    }
  }
  return actions;
}

}  // namespace dbsplit::steps
