// split.copy_schema: the service's schema definitions (tables, indexes,
// sequences, functions, triggers, owners and grants) from the source into the
// target database, in one transaction so that a failure leaves nothing.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "sandbox/sandbox.h"
#include "split/common.h"
#include "split/movers.h"
#include "util/process.h"

namespace dbsplit::split {
namespace {

// A pg_dump pattern that matches exactly `name`: double quotes make every
// character literal, "" is a quote.
std::string exactPattern(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void copySchema(engine::MoverContext& ctx) {
  MoverArgs a = parseArgs(ctx);
  const std::string bindir = sandbox::findBindir();
  util::ProcessResult dump = util::runProcessStdout(
      {bindir + "/pg_dump", "--schema-only", "--no-publications", "--no-subscriptions",
       "--schema=" + exactPattern(a.schema), "--dbname=" + pg::buildConninfo(ctx.main_dsn, {})});
  if (dump.exit_code != 0) {
    throw Error::stepFailed(
        "schema_copy_failed",
        fmt::format("pg_dump of schema {} failed: {}", a.schema, util::lastLines(dump.errors, 5)),
        "fix the cause and run `dbsplit resume`");
  }
  char path[] = "/tmp/dbsplit-schema-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) throw Error::stepFailed("schema_copy_failed", "cannot create a temporary file");
  ::close(fd);
  {
    std::ofstream f(path, std::ios::binary);
    f << dump.output;
  }
  util::ProcessResult load = util::runProcessStdout(
      {bindir + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", path,
       "--dbname=" + pg::buildConninfo(ctx.target_dsn, {})});
  std::remove(path);
  if (load.exit_code != 0) {
    throw Error::stepFailed(
        "schema_copy_failed",
        fmt::format("loading schema {} into {} failed: {}", a.schema, pg::redactDsn(ctx.target_dsn),
                    util::lastLines(load.errors, 5)),
        "nothing was loaded (one transaction); fix the cause and run "
        "`dbsplit resume`");
  }
  ctx.out.event({{"event", "split_schema_copied"},
                 {"service", a.service},
                 {"schema", a.schema},
                 {"bytes", dump.output.size()}},
                fmt::format("  copied the definitions of schema {} into {} ({} bytes of DDL)",
                            a.schema, pg::redactDsn(ctx.target_dsn), dump.output.size()));
}

}  // namespace dbsplit::split
