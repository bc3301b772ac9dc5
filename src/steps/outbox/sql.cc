// Renders the outbox step's DDL from templates/outbox/ (see outbox_sql.h).
#include "steps/outbox/sql.h"

#include "fmt/format.h"
#include "plan/plan.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/hash.h"

namespace dbsplit::steps::outbox {
namespace {

constexpr size_t kMaxIdentifierBytes = 63;
// jsonb_build_object takes at most 100 arguments: 50 key/value pairs a call.
constexpr size_t kPairsPerCall = 50;
constexpr const char* kTagPlaceholder = "\x01tag\x01";

// Cuts `s` to at most `bytes` bytes without splitting a UTF-8 sequence.
std::string utf8Prefix(const std::string& s, size_t bytes) {
  if (s.size() <= bytes) return s;
  size_t n = bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string field(const Column& c) { return "r." + sql::quoteIdent(c.name); }

std::string compared(const std::string& rec, const Column& c) {
  std::string ref = rec + "." + sql::quoteIdent(c.name);
  return c.comparable ? ref : ref + "::text";
}

// OLD.x IS DISTINCT FROM NEW.x OR ... over `cols`.
std::string distinct(const std::vector<Column>& cols) {
  std::string out;
  for (size_t i = 0; i < cols.size(); ++i) {
    out += fmt::format("      {}{} IS DISTINCT FROM {}", i ? "OR " : "", compared("OLD", cols[i]),
                       compared("NEW", cols[i]));
    if (i + 1 < cols.size()) out += "\n";
  }
  return out;
}

// Over the key and the published columns.
std::string changedCondition(const EventSpec& e) {
  std::vector<Column> cols = e.key;
  for (const Column& c : e.payload) {
    bool dup = false;
    for (const Column& k : e.key) dup = dup || k.name == c.name;
    if (!dup) cols.push_back(c);
  }
  return distinct(cols);
}

std::string payloadExpression(const EventSpec& e) {
  std::string out;
  for (size_t start = 0; start < e.payload.size(); start += kPairsPerCall) {
    if (start)
      out += "\n    || ";
    else
      out += "    ";
    out += "jsonb_build_object(\n";
    size_t end = std::min(e.payload.size(), start + kPairsPerCall);
    for (size_t i = start; i < end; ++i) {
      out += fmt::format("      {}, {}{}\n", sql::quoteLiteral(e.payload[i].name),
                         field(e.payload[i]), i + 1 < end ? "," : "");
    }
    out += "    )";
  }
  return out;
}

std::string aggregateIdExpression(const EventSpec& e) {
  if (e.key.size() == 1) return field(e.key[0]) + "::text";
  std::string args;
  for (size_t i = 0; i < e.key.size(); ++i) args += (i ? ", " : "") + field(e.key[i]);
  return "jsonb_build_array(" + args + ")::text";
}

std::string typeLiteral(const EventSpec& e, const char* what) {
  return sql::quoteLiteral(e.aggregate_type + "." + what);
}

std::string chomp(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string truncateBranch(const EventSpec& e) {
  if (e.publish_truncate) {
    return chomp(sql::renderTemplate("outbox/truncate_publish.sql",
                                     {{"outbox", outboxName(e.service).quoted()},
                                      {"aggregate_type", sql::quoteLiteral(e.aggregate_type)},
                                      {"type_truncated", typeLiteral(e, "truncated")},
                                      {"source", sql::quoteLiteral(e.table.display())}}));
  }
  return chomp(sql::renderTemplate(
      "outbox/truncate_refuse.sql",
      {{"message", sql::quoteLiteral(fmt::format(
                       "TRUNCATE of {} is refused: it publishes its row changes as events "
                       "(dbsplit outbox), and a TRUNCATE would remove rows without any",
                       e.table.display()))},
       {"hint",
        sql::quoteLiteral("DELETE the rows instead (each becomes a deleted event), or set "
                          "truncate = \"publish\" in the plan's [[event]] to publish a truncated "
                          "event")}}));
}

std::string truncatePartitionBranch(const EventSpec& e) {
  return chomp(sql::renderTemplate(
      "outbox/truncate_partition.sql",
      {{"message",
        sql::quoteLiteral("TRUNCATE of partition %s of %s is refused: the table publishes its row "
                          "changes as events (dbsplit outbox), and emptying one partition would "
                          "remove rows without any")},
       {"hint",
        sql::quoteLiteral(e.publish_truncate
                              ? "DELETE its rows instead (each becomes a deleted event), "
                                "or TRUNCATE the whole table (published as one event)"
                              : "DELETE its rows instead (each becomes a deleted event)")}}));
}

std::string sqlOperations(const EventSpec& e) {
  std::string out;
  for (const std::string& op : e.operations) {
    if (!out.empty()) out += " OR ";
    for (char c : op) out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  return out;
}

}  // namespace

plan::QualifiedName outboxName(const std::string& service) { return plan::outboxOf(service); }

plan::QualifiedName functionName(const EventSpec& e) {
  std::string hash = util::sha256Hex(e.table.display()).substr(0, 8);
  std::string readable =
      e.table.schema == "public" ? e.table.name : e.table.schema + "_" + e.table.name;
  const std::string prefix = "outbox_";
  readable = utf8Prefix(readable, kMaxIdentifierBytes - prefix.size() - 1 - hash.size());
  return {e.service, prefix + readable + "_" + hash};
}

std::string outboxComment(const std::string& service) {
  return fmt::format(
      "dbsplit outbox of service {}: one row per published change, written by generated "
      "triggers in the writer's transaction",
      service);
}

std::string createOutboxSql(const std::string& service) {
  return sql::renderTemplate("outbox/table.sql",
                             {{"outbox", outboxName(service).quoted()},
                              {"group", sql::quoteIdent(service)},
                              {"comment", sql::quoteLiteral(outboxComment(service))}});
}

std::string dropOutboxSql(const std::string& service) {
  return "DROP TABLE " + outboxName(service).quoted() + ";";
}

std::string createFunctionSql(const EventSpec& e) {
  std::string insert = chomp(sql::renderTemplate(
      "outbox/insert_event.sql", {{"outbox", outboxName(e.service).quoted()},
                                  {"source", sql::quoteLiteral(e.table.display())},
                                  {"aggregate_type", sql::quoteLiteral(e.aggregate_type)},
                                  {"aggregate_id", aggregateIdExpression(e)},
                                  {"type_created", typeLiteral(e, "created")},
                                  {"type_updated", typeLiteral(e, "updated")},
                                  {"type_deleted", typeLiteral(e, "deleted")},
                                  {"payload", payloadExpression(e)}}));
  std::string text = sql::renderTemplate("outbox/function.sql",
                                         {{"function", functionName(e).quoted()},
                                          {"tag", kTagPlaceholder},
                                          {"truncate", truncateBranch(e)},
                                          {"truncate_partition", truncatePartitionBranch(e)},
                                          {"changed", changedCondition(e)},
                                          {"key_changed", distinct(e.key)},
                                          {"insert", insert},
                                          {"group", sql::quoteIdent(e.service)}});
  std::string tag = dollarTag(text);
  std::string out;
  size_t pos = 0;
  for (size_t at; (at = text.find(kTagPlaceholder, pos)) != std::string::npos;) {
    out.append(text, pos, at - pos);
    out += tag;
    pos = at + std::string(kTagPlaceholder).size();
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::string dropFunctionSql(const EventSpec& e) {
  return "DROP FUNCTION " + functionName(e).quoted() + "();";
}

std::string createRowTriggerSql(const EventSpec& e) {
  return sql::renderTemplate("outbox/trigger.sql", {{"trigger", sql::quoteIdent(kRowTrigger)},
                                                    {"operations", sqlOperations(e)},
                                                    {"table", e.table.quoted()},
                                                    {"function", functionName(e).quoted()}});
}

std::string dropRowTriggerSql(const EventSpec& e) {
  return fmt::format("DROP TRIGGER {}\n  ON {};", sql::quoteIdent(kRowTrigger), e.table.quoted());
}

std::string createTruncateTriggerSql(const EventSpec& e,
                                     const std::vector<plan::QualifiedName>& partitions) {
  // Refusing happens before anything is truncated; publishing only once it was.
  std::string out = sql::renderTemplate("outbox/truncate_trigger.sql",
                                        {{"trigger", sql::quoteIdent(kTruncateTrigger)},
                                         {"timing", e.publish_truncate ? "AFTER" : "BEFORE"},
                                         {"table", e.table.quoted()},
                                         {"function", functionName(e).quoted()},
                                         {"args", ""}});
  // Statement triggers are not cloned to partitions: each gets one that
  // refuses a TRUNCATE of that partition alone.
  for (const plan::QualifiedName& p : partitions) {
    out += "\n" + sql::renderTemplate("outbox/truncate_trigger.sql",
                                      {{"trigger", sql::quoteIdent(kTruncateTrigger)},
                                       {"timing", "BEFORE"},
                                       {"table", p.quoted()},
                                       {"function", functionName(e).quoted()},
                                       {"args", "'partition'"}});
  }
  return out;
}

std::string dropTruncateTriggerSql(const EventSpec& e,
                                   const std::vector<plan::QualifiedName>& partitions) {
  std::string out;
  for (auto it = partitions.rbegin(); it != partitions.rend(); ++it) {
    out +=
        fmt::format("DROP TRIGGER {}\n  ON {};\n", sql::quoteIdent(kTruncateTrigger), it->quoted());
  }
  return out + fmt::format("DROP TRIGGER {}\n  ON {};", sql::quoteIdent(kTruncateTrigger),
                           e.table.quoted());
}

std::string dollarTag(const std::string& body) {
  std::string tag = "$dbsplit$";
  for (int n = 1; body.find(tag) != std::string::npos; ++n) tag = fmt::format("$dbsplit_{}$", n);
  return tag;
}

}  // namespace dbsplit::steps::outbox
