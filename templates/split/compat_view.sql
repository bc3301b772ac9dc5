CREATE VIEW {{view}} AS
  SELECT * FROM {{moved}};
ALTER VIEW {{view}}
  OWNER TO {{owner}};
COMMENT ON VIEW {{view}}
  IS {{comment}};
