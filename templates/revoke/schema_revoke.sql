REVOKE ALL
  ON SCHEMA {{schema}}
  FROM {{grantees}}
  CASCADE;
