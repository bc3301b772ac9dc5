// The shared surface: views and functions through which statements reached
// tables of more than one service, or a table another service owns. Step 5
// takes those reads away, so each needs a decision in the plan ([[view]] or
// [[function]]: rebuild it over the consumer's projections, let it go, or keep
// it); `catalogue` lists them and revoke's `shared_objects` gate asks for them.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "catalogue/model.h"
#include "nlohmann/json.hpp"
#include "plan/plan.h"

namespace dbsplit::catalogue {

struct SharedSurface {
  std::string kind;                // "view" | "function"
  std::string name;                // schema.name (a function's without its arguments)
  std::string via;                 // as the accesses say: "function public.f(integer)"
  std::set<std::string> spans;     // services owning the tables reached through it
  std::set<std::string> readers;   // services (or "unassigned") whose statements went through it
  std::set<std::string> crossing;  // readers that reached a table they do not own
  std::set<std::string> tables;
  std::int64_t calls = 0;
};

// "view public.v" -> {"view", "public.v"}; "function public.f(int)" ->
// {"function", "public.f"}; anything else -> {"", ""}.
std::pair<std::string, std::string> parseVia(const std::string& via);

// The objects of `s`'s accesses (`via`) that span two or more services, or
// through which a service reached a table it does not own. `owner_of`: table
// (schema.name as in the accesses) -> owning service; other tables count for
// nobody. Sorted by kind, then name.
std::vector<SharedSurface> sharedSurface(const Snapshot& s,
                                         const std::map<std::string, std::string>& owner_of);

// The same, with each table's owner as the catalogue gives it: the plan's
// [[table]] owner, else its most frequent writer (a tie: nobody).
std::vector<SharedSurface> sharedSurface(const Snapshot& s, const plan::Plan* plan);

nlohmann::json sharedSurfaceJson(const std::vector<SharedSurface>& shared);

}  // namespace dbsplit::catalogue
