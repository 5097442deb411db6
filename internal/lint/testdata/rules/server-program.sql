-- Rule server-program: cases that must and must not trigger it.

-- case
-- want: server-program
COPY (SELECT 1) TO PROGRAM 'cat >/dev/null';
-- want: server-program
COPY users FROM PROGRAM 'curl -s https://example.com/users.csv';
-- want: server-program
CREATE FOREIGN TABLE ls (line text) SERVER files OPTIONS (program 'ls /');
-- want: server-program
DO $$ BEGIN COPY users TO PROGRAM 'sh -c id'; END $$;

-- case
-- want-none
COPY users (id, email) FROM STDIN;
1	a@example.com
\.
-- want-none
COPY users TO STDOUT;
-- want-none
COPY users FROM '/var/lib/data.csv';
