-- Rule drop-or-toggle-trigger: cases that must and must not trigger it.

-- case
-- want: drop-or-toggle-trigger
ALTER TABLE users DISABLE TRIGGER users_audit;

-- case
-- want-none
ALTER TRIGGER users_audit ON users RENAME TO users_audit2;
