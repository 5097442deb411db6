package pg_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestBuiltinCollationProvider: PostgreSQL 17's builtin collation provider (collprovider 'b') is named
// so in the catalog's collations, where it read "default", the word for the database's own provider.
func TestBuiltinCollationProvider(t *testing.T) {
	inst := pgtest.TCPServerVersion(t, 17)
	conn, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `CREATE COLLATION c_builtin (provider = builtin, locale = 'C.UTF-8');
		CREATE COLLATION c_libc (provider = libc, locale = 'C')`); err != nil {
		t.Fatal(err)
	}
	c, err := pg.InspectIgnoring(t.Context(), conn, withoutRoles)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Schemas["public"]
	if s == nil {
		t.Fatal("no schema public")
	}
	for _, want := range []string{"c_builtin: builtin locale C.UTF-8", "c_libc: libc locale C"} {
		if !strings.Contains(s.Collations+"\n", want+"\n") {
			t.Errorf("collations %q, want a line %q", s.Collations, want)
		}
	}
}
