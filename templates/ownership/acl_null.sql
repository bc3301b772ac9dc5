-- No GRANT or REVOKE can give a table back its NULL ACL (the owner's
-- defaults); the items above are gone, so setting it is exact and leaves
-- pg_shdepend right (the owner's rights are never recorded there).
UPDATE pg_catalog.pg_class
   SET relacl = NULL
 WHERE oid = {{table_literal}}::regclass;
