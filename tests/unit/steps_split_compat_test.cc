// The SQL of schema mode's compatibility views: the move leaves the view in
// the same statement list (one transaction), its inverse tolerates a view
// finalize already dropped, and finalize's retirement recreates it exactly.
#include "catch2/catch.hpp"
#include "steps/split/compat.h"

using namespace dbsplit::steps::split;

namespace {

CompatView hostile() {
  return {{"Sales Dept", "Order \"Items\""}, {"orders svc", "Order \"Items\""}, "Ünïcode Owner"};
}

size_t at(const std::string& text, const std::string& part) {
  size_t p = text.find(part);
  INFO(text);
  REQUIRE(p != std::string::npos);
  return p;
}

}  // namespace

TEST_CASE("the move leaves a view under the old name, owned by the table's owner, after the move",
          "[split]") {
  const std::string sql = moveWithViewSql(hostile());
  const size_t move =
      at(sql, "ALTER TABLE \"Sales Dept\".\"Order \"\"Items\"\"\"\n  SET SCHEMA \"orders svc\";");
  const size_t view = at(sql,
                         "CREATE VIEW \"Sales Dept\".\"Order \"\"Items\"\"\" AS\n"
                         "  SELECT * FROM \"orders svc\".\"Order \"\"Items\"\"\";");
  const size_t owner = at(sql, "OWNER TO \"Ünïcode Owner\";");
  const size_t comment = at(sql, "IS 'dbsplit compatibility view");
  CHECK(move < view);
  CHECK(view < owner);
  CHECK(owner < comment);
}

TEST_CASE("the inverse drops the view only if it is still there, then moves the table back",
          "[split]") {
  const std::string sql = moveBackSql(hostile());
  const size_t drop = at(sql, "DROP VIEW IF EXISTS \"Sales Dept\".\"Order \"\"Items\"\"\";");
  const size_t back = at(sql,
                         "ALTER TABLE \"orders svc\".\"Order \"\"Items\"\"\"\n"
                         "  SET SCHEMA \"Sales Dept\";");
  CHECK(drop < back);
}

TEST_CASE("finalize drops each view, and its inverse creates the same view again", "[split]") {
  std::vector<dbsplit::engine::Action> actions = retireActions({hostile()});
  REQUIRE(actions.size() == 1);
  const auto& a = actions[0];
  CHECK(a.id == "finalize/view/Sales Dept.Order \"Items\"");
  CHECK(a.forward.find("DROP VIEW \"Sales Dept\".\"Order \"\"Items\"\"\";") != std::string::npos);
  CHECK(a.forward.find("IF EXISTS") == std::string::npos);  // a missing view is an error here
  // The view part of the move, exactly.
  const std::string move = moveWithViewSql(hostile());
  CHECK(move.find(a.inverse.substr(0, a.inverse.size() - 1)) != std::string::npos);
  CHECK(!a.destructive);
}
