package sqlparse

import (
	"fmt"
	"strings"
	"testing"
)

// TestPositionAfterBOM: a byte-order mark is no character an editor shows, so the statement after it
// starts at column 1, whether the mark is skipped (ParseRange from 3, as the readers do) or parsed.
func TestPositionAfterBOM(t *testing.T) {
	t.Parallel()
	src := "\uFEFFCREATE TABLE t (id int); SELECT 1;\nSELECT 2;"
	l := NewLines(src)
	for _, tc := range []struct {
		off  int
		want string
	}{{0, "1:1"}, {1, "1:1"}, {3, "1:1"}, {4, "1:2"}, {strings.Index(src, "SELECT 1"), "1:26"}, {strings.Index(src, "SELECT 2"), "2:1"}} {
		if got := l.Pos(tc.off).String(); got != tc.want {
			t.Errorf("Pos(%d) = %s, want %s", tc.off, got, tc.want)
		}
	}
	got := brief(ParseRange(src, len("\uFEFF"), len(src), nil))
	if want := []string{"1:1 CREATE TABLE t (id int)", "1:26 SELECT 1", "2:1 SELECT 2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParseRange after the mark:\n got %q\nwant %q", got, want)
	}
	// Sent to the server with the mark (golang-migrate does), the first statement does not parse: the
	// mark is part of its first word. The error stands at 1:1.
	got = brief(Parse(src))
	if len(got) != 3 || !strings.HasPrefix(got[0], "1:1 \uFEFFCREATE") || !strings.Contains(got[0], "!1:1 syntax error") || got[1] != "1:26 SELECT 1" {
		t.Errorf("Parse with the mark = %q", got)
	}
	// Not a mark: a no-break space at the start is a character.
	if got := NewLines("\u00A0x").Pos(2).String(); got != "1:2" {
		t.Errorf("Pos after a no-break space = %s, want 1:2", got)
	}
}

func TestTransactionControlInside(t *testing.T) {
	t.Parallel()
	backfill := `DO $$ DECLARE n int; BEGIN LOOP UPDATE t SET done = true WHERE id IN (SELECT id FROM t WHERE NOT done LIMIT 1000); GET DIAGNOSTICS n = ROW_COUNT; EXIT WHEN n = 0; COMMIT; END LOOP; END $$`
	for _, tc := range []struct {
		sql             string
		commits, mayEnd bool
	}{
		{backfill, true, true},
		{`DO $body$ BEGIN IF true THEN ROLLBACK; END IF; END $body$`, true, true},
		{`DO LANGUAGE plpgsql $$ BEGIN FOR i IN 1..3 LOOP INSERT INTO t VALUES (i); COMMIT AND CHAIN; END LOOP; END $$`, true, true},
		{`DO $$ BEGIN BEGIN PERFORM 1; END; WHILE false LOOP COMMIT; END LOOP; END $$`, true, true},
		{`DO 'BEGIN COMMIT; END'`, true, true},
		// The body holds a dollar quote that ends a naive wrapping.
		{`DO $x$ BEGIN EXECUTE $q$SELECT 1$q$; EXECUTE $sgbody$SELECT 2$sgbody$; COMMIT; END $x$`, true, true},
		{`DO $x$ BEGIN COMMIT; END; --$sgbody$x$`, true, true},
		{`DO $$ BEGIN UPDATE t SET a = 1; END $$`, false, false},
		{`DO $$ BEGIN RAISE NOTICE 'COMMIT; ROLLBACK'; /* COMMIT; */ -- ROLLBACK;
END $$`, false, false},
		{`DO $$ BEGIN EXECUTE 'COMMIT'; END $$`, false, false}, // PL/pgSQL refuses EXECUTE of COMMIT
		{`DO $$ BEGIN PERFORM 1; EXCEPTION WHEN others THEN RAISE; END $$`, false, false},
		{`DO $$ BEGIN PERFORM 1 FROM t WHERE x = 'a$sgbody'; END $$`, false, false},
		// A procedure may commit: nothing here can tell.
		{`DO $$ BEGIN CALL p(); END $$`, false, true},
		{`DO LANGUAGE plpython3u $$ plpy.commit() $$`, false, true},
		{`CALL p()`, false, true},
		{`CALL s.p(1, 'x')`, false, true},
		// A body the PL/pgSQL parser refuses cannot be read: it may end the transaction (it fails on
		// the server anyway when it does not compile).
		{`DO $$ BEGIN COMMIT $$`, false, true},
		{`SELECT 1`, false, false},
		{`COMMIT`, false, false},
	} {
		sts := Parse(tc.sql)
		if len(sts) != 1 || sts[0].Node == nil {
			t.Fatalf("%s: did not parse", tc.sql)
		}
		if got := CommitsInside(sts[0].Node); got != tc.commits {
			t.Errorf("CommitsInside(%s) = %v, want %v", tc.sql, got, tc.commits)
		}
		if got := MayEndTransaction(sts[0].Node); got != tc.mayEnd {
			t.Errorf("MayEndTransaction(%s) = %v, want %v", tc.sql, got, tc.mayEnd)
		}
	}
	if CommitsInside(nil) || MayEndTransaction(nil) {
		t.Error("nil node")
	}
}

// A body nested deeper than the parser can take is not handed to it (it would overflow the C stack).
func TestTransactionControlDeepBody(t *testing.T) {
	t.Parallel()
	deep := "DO $$ BEGIN PERFORM " + strings.Repeat("(", MaxNesting+10) + "1" + strings.Repeat(")", MaxNesting+10) + "; COMMIT; END $$"
	sts := Parse(deep)
	if len(sts) != 1 || sts[0].Node == nil {
		t.Fatal("did not parse")
	}
	if CommitsInside(sts[0].Node) {
		t.Error("CommitsInside of a body too deep to parse = true, want false")
	}
	if !MayEndTransaction(sts[0].Node) {
		t.Error("MayEndTransaction of a body too deep to parse = false, want true (it cannot be read)")
	}
}

func TestCommits(t *testing.T) {
	t.Parallel()
	for sql, want := range map[string]bool{
		"COMMIT": true, "END": true, "COMMIT AND CHAIN": true, "END TRANSACTION": true,
		"BEGIN": false, "START TRANSACTION": false, "ROLLBACK": false, "COMMIT PREPARED 'x'": false,
		"PREPARE TRANSACTION 'x'": false, "SAVEPOINT s": false, "RELEASE SAVEPOINT s": false, "SELECT 1": false,
	} {
		sts := Parse(sql)
		if len(sts) != 1 || sts[0].Node == nil {
			t.Fatalf("%s: did not parse", sql)
		}
		if got := Commits(sts[0].Node); got != want {
			t.Errorf("Commits(%s) = %v, want %v", sql, got, want)
		}
	}
}
