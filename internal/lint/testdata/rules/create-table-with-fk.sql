-- Rule create-table-with-fk: cases that must and must not trigger it.

-- case
-- want: create-table-with-fk
CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id));

-- case
-- want-none
CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint);

-- case
-- want-none
CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL);
-- want: create-table-with-fk
ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id);

-- case
-- want-none
CREATE TABLE posts (id bigint PRIMARY KEY, parent_id bigint);
-- want-none
ALTER TABLE posts ADD CONSTRAINT posts_parent_fk FOREIGN KEY (parent_id) REFERENCES posts (id);

-- case
-- want-none
CREATE TABLE teams (id bigint PRIMARY KEY);
-- want: create-table-with-fk
CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id), team_id bigint REFERENCES teams(id));

-- case
-- want-none
CREATE TABLE posts (id bigint PRIMARY KEY);
-- want: create-table-with-fk
ALTER TABLE posts ADD COLUMN user_id bigint REFERENCES users(id);
