ALTER {{kind}} {{view}}
  OWNER TO {{owner}};
