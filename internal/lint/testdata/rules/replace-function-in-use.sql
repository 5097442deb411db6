-- Rule replace-function-in-use: cases that must and must not trigger it.

-- case
CREATE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;
CREATE UNIQUE INDEX users_email_norm_uq ON users (norm_email(email));
-- want: replace-function-in-use
CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim($1)) $$;

-- case
CREATE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;
CREATE TABLE accounts (id bigint, email text, email_norm text GENERATED ALWAYS AS (norm_email(email)) STORED);
-- want: replace-function-in-use
CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql STABLE RETURN lower(trim($1));

-- case
CREATE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;
CREATE UNIQUE INDEX users_email_norm_uq ON users (norm_email(email));
-- want-none
CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower($1) $$;

-- case
CREATE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;
CREATE VIEW user_emails AS SELECT id, norm_email(email) FROM users;
-- want-none
CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim($1)) $$;

-- case
-- want-none
CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim($1)) $$;
