-- Rule set-access-method: cases that must and must not trigger it.

-- case
-- want: set-access-method
ALTER TABLE users SET ACCESS METHOD columnar;

-- case
-- want-none
ALTER TABLE users SET ACCESS METHOD heap;
