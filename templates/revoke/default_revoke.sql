ALTER DEFAULT PRIVILEGES FOR ROLE {{role}}{{in_schema}}
  REVOKE ALL ON {{objects}}
  FROM {{grantees}}
  CASCADE;
