ALTER TABLE {{table}}
  SET SCHEMA {{schema}};
-- Sessions opened before the step keep the search_path they started with: they
-- find the table under its old name through the view that follows (auto-updatable;
-- owned by the table's owner, so nobody else gains anything) until `dbsplit split finalize`.
