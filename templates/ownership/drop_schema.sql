DROP SCHEMA {{schema}};
