// PgBouncer's admin console (console.h).
#include "pgbouncer/console.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::pgbouncer {

std::unique_ptr<Console> Console::open(const std::string& dsn, const std::string& application) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = application;
  o.console = true;
  std::unique_ptr<Console> c(new Console(pg::Session::connect(o), dsn, application));
  try {
    c->s_->exec("SHOW VERSION");
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
  for (const auto& row : s_->exec("SHOW DATABASES")) {
    Pool p;
    p.name = row["name"].as<std::string>();
    p.database = row["database"].as<std::string>();
    p.paused = row["paused"].as<std::string>() != "0";
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

namespace {

// Pool names are identifiers on the console: double-quoted, like SQL's.
std::string commandText(const std::string& verb, const std::string& pool) {
  std::string quoted = "\"";
  for (char ch : pool) {
    if (ch == '"') quoted += '"';
    quoted += ch;
  }
  return verb + " " + quoted + "\"";
}

}  // namespace

void Console::command(const std::string& verb, const std::string& pool) {
  s_->exec(commandText(verb, pool));
}

int Console::serversLoggingIn(const std::string& pool) {
  int n = 0;
  for (const auto& row : s_->exec("SHOW POOLS")) {
    if (row["database"].as<std::string>() == pool) n += row["sv_login"].as<int>();
  }
  return n;
}

// RECONNECT tags the pool's server connections to close once released, but
// closes those still logging in at once ("connect string changed"), and
// PgBouncer (1.18 to 1.25 at least: tag_pool_dirty, disconnect_server) counts
// a login closed that way as a failed one: it opens no server connection for
// the pool until server_login_retry (15 s by default) has passed, and
// check_fast_fail turns away every client that needs one once the tagged
// connections are released and closed ("server login has been failing, try
// again later (server_login_retry)"). So a RECONNECT that lands during a
// login fails application transactions.
// PAUSE is no way around it: while a pool is paused PgBouncer closes its
// logins the same way ("pause mode"), and it waits for open transactions.
// The console has no conditional command and runs one statement a query, so
// the look and the RECONNECT cannot be one step: it is sent right after a
// look that saw no login, on the same session. A login PgBouncer starts in
// between (within one console round trip, against a login's whole length
// before) is the window that is left: PgBouncer logs in one server connection
// of a pool at a time, mostly when a client finds no idle one.
bool Console::reconnect(const std::string& pool, std::chrono::milliseconds bound,
                        const std::function<void()>& check_alive) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (serversLoggingIn(pool) > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (check_alive) check_alive();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  command("RECONNECT", pool);
  return true;
}

void Console::pause(const std::string& pool, std::chrono::milliseconds bound) {
  // The answer comes once the pool is idle; the waiting is done on a thread
  // so that it can be given up. Everything the thread touches it owns.
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::optional<Error> error;
  };
  auto pending = std::make_shared<Pending>();
  pg::ConnectOptions o;
  o.dsn = dsn_;
  o.application_name = application_;
  o.console = true;
  std::shared_ptr<pg::Session> session = pg::Session::connect(o);
  std::thread([pending, session, text = commandText("PAUSE", pool)] {
    std::optional<Error> error;
    try {
      session->exec(text);
    } catch (const Error& e) {
      error = e;
    }
    std::lock_guard<std::mutex> g(pending->mu);
    pending->done = true;
    pending->error = std::move(error);
    pending->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(pending->mu);
  if (pending->cv.wait_for(lock, bound, [&] { return pending->done; })) {
    if (pending->error) throw *pending->error;
    return;
  }
  lock.unlock();
  resume(pool);
  throw Error::stepFailed(
      "pgbouncer_pause_timeout",
      fmt::format("PgBouncer pool {} still had busy server connections after {} ms of PAUSE; "
                  "it is resumed",
                  pool, bound.count()),
      "a client holds a transaction open through PgBouncer (SHOW SERVERS on the console names "
      "it); end it or wait for a quieter moment, then run the step again");
}

void Console::resume(const std::string& pool) {
  for (const Pool& p : pools()) {
    if (p.name == pool && p.paused) command("RESUME", pool);
  }
}

}  // namespace dbsplit::pgbouncer
