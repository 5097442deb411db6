-- Rule refresh-matview-blocking: cases that must and must not trigger it.

-- case
-- want: refresh-matview-blocking
REFRESH MATERIALIZED VIEW user_stats;

-- case
-- want-none
REFRESH MATERIALIZED VIEW CONCURRENTLY user_stats;
