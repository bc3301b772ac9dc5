// The outbox's trigger function runs with search_path pinned to pg_catalog, so
// a column whose type and `=` come from an extension (hstore, in the
// extension's schema) must be compared without looking the operator up:
// through its text form. Before that, apply and rehearse passed and every
// later UPDATE of the table failed.
#include <memory>

#include "catch2/catch.hpp"
#include "support/outbox_fixture.h"

using namespace dbsplit::test;

namespace {

const char* kTags = R"SQL(
CREATE EXTENSION IF NOT EXISTS hstore SCHEMA public;
CREATE TABLE public.tags (id int PRIMARY KEY, attrs public.hstore, label text);
INSERT INTO public.tags VALUES (1, 'colour=>red', 'first');
)SQL";

const char* kTagsPlan = R"TOML(
[[table]]
name = "public.tags"
owner = "@orders@"

[[event]]
table = "public.tags"
aggregate_type = "tag"
)TOML";

}  // namespace

TEST_CASE("an outbox on a table with an hstore column publishes its updates", "[outbox][pg]") {
  OutboxScenario s({"orders"}, kTags, kTagsPlan);
  s.advanceToOutbox();
  CliResult r = s.cli({"run", "outbox", "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);

  TestDb& db = s.db();
  db.exec("UPDATE public.tags SET attrs = attrs || 'size=>2'::public.hstore WHERE id = 1");
  db.exec("UPDATE public.tags SET label = 'same attrs' WHERE id = 1");
  db.exec("UPDATE public.tags SET label = label WHERE id = 1");  // nothing changed
  db.exec("INSERT INTO public.tags VALUES (2, 'a=>1', 'second')");

  std::vector<OutboxEvent> events = s.events("orders");
  std::string listing;
  for (const auto& e : events)
    listing += e.type + " " + e.aggregateid + " " + e.payload.dump() + "\n";
  INFO(listing);
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == "tag.updated");
  const std::string attrs = events[0].payload["attrs"].dump();
  CHECK(attrs.find("size") != std::string::npos);
  CHECK(attrs.find("colour") != std::string::npos);
  CHECK(events[1].type == "tag.updated");
  CHECK(events[1].payload["label"] == "same attrs");
  CHECK(events[2].type == "tag.created");
  CHECK(events[2].aggregateid == "2");
}
