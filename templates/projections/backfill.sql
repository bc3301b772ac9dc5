-- data mover projections.backfill: in a REPEATABLE READ transaction on the
-- source whose snapshot is exported (pg_export_snapshot) and imported by the
-- copying connection, key range by key range ({{chunk}} rows each, resumable).
-- The projection is copied without its primary key (one index build at the
-- end costs half of maintaining it row by row): dropped in the first range's
-- transaction, added back in the last one's.
ALTER TABLE {{target}} DROP CONSTRAINT {{pkey}};
COPY (SELECT {{columns}}
        FROM {{source}}
       ORDER BY {{key}}) TO STDOUT;
-- streamed into, on {{where}}:
COPY {{target}} ({{columns}}) FROM STDIN;
ALTER TABLE {{target}} ADD CONSTRAINT {{pkey}} PRIMARY KEY ({{key}});
