package rehearse_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestInvalidIndexRetryWithIfNotExists: a CREATE UNIQUE INDEX CONCURRENTLY that fails on duplicates
// leaves its index INVALID. Without IF NOT EXISTS a retry of it fails (42P07), as invalid-index says;
// with IF NOT EXISTS the retry succeeds with only a notice and keeps the INVALID index, so the
// migration is recorded as applied with no usable index: the finding says so, and still advises DROP
// INDEX CONCURRENTLY IF EXISTS first. Both behaviours are checked on the server itself.
func TestInvalidIndexRetryWithIfNotExists(t *testing.T) {
	history := "-- +goose Up\nCREATE TABLE tuple (id bigint PRIMARY KEY, _user text NOT NULL, object_type text NOT NULL);\n" +
		"INSERT INTO tuple VALUES (1, 'a', 'doc'), (2, 'a', 'doc');\n-- +goose Down\nDROP TABLE tuple;\n"
	for _, tt := range []struct {
		name, create   string
		want, unwanted string // in the invalid-index finding's message
	}{
		{"IF NOT EXISTS", "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tuple_user_obj ON tuple (_user, object_type)",
			"a retry does not fail: IF NOT EXISTS skips the INVALID index with only a notice and keeps it, so the migration is recorded as applied with no usable index",
			"a retry with the same name fails"},
		{"without IF NOT EXISTS", "CREATE UNIQUE INDEX CONCURRENTLY tuple_user_obj ON tuple (_user, object_type)",
			"a retry with the same name fails", "IF NOT EXISTS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// What PostgreSQL does when the statement runs again after it failed.
			ctx := t.Context()
			cfg, err := pgx.ParseConfig(pgtest.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			var notices []string
			cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Message) }
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(ctx, "CREATE TABLE tuple (id bigint PRIMARY KEY, _user text NOT NULL, object_type text NOT NULL);"+
				"INSERT INTO tuple VALUES (1, 'a', 'doc'), (2, 'a', 'doc')"); err != nil {
				t.Fatal(err)
			}
			var pgErr *pgconn.PgError
			if _, err := conn.Exec(ctx, tt.create); !errors.As(err, &pgErr) || pgErr.Code != "23505" {
				t.Fatalf("first run: %v, want a unique violation (23505)", err)
			}
			_, err = conn.Exec(ctx, tt.create)
			var valid bool
			if err := conn.QueryRow(ctx, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'tuple_user_obj'::regclass").Scan(&valid); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tt.create, "IF NOT EXISTS") {
				if err != nil || valid || len(notices) != 1 || !strings.Contains(notices[0], `relation "tuple_user_obj" already exists, skipping`) {
					t.Fatalf("retry with IF NOT EXISTS: error %v, valid %v, notices %q; want no error, the index still INVALID, a notice", err, valid, notices)
				}
			} else if !errors.As(err, &pgErr) || pgErr.Code != "42P07" {
				t.Fatalf("retry without IF NOT EXISTS: %v, want relation already exists (42P07)", err)
			}

			// What the rehearsal says of it, with nothing else in the file to find (the timeouts set).
			set := folderOf(t, migrate.FormatGoose, map[string]string{"00001_tuple.sql": history,
				"00002_uniq.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nSET lock_timeout = '2s';\nSET statement_timeout = '1min';\n" + tt.create + ";\n" +
					"-- +goose Down\nDROP INDEX CONCURRENTLY IF EXISTS tuple_user_obj;\n"})
			rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]},
				Provider: provider(t), NoRoundtrip: true})
			if err != nil {
				t.Fatal(err)
			}
			m := rep.Migrations[len(rep.Migrations)-1]
			if m.Status != report.StatusFailed {
				t.Fatalf("00002 %s, want failed", m.Status)
			}
			var found bool
			for _, f := range m.Findings {
				if f.Rule != "invalid-index" {
					continue
				}
				found = true
				if !strings.Contains(f.Message, tt.want) || strings.Contains(f.Message, tt.unwanted) ||
					!strings.HasPrefix(f.Suggestion, "DROP INDEX CONCURRENTLY IF EXISTS public.tuple_user_obj") {
					t.Errorf("invalid-index %q (suggestion %q), want %q in it and not %q", f.Message, f.Suggestion, tt.want, tt.unwanted)
				}
			}
			if !found {
				t.Errorf("no invalid-index in %+v", m.Findings)
			}
		})
	}
}
