#!/usr/bin/env bash
# Step 2 at scale: 2,000 tables across 10 services, each with grants to PUBLIC
# and to another service's login role (so every table gets an ALTER OWNER, a
# REVOKE and a COMMENT). Prints actions per second of `dbsplit run ownership`,
# its whole-step time next to the same forward statements run by psql in
# autocommit (target under 2x), and the longest lock any action held in a
# `--rehearse --json` run.
source "$(dirname "$0")/common.sh"
N=${OWNERSHIP_BENCH_TABLES:-2000}
S=10
dsn=$(bench_db ownership)
work=$BENCH_DIR/ownership
mkdir -p "$work"
tag=b$BENCH_PORT   # roles are cluster-wide: keep this run's apart
{
  for s in $(seq 0 $((S - 1))); do echo "CREATE ROLE ${tag}_app$s LOGIN;"; done
  echo "BEGIN;"
  for i in $(seq 1 "$N"); do
    s=$((i % S)); o=$(((i + 1) % S))
    echo "CREATE TABLE public.t$i (id bigserial PRIMARY KEY, v text);"
    echo "GRANT SELECT, INSERT ON public.t$i TO PUBLIC;"
    echo "GRANT SELECT, UPDATE ON public.t$i TO ${tag}_app$o;"
  done
  echo "COMMIT;"
} | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$dsn" >/dev/null
echo "SELECT 1;" >"$work/app.sql"
{
  printf '[migration]\nname = "bench"\n\n'
  for s in $(seq 0 $((S - 1))); do
    printf '[[service]]\nname = "%s_svc%d"\nroles = ["%s_app%d"]\n\n' "$tag" "$s" "$tag" "$s"
  done
  for i in $(seq 1 "$N"); do
    printf '[[table]]\nname = "public.t%d"\nowner = "%s_svc%d"\n\n' "$i" "$tag" $((i % S))
  done
  printf '[step.catalogue]\nsources = ["sql:%s/app.sql@%s_svc0"]\n' "$work" "$tag"
} >"$work/dbsplit.toml"
ds() { "$DBSPLIT" --plan "$work/dbsplit.toml" --dsn "$dsn" --no-progress "$@"; }
ds run catalogue >/dev/null

# Baseline: the forward statements of every action, psql autocommit (each
# statement its own transaction); then the inverses in reverse order to put
# the database back for dbsplit.
ds plan ownership --json | python3 -c '
import json, sys
acts = [e for e in map(json.loads, sys.stdin) if e.get("event") == "action"]
open(sys.argv[1], "w").write("\n".join(a["forward"] for a in acts) + "\n")
open(sys.argv[2], "w").write("\n".join(a["inverse"] for a in reversed(acts)) + "\n")
print(len(acts))' "$work/forward.sql" "$work/inverse.sql" >"$work/count"
actions=$(cat "$work/count")
t0=$(now_ms)
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$dsn" -f "$work/forward.sql" >/dev/null
t1=$(now_ms)
psql_ms=$((t1 - t0))
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$dsn" -f "$work/inverse.sql" >/dev/null

# The longest lock: in a rehearsal each action's time is how long its locks
# would be held in its own transaction when applied.
ds run ownership --rehearse --json | python3 -c '
import json, sys
worst = max((e for e in map(json.loads, sys.stdin) if e.get("event") == "rehearsal" and e.get("locks")),
            key=lambda e: e["ms"])
print(worst["ms"], worst["action"])' >"$work/lock"

t0=$(now_ms)
ds run ownership >/dev/null
t1=$(now_ms)
step_ms=$((t1 - t0))
t0=$(now_ms)
ds rollback ownership >/dev/null
t1=$(now_ms)
rollback_ms=$((t1 - t0))
for s in $(seq 0 $((S - 1))); do echo "DROP ROLE ${tag}_app$s;"; done |
  "$PG_BIN/psql" -X -q -d "$BENCH_ADMIN" >/dev/null 2>&1 || true

read -r lock_ms lock_action <"$work/lock"
echo "ownership_apply_${N}_tables: $(ratio $((actions * 1000)) "$step_ms") actions/s" \
     "($actions actions in ${step_ms} ms; target: report)"
echo "ownership_step_vs_psql: $(ratio "$step_ms" "$psql_ms")x psql autocommit" \
     "(dbsplit ${step_ms} ms, psql ${psql_ms} ms; target: < 2x)"
echo "ownership_longest_lock: ${lock_ms} ms ($lock_action; target: report, well under the lock timeout)"
echo "ownership_rollback_${N}_tables: $(ratio $((actions * 1000)) "$rollback_ms") actions/s (target: report)"
