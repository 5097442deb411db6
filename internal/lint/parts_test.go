package lint

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
)

// at finds the finding of rule at line:column.
func at(fs []Finding, line, column int, rule string) *Finding {
	for i := range fs {
		if fs[i].Rule == rule && fs[i].Line == line && fs[i].Column == column {
			return &fs[i]
		}
	}
	return nil
}

// TestFindingsStandAtTheirPart: a finding about one column of CREATE TABLE stands at the column, one
// about one subcommand of an ALTER TABLE of several at the subcommand, and both keep their statement's
// position for matching; an ALTER TABLE of one subcommand is its subcommand.
func TestFindingsStandAtTheirPart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      [][3]any // rule, line, column
		stmt      [2]int   // the statement's position
	}{
		{name: "columns of CREATE TABLE",
			src:  "CREATE TABLE accounts (\n    id serial PRIMARY KEY,\n    email varchar(200),\n  \"Payload\" json, created timestamp\n);\n",
			want: [][3]any{{"prefer-bigint", 2, 5}, {"prefer-identity", 2, 5}, {"prefer-text", 3, 5}, {"json-column", 4, 3}, {"prefer-timestamptz", 4, 19}},
			stmt: [2]int{1, 1}},
		{name: "characters, not bytes, before the column",
			src:  "CREATE TABLE \"größe\" (ümlaut json);\n",
			want: [][3]any{{"json-column", 1, 23}},
			stmt: [2]int{1, 1}},
		{name: "second statement on a line",
			src:  "SELECT 1; CREATE TABLE t (\n  a json);\n",
			want: [][3]any{{"json-column", 2, 3}},
			stmt: [2]int{1, 11}},
		{name: "subcommands of ALTER TABLE",
			src: "SET lock_timeout = '1s';\nALTER TABLE app.\"Users\" * -- the name, then the subcommands\n" +
				"    ADD COLUMN price numeric(10, 2) DEFAULT 0, /* a comma, in a comment */\n" +
				"    ADD CONSTRAINT ok CHECK (coalesce(price, 0) >= 0 AND tags <> ARRAY['a,b', 'c']) NOT VALID,\n" +
				"    ALTER COLUMN tags SET DEFAULT ARRAY['x', 'y'], ADD COLUMN meta json,\n    ALTER COLUMN note SET NOT NULL;\n",
			want: [][3]any{{"add-column-default-nonvolatile", 3, 5}, {"json-column", 5, 52}, {"set-not-null", 6, 5}},
			stmt: [2]int{2, 1}},
		{name: "first subcommand on the statement's line",
			src:  "SET lock_timeout = '1s';\nALTER TABLE ONLY users ADD COLUMN meta json,\n  ALTER COLUMN note SET NOT NULL;\n",
			want: [][3]any{{"json-column", 2, 24}, {"set-not-null", 3, 3}},
			stmt: [2]int{2, 1}},
		{name: "one subcommand: the statement",
			src:  "SET lock_timeout = '1s';\nALTER TABLE users\n  ALTER COLUMN note SET NOT NULL;\n",
			want: [][3]any{{"set-not-null", 2, 1}},
			stmt: [2]int{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := AnalyzeScript(script(tt.src), true, Config{})
			for _, w := range tt.want {
				rule, line, col := w[0].(string), w[1].(int), w[2].(int)
				f := at(fs, line, col, rule)
				if f == nil {
					t.Errorf("no %s at %d:%d in\n%s", rule, line, col, positions(fs))
					continue
				}
				if l, c := f.StatementPos(); l != tt.stmt[0] || c != tt.stmt[1] {
					t.Errorf("%s: statement at %d:%d, want %d:%d", rule, l, c, tt.stmt[0], tt.stmt[1])
				}
				if moved := line != tt.stmt[0] || col != tt.stmt[1]; moved != (f.StatementLine > 0) {
					t.Errorf("%s at %d:%d: statement_line %d, want it set only when the finding stands inside its statement", rule, line, col, f.StatementLine)
				}
			}
		})
	}
}

func positions(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %d:%d %s (statement %d:%d)\n", f.Line, f.Column, f.Rule, f.StatementLine, f.StatementColumn)
	}
	return b.String()
}

// TestPartPositionsPastDroppedLines: sql-migrate leaves out the "-- " lines it reads as its own; a
// part's line counts them, as the file has them.
func TestPartPositionsPastDroppedLines(t *testing.T) {
	t.Parallel()
	src := "-- +migrate Up\nCREATE TABLE t (\n-- sql-migrate leaves this line out\n  a json\n);\n"
	set, err := migrate.Read(fstest.MapFS{"1_t.sql": {Data: []byte(src)}}, migrate.FormatSQLMigrate)
	if err != nil {
		t.Fatal(err)
	}
	if sts := set.Migrations[0].Up.Statements; len(sts) != 1 || len(sts[0].Skipped) != 1 {
		t.Fatalf("want one statement with one line left out: %+v", sts)
	}
	fs := AnalyzeScript(set.Migrations[0].Up, true, Config{})
	if f := at(fs, 4, 3, "json-column"); f == nil {
		t.Errorf("json-column not at 4:3:\n%s", positions(fs))
	}
}

// TestIgnoreAboveAPart: an ignore comment alone on the line above a column or a subcommand suppresses
// that part's findings of the rules it names, not another part's; one above the statement still covers
// them all. A directive inside the statement is checked like one above it, and text in a string is none.
func TestIgnoreAboveAPart(t *testing.T) {
	t.Parallel()
	src := `CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    -- schemagate:ignore prefer-text the API caps emails at 200
    /* schemagate:ignore json-column,prefer-timestamptz not this column's */
    email varchar(200),
    name varchar(80),
    note text DEFAULT '
    -- schemagate:ignore prefer-text inside a string',
    title varchar(10),
    -- schemagate:ignore json-colum typo
    a json,
    -- schemagate:ignore json-column
    b json
);
-- schemagate:ignore prefer-timestamptz all of them, reviewed
CREATE TABLE events (
    at timestamp,
    seen timestamp
);
`
	fs := AnalyzeScript(script(src), true, Config{})
	for _, tc := range []struct {
		line    int
		rule    string
		ignored bool
	}{
		{5, "prefer-text", true}, // two comment lines above it, the first names it
		{6, "prefer-text", false},
		{9, "prefer-text", false}, // the "comment" above it is in a string
		{11, "json-column", false},
		{13, "json-column", false}, // no reason: nothing suppressed
		{17, "prefer-timestamptz", true},
		{18, "prefer-timestamptz", true},
	} {
		var f *Finding
		for i := range fs {
			if fs[i].Line == tc.line && fs[i].Rule == tc.rule {
				f = &fs[i]
			}
		}
		if f == nil || f.Ignored != tc.ignored {
			t.Errorf("line %d %s: %+v, want ignored %v\n%s", tc.line, tc.rule, f, tc.ignored, positions(fs))
		}
	}
	if f := find(fs, "ignore-unknown-rule"); f == nil || f.Line != 10 || f.Column != 5 || !strings.Contains(f.Message, "json-column") {
		t.Errorf("ignore-unknown-rule: %+v, want at 10:5 with a did-you-mean", f)
	}
	if f := find(fs, "ignore-without-reason"); f == nil || f.Line != 12 || f.Column != 5 {
		t.Errorf("ignore-without-reason: %+v, want at 12:5", f)
	} else if l, _ := f.StatementPos(); l != 1 {
		t.Errorf("ignore-without-reason belongs to the statement at line %d, want 1", l)
	}
	if n := strings.Count(positions(fs), "ignore-"); n != 2 {
		t.Errorf("%d ignore-* findings, want 2 (each directive checked once):\n%s", n, positions(fs))
	}
}

// TestEvidenceReachesAPart: the rehearsal's evidence comes for the statement; a finding standing at a
// subcommand of it takes that evidence as if it stood at the statement.
func TestEvidenceReachesAPart(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\nALTER TABLE users\n    ADD COLUMN note text,\n    ALTER COLUMN name TYPE text;\n"
	static := AnalyzeScript(script(src), false, Config{})
	f := at(static, 5, 5, "change-column-type-coercible")
	if f == nil {
		t.Fatalf("no type change at 5:5:\n%s", positions(static))
	}
	locks := []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}
	// No rewrite seen: the coercible change is confirmed, nothing dynamic is added.
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 3, Column: 1, Locks: locks}})
	if f := at(got, 5, 5, "change-column-type-coercible"); f == nil || f.Source != SourceBoth {
		t.Errorf("coercible change not confirmed by the evidence: %+v\n%s", f, positions(got))
	}
	// A rewrite seen: the finding at the subcommand explains it and becomes a rewrite; no separate,
	// unexplained table-rewrite appears at the statement.
	got = ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 3, Column: 1, Rewritten: []string{"users"}, Locks: locks}})
	if f := at(got, 5, 5, "change-column-type-rewrite"); f == nil || f.Source != SourceBoth || f.Risk != Dangerous {
		t.Errorf("the rewrite does not reach the type change: %+v\n%s", f, positions(got))
	}
	if f := find(got, "table-rewrite"); f != nil {
		t.Errorf("rewrite reported as unexplained: %+v", f)
	}
}

// TestRewriteNotBlamedOnAKnownDefault: an ADD COLUMN whose DEFAULT calls no unknown function cannot be
// volatile: a rewrite seen in its statement is another subcommand's (here the type change's), and one
// that nothing explains is reported as such, not as a volatile DEFAULT.
func TestRewriteNotBlamedOnAKnownDefault(t *testing.T) {
	t.Parallel()
	locks := []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}
	rewrite := []Evidence{{File: "m.sql", Line: 3, Column: 1, Rewritten: []string{"users"}, Locks: locks}}
	head := "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\n"

	got := ApplyEvidence(AnalyzeScript(script(head+"ALTER TABLE users\n    ADD COLUMN score numeric(10, 2) NOT NULL DEFAULT 0,\n    ALTER COLUMN name TYPE text;\n"), false, Config{}), rewrite)
	if f := at(got, 4, 5, "add-column-default-nonvolatile"); f == nil || f.Risk != Safe || f.Rewrite {
		t.Errorf("the constant DEFAULT is blamed for the type change's rewrite:\n%s", positions(got))
	}
	if f := at(got, 5, 5, "change-column-type-rewrite"); f == nil || f.Source != SourceBoth {
		t.Errorf("the type change does not take the rewrite:\n%s", positions(got))
	}

	got = ApplyEvidence(AnalyzeScript(script(head+"ALTER TABLE users ADD COLUMN score int DEFAULT 0;\n"), false, Config{}), rewrite)
	if f := find(got, "add-column-volatile-default"); f != nil {
		t.Errorf("a DEFAULT 0 called volatile: %+v", f)
	}
	if f := find(got, "table-rewrite"); f == nil || f.Source != "dynamic" {
		t.Errorf("the unexplained rewrite is not reported:\n%s", positions(got))
	}

	// A function the parser does not know is the rehearsal's to judge.
	got = ApplyEvidence(AnalyzeScript(script(head+"ALTER TABLE users ADD COLUMN token uuid DEFAULT my_uuid();\n"), false, Config{}), rewrite)
	if f := find(got, "add-column-volatile-default"); f == nil || f.Source != SourceBoth {
		t.Errorf("the rewrite of an unknown function's DEFAULT is not its own:\n%s", positions(got))
	}
}

// TestFindingsInTextOrder: a script's findings come in the order of the text, as a compiler lists
// them: a statement's own findings (raised after its parts') before its parts', and one raised at the
// end of the script (a BEGIN never committed) where its statement stands.
func TestFindingsInTextOrder(t *testing.T) {
	t.Parallel()
	fs := AnalyzeScript(script("BEGIN;\nALTER TABLE users\n  ADD COLUMN a json,\n  ALTER COLUMN b SET NOT NULL;\n"), false, Config{})
	if len(fs) < 4 || fs[0].Rule != "transaction-boundaries" {
		t.Fatalf("want transaction-boundaries first:\n%s", positions(fs))
	}
	inOrder(t, fs)

	// The rehearsal's findings take their place among the parse tree's.
	src := "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nCOMMENT ON TABLE users IS 'x';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
	fs = ApplyEvidence(AnalyzeScript(script(src), true, Config{}), []Evidence{{File: "m.sql", Line: 3, Column: 1, Rewritten: []string{"users"},
		Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}}})
	if find(fs, "table-rewrite") == nil || find(fs, "set-not-null") == nil {
		t.Fatalf("want a table-rewrite (line 3) and a set-not-null (line 4):\n%s", positions(fs))
	}
	inOrder(t, fs)
}

func inOrder(t *testing.T, fs []Finding) {
	t.Helper()
	for i := 1; i < len(fs); i++ {
		if p, f := fs[i-1], fs[i]; f.Line < p.Line || f.Line == p.Line && f.Column < p.Column {
			t.Errorf("%s at %d:%d listed after %s at %d:%d", f.Rule, f.Line, f.Column, p.Rule, p.Line, p.Column)
		}
	}
}

// TestTypeChangeShowsModifiers: a type change's message shows the types with their modifiers, which
// are often the whole change (varchar(100) -> varchar(200)).
func TestTypeChangeShowsModifiers(t *testing.T) {
	t.Parallel()
	cfg := Config{Schema: "CREATE TABLE accounts (email varchar(100), price numeric(10,2)[], span interval day to second);"}
	for _, tc := range []struct{ sql, rule, want string }{
		{"ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);", "change-column-type-coercible", "varchar(100) -> varchar(200) is binary-coercible"},
		{"ALTER TABLE accounts ALTER COLUMN email TYPE varchar(50);", "change-column-type-rewrite", "changes type to varchar(50):"},
		{"ALTER TABLE accounts ALTER COLUMN price TYPE numeric(12,2)[];", "change-column-type-rewrite", "changes type to numeric(12,2)[]:"},
		{"ALTER TABLE accounts ALTER COLUMN span TYPE interval;", "change-column-type-coercible", "interval day to second -> interval is"},
	} {
		f := find(AnalyzeScript(script(tc.sql), true, cfg), tc.rule)
		if f == nil || !strings.Contains(f.Message, tc.want) {
			t.Errorf("%s: %+v, want %s saying %q", tc.sql, f, tc.rule, tc.want)
		}
	}
}

// TestPartExcerpt: a finding about a part that the statement's excerpt would cut off shows the
// statement's head and the part; the rehearsal's findings of the statement show the statement itself.
func TestPartExcerpt(t *testing.T) {
	t.Parallel()
	var sql strings.Builder
	sql.WriteString("SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nALTER TABLE users\n")
	for i := range 12 {
		fmt.Fprintf(&sql, "    ADD COLUMN note_%02d text,\n", i)
	}
	sql.WriteString("    ALTER COLUMN email SET NOT NULL;\n")
	// With add-column-nullable off, the statement's one finding is the last subcommand's.
	static := AnalyzeScript(script(sql.String()), true, Config{Rules: map[string]string{"add-column-nullable": "off"}})
	f := find(static, "set-not-null")
	if f == nil || f.Statement != "ALTER TABLE users ... ALTER COLUMN email SET NOT NULL" {
		t.Fatalf("set-not-null excerpt: %+v", f)
	}
	if f := find(AnalyzeScript(script(sql.String()), true, Config{}), "add-column-nullable"); f == nil || !strings.HasPrefix(f.Statement, "ALTER TABLE users ADD COLUMN note_00 text,") {
		t.Errorf("the first subcommand is in the statement's own excerpt: %+v", f)
	}
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 3, Column: 1, Rewritten: []string{"users"},
		Locks: []LockEvidence{{Relation: "users", Mode: "AccessExclusiveLock", Preexisting: true}}}})
	if f := find(got, "table-rewrite"); f == nil || !strings.HasPrefix(f.Statement, "ALTER TABLE users ADD COLUMN note_00 text,") {
		t.Errorf("the rehearsal's finding does not show the statement: %+v", f)
	}
}
