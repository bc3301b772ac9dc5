#!/usr/bin/env bash
# Cost of dbsplit's generated outbox trigger on pgbench's TPC-B-like workload
# (scale 10, 4 clients, 2 threads). Three arms, interleaved A B C and repeated
# 3 times, OUTBOX_BENCH_SECONDS (default 30) each, on one database:
#   A  the standard transaction, no outbox (dbsplit's triggers disabled)
#   B  the same transaction plus a hand-written INSERT of the same payload into
#      the same outbox table (bench/outbox/handwritten.sql; triggers disabled)
#   C  the standard transaction with dbsplit's trigger on pgbench_accounts
# Prints C/B (target >= 0.95: the trigger costs no more than writing the row by
# hand) and C/A (the whole price of publishing, for reference).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
SECS=${OUTBOX_BENCH_SECONDS:-30}
ROUNDS=${OUTBOX_BENCH_ROUNDS:-3}
DSN=$(bench_db outbox_bench 2>/dev/null)
psql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DSN" "$@"; }

"$PG_BIN/pgbench" -i -s 10 -q "$DSN" >/dev/null 2>&1
psql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1
cp "$here/outbox/plan.toml" "$BENCH_DIR/dbsplit.toml"
# Steps 1-3 only: a later step (split) would move the tables out of public.
for step in catalogue ownership outbox; do
  "$DBSPLIT" --plan "$BENCH_DIR/dbsplit.toml" --dsn "$DSN" --no-progress run "$step" --yes >/dev/null
done

triggers() {  # enable|disable dbsplit's triggers on pgbench_accounts
  psql -c "ALTER TABLE public.pgbench_accounts $1 TRIGGER dbsplit_outbox" \
       -c "ALTER TABLE public.pgbench_accounts $1 TRIGGER dbsplit_outbox_truncate"
}

arm() {  # prints the arm's tps
  psql -c "CHECKPOINT"
  "$PG_BIN/pgbench" -n -c 4 -j 2 -T "$SECS" "$@" "$DSN" 2>/dev/null |
    awk '/^tps = / { print $3; exit }'
}

a=0; b=0; c=0
for _ in $(seq "$ROUNDS"); do
  triggers DISABLE
  a=$(awk -v s="$a" -v t="$(arm -b tpcb-like)" 'BEGIN { print s + t }')
  # A custom script learns the scale only from -s (else :scale = 1 and every
  # client fights over one branch row).
  b=$(awk -v s="$b" -v t="$(arm -s 10 -f "$here/outbox/handwritten.sql")" 'BEGIN { print s + t }')
  triggers ENABLE
  c=$(awk -v s="$c" -v t="$(arm -b tpcb-like)" 'BEGIN { print s + t }')
done
events=$(psql -Atc "SELECT count(*) FROM bench.outbox")
[ "$events" -gt 0 ] || { echo "outbox: no events were written" >&2; exit 1; }

echo "outbox_trigger_vs_handwritten_insert (C/B tps): $(ratio "$c" "$b") (target >= 0.95)"
echo "outbox_trigger_vs_no_outbox (C/A tps): $(ratio "$c" "$a") (reported; an audit trigger writing no row costs < 1%)"
