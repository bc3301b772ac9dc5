-- data mover projections.backfill: in a REPEATABLE READ transaction on the
-- source whose snapshot is exported (pg_export_snapshot) and imported by the
-- copying connection, key range by key range ({{chunk}} rows each, resumable):
COPY (SELECT {{columns}}
        FROM {{source}}
       ORDER BY {{key}}) TO STDOUT;
-- streamed into, on {{where}}:
COPY {{target}} ({{columns}}) FROM STDIN;
