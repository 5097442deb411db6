package pg_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
)

// databaseFlagCases are ups that change the database's IS_TEMPLATE, and what a down that does nothing
// is told.
var databaseFlagCases = []struct{ name, setup, up, want string }{
	{name: "made a template", up: onDatabase("ALTER DATABASE", "IS_TEMPLATE true"),
		want: "the database's IS_TEMPLATE is true after the down, was false"},
	{name: "no longer a template", setup: onDatabase("ALTER DATABASE", "IS_TEMPLATE true"), up: onDatabase("ALTER DATABASE", "IS_TEMPLATE false"),
		want: "the database's IS_TEMPLATE is false after the down, was true"},
}

// otherSession runs sql on the test server's administrative database, another session than the test
// database's: ALTER DATABASE ... ALLOW_CONNECTIONS false is refused in the database it names.
func otherSession(t *testing.T, sql string) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.Server(t).AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	exec(t, admin, sql)
}

// databaseName is the quoted name of the database conn is connected to.
func databaseName(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var db string
	if err := conn.QueryRow(context.Background(), "SELECT quote_ident(current_database())").Scan(&db); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestDatabaseFlagsCompared: a down that leaves the database's IS_TEMPLATE as the up made it fails the
// round trip with a sentence that names it: pg_database.datistemplate was read nowhere, and such an up
// with a down that did nothing passed. So does ALLOW_CONNECTIONS false (datallowconn), which PostgreSQL
// refuses in the database it names: another session sets it here, and the test's, connected before,
// reads it.
func TestDatabaseFlagsCompared(t *testing.T) {
	for _, tc := range databaseFlagCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			before := inspect(t, conn)
			exec(t, conn, tc.up)
			got := schema.Describe(schema.Compare(before, inspect(t, conn)), schema.DownPhrasing)
			if strings.Join(got, "\n") != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("connections disallowed", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		conn := pgtest.Conn(t)
		db := databaseName(t, conn)
		// In the database itself PostgreSQL refuses it: a migration cannot disallow connections to the
		// database it runs in.
		var pgErr *pgconn.PgError
		if _, err := conn.Exec(ctx, onDatabase("ALTER DATABASE", "ALLOW_CONNECTIONS false")); !errors.As(err, &pgErr) ||
			!strings.Contains(pgErr.Message, "cannot disallow connections for current database") {
			t.Errorf("ALLOW_CONNECTIONS false in the database itself: %v", err)
		}
		before := inspect(t, conn)
		otherSession(t, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false")
		after := inspect(t, conn)
		got := schema.Describe(schema.Compare(before, after), schema.DownPhrasing)
		if want := []string{"the database's ALLOW_CONNECTIONS is false after the down, was true"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
		// A generated down allows them again, from inside the database.
		d := schema.GenerateDown(before, after)
		t.Logf("generated down:\n%s", d.SQL)
		if err := applyDown(ctx, conn, d); err != nil {
			t.Fatalf("generated down: %v", err)
		}
		if diff := schema.Compare(before, inspect(t, conn)); !diff.Empty() {
			t.Errorf("after the generated down: %q", schema.Describe(diff, schema.DownPhrasing))
		}
	})
}

// TestGenerateDownDatabaseFlags: what the up did to the database's IS_TEMPLATE goes back, in the
// database the down runs in.
func TestGenerateDownDatabaseFlags(t *testing.T) {
	var cases []downCase
	for _, tc := range databaseFlagCases {
		cases = append(cases, downCase{name: tc.name, setup: tc.setup, up: tc.up})
	}
	t.Run("cases", func(t *testing.T) { runDownCases(t, cases) })
}

// TestIncrementalReadsDatabaseFlags: the database's IS_TEMPLATE and ALLOW_CONNECTIONS live in
// pg_database, whose writes take no lock the probe sees, as its connection limit does: the probe's
// roles fingerprint covers them, and a read after ALTER DATABASE ... IS_TEMPLATE, committed or in its
// transaction, or after another session's ALLOW_CONNECTIONS false, is whole. Verify mode checks each
// read against a whole one; before, the partial read kept the mark's.
func TestIncrementalReadsDatabaseFlags(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	db := databaseName(t, conn)
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectVerify}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"ALTER DATABASE " + db + " IS_TEMPLATE true", "CREATE TABLE t (a int)",
		"ALTER DATABASE " + db + " IS_TEMPLATE false", "ALTER DATABASE " + db + " IS_TEMPLATE true"} {
		exec(t, conn, in.BeginSQL())
		exec(t, conn, sql)
		if _, err := in.Since(ctx, conn, mark, nil, in.Ran(sql, mark)); err != nil {
			t.Fatalf("%s, read inside its transaction: %v", sql, err)
		}
		locks, err := in.Locks(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, conn, "COMMIT")
		if mark, err = in.Since(ctx, conn, mark, locks, in.Ran(sql, mark)); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if c := mark.Catalog(); !c.DatabaseIsTemplate || c.DatabaseConnectionsDisallowed {
		t.Errorf("template %v, connections disallowed %v; want a template that takes connections", c.DatabaseIsTemplate, c.DatabaseConnectionsDisallowed)
	}
	otherSession(t, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false")
	if mark, err = in.Since(ctx, conn, mark, nil, pg.Ran{}); err != nil {
		t.Fatalf("after another session's ALLOW_CONNECTIONS false: %v", err)
	}
	if c := mark.Catalog(); !c.DatabaseConnectionsDisallowed {
		t.Errorf("connections disallowed %v after ALLOW_CONNECTIONS false", c.DatabaseConnectionsDisallowed)
	}
	sql := "ALTER DATABASE " + db + " ALLOW_CONNECTIONS true"
	exec(t, conn, sql)
	if mark, err = in.Since(ctx, conn, mark, nil, in.Ran(sql, mark)); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if c := mark.Catalog(); c.DatabaseConnectionsDisallowed {
		t.Errorf("connections disallowed after %s", sql)
	}
}
