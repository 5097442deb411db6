-- Rule add-column-constrained-domain: cases that must and must not trigger it.

-- case
-- want: add-column-constrained-domain
ALTER TABLE users ADD COLUMN score positive_int;

-- case
-- want-none
ALTER TABLE users ADD COLUMN score int;
-- want-none
ALTER TABLE users ADD CONSTRAINT score_pos CHECK (score > 0) NOT VALID;

-- case
-- A domain over a constrained domain checks the base's CHECK too: PostgreSQL 15 rewrites the table.
CREATE DOMAIN score_int AS positive_int;
CREATE DOMAIN top_score AS public.score_int;
-- want: add-column-constrained-domain
ALTER TABLE users ADD COLUMN score top_score;

-- case
-- An array of a constrained domain, or a domain over one, is no constrained domain: no rewrite.
CREATE DOMAIN scores AS positive_int[];
-- want-none
ALTER TABLE users ADD COLUMN score positive_int[];
-- want-none
ALTER TABLE users ADD COLUMN top scores;
