CREATE TABLE {{table}} (
{{columns}},
  CONSTRAINT {{pkey}} PRIMARY KEY ({{key}})
);
ALTER TABLE {{table}}
  OWNER TO {{group}};
COMMENT ON TABLE {{table}}
  IS {{comment}};
