-- Deploy flipr:flips to pg
-- requires: users

BEGIN;

CREATE TABLE flipr.flips (
    id        BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nickname  TEXT        NOT NULL REFERENCES flipr.users (nickname),
    body      TEXT        NOT NULL DEFAULT '' CHECK ( length(body) <= 180 ),
    timestamp TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);

COMMIT;
