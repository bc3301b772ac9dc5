CREATE PUBLICATION {{name}}
  FOR TABLE {{tables}};
