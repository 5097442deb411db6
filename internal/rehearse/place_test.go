package rehearse

import (
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		sql, name string
		want      bool
	}{
		{"CREATE INDEX users_email_idx ON users (email)", "users_email_idx", true},
		{"create index USERS_EMAIL_IDX on users (email)", "users_email_idx", true},
		{"CREATE INDEX users_email_idx2 ON users (email)", "users_email_idx", false},
		{"ALTER TABLE x_users ADD c int", "users", false},
		{"ALTER TABLE users$1 ADD c int", "users", false},
		{`ALTER TABLE "Users" ADD c int`, "Users", true},
		{`ALTER TABLE Users ADD c int`, "Users", false}, // folds to users
		{`ALTER TABLE "a""b" ADD c int`, `a"b`, true},
		{"ALTER TABLE public.users ADD c int", "users", true},
		{"DROP TABLE users;", "users", true},
	} {
		if got := names(tc.sql, tc.name); got != tc.want {
			t.Errorf("names(%q, %q) = %v, want %v", tc.sql, tc.name, got, tc.want)
		}
	}
}

// TestStatementNaming: a statement naming the object and its table wins over one naming the object
// alone; a generated down is not looked in; a membership has no place.
func TestStatementNaming(t *testing.T) {
	script := func(file string, stmts ...string) *migrate.Script {
		s := &migrate.Script{File: file}
		for i, q := range stmts {
			s.Statements = append(s.Statements, sqlparse.Statement{SQL: q, Pos: sqlparse.Position{Line: i + 1, Column: 1}})
		}
		return s
	}
	up := script("2.up.sql", "ALTER TABLE orders ADD note text", "ALTER TABLE items ALTER note TYPE varchar(9)")
	col := schema.Change{Kind: schema.KindColumn, Name: "public.items.note", Table: "public.items"}
	if at := statementNaming([]*migrate.Script{up}, col); at == nil || at.Line != 2 {
		t.Errorf("column items.note placed at %+v, want line 2", at)
	}
	gen := script("2.down.generated.sql", "ALTER TABLE items DROP note")
	if at := statementNaming([]*migrate.Script{gen}, col); at != nil {
		t.Errorf("placed in a generated down: %+v", at)
	}
	if at := statementNaming([]*migrate.Script{up}, schema.Change{Kind: schema.KindMembership, Name: "orders"}); at != nil {
		t.Errorf("membership placed: %+v", at)
	}
	fn := schema.Change{Kind: "function", Name: "public.orders(integer)"}
	if at := statementNaming([]*migrate.Script{up}, fn); at == nil || at.Line != 1 {
		t.Errorf("function orders(integer) placed at %+v, want line 1", at)
	}
}
