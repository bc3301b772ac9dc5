CREATE TRIGGER {{trigger}}
  {{timing}} TRUNCATE
  ON {{table}}
  FOR EACH STATEMENT
  EXECUTE FUNCTION {{function}}({{args}});
