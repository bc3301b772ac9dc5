ALTER DEFAULT PRIVILEGES FOR ROLE {{role}}{{in_schema}}
  GRANT {{privileges}} ON {{objects}}
  TO {{grantee}}{{grant_option}};
