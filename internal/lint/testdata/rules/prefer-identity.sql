-- Rule prefer-identity: cases that must and must not trigger it.

-- case
-- want: prefer-identity
CREATE TABLE posts (id bigserial PRIMARY KEY);

-- case
-- want-none
CREATE TABLE posts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
