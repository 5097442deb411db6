-- Rule prefer-timestamptz: cases that must and must not trigger it.

-- case
-- want: prefer-timestamptz
CREATE TABLE posts (created_at timestamp);

-- case
-- want-none
CREATE TABLE posts (created_at timestamptz);
