// `selftest`: the engine's test-only step (enabled by DBSPLIT_TEST_STEPS=1). It
// exercises every kind of action the real steps use, on the plan's [[table]]s:
//   schema   CREATE SCHEMA (transactional, no lock on user tables)
//   comment  COMMENT ON TABLE (SHARE UPDATE EXCLUSIVE; exact prior comment restored)
//   column   ALTER TABLE ADD COLUMN (ACCESS EXCLUSIVE: the lock-wait path)
//   index    CREATE INDEX CONCURRENTLY (not transactional: the verify path)
// [step.selftest] kinds = [...] picks a subset (the benchmark uses "comment").
// Two kinds run only when named (they are not part of "all"):
//   remote   CREATE TABLE in each [[service]] database (Action::database)
//   mover    a resumable data mover filling a scratch table (Action::mover)
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

// The registry's instance (only listed with DBSPLIT_TEST_STEPS=1); registers
// the step's data mover.
const engine::Step* selftestStep();

}  // namespace dbsplit::steps
