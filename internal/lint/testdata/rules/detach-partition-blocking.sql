-- Rule detach-partition-blocking: cases that must and must not trigger it.

-- case
-- want: detach-partition-blocking
ALTER TABLE events DETACH PARTITION events_2024;

-- case
-- want-none
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;
