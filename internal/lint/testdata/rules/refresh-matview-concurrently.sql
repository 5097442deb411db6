-- Rule refresh-matview-concurrently: cases that must and must not trigger it.

-- case
-- EXCLUSIVE does not block readers: no dangerous lock wait, only the missing timeout as caution.
-- want: refresh-matview-concurrently, missing-lock-timeout
REFRESH MATERIALIZED VIEW CONCURRENTLY user_stats;

-- case
-- want-none
CREATE MATERIALIZED VIEW org_stats AS SELECT 1 AS n;
-- want-none
REFRESH MATERIALIZED VIEW CONCURRENTLY org_stats;

-- case
-- want: refresh-matview-blocking, missing-lock-timeout
REFRESH MATERIALIZED VIEW user_stats;
