REVOKE {{role}}
  FROM {{members}};
