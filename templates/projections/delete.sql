DELETE FROM {{target}} AS t
 USING jsonb_populate_recordset(NULL::{{target}}, $1::jsonb) AS d
 WHERE {{match}}
