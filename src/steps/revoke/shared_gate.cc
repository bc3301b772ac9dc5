// The shared_objects gate (shared_gate.h).
#include "steps/revoke/shared_gate.h"

#include <map>

#include "fmt/format.h"
#include "plan/qualified_name.h"
#include "util/text.h"

namespace dbsplit::steps::revoke {
namespace {

std::string list(const std::set<std::string>& items) {
  return util::join(std::vector<std::string>(items.begin(), items.end()), ", ");
}

std::string describe(const SharedItem& item) {
  std::string out = fmt::format("{} {}", item.kind, item.name);
  if (!item.spans.empty()) out += " (spans " + list(item.spans) + ")";
  if (!item.readers.empty()) out += ", read across by " + list(item.readers);
  return out;
}

std::vector<const plan::SharedObject*> decisionsFor(const plan::Plan& plan,
                                                    const SharedItem& item) {
  std::vector<const plan::SharedObject*> out;
  for (const auto& o : plan.shared) {
    if (o.kind == item.kind && o.name.display() == item.name) out.push_back(&o);
  }
  return out;
}

// What the user pastes into the plan to decide.
std::string howToDecide(const SharedItem& item) {
  if (item.kind == "function") {
    return fmt::format(
        "decide in the plan: [[function]] name = \"{}\", decision = \"revoke\" (its callers of "
        "other services lose what it reads) or \"keep\" with a reason (SECURITY DEFINER only)",
        item.name);
  }
  std::string consumer = item.readers.empty() ? "<consumer>" : *item.readers.begin();
  return fmt::format(
      "decide in the plan: [[view]] name = \"{}\", decision = \"rebuild\" (service = \"{}\", "
      "query = a SELECT over {}'s projections), \"revoke\" (its readers lose it) or \"keep\" "
      "with a reason (it stays readable)",
      item.name, consumer, consumer);
}

}  // namespace

std::vector<SharedItem> sharedItems(const Objects& objects,
                                    const std::vector<catalogue::SharedSurface>& seen) {
  std::map<std::pair<std::string, std::string>, SharedItem> by_key;
  for (const Relation& r : objects.relations) {
    if (r.spans.size() < 2) continue;
    SharedItem& item = by_key[{"view", r.state.display()}];
    item.kind = "view";
    item.name = r.state.display();
    item.spans.insert(r.spans.begin(), r.spans.end());
  }
  for (const catalogue::SharedSurface& s : seen) {
    if (s.crossing.empty() && s.spans.size() < 2) continue;
    SharedItem& item = by_key[{s.kind, s.name}];
    item.kind = s.kind;
    item.name = s.name;
    item.spans.insert(s.spans.begin(), s.spans.end());
    item.readers.insert(s.crossing.begin(), s.crossing.end());
  }
  std::vector<SharedItem> out;
  for (auto& [key, item] : by_key) out.push_back(std::move(item));
  return out;
}

engine::Gate sharedObjectsGate(const plan::Plan& plan, const std::vector<SharedItem>& items,
                               const SharedFacts& facts) {
  std::vector<std::string> problems, fine;
  for (const SharedItem& item : items) {
    std::vector<const plan::SharedObject*> decisions = decisionsFor(plan, item);
    if (decisions.empty()) {
      problems.push_back(fmt::format("{}: no decision; {}", describe(item), howToDecide(item)));
      continue;
    }
    const plan::SharedObject& first = *decisions.front();
    if (first.decision == "keep") {
      if (item.kind == "function" && !facts.definers.count(item.name)) {
        problems.push_back(fmt::format(
            "{}: decision \"keep\" (at {}), but it runs with its caller's privileges (SECURITY "
            "INVOKER): after step 5 it fails for them whatever the plan says; decide \"revoke\", "
            "or make it SECURITY DEFINER owned by a role that keeps reading its tables",
            describe(item), first.pos.str()));
      } else {
        fine.push_back(fmt::format("{}: kept ({})", describe(item), first.reason));
      }
      continue;
    }
    if (first.decision == "revoke") {
      fine.push_back(fmt::format("{}: its readers of other services lose it", describe(item)));
      continue;
    }
    // rebuild: every consumer reading across has its own copy, made by step 4.
    std::set<std::string> rebuilt_for;
    bool ready = true;
    for (const plan::SharedObject* d : decisions) {
      rebuilt_for.insert(d->service);
      const std::string copy = plan::QualifiedName{d->service, d->name.name}.display();
      if (!facts.rebuilt.count(copy)) {
        ready = false;
        problems.push_back(fmt::format(
            "{}: its rebuild for {} ({}, at {}) does not exist yet: step 4 makes it (`dbsplit "
            "run projections`; if that step ran before this [[view]] was written, roll it back "
            "and run it again)",
            describe(item), d->service, copy, d->pos.str()));
      }
    }
    for (const std::string& reader : item.readers) {
      if (rebuilt_for.count(reader)) continue;
      ready = false;
      problems.push_back(fmt::format(
          "{}: {} reads it and has no rebuilt copy: add a [[view]] rebuild with service = \"{}\"",
          describe(item), reader, reader));
    }
    if (ready) {
      fine.push_back(fmt::format("{}: rebuilt for {}", describe(item), list(rebuilt_for)));
    }
  }
  if (!problems.empty()) return {"shared_objects", false, util::join(problems, "; ")};
  if (fine.empty()) {
    return {"shared_objects", true, "no view or function spans services or is read across"};
  }
  return {"shared_objects", true, util::join(fine, "; ")};
}

}  // namespace dbsplit::steps::revoke
