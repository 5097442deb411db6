-- Rule domain-constraint: cases that must and must not trigger it.

-- case
-- want: domain-constraint
ALTER DOMAIN positive_int ADD CONSTRAINT lt_1000 CHECK (VALUE < 1000);

-- case
-- want-none
ALTER DOMAIN positive_int ADD CONSTRAINT lt_1000 CHECK (VALUE < 1000) NOT VALID;

-- case
-- want: domain-constraint
ALTER DOMAIN positive_int SET NOT NULL;

-- case
-- want-none
ALTER DOMAIN positive_int DROP NOT NULL;

-- case
-- ALTER DOMAIN … VALIDATE holds SHARE (writes blocked) for the scan, unlike ALTER TABLE … VALIDATE.
-- want: domain-constraint
ALTER DOMAIN positive_int VALIDATE CONSTRAINT positive_int_check;

-- case
CREATE DOMAIN fresh_int AS int;
ALTER DOMAIN fresh_int ADD CONSTRAINT fresh_pos CHECK (VALUE > 0) NOT VALID;
-- want-none
ALTER DOMAIN fresh_int VALIDATE CONSTRAINT fresh_pos;
