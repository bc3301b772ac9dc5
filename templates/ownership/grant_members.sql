GRANT {{role}}
  TO {{members}};
