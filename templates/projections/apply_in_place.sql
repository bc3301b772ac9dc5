WITH ev AS (
  SELECT DISTINCT ON ({{key_exprs}}) op, payload
    FROM {{outbox}}
   WHERE seq >= $1 AND seq <= $2
     AND pg_visible_in_snapshot(txid, $3::pg_snapshot)
     AND NOT pg_visible_in_snapshot(txid, $4::pg_snapshot)
     AND source_table = $5
   ORDER BY {{key_exprs}}, seq DESC
),
deleted AS (
  DELETE FROM {{target}} AS t
   USING ev, jsonb_populate_record(NULL::{{target}}, ev.payload) AS d
   WHERE ev.op = 'd'
     AND {{match}}
  RETURNING 1
)
INSERT INTO {{target}} ({{columns}})
SELECT {{row_columns}}
  FROM ev, jsonb_populate_record(NULL::{{target}}, ev.payload) AS r
 WHERE ev.op <> 'd'
ON CONFLICT ({{key}}) DO {{action}}
