ALTER ROLE {{role}}
  IN DATABASE {{database}}
  RESET search_path;
