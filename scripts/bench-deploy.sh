#!/usr/bin/env bash
# bench-deploy.sh: snapshot and restore times on a ~1 GB database, directory format with 2 jobs versus
# custom format single-threaded, and a deploy's time in maintenance mode beyond its migrations' own time.
#
# Usage: scripts/bench-deploy.sh            (starts a throwaway PostgreSQL 15 as the postgres OS user)
#        BENCH_DATABASE_URL=postgres://... scripts/bench-deploy.sh   (uses that database; it is filled)
# Env:   BENCH_ROWS (default 6000000 event rows, ~1 GB with indexes), PG_BIN (default /usr/lib/postgresql/15/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROWS=${BENCH_ROWS:-6000000}
WORK=${BENCH_WORK:-/tmp/schemagate-bench}
PORT=${BENCH_PORT:-55440}

started=""
if [[ -z "${BENCH_DATABASE_URL:-}" ]]; then
  mkdir -p "$WORK" && chmod 777 "$WORK"
  if [[ ! -d "$WORK/data" ]]; then
    su postgres -c "$PG_BIN/initdb -D $WORK/data -A trust -U postgres" >/dev/null
  fi
  su postgres -c "$PG_BIN/pg_ctl -D $WORK/data -l $WORK/log -w -o '-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_wal_size=4GB -c shared_buffers=256MB' start" >/dev/null
  started=1
  trap '[[ -n "$started" ]] && su postgres -c "$PG_BIN/pg_ctl -D $WORK/data -m fast stop" >/dev/null' EXIT
  BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/bench"
  "$PG_BIN/psql" -q "postgres://postgres@127.0.0.1:$PORT/postgres" -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
fi
psql() { "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 "$@"; }
secs() { local s=$EPOCHREALTIME; "$@" >/dev/null; awk -v a="$s" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}'; }

echo "== filling $BENCH_DATABASE_URL with $ROWS event rows"
fill=$(secs psql "$BENCH_DATABASE_URL" <<SQL
DROP SCHEMA IF EXISTS schemagate CASCADE;
DROP TABLE IF EXISTS events, accounts CASCADE;
CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO accounts SELECT g, 'account ' || g, now() - g * interval '1 minute' FROM generate_series(0, 99999) g;
CREATE TABLE events (id bigserial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts, kind text NOT NULL,
  payload text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO events (account_id, kind, payload, created_at)
  SELECT g % 100000, (ARRAY['click','view','buy'])[g % 3 + 1], md5(g::text) || md5((g * 7)::text), now() - g * interval '1 second'
  FROM generate_series(1, $ROWS) g;
CREATE INDEX events_account_idx ON events (account_id);
CREATE INDEX events_created_idx ON events (created_at);
VACUUM ANALYZE;
SQL
)
size=$(psql "$BENCH_DATABASE_URL" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
echo "filled in ${fill}s; database size $size"

echo "== go benchmarks (snapshot package: dump + same-database restore; deploy package: maintenance overhead)"
export BENCH_DATABASE_URL
go test ./internal/snapshot -run '^$' -bench BenchmarkSnapshotRestore -benchtime 1x -timeout 60m
go test ./internal/deploy -run '^$' -bench BenchmarkDeployMaintenanceOverhead -benchtime 1x -timeout 60m
