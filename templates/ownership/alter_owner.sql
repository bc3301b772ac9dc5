ALTER TABLE {{table}}
  OWNER TO {{owner}};
