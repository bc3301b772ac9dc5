ALTER TABLE {{table}}
  SET SCHEMA {{schema}};
