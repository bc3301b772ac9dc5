    INSERT INTO {{outbox}}
      (aggregatetype, aggregateid, type, payload, source_table, op)
    VALUES ({{aggregate_type}}, NULL, {{type_truncated}}, NULL, {{source}}, 't');
    RETURN NULL;
