package cli

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/deploy"
)

// TestDeployExit: the exit code says what state the database is in. 3 only when it is as it was; 1
// whenever a person must act: maintenance mode left on (whatever else happened: a rolled-back deploy
// used to exit 3), a window that closed part-way (it used to be blocked, 3, with migrations applied), a
// failure.
func TestDeployExit(t *testing.T) {
	t.Parallel()
	leftOn := &deploy.MaintenanceResult{Error: "turn maintenance mode off: exit status 7", Hint: "turn it off by hand"}
	for _, tc := range []struct {
		name string
		res  *deploy.Result
		want int
	}{
		{"deployed", &deploy.Result{Outcome: deploy.OutcomeDeployed, OK: true}, 0},
		{"deployed, maintenance left on", &deploy.Result{Outcome: deploy.OutcomeDeployed, OK: true, Maintenance: leftOn}, ExitFailure},
		{"rolled back", &deploy.Result{Outcome: deploy.OutcomeRolledBack}, ExitBlocked},
		{"rolled back, maintenance left on", &deploy.Result{Outcome: deploy.OutcomeRolledBack, Maintenance: leftOn}, ExitFailure},
		{"blocked, maintenance left on", &deploy.Result{Outcome: deploy.OutcomeBlocked, Maintenance: leftOn}, ExitFailure},
		{"blocked, the on action failed in its transaction", &deploy.Result{Outcome: deploy.OutcomeBlocked,
			Maintenance: &deploy.MaintenanceResult{Error: "turn maintenance mode on: lock timeout"}}, ExitBlocked},
		{"partial", &deploy.Result{Outcome: deploy.OutcomePartial}, ExitFailure},
		{"failed", &deploy.Result{Outcome: deploy.OutcomeFailed}, ExitFailure},
		{"server too old", &deploy.Result{Outcome: deploy.OutcomeBlocked}, ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runErr error
			if !tc.res.OK {
				runErr = errors.New(tc.res.Outcome)
			}
			if tc.want == ExitUsage { // as deploy.Run refuses a server older than PostgreSQL 13
				runErr = &deploy.Blocked{Reason: "too old", Err: &deploy.ServerVersionError{Version: "12.18", Num: 120018}}
			}
			err := deployExit(tc.res, runErr)
			got := 0
			var ee *ExitError
			if errors.As(err, &ee) {
				got = ee.Code
			} else if err != nil {
				t.Fatalf("error %v without an exit code", err)
			}
			if got != tc.want {
				t.Errorf("exit %d, want %d (%v)", got, tc.want, err)
			}
		})
	}
}

// TestDeployExitCodesDocumented: every exit code a deploy can return is in `deploy --help`'s list and in
// the summaries of docs/deploy.md and the README. The codes are those deployExit gives for every outcome
// of internal/deploy (read from its source, so a new outcome is covered), usage, and each of those a
// stop signal turns into 128 plus its number (SignalExit): 130 and 143 were only in a paragraph on
// signals, and a CI job stopped with 143 left its reader to guess what state the database was in.
func TestDeployExitCodesDocumented(t *testing.T) {
	t.Parallel()
	codes := map[int]bool{ExitUsage: true} // flags, the configuration, the folder
	leftOn := &deploy.MaintenanceResult{Error: "turn maintenance mode off: exit status 7", Hint: "turn it off by hand"}
	for _, outcome := range deployOutcomes(t) {
		for _, ok := range []bool{true, false} {
			for _, maint := range []*deploy.MaintenanceResult{nil, leftOn} {
				for _, runErr := range []error{nil, errors.New(outcome), &deploy.Blocked{Reason: "too old", Err: &deploy.ServerVersionError{Version: "12.18", Num: 120018}}} {
					res := &deploy.Result{Outcome: outcome, OK: ok, Maintenance: maint}
					code := ExitOK
					var ee *ExitError
					if err := deployExit(res, runErr); errors.As(err, &ee) {
						code = ee.Code
					}
					codes[code] = true
				}
			}
		}
	}
	for code := range maps.Clone(codes) {
		for _, s := range StopSignals {
			codes[SignalExit(s, code)] = true
		}
	}
	if len(codes) < 7 { // 0 1 2 3 129 130 143 as of writing: fewer means this test reads nothing
		t.Fatalf("only exit codes %v found", slices.Sorted(maps.Keys(codes)))
	}
	_, help, _ := run(t, nil, "deploy", "--help")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []struct{ name, text, start string }{
		{"deploy --help", help, "Exit codes: 0 deployed"},
		{"docs/deploy.md", string(docs), "Exit codes: 0 deployed"},
		{"README.md", string(readme), "Exit codes: `0` deployed"},
	} {
		_, list, found := strings.Cut(doc.text, doc.start)
		if !found {
			t.Errorf("%s has no exit code list starting %q", doc.name, doc.start)
			continue
		}
		list, _, _ = strings.Cut(doc.start+list, "\n\n") // the paragraph
		said := map[int]bool{}
		// A code as the list gives one: after the list's start, a comma, a semicolon, "or" or a line
		// break, before a word, a comma or a parenthesis ("0 deployed", "`130`, `143` or `129`"), not
		// any number of the paragraph ("PostgreSQL 13", "exit status 7").
		for _, m := range exitCodeEntry.FindAllStringSubmatchIndex(list, -1) {
			rest := strings.TrimPrefix(list[m[3]:], "`")
			if rest == "" || !strings.ContainsRune(" ,:;)\n", rune(rest[0])) {
				continue
			}
			n, _ := strconv.Atoi(list[m[2]:m[3]])
			said[n] = true
		}
		for _, code := range slices.Sorted(maps.Keys(codes)) {
			if !said[code] {
				t.Errorf("%s's exit codes lack %d:\n%s", doc.name, code, list)
			}
		}
	}
}

// deployOutcomes reads the values of the Outcome constants from internal/deploy's source.
func deployOutcomes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../deploy/result.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, name := range v.Names {
				if lit, ok := v.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(name.Name, "Outcome") {
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					outcomes = append(outcomes, s)
				}
			}
		}
	}
	if len(outcomes) < 5 {
		t.Fatalf("only outcomes %v in ../deploy/result.go", outcomes)
	}
	return outcomes
}

// exitCodeEntry matches a code in an exit code list (see TestDeployExitCodesDocumented).
var exitCodeEntry = regexp.MustCompile("(?:: |, |; | or |\n)`?(\\d+)")
