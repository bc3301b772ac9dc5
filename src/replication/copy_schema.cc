// split.copy_schema: the service's schema definitions (tables, indexes,
// sequences, functions, triggers, owners and grants) from the source into the
// target database, in one transaction so that a failure leaves nothing.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "replication/endpoints.h"
#include "replication/movers.h"
#include "sandbox/sandbox.h"
#include "util/process.h"

namespace dbsplit::replication {
namespace {

// A pg_dump pattern that matches exactly `name`: double quotes make every
// character literal, "" is a quote.
std::string exactPattern(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string tempPath() {
  char path[] = "/tmp/dbsplit-schema-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) throw Error::stepFailed("schema_copy_failed", "cannot create a temporary file");
  ::close(fd);
  return path;
}

// True for a pg_restore --list line of the schema itself or its comment, owner
// or grants ("123; 2615 16385 SCHEMA - orders owner", "0; 0 0 ACL - SCHEMA orders owner").
bool schemaEntry(const std::string& line) {
  size_t semi = line.find("; ");
  if (semi == std::string::npos || line.empty() || line[0] == ';') return false;
  return line.find(" SCHEMA - ", semi) != std::string::npos ||
         line.find(" COMMENT - SCHEMA ", semi) != std::string::npos ||
         line.find(" ACL - SCHEMA ", semi) != std::string::npos;
}

// The schema already exists in the target (step 4 made it for the service's
// projections): everything of the dump but the schema's own entries, through
// a filtered pg_restore list, in one transaction.
// Both ways of loading run in one transaction on the target, so a failed
// load left nothing behind.
void requireLoaded(const util::ProcessResult& load, const engine::MoverContext& ctx,
                   const MoverArgs& a) {
  if (load.exit_code == 0) return;
  throw Error::stepFailed(
      "schema_copy_failed",
      fmt::format("loading schema {} into {} failed: {}", a.schema, pg::redactDsn(ctx.target_dsn),
                  util::lastLines(load.errors, 5)),
      "nothing was loaded (one transaction); fix the cause and run `dbsplit resume`");
}

void copyIntoExistingSchema(engine::MoverContext& ctx, const MoverArgs& a,
                            const std::string& bindir) {
  const std::string archive = tempPath();
  const std::string list = tempPath();
  const pg::ChildConnection source = pg::childConnection(ctx.main_dsn);
  util::ProcessResult dump =
      util::runProcessStdout({bindir + "/pg_dump", "--schema-only", "--no-publications",
                              "--no-subscriptions", "--format=custom", "--file=" + archive,
                              "--schema=" + exactPattern(a.schema), "--dbname=" + source.conninfo},
                             source.env);
  util::ProcessResult toc =
      dump.exit_code == 0 ? util::runProcessStdout({bindir + "/pg_restore", "--list", archive})
                          : dump;
  if (toc.exit_code != 0) {
    std::remove(archive.c_str());
    std::remove(list.c_str());
    throw Error::stepFailed(
        "schema_copy_failed",
        fmt::format("pg_dump of schema {} failed: {}", a.schema, util::lastLines(toc.errors, 5)),
        "fix the cause and run `dbsplit resume`");
  }
  int kept = 0;
  {
    std::ofstream f(list, std::ios::binary);
    size_t at = 0;
    while (at < toc.output.size()) {
      size_t end = toc.output.find('\n', at);
      if (end == std::string::npos) end = toc.output.size();
      std::string line = toc.output.substr(at, end - at);
      at = end + 1;
      if (schemaEntry(line)) continue;
      if (!line.empty() && line[0] != ';') ++kept;
      f << line << "\n";
    }
  }
  const pg::ChildConnection target = pg::childConnection(ctx.target_dsn);
  util::ProcessResult load =
      util::runProcessStdout({bindir + "/pg_restore", "--single-transaction", "--exit-on-error",
                              "--use-list=" + list, "--dbname=" + target.conninfo, archive},
                             target.env);
  std::remove(archive.c_str());
  std::remove(list.c_str());
  requireLoaded(load, ctx, a);
  ctx.out.event({{"event", "split_schema_copied"},
                 {"service", a.service},
                 {"schema", a.schema},
                 {"objects", kept},
                 {"into_existing_schema", true}},
                fmt::format("  copied {} definitions of schema {} into the existing schema of {} "
                            "(beside the service's projections)",
                            kept, a.schema, pg::redactDsn(ctx.target_dsn)));
}

}  // namespace

void copySchema(engine::MoverContext& ctx) {
  MoverArgs a = parseArgs(ctx);
  const std::string bindir = sandbox::findBindir();
  if (nlohmann::json::parse(ctx.action.mover_args).value("into_existing_schema", false)) {
    copyIntoExistingSchema(ctx, a, bindir);
    return;
  }
  const pg::ChildConnection source = pg::childConnection(ctx.main_dsn);
  util::ProcessResult dump = util::runProcessStdout(
      {bindir + "/pg_dump", "--schema-only", "--no-publications", "--no-subscriptions",
       "--schema=" + exactPattern(a.schema), "--dbname=" + source.conninfo},
      source.env);
  if (dump.exit_code != 0) {
    throw Error::stepFailed(
        "schema_copy_failed",
        fmt::format("pg_dump of schema {} failed: {}", a.schema, util::lastLines(dump.errors, 5)),
        "fix the cause and run `dbsplit resume`");
  }
  const std::string path = tempPath();
  {
    std::ofstream f(path, std::ios::binary);
    f << dump.output;
  }
  const pg::ChildConnection target = pg::childConnection(ctx.target_dsn);
  util::ProcessResult load =
      util::runProcessStdout({bindir + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                              "--single-transaction", "-f", path, "--dbname=" + target.conninfo},
                             target.env);
  std::remove(path.c_str());
  requireLoaded(load, ctx, a);
  ctx.out.event({{"event", "split_schema_copied"},
                 {"service", a.service},
                 {"schema", a.schema},
                 {"bytes", dump.output.size()}},
                fmt::format("  copied the definitions of schema {} into {} ({} bytes of DDL)",
                            a.schema, pg::redactDsn(ctx.target_dsn), dump.output.size()));
}

}  // namespace dbsplit::replication
