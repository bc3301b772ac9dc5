#include "engine/action.h"

#include "util/hash.h"

namespace dbsplit::engine {

std::string LockSpec::str() const {
  if (mode.empty() || mode == "none") return "none";
  return target.empty() ? mode : mode + " on " + target;
}

void chainHashes(std::vector<Action>& actions) {
  std::string previous;
  for (Action& a : actions) {
    std::vector<std::string_view> fields = {previous, a.id, a.forward, a.inverse};
    // Only when set, so the hashes of plain SQL actions (and journals written
    // before these fields existed) stay what they were.
    if (!a.database.empty() || !a.mover.empty()) {
      fields.insert(fields.end(), {std::string_view(a.database), std::string_view(a.mover),
                                   std::string_view(a.mover_args)});
    }
    a.sha256 = util::sha256Fields(fields);
    previous = a.sha256;
  }
}

std::string chainDigest(const std::vector<Action>& actions) {
  std::vector<std::string_view> fields = {
      actions.empty() ? std::string_view() : std::string_view(actions.back().sha256)};
  for (const Action& a : actions) {
    fields.push_back(a.verify);
    fields.push_back(a.transactional ? "t" : "f");
  }
  return util::sha256Fields(fields);
}

journal::ActionRecord toRecord(const Action& a, const std::string& step, int seq) {
  journal::ActionRecord r;
  r.step = step;
  r.seq = seq;
  r.id = a.id;
  r.forward = a.forward;
  r.inverse = a.inverse;
  r.lock = a.lock.str();
  r.transactional = a.transactional;
  r.verify = a.verify;
  r.sha256 = a.sha256;
  r.database = a.database;
  r.mover = a.mover;
  r.mover_args = a.mover_args;
  return r;
}

Action fromRecord(const journal::ActionRecord& r) {
  Action a;
  a.id = r.id;
  a.forward = r.forward;
  a.inverse = r.inverse;
  // The journal keeps the lock as text; split it back for display only.
  auto pos = r.lock.find(" on ");
  a.lock.mode = pos == std::string::npos ? r.lock : r.lock.substr(0, pos);
  a.lock.target = pos == std::string::npos ? "" : r.lock.substr(pos + 4);
  a.transactional = r.transactional;
  a.verify = r.verify;
  a.sha256 = r.sha256;
  a.database = r.database;
  a.mover = r.mover;
  a.mover_args = r.mover_args;
  return a;
}

}  // namespace dbsplit::engine
