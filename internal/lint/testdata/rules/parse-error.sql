-- Rule parse-error: cases that must and must not trigger it.

-- case
-- want: parse-error
ALTER TABLE users ADD COLUMN x int DEFALT 0;

-- case
-- want-none
ALTER TABLE users ADD COLUMN x int DEFAULT 0;

-- case
-- PG18 syntax the PG17 grammar rejects: judged later (caution), see TestParseErrorRisk.
-- want: parse-error
ALTER TABLE users ADD CONSTRAINT email_nn NOT NULL email NOT VALID;
