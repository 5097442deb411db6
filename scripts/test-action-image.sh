#!/usr/bin/env bash
# Builds schemagate's action image from the repository's Dockerfile without reaching any registry:
# the Dockerfile's base images (golang:1.26-bookworm, debian:bookworm-slim) are replaced through
# --build-arg by images built here from Debian packages (debootstrap + docker import), and the Go
# modules are vendored into a copy of the build context. Prints the image name on stdout.
#
#   scripts/test-action-image.sh [IMAGE]      (default schemagate/action:test)
#
# internal/cli/action_image_test.go runs it, then runs the image the way the GitHub runner runs a
# container action, against a fake GitHub API.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
image=${1:-schemagate/action:test}
runtime=schemagate/runtime-local:bookworm
builder=schemagate/builder-local:bookworm
log() { echo "test-action-image: $*" >&2; }

docker info >/dev/null 2>&1 || { log "docker is not running"; exit 1; }
goroot=$(go env GOROOT)

# 1. Substitute base images from one Debian bookworm rootfs: the runtime has PostgreSQL 15, git and
#    CA certificates; the builder adds a C toolchain (pg_query_go needs cgo) and the host's Go.
if ! docker image inspect "$runtime" >/dev/null 2>&1 || ! docker image inspect "$builder" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  dir=$(mktemp -d /tmp/action-rootfs.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
  log "debootstrap bookworm into $dir (a few minutes)"
  debootstrap --variant=minbase --include=postgresql-15,postgresql-client-15,git,ca-certificates,gcc,libc6-dev \
    bookworm "$dir" >/tmp/debootstrap-action.log 2>&1 || { tail -20 /tmp/debootstrap-action.log >&2; exit 1; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import --change 'CMD ["/bin/bash"]' - "$runtime" >/dev/null
  cp -a "$goroot" "$dir/usr/local/go"
  tar -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV GOTOOLCHAIN=local' --change 'CMD ["/bin/bash"]' - "$builder" >/dev/null
  rm -rf "$dir"; trap - EXIT
fi

# 2. Build context: the working tree with vendored modules (no network inside the build).
ctx=$(mktemp -d /tmp/action-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
tar -C "$root" --exclude=./.git --exclude=./bin --exclude=./vendor -c . | tar -C "$ctx" -x
(cd "$ctx" && GOFLAGS=-mod=mod go mod vendor) >&2

# 3. Build from the repository's Dockerfile with the substitutes. PG_CLIENTS is empty: the client tools
#    of PostgreSQL 16 and later come from PostgreSQL's own apt repository, which is not reachable here
#    (Debian bookworm has 15's only), so this image has 15's alone and snapshots servers up to 15.
log "docker build $image"
old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
docker build -q -f "$ctx/Dockerfile" -t "$image" \
  --build-arg BUILDER_IMAGE="$builder" --build-arg RUNTIME_IMAGE="$runtime" --build-arg PG_CLIENTS= \
  --build-arg VERSION=test "$ctx" >&2

# 4. Every run builds a new image (the Go build reruns): remove what the previous build left behind,
#    its final image and the build stage's, or each run keeps 2 GB more on the disk.
new=$(docker image inspect -f '{{.Id}}' "$image")
if [ -n "$old" ] && [ "$old" != "$new" ] && [ "$(docker image inspect -f '{{len .RepoTags}}' "$old" 2>/dev/null)" = 0 ]; then
  # Only when no other tag names it any more (an identical build may be tagged twice).
  docker image rm "$old" >/dev/null 2>&1 || log "could not remove the previous image $old (a container uses it?)"
fi
docker image prune -f --filter label=org.schemagate.stage=build >/dev/null
echo "$image"
