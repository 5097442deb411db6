-- Rule set-generated-expression: cases that must and must not trigger it.

-- case
-- want: set-generated-expression
ALTER TABLE users ALTER COLUMN email_lc SET EXPRESSION AS (upper(email));

-- case
-- want-none
ALTER TABLE users ALTER COLUMN email_lc DROP EXPRESSION;
