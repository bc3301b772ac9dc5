CREATE TABLE {{cursor}} (
  outbox          text        PRIMARY KEY,
  seq             bigint      NOT NULL,
  snapshot        pg_snapshot NOT NULL,
  applied         bigint      NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  outbox_database text  -- NULL: read in the migration's database; else in this one (split cutover)
);
ALTER TABLE {{cursor}}
  OWNER TO {{group}};
COMMENT ON TABLE {{cursor}}
  IS {{cursor_comment}};
CREATE TABLE {{backfill}} (
  projection  text        NOT NULL,
  range_no    integer     NOT NULL,
  snapshot    pg_snapshot NOT NULL,
  seq         bigint      NOT NULL,
  last_key    jsonb,
  rows_copied bigint      NOT NULL,
  complete    boolean     NOT NULL,
  copied_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, range_no)
);
ALTER TABLE {{backfill}}
  OWNER TO {{group}};
COMMENT ON TABLE {{backfill}}
  IS {{backfill_comment}};
