-- Rule reindex-blocking: cases that must and must not trigger it.

-- case
-- want: reindex-blocking
REINDEX INDEX users_email_idx;

-- case
-- want-none
REINDEX INDEX CONCURRENTLY users_email_idx;

-- case
-- CONCURRENTLY false is a plain REINDEX: PostgreSQL 15 runs it in the transaction, SHARE on the table and
-- ACCESS EXCLUSIVE on each index.
-- want: reindex-blocking
REINDEX (CONCURRENTLY false) TABLE users;
-- want: reindex-blocking
REINDEX (CONCURRENTLY 0, VERBOSE) INDEX users_email_idx;
