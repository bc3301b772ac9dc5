CREATE TABLE {{outbox}} (
  id            uuid        NOT NULL DEFAULT gen_random_uuid(),
  aggregatetype text        NOT NULL,
  aggregateid   text,
  type          text        NOT NULL,
  payload       jsonb,
  seq           bigint      GENERATED ALWAYS AS IDENTITY,
  txid          xid8        NOT NULL DEFAULT pg_current_xact_id(),
  created_at    timestamptz NOT NULL DEFAULT now(),
  source_table  text        NOT NULL,
  op            char(1)     NOT NULL,
  CONSTRAINT outbox_pkey PRIMARY KEY (id)
);
CREATE INDEX outbox_txid_idx
  ON {{outbox}} (txid);
CREATE UNIQUE INDEX outbox_seq_idx
  ON {{outbox}} (seq);
ALTER TABLE {{outbox}}
  OWNER TO {{group}};
COMMENT ON TABLE {{outbox}}
  IS {{comment}};
