-- Rule add-column-inline-fk: cases that must and must not trigger it.

-- case
-- want: add-column-inline-fk
ALTER TABLE users ADD COLUMN team_id bigint REFERENCES orgs(id);

-- case
-- want-none
ALTER TABLE users ADD COLUMN team_id bigint;
-- want-none
ALTER TABLE users ADD CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES orgs(id) NOT VALID;

-- case
-- With a DEFAULT (even DEFAULT NULL) PostgreSQL validates the key on every row: dangerous, same rule.
-- want: add-column-inline-fk
ALTER TABLE users ADD COLUMN team_id bigint NOT NULL DEFAULT 1 REFERENCES orgs(id);
-- want: add-column-inline-fk
ALTER TABLE users ADD COLUMN org2_id bigint DEFAULT NULL REFERENCES orgs(id);
