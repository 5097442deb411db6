-- Rule reindex-blocking: cases that must and must not trigger it.

-- case
-- want: reindex-blocking
REINDEX INDEX users_email_idx;

-- case
-- want-none
REINDEX INDEX CONCURRENTLY users_email_idx;
