package pg_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestNeedsAutocommitAgreesWithTheServer: sqlparse.NeedsAutocommit says of a statement just what the
// server does with it inside a transaction block: it refuses those (SQLSTATE 25001) and only those.
func TestNeedsAutocommitAgreesWithTheServer(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	if _, err := conn.PgConn().Exec(ctx, `CREATE TABLE t (a int);
CREATE INDEX i ON t (a);
CREATE TABLE p (id int) PARTITION BY RANGE (id);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
CREATE TYPE e AS ENUM ('x')`).ReadAll(); err != nil {
		t.Fatal(err)
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"CREATE INDEX CONCURRENTLY i2 ON t (a)", "CREATE UNIQUE INDEX CONCURRENTLY i3 ON t (a)", "CREATE INDEX i4 ON t (a)",
		"DROP INDEX CONCURRENTLY i", "DROP INDEX i",
		"REINDEX INDEX CONCURRENTLY i", "REINDEX (CONCURRENTLY) TABLE t", "REINDEX INDEX i", "REINDEX TABLE t",
		"REINDEX SCHEMA public", "REINDEX DATABASE " + db, "REINDEX SYSTEM " + db,
		"VACUUM t", "VACUUM ANALYZE t", "ANALYZE t",
		"CLUSTER", "CLUSTER t USING i",
		"CREATE DATABASE nope", "DROP DATABASE IF EXISTS nope", "ALTER DATABASE " + db + " SET TABLESPACE pg_default",
		"ALTER DATABASE " + db + " SET work_mem = '8MB'",
		"CREATE TABLESPACE ts LOCATION '/nonexistent'", "DROP TABLESPACE IF EXISTS ts", "ALTER SYSTEM SET work_mem = '8MB'",
		"ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY", "ALTER TABLE p DETACH PARTITION p1",
		"ALTER TYPE e ADD VALUE 'y'", "ALTER TABLE t ADD COLUMN b int",
		// no connection is made: the server refuses the first in a transaction block before it connects,
		// and the others do not connect
		"CREATE SUBSCRIPTION s CONNECTION 'host=127.0.0.1 port=1' PUBLICATION pub",
		"CREATE SUBSCRIPTION s CONNECTION 'host=127.0.0.1 port=1' PUBLICATION pub WITH (connect = false)",
		"CREATE SUBSCRIPTION s CONNECTION 'host=127.0.0.1 port=1' PUBLICATION pub WITH (connect = false, create_slot = false)",
	} {
		sts := sqlparse.Parse(sql)
		if len(sts) != 1 || sts[0].Node == nil {
			t.Fatalf("%s: did not parse", sql)
		}
		want := sqlparse.NeedsAutocommit(sts[0].Node)
		if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		_, err := conn.Exec(ctx, sql)
		if _, rerr := conn.Exec(ctx, "ROLLBACK"); rerr != nil {
			t.Fatal(rerr)
		}
		var pe *pgconn.PgError
		refused := errors.As(err, &pe) && pe.Code == "25001"
		if refused != want {
			t.Errorf("%s: NeedsAutocommit %v, but in a transaction block the server answers %v", sql, want, describe(err))
		}
	}
}

func describe(err error) string {
	if err == nil {
		return "success"
	}
	return fmt.Sprint(err)
}

// TestOneQuerySavepointsAgreeWithTheServer: golang-migrate sends each file as one query, and dbmate a
// transaction:false section; the folder reader refuses a SAVEPOINT, RELEASE or ROLLBACK TO there just
// when the server refuses that query (25P01: such a query is one implicit transaction block), where the
// rehearsal's own transaction would have let it pass.
func TestOneQuerySavepointsAgreeWithTheServer(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (a int)"); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"INSERT INTO t VALUES (1);\nSAVEPOINT s;\nINSERT INTO t VALUES (2);\nRELEASE SAVEPOINT s;\n",
		"SAVEPOINT s;\n",
		"INSERT INTO t VALUES (1);\nROLLBACK TO SAVEPOINT s;\n",
		"BEGIN;\nSAVEPOINT s;\nINSERT INTO t VALUES (1);\nROLLBACK TO SAVEPOINT s;\nRELEASE s;\nCOMMIT;\n",
		"BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nSAVEPOINT s;\n",
		"BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT AND CHAIN;\nSAVEPOINT s;\nCOMMIT;\n",
		"START TRANSACTION;\nSAVEPOINT s;\nEND;\n",
		"LOCK TABLE t IN SHARE MODE;\nSET LOCAL lock_timeout = '1s';\nINSERT INTO t VALUES (1);\n",
	} {
		_, err := conn.PgConn().Exec(ctx, sql).ReadAll()
		if conn.PgConn().TxStatus() != 'I' {
			if _, rerr := conn.Exec(ctx, "ROLLBACK"); rerr != nil {
				t.Fatal(rerr)
			}
		}
		var pe *pgconn.PgError
		refused := errors.As(err, &pe) && pe.Code == "25P01"
		if err != nil && !refused {
			t.Fatalf("%q: %v", sql, err)
		}
		gm := fstest.MapFS{"1_a.up.sql": {Data: []byte(sql)}, "1_a.down.sql": {Data: []byte("SELECT 1;\n")}}
		dbmate := fstest.MapFS{"20240101000000_a.sql": {Data: []byte("-- migrate:up transaction:false\n" + sql + "\n-- migrate:down\nSELECT 1;\n")}}
		inTx := fstest.MapFS{"20240101000000_a.sql": {Data: []byte("-- migrate:up\n" + sql + "\n-- migrate:down\nSELECT 1;\n")}}
		for _, c := range []struct {
			name   string
			fsys   fstest.MapFS
			format migrate.Format
			want   bool
		}{{"golang-migrate", gm, migrate.FormatGolangMigrate, refused}, {"dbmate transaction:false", dbmate, migrate.FormatDbmate, refused},
			// dbmate runs its other sections in a transaction of its own, where they work whenever they
			// do in one query with BEGIN before
			{"dbmate", inTx, migrate.FormatDbmate, false}} {
			_, rerr := migrate.Read(c.fsys, c.format)
			if got := rerr != nil && strings.Contains(rerr.Error(), "implicit transaction block"); got != c.want {
				t.Errorf("%s %q: the server refuses it in one query: %v, but the reader says %v", c.name, sql, describe(err), rerr)
			}
		}
	}
}
