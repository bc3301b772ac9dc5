#include "pg/dump.h"

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "util/error.h"
#include "util/process.h"

namespace dbsplit::pg {

namespace {

// pg_dump 15.14 and later write `\restrict <random key>` into every dump; a
// fixed key keeps two dumps of the same schema identical. Older ones lack it.
bool hasRestrictKey(const std::string& pg_dump) {
  static int known = -1;
  if (known < 0) {
    known = util::runProcessStdout({pg_dump, "--help"}).output.find("--restrict-key") !=
            std::string::npos;
  }
  return known == 1;
}

}  // namespace

std::string schemaDump(const std::string& bindir, const std::string& dsn) {
  const std::string pg_dump = bindir + "/pg_dump";
  const ChildConnection child = childConnection(dsn);
  std::vector<std::string> argv = {pg_dump, "--schema-only", "--no-password", "-d", child.conninfo};
  if (hasRestrictKey(pg_dump)) argv.push_back("--restrict-key=dbsplit");
  util::ProcessResult r = util::runProcessStdout(argv, child.env);
  if (r.exit_code != 0) {
    throw Error::stepFailed(
        "pg_dump_failed",
        fmt::format("pg_dump of {} failed: {}", redactDsn(dsn), util::lastLines(r.errors, 3)));
  }
  return r.output;
}

}  // namespace dbsplit::pg
