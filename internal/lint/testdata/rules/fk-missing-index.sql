-- Rule fk-missing-index: cases that must and must not trigger it.

-- case
-- want: fk-missing-index
ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs(id) NOT VALID;

-- case
-- want-none
CREATE INDEX CONCURRENTLY users_org_id_idx ON users (org_id);
