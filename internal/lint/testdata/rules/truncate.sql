-- Rule truncate: cases that must and must not trigger it.

-- case
-- want: truncate
TRUNCATE users;

-- case
-- want-none
DELETE FROM users WHERE id IN (SELECT id FROM users WHERE created_at < '2000-01-01' LIMIT 1000);
