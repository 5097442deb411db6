-- The "assumed existing schema" of risk-rules.md §5: every object here is pre-existing (visible).
CREATE TABLE users (id bigint PRIMARY KEY, email text, name varchar(50), age int, org_id bigint, created_at timestamp, email_lc text);
CREATE INDEX users_email_idx ON users (email);
CREATE UNIQUE INDEX users_email_uidx ON users (email);
CREATE TABLE orgs (id bigint PRIMARY KEY);
CREATE TABLE orgs_tmp (id bigint NOT NULL);
CREATE UNIQUE INDEX orgs_tmp_id_uidx ON orgs_tmp (id);
CREATE TYPE status AS ENUM ('a', 'b');
CREATE DOMAIN positive_int AS int CHECK (VALUE > 0);
CREATE TABLE events (id bigint, ts timestamptz) PARTITION BY RANGE (ts);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 (id bigint, ts timestamptz);
CREATE MATERIALIZED VIEW user_stats AS SELECT org_id, count(*) AS n FROM users GROUP BY org_id;
CREATE UNIQUE INDEX user_stats_org_id ON user_stats (org_id);
CREATE VIEW active_users AS SELECT id, email FROM users;
CREATE TABLE bookings (room int, during tstzrange);
CREATE TABLE users_archive (LIKE users);
CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION audit();
