-- Rule unqualified-name: cases that must and must not trigger it.

-- case
-- want: unqualified-name
CREATE TABLE posts (id bigint);

-- case
-- want-none
CREATE TABLE public.posts (id bigint);
