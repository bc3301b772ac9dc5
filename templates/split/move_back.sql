-- The compatibility view is gone already when `split finalize` retired it.
DROP VIEW IF EXISTS {{view}};
ALTER TABLE {{moved}}
  SET SCHEMA {{schema}};
