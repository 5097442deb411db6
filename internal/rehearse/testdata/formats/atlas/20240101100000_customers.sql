-- Create "customers" table
CREATE TABLE "customers" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "email" text NOT NULL, PRIMARY KEY ("id"));
