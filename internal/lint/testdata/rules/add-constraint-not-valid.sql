-- Rule add-constraint-not-valid: cases that must and must not trigger it.

-- case
-- want: add-constraint-not-valid
ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs(id) NOT VALID;
-- want: add-constraint-not-valid
ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID;

-- case
-- want-none
ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs(id);
