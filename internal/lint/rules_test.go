package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// testSchema is risk-rules.md §5's assumed existing schema.
func testSchema(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var wantRE = regexp.MustCompile(`^\s*--\s*(want-none|want:\s*(.*))\s*$`)

// ruleCase is one "-- case [notx] [pg=N]" section of a rule file.
type ruleCase struct {
	line  int // line of the "-- case" marker
	notx  bool
	pg    int
	rules map[string]string
	start int
	end   int
}

// splitCases cuts a rule file into its cases; options follow the marker: notx, pg=14.2, on=<rule>.
func splitCases(t *testing.T, src string) []ruleCase {
	t.Helper()
	var cases []ruleCase
	off := 0
	for i, line := range strings.SplitAfter(src, "\n") {
		trim := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(trim, "-- case"); ok {
			if len(cases) > 0 {
				cases[len(cases)-1].end = off
			}
			c := ruleCase{line: i + 1, start: off, rules: map[string]string{}}
			for _, opt := range strings.Fields(rest) {
				switch {
				case opt == "notx":
					c.notx = true
				case strings.HasPrefix(opt, "pg="):
					v, err := ParseVersion(strings.TrimPrefix(opt, "pg="))
					if err != nil {
						t.Fatalf("line %d: %v", i+1, err)
					}
					c.pg = v
				default:
					t.Fatalf("line %d: unknown case option %q", i+1, opt)
				}
			}
			cases = append(cases, c)
		}
		off += len(line)
	}
	if len(cases) > 0 {
		cases[len(cases)-1].end = len(src)
	}
	return cases
}

// expectations reads the want comments: line of the statement (or comment) they describe -> rule ids.
func expectations(src string) (map[int][]string, map[string]bool) {
	want := map[int][]string{}
	mentioned := map[string]bool{}
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		m := wantRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		var ids []string
		if m[1] != "want-none" {
			for _, id := range strings.Split(m[2], ",") {
				if id = strings.TrimSpace(id); id != "" {
					ids = append(ids, id)
					mentioned[id] = true
				}
			}
		}
		j := i + 1
		for j < len(lines) && (strings.TrimSpace(lines[j]) == "" || wantRE.MatchString(lines[j])) {
			j++
		}
		if _, ok := want[j+1]; !ok {
			want[j+1] = []string{} // want-none still marks the line as a case
		}
		want[j+1] = append(want[j+1], ids...)
	}
	return want, mentioned
}

// TestRules runs every testdata/rules/<id>.sql: for the file's rule (and any rule its want comments
// name) the findings must be exactly the expected ones, line by line.
func TestRules(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	files, err := filepath.Glob(filepath.Join("testdata", "rules", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, file := range files {
		id := strings.TrimSuffix(filepath.Base(file), ".sql")
		have[id] = true
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			if _, ok := Lookup(id); !ok {
				t.Fatalf("%s: no rule %q", file, id)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			src := string(b)
			want, mentioned := expectations(src)
			mentioned[id] = true
			triggers, silent := 0, 0
			for _, ids := range want {
				if slices.Contains(ids, id) {
					triggers++
				} else {
					silent++
				}
			}
			if triggers == 0 || silent == 0 {
				t.Errorf("%s: want at least one triggering and one non-triggering case (have %d, %d)", file, triggers, silent)
			}
			got := map[int][]string{}
			for _, c := range splitCases(t, src) {
				// Blank out the other cases, keeping offsets and line numbers.
				masked := []byte(src)
				for i := range masked {
					if (i < c.start || i >= c.end) && masked[i] != '\n' {
						masked[i] = ' '
					}
				}
				script := &migrate.Script{File: file, SQL: string(masked), Statements: sqlparse.Parse(string(masked))}
				rules := map[string]string{}
				for r := range mentioned {
					if rr, _ := Lookup(r); rr.Off {
						rules[r] = rr.Risk.String()
					}
				}
				for _, f := range AnalyzeScript(script, !c.notx, Config{PGVersion: c.pg, Rules: rules, Schema: schema}) {
					if mentioned[f.Rule] && !f.Ignored {
						got[f.Line] = append(got[f.Line], f.Rule)
					}
				}
			}
			lines := map[int]bool{}
			for l := range want {
				lines[l] = true
			}
			for l := range got {
				lines[l] = true
			}
			for l := range lines {
				w, g := slices.Sorted(slices.Values(want[l])), slices.Sorted(slices.Values(got[l]))
				if !slices.Equal(w, g) {
					t.Errorf("%s:%d: findings %v, want %v", file, l, g, w)
				}
			}
		})
	}
	for _, r := range Rules() {
		if !r.Dynamic && !r.History && !have[r.ID] {
			t.Errorf("rule %s has no testdata/rules/%s.sql", r.ID, r.ID)
		}
	}
}

func ExampleAnalyzeScript() {
	src := "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
	s := &migrate.Script{File: "001.sql", SQL: src, Statements: sqlparse.Parse(src)}
	for _, f := range AnalyzeScript(s, true, Config{}) {
		fmt.Println(f)
	}
	// Output:
	// 001.sql:1:1: dangerous set-not-null: SET NOT NULL on users.email scans the whole table while holding ACCESS EXCLUSIVE
	// 001.sql:1:1: dangerous missing-lock-timeout: statement takes ACCESS EXCLUSIVE on a pre-existing relation without an earlier SET lock_timeout: while it waits, every later query on the table queues behind it
	// 001.sql:1:1: caution missing-statement-timeout: DDL on a pre-existing relation without an earlier SET statement_timeout
}
