#!/usr/bin/env bash
# Prepares a fresh machine for schemagate's test suite: PostgreSQL server binaries, a Docker engine,
# and the locally built images the tests use (no image registry is reachable here). Idempotent: every
# step checks whether its result already exists and skips it then.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[setup] %s\n' "$*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || { log "run as root (or with sudo)"; exit 2; }; }

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# 1. PostgreSQL server binaries for the default `local` provider, plus client tools for deploy snapshots.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt_install postgresql-15 postgresql-client-15
fi

# 2. Docker engine.
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  apt_install debootstrap
  log "starting dockerd"
  (dockerd >/tmp/dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /tmp/dockerd.log"; tail -20 /tmp/dockerd.log >&2; exit 1; }
fi
command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap

# 3. Local images (built from Debian packages; reused when present).
build_rootfs_image() { # name suite packages...
  local name=$1 suite=$2; shift 2
  if docker image inspect "$name" >/dev/null 2>&1; then log "image $name exists"; return 0; fi
  local dir; dir=$(mktemp -d /tmp/rootfs.XXXXXX)
  log "building $name from Debian $suite ($*) — about 2 minutes"
  local inc; inc=$(IFS=,; echo "$*")
  debootstrap --variant=minbase --include="$inc" "$suite" "$dir" >/tmp/debootstrap-"$suite".log 2>&1 \
    || { tail -20 /tmp/debootstrap-"$suite".log >&2; rm -rf "$dir"; exit 1; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  # The entrypoint makes the rootfs behave like the official postgres image where schemagate relies on it.
  install -m 0755 "$here/pgimage/docker-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  tar -C "$dir" -c . | docker import \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]' --change 'EXPOSE 5432' \
    - "$name" >/dev/null
  rm -rf "$dir"
}

build_rootfs_image schemagate/postgres:15 bookworm postgresql-15 &
p1=$!
build_rootfs_image schemagate/postgres:17 trixie postgresql-17 &
p2=$!
wait $p1; wait $p2
log "machine ready"
