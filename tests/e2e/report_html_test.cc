// dbsplit report --html: one self-contained page with the steps, their
// actions and the owned-data table, readable without any network.
#include "catch2/catch.hpp"
#include "support/ownership_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("report --html writes a self-contained page with every step and action", "[report][pg]") {
  OwnershipScenario s;
  s.runCatalogue();
  REQUIRE(s.cli({"run", "ownership", "--yes"}).exit_code == 0);
  TempDir out;
  CliResult r = s.cli({"report", "--html", out.file("report.html")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = readFile(out.file("report.html"));
  INFO(html.substr(0, std::min<size_t>(html.size(), 6000)));
  REQUIRE(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("</html>") != std::string::npos);
  // Self-contained: nothing is fetched.
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find(" src=") == std::string::npos);
  // Balanced tables and sections.
  CHECK(count(html, "<table") == count(html, "</table>"));
  CHECK(count(html, "<details") == count(html, "</details>"));
  // The steps, with the journal's actions.
  CHECK(html.find("id=\"step-catalogue\"") != std::string::npos);
  CHECK(html.find("id=\"step-ownership\"") != std::string::npos);
  CHECK(html.find("ownership/") != std::string::npos);  // an action id
  CHECK(html.find("OWNER TO") != std::string::npos);    // its SQL
  // The owned-data table names both services.
  CHECK(html.find("<b>" + s.owner() + "</b>") != std::string::npos);
  CHECK(html.find("<b>" + s.consumer() + "</b>") != std::string::npos);
  // The coupling section (this fixture's catalogue sees no access; the demo
  // test checks a graph with edges).
  CHECK(html.find("<h3>Before</h3>") != std::string::npos);
}

TEST_CASE("report --html on a migration that never ran says so", "[report][pg]") {
  OwnershipScenario s;
  TempDir out;
  CliResult r = s.cli({"report", "--html", out.file("r.html")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = readFile(out.file("r.html"));
  CHECK(html.find("No step has run yet") != std::string::npos);
  CHECK(html.find("No catalogue snapshot") != std::string::npos);
}

TEST_CASE("report --html escapes the names it prints", "[report][security][pg]") {
  // A name is data: markup in it must show as text, never run in the page.
  Scenario s("CREATE TABLE public.\"<img src=x onerror=alert(1)>\" (id int PRIMARY KEY);",
             {"public.\"<img src=x onerror=alert(1)>\""});
  TempDir out;
  CliResult r = s.cli({"report", "--html", out.file("r.html")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = readFile(out.file("r.html"));
  INFO(html.substr(0, std::min<size_t>(html.size(), 6000)));
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
}
