SET ROLE {{role}};
{{statements}}
RESET ROLE;
