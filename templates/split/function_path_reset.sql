ALTER FUNCTION {{function}}
  RESET search_path;
