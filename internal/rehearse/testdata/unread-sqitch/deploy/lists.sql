-- Deploy flipr:lists to pg
-- requires: users

BEGIN;

CREATE TABLE flipr.lists (
    id        BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nickname  TEXT        NOT NULL REFERENCES flipr.users (nickname),
    name      TEXT        NOT NULL,
    timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

COMMIT;
