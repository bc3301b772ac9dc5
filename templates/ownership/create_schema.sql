CREATE SCHEMA {{schema}}
  AUTHORIZATION {{role}};
