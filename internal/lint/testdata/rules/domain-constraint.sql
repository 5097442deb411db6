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
