SELECT count(*) FILTER (WHERE op = 't' OR NOT coalesce({{fits}}, false))
  FROM {{outbox}}
 WHERE seq >= $1 AND seq <= $2
   AND pg_visible_in_snapshot(txid, $3::pg_snapshot)
   AND NOT pg_visible_in_snapshot(txid, $4::pg_snapshot)
   AND source_table = $5
