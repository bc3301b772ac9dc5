GRANT {{privileges}}
  ON TABLE {{table}}
  TO {{grantee}}{{grant_option}};
