-- Rule add-foreign-key: cases that must and must not trigger it.

-- case
-- want: add-foreign-key
ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs(id);

-- case
-- want-none
ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs(id) NOT VALID;

-- case
CREATE TABLE teams (id bigint PRIMARY KEY);
CREATE TABLE members (id bigint, team_id bigint);
-- want-none
ALTER TABLE members ADD CONSTRAINT members_team_fk FOREIGN KEY (team_id) REFERENCES teams(id);
