-- drops the wrong table
DROP TABLE user_accounts;
