#!/usr/bin/env bash
# Step 6 benchmarks, each with its baseline measured in the same run:
#  1. schema move of 200 tables while pgbench, as the owner's login role with
#     its connections held open (no reconnect, no search_path help), updates
#     them by their unqualified names: failed transactions (target 0) and the
#     longest latency during `dbsplit run split` next to the longest without it
#     (target: <= lock timeout + 200 ms = 700 ms);
#  2. cutover write downtime: the longest gap between two commits of a steady
#     writer (~100 tx/s) across `run split` in database mode, the writer
#     switched to the new database by the on_cutover hook (target <= 1 s);
#     then the same cutover with the writers behind PgBouncer (transaction
#     pooling; pgbench -M simple, persistent connections, the owner's login
#     role, unqualified names): the longest write pause they see across
#     `run split` with [step.split] pgbouncer (PAUSE, fence, sync, the hook
#     repoints the pool, RESUME; target <= 1 s, aim 100 ms) and their failed
#     transactions (target 0), each next to the same pgbench without a cutover;
#  3. initial sync of 5,000,000 rows: `run split` (database mode: slot with an
#     exported snapshot, dbsplit's own COPY, subscription with copy_data = false,
#     fenced cutover verifying every row) next to `pg_dump -Fc -t | pg_restore`
#     of the same table (target: <= 1.0).
# Sizes: SPLIT_BENCH_TABLES (200), SPLIT_BENCH_ROWS (5000000); SPLIT_BENCH_PARTS picks
# a subset of "schema cutover sync".
# Each part is a migration of its own name: its journal, and its replication
# slot (slot names are per server) apart from the others'. Every wait is
# bounded (`bounded`; a dbsplit step: SPLIT_BENCH_STEP_TIMEOUT, 1800 s): a
# command or a client that hangs fails the bench instead of stalling it.
source "$(dirname "$0")/common.sh"
N=${SPLIT_BENCH_TABLES:-200}
ROWS=${SPLIT_BENCH_ROWS:-5000000}
PARTS=" ${SPLIT_BENCH_PARTS:-schema cutover sync} "
work=$BENCH_DIR/split
mkdir -p "$work"
tag=b$BENCH_PORT   # roles are cluster-wide: keep this run's apart
sock="host=$BENCH_DIR/sandbox port=$BENCH_PORT"
P() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
# bounded SECONDS CMD...: CMD, killed after SECONDS (exit 124, named on stderr).
bounded() {
  local secs=$1 rc=0; shift
  timeout --kill-after=10 "$secs" "$@" || rc=$?
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || echo "split: timed out after ${secs} s: $*" >&2
  return "$rc"
}
DBSPLIT_BOUND=${SPLIT_BENCH_STEP_TIMEOUT:-1800}
"$PG_BIN/psql" -X -q -d "$BENCH_ADMIN" -c "CREATE ROLE ${tag}_app LOGIN" >/dev/null

# plan FILE BODY: a plan of migration bench_<FILE's base name> with service
# ${tag}_svc and a catalogue source.
plan() {
  local file=$1 body=$2
  echo "SELECT 1;" >"$work/app.sql"
  {
    printf '[migration]\nname = "bench_%s"\n\n[[service]]\nname = "%s_svc"\nroles = ["%s_app"]\n' \
      "$(basename "$file" .toml)" "$tag" "$tag"
    printf '%s\n' "$body"
    printf '[step.catalogue]\nsources = ["sql:%s/app.sql@%s_svc"]\n' "$work" "$tag"
  } >"$file"
}
# Walks `run --next --yes` until split is the next step.
to_split() {  # PLAN DSN
  for _ in 1 2 3 4 5 6; do
    next=$(bounded 120 "$DBSPLIT" --plan "$1" --dsn "$2" --no-progress status --json | python3 -c '
import json, sys
for e in map(json.loads, sys.stdin):
    if e.get("event") == "step" and e["status"] != "applied" and e["step"] != "finalize":
        print(e["step"]); break')
    [ "$next" = split ] && return 0
    bounded 600 "$DBSPLIT" --plan "$1" --dsn "$2" --no-progress run --next --yes >/dev/null
  done
  echo "split: never reached step split" >&2; return 1
}
maxlat() { cat "$@" | awk '$3 > m { m = $3 } END { printf "%.0f", m / 1000 }'; }

# --- 1. schema move under pgbench -------------------------------------------
if [[ $PARTS == *" schema "* ]]; then
dsn=$(bench_db split_schema)
{
  echo "BEGIN;"
  for i in $(seq 1 "$N"); do
    echo "CREATE TABLE public.t$i (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);"
    echo "INSERT INTO public.t$i (id) SELECT generate_series(1, 100);"
  done
  echo "COMMIT;"
} | P -d "$dsn" >/dev/null
body=""
for i in $(seq 1 "$N"); do body+=$(printf '\n[[table]]\nname = "public.t%d"\nowner = "%s_svc"\n' "$i" "$tag"); done
plan "$work/schema.toml" "$body
[step.split]
allow_unqualified = true"
to_split "$work/schema.toml" "$dsn"
printf '\\set t random(1, %d)\n\\set id random(1, 100)\nUPDATE t:t SET v = v + 1 WHERE id = :id;\n' "$N" >"$work/update.sql"
# The owner's login role, its server-side search_path untouched, connections
# held from before the step to after it (no -C): a pool, as applications have.
app="$dsn user=${tag}_app"
failed() { grep -h "number of failed transactions" "$@" | awk '{ s += $5 } END { print s + 0 }'; }
(cd "$work" && bounded 60 "$PG_BIN/pgbench" -n -c 4 -j 2 -T 8 -f update.sql -l --log-prefix=base "$app" >base.txt 2>&1) || true
base_ms=$(maxlat "$work"/base.[0-9]*)
base_failed=$(failed "$work/base.txt")
(cd "$work" && bounded "$((DBSPLIT_BOUND + 60))" "$PG_BIN/pgbench" -n -c 4 -j 2 -T 14 -f update.sql -l --log-prefix=move "$app" >move.txt 2>&1) &
bench_pid=$!
sleep 3
t0=$(now_ms)
bounded "$DBSPLIT_BOUND" "$DBSPLIT" --plan "$work/schema.toml" --dsn "$dsn" --no-progress run split >"$work/schema.out"
t1=$(now_ms)
rc=0; wait $bench_pid || rc=$?
move_ms=$(maxlat "$work"/move.[0-9]*)
move_failed=$(failed "$work/move.txt")
# pgbench exits 2 when a client aborted on an error (those are not counted as failed).
[ "$rc" -eq 0 ] || move_failed="$move_failed (pgbench exit $rc: a client aborted on an error)"
echo "split_schema_live_errors: ${move_failed} failed application transactions during the ${N}-table move" \
     "(pgbench as the owner's role, persistent connections; without the move: ${base_failed}; target: 0)"
echo "split_schema_live_max_latency: ${move_ms} ms longest write during the move (without it: ${base_ms} ms," \
     "ratio $(ratio "$move_ms" "$base_ms")x; step $((t1 - t0)) ms; target: <= 700 ms = lock timeout + 200 ms)"

fi

# --- 2. cutover write downtime ----------------------------------------------
if [[ $PARTS == *" cutover "* ]]; then
dsn=$(bench_db split_cutover)
P -d "$BENCH_ADMIN" -c "DROP DATABASE IF EXISTS split_cutover_new WITH (FORCE)" >/dev/null
P -d "$dsn" -c "CREATE TABLE public.w (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                                       at timestamptz NOT NULL DEFAULT clock_timestamp())" >/dev/null
plan "$work/cutover.toml" "database = \"$sock user=postgres dbname=split_cutover_new\"

[[table]]
name = \"public.w\"
owner = \"${tag}_svc\"

[step.split]
mode = \"database\"
on_cutover = 'echo \"\$DBSPLIT_NEW_DSN user=${tag}_app\" > $work/switch'"
to_split "$work/cutover.toml" "$dsn"
rm -f "$work/switch" "$work/stop"
(
  switched=0
  while [ ! -f "$work/stop" ]; do
    if [ $switched = 0 ] && [ -s "$work/switch" ]; then echo "\\connect '$(cat "$work/switch")'"; switched=1; fi
    echo "INSERT INTO w DEFAULT VALUES RETURNING extract(epoch FROM clock_timestamp());"
    sleep 0.01
  done
) | PGOPTIONS="-c search_path=${tag}_svc,public" bounded "$((DBSPLIT_BOUND + 60))" "$PG_BIN/psql" -X -At -d "$sock user=${tag}_app dbname=split_cutover" \
      >"$work/commits" 2>"$work/writer.err" &
writer=$!
sleep 3
bounded "$DBSPLIT_BOUND" "$DBSPLIT" --plan "$work/cutover.toml" --dsn "$dsn" --no-progress --json run split >"$work/cutover.json" ||
  { touch "$work/stop"; exit 1; }
sleep 2
touch "$work/stop"
wait $writer || true
cut_ms=$(python3 -c '
import json, sys
print(next(e["ms"] for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "cutover"))' "$work/cutover.json")
read -r gap rate < <(grep -E '^[0-9.]+$' "$work/commits" | sort -n | awk '
  NR > 1 && ($1 - p) > g { g = $1 - p } { if (NR == 1) f = $1; p = $1; n++ }
  END { printf "%.0f %.0f\n", g * 1000, n / (p - f) }')
src_rows=$("$PG_BIN/psql" -X -At -d "$dsn" -c "SELECT count(*) FROM ${tag}_svc.w")
new_rows=$("$PG_BIN/psql" -X -At -d "$sock user=postgres dbname=split_cutover_new" -c "SELECT count(*) FROM ${tag}_svc.w")
refused=$(grep -c "permission denied" "$work/writer.err" || true)
echo "split_cutover_write_gap: ${gap} ms longest gap between commits (writer ${rate} tx/s;" \
     "cutover mover ${cut_ms} ms; ${src_rows} rows on the source, ${new_rows} in the new database" \
     "after the switch, ${refused} writes refused by the fence; target: <= 1000 ms)"

# The same cutover through PgBouncer: a PgBouncer of this run (Unix socket
# only) with the service's own pool, which the hook repoints and RELOADs.
dsn=$(bench_db split_pgb)
P -d "$BENCH_ADMIN" -c "DROP DATABASE IF EXISTS split_pgb_new WITH (FORCE)" >/dev/null
P -d "$dsn" -c "CREATE TABLE public.w (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                                       at timestamptz NOT NULL DEFAULT clock_timestamp())" >/dev/null
bdir=$work/bouncer
bport=$((BENCH_PORT + 1))
mkdir -p "$bdir"
bouncer_ini() {  # DBNAME
  printf '[databases]\n%s_svc = host=%s port=%s dbname=%s auth_user=postgres\n\n' \
    "$tag" "$BENCH_DIR/sandbox" "$BENCH_PORT" "$1"
  printf '[pgbouncer]\nlisten_addr =\nlisten_port = %s\nunix_socket_dir = %s\n' "$bport" "$bdir"
  printf 'auth_type = trust\nauth_file = %s/userlist.txt\nadmin_users = postgres\n' "$bdir"
  printf 'pool_mode = transaction\ndefault_pool_size = 10\nserver_lifetime = 3600\n'
  printf 'ignore_startup_parameters = options, extra_float_digits\n'
  printf 'logfile = %s/pgbouncer.log\npidfile = %s/pgbouncer.pid\n' "$bdir" "$bdir"
}
bouncer_ini split_pgb >"$bdir/pgbouncer.ini"
bouncer_ini split_pgb_new >"$work/bouncer-after.ini"
echo '"postgres" ""' >"$bdir/userlist.txt"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$bdir"; as_pg=(runuser -u postgres --); else as_pg=(); fi
"${as_pg[@]}" /usr/sbin/pgbouncer -d "$bdir/pgbouncer.ini" >/dev/null
trap 'jobs -p | xargs -r kill 2>/dev/null; kill "$(cat "$bdir/pgbouncer.pid" 2>/dev/null)" 2>/dev/null; bench_cleanup' EXIT
for _ in $(seq 50); do [ -S "$bdir/.s.PGSQL.$bport" ] && break; sleep 0.1; done
console="host=$bdir port=$bport user=postgres dbname=pgbouncer"
printf '#!/bin/sh\nset -e\ncp "%s" "%s"\n"%s/psql" -X -q -d "$DBSPLIT_PGBOUNCER" -c RELOAD\n' \
  "$work/bouncer-after.ini" "$bdir/pgbouncer.ini" "$PG_BIN" >"$work/repoint.sh"
plan "$work/pgb.toml" "database = \"$sock user=postgres dbname=split_pgb_new\"
pgbouncer_pool = \"${tag}_svc\"

[[table]]
name = \"public.w\"
owner = \"${tag}_svc\"

[step.split]
mode = \"database\"
pgbouncer = \"$console\"
on_cutover = \"sh $work/repoint.sh\""
to_split "$work/pgb.toml" "$dsn"
echo "INSERT INTO w DEFAULT VALUES;" >"$work/insert.sql"
pgb() {  # PREFIX SECONDS
  bounded "$(($2 + DBSPLIT_BOUND))" "$PG_BIN/pgbench" -n -M simple -c 4 -j 2 -R 100 -T "$2" -f "$work/insert.sql" -l \
    --log-prefix="$work/$1" -h "$bdir" -p "$bport" -U "${tag}_app" "${tag}_svc" >"$work/$1.txt" 2>&1
}
errors() {  # failed transactions, and clients pgbench aborted on an error
  local f a
  f=$(grep -h "number of failed transactions" "$1" | awk '{ s += $5 } END { print s + 0 }')
  a=$(grep -c "aborted" "$1" || true)
  echo $((f + a))
}
brc=0; pgb pgb_base 6 || brc=$?
base_ms=$(maxlat "$work"/pgb_base.[0-9]*)
base_err=$(errors "$work/pgb_base.txt")
[ "$brc" -eq 0 ] || base_err="$base_err (pgbench exit $brc)"
pgb pgb_cut 16 &
bench_pid=$!
sleep 3
bounded "$DBSPLIT_BOUND" "$DBSPLIT" --plan "$work/pgb.toml" --dsn "$dsn" --no-progress --json --yes run split >"$work/pgb.json"
crc=0; wait $bench_pid || crc=$?
pause_ms=$(maxlat "$work"/pgb_cut.[0-9]*)
cut_err=$(errors "$work/pgb_cut.txt")
[ "$crc" -eq 0 ] || cut_err="$cut_err (pgbench exit $crc: a client aborted on an error)"
read -r held cut_ms < <(python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
p = next((e["ms"] for e in ev if e.get("event") == "pgbouncer_pause"), "?")
c = next((e["ms"] for e in ev if e.get("event") == "cutover"), "?")
print(p, c)' "$work/pgb.json")
new_rows=$("$PG_BIN/psql" -X -At -d "$sock user=postgres dbname=split_pgb_new" -c "SELECT count(*) FROM ${tag}_svc.w")
sent=$(cat "$work"/pgb_cut.[0-9]* | wc -l)
echo "split_cutover_pgbouncer_pause: ${pause_ms} ms longest write pause through PgBouncer across the cutover" \
     "(without a cutover: ${base_ms} ms; PAUSE took ${held} ms, cutover mover ${cut_ms} ms; target <= 1000 ms, aim 100)"
echo "split_cutover_pgbouncer_errors: ${cut_err} failed transactions through PgBouncer across the cutover" \
     "(without a cutover: ${base_err}; ${sent} transactions, ${new_rows} rows in the new database; target: 0)"
kill "$(cat "$bdir/pgbouncer.pid")" 2>/dev/null || true
trap bench_cleanup EXIT

fi

# --- 3. initial sync --------------------------------------------------------
if [[ $PARTS == *" sync "* ]]; then
dsn=$(bench_db split_sync)
base=$(bench_db split_sync_base)
P -d "$BENCH_ADMIN" -c "DROP DATABASE IF EXISTS split_sync_new WITH (FORCE)" >/dev/null
P -d "$dsn" -c "CREATE TABLE public.big (id bigint PRIMARY KEY, a int NOT NULL, b text NOT NULL)" \
  -c "INSERT INTO public.big SELECT g, g % 1000, md5(g::text) FROM generate_series(1, $ROWS) g" \
  -c "VACUUM ANALYZE public.big" >/dev/null
t0=$(now_ms)
"$PG_BIN/pg_dump" -Fc -t public.big -d "$dsn" | "$PG_BIN/pg_restore" -d "$base"
t1=$(now_ms)
dump_ms=$((t1 - t0))
plan "$work/sync.toml" "database = \"$sock user=postgres dbname=split_sync_new\"

[[table]]
name = \"public.big\"
owner = \"${tag}_svc\"

[step.split]
mode = \"database\""
to_split "$work/sync.toml" "$dsn"
t0=$(now_ms)
bounded "$DBSPLIT_BOUND" "$DBSPLIT" --plan "$work/sync.toml" --dsn "$dsn" --no-progress --json run split >"$work/sync.json"
t1=$(now_ms)
split_ms=$((t1 - t0))
# Exact: the cutover compares counts and content hashes of every row (it fails otherwise).
read -r copy_ms verified < <(python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
c = next((e["ms"] for e in ev if e.get("event") == "split_initial_copy"), "?")
v = next((e["rows"] for e in ev if e.get("event") == "cutover"), "?")
print(c, v)' "$work/sync.json")
echo "split_initial_sync_${ROWS}_rows: ${split_ms} ms for run split (database mode, cutover included;" \
     "initial copy ${copy_ms} ms, ${verified} rows verified at the cutover) vs" \
     "pg_dump | pg_restore ${dump_ms} ms: $(ratio "$split_ms" "$dump_ms")x (target: <= 1.0)"
fi
"$PG_BIN/psql" -X -q -d "$BENCH_ADMIN" -c "DROP OWNED BY ${tag}_app CASCADE" -c "DROP ROLE ${tag}_app" \
  -c "DROP OWNED BY ${tag}_svc CASCADE" -c "DROP ROLE ${tag}_svc" >/dev/null 2>&1 || true
