CREATE TABLE IF NOT EXISTS {{table}} (
  outbox          text        PRIMARY KEY,
  seq             bigint      NOT NULL,
  snapshot        pg_snapshot NOT NULL,
  source_snapshot pg_snapshot NOT NULL,
  cut_at          timestamptz NOT NULL DEFAULT now()
);
INSERT INTO {{table}} (outbox, seq, snapshot, source_snapshot)
VALUES ({{outbox}}, {{seq}}, {{snapshot}}, {{source_snapshot}})
ON CONFLICT (outbox) DO NOTHING;
