-- Rule prefer-text: cases that must and must not trigger it.

-- case
-- want: prefer-text
CREATE TABLE posts (title varchar(200));

-- case
-- want-none
CREATE TABLE posts (title text CHECK (length(title) <= 200));
