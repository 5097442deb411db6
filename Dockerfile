# schemagate's GitHub container action image.
#
# The runtime carries the schemagate binary, the PostgreSQL 15 server binaries (so the default `local`
# provider needs no Docker socket), the PostgreSQL client tools (pg_dump, pg_restore, psql) of 15 and of
# each major in PG_CLIENTS, and git. It runs as root: GitHub requires it for access to the mounted
# workspace; the local provider runs PostgreSQL as the `postgres` user itself.
#
# The base images can be substituted (offline CI builds them locally, see scripts/test-action-image.sh):
#   docker build --build-arg BUILDER_IMAGE=... --build-arg RUNTIME_IMAGE=... --build-arg PG_CLIENTS= .
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
# The client majors besides 15 that deploy snapshots can use. A snapshot is taken and restored by the
# client of the server's major version, else the next newer one (internal/snapshot, ChooseClient):
# pg_dump refuses a server newer than itself, and a newer client's SQL may not load into an older
# server (pg_dump and pg_restore 17 write SET transaction_timeout, which 16 rejects, so the restore
# would fail), so each major gets its own client rather than only the newest. Debian bookworm has 15
# only: the others come from PostgreSQL's apt repository (PGDG), which postgresql-common's
# apt.postgresql.org.sh configures with the key it ships. scripts/test-action-image.sh builds offline,
# where PGDG cannot be reached, and sets it empty: that image snapshots servers up to PostgreSQL 15.
ARG PG_CLIENTS="16 17 18"
# Install only what the base lacks, so a substitute base that already has the packages needs no network.
RUN set -eux; \
    need=""; \
    for p in postgresql-15 postgresql-client-15 git ca-certificates; do \
      dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; \
    done; \
    if [ -n "$need" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need; \
    fi; \
    extra=""; \
    for v in $PG_CLIENTS; do \
      dpkg -s "postgresql-client-$v" >/dev/null 2>&1 || extra="$extra postgresql-client-$v"; \
    done; \
    if [ -n "$extra" ]; then \
      /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $extra; \
    fi; \
    rm -rf /var/lib/apt/lists/*; \
    test -x /usr/lib/postgresql/15/bin/postgres; \
    for v in 15 $PG_CLIENTS; do \
      for t in pg_dump pg_restore psql; do "/usr/lib/postgresql/$v/bin/$t" --version; done; \
    done; \
    command -v pg_dump pg_restore git
COPY --from=build /out/schemagate /usr/local/bin/schemagate
ENV PATH=/usr/lib/postgresql/15/bin:$PATH
WORKDIR /github/workspace
ENTRYPOINT ["/usr/local/bin/schemagate"]
CMD ["action"]
