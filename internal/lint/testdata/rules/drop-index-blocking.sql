-- Rule drop-index-blocking: cases that must and must not trigger it.

-- case
-- want: drop-index-blocking
DROP INDEX users_email_idx;

-- case
-- want-none
DROP INDEX CONCURRENTLY users_email_idx;
