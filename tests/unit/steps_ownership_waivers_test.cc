// What a [[waiver]] gives back, from the catalogue's example statements:
// which operations a statement performs on the waived table, and the grants
// that follow (UPDATE on the seen columns or the waiver's own, INSERT and
// DELETE only when seen).
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "plan/plan.h"
#include "steps/ownership/waivers.h"

using namespace dbsplit;
using namespace dbsplit::steps::ownership;
using nlohmann::json;

namespace {

using Ops = std::set<std::string>;

journal::SnapshotRecord snapshotOf(const json& accesses) {
  return {7, "2026-06-01T10:00:00.000Z", "", json{{"accesses", accesses}}.dump()};
}

json write(const std::string& statement, const std::vector<std::string>& columns,
           const json& via = nullptr, const std::string& service = "rentals") {
  return {{"service", service}, {"role", "rentals_app"}, {"table", "public.customer"},
          {"kind", "write"},    {"columns", columns},    {"calls", 3},
          {"via", via},         {"fingerprint", "f"},    {"statement", statement}};
}

plan::Waiver waiver(const std::vector<std::string>& columns = {}) {
  plan::Waiver w;
  w.service = "rentals";
  w.table = {"public", "customer"};
  w.reason = "r";
  w.columns = columns;
  return w;
}

}  // namespace

TEST_CASE("the operations a statement performs on a table named in it", "[ownership]") {
  CHECK(operationsOn("UPDATE customer SET last_update = $1 WHERE id = $2", "customer") ==
        Ops{"UPDATE"});
  CHECK(operationsOn("INSERT INTO public.customer (id) VALUES ($1)", "customer") == Ops{"INSERT"});
  CHECK(operationsOn("INSERT INTO customer (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET "
                     "email = excluded.email",
                     "customer") == Ops{"INSERT", "UPDATE"});
  CHECK(operationsOn("DELETE FROM customer WHERE id = $1", "customer") == Ops{"DELETE"});
  CHECK(operationsOn("TRUNCATE other, customer", "customer") == Ops{"TRUNCATE"});
  CHECK(operationsOn("WITH x AS (DELETE FROM customer RETURNING id) SELECT * FROM x", "customer") ==
        Ops{"DELETE"});
  CHECK(operationsOn("SELECT * FROM customer WHERE id = $1 FOR UPDATE", "customer") ==
        Ops{"UPDATE"});
  // Another table, a read, or text that does not parse: nothing.
  CHECK(operationsOn("UPDATE rental SET x = 1", "customer").empty());
  CHECK(operationsOn("SELECT * FROM customer", "customer").empty());
  CHECK(operationsOn("UPDTE customer", "customer").empty());
}

TEST_CASE("a waiver gives back the UPDATE columns seen and INSERT and DELETE only when seen",
          "[ownership]") {
  auto snap = snapshotOf(
      json::array({write("UPDATE customer SET last_update = now() WHERE id = $1", {"last_update"}),
                   write("UPDATE public.customer SET active = $1", {"active"}),
                   write("DELETE FROM customer WHERE id = $1", {}, nullptr, "payments")}));
  WaivedWrite w = waivedWrite(waiver(), &snap);
  CHECK(w.privileges.empty());  // the DELETE was another service's
  CHECK(w.update_columns == std::vector<std::string>{"active", "last_update"});
  CHECK_FALSE(w.update_all);
  CHECK_FALSE(w.unanalysed);
  CHECK(w.evidence.find("UPDATE (active, last_update) seen in catalogue snapshot #7") !=
        std::string::npos);

  auto more = snapshotOf(json::array({write("INSERT INTO customer (id) VALUES ($1)", {"id"}),
                                      write("DELETE FROM customer WHERE id = $1", {})}));
  WaivedWrite m = waivedWrite(waiver(), &more);
  CHECK(m.privileges == std::vector<std::string>{"INSERT", "DELETE"});
  CHECK(m.update_columns.empty());
}

TEST_CASE("a waiver's own columns replace the columns seen", "[ownership]") {
  auto snap = snapshotOf(json::array({write("UPDATE customer SET email = $1", {"email"})}));
  WaivedWrite w = waivedWrite(waiver({"last_update"}), &snap);
  CHECK(w.update_columns == std::vector<std::string>{"last_update"});
  CHECK(w.privileges.empty());
  // Without any snapshot only the listed columns are given back.
  WaivedWrite none = waivedWrite(waiver({"last_update"}), nullptr);
  CHECK(none.update_columns == std::vector<std::string>{"last_update"});
  CHECK(waivedWrite(waiver(), nullptr).update_columns.empty());
}

TEST_CASE("a write through a function cannot be narrowed and keeps what was held", "[ownership]") {
  auto snap = snapshotOf(
      json::array({write("SELECT touch_customer($1)", {"last_update"}, "function public.touch")}));
  WaivedWrite w = waivedWrite(waiver(), &snap);
  CHECK(w.unanalysed);
  CHECK(w.evidence.find("not analysable") != std::string::npos);
}
