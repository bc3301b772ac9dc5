// Lag of every consumer's cursors, for `status` (see lag.h).
#include "relay/lag.h"

#include <algorithm>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "relay/cursor.h"
#include "relay/spec.h"

namespace dbsplit::relay {

std::vector<OutboxLag> relayLag(const plan::Plan& plan, const std::string& main_dsn,
                                util::Reporter& out) {
  std::vector<OutboxLag> lags;
  pg::ConnectOptions o;
  o.dsn = main_dsn;
  o.application_name = "dbsplit/" + plan.migration.name + "/status";
  o.read_only = true;
  std::unique_ptr<pg::Session> source;
  for (const std::string& consumer : consumers(plan)) {
    const plan::Service* s = plan.findService(consumer);
    std::string target_dsn = s && !s->database.empty() ? serviceDsn(main_dsn, s->database) : "";
    try {
      if (!source) source = pg::Session::connect(o);
      std::unique_ptr<pg::Session> own;
      pg::Session* target = source.get();
      if (!target_dsn.empty()) {
        pg::ConnectOptions t = o;
        t.dsn = target_dsn;
        own = pg::Session::connect(t);
        target = own.get();
      }
      std::vector<std::string> outboxes;
      for (const auto& p : plan.projections) {
        const plan::Table* table = plan.findTable(p.source);
        if (p.consumer != consumer || !table) continue;
        std::string name = table->owner + ".outbox";
        if (std::find(outboxes.begin(), outboxes.end(), name) == outboxes.end()) {
          outboxes.push_back(name);
        }
      }
      for (const std::string& name : outboxes) {
        OutboxLag lag;
        lag.consumer = consumer;
        lag.outbox = name;
        auto c = readCursor(*target, consumer, name);
        if (c) {
          lag.started = true;
          lag.applied = c->applied;
          lag.snapshot = c->snapshot;
          const std::string owner = name.substr(0, name.size() - 7);
          plan::QualifiedName table = plan::outboxOf(owner);
          // The outbox where it is now: a cursor that follows it into its
          // owner's database counts there; one still draining the source
          // counts the source's rest plus what was written there since the
          // cutover.
          std::unique_ptr<pg::Session> there;
          OutboxCutover cut;
          if (std::string dsn = ownerDsn(plan, main_dsn, owner);
              !dsn.empty() && (!c->database.empty() || databaseMayExist(*source, main_dsn, dsn))) {
            pg::ConnectOptions t = o;
            t.dsn = dsn;
            t.connect_timeout_s = 5;
            try {
              there = pg::Session::connect(t);
              cut = readCutover(*there, *source, owner);
            } catch (const Error&) {
              if (!c->database.empty()) throw;
              there.reset();  // not created (yet)
            }
          }
          const std::string count =
              "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
              "  FROM " +
              table.quoted() +
              " WHERE seq >= $1 AND NOT pg_visible_in_snapshot(txid, $2::pg_snapshot)";
          auto add = [&lag, &count](pg::Session& s, std::int64_t seq, const std::string& snap) {
            pg::Result r = s.execParams(count, seq, snap);
            lag.events += r[0][0].as<std::int64_t>();
            lag.seconds = std::max(lag.seconds, r[0][1].as<double>());
          };
          if (!c->database.empty()) {
            if (!there) throw Error::stepFailed("relay_lag", "the owner's database is not set");
            add(*there, c->seq, c->snapshot);
          } else {
            if (source->scalar("SELECT to_regclass($1)::text", table.quoted())) {
              add(*source, c->seq, c->snapshot);
            }
            if (cut.done) add(*there, cut.seq + 1, cut.snapshot);
          }
        }
        lags.push_back(lag);
      }
    } catch (const Error& e) {
      out.warn(fmt::format("relay lag of consumer {}: {}", consumer, e.what()));
    }
  }
  return lags;
}

}  // namespace dbsplit::relay
