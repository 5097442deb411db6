package deploy

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/report"
)

// hostileResult is a failed deploy whose every quoted text comes from the pull request or the server:
// a file name with a back-tick, a newline and a mention, a RAISE EXCEPTION message and hint with
// workflow commands, mentions, a stray fence and HTML.
func hostileResult() *Result {
	msg := "boom ``` </details>\n::error file=app.go,line=1::forged\n::add-mask::x | col | @team/dba\n/approve @octocat"
	file := "1_x`@dora<img src=x>\n::stop-commands::tok.up.sql"
	return &Result{
		Env: "prod", RunID: "run-1", Outcome: OutcomeRolledBack,
		Reason: "1_x failed: " + msg,
		Hint:   "hint @admin\n```\n::warning::forged hint",
		Migrations: []MigrationResult{{
			Version: "1", Name: "x`@dora<img src=x>\n::stop-commands::tok", File: file, Status: StatusFailed,
			Error:         &SQLError{Message: msg, File: file, Line: 1, Column: 6, Hint: "hint @admin\n```"},
			RollbackError: &SQLError{Message: "down failed\n::error::again @someone", File: file, Line: 2},
		}},
		Verify:   []Check{{Name: "check @ops\n::error::x", OK: false, Message: "got\n::error::y", Phase: "apply"}},
		Drift:    []string{"1_x`@dora changed\n::error::z"},
		Notes:    []string{"note @ops\n::add-mask::n"},
		Rollback: &RollbackResult{Method: "snapshot", Error: "restore failed\n::error::w @ops"},
	}
}

// TestWriteTextEscapesQuotedText: no line of the text report starts with "::" (a workflow command),
// whatever the server or a file name says; a message's lines go on lines of their own after "| ", a
// file name's line breaks are written out as \n.
func TestWriteTextEscapesQuotedText(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := hostileResult().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimLeftFunc(l, unicode.IsSpace), "::") {
			t.Errorf("a line is a workflow command: %q\n%s", l, out)
		}
	}
	// A message's line breaks start lines of their own after "| " (they used to show as \n); a file
	// name's are written out as \n.
	for _, want := range []string{"  reason: 1_x failed: boom ``` </details>\n    | ::error file=app.go,line=1::forged\n    | ::add-mask::x",
		"down failed\n        | ::error::again @someone", `x` + "`" + `@dora<img src=x>\n::stop-commands::tok`, "  hint: hint @admin\n    | ```\n    | ::warning::forged hint\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

// TestMarkdownEscapesQuotedText: the Markdown report (job summary, PR comment) escapes as check's does:
// no live mention, no HTML, no code span a back-tick in a file name can close, no unbalanced fence,
// every table row on its line.
func TestMarkdownEscapesQuotedText(t *testing.T) {
	t.Parallel()
	md := hostileResult().Markdown()
	prose := withoutCodeSpans(md) // inside a code span nothing is a mention or HTML
	for _, bad := range []string{"@dora", "@octocat", "@admin", "@team", "@someone", "@ops", "<img", "</details>", "```"} {
		if strings.Contains(prose, bad) {
			t.Errorf("Markdown holds %q outside code spans:\n%s", bad, md)
		}
	}
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "::") || strings.HasPrefix(strings.TrimSpace(l), "/approve") {
			t.Errorf("a line starts with quoted text: %q\n%s", l, md)
		}
	}
	// The migration's name is one code span, delimited by a run of back-ticks longer than the one in it.
	if !strings.Contains(md, "| ``1_x`@dora<img src=x> ::stop-commands::tok`` | failed |") {
		t.Errorf("migration cell not one code span:\n%s", md)
	}
	// The migrations table keeps its four cells: the pipe of the message is escaped.
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| ``1_x") {
			if n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); n != 5 {
				t.Errorf("migration row has %d cell separators, want 5: %s", n, l)
			}
		}
	}
}

// TestMarkdownCutsLongMessages: a message a migration raised, of any length (RAISE EXCEPTION with a
// row's data), is cut in the Markdown, saying so, so that the deploy's comment stays within the 65,536
// characters GitHub takes and the job summary within its 1 MiB; the text report keeps it whole.
func TestMarkdownCutsLongMessages(t *testing.T) {
	t.Parallel()
	r := hostileResult()
	long := strings.Repeat("row (1, 'x') @ops ", 50000)
	r.Reason, r.Migrations[0].Error.Message, r.Migrations[0].RollbackError.Message, r.Verify[0].Message = long, long, long, long
	md := r.Markdown()
	if n := len([]rune(md)); n > 20000 {
		t.Fatalf("Markdown of %d characters", n)
	}
	if n := strings.Count(md, "(cut: 900000 characters in all)"); n != 4 {
		t.Errorf("%d cut messages say so, want 4:\n%s", n, md)
	}
	if prose := withoutCodeSpans(md); strings.Contains(prose, "@ops") {
		t.Errorf("a cut message mentions someone:\n%s", md)
	}
}

// withoutCodeSpans drops the inline code spans of Markdown text (a back-tick run up to the next run of
// the same length, as CommonMark reads them).
func withoutCodeSpans(md string) string {
	var b strings.Builder
	for i := 0; i < len(md); {
		if md[i] == '\\' && i+1 < len(md) { // an escaped character is literal
			b.WriteString(md[i : i+2])
			i += 2
			continue
		}
		if md[i] != '`' {
			b.WriteByte(md[i])
			i++
			continue
		}
		n := 0
		for i+n < len(md) && md[i+n] == '`' {
			n++
		}
		run := md[i : i+n]
		end := -1
		for j := i + n; j < len(md); {
			k := strings.Index(md[j:], run)
			if k < 0 {
				break
			}
			k += j
			m := 0
			for k+m < len(md) && md[k+m] == '`' {
				m++
			}
			if m == n {
				end = k
				break
			}
			j = k + m
		}
		if end < 0 { // no closing run: the back-ticks are literal
			b.WriteString(run)
			i += n
			continue
		}
		b.WriteString("<code>")
		i = end + n
	}
	return b.String()
}

// TestRollbackOfNothingApplied: the run's only migration failed in its transaction, so nothing of the run
// had been applied. The report said "Rollback: down in 0s" and the error "rolled back by down" (tester
// A's F10g); it now says there was nothing to undo.
func TestRollbackOfNothingApplied(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, map[string]string{"1_a.up.sql": "ALTER TABLE accounts ADD COLUMN w int;\nSELECT 1/0;", "1_a.down.sql": "ALTER TABLE accounts DROP COLUMN w;"}), "run-nothing")
	res, err := Run(t.Context(), o)
	if err == nil || res.Outcome != OutcomeRolledBack {
		t.Fatalf("err %v, outcome %s; want rolled back", err, res.Outcome)
	}
	if strings.Contains(err.Error(), "rolled back by down") || !strings.Contains(err.Error(), "nothing of this run had been applied") {
		t.Errorf("error %q", err)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "down in") || !strings.Contains(out, "Rollback:              nothing to undo: no migration of this run had been applied") {
		t.Errorf("text report:\n%s", out)
	}
}

// TestCommentMarker: the environment's name went into the deploy comment's HTML comment as it was, so a
// name with "-->" ended it and let the rest through, and one with "--" broke it (the last review's "left
// alone"). It is escaped now; a plain name keeps the marker it had, and two names never share one.
func TestCommentMarker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ env, want string }{
		{"production", "<!-- schemagate:deploy production -->"},
		{"prod-eu_2/a.b", "<!-- schemagate:deploy prod-eu_2/a.b -->"},
		{"a-->b", "<!-- schemagate:deploy a-%2D%3Eb -->"},
		{"x -->", "<!-- schemagate:deploy x%20-%2D%3E -->"},
		{"a--b---c", "<!-- schemagate:deploy a-%2Db-%2D-c -->"},
		{"<b>hi</b>", "<!-- schemagate:deploy %3Cb%3Ehi%3C/b%3E -->"},
		{"my env", "<!-- schemagate:deploy my%20env -->"},
		{"50%", "<!-- schemagate:deploy 50%25 -->"},
		{"prod-", "<!-- schemagate:deploy prod- -->"},
		{"é", "<!-- schemagate:deploy %C3%A9 -->"},
	} {
		got := CommentMarker(tc.env)
		if got != tc.want {
			t.Errorf("CommentMarker(%q) = %q, want %q", tc.env, got, tc.want)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(got, "<!-- schemagate:deploy "), " -->")
		if strings.Contains(name, "--") || strings.ContainsAny(name, "<> ") {
			t.Errorf("CommentMarker(%q) = %q holds what breaks the comment", tc.env, got)
		}
	}
	if a, b := CommentMarker("a<b"), CommentMarker("a%3Cb"); a == b {
		t.Errorf("a<b and a%%3Cb share the marker %q", a)
	}
	for _, tc := range []struct {
		env string
		old []string
	}{
		{"production", nil},
		{"prod-eu", nil},
		{"my env", []string{"<!-- schemagate:deploy my env -->"}},
		{"a-->b", []string{"<!-- schemagate:deploy a-->b -->"}},
		{"a%3Cb", nil}, // "a<b" has that marker now
	} {
		if got := OldCommentMarkers(tc.env); strings.Join(got, "|") != strings.Join(tc.old, "|") {
			t.Errorf("OldCommentMarkers(%q) = %q, want %q", tc.env, got, tc.old)
		}
	}
}

// TestDeployCommentMarkedByAnEarlierVersion: the deploy comment an earlier version wrote for an
// environment whose name it did not escape is found and updated (as the deploy command upserts it), and
// carries the escaped marker from then on; a comment of another environment is left alone.
func TestDeployCommentMarkedByAnEarlierVersion(t *testing.T) {
	t.Parallel()
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "1"}, nil)
	f, err := github.New(github.Options{Token: githubtest.Token, BaseURL: s.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s.AddComment(ref, s.BotLogin(), "deployed\n\n<!-- schemagate:deploy eu west -->")
	other := "deployed\n\n" + CommentMarker("a<b")
	s.AddComment(ref, s.BotLogin(), other)
	for _, env := range []string{"eu west", "a%3Cb"} {
		if _, _, err := forge.Upsert(t.Context(), f, ref, CommentMarker(env), "deployed again to "+env, OldCommentMarkers(env)...); err != nil {
			t.Fatal(err)
		}
	}
	cs := s.Comments(ref)
	if len(cs) != 3 || cs[0].Body != "deployed again to eu west\n\n"+CommentMarker("eu west") || cs[1].Body != other ||
		cs[2].Body != "deployed again to a%3Cb\n\n"+CommentMarker("a%3Cb") {
		t.Errorf("comments %+v; want the earlier version's updated with the new marker, a<b's untouched, one new for a%%3Cb", cs)
	}
}

// TestFileMarkdownStaysWithin1MiB: deploy --report-md wrote the Markdown whole, of any size, where
// check's --report-md stays within 1 MiB and says what it left out, naming the JSON report. Deploy's
// file now does the same: the checks that passed, the notes and the drift go first, then the rows of
// migrations without an error; the failed migration's row and the failed check stay. A result that
// fits is the comment's Markdown as it is.
func TestFileMarkdownStaysWithin1MiB(t *testing.T) {
	t.Parallel()
	small := &Result{Env: "prod", RunID: "r1", Outcome: OutcomeDeployed, OK: true,
		Migrations: []MigrationResult{{Version: "1", Name: "a", Status: StatusApplied}}, Notes: []string{"a note"}}
	if got := small.FileMarkdown("r.json"); got != small.Markdown() {
		t.Errorf("a small result's file Markdown differs from its Markdown:\n%s", got)
	}

	long := strings.Repeat("x", 180)
	res := &Result{Env: "prod", RunID: "r1", Outcome: OutcomeRolledBack, Reason: "9000_" + long + " failed",
		Rollback: &RollbackResult{Method: "down", OK: true}}
	for i := range 9000 {
		m := MigrationResult{Version: strconv.Itoa(i + 1), Name: long, Status: StatusRolledBack}
		if i == 8999 {
			m.Status = StatusFailed
			m.Error = &SQLError{Message: "division by zero", File: "migrations/9000_" + long + ".up.sql", Line: 2, Column: 1, Phase: "up"}
		}
		res.Migrations = append(res.Migrations, m)
		res.Verify = append(res.Verify, Check{Name: "check " + strconv.Itoa(i), OK: i != 3, Phase: "rollback"})
		res.Notes = append(res.Notes, "note "+strconv.Itoa(i))
	}
	if n := len(res.Markdown()); n <= report.MaxSummaryBytes {
		t.Fatalf("the test's result renders in %d bytes, within the limit", n)
	}
	for _, tc := range []struct{ json, pointer string }{
		{"out/report.json", "The full report is the JSON report `out/report.json`."},
		{"", "The full report is the JSON report (--report-json)."},
	} {
		md := res.FileMarkdown(tc.json)
		if len(md) > report.MaxSummaryBytes {
			t.Errorf("file Markdown of %d bytes, over %d", len(md), report.MaxSummaryBytes)
		}
		for _, want := range []string{
			"> [!NOTE]\n> This report is shortened to stay within 1 MiB; left out: the checks that passed, notes, the rows of the migrations past the first ",
			" but those with an error.\n> " + tc.pointer + "\n",
			"`migrations/9000_" + long + ".up.sql:2:1` division by zero", // the failed migration's row
			"more migrations left out* |",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("file Markdown (JSON report %q) lacks %q; it ends:\n%s", tc.json, want, md[max(0, len(md)-2000):])
			}
		}
		if !strings.Contains(md, "| check 3 | rollback | ❌ |") || strings.Contains(md, "check 4") || strings.Contains(md, "note 1") {
			t.Errorf("file Markdown does not keep the failed check alone, without the notes")
		}
	}
}

// bigRollback is a rolled-back deploy of n migrations, the last failed, each with a long name, a check
// per migration of which one failed (check 3), and a note per migration: its Markdown is about n × 210
// characters.
func bigRollback(n int) *Result {
	long := strings.Repeat("x", 180)
	res := &Result{Env: "prod", RunID: "r1", Outcome: OutcomeRolledBack, Reason: strconv.Itoa(n) + "_" + long + " failed",
		JobURL: "https://github.com/acme/shop/actions/runs/7", Rollback: &RollbackResult{Method: "down", OK: true, DurationMS: 1200}}
	for i := range n {
		m := MigrationResult{Version: strconv.Itoa(i + 1), Name: long, Status: StatusRolledBack}
		if i == n-1 {
			m.Status = StatusFailed
			m.Error = &SQLError{Message: "division by zero", File: "migrations/" + strconv.Itoa(n) + "_" + long + ".up.sql", Line: 2, Column: 1, Phase: "up"}
		}
		res.Migrations = append(res.Migrations, m)
		res.Verify = append(res.Verify, Check{Name: "check " + strconv.Itoa(i), OK: i != 3, Phase: "rollback"})
		res.Notes = append(res.Notes, "note "+strconv.Itoa(i))
	}
	return res
}

// TestSummaryAndCommentMarkdownFit: the deploy wrote its whole Markdown to the job summary, which the
// runner drops whole past 1 MiB, and to the comment, which GitHub refuses past 65,536 characters (422).
// Both now stay within what the caller gives them, leave out the same parts as --report-md in the same
// order, and say so, naming where the full report is; the outcome, the reason, the rollback's result,
// the failed migration and the failed check stay. Within the limit, they are the Markdown as it is.
func TestSummaryAndCommentMarkdownFit(t *testing.T) {
	t.Parallel()
	res := bigRollback(9000)
	if n := len(res.Markdown()); n <= report.MaxSummaryBytes {
		t.Fatalf("the test's result renders in %d bytes, within the job summary's limit", n)
	}
	long := strings.Repeat("x", 180)
	kept := []string{
		"### ↩️ schemagate: deploy to prod failed and was rolled back",
		"**Reason:** 9000\\_" + long + " failed",
		"| Rollback | down in 1\\.2s |",
		"`migrations/9000_" + long + ".up.sql:2:1` division by zero",
		"| check 3 | rollback | ❌ |",
		"more migrations left out* |",
	}
	bytes, runes := func(s string) int { return len(s) }, utf8.RuneCountInString
	for _, tc := range []struct {
		name  string
		md    string
		size  func(string) int
		limit int
		notes []string
	}{
		{"job summary", res.SummaryMarkdown(report.MaxSummaryBytes, "out/report.json"), bytes, report.MaxSummaryBytes, []string{
			"> [!NOTE]\n> This summary is shortened to fit the size limit; left out: the checks that passed, notes, the rows of the migrations past the first ",
			" but those with an error.\n> The full report is the JSON report `out/report.json` and the log of the [CI job](https://github.com/acme/shop/actions/runs/7).\n",
		}},
		{"job summary already half full", res.SummaryMarkdown(300_000, ""), bytes, 300_000, []string{
			"> The full report is in the log of the [CI job](https://github.com/acme/shop/actions/runs/7).\n",
		}},
		{"GitHub comment", res.CommentMarkdown(65_000, nil, "out/report.json", true), runes, 65_000, []string{
			"> [!NOTE]\n> This comment is shortened to fit the size limit; left out: the checks that passed, notes, the rows of the migrations past the first ",
			"> The full report is in the [job summary](https://github.com/acme/shop/actions/runs/7) and the JSON report `out/report.json`.\n",
		}},
		{"GitLab note", res.CommentMarkdown(999_000, nil, "", false), runes, 999_000, []string{
			"> The full report is in the log of the [CI job](https://github.com/acme/shop/actions/runs/7).\n",
		}},
	} {
		if n := tc.size(tc.md); n > tc.limit {
			t.Errorf("%s of %d, over its limit of %d", tc.name, n, tc.limit)
		}
		for _, want := range append(kept, tc.notes...) {
			if !strings.Contains(tc.md, want) {
				t.Errorf("%s lacks %q; it ends:\n%s", tc.name, want, tc.md[max(0, len(tc.md)-1500):])
			}
		}
		if strings.Contains(tc.md, "check 4") || strings.Contains(tc.md, "note 1") {
			t.Errorf("%s keeps a check that passed or a note", tc.name)
		}
	}
	if md := res.CommentMarkdown(65_000, nil, "", true); !strings.HasSuffix(md, "\n\n"+CommentMarker("prod")) {
		t.Errorf("the comment does not end with its marker:\n%s", md[max(0, len(md)-300):])
	}

	// A result within the limit is its Markdown, the comment's marker after it.
	small := bigRollback(400) // some 85,000 characters: more than GitHub takes, less than GitLab
	if got := small.CommentMarkdown(999_000, nil, "r.json", false); got != small.Markdown()+"\n\n"+CommentMarker("prod") {
		t.Errorf("a GitLab note within the limit differs from the Markdown")
	}
	if got := small.SummaryMarkdown(report.MaxSummaryBytes, "r.json"); got != small.Markdown() {
		t.Errorf("a job summary within the limit differs from the Markdown")
	}
}

// TestCommentMarkdownKeepsFailedChecksOverRows: the checks that failed go only after every row of a
// migration without an error, and then from the last; what is still too long (a list among the facts)
// is cut as a message is, and last at a line, the headline and the reason first.
func TestCommentMarkdownKeepsFailedChecksOverRows(t *testing.T) {
	t.Parallel()
	res := bigRollback(300)
	res.Verify = nil
	for i := range 60 {
		res.Verify = append(res.Verify, Check{Name: "failed check " + strconv.Itoa(i), Phase: "apply", Message: strings.Repeat("y", 2000)})
	}
	md := res.CommentMarkdown(65_000, nil, "", true)
	if n := utf8.RuneCountInString(md); n > 65_000 {
		t.Fatalf("comment of %d characters", n)
	}
	for _, want := range []string{
		"left out: notes, the rows of the migrations without an error, the checks that failed past the first ",
		"| failed check 0 | apply | ❌ y",
		"division by zero",
		"| … | *299 more migrations left out* | | |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("comment lacks %q:\n%s", want, md[max(0, len(md)-1500):])
		}
	}
	if strings.Contains(md, "| `1_x") || strings.Contains(md, "failed check 59") {
		t.Errorf("comment keeps a row without an error, or every failed check")
	}

	res = bigRollback(3)
	res.Recovered = &Recovery{RunID: "r0"}
	for i := range 20000 {
		res.Recovered.Kept = append(res.Recovered.Kept, strconv.Itoa(i))
	}
	md = res.CommentMarkdown(65_000, nil, "", false)
	if n := utf8.RuneCountInString(md); n > 65_000 {
		t.Fatalf("comment of %d characters", n)
	}
	for _, want := range []string{
		`| Recovered | run r0\: `, " characters in all)* |", // cut as a message
		"| Duration | 0s |", "division by zero",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("comment lacks %q:\n%s", want, md[max(0, len(md)-1500):])
		}
	}

	// Past that, what fits up to a line, the headline and the reason first.
	md = res.CommentMarkdown(3_000, nil, "", false)
	if n := utf8.RuneCountInString(md); n > 3_000 {
		t.Fatalf("comment of %d characters", n)
	}
	// Measured as the forge stores it (GitLab adds a character before a line's slash): a forge that adds
	// one to every line gets a shorter comment than the one that fits as rendered.
	stored := func(s string) string { return strings.ReplaceAll(s, "\n", "\n\u200b") }
	whole := utf8.RuneCountInString(res.CommentMarkdown(1_000_000, nil, "", false))
	if n := utf8.RuneCountInString(stored(res.CommentMarkdown(whole, stored, "", false))); n > whole {
		t.Errorf("comment of %d characters as stored, limit %d", n, whole)
	}
	if !strings.HasPrefix(md, "### ↩️ schemagate: deploy to prod failed and was rolled back\n\n**Reason:**") ||
		!strings.Contains(md, ", the rest of the report.\n> The full report is in the log of the [CI job](") {
		t.Errorf("comment not cut at a line:\n%s", md)
	}
}

// TestReportsPlaceErrorsWithoutALine: an error that has a file but no statement (a verify script whose
// connection was lost before it ran) is placed at the file, in the text and the Markdown report alike,
// not at "file:0:0"; one with a line and no column at file:line.
func TestReportsPlaceErrorsWithoutALine(t *testing.T) {
	t.Parallel()
	res := &Result{Env: "prod", RunID: "run-1", Outcome: OutcomeRolledBack, Reason: "lost",
		Migrations: []MigrationResult{{
			Version: "1", Name: "users", File: "1_users.up.sql", Status: StatusFailed,
			Error:         &SQLError{Message: "connection lost", File: "verify/users.sql", Phase: "verify"},
			RollbackError: &SQLError{Message: "down failed", File: "1_users.down.sql", Line: 3},
		}, {
			Version: "2", Name: "orders", File: "2_orders.up.sql", Status: StatusFailed,
			Error: &SQLError{Message: "no column", File: "2_orders.up.sql", Line: 4},
		}},
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "Markdown": res.Markdown()} {
		if strings.Contains(out, ":0") {
			t.Errorf("the %s report places an error at line or column 0:\n%s", name, out)
		}
		for _, want := range []string{"verify/users.sql", "1_users.down.sql:3", "2_orders.up.sql:4"} {
			if !strings.Contains(out, want) {
				t.Errorf("the %s report lacks %q:\n%s", name, want, out)
			}
		}
	}
}

// TestRenderRollbackTakenOver: a rollback that another deploy's takeover stopped is not run, not FAILED:
// before any down ran ("not run: ..."), and after some had ("down in 3ms, then not run further: ..."),
// whose migrations show rolled back. Both said "FAILED: ...".
func TestRenderRollbackTakenOver(t *testing.T) {
	t.Parallel()
	to := &takenOverError{by: "run r2 of ci-2", how: "recorded this run as recovered in schemagate.schemagate_runs"}
	for _, tc := range []struct {
		name string
		rb   *RollbackResult
		rows []MigrationResult
		want string
	}{
		{"before any down", &RollbackResult{Method: "down", Error: "nothing was rolled back: " + to.Error(), NotRun: takenOverNotRun(to, "")},
			[]MigrationResult{{Version: "1", Name: "a", Status: StatusApplied}, {Version: "2", Name: "b", Status: StatusFailed}},
			"not run: run r2 of ci-2 took the deploy lock while this run had lost its connections to the database server, and recorded this run as recovered in schemagate.schemagate_runs: what this run applied is that deploy's to roll back or keep now"},
		{"after a down", &RollbackResult{Method: "down", DurationMS: 3, Error: "the down of 1_a did not run: " + to.Error(), NotRun: takenOverNotRun(to, "the down of 1_a lost its connection to the database server and was not run again")},
			[]MigrationResult{{Version: "1", Name: "a", Status: StatusApplied}, {Version: "2", Name: "b", Status: StatusRolledBack}, {Version: "3", Name: "c", Status: StatusFailed}},
			"down in 3ms, then not run further: the down of 1_a lost its connection to the database server and was not run again, nor any down or snapshot restore after it: run r2 of ci-2 took the deploy lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantRollbackNotRun(t, &Result{Env: "prod", Outcome: OutcomeFailed, Migrations: tc.rows, Rollback: tc.rb}, tc.want)
		})
	}
}
