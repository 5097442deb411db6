package pg_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// batchSet returns n migrations creating tables h1..hn, two statements each (each table gets a
// comment), with bad's up replaced by its SQL. Migration 60 runs outside a transaction and 61 has its
// own BEGIN and COMMIT: both break the batches.
func batchSet(n int, bad map[int]string) []*migrate.Migration {
	var ms []*migrate.Migration
	for i := 1; i <= n; i++ {
		sql := fmt.Sprintf("CREATE TABLE h%d (id int PRIMARY KEY, v int);\nCOMMENT ON TABLE h%[1]d IS 'table %[1]d';\n", i)
		if s, ok := bad[i]; ok {
			sql = s
		}
		noTx := false
		if _, ok := bad[i]; !ok {
			switch i {
			case 60:
				sql = "CREATE TABLE h60 (id int);\n"
				noTx = true
			case 61:
				sql = "BEGIN;\nCREATE TABLE h61 (id int);\nCOMMIT;\n"
			}
		}
		file := fmt.Sprintf("%d_h.up.sql", i)
		ms = append(ms, &migrate.Migration{Version: fmt.Sprint(i), Name: "h", NoTransaction: noTx,
			Up: &migrate.Script{File: file, SQL: sql, Statements: sqlparse.Parse(sql)}})
	}
	return ms
}

func tables(t *testing.T, ctx context.Context, q pg.Querier) map[string]bool {
	t.Helper()
	rows, err := q.Query(ctx, "SELECT relname FROM pg_class WHERE relname ~ '^h[0-9]+$' AND relkind = 'r'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[n] = true
	}
	return out
}

func TestApplyHistory(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	ms := batchSet(120, nil) // batches of 1-59, then 60 and 61 alone, then 62-111 and 112-120
	n, err := pg.ApplyHistory(ctx, conn, ms)
	if err != nil || n != 120 {
		t.Fatalf("applied %d, %v; want 120, nil", n, err)
	}
	if got := tables(t, ctx, conn); len(got) != 120 {
		t.Fatalf("%d tables, want 120", len(got))
	}
}

// TestApplyHistoryFailures: a failure anywhere in a batch leaves the migrations before it committed,
// its own rolled back, the later ones not run, and names the failing statement's file, line and
// column, whether or not the server gives a position.
func TestApplyHistoryFailures(t *testing.T) {
	cases := []struct {
		name      string
		at        int
		sql       string
		line, col int
		sqlstate  string
	}{
		// "already exists" comes without a position: found by counting the statements that completed.
		{"no position, second statement", 75, "CREATE TABLE h75 (id int);\nCREATE TABLE h1 (id int);\n", 2, 1, "42P07"},
		// An unknown column comes with a position in the whole query: mapped back into the file.
		{"position", 30, "CREATE TABLE h30 (id int);\nCOMMENT ON TABLE h30 IS 'x';\nSELECT id,\n       nosuch FROM h30;\n", 4, 8, "42703"},
		// A deferred foreign key fails at COMMIT: the last statement is blamed.
		{"deferred constraint at commit", 101, "CREATE TABLE h101 (id int PRIMARY KEY, p int REFERENCES h1 (id) DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO h101 VALUES (1, 999);\n", 2, 1, "23503"},
		{"first migration", 1, "CREATE TABLE h1 (id int);\nSELECT 1/0;\n", 2, 1, "22012"},
		// A migration with its own BEGIN and COMMIT runs on its own, statement by statement.
		{"own transaction", 61, "BEGIN;\nCREATE TABLE h61 (id int);\nCREATE TABLE h61 (id int);\nCOMMIT;\n", 3, 1, "42P07"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			conn := pgtest.Conn(t)
			ms := batchSet(120, map[int]string{c.at: c.sql})
			n, err := pg.ApplyHistory(ctx, conn, ms)
			if n != c.at-1 {
				t.Fatalf("applied %d, want %d (err %v)", n, c.at-1, err)
			}
			var se *pg.StatementError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *pg.StatementError", err, err)
			}
			wantFile := fmt.Sprintf("%d_h.up.sql", c.at)
			if se.File != wantFile || se.Line != c.line || se.Column != c.col || se.SQLState != c.sqlstate {
				t.Fatalf("error at %s:%d:%d SQLSTATE %s (%s), want %s:%d:%d SQLSTATE %s", se.File, se.Line, se.Column, se.SQLState, se.Message, wantFile, c.line, c.col, c.sqlstate)
			}
			if conn.PgConn().TxStatus() != 'I' {
				t.Fatalf("transaction left open: status %c", conn.PgConn().TxStatus())
			}
			got := tables(t, ctx, conn)
			for i := 1; i <= 120; i++ {
				name := fmt.Sprintf("h%d", i)
				if want := i < c.at; got[name] != want {
					t.Errorf("table %s exists: %v, want %v", name, got[name], want)
				}
			}
			if !strings.Contains(se.Error(), wantFile) {
				t.Errorf("error text %q lacks the file", se.Error())
			}
		})
	}
}

// TestApplyScriptWholeFindsStatement: a script sent as one query names the statement that failed even
// when the server gives no position. A script in autocommit runs statement by statement all the same,
// so the statements before the failing one stay, as psql leaves them.
func TestApplyScriptWholeFindsStatement(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	sql := "CREATE TABLE w (id int);\nCOMMENT ON TABLE w IS 'w';\n\nCREATE TABLE w (id int);\n"
	for _, noTx := range []bool{false, true} {
		m := &migrate.Migration{Version: "1", NoTransaction: noTx, Up: &migrate.Script{File: "1_w.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}}
		err := pg.ApplyMigration(ctx, conn, m, m.Up, pg.ApplyOptions{Whole: true})
		var se *pg.StatementError
		if !errors.As(err, &se) || se.Line != 4 || se.SQLState != "42P07" {
			t.Fatalf("no transaction %v: error %v, want 1_w.up.sql:4 SQLSTATE 42P07", noTx, err)
		}
		if conn.PgConn().TxStatus() != 'I' {
			t.Fatalf("no transaction %v: transaction left open", noTx)
		}
		var left []string
		if err := conn.QueryRow(ctx, "SELECT array_agg(relname::text) FILTER (WHERE relname IS NOT NULL) FROM pg_class WHERE relname = 'w'").Scan(&left); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 1}[noTx]; len(left) != want {
			t.Fatalf("no transaction %v: the failed script left %v, want %d table", noTx, left, want)
		}
	}
}

// TestCopyFromStdin: a COPY … FROM STDIN with its data inline (as psql and pg_dump write it) loads that
// data on every path a script takes: statement by statement (traced), sent whole, and replayed as
// history among batched migrations. A bad row is reported at its own line of the file.
func TestCopyFromStdin(t *testing.T) {
	// A COPY sent without its data leaves the server waiting for it: fail in seconds, not at the test
	// binary's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const load = "CREATE TABLE h%[1]d (id int PRIMARY KEY, v int);\nCOPY h%[1]d (id, v) FROM stdin;\n1\t10\n2\t20\n\\.\nCOPY h%[1]d FROM STDIN WITH (FORMAT csv);\n3,30\n\\.\nCOMMENT ON TABLE h%[1]d IS 'loaded';\n"
	rows := func(t *testing.T, conn pg.Querier, table string) string {
		t.Helper()
		var got string
		if err := conn.QueryRow(ctx, "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM "+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	script := func(sql string) *migrate.Script {
		return &migrate.Script{File: "1_load.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
	}

	t.Run("statement by statement and whole", func(t *testing.T) {
		conn := pgtest.Conn(t)
		for i, opts := range []pg.ApplyOptions{{}, {Whole: true}} {
			s := script(fmt.Sprintf(load, i+1))
			m := &migrate.Migration{Version: "1", Name: "load", Up: s}
			if err := pg.ApplyMigration(ctx, conn, m, s, opts); err != nil {
				t.Fatalf("%+v: %v", opts, err)
			}
			if got := rows(t, conn, fmt.Sprintf("h%d", i+1)); got != "1=10,2=20,3=30" {
				t.Errorf("%+v: rows %s, want 1=10,2=20,3=30", opts, got)
			}
		}
	})

	t.Run("history", func(t *testing.T) {
		conn := pgtest.Conn(t)
		ms := batchSet(30, map[int]string{12: fmt.Sprintf(load, 12)})
		if n, err := pg.ApplyHistory(ctx, conn, ms); err != nil || n != 30 {
			t.Fatalf("applied %d, %v; want 30", n, err)
		}
		if got := rows(t, conn, "h12"); got != "1=10,2=20,3=30" {
			t.Errorf("rows %s, want 1=10,2=20,3=30", got)
		}
		if got := tables(t, ctx, conn); len(got) != 30 {
			t.Errorf("%d tables, want 30", len(got))
		}
	})

	t.Run("a bad row names its line", func(t *testing.T) {
		conn := pgtest.Conn(t)
		s := script("CREATE TABLE b (id int, v int);\nCOPY b FROM stdin;\n1\t10\n2\tnope\n\\.\n")
		err := pg.ApplyMigration(ctx, conn, &migrate.Migration{Version: "1", Name: "load", Up: s}, s, pg.ApplyOptions{})
		var se *pg.StatementError
		if !errors.As(err, &se) || se.Line != 4 || se.Column != 1 || se.SQLState != "22P02" || !strings.Contains(se.Message, "line 2, column v") {
			t.Fatalf("error %v, want 1_load.up.sql:4:1 with SQLSTATE 22P02 naming data line 2", err)
		}
		if conn.PgConn().TxStatus() != 'I' {
			t.Errorf("transaction left open: status %c", conn.PgConn().TxStatus())
		}
	})
}

// TestDoBlockRuntimeErrorLine: an error a DO block raises at run time is reported at the line of the
// file where the block's code failed, with PostgreSQL's context, whether the block is the innermost
// frame or calls a function that fails; code whose quotes are doubled keeps the statement's place.
func TestDoBlockRuntimeErrorLine(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	exec(t, conn, "CREATE FUNCTION boom() RETURNS void LANGUAGE plpgsql AS $$ BEGIN\n  RAISE EXCEPTION 'boom';\nEND $$")
	for _, tc := range []struct {
		name, sql string
		line, col int
		inMessage string
	}{
		{"raise", "SELECT 1;\n\nDO $$\nDECLARE n int;\nBEGIN\n  n := 1;\n    RAISE EXCEPTION 'stop at %', n;\nEND $$;\n", 7, 5, "inline_code_block line 5 at RAISE"},
		{"a called function fails", "DO $$ BEGIN\n  PERFORM 1;\n  PERFORM boom();\nEND $$;\n", 3, 3, "inline_code_block line 3 at PERFORM"},
		{"first line", "DO $$ BEGIN PERFORM boom(); END $$;\n", 1, 6, "inline_code_block line 1 at PERFORM"},
		{"single-quoted code", "DO 'BEGIN\n  PERFORM boom();\nEND';\n", 2, 3, "inline_code_block line 2 at PERFORM"},
		// with its quotes doubled, the code is not in the text as PostgreSQL counts its lines
		{"escaped code", "DO 'BEGIN\n  RAISE EXCEPTION ''x'';\nEND';\n", 1, 1, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &migrate.Script{File: "2_do.up.sql", SQL: tc.sql, Statements: sqlparse.Parse(tc.sql)}
			err := pg.ApplyScript(ctx, conn, s, pg.ApplyOptions{})
			var se *pg.StatementError
			if !errors.As(err, &se) || se.Line != tc.line || se.Column != tc.col || !strings.Contains(se.Message, tc.inMessage) {
				t.Fatalf("error %v (at %d:%d), want %d:%d with %q", err, se.Line, se.Column, tc.line, tc.col, tc.inMessage)
			}
		})
	}
}

// TestScriptLeavingBlockOpen: a script run outside a transaction that leaves a transaction block open
// (BEGIN with no COMMIT after it, or COMMIT AND CHAIN last) fails at the statement that opened it, and
// the block is rolled back as psql rolls it back when the script ends: what ran before it stays, what
// ran after it is gone, and the session is usable. Statement by statement and as one query alike. A
// history migration (OpenBlockOK) is replayed as psql left it, without an error.
func TestScriptLeavingBlockOpen(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	cases := []struct {
		name, sql string
		line      int
		kept      string
	}{
		{"begin", "CREATE TABLE h1 (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE h2 (id int);\n", 3, "h1"},
		{"chain", "BEGIN;\nCREATE TABLE h3 (id int);\nCOMMIT AND CHAIN;\nCREATE TABLE h4 (id int);\n", 3, "h3"},
		{"start transaction", "START TRANSACTION;\nCREATE TABLE h5 (id int);\n", 1, ""},
	}
	for _, c := range cases {
		for _, whole := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s whole=%v", c.name, whole), func(t *testing.T) {
				if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS h1, h2, h3, h4, h5"); err != nil {
					t.Fatal(err)
				}
				s := &migrate.Script{File: "1_x.up.sql", SQL: c.sql, Statements: sqlparse.Parse(c.sql)}
				err := pg.ApplyScript(ctx, conn, s, pg.ApplyOptions{Whole: whole})
				var se *pg.StatementError
				if !errors.As(err, &se) || se.SQLState != "25001" || se.Line != c.line || !strings.Contains(se.Message, "nothing after it is committed") {
					t.Fatalf("error %v, want a statement error 25001 at line %d", err, c.line)
				}
				if st := conn.PgConn().TxStatus(); st != 'I' {
					t.Fatalf("session left in transaction state %c", st)
				}
				got := tables(t, ctx, conn)
				want := map[string]bool{}
				if c.kept != "" {
					want[c.kept] = true
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("tables %v, want %v: what ran before the open block stays, the rest is rolled back", got, want)
				}
			})
		}
	}
	t.Run("statements ending in a comment, sent whole", func(t *testing.T) {
		// A statement's text keeps a -- comment at its end: joined with the next, it must not take in
		// the semicolon between them (history replay and Whole send scripts as one query).
		sql := "CREATE TABLE hc1 (id int) -- the first\n;\nCREATE TABLE hc2 (id int);\n"
		s := &migrate.Script{File: "3_c.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
		if err := pg.ApplyScript(ctx, conn, s, pg.ApplyOptions{Whole: true}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename IN ('hc1', 'hc2')").Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d of the 2 tables made (%v)", n, err)
		}
	})
	t.Run("failure inside the script's block", func(t *testing.T) {
		sql := "BEGIN;\nCREATE TABLE h6 (id int);\nSELECT 1/0;\nCOMMIT;\n"
		s := &migrate.Script{File: "2_x.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
		err := pg.ApplyScript(ctx, conn, s, pg.ApplyOptions{})
		var se *pg.StatementError
		if !errors.As(err, &se) || se.SQLState != "22012" || se.Line != 3 {
			t.Fatalf("error %v, want the division by zero at line 3", err)
		}
		if st := conn.PgConn().TxStatus(); st != 'I' {
			t.Fatalf("session left in transaction state %c after the failure", st)
		}
	})
	t.Run("history", func(t *testing.T) {
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS h1, h2, h3, h4, h5, h6"); err != nil {
			t.Fatal(err)
		}
		ms := batchSet(3, map[int]string{2: "CREATE TABLE h2 (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE h9 (id int);\n"})
		ms[1].NoTransaction = true
		if n, err := pg.ApplyHistory(ctx, conn, ms); err != nil || n != 3 {
			t.Fatalf("applied %d, %v; want 3, nil", n, err)
		}
		if got := tables(t, ctx, conn); fmt.Sprint(got) != fmt.Sprint(map[string]bool{"h1": true, "h2": true, "h3": true}) {
			t.Fatalf("tables %v: want h1, h2, h3 (h9 rolled back, as psql left it)", got)
		}
	})
}

// TestNULByte: a statement with a NUL byte is not sent (PostgreSQL refuses the query it is in as a
// whole, and would have said "syntax error at or near \" about the text standing for it): it fails at
// the byte with the server's own SQLSTATE for it, statement by statement and in a replayed batch, where
// the migrations before it are applied.
func TestNULByte(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	sql := "CREATE TABLE h1 (id int);\nSELECT 1;\x00SELECT 2;\n"
	s := &migrate.Script{File: "1_x.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
	for _, whole := range []bool{false, true} {
		exec(t, conn, "BEGIN")
		err := pg.ApplyScript(ctx, conn, s, pg.ApplyOptions{Whole: whole})
		exec(t, conn, "ROLLBACK")
		var se *pg.StatementError
		if !errors.As(err, &se) || se.SQLState != "22021" || se.Line != 2 || se.Column != 10 || !strings.Contains(se.Message, "NUL byte") {
			t.Fatalf("whole=%v: error %v, want 22021 at 2:10 naming the NUL byte", whole, err)
		}
	}
	ms := batchSet(5, map[int]string{3: sql})
	n, err := pg.ApplyHistory(ctx, conn, ms)
	var se *pg.StatementError
	if n != 2 || !errors.As(err, &se) || se.File != "3_h.up.sql" || se.SQLState != "22021" || se.Line != 2 {
		t.Fatalf("history: applied %d, %v; want 2 applied and 22021 in 3_h.up.sql at line 2", n, err)
	}
	if got := tables(t, ctx, conn); !got["h1"] || !got["h2"] || got["h3"] {
		t.Fatalf("history: tables %v, want h1 and h2 (the batch before the NUL byte) only", got)
	}
}

// TestErrorLineAfterDroppedLines: sql-migrate leaves its "-- " lines out of the statements it sends, so a
// server error's position counts lines of the text sent; the error still names the file's line.
func TestErrorLineAfterDroppedLines(t *testing.T) {
	fsys := fstest.MapFS{"1_t.sql": {Data: []byte("-- +migrate Up\nCREATE TABLE t (\n-- a comment sql-migrate drops\n-- and another\n  a int,\n  b no_such_type\n);\n")}}
	set, err := migrate.Read(fsys, migrate.FormatSQLMigrate)
	if err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Conn(t)
	exec(t, conn, "BEGIN")
	defer exec(t, conn, "ROLLBACK")
	err = pg.ApplyScript(context.Background(), conn, set.Migrations[0].Up, pg.ApplyOptions{})
	var se *pg.StatementError
	if !errors.As(err, &se) || se.SQLState != "42704" || se.Line != 6 || se.Column != 5 {
		t.Fatalf("error %v, want the missing type at 6:5, its place in the file", err)
	}
}

// TestApplyJoinsLiteralInserts: inside a transaction, a run of INSERTs of literal rows is sent in one
// query (its statements share one statement_timestamp()), as the rest is sent statement by statement;
// a statement of the run that fails is still reported at its own place in the file: at the character
// the server names, or at the statement, also after one whose text ends in a comment.
func TestApplyJoinsLiteralInserts(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	if _, err := conn.Exec(ctx, "CREATE TABLE seed (id int PRIMARY KEY, note text, at timestamptz DEFAULT statement_timestamp())"); err != nil {
		t.Fatal(err)
	}
	seed := func(bad int, row string) string {
		var b strings.Builder
		b.WriteString("SET LOCAL work_mem = '8MB';\n")
		for i := 1; i <= 40; i++ {
			switch {
			case i == bad:
				b.WriteString(row + ";\n")
			case i%10 == 0:
				fmt.Fprintf(&b, "INSERT INTO seed (id, note) VALUES (%d, 'row') -- every tenth\n;\n", i)
			default:
				fmt.Fprintf(&b, "INSERT INTO seed (id, note) VALUES (%d, 'row');\n", i)
			}
		}
		return b.String()
	}
	apply := func(sql string) error {
		m := &migrate.Migration{Version: "2", Up: &migrate.Script{File: "2_seed.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}}
		return pg.ApplyMigration(ctx, conn, m, m.Up, pg.ApplyOptions{Join: true})
	}
	var rows, queries int
	// Without Join (a deploy), each statement is a query of its own, as psql sends it.
	m := &migrate.Migration{Version: "2", Up: &migrate.Script{File: "2_seed.up.sql", SQL: seed(0, ""), Statements: sqlparse.Parse(seed(0, ""))}}
	if err := pg.ApplyMigration(ctx, conn, m, m.Up, pg.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*), count(DISTINCT at) FROM seed").Scan(&rows, &queries); err != nil {
		t.Fatal(err)
	}
	if rows != 40 || queries != 40 {
		t.Errorf("without Join: %d rows in %d queries, want 40 in 40", rows, queries)
	}
	if _, err := conn.Exec(ctx, "TRUNCATE seed"); err != nil {
		t.Fatal(err)
	}
	if err := apply(seed(0, "")); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*), count(DISTINCT at) FROM seed").Scan(&rows, &queries); err != nil {
		t.Fatal(err)
	}
	if rows != 40 || queries != 1 {
		t.Errorf("%d rows in %d queries, want 40 in 1", rows, queries)
	}
	if _, err := conn.Exec(ctx, "TRUNCATE seed"); err != nil {
		t.Fatal(err)
	}
	// Line n+1 holds statement n (after the SET), one more line for each tenth before it.
	for _, c := range []struct {
		name      string
		bad       int
		row       string
		line, col int
		state     string
	}{
		{"bad value", 25, "INSERT INTO seed (id, note) VALUES ('x25', 'row')", 28, 37, "22P02"},
		{"duplicate key", 33, "INSERT INTO seed (id, note) VALUES (32, 'row')", 37, 1, "23505"},
		{"first of the run", 1, "INSERT INTO seed (id, note) VALUES ('x', 'row')", 2, 37, "22P02"},
		{"last of the run", 40, "INSERT INTO seed (id, note) VALUES (1, 'row')", 44, 1, "23505"},
	} {
		err := apply(seed(c.bad, c.row))
		var se *pg.StatementError
		if !errors.As(err, &se) || se.Line != c.line || se.Column != c.col || se.SQLState != c.state {
			t.Errorf("%s: error %v, want 2_seed.up.sql:%d:%d SQLSTATE %s", c.name, err, c.line, c.col, c.state)
		}
		if conn.PgConn().TxStatus() != 'I' {
			t.Fatalf("%s: transaction left open", c.name)
		}
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM seed").Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d rows left by the failed scripts (%v), want 0", rows, err)
	}
}

// TestApplyHistoryHook: a hook sees each statement it picks right after it ran, on the replaying
// session: inside a transactional migration's transaction (before its COMMIT, which a batch would send
// with the rest), in autocommit for the others; the migrations it picks nothing of replay as before.
func TestApplyHistoryHook(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	ms := batchSet(70, map[int]string{
		5:  "CREATE TABLE h5 (id int);\nCREATE TABLE hook5 (id int);\nCOMMENT ON TABLE h5 IS 'x';\n",
		60: "CREATE TABLE h60 (id int);\nCREATE TABLE hook60 (id int);\n",
	})
	ms[59].NoTransaction = true // 60, as batchSet makes it
	var seen []string
	hook := &pg.StatementHook{
		Picks: func(st *sqlparse.Statement) bool { return strings.Contains(st.SQL, "hook") },
		Ran: func(ctx context.Context, s *migrate.Script, i int) {
			seen = append(seen, fmt.Sprintf("%s:%d %c", s.File, i, conn.PgConn().TxStatus()))
		},
	}
	n, err := pg.ApplyHistoryWith(ctx, conn, ms, hook)
	if err != nil || n != 70 {
		t.Fatalf("applied %d, %v; want 70, nil", n, err)
	}
	if want := []string{"5_h.up.sql:1 T", "60_h.up.sql:1 I"}; strings.Join(seen, ", ") != strings.Join(want, ", ") {
		t.Errorf("the hook saw %q, want %q", seen, want)
	}
	if got := tables(t, ctx, conn); len(got) != 70 {
		t.Fatalf("%d tables, want 70", len(got))
	}
}

// TestApplyHistoryRunsAutocommitScriptsStatementByStatement: a non-transactional history migration
// runs as its tool runs it, statement by statement, so CREATE INDEX CONCURRENTLY and VACUUM, which a
// query of several statements (one implicit transaction block) refuses, replay; its runs of literal
// INSERTs still go together, and a failing one is named at its line.
func TestApplyHistoryRunsAutocommitScriptsStatementByStatement(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	var b strings.Builder
	b.WriteString("CREATE TABLE c (id int PRIMARY KEY, n int);\n")
	for i := range 300 {
		fmt.Fprintf(&b, "INSERT INTO c VALUES (%d, %d);\n", i, i%7)
	}
	b.WriteString("CREATE INDEX CONCURRENTLY c_n ON c (n);\nCREATE INDEX CONCURRENTLY c_n_id ON c (n, id);\nVACUUM ANALYZE c;\n")
	noTx := func(file, sql string) *migrate.Migration {
		return &migrate.Migration{Version: file[:1], Name: "c", NoTransaction: true, Up: &migrate.Script{File: file, SQL: sql, Statements: sqlparse.Parse(sql)}}
	}
	ms := append(batchSet(3, nil), noTx("4_c.up.sql", b.String()))
	n, err := pg.ApplyHistory(ctx, conn, ms)
	if err != nil || n != 4 {
		t.Fatalf("applied %d, %v; want 4, nil", n, err)
	}
	var rows, valid int
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM pg_index WHERE indrelid = 'c'::regclass AND indisvalid)").Scan(&rows, &valid); err != nil {
		t.Fatal(err)
	}
	if rows != 300 || valid != 3 {
		t.Errorf("%d rows and %d valid indexes, want 300 and 3", rows, valid)
	}

	bad := strings.Replace(strings.ReplaceAll(b.String(), "TABLE c ", "TABLE d "), "INSERT INTO c VALUES (150, 3)", "INSERT INTO c VALUES (1, 3)", 1)
	bad = strings.ReplaceAll(bad, "INTO c ", "INTO d ")
	n, err = pg.ApplyHistory(ctx, conn, []*migrate.Migration{noTx("5_d.up.sql", bad)})
	var se *pg.StatementError
	if n != 0 || !errors.As(err, &se) || se.File != "5_d.up.sql" || se.Line != 152 || se.SQLState != "23505" {
		t.Fatalf("applied %d, error %v; want the duplicate key at 5_d.up.sql:152", n, err)
	}
}

// TestApplyHistoryBlamesTheStatementTheServerCannotRead: a batch the server cannot read (a syntax its
// version lacks, in the third migration) runs nothing, so the migrations before that one are applied on
// their own and the error names its file and line; a migration that turns standard_conforming_strings
// off, which changes how the server reads the statements after it, replays statement by statement.
func TestApplyHistoryBlamesTheStatementTheServerCannotRead(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		t.Fatal(err)
	}
	if num >= 160000 {
		t.Skipf("IS JSON parses on PostgreSQL %d", num/10000) // the test servers run 15
	}
	ms := batchSet(5, map[int]string{
		3: "CREATE TABLE h3 (id int);\nSELECT '{}' IS JSON;\n",
		4: "CREATE TABLE h4 (id int, s text);\nSET standard_conforming_strings = off;\nINSERT INTO h4 VALUES (1, 'it\\'s');\n",
	})
	n, err := pg.ApplyHistory(ctx, conn, ms)
	var se *pg.StatementError
	if n != 2 || !errors.As(err, &se) || se.File != "3_h.up.sql" || se.Line != 2 || se.SQLState != "42601" {
		t.Fatalf("applied %d, error %v; want 2 applied and the syntax error at 3_h.up.sql:2", n, err)
	}
	if got := tables(t, ctx, conn); !got["h1"] || !got["h2"] || got["h3"] {
		t.Errorf("tables %v, want h1 and h2 alone", got)
	}
	n, err = pg.ApplyHistory(ctx, conn, ms[3:])
	if err != nil || n != 2 {
		t.Fatalf("applied %d, %v; want 2, nil", n, err)
	}
	var s string
	if err := conn.QueryRow(ctx, "SELECT s FROM h4").Scan(&s); err != nil || s != "it's" {
		t.Errorf("h4.s = %q, %v; want it's", s, err)
	}
}
