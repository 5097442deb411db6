-- Rule create-partition: cases that must and must not trigger it.

-- case
-- want: create-partition, missing-lock-timeout
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

-- case
-- want-none
CREATE TABLE events_2026 (LIKE events INCLUDING ALL);

-- case
-- want-none
CREATE TABLE logs (id bigint, ts timestamptz) PARTITION BY RANGE (ts);
-- want-none
CREATE TABLE logs_2026 PARTITION OF logs FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
