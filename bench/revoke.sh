#!/usr/bin/env bash
# Step 5 at scale: 1,000 tables of one service, each read by another service's
# login role through a table grant and a column grant, and by PUBLIC. Prints
# the time of `dbsplit run revoke` and of `dbsplit rollback revoke` (the
# emergency button; target: the rollback transaction under 1 s), each next to
# the same SQL run by psql in one transaction (the baseline, same run), and
# the locks the action takes (from a `--rehearse --json` run) with how long
# its transaction lasts. The rollback SQL is also run with one statement per
# table (the unbatched form) to show what batching by ACL shape buys.
# Own sandbox: BENCH_PORT (default random) and a folder /tmp/revoke-bench.*.
set -euo pipefail
N=${REVOKE_BENCH_TABLES:-1000}
BENCH_PORT=${BENCH_PORT:-$((56100 + RANDOM % 800))}
BENCH_DIR=$(mktemp -d /tmp/revoke-bench.XXXXXX)
chmod 755 "$BENCH_DIR"
"$DBSPLIT" sandbox start --dir "$BENCH_DIR/sandbox" --port "$BENCH_PORT" >/dev/null
PG_BIN=${DBSPLIT_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
trap '"$DBSPLIT" sandbox stop --dir "$BENCH_DIR/sandbox" >/dev/null 2>&1 || true; rm -rf "$BENCH_DIR"' EXIT
dsn="host=$BENCH_DIR/sandbox port=$BENCH_PORT user=postgres dbname=postgres"
now_ms() { date +%s%3N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b == 0 ? 0 : a / b) }'; }
work=$BENCH_DIR/revoke
mkdir -p "$work"
{
  echo "CREATE ROLE o_app LOGIN; CREATE ROLE c_app LOGIN;"
  echo "BEGIN;"
  for i in $(seq 1 "$N"); do
    echo "CREATE TABLE public.t$i (id bigserial PRIMARY KEY, v text, w int);"
    echo "GRANT SELECT ON public.t$i TO c_app, PUBLIC;"
    echo "GRANT SELECT (id, v), REFERENCES (w) ON public.t$i TO c_app;"
  done
  echo "COMMIT;"
} | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$dsn" >/dev/null
echo "SELECT 1;" >"$work/app.sql"
{
  printf '[migration]\nname = "bench"\n\n'
  printf '[[service]]\nname = "o"\nroles = ["o_app"]\n\n[[service]]\nname = "c"\nroles = ["c_app"]\n\n'
  for i in $(seq 1 "$N"); do printf '[[table]]\nname = "public.t%d"\nowner = "o"\n\n' "$i"; done
  printf '[step.catalogue]\nsources = ["sql:%s/app.sql@o"]\n\n' "$work"
  printf '[step.revoke]\ndeprecation_window = "1s"\nrequire_compare = false\n'
} >"$work/dbsplit.toml"
ds() { "$DBSPLIT" --plan "$work/dbsplit.toml" --dsn "$dsn" --no-progress "$@"; }
ds run catalogue >/dev/null
ds run ownership >/dev/null
ds run outbox >/dev/null
sleep 2  # the deprecation window

# Baseline: the action's forward, then its inverse, each in one psql transaction.
ds plan revoke --json | python3 -c '
import json, sys
acts = [e for e in map(json.loads, sys.stdin) if e.get("event") == "action"]
open(sys.argv[1], "w").write("\n".join(a["forward"] for a in acts) + "\n")
open(sys.argv[2], "w").write("\n".join(a["inverse"] for a in reversed(acts)) + "\n")
# The same inverse with one statement per table (what an unbatched plan runs).
import re
def split(sql):
    out = []
    for stmt in re.split(r"(?<=;)\n(?!\s)", sql):
        m = re.search(r"ON TABLE ((?:.|\n)*?)\n  (FROM|TO) ", stmt)
        if not m:
            out.append(stmt); continue
        for t in m.group(1).split(",\n           "):
            out.append(stmt[:m.start(1)] + t + stmt[m.end(1):])
    return "\n".join(out)
open(sys.argv[3], "w").write("\n".join(split(a["inverse"]) for a in reversed(acts)) + "\n")
print(len(acts), sum(a["forward"].count(";") for a in acts), sum(a["inverse"].count(";") for a in acts))' \
  "$work/forward.sql" "$work/inverse.sql" "$work/inverse_per_table.sql" >"$work/count"
read -r actions fwd_stmts inv_stmts <"$work/count"
t0=$(now_ms)
"$PG_BIN/psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$dsn" -f "$work/forward.sql" >/dev/null
t1=$(now_ms)
"$PG_BIN/psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$dsn" -f "$work/inverse.sql" >/dev/null
t2=$(now_ms)
psql_fwd_ms=$((t1 - t0))
psql_inv_ms=$((t2 - t1))
"$PG_BIN/psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$dsn" -f "$work/forward.sql" >/dev/null
t0=$(now_ms)
"$PG_BIN/psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$dsn" -f "$work/inverse_per_table.sql" >/dev/null
t1=$(now_ms)
per_table_ms=$((t1 - t0))
per_table_stmts=$(grep -c ';$' "$work/inverse_per_table.sql")

ds run revoke --rehearse --json | python3 -c '
import json, sys
ev = [e for e in map(json.loads, sys.stdin) if e.get("event") == "rehearsal"]
locks = sorted({l for e in ev for l in e.get("locks", [])})
print(max(e["ms"] for e in ev), ",".join(locks) or "none")' >"$work/lock"

action_ms() { python3 -c '
import json, sys
print(sum(e.get("ms", 0) for e in map(json.loads, sys.stdin) if e.get("event") == "action" and "ms" in e))'; }
t0=$(now_ms)
ds run revoke --yes --json >"$work/run.json"
t1=$(now_ms)
ds rollback revoke --json >"$work/rollback.json"
t2=$(now_ms)
run_ms=$((t1 - t0))
rollback_ms=$((t2 - t1))
run_action_ms=$(action_ms <"$work/run.json")
rollback_action_ms=$(action_ms <"$work/rollback.json")
"$PG_BIN/psql" -X -q -d "$dsn" -c "DROP OWNED BY o_app, c_app, o, c CASCADE" >/dev/null 2>&1 || true

read -r lock_ms locks <"$work/lock"
echo "revoke_apply_${N}_tables: ${run_action_ms} ms in $actions transaction(s), $fwd_stmts statements" \
     "($(ratio "$run_action_ms" "$psql_fwd_ms")x psql -1 ${psql_fwd_ms} ms; whole command ${run_ms} ms; target: report)"
echo "revoke_rollback_${N}_tables: ${rollback_action_ms} ms in $actions transaction(s), $inv_stmts statements" \
     "($(ratio "$rollback_action_ms" "$psql_inv_ms")x psql -1 ${psql_inv_ms} ms; whole command ${rollback_ms} ms; target: < 1000 ms)"
echo "revoke_rollback_batched_vs_per_table: $(ratio "$psql_inv_ms" "$per_table_ms")x" \
     "(psql -1: $inv_stmts batched statements ${psql_inv_ms} ms, $per_table_stmts per-table statements ${per_table_ms} ms; target: < 1x)"
echo "revoke_locks: table locks taken: $locks; longest transaction ${lock_ms} ms (rehearsal; target: no table lock)"
