-- Rule constraint-using-index: cases that must and must not trigger it.

-- case
-- want: constraint-using-index
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_uidx;

-- case
-- orgs_tmp.id is already NOT NULL: the primary key takes the index over, no scan.
-- want: constraint-using-index
ALTER TABLE orgs_tmp ADD CONSTRAINT orgs_tmp_pkey PRIMARY KEY USING INDEX orgs_tmp_id_uidx;

-- case
-- On nullable columns it is constraint-using-index-nullable.
-- want-none
ALTER TABLE users ADD CONSTRAINT users_pk2 PRIMARY KEY USING INDEX users_email_uidx;

-- case
-- Without USING INDEX the constraint builds its index.
-- want-none
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
