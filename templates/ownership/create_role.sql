CREATE ROLE {{role}}
  NOLOGIN;
COMMENT ON ROLE {{role}}
  IS {{comment}};
