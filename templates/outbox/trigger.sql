CREATE TRIGGER {{trigger}}
  AFTER {{operations}}
  ON {{table}}
  FOR EACH ROW
  EXECUTE FUNCTION {{function}}();
