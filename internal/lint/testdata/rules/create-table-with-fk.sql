-- Rule create-table-with-fk: cases that must and must not trigger it.

-- case
-- want: create-table-with-fk
CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id));

-- case
-- want-none
CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint);
