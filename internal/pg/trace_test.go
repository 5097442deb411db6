package pg_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const traceSetup = `
CREATE TABLE t (id bigint PRIMARY KEY, a int, b text);
INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 100) g;
CREATE TABLE parent (id bigint PRIMARY KEY);
CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint CONSTRAINT child_parent_fk REFERENCES parent (id));
`

func script(sql string) *migrate.Script {
	return &migrate.Script{File: "m.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
}

// traceOne runs sql in a transaction on a fresh database holding traceSetup and returns its evidence.
func traceOne(t *testing.T, sql string) []lint.Evidence {
	t.Helper()
	return traceWith(t, traceSetup, sql, nil).Evidence
}

// traceWith runs sql in a transaction on a fresh database holding setup, traced by a Tracer that tune
// (when set) adjusts first, and returns the tracer.
func traceWith(t *testing.T, setup, sql string, tune func(*pg.Tracer)) *pg.Tracer {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Conn(t)
	if _, err := conn.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "ROLLBACK")
	tr, err := pg.NewTracer(ctx, conn, "m.sql")
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(tr)
	}
	if err := pg.ApplyScript(ctx, conn, script(sql), pg.ApplyOptions{After: tr.After}); err != nil {
		t.Fatal(err)
	}
	return tr
}

func hasLock(ev lint.Evidence, rel, mode string) bool {
	for _, l := range ev.Locks {
		if l.Relation == rel && l.Mode == mode {
			return true
		}
	}
	return false
}

func TestTraceRewrite(t *testing.T) {
	ev := traceOne(t, "ALTER TABLE t ALTER COLUMN a TYPE bigint")
	if !slices.Contains(ev[0].Rewritten, "public.t") {
		t.Fatalf("int -> bigint not seen as a rewrite: %+v", ev[0])
	}
	if !hasLock(ev[0], "public.t", "AccessExclusiveLock") {
		t.Fatalf("no AccessExclusiveLock on t: %+v", ev[0].Locks)
	}
	ev = traceOne(t, "ALTER TABLE t ALTER COLUMN b TYPE varchar")
	if len(ev[0].Rewritten) != 0 {
		t.Fatalf("text -> varchar is binary-coercible but was seen as a rewrite: %+v", ev[0])
	}
}

func TestTraceValidationScan(t *testing.T) {
	ev := traceOne(t, "ALTER TABLE t ALTER COLUMN b SET NOT NULL")
	if !slices.Contains(ev[0].Scanned, "public.t") {
		t.Fatalf("SET NOT NULL scan not seen: %+v", ev[0])
	}
	ev = traceOne(t, "ALTER TABLE t ADD CONSTRAINT a_pos CHECK (a > 0) NOT VALID;\nALTER TABLE t ALTER COLUMN a SET DEFAULT 1")
	if len(ev) != 2 || len(ev[0].Scanned) != 0 {
		t.Fatalf("NOT VALID check must not scan: %+v", ev)
	}
}

func TestTraceIndexBuild(t *testing.T) {
	ev := traceOne(t, "CREATE INDEX t_b_idx ON t (b)")
	if !slices.Contains(ev[0].Scanned, "public.t") || !hasLock(ev[0], "public.t", "ShareLock") {
		t.Fatalf("index build: want a scan and a ShareLock on t, got %+v", ev[0])
	}
}

func TestTraceFastDefault(t *testing.T) {
	ev := traceOne(t, "ALTER TABLE t ADD COLUMN c int DEFAULT 0")
	if !slices.Contains(ev[0].FastDefault, "public.t.c") || len(ev[0].Rewritten) != 0 {
		t.Fatalf("constant default: want fast default and no rewrite, got %+v", ev[0])
	}
	ev = traceOne(t, "ALTER TABLE t ADD COLUMN d timestamptz DEFAULT clock_timestamp()")
	if len(ev[0].FastDefault) != 0 || !slices.Contains(ev[0].Rewritten, "public.t") {
		t.Fatalf("volatile default: want a rewrite and no fast default, got %+v", ev[0])
	}
}

func TestTraceDropForeignKeyLocksReferencedTable(t *testing.T) {
	ev := traceOne(t, "ALTER TABLE child DROP CONSTRAINT child_parent_fk")
	if !hasLock(ev[0], "public.parent", "AccessExclusiveLock") {
		t.Fatalf("dropping an FK must show the AccessExclusiveLock on the referenced table: %+v", ev[0].Locks)
	}
}

func TestTraceDroppedRelationStillNamed(t *testing.T) {
	ev := traceOne(t, "DROP TABLE child")
	found := false
	for _, l := range ev[0].Locks {
		if l.Relation == "public.child" && l.Dropped && l.Mode == "AccessExclusiveLock" {
			found = true
		}
	}
	if !found || !hasLock(ev[0], "public.parent", "AccessExclusiveLock") {
		t.Fatalf("DROP TABLE child: want AE on dropped child and on parent, got %+v", ev[0].Locks)
	}
}

// TestTraceConcurrentIndex observes CREATE INDEX CONCURRENTLY from a second connection while an older
// transaction makes it wait, and sees an INVALID index left behind when it times out.
func TestTraceConcurrentIndex(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	connect := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		return c
	}
	run, observe, old := connect(), connect(), connect()
	if _, err := run.Exec(ctx, traceSetup); err != nil {
		t.Fatal(err)
	}
	// An older transaction with a snapshot: CIC must wait for it.
	if _, err := old.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(ctx, "SELECT count(*) FROM parent"); err != nil {
		t.Fatal(err)
	}
	// Let the old transaction go once the build waits for it, however late the build starts.
	poll := connect()
	released := make(chan struct{})
	go func() {
		defer close(released)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var waiting bool
			err := poll.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
				WHERE datname = current_database() AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock')`).Scan(&waiting)
			if err != nil || waiting {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // a wait long enough to see in the evidence
		old.Exec(context.Background(), "COMMIT")
	}()
	tr, err := pg.NewConcurrentTracer(ctx, run, observe, "m.sql")
	if err != nil {
		t.Fatal(err)
	}
	s := script("CREATE INDEX CONCURRENTLY t_a_idx ON t (a)")
	if err := tr.Exec(ctx, &s.Statements[0]); err != nil {
		t.Fatal(err)
	}
	ev := tr.Evidence[0]
	if !ev.Concurrent || !hasLock(ev, "public.t", "ShareUpdateExclusiveLock") {
		t.Fatalf("CIC: want a ShareUpdateExclusiveLock on t seen from the observer, got %+v", ev)
	}
	if ev.DurationMS < 250 {
		t.Fatalf("CIC did not wait for the older transaction (%.1f ms)", ev.DurationMS)
	}

	// With a lock timeout, CIC fails behind an older transaction and leaves an INVALID index. The
	// goroutine's COMMIT on old may still be returning: old serves one query at a time.
	<-released
	if _, err := old.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	old.Exec(ctx, "SELECT count(*) FROM parent")
	defer old.Exec(ctx, "ROLLBACK")
	if _, err := run.Exec(ctx, "SET lock_timeout = '200ms'"); err != nil {
		t.Fatal(err)
	}
	s = script("CREATE INDEX CONCURRENTLY t_b_idx ON t (b)")
	if err := tr.Exec(ctx, &s.Statements[0]); err == nil {
		t.Fatal("CIC behind an older transaction with lock_timeout 200ms should fail")
	}
	ev = tr.Evidence[1]
	if !slices.Contains(ev.InvalidIndexes, "public.t_b_idx") || ev.Err == "" {
		t.Fatalf("want INVALID index t_b_idx and the error recorded, got %+v", ev)
	}
}

func TestApplyScriptPositionsErrors(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	src := "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\nSELECT nosuchcolumn\n  FROM a;\n"
	err := pg.ApplyScript(ctx, conn, script(src), pg.ApplyOptions{})
	var se *pg.StatementError
	if !errors.As(err, &se) {
		t.Fatalf("want *StatementError, got %v", err)
	}
	if se.Line != 4 || se.Column != 8 || se.SQLState != "42703" {
		t.Fatalf("got %s:%d:%d SQLSTATE %s, want m.sql:4:8 42703 (%s)", se.File, se.Line, se.Column, se.SQLState, se.Message)
	}
	// The same error found when the script is sent whole (history replay).
	conn2 := pgtest.Conn(t)
	err = pg.ApplyScript(ctx, conn2, script(src), pg.ApplyOptions{Whole: true})
	if !errors.As(err, &se) || se.Line != 4 || se.Column != 8 {
		t.Fatalf("whole-script apply: got %v", err)
	}
}

// TestTracerFromCarriedState runs migrations one after another, each traced twice over: from the
// state the previous tracer ended with, and from a fresh read. Between them run what a rehearsal runs
// there: a round trip that scans, rewrites and drops in a transaction rolled back, and catalog reads.
// The evidence must be the same both ways.
func TestTracerFromCarriedState(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	if _, err := conn.Exec(ctx, traceSetup); err != nil {
		t.Fatal(err)
	}
	migrations := []string{
		"ALTER TABLE t ADD COLUMN c int DEFAULT 0;\nCREATE INDEX t_b_idx ON t (b)",
		// t was scanned and rewritten by the rolled-back round trip before this one: neither counts.
		"ALTER TABLE t ADD CONSTRAINT a_pos CHECK (a > 0) NOT VALID",
		"ALTER TABLE t ALTER COLUMN a TYPE bigint;\nALTER TABLE child ALTER COLUMN parent_id SET NOT NULL",
		"DROP TABLE child;\nCREATE TABLE child2 (id int PRIMARY KEY);\nALTER TABLE t ALTER COLUMN b SET NOT NULL",
		"ALTER TABLE child2 ADD COLUMN d int DEFAULT 1;\nALTER TABLE child2 RENAME TO child3",
		"ALTER TABLE child3 ADD COLUMN e text;\nSELECT count(*) FROM t",
	}
	roundtrip := "SELECT count(*) FROM t;\nALTER TABLE t ALTER COLUMN b TYPE varchar(10);\nDROP TABLE parent CASCADE;\nCREATE TABLE parent (id int)"
	trace := func(sql string, from *pg.TraceState) ([]lint.Evidence, *pg.TraceState) {
		t.Helper()
		tr, err := pg.NewTracerFrom(ctx, conn, "m.sql", from)
		if err != nil {
			t.Fatal(err)
		}
		if err := pg.ApplyScript(ctx, conn, script(sql), pg.ApplyOptions{After: tr.After}); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		for i := range tr.Evidence {
			tr.Evidence[i].DurationMS = 0 // timing differs from run to run
		}
		return tr.Evidence, tr.State()
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var carried *pg.TraceState
	sawScan, sawRewrite := false, false
	for i, sql := range migrations {
		exec("BEGIN")
		fresh, _ := trace(sql, nil)
		exec("ROLLBACK")
		exec("BEGIN")
		got, state := trace(sql, carried)
		exec("COMMIT")
		if !reflect.DeepEqual(got, fresh) {
			t.Fatalf("migration %d: from the carried state\n%+v\nfrom a fresh read\n%+v", i+1, got, fresh)
		}
		for _, ev := range got {
			sawScan = sawScan || len(ev.Scanned) > 0
			sawRewrite = sawRewrite || len(ev.Rewritten) > 0
		}
		carried = state
		exec("BEGIN")
		exec(roundtrip)
		exec("ROLLBACK")
		if _, err := pg.Inspect(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	if !sawScan || !sawRewrite {
		t.Fatalf("the migrations must scan and rewrite something (scan %v, rewrite %v)", sawScan, sawRewrite)
	}
}

// TestTraceRepeatedInserts: a run of INSERTs of literal rows into a plain table is read until a second
// one took nothing new, then recorded without a read, and the evidence is the one that reading after
// every statement gives. INSERTs into a table with a trigger, into a partitioned table, with a function
// call or after a statement of another kind are read.
func TestTraceRepeatedInserts(t *testing.T) {
	const setup = `
CREATE TABLE audit (id serial, note text);
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit (note) VALUES (NEW.id::text); RETURN NEW; END $$;
CREATE TABLE logged (id int PRIMARY KEY);
CREATE TRIGGER logged_audit AFTER INSERT ON logged FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
`
	var sql strings.Builder
	sql.WriteString("INSERT INTO parent VALUES (1), (2);\n")
	for i := range 20 {
		fmt.Fprintf(&sql, "INSERT INTO child (id, parent_id) VALUES (%d, %d);\n", i, 1+i%2)
	}
	sql.WriteString("UPDATE t SET a = a + 1 WHERE id = 1;\n")
	for i := range 5 {
		fmt.Fprintf(&sql, "INSERT INTO child VALUES (%d, '2'::int), (-%d, NULL);\n", 100+i, 100+i)
	}
	for i := range 5 {
		fmt.Fprintf(&sql, "INSERT INTO child VALUES (%d, -1 + 2);\n", 150+i)
	}
	for i := range 5 {
		fmt.Fprintf(&sql, "INSERT INTO child (id, parent_id) VALUES (%d, (SELECT max(id) FROM parent));\n", 200+i)
	}
	for i := range 5 {
		fmt.Fprintf(&sql, "INSERT INTO logged VALUES (%d);\n", i)
	}
	for i := range 5 {
		fmt.Fprintf(&sql, "INSERT INTO events VALUES (%d, '%d-06-01');\n", i, 2025+i%2)
	}
	run := func(noRepeat bool) ([]lint.Evidence, int) {
		tr := traceWith(t, traceSetup+setup, sql.String(), func(tr *pg.Tracer) { tr.NoRepeat = noRepeat })
		for i := range tr.Evidence {
			tr.Evidence[i].DurationMS = 0
		}
		return tr.Evidence, tr.Repeated
	}
	every, n := run(true)
	if n != 0 {
		t.Fatalf("%d statements recorded without a read with NoRepeat", n)
	}
	got, repeated := run(false)
	if !reflect.DeepEqual(got, every) {
		for i := range every {
			if !reflect.DeepEqual(got[i], every[i]) {
				t.Errorf("statement at line %d: evidence %+v, read after every statement %+v", every[i].Line, got[i], every[i])
			}
		}
		t.FailNow()
	}
	// 20 INSERTs into child: the first two are read; 5 more of another column list: two read again.
	if want := 18 + 3; repeated != want {
		t.Errorf("%d statements recorded without a read, want %d (only the literal INSERTs into child)", repeated, want)
	}
}

// BenchmarkTraceInserts traces a seed migration of 5,000 literal INSERTs, read after every statement
// (every) and as a rehearsal traces it (repeated: read until steady, then recorded without a read).
func BenchmarkTraceInserts(b *testing.B) {
	ctx := context.Background()
	var sql strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&sql, "INSERT INTO child (id, parent_id) VALUES (%d, %d);\n", i, 1+i%2)
	}
	s := script("INSERT INTO parent VALUES (1), (2);\n" + sql.String())
	conn := pgtest.Conn(b)
	if _, err := conn.Exec(ctx, traceSetup); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"every", "repeated"} {
		b.Run(mode, func(b *testing.B) {
			benchTrace(b, conn, s, func(tr *pg.Tracer) { tr.NoRepeat = mode == "every" })
		})
	}
}

// benchTrace applies s with a tracer (tuned by tune), in a transaction rolled back, once per iteration.
func benchTrace(b *testing.B, conn *pgx.Conn, s *migrate.Script, tune func(*pg.Tracer)) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
			b.Fatal(err)
		}
		tr, err := pg.NewTracer(ctx, conn, "m.sql")
		if err != nil {
			b.Fatal(err)
		}
		if tune != nil {
			tune(tr)
		}
		if err := pg.ApplyScript(ctx, conn, s, pg.ApplyOptions{After: tr.After}); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTraceIndexes traces a script of 800 CREATE INDEX statements on one table: each statement's
// trace reads the relations it may have touched, so the cost must not grow with the indexes made before.
func BenchmarkTraceIndexes(b *testing.B) {
	ctx := context.Background()
	var sql strings.Builder
	for i := range 800 {
		fmt.Fprintf(&sql, "CREATE INDEX i%d ON wide (a);\n", i)
	}
	s := script(sql.String())
	conn := pgtest.Conn(b)
	if _, err := conn.Exec(ctx, "CREATE TABLE wide (id bigint PRIMARY KEY, a int)"); err != nil {
		b.Fatal(err)
	}
	benchTrace(b, conn, s, nil)
}

// TestTraceChangeUnderHeldLock: a relation the transaction has already locked is read again only when
// its catalog rows moved (see lockedTraceQuery), so a rename and then a REINDEX under the lock the
// rename took (no new lock for the REINDEX) must still show as a rewrite of the index, by its new name.
func TestTraceChangeUnderHeldLock(t *testing.T) {
	ev := traceOne(t, "ALTER INDEX t_pkey RENAME TO t_key;\nREINDEX INDEX t_key;\nALTER INDEX t_key SET (fillfactor = 50);")
	if len(ev) != 3 || !slices.Contains(ev[1].Rewritten, "public.t_key") {
		t.Fatalf("REINDEX under the rename's lock: want public.t_key rewritten, got %+v", ev)
	}
	if len(ev[2].Rewritten) != 0 || len(ev[2].Locks) != 0 {
		t.Fatalf("ALTER INDEX SET (fillfactor) under a held AccessExclusiveLock: want nothing new, got %+v", ev[2])
	}
}
