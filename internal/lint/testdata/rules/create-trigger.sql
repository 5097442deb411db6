-- Rule create-trigger: cases that must and must not trigger it.

-- case
-- want: create-trigger
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();

-- case
-- want-none
CREATE TABLE t5 (id int);
-- want-none
CREATE TRIGGER t5_touch BEFORE UPDATE ON t5 FOR EACH ROW EXECUTE FUNCTION touch();
