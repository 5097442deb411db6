-- golang-migrate runs this file in one transaction
ALTER TABLE users ADD COLUMN age int;
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
