ALTER ROLE {{role}}
  IN DATABASE {{database}}
  SET search_path = {{path}};
