#!/usr/bin/env bash
# Projections: backfill and relay throughput against PostgreSQL's own tools, in
# one run on one throwaway sandbox (fsync on). Sizes (defaults are the issue's):
#   PROJ_BENCH_ROWS    rows of the backfilled table          (default 5000000)
#   PROJ_BENCH_EVENTS  update events the relay applies        (default 1000000)
# Prints:
#   backfill_same_db   INSERT INTO proj SELECT ... FROM src  / dbsplit backfill  (target >= 0.8)
#   backfill_cross_db  psql COPY TO | psql COPY FROM         / dbsplit backfill  (target >= 0.8)
#   backfill_rss       peak RSS of `dbsplit run projections` at ROWS/5 and ROWS (target < 100 MB, flat)
#   relay              events/s of `dbsplit relay --once` / events/s of logical replication
#                      (publication + subscription on the same sandbox, start to zero lag)
#                      (target >= 1.0)
#   relay_lag_p99_ms   projection freshness under steady load: pgbench updates the
#                      source at PROJ_BENCH_LAG_RATE row changes/s (default 2000)
#                      for PROJ_BENCH_LAG_SECONDS (default 60) while `dbsplit relay`
#                      runs; per change, (commit of the consumer transaction that
#                      made it visible in the projection) - (commit of the source
#                      transaction), both from track_commit_timestamp
#                      (target p99 <= 500 ms)
# Usage: DBSPLIT=build/dbsplit bench/projections.sh
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
DBSPLIT=${DBSPLIT:-$here/../build/dbsplit}
ROWS=${PROJ_BENCH_ROWS:-5000000}
EVENTS=${PROJ_BENCH_EVENTS:-1000000}
LAG_SECONDS=${PROJ_BENCH_LAG_SECONDS:-60}
LAG_RATE=${PROJ_BENCH_LAG_RATE:-2000}
PORT=${BENCH_PORT:-55451}
DIR=$(mktemp -d /tmp/projections-bench.XXXXXX)
chmod 755 "$DIR"
PG_BIN=${DBSPLIT_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
"$DBSPLIT" sandbox start --dir "$DIR/sandbox" --port "$PORT" >/dev/null
cleanup() {
  "$DBSPLIT" sandbox stop --dir "$DIR/sandbox" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
dsn() { echo "host=$DIR/sandbox port=$PORT user=postgres dbname=$1"; }
ADMIN=$(dsn postgres)
sql() { local db=$1; shift; "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$(dsn "$db")" "$@"; }
now_ms() { date +%s%3N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b == 0 ? 0 : a / b) }'; }

# A source database at step 3 (outbox applied) with `rows` rows in public.src,
# and a plan whose consumer `ship` projects it (in its own database when $3 is set).
prepare() {  # name rows [consumer-db]
  local db=$1 rows=$2 cdb=${3:-}
  "$PG_BIN/psql" -X -q -d "$ADMIN" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  if [ -n "$cdb" ]; then
    "$PG_BIN/psql" -X -q -d "$ADMIN" -c "DROP DATABASE IF EXISTS $cdb WITH (FORCE)" -c "CREATE DATABASE $cdb" >/dev/null
  fi
  sql "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
    -c "CREATE TABLE public.src (id bigint PRIMARY KEY, account int NOT NULL, status text,
          amount numeric(12,2), updated_at timestamptz)" \
    -c "INSERT INTO public.src SELECT g, g % 1000, 'status ' || (g % 7), g * 0.25,
          timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, $rows) g" \
    -c "VACUUM ANALYZE public.src" >/dev/null
  mkdir -p "$DIR/$db"
  {
    echo "[migration]"; echo "name = \"$db\""; echo
    echo "[[service]]"; echo "name = \"own_$db\""; echo
    echo "[[service]]"; echo "name = \"ship_$db\""
    [ -n "$cdb" ] && echo "database = \"$(dsn "$cdb")\""
    echo; echo "[[table]]"; echo "name = \"public.src\""; echo "owner = \"own_$db\""; echo
    echo "[[event]]"; echo "table = \"public.src\""; echo "aggregate_type = \"src\""; echo
    echo "[[projection]]"; echo "consumer = \"ship_$db\""; echo "source = \"public.src\""
    echo "name = \"src_view\""
    echo "columns = [\"id\", \"account\", \"status\", \"amount\", \"updated_at\"]"
    echo "key = [\"id\"]"
  } >"$DIR/$db/dbsplit.toml"
  dbs "$db" run catalogue >/dev/null
  dbs "$db" run ownership --yes >/dev/null
  dbs "$db" run outbox >/dev/null
}
dbs() { local db=$1; shift; "$DBSPLIT" --plan "$DIR/$db/dbsplit.toml" --dsn "$(dsn "$db")" --no-progress "$@"; }
# Runs the projections step; prints "<backfill action ms> <peak RSS kB>" (the
# backfill action's own time, as the engine reports it).
timed_step() {
  local db=$1
  /usr/bin/time -f "%M" -o "$DIR/rss" "$DBSPLIT" --plan "$DIR/$db/dbsplit.toml" \
    --dsn "$(dsn "$db")" --no-progress run projections >"$DIR/step.out"
  local ms
  ms=$(sed -n 's/.*applied  projections\/backfill\/.*(\([0-9]*\) ms).*/\1/p' "$DIR/step.out")
  echo "$ms $(cat "$DIR/rss")"
}
drop_roles() {
  for r in $("$PG_BIN/psql" -X -Atq -d "$ADMIN" -c "SELECT rolname FROM pg_roles WHERE rolname ~ '^(own|ship)_'"); do
    for d in $("$PG_BIN/psql" -X -Atq -d "$ADMIN" -c "SELECT datname FROM pg_database WHERE NOT datistemplate"); do
      "$PG_BIN/psql" -X -q -d "$(dsn "$d")" -c "DROP OWNED BY \"$r\" CASCADE" >/dev/null 2>&1 || true
    done
    "$PG_BIN/psql" -X -q -d "$ADMIN" -c "DROP ROLE \"$r\"" >/dev/null 2>&1 || true
  done
}

# --- backfill, same database ---------------------------------------------------
prepare bf "$ROWS"
sql bf -c "CREATE TABLE public.baseline (id bigint PRIMARY KEY, account int, status text,
             amount numeric(12,2), updated_at timestamptz)" -c "CHECKPOINT" >/dev/null
t0=$(now_ms)
sql bf -c "INSERT INTO public.baseline SELECT id, account, status, amount, updated_at FROM public.src" >/dev/null
base_same=$(($(now_ms) - t0))
sql bf -c "DROP TABLE public.baseline" -c "CHECKPOINT" >/dev/null
read -r ours_same rss_full < <(timed_step bf)
n=$(sql bf -Atc "SELECT count(*) FROM ship_bf.src_view")
[ "$n" = "$ROWS" ] || { echo "backfill copied $n rows of $ROWS" >&2; exit 1; }

# --- peak RSS at a fifth of the rows -------------------------------------------
prepare bfs "$((ROWS / 5))"
read -r _ rss_small < <(timed_step bfs)
"$PG_BIN/psql" -X -q -d "$ADMIN" -c "DROP DATABASE bfs WITH (FORCE)" >/dev/null

# --- backfill, cross database --------------------------------------------------
prepare bx "$ROWS" bx_consumer
sql bx_consumer -c "CREATE TABLE public.baseline (id bigint PRIMARY KEY, account int, status text,
             amount numeric(12,2), updated_at timestamptz)" -c "CHECKPOINT" >/dev/null
t0=$(now_ms)
sql bx -c "COPY (SELECT id, account, status, amount, updated_at FROM public.src) TO STDOUT" |
  sql bx_consumer -c "COPY public.baseline FROM STDIN"
base_cross=$(($(now_ms) - t0))
sql bx_consumer -c "DROP TABLE public.baseline" -c "CHECKPOINT" >/dev/null
read -r ours_cross _ < <(timed_step bx)
"$PG_BIN/psql" -X -q -d "$ADMIN" -c "DROP DATABASE bx WITH (FORCE)" -c "DROP DATABASE bx_consumer WITH (FORCE)" >/dev/null

# --- relay vs logical replication ----------------------------------------------
# The same change stream both ways: EVENTS single-row updates (in transactions
# of 100) of public.src in database bf, whose projection is applied; the
# native arm is a subscription in database bf_sub, enabled after the stream.
sql bf -c "DROP DATABASE IF EXISTS bf_sub" >/dev/null 2>&1 || true
"$PG_BIN/psql" -X -q -d "$ADMIN" -c "CREATE DATABASE bf_sub" >/dev/null
sql bf_sub -c "CREATE TABLE public.src (id bigint PRIMARY KEY, account int NOT NULL, status text,
             amount numeric(12,2), updated_at timestamptz)" >/dev/null
sql bf -c "COPY public.src TO STDOUT" | sql bf_sub -c "COPY public.src FROM STDIN"
sql bf -c "CREATE PUBLICATION bench_pub FOR TABLE public.src" \
  -c "SELECT pg_create_logical_replication_slot('bench_sub', 'pgoutput')" >/dev/null
sql bf_sub -c "CREATE SUBSCRIPTION bench_sub CONNECTION '$(dsn bf)' PUBLICATION bench_pub
             WITH (create_slot = false, slot_name = 'bench_sub', copy_data = false, enabled = false)" >/dev/null
sql bf -c "DO \$\$ BEGIN
  FOR i IN 0 .. $((EVENTS / 100 - 1)) LOOP
    UPDATE public.src SET amount = amount + 1, updated_at = now()
     WHERE id > i * 100 % $ROWS AND id <= i * 100 % $ROWS + 100;
    COMMIT;
  END LOOP; END \$\$" >/dev/null
events=$(sql bf -Atc "SELECT count(*) FROM own_bf.outbox")
target_lsn=$(sql bf -Atc "SELECT pg_current_wal_lsn()")
sql bf -c "CHECKPOINT" >/dev/null
t0=$(now_ms)
sql bf_sub -c "ALTER SUBSCRIPTION bench_sub ENABLE" >/dev/null
until [ "$(sql bf -Atc "SELECT coalesce(bool_and(confirmed_flush_lsn >= '$target_lsn'), false)
              FROM pg_replication_slots WHERE slot_name = 'bench_sub'")" = "t" ]; do sleep 0.05; done
native_ms=$(($(now_ms) - t0))
sql bf_sub -c "ALTER SUBSCRIPTION bench_sub DISABLE" -c "ALTER SUBSCRIPTION bench_sub SET (slot_name = NONE)" \
  -c "DROP SUBSCRIPTION bench_sub" >/dev/null
sql bf -c "SELECT pg_drop_replication_slot('bench_sub')" -c "CHECKPOINT" >/dev/null
t0=$(now_ms)
/usr/bin/time -f "%M" -o "$DIR/rss_relay" "$DBSPLIT" --plan "$DIR/bf/dbsplit.toml" --dsn "$(dsn bf)" \
  --no-progress relay --once >/dev/null
relay_ms=$(($(now_ms) - t0))
diff=$(sql bf -Atc "SELECT count(*) FROM (SELECT id, account, status, amount, updated_at FROM public.src
                    EXCEPT SELECT id, account, status, amount, updated_at FROM ship_bf.src_view) x")
[ "$diff" = "0" ] || { echo "relay: projection differs from the source in $diff rows" >&2; exit 1; }
relay_eps=$(awk -v n="$events" -v ms="$relay_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')
native_eps=$(awk -v n="$events" -v ms="$native_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')
drop_roles

# --- relay lag under steady load -----------------------------------------------
# Commit timestamps on both sides: the source change's transaction (the outbox
# row's txid) and the relay's consumer transaction, recorded by a trigger on the
# projection (the bench's instrument: lag_seen gets the applying transaction).
"$PG_BIN/psql" -X -q -d "$ADMIN" -c "ALTER SYSTEM SET track_commit_timestamp = on" >/dev/null
"$DBSPLIT" sandbox stop --dir "$DIR/sandbox" >/dev/null
"$DBSPLIT" sandbox start --dir "$DIR/sandbox" --port "$PORT" >/dev/null
LAG_ROWS=100000
prepare lag "$LAG_ROWS"
dbs lag run projections >/dev/null
sql lag -c "CREATE TABLE public.lag_seen (id bigint, updated_at timestamptz,
              xid xid8 NOT NULL DEFAULT pg_current_xact_id())" \
  -c "CREATE FUNCTION public.lag_seen() RETURNS trigger LANGUAGE plpgsql AS \$\$
      BEGIN INSERT INTO public.lag_seen (id, updated_at) VALUES (NEW.id, NEW.updated_at);
            RETURN NULL; END \$\$" \
  -c "CREATE TRIGGER lag_seen AFTER INSERT OR UPDATE ON ship_lag.src_view
      FOR EACH ROW EXECUTE FUNCTION public.lag_seen()" >/dev/null
cat >"$DIR/lag.sql" <<SQL
\\set id random(1, $LAG_ROWS)
UPDATE public.src SET amount = amount + 1, updated_at = clock_timestamp() WHERE id = :id;
SQL
dbs lag relay >"$DIR/lag_relay.out" 2>&1 &
relay_pid=$!
sleep 2
"$PG_BIN/pgbench" -n -c 16 -j 2 -R "$LAG_RATE" -T "$LAG_SECONDS" -f "$DIR/lag.sql" "$(dsn lag)" \
  >"$DIR/lag_pgbench.out" 2>&1
lag_tps=$(awk '/^tps = / { printf "%.0f", $3; exit }' "$DIR/lag_pgbench.out")
# Caught up: every source change is in lag_seen (or the relay stopped).
written=$(sql lag -Atc "SELECT count(*) FROM own_lag.outbox WHERE op = 'u'")
for _ in $(seq 300); do
  [ "$(sql lag -Atc "SELECT count(*) FROM public.lag_seen")" -ge "$written" ] && break
  kill -0 "$relay_pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$relay_pid" 2>/dev/null || true
wait "$relay_pid" 2>/dev/null || true
read -r lag_n lag_p50 lag_p99 lag_max < <(sql lag -Atc "
  WITH src AS (SELECT (payload->>'id')::bigint AS id, (payload->>'updated_at')::timestamptz AS ts,
                      pg_xact_commit_timestamp(txid::xid) AS committed
                 FROM own_lag.outbox WHERE op = 'u'),
       seen AS (SELECT id, updated_at AS ts, pg_xact_commit_timestamp(xid::xid) AS visible
                  FROM public.lag_seen),
       lag AS (SELECT extract(epoch FROM visible - committed) * 1000 AS ms
                 FROM src JOIN seen USING (id, ts))
  SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)), round(max(ms))
    FROM lag" | tr '|' ' ')
[ "$lag_n" -ge $((written * 95 / 100)) ] ||
  { echo "relay lag: only $lag_n of $written changes were seen in the projection" >&2; cat "$DIR/lag_relay.out" >&2; exit 1; }
drop_roles

echo "rows=$ROWS events=$events"
echo "backfill_same_db (INSERT SELECT ${base_same} ms / dbsplit ${ours_same} ms): $(ratio "$base_same" "$ours_same") (target >= 0.8)"
echo "backfill_cross_db (psql COPY|COPY ${base_cross} ms / dbsplit ${ours_cross} ms): $(ratio "$base_cross" "$ours_cross") (target >= 0.8)"
echo "backfill_rss (peak kB at $((ROWS / 5)) rows / at $ROWS rows): ${rss_small} / ${rss_full} (target < 102400, flat)"
echo "relay_lag_p99_ms: ${lag_p99} (target <= 500; p50 ${lag_p50}, max ${lag_max}; $lag_n changes at $lag_tps/s for ${LAG_SECONDS} s, target rate $LAG_RATE/s)"
echo "relay (dbsplit ${relay_eps} ev/s / logical replication ${native_eps} ev/s): $(ratio "$relay_eps" "$native_eps") (target >= 1.0; relay peak RSS $(cat "$DIR/rss_relay") kB)"
