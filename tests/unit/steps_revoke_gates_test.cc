// The revoke step's gate rules and SQL builders, without a database: which
// compare results open the gate, how the deprecation window is judged from
// catalogue snapshots, and which grantees lose what.
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "plan/plan.h"
#include "steps/revoke/gates.h"
#include "steps/revoke/sql.h"

using namespace dbsplit;
using namespace dbsplit::steps::revoke;
using nlohmann::json;

namespace {

plan::Plan twoServices(const std::string& revoke = "") {
  return plan::parsePlan(R"(
[migration]
name = "t"

[[service]]
name = "orders"
roles = ["orders_app"]

[[service]]
name = "ful"
roles = ["ful_app"]

[[table]]
name = "public.orders"
owner = "orders"

[[event]]
table = "public.orders"
aggregate_type = "order"

[[projection]]
consumer = "ful"
source = "public.orders"
name = "order_view"
columns = ["id"]
key = ["id"]

[step.revoke]
)" + revoke,
                         "/tmp/plan.toml");
}

journal::SnapshotRecord record(std::int64_t id, const std::string& at, const json& body) {
  return {id, at, "", body.dump()};
}

// `own_calls`: the consumer's reads of its own projection (its activity).
json catalogueBody(std::int64_t calls, std::int64_t own_calls = 0) {
  json accesses = json::array();
  if (own_calls > 0) {
    accesses.push_back({{"service", "ful"},
                        {"role", "ful_app"},
                        {"table", "ful.order_view"},
                        {"kind", "read"},
                        {"columns", {"id"}},
                        {"calls", own_calls},
                        {"via", nullptr},
                        {"fingerprint", "own"},
                        {"statement", "SELECT id FROM order_view"}});
  }
  if (calls > 0) {
    accesses.push_back({{"service", "ful"},
                        {"role", "ful_app"},
                        {"table", "public.orders"},
                        {"kind", "read"},
                        {"columns", {"id"}},
                        {"calls", calls},
                        {"via", nullptr},
                        {"fingerprint", "abc123"},
                        {"statement", "SELECT id FROM orders"}});
  }
  return {{"taken_at", ""}, {"accesses", accesses}};
}

const std::map<std::string, std::string> kOwners = {{"public.orders", "orders"}};
const std::map<std::string, std::string> kRoots = {{"public.orders", "public.orders"}};

}  // namespace

TEST_CASE("compare gate: the latest compare per consumer must be clean and after the relay start",
          "[revoke]") {
  plan::Plan plan = twoServices();
  auto cmp = [](std::int64_t id, bool clean) {
    return record(id, "2026-01-01T00:00:0" + std::to_string(id) + ".000Z",
                  {{"consumer", "ful"},
                   {"clean", clean},
                   {"tables",
                    {{{"projection", "ful.order_view"},
                      {"source", "public.orders"},
                      {"missing", clean ? 0 : 2},
                      {"extra", 0},
                      {"different", clean ? 0 : 1}}}}});
  };
  auto relay = [](std::int64_t id) {
    return record(id, "2026-01-01T00:00:0" + std::to_string(id) + ".000Z",
                  {{"consumer", "ful"}, {"snapshot", "1:1:"}});
  };
  CHECK_FALSE(compareGate(plan, {}, kRoots, {}, {}).passed);
  auto dirty = compareGate(plan, {}, kRoots, {cmp(2, false)}, {relay(1)});
  CHECK_FALSE(dirty.passed);
  CHECK(dirty.evidence.find("2 missing, 0 extra, 1 different") != std::string::npos);
  CHECK(compareGate(plan, {}, kRoots, {cmp(1, false), cmp(3, true)}, {relay(2)}).passed);
  auto stale = compareGate(plan, {}, kRoots, {cmp(2, true)}, {relay(3)});
  CHECK_FALSE(stale.passed);
  CHECK(stale.evidence.find("older than the relay's restart #3") != std::string::npos);
  // Another consumer's records do not count.
  json other = {{"consumer", "someone"}, {"clean", true}};
  CHECK_FALSE(compareGate(plan, {}, kRoots, {record(5, "x", other)}, {}).passed);
  CHECK(compareGate(twoServices("require_compare = false"), {}, kRoots, {}, {}).passed);
}

TEST_CASE("compare gate: a read without a projection names the consumer and the table",
          "[revoke]") {
  plan::Plan plan = twoServices();
  CrossAccess read{"ful", "ful_app", "public.items", "orders", "f", "SELECT", "", "read", 3};
  auto g = compareGate(plan, {read}, {{"public.items", "public.items"}}, {}, {});
  CHECK_FALSE(g.passed);
  CHECK(g.evidence.find("ful reads public.items but has no [[projection]]") != std::string::npos);
}

TEST_CASE("window gate: judged against the newest snapshot older than the window", "[revoke]") {
  plan::Plan plan = twoServices("deprecation_window = \"1h\"");
  const std::int64_t now = parseIsoMillis("2026-06-01T12:00:00.000Z");
  REQUIRE(now > 0);
  std::vector<journal::SnapshotRecord> snaps = {
      record(1, "2026-06-01T10:00:00.000Z", catalogueBody(5)),
      record(2, "2026-06-01T10:30:00.000Z", catalogueBody(7)),
      record(3, "2026-06-01T11:30:00.000Z", catalogueBody(9))};
  auto quiet = catalogue::Snapshot::fromJson(catalogueBody(7, 4));  // reads its own table
  auto busy = catalogue::Snapshot::fromJson(catalogueBody(10));
  CHECK(windowGate(plan, {"ful"}, kOwners, snaps, &quiet, "", now).passed);
  auto g = windowGate(plan, {"ful"}, kOwners, snaps, &busy, "", now);
  CHECK_FALSE(g.passed);
  CHECK(g.evidence.find("fingerprint abc123, 3 call(s) in the window") != std::string::npos);
  CHECK(g.evidence.find("last seen after 2026-06-01T11:30:00.000Z") != std::string::npos);
  auto reset = catalogue::Snapshot::fromJson(catalogueBody(1));
  CHECK_FALSE(windowGate(plan, {"ful"}, kOwners, snaps, &reset, "", now).passed);
  // Too young: says how long is left.
  auto young = windowGate(plan, {"ful"}, kOwners, {snaps[2]}, &quiet, "", now);
  CHECK_FALSE(young.passed);
  CHECK(young.evidence.find("30m 0s left") != std::string::npos);
  // Nobody to prove anything about.
  CHECK(windowGate(plan, {}, kOwners, {}, nullptr, "", now).passed);
  CHECK_FALSE(windowGate(plan, {"ful"}, kOwners, {}, &quiet, "", now).passed);
}

TEST_CASE(
    "window gate: consumers that ran no statement at all block until the plan acknowledges the "
    "idle window",
    "[revoke]") {
  const std::int64_t now = parseIsoMillis("2026-06-01T12:00:00.000Z");
  std::vector<journal::SnapshotRecord> snaps = {
      record(1, "2026-06-01T10:00:00.000Z", catalogueBody(7, 3))};
  auto idle = catalogue::Snapshot::fromJson(catalogueBody(7, 3));  // nothing moved at all
  auto active = catalogue::Snapshot::fromJson(catalogueBody(7, 5));
  plan::Plan plain = twoServices("deprecation_window = \"1h\"");
  auto blocked = windowGate(plain, {"ful"}, kOwners, snaps, &idle, "", now);
  CHECK_FALSE(blocked.passed);
  CHECK(blocked.evidence.find("ful ran no statement at all in the window") != std::string::npos);
  CHECK(blocked.evidence.find("silence proves nothing") != std::string::npos);
  CHECK(blocked.evidence.find("acknowledge_idle_window = true") != std::string::npos);
  // Activity on its own table is what proves the sources see the consumer.
  auto seen = windowGate(plain, {"ful"}, kOwners, snaps, &active, "", now);
  CHECK(seen.passed);
  CHECK(seen.evidence.find("ran no statement") == std::string::npos);
  plan::Plan acked = twoServices("deprecation_window = \"1h\"\nacknowledge_idle_window = true");
  REQUIRE(acked.revoke.acknowledge_idle_window);
  auto passed = windowGate(acked, {"ful"}, kOwners, snaps, &idle, "", now);
  CHECK(passed.passed);
  CHECK(passed.evidence.find("ful ran no statement at all in the window") != std::string::npos);
  CHECK(passed.evidence.find("accepted: acknowledge_idle_window = true") != std::string::npos);
  // Acknowledging an idle window never excuses a read inside it.
  auto busy = catalogue::Snapshot::fromJson(catalogueBody(9, 3));
  CHECK_FALSE(windowGate(acked, {"ful"}, kOwners, snaps, &busy, "", now).passed);
  // The key is part of the plan's canonical form only when set.
  CHECK(plain.canonical()["steps"]["revoke"].count("acknowledge_idle_window") == 0);
  CHECK(acked.canonical()["steps"]["revoke"]["acknowledge_idle_window"] == true);
}

TEST_CASE(
    "a write a waiver accepted in step 2 is judged by the window (revoke takes it too), not by "
    "compare",
    "[revoke]") {
  plan::Plan plan = twoServices(
      "deprecation_window = \"1h\"\n\n[[waiver]]\nservice = \"ful\"\ntable = "
      "\"public.orders\"\nreason = \"status write-back\"\n");
  REQUIRE(plan.waivers.size() == 1);
  auto writes = [](std::int64_t calls, std::int64_t own_calls = 0) {
    json body = catalogueBody(calls, own_calls);
    body["accesses"][own_calls > 0 ? 1 : 0]["kind"] = "write";
    body["accesses"][own_calls > 0 ? 1 : 0]["statement"] = "UPDATE orders SET status = $1";
    return body;
  };
  const std::int64_t now = parseIsoMillis("2026-06-01T12:00:00.000Z");
  std::vector<journal::SnapshotRecord> snaps = {record(1, "2026-06-01T10:00:00.000Z", writes(5))};
  auto still = catalogue::Snapshot::fromJson(writes(8));
  auto g = windowGate(plan, {"ful"}, kOwners, snaps, &still, "", now);
  CHECK_FALSE(g.passed);
  CHECK(g.evidence.find("ful (ful_app) writes public.orders of orders") != std::string::npos);
  CHECK(g.evidence.find("3 call(s) in the window") != std::string::npos);
  CHECK(g.evidence.find("waived in step 2: \"status write-back\"; this step revokes waived "
                        "writes too: stop the write first") != std::string::npos);
  auto stopped = catalogue::Snapshot::fromJson(writes(5, 2));  // it still reads its own
  CHECK(windowGate(plan, {"ful"}, kOwners, snaps, &stopped, "", now).passed);
  // An unwaived write gets no such note.
  auto unwaived = windowGate(twoServices("deprecation_window = \"1h\""), {"ful"}, kOwners, snaps,
                             &still, "", now);
  CHECK_FALSE(unwaived.passed);
  CHECK(unwaived.evidence.find("waived") == std::string::npos);
  // A write needs no projection: compare does not ask for one.
  CrossAccess write{"ful", "ful_app", "public.items", "orders", "f", "UPDATE", "", "write", 3};
  auto cmp = compareGate(plan, {write}, {{"public.items", "public.items"}}, {}, {});
  CHECK(cmp.evidence.find("public.items") == std::string::npos);
}

TEST_CASE(
    "window gate: an UPDATE that reads and writes the table counts its calls once and is called "
    "a write",
    "[revoke]") {
  plan::Plan plan = twoServices("deprecation_window = \"1h\"");
  // One statement, two accesses (its WHERE reads, its SET writes), same calls.
  auto update = [](std::int64_t calls) {
    json body = catalogueBody(calls);
    json write = body["accesses"][0];
    write["kind"] = "write";
    body["accesses"].push_back(write);
    for (auto& a : body["accesses"]) a["statement"] = "UPDATE orders SET status = $1 WHERE id = $2";
    return body;
  };
  const std::int64_t now = parseIsoMillis("2026-06-01T12:00:00.000Z");
  std::vector<journal::SnapshotRecord> snaps = {record(1, "2026-06-01T10:00:00.000Z", update(5))};
  auto once_more = catalogue::Snapshot::fromJson(update(6));
  auto g = windowGate(plan, {"ful"}, kOwners, snaps, &once_more, "", now);
  CHECK_FALSE(g.passed);
  CHECK_THAT(g.evidence, Catch::Contains("1 statement(s) read or wrote tables"));
  CHECK_THAT(g.evidence, Catch::Contains("ful (ful_app) writes public.orders of orders"));
  CHECK_THAT(g.evidence, Catch::Contains("1 call(s) in the window"));
  CHECK_THAT(g.evidence, Catch::Contains("writes to the owner's API"));
  // Reads alone are called reads.
  auto reads = catalogue::Snapshot::fromJson(catalogueBody(9));
  auto r = windowGate(plan, {"ful"}, kOwners,
                      {record(1, "2026-06-01T10:00:00.000Z", catalogueBody(5))}, &reads, "", now);
  CHECK_THAT(r.evidence, Catch::Contains("1 statement(s) read tables"));
}

TEST_CASE("observe gate lists today's cross-service statements and never passes", "[revoke]") {
  CrossAccess read{"ful", "ful_app", "public.orders", "orders", "f1", "SELECT 1", "", "read", 4};
  auto g = observeGate({read}, "today");
  CHECK_FALSE(g.passed);
  CHECK(g.evidence.find("ful (ful_app) reads public.orders of orders: fingerprint f1, 4 call(s)") !=
        std::string::npos);
  CHECK_FALSE(observeGate({}, "today").passed);
}

TEST_CASE(
    "revoke SQL: other grantors first, then the owner with CASCADE, and a NULL relacl keeps "
    "column form",
    "[revoke]") {
  dbsplit::relations::RelationState r;
  r.schema = "public";
  r.name = "Ta\"ble";
  r.owner = "orders";
  r.acl.table_null = false;
  r.acl.table = {{"orders", "orders", {"SELECT"}, {}},
                 {"grantor", "orders", {"SELECT"}, {"SELECT"}},
                 {"ful_app", "grantor", {"SELECT"}, {}},
                 {"", "orders", {"SELECT"}, {}}};
  r.acl.columns = {{"total", {{{"ful_app", "orders", {"UPDATE"}, {}}}}}};
  auto sql = revokeRelation(r, {"ful_app", ""});
  REQUIRE(sql.size() == 2);
  CHECK(sql[0].find("SET ROLE \"grantor\"") == 0);
  CHECK(sql[0].find("FROM \"ful_app\"") != std::string::npos);
  CHECK(sql[1].find(
            "REVOKE ALL\n  ON TABLE \"public\".\"Ta\"\"ble\"\n  FROM PUBLIC, \"ful_app\"") == 0);
  r.acl.table_null = true;
  r.acl.table.clear();
  auto cols = revokeRelation(r, {"ful_app"});
  REQUIRE(cols.size() == 1);
  CHECK(cols[0].find("REVOKE ALL (\"total\")") == 0);
  CHECK(revokeRelation(r, {"someone"}).empty());
}

TEST_CASE("who loses access: PUBLIC and other services' roles, never roles of no service",
          "[revoke]") {
  ServiceRoles roles(twoServices());
  CHECK(roles.loses("", {"orders"}));
  CHECK(roles.loses("ful_app", {"orders"}));
  CHECK(roles.loses("ful", {"orders"}));
  CHECK_FALSE(roles.loses("orders_app", {"orders"}));
  CHECK_FALSE(roles.loses("reporter", {"orders"}));
  CHECK(roles.loses("orders_app", {}));
}

TEST_CASE("relations with the same ACL share each statement of the action", "[revoke]") {
  plan::Plan plan = twoServices();
  Objects objects;
  for (const char* name : {"a", "b\"x"}) {
    dbsplit::relations::RelationState r;
    r.schema = "public";
    r.name = name;
    r.owner = "orders";
    r.acl.table_null = false;
    r.acl.table = {{"orders", "orders", {"SELECT", "INSERT"}, {}},
                   {"ful_app", "orders", {"SELECT"}, {}}};
    objects.relations.push_back({r, "table", "orders", {"orders"}, {}});
  }
  auto revocations = planRevocations(plan, objects);
  REQUIRE(revocations.size() == 1);
  const Revocation& rv = revocations[0];
  CHECK(rv.service == "orders");
  CHECK(rv.consumers == std::set<std::string>{"ful"});
  CHECK(rv.relations.size() == 2);
  REQUIRE(rv.forward.size() == 1);
  CHECK(rv.forward[0].find("ON TABLE \"public\".\"a\",\n           \"public\".\"b\"\"x\"") !=
        std::string::npos);
  REQUIRE(rv.inverse.size() == 3);  // revoke all, the owner's item, the consumer's item
  for (const auto& stmt : rv.inverse) {
    CHECK(stmt.find("\"public\".\"b\"\"x\"") != std::string::npos);
    CHECK(stmt.find('\x1f') == std::string::npos);
  }
  engine::Action a = toAction(rv);
  CHECK(a.id == "revoke/owner/orders");
  CHECK(a.destructive);
  CHECK(a.lock.mode == "none");
}
