WITH ev AS (
  SELECT DISTINCT ON ({{key_exprs}}) o.op, r
    FROM {{outbox}} AS o,
         jsonb_populate_record(NULL::{{target}}, o.payload) AS r
   WHERE o.seq >= $1 AND o.seq <= $2
     AND pg_visible_in_snapshot(o.txid, $3::pg_snapshot)
     AND NOT pg_visible_in_snapshot(o.txid, $4::pg_snapshot)
     AND o.source_table = $5
     AND (coalesce({{fits}}, false) OR o.op::text::int IS NULL)
   ORDER BY {{key_exprs}}, o.seq DESC
),
deleted AS (
  DELETE FROM {{target}} AS t
   USING ev AS d
   WHERE d.op = 'd'
     AND {{match}}
  RETURNING 1
)
INSERT INTO {{target}} ({{columns}})
SELECT {{row_columns}}
  FROM ev
 WHERE ev.op <> 'd'
ON CONFLICT ({{key}}) DO {{action}}
