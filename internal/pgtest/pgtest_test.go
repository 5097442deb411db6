package pgtest

import (
	"context"
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestURLGivesSeparateDatabases(t *testing.T) {
	a, b := Conn(t), Conn(t)
	ctx := context.Background()
	if _, err := a.Exec(ctx, "CREATE TABLE only_in_a (id int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = 'only_in_a'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("table created in one test database is visible in another")
	}
	var da, db string
	a.QueryRow(ctx, "SELECT current_database()").Scan(&da)
	b.QueryRow(ctx, "SELECT current_database()").Scan(&db)
	if da == db {
		t.Fatalf("both connections use database %q", da)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@h:5432/postgres?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"postgres://postgres@/postgres?host=%2Ftmp%2Fd&port=5432", "postgres://postgres@/x?host=%2Ftmp%2Fd&port=5432"},
		{"postgres://u@h", "postgres://u@h/x"},
	} {
		if got := WithDatabase(c.in, "x"); got != c.want {
			t.Errorf("WithDatabase(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
