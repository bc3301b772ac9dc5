// PgBouncer's admin console (console.h).
#include "pgbouncer/console.h"

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::pgbouncer {

std::unique_ptr<Console> Console::open(const std::string& dsn, const std::string& application) {
  std::unique_ptr<Console> c(new Console(pg::PlainConnection::connect(dsn, application)));
  try {
    c->c_->query("SHOW VERSION");
  } catch (const Error& e) {
    throw Error::precondition(
        "pgbouncer_console",
        fmt::format("[step.split] pgbouncer does not reach PgBouncer's admin console: {}",
                    e.what()),
        "connect to the database `pgbouncer` as one of PgBouncer's admin_users, e.g. "
        "pgbouncer = \"host=/run/pgbouncer port=6432 dbname=pgbouncer user=postgres\"");
  }
  return c;
}

std::vector<Pool> Console::pools() {
  std::vector<Pool> out;
  for (auto& row : c_->query("SHOW DATABASES")) {
    Pool p;
    p.name = row["name"];
    p.database = row["database"];
    p.paused = row["paused"] != "0";
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> Console::poolsFor(const std::string& database) {
  std::vector<std::string> out;
  for (const Pool& p : pools()) {
    if (p.database == database && p.name != "pgbouncer") out.push_back(p.name);
  }
  return out;
}

// Pool names are identifiers on the console: double-quoted, like SQL's.
void Console::command(const std::string& verb, const std::string& pool) {
  std::string quoted = "\"";
  for (char ch : pool) {
    if (ch == '"') quoted += '"';
    quoted += ch;
  }
  c_->query(verb + " " + quoted + "\"");
}

void Console::reconnect(const std::string& pool) { command("RECONNECT", pool); }
void Console::pause(const std::string& pool) { command("PAUSE", pool); }
void Console::resume(const std::string& pool) { command("RESUME", pool); }

}  // namespace dbsplit::pgbouncer
