ALTER FUNCTION {{function}}
  SET search_path = {{path}};
