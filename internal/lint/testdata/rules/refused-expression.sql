-- Rule refused-expression: cases that must and must not trigger it.

-- case
-- want: refused-expression
ALTER TABLE users ALTER COLUMN email SET DEFAULT (SELECT 'x');

-- case
-- want: refused-expression
ALTER TABLE users ADD CONSTRAINT users_one CHECK (id > (SELECT min(id) FROM users));

-- case
-- want: refused-expression
CREATE INDEX users_total ON users ((count(*)));

-- case
-- want: refused-expression
CREATE TABLE t9 (a int DEFAULT b, b int);

-- case
-- want-none
ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x';

-- case
-- want-none
ALTER TABLE users ADD CONSTRAINT users_pos CHECK (id > 0) NOT VALID;

-- case
-- want-none
UPDATE users SET email = (SELECT max(email) FROM users) WHERE id = 1;
