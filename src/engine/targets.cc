#include "engine/targets.h"

#include "engine/markers.h"
#include "fmt/format.h"
#include "pg/conninfo.h"

namespace dbsplit::engine {

Targets::Targets(const plan::Plan& plan, pg::ConnectOptions main_options)
    : plan_(plan), main_options_(std::move(main_options)) {
  sessions_[""] = pg::Session::connect(main_options_);
}

pg::Session& Targets::main() { return session(""); }

std::string Targets::dsn(const std::string& database) const {
  if (database.empty()) return main_options_.dsn;
  const plan::Service* service = plan_.findService(database);
  if (!service || service->database.empty()) {
    throw Error::usage("unknown_database",
                       fmt::format("an action runs on the database of service {}, but the plan "
                                   "gives that service no `database`",
                                   database),
                       "set [[service]].database for it, or run the plan that wrote the journal");
  }
  return pg::buildConninfo(main_options_.dsn, pg::parseConninfo(service->database));
}

pg::Session& Targets::session(const std::string& database) {
  auto it = sessions_.find(database);
  if (it != sessions_.end()) return *it->second;
  pg::ConnectOptions o = main_options_;
  o.dsn = dsn(database);
  auto s = pg::Session::connect(o);
  return *(sessions_[database] = std::move(s));
}

pg::Session* Targets::existing(const std::string& database) {
  try {
    return &session(database);
  } catch (const Error& e) {
    // libpq reports a missing database only in its message (no SQLSTATE on a
    // failed connection); anything else is a real failure.
    if (e.kind() == "connection_failed" &&
        std::string(e.what()).find("does not exist") != std::string::npos) {
      return nullptr;
    }
    throw;
  }
}

void Targets::ensureMarkers(const std::string& database, int lock_timeout_ms) {
  if (ensured_.count(database)) return;
  markers::ensure(session(database), lock_timeout_ms);
  ensured_.insert(database);
}

std::set<std::string> Targets::markers(const std::string& database, const std::string& migration) {
  pg::Session* s = existing(database);
  return s ? markers::present(*s, migration) : std::set<std::string>{};
}

void Targets::dropEmptyMarkers(int lock_timeout_ms) {
  for (auto& [name, s] : sessions_) markers::dropIfEmpty(*s, lock_timeout_ms);
  ensured_.clear();
}

void Targets::reconnectLost() {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second->ping()) {
      ++it;
      continue;
    }
    ensured_.erase(it->first);
    if (it->first.empty()) {
      it->second = pg::Session::connect(main_options_);
      ++it;
    } else {
      it = sessions_.erase(it);  // reconnects on next use
    }
  }
}

}  // namespace dbsplit::engine
