package deploy

import (
	"runtime"
	"testing"
	"weak"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestAnalyzeReadsAScriptOnce: analyze gives the same effects for the same script while it is in use,
// other effects for another script of the same text, and forgets a script nothing references any more.
func TestAnalyzeReadsAScriptOnce(t *testing.T) {
	set := folderB(t, map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id int);\nDELETE FROM users;", "1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql": "CREATE TABLE a (id int);\nDELETE FROM users;", "2_b.down.sql": "DROP TABLE a;",
	})
	one, two := set.Migrations[0].Up, set.Migrations[1].Up
	e := analyze(one)
	if analyze(one) != e {
		t.Fatal("a second analyze of the same script read it again")
	}
	if analyze(two) == e {
		t.Fatal("another script of the same text got the first one's effects")
	}
	if !e.Rows["users"] || !e.madeTables["a"] {
		t.Fatalf("effects %+v: want users' rows changed and table a made", e)
	}

	w := func() weak.Pointer[migrate.Script] {
		s := &migrate.Script{File: "3_c.up.sql", SQL: one.SQL, Statements: one.Statements}
		analyze(s)
		return weak.Make(s)
	}()
	if _, ok := analyzed.Load(w); !ok {
		t.Fatal("analyze kept nothing for the script")
	}
	// Cleanups run on their own goroutine after a collection finds the script unreachable.
	for i := 0; i < 100; i++ {
		runtime.GC()
		runtime.Gosched()
		if _, ok := analyzed.Load(w); !ok {
			return
		}
	}
	t.Fatal("analyze still holds the effects of a script nothing references")
}
