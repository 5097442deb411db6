# schemagate's GitHub container action image.
#
# The runtime carries the schemagate binary, the PostgreSQL 15 server binaries (so the default `local`
# provider needs no Docker socket), pg_dump / pg_restore and git. It runs as root: GitHub requires it for
# access to the mounted workspace; the local provider runs PostgreSQL as the `postgres` user itself.
#
# The base images can be substituted (offline CI builds them locally, see scripts/test-action-image.sh):
#   docker build --build-arg BUILDER_IMAGE=... --build-arg RUNTIME_IMAGE=... .
# A vendor/ folder in the build context is used when present (no module download).
ARG BUILDER_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS build
# Marks the build stage's image, which a non-BuildKit build keeps as a dangling image, so that a script
# that builds the action image again and again can prune it (scripts/test-action-image.sh).
LABEL org.schemagate.stage=build
WORKDIR /src
ENV CGO_ENABLED=1
COPY . .
ARG VERSION=dev
RUN set -eux; \
    if [ -d vendor ]; then export GOFLAGS=-mod=vendor; else go mod download; fi; \
    go build -trimpath \
      -ldflags "-s -w -X github.com/schemagate/schemagate/internal/cli.Version=${VERSION}" \
      -o /out/schemagate ./cmd/schemagate; \
    /out/schemagate --version

FROM ${RUNTIME_IMAGE}
# Install only what the base lacks, so a substitute base that already has the packages needs no network.
RUN set -eux; \
    need=""; \
    for p in postgresql-15 postgresql-client-15 git ca-certificates; do \
      dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; \
    done; \
    if [ -n "$need" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    test -x /usr/lib/postgresql/15/bin/postgres; \
    command -v pg_dump pg_restore git
COPY --from=build /out/schemagate /usr/local/bin/schemagate
ENV PATH=/usr/lib/postgresql/15/bin:$PATH
WORKDIR /github/workspace
ENTRYPOINT ["/usr/local/bin/schemagate"]
CMD ["action"]
