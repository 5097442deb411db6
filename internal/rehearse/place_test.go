package rehearse

import (
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

func TestStatementWords(t *testing.T) {
	for _, tc := range []struct {
		sql, name string
		want      bool
	}{
		{"CREATE INDEX users_email_idx ON users (email)", "users_email_idx", true},
		{"create index USERS_EMAIL_IDX on users (email)", "users_email_idx", true},
		{"CREATE INDEX users_email_idx2 ON users (email)", "users_email_idx", false},
		{"ALTER TABLE x_users ADD c int", "users", false},
		{`ALTER TABLE "Users" ADD c int`, "Users", true},
		{`ALTER TABLE "Users" ADD c int`, "users", false},
		{`ALTER TABLE Users ADD c int`, "Users", false}, // folds to users
		{`ALTER TABLE "a""b" ADD c int`, `a"b`, true},
		{"ALTER TABLE public.users ADD c int", "users", true},
		{"COMMENT ON TABLE t IS 'drop users_email_idx later'", "users_email_idx", false},
		{"CREATE FUNCTION f() RETURNS int AS $$ SELECT count(*) FROM users $$ LANGUAGE sql", "users", false},
		{"ALTER TABLE t ADD c int -- see users\n", "users", false},
		{"ALTER TABLE t ADD name text", "name", true}, // a key word used as a name
	} {
		if got := statementWords(tc.sql)[tc.name]; got != tc.want {
			t.Errorf("statementWords(%q)[%q] = %v, want %v", tc.sql, tc.name, got, tc.want)
		}
	}
}

// TestStatementNaming: a statement naming the object and its table wins over one naming the object
// alone; an object of another schema must be named with it; a function by a statement about a
// function; a generated down is not looked in; operators and memberships have no place.
func TestStatementNaming(t *testing.T) {
	script := func(file string, stmts ...string) *migrate.Script {
		s := &migrate.Script{File: file}
		for i, q := range stmts {
			s.Statements = append(s.Statements, sqlparse.Statement{SQL: q, Pos: sqlparse.Position{Line: i + 1, Column: 1}})
		}
		return s
	}
	up := script("2.up.sql",
		"ALTER TABLE orders ADD note text",
		"ALTER TABLE items ALTER note TYPE varchar(9)",
		"CREATE FUNCTION orders(integer) RETURNS int LANGUAGE sql AS 'SELECT 1'",
		"ALTER TABLE audit.items ADD note text",
		`CREATE ROLE "svc.api"`)
	at := func(c schema.Change, scripts ...*migrate.Script) int {
		if len(scripts) == 0 {
			scripts = []*migrate.Script{up}
		}
		if p := statementNaming(scripts, c, wordCache{}); p != nil {
			return p.Line
		}
		return 0
	}
	for _, tc := range []struct {
		c    schema.Change
		want int
	}{
		{schema.Change{Kind: schema.KindColumn, Name: "public.items.note", Table: "public.items"}, 2},
		{schema.Change{Kind: schema.KindColumn, Name: "audit.items.note", Table: "audit.items"}, 4},
		{schema.Change{Kind: schema.KindFunction, Name: "public.orders(integer)"}, 3},
		{schema.Change{Kind: schema.KindTable, Name: "public.orders"}, 1},
		{schema.Change{Kind: schema.KindRole, Name: "svc.api"}, 5},
		{schema.Change{Kind: schema.KindOperator, Name: "public.=(integer, integer)"}, 0},
		{schema.Change{Kind: schema.KindMembership, Name: "orders"}, 0},
		{schema.Change{Kind: schema.KindIndex, Name: "public.gone_idx", Table: "public.items"}, 0},
	} {
		if got := at(tc.c); got != tc.want {
			t.Errorf("%s %s placed at line %d, want %d", tc.c.Kind, tc.c.Name, got, tc.want)
		}
	}
	gen := script("2.down.generated.sql", "ALTER TABLE items DROP note")
	if got := at(schema.Change{Kind: schema.KindColumn, Name: "public.items.note", Table: "public.items"}, gen); got != 0 {
		t.Errorf("placed in a generated down at line %d", got)
	}
}
