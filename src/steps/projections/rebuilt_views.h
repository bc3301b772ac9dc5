// Views rebuilt for consumers ([[view]] decision = "rebuild"): a view that
// spans services, or that a consumer read another service's tables through,
// gets a copy of the same name in the consumer's schema over the consumer's
// own projections. Step 4 makes them, so that the consumer can switch to its
// copy before step 5 takes the shared view away (docs/steps/revoke.md#shared).
#pragma once

#include <string>
#include <vector>

#include "engine/action.h"
#include "plan/plan.h"

namespace dbsplit::steps::projections {

// The comment a rebuilt view carries, so that only dbsplit's copy is adopted.
std::string rebuiltViewComment(const plan::SharedObject& view);

// `<service>.<the view's name>`.
plan::QualifiedName rebuiltViewName(const plan::SharedObject& view);

// Each rebuild's query must be one SELECT (or VALUES/WITH) whose every table
// is in its consumer's schema: the rebuilt view must still read after step 5.
// One line per problem, "file:line:column: ..."; empty when all are fine.
std::vector<std::string> rebuiltViewProblems(const plan::Plan& plan);

// The action creating the rebuilt view (its inverse drops it), in the
// consumer's database.
engine::Action rebuiltViewAction(const plan::Plan& plan, const plan::SharedObject& view);

}  // namespace dbsplit::steps::projections
