#!/usr/bin/env bash
# Engine throughput: 1,000 small DDL actions (COMMENT ON TABLE) through
# `dbsplit run` (journal started/applied + transaction + marker each), next to
# the same 1,000 statements run by psql one transaction each, in the same run
# on the same durable sandbox. Prints engine/psql as a ratio (1.0 = as fast).
source "$(dirname "$0")/common.sh"
N=${ENGINE_BENCH_ACTIONS:-1000}
dsn=$(bench_db engine)
work=$BENCH_DIR/engine
mkdir -p "$work"
{
  for i in $(seq 1 "$N"); do echo "CREATE TABLE public.t$i (id int PRIMARY KEY);"; done
} | "$PG_BIN/psql" -X -q -d "$dsn" >/dev/null
{
  printf '[migration]\nname = "bench"\n\n[[service]]\nname = "svc"\n\n'
  for i in $(seq 1 "$N"); do printf '[[table]]\nname = "public.t%d"\nowner = "svc"\n\n' "$i"; done
  printf '[step.selftest]\nkinds = ["comment"]\n'
} >"$work/dbsplit.toml"

# Baseline: the same statements the engine will run, one transaction each.
DBSPLIT_TEST_STEPS=1 "$DBSPLIT" --plan "$work/dbsplit.toml" --dsn "$dsn" plan selftest --json |
  python3 -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l)
    if e.get("event") == "action": print(e["forward"])' >"$work/forward.sql"
t0=$(now_ms)
"$PG_BIN/psql" -X -q -d "$dsn" -f "$work/forward.sql" >/dev/null
t1=$(now_ms)
psql_ms=$((t1 - t0))

t0=$(now_ms)
DBSPLIT_TEST_STEPS=1 "$DBSPLIT" --plan "$work/dbsplit.toml" --dsn "$dsn" --no-progress run selftest >/dev/null
t1=$(now_ms)
engine_ms=$((t1 - t0))

eng_rate=$(ratio $((N * 1000)) "$engine_ms")
psql_rate=$(ratio $((N * 1000)) "$psql_ms")
echo "engine_apply_${N}_ddl: $(ratio "$psql_ms" "$engine_ms")x psql one-transaction-each" \
     "(engine $eng_rate actions/s in ${engine_ms} ms, psql $psql_rate stmts/s in ${psql_ms} ms;" \
     "target: report; each action also pays one fsynced journal write (synchronous=FULL) and a marker row)"

t0=$(now_ms)
DBSPLIT_TEST_STEPS=1 "$DBSPLIT" --plan "$work/dbsplit.toml" --dsn "$dsn" --no-progress rollback selftest >/dev/null
t1=$(now_ms)
echo "engine_rollback_${N}_ddl: $(ratio $((N * 1000)) $((t1 - t0))) actions/s (target: report)"
