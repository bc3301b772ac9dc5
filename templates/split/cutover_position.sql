CREATE TABLE IF NOT EXISTS {{table}} (
  outbox          text        PRIMARY KEY,
  seq             bigint      NOT NULL,
  snapshot        pg_snapshot NOT NULL,
  source_snapshot pg_snapshot NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  done_at         timestamptz  -- set with the cutover's mark: the owner writes here since
);
INSERT INTO {{table}} (outbox, seq, snapshot, source_snapshot)
VALUES ({{outbox}}, {{seq}}, {{snapshot}}, {{source_snapshot}})
ON CONFLICT (outbox) DO NOTHING;
