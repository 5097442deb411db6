-- Rule attach-partition-scan: cases that must and must not trigger it.

-- case
-- want: attach-partition-scan
ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

-- case
-- want-none
ALTER TABLE events_2025 ADD CONSTRAINT b CHECK (ts >= '2025-01-01' AND ts < '2026-01-01') NOT VALID;

-- case
-- want-none
ALTER TABLE events_2025 ADD CONSTRAINT b CHECK (ts IS NOT NULL AND ts >= '2025-01-01' AND ts < '2026-01-01');
-- want-none
ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

-- case
-- The bound includes ts IS NOT NULL, which a CHECK passing on NULL does not imply: PostgreSQL 15 scans.
-- want-none
ALTER TABLE events_2025 ADD CONSTRAINT b CHECK (ts >= '2025-01-01' AND ts < '2026-01-01');
-- want: attach-partition-scan
ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

-- case
-- A NOT NULL column needs no IS NOT NULL in the CHECK; a one-sided CHECK implies no bound.
ALTER TABLE events_2025 ALTER COLUMN ts SET NOT NULL, ADD CONSTRAINT b CHECK (ts BETWEEN '2025-01-01' AND '2025-12-31');
-- want-none
ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

-- case
ALTER TABLE events_2025 ADD CONSTRAINT b CHECK (ts IS NOT NULL AND ts >= '2025-01-01');
-- want: attach-partition-scan
ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

-- case
-- want-none
ALTER TABLE events_2025 ADD CONSTRAINT id_pos CHECK (id > 0);
-- want: attach-partition-scan
ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
