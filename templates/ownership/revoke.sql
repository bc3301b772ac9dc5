REVOKE {{privileges}}
  ON TABLE {{table}}
  FROM {{grantees}}
  CASCADE;
