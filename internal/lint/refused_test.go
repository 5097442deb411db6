package lint

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestRefusedExpressionMatchesServer runs each statement on the server: refused-expression is raised
// exactly for those PostgreSQL refuses for a subquery, an aggregate, a window or set-returning function
// (or, in a DEFAULT, a column reference) where the statement puts the expression, naming what and where
// as PostgreSQL's error does; the expressions the server takes raise nothing.
func TestRefusedExpressionMatchesServer(t *testing.T) {
	schema := "CREATE TABLE users (id int PRIMARY KEY, name text, deleted_at timestamptz);\n" +
		"CREATE DOMAIN positive AS int;\n" +
		"CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\n" +
		"CREATE TABLE events_old (id int, at date);\n" +
		"CREATE FUNCTION max(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT greatest($1, $2)';\n" +
		"CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';\n"
	const rule = "refused-expression"
	refused := []struct{ name, src, msg string }{
		{"SET DEFAULT subquery", "ALTER TABLE users ALTER COLUMN name SET DEFAULT (SELECT 'x');", "a subquery in a DEFAULT expression"},
		{"ADD COLUMN DEFAULT subquery", "ALTER TABLE users ADD COLUMN code text DEFAULT coalesce((SELECT 'x'), 'y');", "a subquery in a DEFAULT expression"},
		{"ADD COLUMN DEFAULT EXISTS", "ALTER TABLE users ADD COLUMN flag boolean DEFAULT EXISTS (SELECT 1 FROM users);", "a subquery in a DEFAULT expression"},
		{"CREATE TABLE DEFAULT subquery", "CREATE TABLE t2 (a int DEFAULT (SELECT 1));", "a subquery in a DEFAULT expression"},
		{"ADD CHECK subquery", "ALTER TABLE users ADD CONSTRAINT c CHECK (id > (SELECT 1));", "a subquery in a check constraint"},
		{"column CHECK subquery", "ALTER TABLE users ADD COLUMN h int CHECK (h > (SELECT 1));", "a subquery in a check constraint"},
		{"table CHECK subquery", "CREATE TABLE t4 (a int, CHECK (a > (SELECT 1)));", "a subquery in a check constraint"},
		{"index expression", "CREATE INDEX users_x ON users ((id + (SELECT 1)));", "a subquery in an index expression"},
		{"index predicate", "CREATE INDEX users_y ON users (id) WHERE id > (SELECT 1);", "a subquery in an index predicate"},
		{"generated column", "ALTER TABLE users ADD COLUMN g int GENERATED ALWAYS AS ((SELECT 1)) STORED;", "a subquery in a column generation expression"},
		{"CREATE DOMAIN CHECK", "CREATE DOMAIN d AS int CHECK (VALUE > (SELECT 1));", "a subquery in a check constraint"},
		{"CREATE DOMAIN DEFAULT", "CREATE DOMAIN d2 AS int DEFAULT (SELECT 1);", "a subquery in a DEFAULT expression"},
		{"ALTER DOMAIN ADD CHECK", "ALTER DOMAIN positive ADD CHECK (VALUE > (SELECT 0));", "a subquery in a check constraint"},
		{"ALTER DOMAIN SET DEFAULT", "ALTER DOMAIN positive SET DEFAULT (SELECT 1);", "a subquery in a DEFAULT expression"},
		{"aggregate count(*)", "ALTER TABLE users ALTER COLUMN id SET DEFAULT count(*);", "the aggregate function count in a DEFAULT expression"},
		{"aggregate by name", "ALTER TABLE users ADD CONSTRAINT c2 CHECK (sum(id) > 0);", "the aggregate function sum in a check constraint"},
		{"aggregate inside a call", "ALTER TABLE users ADD CONSTRAINT c3 CHECK (array_length(array_agg(id), 1) > 0);", "the aggregate function array_agg in a check constraint"},
		{"aggregate of two arguments", "ALTER TABLE users ALTER COLUMN name SET DEFAULT string_agg('a', ',');", "the aggregate function string_agg in a DEFAULT expression"},
		{"window function", "ALTER TABLE users ALTER COLUMN id SET DEFAULT row_number() OVER ();", "the window function row_number in a DEFAULT expression"},
		{"set-returning function", "ALTER TABLE users ALTER COLUMN id SET DEFAULT generate_series(1, 2);", "the set-returning function generate_series in a DEFAULT expression"},
		{"column reference in DEFAULT", "ALTER TABLE users ALTER COLUMN name SET DEFAULT id;", "a column reference (id) in a DEFAULT expression"},
		{"partition bound", "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ((SELECT '2025-01-01'::date)) TO ('2026-01-01');", "a subquery in a partition bound"},
		{"ATTACH PARTITION bound", "ALTER TABLE events ATTACH PARTITION events_old FOR VALUES FROM ('2020-01-01') TO ((SELECT '2021-01-01'::date));", "a subquery in a partition bound"},
		{"partition key", "CREATE TABLE pk (a int) PARTITION BY RANGE ((a + (SELECT 1)));", "a subquery in a partition key expression"},
		{"USING of a type change", "ALTER TABLE users ALTER COLUMN id TYPE bigint USING (SELECT 1);", "a subquery in a transform expression"},
		{"statistics expression", "CREATE STATISTICS users_s ON (id + (SELECT 1)) FROM users;", "a subquery in a statistics expression"},
		{"trigger WHEN", "CREATE TRIGGER users_t BEFORE UPDATE ON users FOR EACH ROW WHEN ((SELECT true)) EXECUTE FUNCTION touch();", "a subquery in a trigger WHEN condition"},
	}
	taken := []struct{ name, src string }{
		{"constant and volatile defaults", "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x', ALTER COLUMN deleted_at SET DEFAULT now();"},
		{"CHECK on columns", "ALTER TABLE users ADD CONSTRAINT c CHECK (id > 0 AND name IS NOT NULL);"},
		{"user function of two arguments named like an aggregate", "ALTER TABLE users ADD CONSTRAINT c CHECK (max(id, 2) > 0);"},
		{"generated column on columns", "ALTER TABLE users ADD COLUMN g int GENERATED ALWAYS AS (id * 2) STORED;"},
		{"expression index with predicate", "CREATE INDEX users_lower ON users (lower(name)) WHERE deleted_at IS NULL;"},
		{"MINVALUE bound and an expression", "CREATE TABLE events_early PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2020-01-01'::date - 1);"},
		{"trigger WHEN on OLD and NEW", "CREATE TRIGGER users_t BEFORE UPDATE ON users FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION touch();"},
		{"subquery in an UPDATE", "UPDATE users SET name = (SELECT max(name) FROM users);"},
	}
	conn := pgtest.Conn(t)
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			serverCase{name: tt.name, schema: schema, src: tt.src, fails: true, rule: rule, msg: tt.msg, atError: true, atText: refusedText(tt.src, tt.msg)}.run(t, conn)
		})
	}
	for _, tt := range taken {
		t.Run(tt.name, func(t *testing.T) {
			serverCase{name: tt.name, schema: schema, src: tt.src, not: rule}.run(t, conn)
		})
	}
}

// refusedText is the text in src of what a refused-expression finding saying msg names: its subquery
// ("(SELECT" or "EXISTS"), its column reference or its function's name.
func refusedText(src, msg string) string {
	switch {
	case strings.HasPrefix(msg, "a subquery") && strings.Contains(src, "EXISTS"):
		return "EXISTS"
	case strings.HasPrefix(msg, "a subquery"):
		return "(SELECT"
	case strings.HasPrefix(msg, "a column reference ("):
		return strings.SplitN(strings.TrimPrefix(msg, "a column reference ("), ")", 2)[0]
	default: // "the aggregate function count in ..."
		return strings.Fields(strings.SplitN(msg, " function ", 2)[1])[0]
	}
}
