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

void Console::reconnect(const std::string& pool) { command("RECONNECT", pool); }

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
