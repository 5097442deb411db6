-- Rule rename-trigger: cases that must and must not trigger it.

-- case
-- want: rename-trigger, missing-lock-timeout
ALTER TRIGGER users_audit ON users RENAME TO users_audit2;

-- case
-- want-none
CREATE TABLE t8 (id int);
-- want-none
CREATE TRIGGER t8_touch BEFORE UPDATE ON t8 FOR EACH ROW EXECUTE FUNCTION touch();
-- want-none
ALTER TRIGGER t8_touch ON t8 RENAME TO t8_touch2;
