package lint

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// serverCase is a statement judged after a schema, with what the server does with it, for the tests
// that compare the state's model with PostgreSQL: lint must raise rule (its message saying msg) and
// not raise not, and the server must behave as the case says, so that a case that no longer tests
// what it claims fails.
type serverCase struct {
	name, schema, src string
	// What the server does with src: refuses it; keeps from scanning table noScan; scans table scans;
	// gives relation rebuilds new storage (a rewritten table, a rebuilt index); keeps relation keeps's
	// storage; probe (SQL) is true after it. With none of them, it only runs it.
	fails                          bool
	noScan, scans, rebuilds, keeps string
	probe                          string
	rule, msg                      string // the finding lint must raise, with part of its message
	not                            string // a rule lint must not raise
	// rule's finding stands where the server's error points (atError) or, for the errors that give no
	// position (most of those of DDL), at the first atText in src.
	atError bool
	atText  string
}

// run runs the case on conn, in a transaction it rolls back, and lints src after schema.
func (tt serverCase) run(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	ctx := t.Context()
	inRolledBackTx(t, conn, tt.schema)
	scalar := func(query, arg string) int64 {
		t.Helper()
		var v int64
		if err := conn.QueryRow(ctx, query, arg).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	const numScans, fileNode = "SELECT pg_stat_get_xact_numscans($1::regclass)", "SELECT pg_relation_filenode($1::regclass)::bigint"
	var unscanned, scanned, rebuilt, kept int64
	if tt.noScan != "" {
		unscanned = scalar(numScans, tt.noScan)
	}
	if tt.scans != "" {
		scanned = scalar(numScans, tt.scans)
	}
	if tt.rebuilds != "" {
		rebuilt = scalar(fileNode, tt.rebuilds)
	}
	if tt.keeps != "" {
		kept = scalar(fileNode, tt.keeps)
	}
	if _, err := conn.Exec(ctx, "SAVEPOINT src"); err != nil {
		t.Fatal(err)
	}
	_, err := conn.Exec(ctx, tt.src)
	if failed := err != nil; failed != tt.fails {
		t.Fatalf("the server refused it: %v (%v), want %v: the case is wrong", failed, err, tt.fails)
	}
	var errLine, errColumn int // where the finding must stand in src, from 1
	if tt.atError {
		var before []rune
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Position > 0 {
			before = []rune(tt.src)[:pe.Position-1]
		} else if i := strings.Index(tt.src, tt.atText); tt.atText != "" && i >= 0 {
			before = []rune(tt.src[:i])
		} else {
			t.Fatalf("the server's error gives no position (%v), and %q is not in the case", err, tt.atText)
		}
		errLine = 1 + strings.Count(string(before), "\n")
		errColumn = len(before) - strings.LastIndex(string(before), "\n") // runes before, less the line's start
	}
	if tt.fails {
		if _, err := conn.Exec(ctx, "ROLLBACK TO SAVEPOINT src"); err != nil {
			t.Fatal(err)
		}
	}
	if tt.noScan != "" && scalar(numScans, tt.noScan) != unscanned {
		t.Fatalf("the server scanned %s: the case is wrong", tt.noScan)
	}
	if tt.scans != "" && scalar(numScans, tt.scans) == scanned {
		t.Fatalf("the server did not scan %s: the case is wrong", tt.scans)
	}
	if tt.rebuilds != "" && scalar(fileNode, tt.rebuilds) == rebuilt {
		t.Fatalf("the server kept the storage of %s: the case is wrong", tt.rebuilds)
	}
	if tt.keeps != "" && scalar(fileNode, tt.keeps) != kept {
		t.Fatalf("the server gave %s new storage: the case is wrong", tt.keeps)
	}
	if tt.probe != "" {
		var ok bool
		if err := conn.QueryRow(ctx, tt.probe).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Fatalf("%s is false on the server: the case is wrong", tt.probe)
		}
	}
	fs := AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema})
	if tt.rule != "" {
		f := find(fs, tt.rule)
		if f == nil || !strings.Contains(f.Message, tt.msg) {
			t.Errorf("%s: %+v, want one saying %q (all: %v)", tt.rule, f, tt.msg, rulesOf(fs))
		} else if tt.atError && (f.Line != errLine || f.Column != errColumn) {
			t.Errorf("%s at %d:%d, want %d:%d, where the server's error points (or %q)", tt.rule, f.Line, f.Column, errLine, errColumn, tt.atText)
		}
	}
	if tt.not != "" {
		if f := find(fs, tt.not); f != nil {
			t.Errorf("%s raised: %s", tt.not, f.Message)
		}
	}
}
