package sqlparse

import (
	"strings"
	"testing"
)

func TestNesting(t *testing.T) {
	for text, want := range map[string]int{
		"SELECT 1":                             0,
		"SELECT 1 + 2 + 3":                     2,
		"SELECT (1 + (2 * 3))":                 4,
		"INSERT INTO t VALUES (1, -2), (3, 4)": 2,
		"SELECT 'a+b+c' || $$x-y-z$$ -- + + +": 1,
		"SELECT a + b; SELECT c + d":           1,
		"SELECT a >= b":                        1,
	} {
		if got := nesting(text); got != want {
			t.Errorf("nesting(%q) = %d, want %d", text, got, want)
		}
	}
}

// TestDeepNestingIsAnError: a generated statement that nests tens of thousands of levels overflowed the
// parser's C stack and killed the process; it is a parse error at its line now, and the statements
// around it keep their trees.
func TestDeepNestingIsAnError(t *testing.T) {
	for name, deep := range map[string]string{
		"sum":    "UPDATE users SET a = " + strings.Repeat("1+", 50000) + "1 WHERE id = 1;",
		"concat": "SELECT " + strings.Repeat("'x'||", 30000) + "'x';",
		"parens": "SELECT " + strings.Repeat("(", 6000) + "1" + strings.Repeat(")", 6000) + ";",
	} {
		sts := Parse("CREATE TABLE a (id int);\n" + deep + "\nCREATE TABLE b (id int);\n")
		if len(sts) != 3 || sts[0].Node == nil || sts[2].Node == nil {
			t.Fatalf("%s: %d statements, want 3 with the first and last parsed", name, len(sts))
		}
		if e := sts[1].Err; e == nil || !strings.Contains(e.Message, "nests expressions") || e.Pos.Line != 2 {
			t.Errorf("%s: error %+v, want a nesting error on line 2", name, e)
		}
	}
	// Long but flat statements are fine.
	flat := "INSERT INTO t VALUES " + strings.Repeat("(1, -1, 'a+b'), ", 20000) + "(1, -1, 'x');"
	if sts := Parse(flat); len(sts) != 1 || sts[0].Err != nil {
		t.Errorf("a long flat INSERT: %+v", sts[0].Err)
	}
}
