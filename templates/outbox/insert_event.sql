  INSERT INTO {{outbox}}
    (aggregatetype, aggregateid, type, payload, source_table, op)
  VALUES (
    {{aggregate_type}},
    {{aggregate_id}},
    CASE op
      WHEN 'c' THEN {{type_created}}
      WHEN 'u' THEN {{type_updated}}
      ELSE {{type_deleted}}
    END,
{{payload}},
    {{source}},
    op
  );
