-- Rule parse-error: cases that must and must not trigger it.

-- case
-- want: parse-error
ALTER TABLE users ADD COLUMN x int DEFALT 0;

-- case
-- want-none
ALTER TABLE users ADD COLUMN x int DEFAULT 0;

-- case
-- PG18 syntax the PG17 grammar rejects: dangerous on a target of 17 or older, caution on 18 (see TestParseErrorRisk).
-- want: parse-error
ALTER TABLE users ADD CONSTRAINT email_nn NOT NULL email NOT VALID;

-- case pg=17
-- The target is no newer than the grammar: it has no PG18 syntax either, and the statement fails.
-- want: parse-error
CREATE TABLE gv (a int, b int GENERATED ALWAYS AS (a * 2) VIRTUAL);
