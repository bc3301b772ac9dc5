#!/usr/bin/env bash
# Step 1 at scale: a generated stderr log of 1,000,000 statements drawn from
# 5,000 shapes (50 tables x 100 columns, SELECT/UPDATE/INSERT, literals varying
# per line, 10 roles). Prints `dbsplit catalogue` statements per second next to
# the naive baseline measured in the same run (pg_query_parse on every
# statement of the same log, read by the same reader; target >= 1.0x), its
# peak RSS (target < 300 MB) and how peak RSS grows from 1/4 of the input to
# all of it (target: flat).
source "$(dirname "$0")/common.sh"
N=${CATALOGUE_BENCH_STATEMENTS:-1000000}
DRIVER=${CATALOGUE_BENCH_DRIVER:-$(dirname "$DBSPLIT")/bench/catalogue_bench}
[ -x "$DRIVER" ] || { echo "catalogue: no driver at $DRIVER (ninja catalogue_bench)" >&2; exit 2; }
dsn=$(bench_db catalogue)
work=$BENCH_DIR/catalogue
mkdir -p "$work"
awk 'BEGIN {
  for (t = 0; t < 50; t++) {
    printf "CREATE TABLE public.t%d (id bigint PRIMARY KEY", t
    for (c = 0; c < 100; c++) printf ", c%d int", c
    print ");"
  }
}' | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$dsn" >/dev/null

generate() {  # generate COUNT FILE
  awk -v n="$1" 'BEGIN {
    srand(42)
    for (j = 0; j < n; j++) {
      i = int(rand() * 5000); t = i % 50; k = int(i / 50); v = int(rand() * 100000)
      if (i % 3 == 0) s = sprintf("SELECT id, c%d FROM t%d WHERE id = %d AND c%d > %d", k, t, v, k, v % 97)
      else if (i % 3 == 1) s = sprintf("UPDATE t%d SET c%d = %d WHERE id = %d", t, k, v % 89, v)
      else s = sprintf("INSERT INTO t%d (id, c%d) VALUES (%d, %d)", t, k, v, v % 83)
      printf "2026-11-23 10:00:00.%03d UTC [%d] user=r%d,db=bench,app=svc LOG:  statement: %s\n", j % 1000, 1000 + i % 10, i % 10, s
    }
  }' >"$2"
}
generate "$N" "$work/full.log"
generate $((N / 4)) "$work/quarter.log"

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
catalogue() {  # catalogue LOG -> "seconds=... rss_kb=..."
  (cd "$work" && "$DRIVER" measure sh -c \
    "\"$DBSPLIT\" --dsn \"$dsn\" --no-progress catalogue --source log:$1 --format json >$1.json")
}
full=$(catalogue "$work/full.log")
quarter=$(catalogue "$work/quarter.log")
base=$("$DRIVER" baseline "$work/full.log")

secs=$(echo "$full" | field seconds)
rss=$(echo "$full" | field rss_kb)
rss_q=$(echo "$quarter" | field rss_kb)
base_secs=$(echo "$base" | field seconds)
base_n=$(echo "$base" | field statements)
shapes=$(grep -o '"shapes": *[0-9]*' "$work/full.log.json" | grep -o '[0-9]*$')
parses=$(grep -o '"parses": *[0-9]*' "$work/full.log.json" | grep -o '[0-9]*$')
[ "$base_n" = "$N" ] || { echo "catalogue: baseline read $base_n statements, expected $N" >&2; exit 1; }
rate=$(awk -v n="$N" -v s="$secs" 'BEGIN { printf "%d", n / s }')
base_rate=$(awk -v n="$N" -v s="$base_secs" 'BEGIN { printf "%d", n / s }')
echo "catalogue_statements_per_s: $rate ($N statements, $shapes shapes, $parses parses)"
echo "catalogue_baseline_parse_every_statement_per_s: $base_rate (same log, same reader)"
echo "catalogue_vs_baseline: $(ratio "$rate" "$base_rate")x (target >= 1.0x)"
echo "catalogue_peak_rss_mb: $((rss / 1024)) (target < 300)"
echo "catalogue_peak_rss_growth_1x_over_quarter: $(ratio "$rss" "$rss_q")x (target flat, ~1.0x)"
