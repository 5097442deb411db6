package lint

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestVersionUnsupportedMatchesServer runs PostgreSQL 16 and 17 syntax, and the older forms beside it,
// on the test server (15 unless SCHEMAGATE_TEST_PG_VERSION says otherwise), each alone after the
// schema: version-unsupported, for that server's version, is raised exactly for the statements the
// server refuses, and names the version that brought what it refuses.
func TestVersionUnsupportedMatchesServer(t *testing.T) {
	t.Parallel()
	schema := "CREATE TABLE items (id bigint PRIMARY KEY, price numeric NOT NULL, total numeric GENERATED ALWAYS AS (price * 2) STORED, body jsonb);\n" +
		"CREATE TABLE stock (sku text PRIMARY KEY, qty int NOT NULL);\n" +
		"CREATE TABLE events (created date NOT NULL, payload text) PARTITION BY RANGE (created);\n" +
		"CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n" +
		"CREATE TABLE visits (created date NOT NULL) PARTITION BY RANGE (created);\n" +
		"CREATE FUNCTION on_event() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN NULL; END$$;\n"
	statements := []string{
		// 16
		"GRANT vu_a TO vu_b WITH INHERIT FALSE, SET FALSE",
		"GRANT vu_a TO vu_b WITH ADMIN TRUE",
		"GRANT vu_a TO vu_b WITH ADMIN OPTION",
		"REVOKE INHERIT OPTION FOR vu_a FROM vu_b",
		"REVOKE ADMIN OPTION FOR vu_a FROM vu_b",
		"CREATE TABLE audit (who text DEFAULT SYSTEM_USER)",
		"CREATE INDEX items_body_object ON items ((body IS JSON OBJECT))",
		"SELECT JSON_OBJECT('a' VALUE 1)",
		"SELECT JSON_ARRAY(1, 2)",
		"SELECT JSON_ARRAYAGG(qty) FROM stock",
		"SELECT JSON_OBJECTAGG(sku VALUE qty) FROM stock",
		"SELECT json_object('{a,1}'), JSON('{}')",
		// 17
		"MERGE INTO stock s USING (SELECT 'a' AS sku) i ON s.sku = i.sku WHEN MATCHED THEN UPDATE SET qty = 1 RETURNING merge_action()",
		"WITH m AS (MERGE INTO stock s USING (SELECT 'a' AS sku) i ON s.sku = i.sku WHEN MATCHED THEN DELETE) SELECT 1",
		"MERGE INTO stock s USING (SELECT 'a' AS sku) i ON s.sku = i.sku WHEN MATCHED THEN UPDATE SET qty = 1",
		"CREATE VIEW item_tags AS SELECT i.id, jt.tag FROM items i, JSON_TABLE(i.body, '$.tags[*]' COLUMNS (tag text PATH '$')) AS jt",
		"SELECT JSON_QUERY(body, '$.a'), JSON_VALUE(body, '$.a'), JSON_EXISTS(body, '$.a') FROM items",
		"SELECT JSON_SCALAR(1)",
		"GRANT MAINTAIN ON stock TO vu_a",
		"GRANT pg_maintain TO vu_a",
		"COPY stock FROM '/dev/null' (ON_ERROR ignore)",
		"COPY stock FROM '/dev/null' (FORMAT csv)",
		"CREATE COLLATION builtin_c (provider = builtin, locale = 'C.UTF-8')",
		"SET transaction_timeout = '5s'",
		"ALTER ROLE vu_a SET transaction_timeout = '5s'",
		"ALTER TABLE items ALTER COLUMN total SET EXPRESSION AS (price * 3)",
		"ALTER TABLE items SET ACCESS METHOD DEFAULT",
		"ALTER TABLE items SET ACCESS METHOD heap",
		"ALTER TABLE items ALTER COLUMN price SET STATISTICS DEFAULT",
		"ALTER TABLE items ALTER COLUMN price SET STATISTICS -1",
		"CREATE EVENT TRIGGER vu_login ON login EXECUTE FUNCTION on_event()",
		"CREATE EVENT TRIGGER vu_ddl ON ddl_command_end EXECUTE FUNCTION on_event()",
		"ALTER TABLE events ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY",
		"ALTER TABLE visits ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY",
	}
	ctx := t.Context()
	conn := pgtest.Conn(t)
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	// Roles are the server's, not the database's: the rollback at the end takes them away again.
	if _, err := tx.Exec(ctx, "CREATE ROLE vu_a; CREATE ROLE vu_b; "+schema); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, sql := range statements {
		runErr := tryStatement(ctx, tx, sql)
		var got []Finding
		for _, f := range AnalyzeScript(script(sql+";\n"), true, Config{Schema: schema, PGVersion: num}) {
			if f.Rule == "version-unsupported" {
				got = append(got, f)
			}
		}
		switch {
		case runErr != nil && len(got) != 1:
			t.Errorf("%s: PostgreSQL %d refuses it (%v); version-unsupported findings %v, want one", sql, num/10000, runErr, got)
		case runErr == nil && len(got) != 0:
			t.Errorf("%s: PostgreSQL %d runs it; want no version-unsupported, got %v", sql, num/10000, got)
		case runErr != nil && !strings.Contains(got[0].Message, "it arrived in 1") && !strings.Contains(got[0].Message, ") are not available"):
			t.Errorf("%s: %q names no version", sql, got[0].Message)
		}
		if runErr != nil {
			refused++
		}
	}
	// On 15 that is every statement above but the nine older forms beside them.
	if num < 160000 && refused != len(statements)-9 {
		t.Errorf("PostgreSQL %d refused %d of %d statements, want all but 9", num/10000, refused, len(statements))
	}
}

// tryStatement runs sql in a savepoint of tx and rolls it back, so that each statement runs on the
// same schema; it returns the server's error.
func tryStatement(ctx context.Context, tx pgx.Tx, sql string) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	defer sp.Rollback(context.Background())
	_, err = sp.Exec(ctx, sql)
	return err
}
