// dbsplit report --html: one self-contained page with the steps, their
// actions and the owned-data table, readable without any network.
#include <sys/stat.h>

#include <regex>

#include "catch2/catch.hpp"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "support/ownership_fixture.h"
#include "support/scenario.h"
#include "util/process.h"

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

namespace {

std::int64_t fileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

// Headless Chromium (Debian's `chromium`) on `url`: the DOM after layout,
// or a screenshot into `png` when given.
dbsplit::util::ProcessResult chromium(const TempDir& profile, const std::string& url,
                                      const std::string& png = {}) {
  std::vector<std::string> argv = {"timeout",
                                   "120",
                                   "chromium",
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--hide-scrollbars",
                                   "--user-data-dir=" + profile.path(),
                                   "--window-size=1280,2400"};
  argv.push_back(png.empty() ? "--dump-dom" : "--screenshot=" + png);
  argv.push_back(url);
  return dbsplit::util::runProcessStdout(argv);
}

}  // namespace

TEST_CASE(
    "report --html draws the target architecture after the split, readable in headless "
    "Chromium at 15 tables and 14 projections",
    "[report][pg]") {
  TestDb db;
  TempDir dir;
  auto str = [](const std::string& v) { return nlohmann::json(v).dump(); };
  std::vector<std::string> services;
  std::string plan = "[migration]\nname = \"t\"\n\n";
  for (int i = 0; i < 4; ++i) {
    services.push_back("svc" + std::to_string(i));
    plan += "[[service]]\nname = " + str(services.back()) + "\nroles = [" +
            str(db.role("app" + std::to_string(i))) + "]\n\n";
  }
  std::string ddl;
  auto table = [](int i) { return fmt::format("t{:02}", i); };
  for (int i = 1; i <= 15; ++i) {
    ddl += "CREATE TABLE public." + table(i) + " (id int PRIMARY KEY, a text, b text);\n";
    plan +=
        "[[table]]\nname = \"public." + table(i) + "\"\nowner = " + str(services[i % 4]) + "\n\n";
  }
  db.exec(ddl + "GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;");
  for (int i = 1; i <= 14; ++i) {
    plan += "[[event]]\ntable = \"public." + table(i) + "\"\naggregate_type = " + str(table(i)) +
            "\n\n";
    plan += "[[projection]]\nconsumer = " + str(services[(i + 1) % 4]) + "\nsource = \"public." +
            table(i) + "\"\nname = " + str(table(i) + "_view") +
            "\ncolumns = [\"id\", \"a\"]\nkey = [\"id\"]\n\n";
  }
  // svc0 still reads t15 (svc3's) directly: the one red edge.
  dir.write("svc0.sql", "SELECT a FROM public.t15 WHERE id = 1;\n");
  plan += "[step.catalogue]\nsources = [" + str("sql:" + dir.file("svc0.sql") + "@svc0") + "]\n";
  dir.write("dbsplit.toml", plan);

  CliResult r = runCli({"--plan", dir.file("dbsplit.toml"), "--dsn", db.dsn(), "--no-progress",
                        "report", "--html", dir.file("report.html")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = readFile(dir.file("report.html"));
  const size_t after = html.find("<h3>After</h3>");
  REQUIRE(after != std::string::npos);
  const std::string after_html = html.substr(after);
  CHECK(after_html.find("No table access recorded") == std::string::npos);
  CHECK(after_html.find("<svg") != std::string::npos);

  // The page as a browser lays it out: every node and edge of the target.
  TempDir profile;
  auto dom = chromium(profile, "file://" + dir.file("report.html"));
  INFO(dom.errors);
  REQUIRE(dom.exit_code == 0);
  const size_t dom_after = dom.output.find("<h3>After</h3>");
  REQUIRE(dom_after != std::string::npos);
  const std::string g = dom.output.substr(dom_after);
  for (int i = 1; i <= 15; ++i) {
    CHECK(g.find("<title>t:public." + table(i) + "</title>") != std::string::npos);
    // Under its owner's schema after the split.
    CHECK(g.find(">" + services[i % 4] + "." + table(i) + "<") != std::string::npos);
  }
  for (int i = 1; i <= 14; ++i) {
    const std::string proj = "p:" + services[(i + 1) % 4] + "." + table(i) + "_view";
    CHECK(g.find("<title>" + proj + "</title>") != std::string::npos);
    // Fed by the owner's outbox, which the table feeds.
    CHECK(g.find("<title>o:" + services[i % 4] + "-&gt;" + proj + "</title>") != std::string::npos);
    CHECK(g.find("<title>t:public." + table(i) + "-&gt;o:" + services[i % 4] + "</title>") !=
          std::string::npos);
  }
  for (const auto& s : services) CHECK(g.find("<title>o:" + s + "</title>") != std::string::npos);
  // The remaining direct access, in red.
  const size_t red = g.find("<title>s:svc0-&gt;t:public.t15</title>");
  REQUIRE(red != std::string::npos);
  CHECK(g.substr(red, 600).find("stroke=\"red\"") != std::string::npos);
  CHECK(g.find("reads 1 (direct)") != std::string::npos);
  // Readable: the drawing is not wider than about the page, so that scaled to
  // it the labels keep their size.
  std::smatch box;
  REQUIRE(
      std::regex_search(g, box, std::regex(R"(viewBox="[0-9.]+ [0-9.]+ ([0-9.]+) ([0-9.]+)\")")));
  INFO("viewBox " << box[1] << " x " << box[2]);
  CHECK(std::stod(box[1]) <= 1400);

  // And it is drawn: a screenshot of the page is far from a blank one.
  dir.write("blank.html", "<!DOCTYPE html><html><body></body></html>");
  auto blank = chromium(profile, "file://" + dir.file("blank.html"), dir.file("blank.png"));
  REQUIRE(blank.exit_code == 0);
  auto shot = chromium(profile, "file://" + dir.file("report.html"), dir.file("report.png"));
  INFO(shot.errors);
  REQUIRE(shot.exit_code == 0);
  INFO("blank " << fileSize(dir.file("blank.png")) << " bytes, report "
                << fileSize(dir.file("report.png")) << " bytes");
  CHECK(fileSize(dir.file("blank.png")) > 0);
  CHECK(fileSize(dir.file("report.png")) > 20 * fileSize(dir.file("blank.png")));
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
