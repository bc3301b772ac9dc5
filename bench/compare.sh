#!/usr/bin/env bash
# Cost of `dbsplit compare` on a COMPARE_BENCH_ROWS-row table (default
# 5,000,000) and an identical projection in the same database:
#   0. against what a user would pick instead: data-diff's checksum query
#      (sum of 60 bits of md5(concat(columns))) over both sides at once:
#      identical tables (target <= 0.3) and one differing row (target <= 1.0)
#   1. identical: compare time / `SELECT count(*)` on the source (reported)
#   2. one differing row: found (with the right key), chunk queries and time
#   3. compare time / a full scan hashing both sides whole with
#      md5(string_agg(row ORDER BY key)), both sides at once (target <= 1.0)
#   and, for reference, compare time / compare's own row hash summed over each
#   whole table in one query per side (the floor of the design), and what
#   reading both tables costs at all: count(*) of both at once, and both with
#   only the key hashed (the floor of any row-hashing compare on this machine).
# Each time is the best of COMPARE_BENCH_ROUNDS (default 3) runs.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
ROWS=${COMPARE_BENCH_ROWS:-5000000}
ROUNDS=${COMPARE_BENCH_ROUNDS:-3}
DSN=$(bench_db compare_bench 2>/dev/null)
psql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DSN" "$@"; }

psql <<SQL
CREATE TABLE public.orders (
  id bigint PRIMARY KEY,
  customer_id int NOT NULL,
  status text NOT NULL,
  total numeric(12,2),
  created_at timestamptz NOT NULL,
  note text);
INSERT INTO public.orders
SELECT g, g % 10007, (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4],
       (g % 100000) / 100.0, timestamptz '2024-01-01' + g * interval '1 second',
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END
  FROM generate_series(1, $ROWS) g;
CREATE SCHEMA fulfillment;
CREATE TABLE fulfillment.order_view (LIKE public.orders INCLUDING ALL);
INSERT INTO fulfillment.order_view SELECT * FROM public.orders;
SQL
psql -c "VACUUM ANALYZE public.orders" -c "VACUUM ANALYZE fulfillment.order_view"

cat >"$BENCH_DIR/dbsplit.toml" <<'TOML'
[migration]
name = "compare-bench"

[[service]]
name = "orders"

[[service]]
name = "fulfillment"

[[table]]
name = "public.orders"
owner = "orders"

[[event]]
table = "public.orders"
aggregate_type = "order"

[[projection]]
consumer = "fulfillment"
source = "public.orders"
name = "order_view"
columns = ["id", "customer_id", "status", "total", "created_at", "note"]
key = ["id"]
TOML
dbsplit() { "$DBSPLIT" --plan "$BENCH_DIR/dbsplit.toml" --dsn "$DSN" --no-progress "$@"; }

best() {  # best wall time in ms of ROUNDS runs of "$@" (output discarded)
  local b=0 t0 t
  for _ in $(seq "$ROUNDS"); do
    t0=$(now_ms)
    "$@" >/dev/null 2>&1 || [ $? -eq 3 ] || { echo "compare bench: '$*' failed" >&2; exit 1; }
    t=$(($(now_ms) - t0))
    if [ "$b" -eq 0 ] || [ "$t" -lt "$b" ]; then b=$t; fi
  done
  echo "$b"
}

count_ms=$(best psql -c "SELECT count(*) FROM public.orders")
compare_ms=$(best dbsplit compare)
dbsplit compare >/dev/null || { echo "compare bench: identical tables are not clean" >&2; exit 1; }

md5_side() {
  psql -Atc "SELECT md5(string_agg(t::text, '|' ORDER BY t.id))
               FROM (SELECT id, customer_id, status, total, created_at, note FROM $1) t"
}
md5_both() { md5_side public.orders & md5_side fulfillment.order_view; wait; }
md5_ms=$(best md5_both)

# What a user would run instead: data-diff's checksum of a segment, here over
# each whole table, both sides at once on two connections as data-diff does.
datadiff_side() {
  psql -Atc "SELECT count(*), sum(('x' || substring(md5(concat(id, customer_id, status, total,
               created_at, note)), 18))::bit(60)::bigint) FROM $1"
}
datadiff_both() { datadiff_side public.orders & datadiff_side fulfillment.order_view; wait; }
datadiff_ms=$(best datadiff_both)

# The floor of this design: the same row hash as compare, summed over each
# whole table in one query, both sides at once (what chunking adds is the rest).
hash_side() {
  psql -Atc "SET TimeZone = 'UTC'; SELECT count(*), sum(hashint8extended(id, 1)
               # hashint4extended(customer_id, 2) # hashtextextended(status::text COLLATE \"C\", 3)
               # coalesce(hash_numeric_extended(total, 4), 1)
               # timestamp_hash_extended(created_at AT TIME ZONE 'UTC', 5)
               # coalesce(hashtextextended(note::text COLLATE \"C\", 6), 2)) FROM $1"
}
hash_both() { hash_side public.orders & hash_side fulfillment.order_view; wait; }
floor_ms=$(best hash_both)

# What any compare must at least do on this machine: read both tables
# (count(*) of both at once), and read both hashing only the key.
count_side() { psql -Atc "SELECT count(*) FROM $1"; }
count_both() { count_side public.orders & count_side fulfillment.order_view; wait; }
count_both_ms=$(best count_both)
key_side() { psql -Atc "SELECT count(*), sum(hashint8extended(id, 1)) FROM $1"; }
key_both() { key_side public.orders & key_side fulfillment.order_view; wait; }
key_both_ms=$(best key_both)

# One differing row in the middle of the table.
key=$((ROWS / 2 + 17))
psql -c "UPDATE fulfillment.order_view SET note = 'changed' WHERE id = $key"
t0=$(now_ms)
out=$(dbsplit --json compare) && { echo "compare bench: the difference was not found" >&2; exit 1; }
diff_ms=$(($(now_ms) - t0))
found=$(echo "$out" | grep '"event":"difference"' | grep -c "\"key\":{\"id\":$key}" || true)
[ "$found" -eq 1 ] || { echo "compare bench: expected key $key in: $out" >&2; exit 1; }
table_line=$(echo "$out" | grep '"event":"compare_table"')
queries=$(echo "$table_line" | sed -n 's/.*"queries":\([0-9]*\).*/\1/p')
chunks=$(echo "$table_line" | sed -n 's/.*"chunks":\([0-9]*\).*/\1/p')

echo "compare_vs_datadiff (compare / data-diff checksum of both sides): $(ratio "$compare_ms" "$datadiff_ms") (target <= 0.3; ${compare_ms} ms vs ${datadiff_ms} ms, $ROWS rows)"
echo "compare_one_difference_vs_datadiff (finding one differing row / data-diff checksum of both sides): $(ratio "$diff_ms" "$datadiff_ms") (target <= 1.0; ${diff_ms} ms vs ${datadiff_ms} ms)"
echo "compare_identical_vs_count (compare/count(*), $ROWS rows): $(ratio "$compare_ms" "$count_ms") (reported; ${compare_ms} ms vs ${count_ms} ms)"
echo "compare_one_difference: found id=$key in ${diff_ms} ms ($(ratio "$diff_ms" "$count_ms") x count(*)), $chunks chunk hashes, $queries queries (both sides)"
echo "compare_vs_one_query_hash (compare/the same row hash in one query per side, both at once): $(ratio "$compare_ms" "$floor_ms") (reported: the cost of chunking; ${floor_ms} ms)"
echo "floor_read_both (count(*) of both tables at once / count(*)): $(ratio "$count_both_ms" "$count_ms"); floor_key_hash_both (the key alone hashed on both at once / count(*)): $(ratio "$key_both_ms" "$count_ms") (reported: what any row-hashing compare costs at least here)"
echo "compare_vs_full_md5 (compare/md5(string_agg) of both sides): $(ratio "$compare_ms" "$md5_ms") (target <= 1.0; ${md5_ms} ms)"
