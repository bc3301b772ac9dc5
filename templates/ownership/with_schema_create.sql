-- Not a superuser: the new owner may receive the object only while it may
-- create in its schema; granted and taken back in this one transaction.
GRANT CREATE ON SCHEMA {{schema}}
  TO {{role}};
{{statements}}
REVOKE CREATE ON SCHEMA {{schema}}
  FROM {{role}};
