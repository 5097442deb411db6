#!/bin/sh
# Minimal stand-in for the official postgres image's entrypoint, for images built locally from Debian
# packages (no registry is reachable in CI). It honours the same interface the tests and schemagate's
# docker provider rely on: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA, `postgres -c ...`
# arguments, and it logs "database system is ready to accept connections" twice (init server, then
# the real one), like the official image, so testcontainers' postgres wait strategy works unchanged.
set -eu
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
export PATH="$BIN:$PATH"
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ "${1:-postgres}" != postgres ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi
[ "${1:-}" = postgres ] && shift
if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
  echo "error: POSTGRES_PASSWORD is not set (set POSTGRES_HOST_AUTH_METHOD=trust to allow no password)" >&2
  exit 1
fi
asuser() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp); printf '%s' "${POSTGRES_PASSWORD:-}" >"$pwfile"; chown postgres "$pwfile"
  asuser initdb -D "$PGDATA" -U "$POSTGRES_USER" --auth-local=trust --auth-host=scram-sha-256 \
    ${POSTGRES_PASSWORD:+--pwfile="$pwfile"} -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  method=scram-sha-256; [ "${POSTGRES_HOST_AUTH_METHOD:-}" = trust ] && method=trust
  printf 'host all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"
  asuser pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k /var/run/postgresql" -w start
  if [ "$POSTGRES_DB" != postgres ]; then
    asuser psql -h /var/run/postgresql -U "$POSTGRES_USER" -d postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] && asuser psql -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -qf "$f"
  done
  asuser pg_ctl -D "$PGDATA" -m fast -w stop
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" \
  -c listen_addresses='*' -k /var/run/postgresql "$@"
