# Shared by the benchmarks (source it). Starts a durable sandbox (fsync on, as a
# real server) in a temporary folder and stops it on exit. Gives:
#   $BENCH_DIR, $PG_BIN (psql, pgbench, pg_dump...), $BENCH_PORT,
#   bench_db NAME  -> prints a DSN for a fresh database NAME
#   ratio A B      -> A/B with 2 decimals
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-$((56100 + RANDOM % 800))}
BENCH_DIR=$(mktemp -d /tmp/dbsplit-bench.XXXXXX)
chmod 755 "$BENCH_DIR"
"$DBSPLIT" sandbox start --dir "$BENCH_DIR/sandbox" --port "$BENCH_PORT" >/dev/null
PG_BIN=${DBSPLIT_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
bench_cleanup() {
  "$DBSPLIT" sandbox stop --dir "$BENCH_DIR/sandbox" >/dev/null 2>&1 || true
  rm -rf "$BENCH_DIR"
}
trap bench_cleanup EXIT
BENCH_ADMIN="host=$BENCH_DIR/sandbox port=$BENCH_PORT user=postgres dbname=postgres"
bench_db() {
  "$PG_BIN/psql" -X -q -d "$BENCH_ADMIN" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$1\"" >/dev/null
  echo "host=$BENCH_DIR/sandbox port=$BENCH_PORT user=postgres dbname=$1"
}
now_ms() { date +%s%3N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b == 0 ? 0 : a / b) }'; }
