package rehearse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestReplaceFunctionInUseFromTheCatalog: check judges a new migration with the schema of the
// rehearsal's catalog that the migration names, and a CREATE OR REPLACE FUNCTION names the function
// only. The catalog brings along the tables whose indexes, stored generated columns and CHECK
// constraints call it, or call a function whose body calls it, so replace-function-in-use names them
// as lint --dir does: check rated the replacement of a function a unique index uses safe.
func TestReplaceFunctionInUseFromTheCatalog(t *testing.T) {
	t.Parallel()
	const replace = "SET lock_timeout = '2s';\nCREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim($1)) $$;\n"
	const norm = "CREATE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;\n"
	tests := []struct {
		name, base, src string    // src: the new migration, replace when ""
		risk            lint.Risk // Safe: no replace-function-in-use
		msg             string
	}{
		{name: "a unique index and a stored generated column",
			base: norm + "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL,\n  email_norm text GENERATED ALWAYS AS (norm_email(email)) STORED);\n" +
				"CREATE UNIQUE INDEX users_email_uq ON users (norm_email(email));\n",
			risk: lint.Dangerous, msg: "unique index users_email_uq and generated column users.email_norm use norm_email"},
		{name: "through another function",
			base: norm + "CREATE FUNCTION email_key(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'k:' || norm_email($1) $$;\n" +
				"CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\nCREATE INDEX accounts_key ON accounts (email_key(email));\n",
			risk: lint.Dangerous, msg: "index accounts_key uses email_key, which calls norm_email"},
		{name: "a CHECK",
			base: norm + "CREATE TABLE codes (code text CONSTRAINT codes_norm CHECK (norm_email(code) = code));\n",
			risk: lint.Caution, msg: "CHECK constraint codes_norm of codes uses norm_email"},
		// The catalog writes the function back as public.norm_email(text) … AS $function$ … $function$:
		// the migration re-issuing it as the history wrote it changes nothing.
		{name: "the same definition again",
			base: norm + "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\nCREATE UNIQUE INDEX users_email_uq ON users (norm_email(email));\n",
			src:  "SET lock_timeout = '2s';\n" + strings.Replace(norm, "CREATE", "CREATE OR REPLACE", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := map[string]string{"1_init.up.sql": tt.base}
			src := tt.src
			if src == "" {
				src = replace
			}
			files := map[string]string{"1_init.up.sql": tt.base, "2_trim.up.sql": src}
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files),
				Base: folderOf(t, migrate.FormatGolangMigrate, base), Provider: provider(t), NoRoundtrip: true})
			if err != nil {
				t.Fatal(err)
			}
			m := migration(t, rep, "2")
			var f *lint.Finding
			for i := range m.Findings {
				if m.Findings[i].Rule == "replace-function-in-use" {
					f = &m.Findings[i]
				}
			}
			switch {
			case tt.risk == lint.Safe && f != nil:
				t.Fatalf("replace-function-in-use %s: %s, want none", f.Risk, f.Message)
			case tt.risk == lint.Safe:
			case f == nil:
				t.Fatalf("no replace-function-in-use among %+v", m.Findings)
			case f.Risk != tt.risk:
				t.Errorf("replace-function-in-use is %s, want %s: %s", f.Risk, tt.risk, f.Message)
			case !strings.Contains(f.Message, tt.msg):
				t.Errorf("replace-function-in-use says\n%s\nwant it to say %q", f.Message, tt.msg)
			}
		})
	}
}
