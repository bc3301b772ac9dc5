// Renders templates/outbox/debezium.json per service (see outbox_debezium.h).
#include "steps/outbox/debezium.h"

#include <algorithm>
#include <map>

#include "pg/conninfo.h"
#include "sql/template.h"
#include "steps/outbox/sql.h"

namespace dbsplit::steps::outbox {
namespace {

std::string jsonString(const std::string& s) { return nlohmann::json(s).dump(); }

// Replication slot and publication names allow [a-z0-9_] only.
std::string slotSafe(const std::string& s) {
  std::string out = s;
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string valueOr(const std::map<std::string, std::string>& kv, const std::string& key,
                    const std::string& fallback) {
  auto it = kv.find(key);
  return it == kv.end() || it->second.empty() ? fallback : it->second;
}

}  // namespace

std::vector<std::string> publishingServices(const plan::Plan& plan) {
  return plan.publishingServices();
}

std::vector<ConnectorConfig> debeziumConfigs(const plan::Plan& plan, const std::string& dsn) {
  std::map<std::string, std::string> kv = pg::parseConninfo(dsn);
  std::string host = valueOr(kv, "host", "localhost");
  // A socket directory means nothing to Kafka Connect on another machine.
  if (host.front() == '/') host = "localhost";
  std::string port = valueOr(kv, "port", "5432");
  std::string user = valueOr(kv, "user", "postgres");
  std::string dbname = valueOr(kv, "dbname", user);
  std::vector<ConnectorConfig> out;
  for (const std::string& service : publishingServices(plan)) {
    std::string base = slotSafe("dbsplit_" + plan.migration.name + "_" + service);
    std::string text = sql::renderTemplate(
        "outbox/debezium.json",
        {{"name", jsonString("dbsplit-" + plan.migration.name + "-" + service + "-outbox")},
         {"host", jsonString(host)},
         {"port", jsonString(port)},
         {"user", jsonString(user)},
         {"password",
          jsonString("${file:/opt/kafka/config/dbsplit-secrets.properties:" + base + "_password}")},
         {"dbname", jsonString(dbname)},
         {"topic_prefix", jsonString("dbsplit." + plan.migration.name + "." + service)},
         {"slot", jsonString(base)},
         {"publication", jsonString(base)},
         {"tables", jsonString(outboxName(service).display())},
         {"topic_replacement", jsonString("outbox.event.${routedByValue}")}});
    out.push_back({service, nlohmann::json::parse(text)});
  }
  return out;
}

}  // namespace dbsplit::steps::outbox
