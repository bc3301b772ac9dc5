-- Arm B of bench/outbox.sh: pgbench's TPC-B-like transaction plus a
-- hand-written outbox INSERT of the same payload dbsplit's trigger publishes
-- for pgbench_accounts (aid, bid, abalance), into the same outbox table.
\set aid random(1, 100000 * :scale)
\set bid random(1, 1 * :scale)
\set tid random(1, 10 * :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT bid AS abid, abalance FROM pgbench_accounts WHERE aid = :aid \gset
INSERT INTO bench.outbox (aggregatetype, aggregateid, type, payload, source_table, op) VALUES ('account', :aid::text, 'account.updated', jsonb_build_object('aid', :aid, 'bid', :abid, 'abalance', :abalance), 'public.pgbench_accounts', 'u');
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
END;
