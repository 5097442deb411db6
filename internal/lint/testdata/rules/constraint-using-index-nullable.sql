-- Rule constraint-using-index-nullable: cases that must and must not trigger it.

-- case
-- want: constraint-using-index-nullable
ALTER TABLE users ADD CONSTRAINT users_pk2 PRIMARY KEY USING INDEX users_email_uidx;

-- case
-- orgs_tmp.id is already NOT NULL.
-- want-none
ALTER TABLE orgs_tmp ADD CONSTRAINT orgs_tmp_pkey PRIMARY KEY USING INDEX orgs_tmp_id_uidx;

-- case
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
-- want-none
ALTER TABLE users ADD CONSTRAINT users_pk2 PRIMARY KEY USING INDEX users_email_uidx;
