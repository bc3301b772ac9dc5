// Sequences no column owns, moved with their owner's tables (sequences.h).
#include "steps/split/sequences.h"

#include "fmt/format.h"
#include "relations/relations.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/text.h"

namespace dbsplit::steps::split {
namespace {

// The plan table at its plan name, else in the owner's schema (moved).
constexpr const char* kLocate = R"SQL(
SELECT c.oid::text
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname = $1 AND n.nspname IN ($2, $3)
   AND c.relkind IN ('r', 'p')
 ORDER BY n.nspname = $2 DESC
 LIMIT 1)SQL";

// The partitions of a table, all levels (none for a table that is not
// partitioned: pg_partition_tree returns no row then).
constexpr const char* kPartitions = R"SQL(
SELECT p.relid::oid::text
  FROM pg_catalog.pg_partition_tree($1::oid::regclass) p
 WHERE p.level > 0
 ORDER BY p.level, p.relid::oid)SQL";

constexpr const char* kTaken = R"SQL(
SELECT count(*) FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relname = $2)SQL";

}  // namespace

std::vector<SequenceMove> readSequenceMoves(pg::Session& catalog, const plan::Plan& plan,
                                            std::vector<std::string>* problems) {
  std::vector<relations::RelationState> tables;
  for (const plan::Table& t : plan.tables) {
    std::optional<std::string> root = catalog.scalar(kLocate, t.name.name, t.name.schema, t.owner);
    if (!root) continue;  // readSchemaPlan reports it
    std::vector<std::string> oids = {*root};
    for (const auto& row : catalog.execParams(kPartitions, *root)) oids.push_back(row[0].c_str());
    for (const auto& oid : oids) {
      relations::RelationState r;
      r.oid = oid;
      r.table = &t;
      tables.push_back(std::move(r));
    }
  }
  std::vector<SequenceMove> out;
  for (const auto& seq : relations::readDefaultSequences(catalog, tables)) {
    const std::string owner = seq.owner();
    if (owner.empty() || seq.state.schema == owner) continue;
    if (*catalog.scalar(kTaken, owner, seq.state.name) != "0") {
      problems->push_back(fmt::format(
          "{}.{} already exists, so sequence {} (used by {}) cannot follow its tables there", owner,
          seq.state.name, seq.state.display(), util::join(seq.users, ", ")));
      continue;
    }
    out.push_back(
        {seq.state.oid, {seq.state.schema, seq.state.name}, owner, util::join(seq.users, ", ")});
  }
  return out;
}

std::vector<engine::Action> sequenceMoveActions(const std::vector<SequenceMove>& moves) {
  std::vector<engine::Action> actions;
  for (const SequenceMove& m : moves) {
    engine::Action a;
    a.id = "split/move_sequence/" + m.from.display();
    a.description = fmt::format(
        "move sequence {} (no column owns it; the defaults of {} use it) into schema {}",
        m.from.display(), m.users, m.to_schema);
    a.forward = sql::renderTemplate(
        "split/set_sequence_schema.sql",
        {{"sequence", m.from.quoted()}, {"schema", sql::quoteIdent(m.to_schema)}});
    a.inverse = sql::renderTemplate("split/set_sequence_schema.sql",
                                    {{"sequence", sql::quoteQualified(m.to_schema, m.from.name)},
                                     {"schema", sql::quoteIdent(m.from.schema)}});
    a.lock = {"ACCESS EXCLUSIVE", m.from.display()};
    actions.push_back(std::move(a));
  }
  return actions;
}

}  // namespace dbsplit::steps::split
