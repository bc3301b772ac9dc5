// `revoke` (step 5, DESIGN §6): severs cross-service reads once the evidence
// says no consumer needs them. Per service whose data others can reach, one
// action that takes from every other service's roles (login and group) and
// from PUBLIC every privilege on its tables, their partitions, columns and
// sequences and the views over them, USAGE (and CREATE) on its schema, and
// the default privileges its roles give them. Its inverse rebuilds the prior
// relacl, attacl, nspacl and pg_default_acl entries exactly, in one
// transaction (the emergency button). Gates: compare_clean,
// deprecation_window, superuser (and observe, which stops a run in observe
// mode after listing what would fail). docs/steps/revoke.md has the details.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

// The registry's instance.
const engine::Step* revokeStep();

}  // namespace dbsplit::steps
