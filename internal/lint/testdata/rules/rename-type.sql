-- Rule rename-type: cases that must and must not trigger it.

-- case
-- want: rename-type
ALTER TYPE status RENAME TO user_status;

-- case
-- want: rename-type
ALTER DOMAIN positive_int RENAME TO pos_int;

-- case
-- want: rename-type
ALTER TYPE address RENAME ATTRIBUTE street TO street_line;

-- case
CREATE TYPE plan AS ENUM ('free', 'pro');
-- want-none
ALTER TYPE plan RENAME TO plan2;

-- case
-- want-none
ALTER TYPE status ADD VALUE 'c' AFTER 'b';
