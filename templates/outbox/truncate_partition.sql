      -- On a partition: part of a TRUNCATE of the whole table when this
      -- transaction holds that table's ACCESS EXCLUSIVE lock (the table's own
      -- trigger refuses or publishes it), else rows emptied behind the outbox.
      IF EXISTS (SELECT FROM pg_catalog.pg_locks
                  WHERE locktype = 'relation' AND pid = pg_catalog.pg_backend_pid()
                    AND relation = pg_catalog.pg_partition_root(TG_RELID)
                    AND mode = 'AccessExclusiveLock' AND granted) THEN
        RETURN NULL;
      END IF;
      RAISE EXCEPTION USING
        ERRCODE = 'object_not_in_prerequisite_state',
        MESSAGE = pg_catalog.format({{message}}, TG_RELID::regclass,
                                    pg_catalog.pg_partition_root(TG_RELID)::regclass),
        HINT = {{hint}};
