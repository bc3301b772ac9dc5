ALTER VIEW {{view}}
  OWNER TO {{group}};
COMMENT ON VIEW {{view}}
  IS {{comment}};
