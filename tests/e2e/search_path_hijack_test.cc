// A role that can create objects in `public` plants functions that shadow
// pg_catalog's for an unqualified call with an exact argument type (the
// CVE-2018-1058 pattern: public.unnest(int2[]) beats pg_catalog.unnest(anyarray)).
// dbsplit's sessions pin search_path to pg_catalog, pg_temp, so none of them
// is ever called while dbsplit runs its steps, the relay and compare.
#include <string>

#include "catch2/catch.hpp"
#include "sql/quote.h"
#include "support/projections_fixture.h"

using namespace dbsplit::test;

namespace {

// Each planted function logs who called it, then does what the real one does.
std::string plant(const std::string& signature, const std::string& returns,
                  const std::string& body) {
  return "CREATE FUNCTION public." + signature + " RETURNS " + returns +
         " LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO public.hijack_log VALUES (current_user, '" +
         signature + "'); " + body + " END $f$;\n";
}

}  // namespace

TEST_CASE("functions a hostile role plants in public are never called by dbsplit",
          "[security][pg][slow]") {
  ProjectionsScenario s;
  TestDb& db = s.db();
  const std::string mallory = db.name() + "_mallory";
  db.dropsRole(mallory);
  db.exec(
      "CREATE TABLE public.hijack_log (who text, what text);"
      "GRANT INSERT ON public.hijack_log TO PUBLIC;"
      "CREATE ROLE " +
      dbsplit::sql::quoteIdent(mallory) +
      ";"
      "GRANT CREATE ON SCHEMA public TO " +
      dbsplit::sql::quoteIdent(mallory) +
      ";"
      "SET ROLE " +
      dbsplit::sql::quoteIdent(mallory) + ";" +
      plant("unnest(int2[])", "SETOF int2", "RETURN QUERY SELECT pg_catalog.unnest($1);") +
      plant("unnest(text[])", "SETOF text", "RETURN QUERY SELECT pg_catalog.unnest($1);") +
      plant("unnest(oid[])", "SETOF oid", "RETURN QUERY SELECT pg_catalog.unnest($1);") +
      plant("unnest(name[])", "SETOF name", "RETURN QUERY SELECT pg_catalog.unnest($1);") +
      plant("array_length(text[], integer)", "integer", "RETURN pg_catalog.array_length($1, $2);") +
      plant("concat(text, text)", "text", "RETURN $1 || $2;") + "RESET ROLE;");

  s.advanceToProjections();
  CliResult run = s.cli({"run", "projections", "--yes"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);

  // The relay fills the projection through jsonb_populate_record on its row
  // type: plant the exact-type variant now that the type exists.
  // (A neighbour that may use the consumer's schema, so it can name the type.)
  db.exec("GRANT USAGE ON SCHEMA " + dbsplit::sql::quoteIdent(s.ship()) + " TO " +
          dbsplit::sql::quoteIdent(mallory) +
          ";"
          "SET ROLE " +
          dbsplit::sql::quoteIdent(mallory) + ";" +
          plant("jsonb_populate_record(" + s.projection() + ", jsonb)", s.projection(),
                "RETURN pg_catalog.jsonb_populate_record($1, $2);") +
          "RESET ROLE;");
  db.exec("UPDATE public.orders SET status = 'hijack?' WHERE id <= 5");
  CliResult relay = s.cli({"relay", "--once"});
  INFO(relay.out << relay.err);
  CHECK(relay.exit_code == 0);
  CliResult compare = s.cli({"compare"});
  INFO(compare.out << compare.err);
  CHECK(compare.exit_code == 0);
  CliResult status = s.cli({"status"});
  CHECK(status.exit_code == 0);
  // (A function on the projection's row type would hold its table back.)
  db.exec("DROP FUNCTION public.jsonb_populate_record(" + s.projection() +
          ", jsonb);"
          "REVOKE USAGE ON SCHEMA " +
          dbsplit::sql::quoteIdent(s.ship()) + " FROM " + dbsplit::sql::quoteIdent(mallory));
  CliResult rollback = s.cli({"rollback", "projections", "--yes"});
  INFO(rollback.out << rollback.err);
  CHECK(rollback.exit_code == 0);

  CHECK(db.scalar("SELECT coalesce(string_agg(who || ' called ' || what, '; '), '') "
                  "FROM public.hijack_log") == "");
}
