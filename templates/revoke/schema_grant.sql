GRANT {{privileges}}
  ON SCHEMA {{schema}}
  TO {{grantee}}{{grant_option}};
