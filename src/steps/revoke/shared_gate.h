// The revoke step's `shared_objects` gate (docs/steps/revoke.md#shared-views-and-functions):
// a view or function that spans services, or through which a consumer read
// another service's table, loses its readers at step 5 without a word unless
// the plan decides about it: [[view]] rebuild (a copy over the consumer's
// projections, made by step 4), revoke (its readers lose it) or keep (it stays
// readable: a view's grants are left alone; a function only if SECURITY
// DEFINER, since an invoker's-rights one fails for them anyway). Pure.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "catalogue/shared.h"
#include "engine/step.h"
#include "plan/plan.h"
#include "steps/revoke/catalog.h"

namespace dbsplit::steps::revoke {

struct SharedItem {
  std::string kind;               // "view" | "function"
  std::string name;               // schema.name, unquoted
  std::set<std::string> spans;    // services whose tables it reads
  std::set<std::string> readers;  // services seen reaching another's table through it
};

// What the database and the journal say about the decisions.
struct SharedFacts {
  std::set<std::string> rebuilt;  // "<service>.<name>" views step 4 made ([[view]] rebuild)
  std::set<std::string>
      definers;  // functions (schema.name) whose every overload is SECURITY DEFINER
};

// The items: the views of `objects` over two or more services' tables, and
// the catalogue's shared surface (views and functions read across).
std::vector<SharedItem> sharedItems(const Objects& objects,
                                    const std::vector<catalogue::SharedSurface>& seen);

engine::Gate sharedObjectsGate(const plan::Plan& plan, const std::vector<SharedItem>& items,
                               const SharedFacts& facts);

}  // namespace dbsplit::steps::revoke
