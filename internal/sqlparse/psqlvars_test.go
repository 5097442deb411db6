package sqlparse

import (
	"errors"
	"strings"
	"testing"
)

func TestInterpolatePsql(t *testing.T) {
	vars := map[string]string{"schema": "app", "quote": "it's", "path": `C:\data`, "n": "3"}
	tests := []struct{ name, src, want string }{
		{"identifier", `CREATE SCHEMA :"schema";`, `CREATE SCHEMA "app";`},
		{"literal", `SELECT :'quote';`, `SELECT 'it''s';`},
		{"literal with a backslash", `SELECT :'path';`, `SELECT  E'C:\\data';`},
		{"as is", `SELECT 1 LIMIT :n;`, `SELECT 1 LIMIT 3;`},
		{"cast", `SELECT 1::text, :n::int;`, `SELECT 1::text, 3::int;`},
		{"unset stays", `SELECT a[1:m], :'missing', :"missing";`, `SELECT a[1:m], :'missing', :"missing";`},
		{"not in quotes, comments or dollar quotes",
			"SELECT ':n', \":n\", $$ :n $$, E'\\' :n'; -- :n\n/* :n */ SELECT :n;",
			"SELECT ':n', \":n\", $$ :n $$, E'\\' :n'; -- :n\n/* :n */ SELECT 3;"},
		{"set in the script, from its line on",
			"SELECT :'v';\n\\set v one\nSELECT :'v';\n\\set v 'two words' :n\nSELECT :'v';\n\\unset v\nSELECT :'v';",
			"SELECT :'v';\n\\set v one\nSELECT 'one';\n\\set v 'two words' :n\nSELECT 'two words3';\n\\unset v\nSELECT :'v';"},
		{"set with a tab", "\\set\tv\tx\nSELECT :v;", "\\set\tv\tx\nSELECT x;"},
		{"set with quotes", "\\set v 'a''b\\tc' \"Q\"\nSELECT :v;", "\\set v 'a''b\\tc' \"Q\"\nSELECT a'b\tc\"Q\";"},
		{"not in COPY data", "COPY t FROM stdin;\n:n\t:'schema'\n\\.\nSELECT :n;", "COPY t FROM stdin;\n:n\t:'schema'\n\\.\nSELECT 3;"},
		{"named arguments", `SELECT f(a := :n);`, `SELECT f(a := 3);`},
	}
	for _, tc := range tests {
		got, err := InterpolatePsql(tc.src, 0, len(tc.src), vars)
		if err != nil || got != tc.want {
			t.Errorf("%s:\n got %q (%v)\nwant %q", tc.name, got, err, tc.want)
		}
	}
	if vars["v"] != "" {
		t.Error("the script's \\set changed the caller's variables")
	}
	// What was substituted still splits into its statements.
	src := "\\set s app\nCREATE SCHEMA :\"s\";\nCREATE TABLE :\"s\".t (id int DEFAULT :n);\n"
	text, err := InterpolatePsql(src, 0, len(src), vars)
	if err != nil {
		t.Fatal(err)
	}
	sts, _ := ParsePsql(text, 0, len(text), nil)
	if len(sts) != 2 || sts[1].SQL != `CREATE TABLE "app".t (id int DEFAULT 3)` || sts[1].Pos.Line != 3 {
		t.Fatalf("statements %+v", sts)
	}
}

func TestInterpolatePsqlErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"SELECT 1;\n\\set v `whoami`\nSELECT :v;", "shell command"},
		{"\\set v 'open\nSELECT :v;", "unterminated"},
		{"\\set 1-2 x\n", "invalid psql variable name"},
	} {
		_, err := InterpolatePsql(tc.src, 0, len(tc.src), nil)
		var ve *PsqlVarError
		if !errors.As(err, &ve) || !strings.Contains(ve.Msg, tc.want) {
			t.Errorf("%q: error %v, want a PsqlVarError with %q", tc.src, err, tc.want)
		} else if ve.Off > len(tc.src) || strings.Count(tc.src[:ve.Off], "\n") != strings.Count(tc.src[:strings.Index(tc.src, "\\set")], "\n") {
			t.Errorf("%q: offset %d is not on the \\set line", tc.src, ve.Off)
		}
	}
}

// FuzzInterpolatePsql: without variables and without \set, nothing changes; with them, no panic and
// the text outside the script's range is kept.
func FuzzInterpolatePsql(f *testing.F) {
	for _, s := range []string{"SELECT :n;", "\\set n 1\nSELECT :'n', :\"n\", :n::int;", "COPY t FROM stdin;\n:n\n\\.\n", "$$:n$$ ':n' -- :n", "\\set n `x`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := InterpolatePsql(src, 0, len(src), map[string]string{"n": "1"})
		if err == nil && !strings.Contains(src, ":") && out != src {
			t.Fatalf("no colon, yet %q became %q", src, out)
		}
		if !strings.Contains(src, "\\") {
			if out2, err := InterpolatePsql(src, 0, len(src), nil); err != nil || out2 != src {
				t.Fatalf("no variables and no \\set, yet %q became %q (%v)", src, out2, err)
			}
		}
	})
}

// TestUnsetPsqlVariableSaysSo: the syntax error of a variable that is not set names what it may be.
func TestUnsetPsqlVariableSaysSo(t *testing.T) {
	for _, src := range []string{`CREATE TABLE :"nope".t (id int);`, `SELECT :'nope';`, `SELECT * FROM :nope;`} {
		sts := Parse(src)
		if len(sts) != 1 || sts[0].Err == nil || !strings.Contains(sts[0].Err.Message, "a psql variable") {
			t.Errorf("%s: %+v, want a syntax error naming a psql variable", src, sts)
		}
	}
	if sts := Parse(`SELECT 1 +;`); len(sts) != 1 || sts[0].Err == nil || strings.Contains(sts[0].Err.Message, "psql variable") {
		t.Errorf("another syntax error names a psql variable: %+v", sts)
	}
}
