-- Rule add-unique-constraint: cases that must and must not trigger it.

-- case
-- want: add-unique-constraint
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);

-- case
-- want-none
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_uidx;
