// The journal checked against the markers (integrity.h).
#include "engine/integrity.h"

#include <map>

#include "engine/action.h"
#include "engine/markers.h"
#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::engine {

void checkIntegrity(const std::vector<journal::ActionRecord>& records, Targets& targets,
                    const std::string& migration, const std::string& step) {
  std::vector<Action> actions;
  for (const auto& r : records) actions.push_back(fromRecord(r));
  chainHashes(actions);
  std::vector<std::string> problems;
  std::map<std::string, std::map<std::string, std::string>> witnessed;  // per database
  for (size_t i = 0; i < records.size(); ++i) {
    const journal::ActionRecord& r = records[i];
    const std::string& computed = actions[i].sha256;
    if (computed != r.sha256) {
      problems.push_back(
          fmt::format("{}: its SQL does not match the hash the journal stored", r.id));
      continue;
    }
    if (!witnessed.count(r.database)) {
      pg::Session* s = targets.existing(r.database);
      witnessed[r.database] =
          s ? markers::hashes(*s, migration) : std::map<std::string, std::string>{};
    }
    auto m = witnessed[r.database].find(r.id);
    if (m != witnessed[r.database].end() && m->second != computed) {
      problems.push_back(fmt::format(
          "{}: the journal's chain hash {} differs from its marker's {} in the database", r.id,
          computed.substr(0, 12), m->second.substr(0, 12)));
    }
  }
  if (auto recorded = markers::chain(targets.main(), migration, step)) {
    std::string digest = chainDigest(actions);
    if (*recorded != digest) {
      problems.push_back(fmt::format(
          "step {}: the journal's actions (digest {}) are not the ones recorded in the database "
          "when the step started (digest {})",
          step, digest.substr(0, 12), recorded->substr(0, 12)));
    }
  }
  if (!problems.empty()) {
    throw Error::drift("journal_tampered",
                       fmt::format("step {}: the journal's actions were changed after they were "
                                   "recorded; nothing was run",
                                   step),
                       "restore the journal from a backup, or inspect who may write it; the "
                       "markers in dbsplit.applied are the truth")
        .withDetails(problems);
  }
}

}  // namespace dbsplit::engine
