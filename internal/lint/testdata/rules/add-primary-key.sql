-- Rule add-primary-key: cases that must and must not trigger it.

-- case
-- want: add-primary-key
ALTER TABLE orgs_tmp ADD PRIMARY KEY (id);

-- case
-- want-none
ALTER TABLE orgs_tmp ADD CONSTRAINT orgs_tmp_pkey PRIMARY KEY USING INDEX orgs_tmp_id_uidx;
