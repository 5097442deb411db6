-- Rule create-enum: cases that must and must not trigger it.

-- case
-- want: create-enum
CREATE TYPE plan AS ENUM ('free', 'pro');

-- case
-- want-none
CREATE TABLE plan (name text PRIMARY KEY);
