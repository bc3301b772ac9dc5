-- A managed admin cannot set relacl back to NULL: the owner's defaults,
-- written out, mean the same for every role and dump the same.
GRANT ALL ON {{table}}
  TO {{owner}};
