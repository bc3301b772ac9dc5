INSERT INTO {{target}} ({{columns}})
SELECT {{columns}}
  FROM jsonb_populate_recordset(NULL::{{target}}, $1::jsonb)
ON CONFLICT ({{key}}) DO {{action}}
