DROP ROLE {{role}};
