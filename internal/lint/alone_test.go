package lint

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestTimeoutAdviceFitsTheTool: a migration of one DROP INDEX CONCURRENTLY (CREATE INDEX CONCURRENTLY,
// DETACH PARTITION … CONCURRENTLY) was told "SET lock_timeout before it" and "SET statement_timeout"
// whatever its tool. Where the tool runs it outside a transaction only while it stands alone
// (golang-migrate sends the file as one query, dbmate a transaction:false section; Flyway refuses a
// script that mixes it with other statements), following the advice broke the migration: lint then
// says concurrently-in-transaction, and the deploy fails with 25001. The advice now names what works
// for that tool, and only the tools that run the statements one by one in one session keep the SET;
// each case follows the advice and lints the result.
func TestTimeoutAdviceFitsTheTool(t *testing.T) {
	t.Parallel()
	const (
		init  = "CREATE TABLE users (id bigint PRIMARY KEY, name text);\nCREATE INDEX users_name_idx ON users (name);\n"
		drop  = "DROP INDEX CONCURRENTLY IF EXISTS users_name_idx;\n"
		build = "CREATE INDEX CONCURRENTLY users_name_idx2 ON users (name);\n"
		sets  = "SET lock_timeout = '2s';\nSET statement_timeout = '30min';\n"
	)
	for _, tt := range []struct {
		name   string
		format migrate.Format
		opts   migrate.Options
		// files builds the folder with stmt (after prefix) as the second migration's up.
		files func(prefix, stmt string) fstest.MapFS
		// says is a part of both timeouts' advice; setWorks says a SET before the statement works.
		says     string
		setWorks bool
	}{
		{"golang-migrate", migrate.FormatGolangMigrate, migrate.Options{}, func(prefix, stmt string) fstest.MapFS {
			return fstest.MapFS{"1_a.up.sql": {Data: []byte(init)}, "1_a.down.sql": {Data: []byte("DROP TABLE users;\n")},
				"2_b.up.sql": {Data: []byte(prefix + stmt)}, "2_b.down.sql": {Data: []byte("SELECT 1;\n")}}
		}, "x-multi-statement=true in golang-migrate's database URL", false},
		{"golang-migrate multi_statement", migrate.FormatGolangMigrate, migrate.Options{MultiStatement: true}, func(prefix, stmt string) fstest.MapFS {
			return fstest.MapFS{"1_a.up.sql": {Data: []byte(init)}, "1_a.down.sql": {Data: []byte("DROP TABLE users;\n")},
				"2_b.up.sql": {Data: []byte(prefix + stmt)}, "2_b.down.sql": {Data: []byte("SELECT 1;\n")}}
		}, "SET ", true},
		{"dbmate transaction:false", migrate.FormatDbmate, migrate.Options{}, func(prefix, stmt string) fstest.MapFS {
			return fstest.MapFS{"20240101000000_a.sql": {Data: []byte("-- migrate:up\n" + init + "-- migrate:down\nDROP TABLE users;\n")},
				"20240102000000_b.sql": {Data: []byte("-- migrate:up transaction:false\n" + prefix + stmt + "-- migrate:down\n")}}
		}, "options=-c%20", false},
		{"flyway", migrate.FormatFlyway, migrate.Options{}, func(prefix, stmt string) fstest.MapFS {
			return fstest.MapFS{"V1__a.sql": {Data: []byte(init)}, "V2__b.sql": {Data: []byte(prefix + stmt)}}
		}, "executeInTransaction=false in V2__b.sql.conf", false},
		{"flyway executeInTransaction=false", migrate.FormatFlyway, migrate.Options{}, func(prefix, stmt string) fstest.MapFS {
			return fstest.MapFS{"V1__a.sql": {Data: []byte(init)}, "V2__b.sql": {Data: []byte(prefix + stmt)},
				"V2__b.sql.conf": {Data: []byte("executeInTransaction=false\n")}}
		}, "SET ", true},
		{"goose NO TRANSACTION", migrate.FormatGoose, migrate.Options{}, func(prefix, stmt string) fstest.MapFS {
			return fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose Up\n" + init)},
				"00002_b.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\n" + prefix + stmt)}}
		}, "SET ", true},
		{"sql-migrate notransaction", migrate.FormatSQLMigrate, migrate.Options{}, func(prefix, stmt string) fstest.MapFS {
			return fstest.MapFS{"1_a.sql": {Data: []byte("-- +migrate Up\n" + init)},
				"2_b.sql": {Data: []byte("-- +migrate Up notransaction\n" + prefix + stmt)}}
		}, "SET ", true},
		{"plain", migrate.FormatPlain, migrate.Options{}, func(prefix, stmt string) fstest.MapFS {
			return fstest.MapFS{"001_a.sql": {Data: []byte(init)}, "002_b.sql": {Data: []byte(prefix + stmt)}}
		}, "SET ", true},
	} {
		for stmt, rules := range map[string][]string{
			drop:  {"missing-lock-timeout", "missing-statement-timeout"},
			build: {"missing-statement-timeout"}, // SHARE UPDATE EXCLUSIVE: no lock_timeout needed
		} {
			t.Run(tt.name+"/"+strings.Fields(stmt)[0], func(t *testing.T) {
				t.Parallel()
				lintIt := func(prefix string, cfg Config) ([]Finding, error) {
					set, err := migrate.ReadWith(tt.files(prefix, stmt), tt.format, tt.opts)
					if err != nil {
						return nil, err
					}
					seq := NewSequence(cfg)
					var fs []Finding
					for _, m := range set.Migrations {
						fs = seq.Analyze(m, set.Format)
					}
					return fs, nil
				}
				fs, err := lintIt("", Config{})
				if err != nil {
					t.Fatal(err)
				}
				for _, rule := range rules {
					f := find(fs, rule)
					if f == nil {
						t.Fatalf("no %s; findings: %v", rule, fs)
					}
					if !strings.Contains(f.Suggestion, tt.says) || strings.HasPrefix(f.Suggestion, "not a SET") == tt.setWorks {
						t.Errorf("%s suggests %q, want it to say %q (a SET in the file works: %v)", rule, f.Suggestion, tt.says, tt.setWorks)
					}
				}
				// What the SET advice leads to: the migration runs (no concurrently-in-transaction, no
				// timeout finding) only where the advice keeps it.
				fs, err = lintIt(sets, Config{})
				broken := err != nil || find(fs, "concurrently-in-transaction") != nil
				if broken == tt.setWorks {
					t.Errorf("with a SET before it: read error %v, findings %v; want it to break: %v", err, fs, !tt.setWorks)
				}
				if !broken && (find(fs, "missing-lock-timeout") != nil || find(fs, "missing-statement-timeout") != nil) {
					t.Errorf("with a SET before it, still a timeout finding: %v", fs)
				}
				// With schemagate deploy's timeouts the findings are safe; their advice for another way
				// to the database sets no timeout in the file where that breaks it.
				fs, err = lintIt("", Config{Deploy: DeployTimeouts{{Name: "production", LockTimeout: 5 * time.Second, StatementTimeout: time.Hour}}})
				if err != nil {
					t.Fatal(err)
				}
				for _, rule := range rules {
					setting := strings.ReplaceAll(strings.TrimPrefix(rule, "missing-"), "-", "_")
					if f := find(fs, rule); f == nil || f.Risk != Safe || strings.Contains(f.Suggestion, "SET "+setting+" in it") != tt.setWorks {
						t.Errorf("with deploy timeouts, %s: %+v, want safe, advising a SET in the file: %v", rule, f, tt.setWorks)
					}
				}
			})
		}
	}
}
