ALTER SEQUENCE {{sequence}}
  SET SCHEMA {{schema}};
