DO $dbsplit$
BEGIN
  -- The subscription's walsender may take a moment to let go of the slot.
  FOR i IN 1..100 LOOP
    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots
                           WHERE slot_name = {{slot}} AND active
                             AND database = pg_catalog.current_database());
    PERFORM pg_catalog.pg_sleep(0.1);
  END LOOP;
  PERFORM pg_catalog.pg_drop_replication_slot(slot_name)
     FROM pg_catalog.pg_replication_slots
    WHERE slot_name = {{slot}} AND database = pg_catalog.current_database();
END
$dbsplit$;
