package report

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const testMarker = "<!-- schemagate:comment dir=db/migrations -->"

func baseReport() *Report {
	return &Report{
		Tool: "schemagate", Version: "test", Dir: "db/migrations", Format: "golang-migrate",
		Base:     "0123456789abcdef0123456789abcdef01234567",
		Database: &Database{Provider: "local", ServerVersion: "15.8"},
		Migrations: []Migration{
			{Version: "001", Name: "users", File: "db/migrations/001_users.up.sql", Status: StatusBase},
		},
	}
}

func safeReport() *Report {
	r := baseReport()
	r.Migrations = append(r.Migrations, Migration{
		Version: "002", Name: "add_orders", File: "db/migrations/002_add_orders.up.sql", New: true,
		Status: StatusApplied, DurationMS: 42, Statements: 2, Roundtrip: &Roundtrip{Status: RoundtripOK},
		Trace: []StatementTrace{{Locks: []Lock{{Relation: "public.users", Mode: "ShareRowExclusiveLock"}}}},
		SchemaDiff: &schema.Diff{Added: []schema.Change{
			{Kind: "table", Name: "public.orders"},
			{Kind: "column", Name: "public.orders.id", Table: "public.orders", Definition: "bigint NOT NULL"},
			{Kind: "column", Name: "public.orders.user_id", Table: "public.orders", Definition: "bigint DEFAULT 0"},
			{Kind: "constraint", Name: "public.orders.orders_user_fk", Table: "public.orders", Definition: "FOREIGN KEY (user_id) REFERENCES users(id)"},
		}},
	})
	r.Approval = &Approval{Required: false, State: "not-required"}
	r.Finish()
	return r
}

func dangerousReport() *Report {
	r := safeReport()
	r.Migrations = append(r.Migrations, Migration{
		Version: "003", Name: "users_email", File: "db/migrations/003_users_email.up.sql", New: true,
		Status: StatusApplied, DurationMS: 1234, Roundtrip: &Roundtrip{Status: RoundtripNoDown},
		Findings: []lint.Finding{
			{Rule: "add-column-volatile-default", Risk: lint.Dangerous, File: "db/migrations/003_users_email.up.sql", Line: 1, Column: 1,
				Message: "adding a column with a volatile default rewrites the table", Lock: "AccessExclusiveLock", Rewrite: true,
				Suggestion: "add the column without a default, then backfill in batches", URL: "https://schemagate.dev/rules/add-column-volatile-default",
				Statement: "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();"},
			{Rule: "create-index-blocking", Risk: lint.Caution, File: "db/migrations/003_users_email.up.sql", Line: 3, Column: 1,
				Message: "CREATE INDEX blocks writes", Lock: "ShareLock", Suggestion: "use CREATE INDEX CONCURRENTLY",
				Statement: "CREATE INDEX users_email_idx ON users (email);"},
			{Rule: "set-not-null", Risk: lint.Caution, File: "db/migrations/003_users_email.up.sql", Line: 5, Column: 1,
				Message: "ignored", Ignored: true, Reason: "table is empty"},
		},
		Trace: []StatementTrace{{Locks: []Lock{{Relation: "public.users", Mode: "AccessExclusiveLock"}}}},
		SchemaDiff: &schema.Diff{
			Added:   []schema.Change{{Kind: "column", Name: "public.users.token", Table: "public.users", Definition: "uuid DEFAULT gen_random_uuid()"}},
			Changed: []schema.Change{{Kind: "column", Name: "public.users.email", Table: "public.users", Properties: []schema.PropertyChange{{Property: "not null", Old: "false", New: "true"}}}},
			Removed: []schema.Change{{Kind: "index", Name: "public.users_old_idx", Table: "public.users"}},
		},
	})
	r.Approval = &Approval{Required: true, State: "pending", Reason: "dangerous migrations need a DBA review", Owners: []string{"@acme/dba"}, Needed: 1}
	r.Finish()
	return r
}

func failedReport() *Report {
	r := baseReport()
	r.Migrations = append(r.Migrations, Migration{
		Version: "002", Name: "broken", File: "db/migrations/002_broken.up.sql", New: true, Status: StatusFailed, DurationMS: 7,
		Error: &SQLError{Message: `relation "userz" does not exist`, SQLState: "42P01", Hint: "check the table name",
			File: "db/migrations/002_broken.up.sql", Line: 4, Column: 13, Phase: "up", Statement: "ALTER TABLE userz ADD COLUMN x int;"},
	})
	r.Finish()
	return r
}

func roundtripReport() *Report {
	r := baseReport()
	r.Migrations = append(r.Migrations, Migration{
		Version: "002", Name: "email_idx", File: "db/migrations/002_email_idx.up.sql", DownFile: "db/migrations/002_email_idx.down.sql",
		New: true, Status: StatusApplied, DurationMS: 15,
		Roundtrip: &Roundtrip{Status: RoundtripFailed, Problems: []string{"index public.users_email_idx is left behind by the down"}},
	})
	r.Finish()
	return r
}

func truncatedReport() *Report {
	r := dangerousReport()
	long := strings.Repeat("UPDATE users SET email = lower(email) WHERE id = 1;\n", 400)
	for i := 0; i < 40; i++ {
		m := r.Migrations[2]
		m.Version = "1" + strings.Repeat("0", 2) + string(rune('0'+i/10)) + string(rune('0'+i%10))
		m.Findings = append([]lint.Finding(nil), m.Findings...)
		for j := range m.Findings {
			m.Findings[j].Statement = long
		}
		r.Migrations = append(r.Migrations, m)
	}
	r.Finish()
	return r
}

const hostileName = "x`````y</details><img src=x onerror=alert(1)>@acme/dba " + testMarker + " -->\n/merge\n/approve"

func hostileReport() *Report {
	r := baseReport()
	r.Dir = "db/migrations"
	stmt := "-- ```` not the end\n````\n</details>\n/merge\n@acme/dba please\n" + testMarker + "\nSELECT 1;"
	r.Migrations = append(r.Migrations, Migration{
		Version: "002|x", Name: hostileName, File: "db/migrations/002_" + hostileName + ".up.sql", New: true, Status: StatusFailed,
		Error: &SQLError{Message: "syntax error at or near \"</details>\" @acme/dba\n/merge", SQLState: "42601",
			Hint: "<script>alert(1)</script> <!-- hidden", File: "db/migrations/002_x.up.sql", Line: 2, Column: 3, Statement: stmt},
		Roundtrip: &Roundtrip{Status: RoundtripFailed, Problems: []string{"/close\n@org/team " + testMarker}},
		Findings: []lint.Finding{{Rule: "x](javascript:alert(1))", Risk: lint.Dangerous, File: "db/migrations/002_x.up.sql", Line: 1, Column: 1,
			Message: "| broken | table |\n/label ~bug", Suggestion: "@everyone </details> <b>bold</b>", Statement: stmt,
			URL: "javascript:alert(1)"}},
		SchemaDiff: &schema.Diff{Added: []schema.Change{
			{Kind: "table", Name: "public.\"weird}{ table\"\n/merge"},
			{Kind: "column", Name: "public.t.c", Table: "public.\"weird}{ table\"\n/merge", Definition: "int } evil {"},
		}},
	})
	r.Notes = []string{"/unapprove", "@acme/dba"}
	r.Approval = &Approval{Required: true, State: "pending", Owners: []string{"@acme/dba", "@alice"}, Reason: "<!-- x -->"}
	r.Finish()
	return r
}

var cases = []struct {
	name string
	r    func() *Report
	opts MarkdownOptions
}{
	{"all-safe", safeReport, MarkdownOptions{}},
	{"dangerous-findings", dangerousReport, MarkdownOptions{}},
	{"failed-migration", failedReport, MarkdownOptions{}},
	{"failed-roundtrip", roundtripReport, MarkdownOptions{}},
	{"truncated", truncatedReport, MarkdownOptions{MaxRunes: 20000}},
	{"hostile", hostileReport, MarkdownOptions{}},
	{"generated-down", generatedDownReport, MarkdownOptions{}},
}

// generatedDownReport has three migrations without downs, each given one by --generate-down: one whose
// down loses data and is verified, one whose down is not verified (a problem, an irreversible step,
// and a script that tries to leave its fence and mention a team), one with nothing to undo.
func generatedDownReport() *Report {
	r := baseReport()
	r.Migrations = append(r.Migrations,
		Migration{Version: "002", Name: "drop_note", File: "db/migrations/002_drop_note.up.sql", New: true, Status: StatusApplied,
			Roundtrip: &Roundtrip{Status: RoundtripNoDown},
			GeneratedDown: &GeneratedDown{Verified: true, DataLoss: true,
				SQL:      "-- DATA LOSS: re-add column users.note (its values are lost: it comes back empty or with its default)\nALTER TABLE users ADD COLUMN note text;\n",
				Warnings: []string{"this down cannot restore data (tables or columns come back empty): roll back from the snapshot instead"}}},
		Migration{Version: "003", Name: "storage", File: "db/migrations/003_storage.up.sql", New: true, Status: StatusApplied,
			Roundtrip: &Roundtrip{Status: RoundtripNoDown},
			GeneratedDown: &GeneratedDown{
				SQL: "-- restore the comment on table users\nCOMMENT ON TABLE users IS '```\n/merge @acme/dba <img src=x>';\n\n" +
					"-- IRREVERSIBLE: not restored: the storage of column users.bio (back to its type's default)\n",
				Problems: []string{"column users.bio has storage main after the down, was default <b>"},
				Warnings: []string{"not restored: the storage of column users.bio (back to its type's default)"}}},
		Migration{Version: "004", Name: "seed", File: "db/migrations/004_seed.up.sql", New: true, Status: StatusApplied,
			Roundtrip:     &Roundtrip{Status: RoundtripNoDown},
			GeneratedDown: &GeneratedDown{Verified: true, Note: "nothing to undo: the migration changes no schema object"}},
	)
	r.Finish()
	return r
}

// TestGeneratedDownScriptsGoFirst: the Markdown report says of each generated down whether it is
// verified and what it loses; where the comment is too long, the scripts go before the schema changes
// and notes, the verdicts stay, and the note says so. A script too long on its own is cut, saying so.
func TestGeneratedDownScriptsGoFirst(t *testing.T) {
	r := generatedDownReport()
	r.Migrations[1].GeneratedDown.SQL += strings.Repeat("-- restore the privileges on users\nGRANT SELECT ON users TO app;\n", 1000)
	full := Markdown(r, MarkdownOptions{Marker: testMarker, MaxRunes: -1})
	if !strings.Contains(full, "the script is cut here: ") || !strings.Contains(full, "<details><summary>Generated down of <code>002 drop_note</code></summary>") {
		t.Fatalf("the long script is not cut, or a script is not shown:\n%s", full)
	}
	max := utf8.RuneCountInString(full) - 100
	md := Markdown(r, MarkdownOptions{Marker: testMarker, MaxRunes: max})
	checkInert(t, md, testMarker)
	if n := utf8.RuneCountInString(md); n > max {
		t.Fatalf("%d runes over the limit %d", n, max)
	}
	for _, want := range []string{"a down was generated, **not verified**", "**DATA LOSS:** re\\-add column users\\.note",
		"left out: the generated downs' scripts."} {
		if !strings.Contains(md, want) {
			t.Errorf("shortened comment lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "ALTER TABLE users ADD COLUMN note text") || strings.Contains(md, "left out: schema changes") {
		t.Errorf("shortened comment kept a script, or left the schema changes out first:\n%s", md)
	}
}

func TestMarkdownGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Marker = testMarker
			opts.SummaryURL = "https://github.com/acme/shop/actions/runs/1"
			opts.RuleURLBase = "https://schemagate.dev/rules/"
			got := Markdown(tc.r(), opts)
			checkInert(t, got, testMarker)
			if strings.Contains(got, "```mermaid") {
				checkMermaid(t, got)
			}
			max := opts.MaxRunes
			if max == 0 {
				max = DefaultMaxRunes
			}
			if n := utf8.RuneCountInString(got); n > max {
				t.Errorf("rendering has %d runes, limit %d", n, max)
			}
			path := filepath.Join("testdata", "golden", tc.name+".md")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("rendering differs from %s (run go test ./internal/report -run TestMarkdownGolden -update):\n%s", path, got)
			}
		})
	}
}

var (
	fenceOpen   = regexp.MustCompile("^(`{3,})([A-Za-z0-9]*)$")
	allowedTag  = regexp.MustCompile(`^</?(details|summary|sub|br|code)>`)
	liveMention = regexp.MustCompile(`(^|[^A-Za-z0-9` + "`" + `])@[A-Za-z0-9]`)
)

// checkInert parses the rendering the way GitHub and GitLab do, at the level that matters: fenced
// blocks, HTML tags and comments, mentions and line starts outside code.
func checkInert(t *testing.T, md, marker string) {
	t.Helper()
	if n := strings.Count(md, marker); n != 1 {
		t.Errorf("marker occurs %d times, want exactly once", n)
	}
	if n := strings.Count(md, "<!--"); n != 1 {
		t.Errorf("%d HTML comment openers, want only the marker's", n)
	}
	if n := strings.Count(md, "-->"); n != 1 {
		t.Errorf("%d HTML comment closers, want only the marker's", n)
	}
	if !strings.HasSuffix(md, marker+"\n") {
		t.Errorf("the marker is not the last line")
	}
	fence := ""
	opens, closes := 0, 0
	for i, line := range strings.Split(md, "\n") {
		if fence != "" {
			if strings.TrimRight(line, " ") == fence {
				fence = ""
			} else if strings.HasPrefix(line, fence) && strings.Trim(line, "`") == "" {
				t.Errorf("line %d: a longer backtick run closes the fence: %q", i+1, line)
			}
			continue
		}
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			fence = m[1]
			continue
		}
		if strings.HasPrefix(strings.TrimLeft(line, " "), "/") {
			t.Errorf("line %d starts with / outside code (GitLab quick action): %q", i+1, line)
		}
		if strings.HasPrefix(line, "    ") && !strings.HasPrefix(strings.TrimLeft(line, " "), "-") {
			t.Errorf("line %d is an indented code block: %q", i+1, line)
		}
		rest := stripCodeSpans(line)
		if liveMention.MatchString(rest) {
			t.Errorf("line %d mentions someone: %q", i+1, line)
		}
		for j := 0; j < len(rest); j++ {
			if rest[j] != '<' {
				continue
			}
			if strings.HasPrefix(rest[j:], marker) {
				continue
			}
			tag := allowedTag.FindString(rest[j:])
			if tag == "" {
				t.Errorf("line %d has raw HTML %q", i+1, rest[j:min(len(rest), j+20)])
				continue
			}
			switch tag {
			case "<details>":
				opens++
			case "</details>":
				closes++
			}
		}
		if strings.Contains(rest, "](javascript:") {
			t.Errorf("line %d links to javascript: %q", i+1, line)
		}
	}
	if fence != "" {
		t.Errorf("fence %q never closed", fence)
	}
	if opens != closes {
		t.Errorf("%d <details> but %d </details>", opens, closes)
	}
}

// liveText is the rendering outside fenced blocks and code spans: what GitHub interprets.
func liveText(md string) string {
	var b strings.Builder
	fence := ""
	for _, line := range strings.Split(md, "\n") {
		if fence != "" {
			if strings.TrimRight(line, " ") == fence {
				fence = ""
			}
			continue
		}
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			fence = m[1]
			continue
		}
		b.WriteString(stripCodeSpans(line) + "\n")
	}
	return b.String()
}

// stripCodeSpans removes inline code spans (matching backtick runs), where nothing is HTML or a mention.
func stripCodeSpans(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '`' || (i > 0 && s[i-1] == '\\') {
			b.WriteByte(s[i])
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		run := s[i : i+n]
		end := -1
		for k := i + n; k < len(s); {
			if s[k] == '`' {
				m := 0
				for k+m < len(s) && s[k+m] == '`' {
					m++
				}
				if m == n {
					end = k
					break
				}
				k += m
				continue
			}
			k++
		}
		if end < 0 {
			b.WriteString(run)
			i += n
			continue
		}
		i = end + n
	}
	return b.String()
}

func TestHostileContentIsInert(t *testing.T) {
	md := Markdown(hostileReport(), MarkdownOptions{Marker: testMarker})
	checkInert(t, md, testMarker)
	// The hostile statement is shown whole inside one fence longer than its own backtick runs.
	if !strings.Contains(md, "`````sql\n-- ```` not the end\n````\n</details>\n/merge") {
		t.Errorf("hostile statement not fenced with a longer run:\n%s", md)
	}
	live := liveText(md)
	for _, bad := range []string{"<script", "<img", "<b>", "(javascript:", "@acme"} {
		if strings.Contains(live, bad) {
			t.Errorf("%q survived outside code", bad)
		}
	}
	if !strings.Contains(md, "@\u200bacme/dba") {
		t.Errorf("mention not defused")
	}
	checkMermaid(t, md)
}

// TestRuleLinksAreTheRules: a finding's rule links to the rule's own page, never to the finding's URL,
// which a forged report (a fork's artifact, posted by schemagate comment and kept by the gate's rewrite)
// chooses: a known rule with a forged URL links its documentation, a rule lint does not know is code.
func TestRuleLinksAreTheRules(t *testing.T) {
	known, ok := lint.Lookup("add-column-volatile-default")
	if !ok {
		t.Fatal("rule add-column-volatile-default unknown")
	}
	r := baseReport()
	r.Migrations = append(r.Migrations, Migration{Version: "002", Name: "orders", File: "db/migrations/002_orders.up.sql", New: true,
		Status: StatusApplied, Findings: []lint.Finding{
			{Rule: "reviewed-by-dba-see-ticket", Risk: lint.Safe, File: "db/migrations/002_orders.up.sql", Line: 1, Column: 1,
				Message: "m", URL: "https://evil.example/sso-login"},
			{Rule: known.ID, Risk: lint.Dangerous, File: "db/migrations/002_orders.up.sql", Line: 2, Column: 1,
				Message: "m", URL: "https://evil.example/" + known.ID},
		}})
	r.Finish()
	for name, md := range map[string]string{
		"comment":     Markdown(r, MarkdownOptions{Marker: testMarker}),
		"job summary": JobSummary(r, MarkdownOptions{Marker: testMarker}),
		"with a base": Markdown(r, MarkdownOptions{Marker: testMarker, RuleURLBase: "https://docs.example/rules/"}),
	} {
		if strings.Contains(md, "evil.example") {
			t.Errorf("%s: a finding's URL is linked:\n%s", name, md)
		}
		if !strings.Contains(md, "`reviewed-by-dba-see-ticket` at ") {
			t.Errorf("%s: an unknown rule is not shown as code:\n%s", name, md)
		}
		want := "[add\\-column\\-volatile\\-default](" + known.URL() + ")"
		if name == "with a base" {
			want = "[add\\-column\\-volatile\\-default](https://docs.example/rules/add-column-volatile-default)"
		}
		if !strings.Contains(md, want) {
			t.Errorf("%s: a known rule does not link its page %s:\n%s", name, want, md)
		}
	}
}

// TestHostileFailOnIsInert: fail_on is a string of the report, which `schemagate comment` reads from an
// artifact its author could have written: in the header it is escaped like any other text of it.
func TestHostileFailOnIsInert(t *testing.T) {
	r := hostileReport()
	r.FailOn = "dangerous) @acme/dba\n\n<!-- schemagate:comment dir=db/other -->\n/merge\n<img src=x>"
	r.OK, r.FailOnReached = true, true
	md := Markdown(r, MarkdownOptions{Marker: testMarker})
	checkInert(t, md, testMarker)
	if !strings.Contains(md, "the risk reaches fail-on dangerous\\) @\u200bacme/dba") {
		t.Errorf("fail_on not shown escaped on the header's line:\n%s", md[:min(len(md), 400)])
	}
}

var mermaidLine = regexp.MustCompile(`^(erDiagram|    [A-Za-z0-9_]+ \{|        [A-Za-z0-9_]+ [A-Za-z0-9_]+ "(added|changed|removed)( from [A-Za-z0-9_ (),.]+)?"|    \}|    [A-Za-z0-9_]+ \}o--\|\| [A-Za-z0-9_]+ : [A-Za-z0-9_]+)$`)

// checkMermaid checks every line of the ER diagram against the small grammar schemagate writes.
func checkMermaid(t *testing.T, md string) {
	t.Helper()
	start := strings.Index(md, "```mermaid\n")
	if start < 0 {
		t.Fatal("no mermaid block")
	}
	body := md[start+len("```mermaid\n"):]
	body = body[:strings.Index(body, "\n```")]
	for _, line := range strings.Split(body, "\n") {
		if !mermaidLine.MatchString(line) {
			t.Errorf("ER diagram line outside the grammar: %q", line)
		}
	}
}

func TestTruncationKeepsSummary(t *testing.T) {
	r := truncatedReport()
	full := Markdown(r, MarkdownOptions{MaxRunes: -1})
	if utf8.RuneCountInString(full) <= DefaultMaxRunes {
		t.Fatalf("test report too small to truncate: %d runes", utf8.RuneCountInString(full))
	}
	md := Markdown(r, MarkdownOptions{Marker: testMarker, SummaryURL: "https://example.test/summary"})
	if n := utf8.RuneCountInString(md); n > DefaultMaxRunes {
		t.Fatalf("%d runes over the limit", n)
	}
	checkInert(t, md, testMarker)
	for _, want := range []string{"| Version | Name |", "shortened to fit", "[job summary](https://example.test/summary)", "DBA approval"} {
		if !strings.Contains(md, want) {
			t.Errorf("truncated comment lacks %q", want)
		}
	}
	// Tiny limit: even the table is cut, the marker survives.
	tiny := Markdown(r, MarkdownOptions{Marker: testMarker, MaxRunes: 3000})
	if n := utf8.RuneCountInString(tiny); n > 3000 {
		t.Errorf("tiny limit: %d runes", n)
	}
	checkInert(t, tiny, testMarker)
}

// TestLongFailureKeepsItsMessage: a failed statement or a server message too long for the comment is
// cut, saying so, rather than taking the failure's message and place out of the comment with it.
func TestLongFailureKeepsItsMessage(t *testing.T) {
	r := failedReport()
	e := r.Migrations[1].Error
	e.Statement = "INSERT INTO t VALUES " + strings.Repeat("(1, 'some seed value'),\n", 4000) + "(2, 'x');"
	e.Detail = strings.Repeat("@acme/dba ", 20000)
	md := Markdown(r, MarkdownOptions{Marker: testMarker})
	checkInert(t, md, testMarker)
	if n := utf8.RuneCountInString(md); n > DefaultMaxRunes {
		t.Fatalf("%d runes over the limit", n)
	}
	for _, want := range []string{"Migration `002 broken` failed", "`db/migrations/002_broken.up.sql:4:13`", "SQLSTATE `42P01`",
		"userz", "**Hint:** check the table name", "INSERT INTO t VALUES (1", "the statement is cut here: 96030 characters in all", "(cut: 200000 characters in all)"} {
		if !strings.Contains(md, want) {
			t.Errorf("comment lacks %q:\n%s", want, md[:min(len(md), 3000)])
		}
	}
	if strings.Contains(md, "shortened to fit") {
		t.Errorf("the comment left something out:\n%s", md[:min(len(md), 3000)])
	}
}

// TestManyIgnoredFindingsFit: the approval section is kept whole, so the findings the author ignored,
// thousands in a seed migration, or one with a reason of any length, are listed up to a bound: the
// comment still fits and keeps the failure.
func TestManyIgnoredFindingsFit(t *testing.T) {
	r := failedReport()
	r.Approval = &Approval{Required: true, State: "pending", Ignored: []string{
		"db/migrations/0002_seed.up.sql:1: dangerous set-not-null, ignored by the author: " + strings.Repeat("because @acme/dba ", 10000)}}
	for i := 2; i < 3000; i++ {
		r.Approval.Ignored = append(r.Approval.Ignored, fmt.Sprintf("db/migrations/0002_seed.up.sql:%d: dangerous add-column-volatile-default, ignored by the author: small table", i))
	}
	md := Markdown(r, MarkdownOptions{Marker: testMarker})
	checkInert(t, md, testMarker)
	if n := utf8.RuneCountInString(md); n > DefaultMaxRunes {
		t.Fatalf("%d runes over the limit", n)
	}
	for _, want := range []string{"Ignored by the author, counted for the approval", "seed\\.up\\.sql\\:20\\:", "(cut: 180081 characters in all)",
		"- … 2979 more (in the full report)", "Migration `002 broken` failed"} {
		if !strings.Contains(md, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	if strings.Contains(md, "seed\\.up\\.sql\\:21\\:") {
		t.Errorf("more ignored findings listed than the bound")
	}
}

func TestJobSummaryBounded(t *testing.T) {
	r := truncatedReport()
	r.Migrations = r.Migrations[:12]
	if utf8.RuneCountInString(Markdown(r, MarkdownOptions{MaxRunes: -1})) <= DefaultMaxRunes {
		t.Fatal("test report fits a comment; make it larger")
	}
	s := JobSummary(r, MarkdownOptions{Marker: testMarker})
	if strings.Contains(s, testMarker) {
		t.Errorf("job summary carries the marker")
	}
	if len(s) > MaxSummaryBytes {
		t.Errorf("job summary %d bytes", len(s))
	}
	if !strings.Contains(s, "UPDATE users SET email") {
		t.Errorf("job summary should keep the statements that the comment drops")
	}
}

func TestAnnotationsMostSevereFirst(t *testing.T) {
	r := dangerousReport()
	r.Migrations = append(r.Migrations, failedReport().Migrations[1], roundtripReport().Migrations[1])
	as := Annotations(r)
	if len(as) != 4 {
		t.Fatalf("got %d annotations, want 4 (ignored finding left out): %+v", len(as), as)
	}
	wantLevels := []string{LevelError, LevelError, LevelError, LevelWarning}
	for i, a := range as {
		if a.Level != wantLevels[i] {
			t.Errorf("annotation %d level %s, want %s (%+v)", i, a.Level, wantLevels[i], a)
		}
	}
	fail := as[0]
	if fail.File != "db/migrations/002_broken.up.sql" || fail.Line != 4 || fail.Col != 13 || !strings.Contains(fail.Message, "42P01") {
		t.Errorf("failed migration annotation = %+v", fail)
	}
}

func TestEscapers(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"code with backticks", Code("a``b"), "```a``b```"},
		{"code with pipe in a cell", CodeCell("a|b"), "`a\\|b`"},
		{"code with pipe elsewhere", Code("a|b"), "`a|b`"},
		{"text leading slash", Text("/merge now"), `\/merge now`},
		{"text html", Text("<b>&"), "&lt;b&gt;&amp;"},
		{"text mention", Text("hi @bob"), "hi @\u200bbob"},
		{"fence", Fence("a\n```\nb", "sql"), "````sql\na\n```\nb\n````\n"},
		{"mermaid", MermaidID("public.\"x y\"}"), "public__x_y__"},
		{"marker", Marker("db/mig -->"), "<!-- schemagate:comment dir=db/mig%20%2D%2D%3E -->"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// TestMarkerOnePerFolder: two folders never share a marker (db/app-migrations and db/app_migrations
// shared one, and one folder's report overwrote the other's); a folder whose marker was already its own
// keeps it, so its comments of earlier versions are still found; the others name that marker as old.
func TestMarkerOnePerFolder(t *testing.T) {
	dirs := []string{"", "db/migrations", "db/app-migrations", "db/app_migrations", "db/app migrations", "db/app%2Dmigrations",
		"db/app%5Fmigrations", "db/app.migrations", "db/appémigrations", "db/app€migrations", "db/APP_MIGRATIONS", "db/mig -->", "db/mig--!>"}
	seen := map[string]string{}
	for _, d := range dirs {
		m := Marker(d)
		if prev, ok := seen[m]; ok {
			t.Errorf("%q and %q share the marker %s", prev, d, m)
		}
		seen[m] = d
		if d, ok := strings.CutPrefix(strings.TrimSuffix(m, " -->"), "<!-- schemagate:comment dir="); !ok || strings.ContainsAny(d, "-<>!_ ") {
			t.Errorf("Marker(%q) = %s: its text could end or confuse the HTML comment", d, m)
		}
	}
	for _, tc := range []struct {
		dir, marker string
		old         []string
	}{
		{"db/migrations", "<!-- schemagate:comment dir=db/migrations -->", nil},
		{"", "<!-- schemagate:comment dir=. -->", nil},
		{"db/V1.2/sql", "<!-- schemagate:comment dir=db/V1.2/sql -->", nil},
		{"db/app-migrations", "<!-- schemagate:comment dir=db/app%2Dmigrations -->", []string{"<!-- schemagate:comment dir=db/app_migrations -->"}},
		{"db/app_migrations", "<!-- schemagate:comment dir=db/app%5Fmigrations -->", []string{"<!-- schemagate:comment dir=db/app_migrations -->"}},
		{"db/é", "<!-- schemagate:comment dir=db/%C3%A9 -->", []string{"<!-- schemagate:comment dir=db/_ -->"}},
	} {
		if got := Marker(tc.dir); got != tc.marker {
			t.Errorf("Marker(%q) = %s, want %s", tc.dir, got, tc.marker)
		}
		if got := OldMarkers(tc.dir); !slices.Equal(got, tc.old) {
			t.Errorf("OldMarkers(%q) = %q, want %q", tc.dir, got, tc.old)
		}
	}
	// An old marker is never a marker of today's: a comment that holds one was written by an earlier version.
	for _, d := range dirs {
		for _, old := range OldMarkers(d) {
			if prev, ok := seen[old]; ok {
				t.Errorf("old marker of %q is the marker of %q: %s", d, prev, old)
			}
		}
	}
}

// TestERDiagramColumnsOfNewTables: a table the migration adds shows its columns, which the diff keeps in
// the table's definition rather than as changes of their own; commas inside types, defaults and quoted
// names do not split a column.
func TestERDiagramColumnsOfNewTables(t *testing.T) {
	def := `(id bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "odd, name" numeric(10,2) DEFAULT 'a, b', note text COLLATE "C" DEFAULT 'it''s')`
	got := tableColumns(def)
	want := [][2]string{{"id", "bigint GENERATED ALWAYS AS IDENTITY NOT NULL"}, {"odd, name", "numeric(10,2) DEFAULT 'a, b'"}, {"note", `text COLLATE "C" DEFAULT 'it''s'`}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tableColumns:\n got %q\nwant %q", got, want)
	}
	r := &Report{Migrations: []Migration{{Version: "1", Name: "users", New: true, Status: StatusApplied,
		SchemaDiff: &schema.Diff{Added: []schema.Change{{Kind: "table", Name: "public.users", Definition: def}}}}}}
	md := Markdown(r, MarkdownOptions{})
	for _, line := range []string{`        bigint id "added"`, `        numeric_10_2_ odd__name "added"`, `        text note "added"`} {
		if !strings.Contains(md, line+"\n") {
			t.Errorf("ER diagram lacks %q:\n%s", line, md)
		}
	}
	checkMermaid(t, md)
}

// TestERDiagramChangedColumnType: a column whose type changed was drawn as `column v "changed"`, its type
// lost; it shows its new type and says which it had, in text the diagram's grammar takes (quotes in a
// type name too).
func TestERDiagramChangedColumnType(t *testing.T) {
	r := &Report{Migrations: []Migration{{Version: "2", Name: "widen", New: true, Status: StatusApplied,
		SchemaDiff: &schema.Diff{Changed: []schema.Change{
			{Kind: "column", Name: "public.t.v", Table: "public.t", Properties: []schema.PropertyChange{{Property: "type", Old: "character varying(20)", New: "text"}}},
			{Kind: "column", Name: "public.t.k", Table: "public.t", Properties: []schema.PropertyChange{{Property: "type", Old: `"MyEnum"`, New: "integer"}, {Property: "not null", Old: "false", New: "true"}}},
			{Kind: "column", Name: "public.t.n", Table: "public.t", Properties: []schema.PropertyChange{{Property: "not null", Old: "false", New: "true"}}},
		}}}}}
	md := Markdown(r, MarkdownOptions{})
	for _, line := range []string{`        text v "changed from character varying(20)"`, `        integer k "changed from _MyEnum_"`, `        column n "changed"`} {
		if !strings.Contains(md, line+"\n") {
			t.Errorf("ER diagram lacks %q:\n%s", line, md)
		}
	}
	checkMermaid(t, md)
}

// TestShortenedSummaryPointsAtTheReport: a shortened job summary cannot send the reader to the job
// summary; it names the JSON report, the only fuller rendering.
func TestShortenedSummaryPointsAtTheReport(t *testing.T) {
	md := assemble(nil, []string{"ER diagram"}, MarkdownOptions{to: toSummary, Artifact: "schemagate-report.json"})
	if strings.Contains(md, "job summary") || strings.Contains(md, "This comment") ||
		!strings.Contains(md, "This summary is shortened") || !strings.Contains(md, "The full report is the JSON report `schemagate-report.json`") {
		t.Errorf("shortened summary note:\n%s", md)
	}
	md = assemble(nil, []string{"ER diagram"}, MarkdownOptions{Artifact: "schemagate-report.json"})
	if !strings.Contains(md, "This comment is shortened") || !strings.Contains(md, "The full report is in the job summary and the report file `schemagate-report.json`") {
		t.Errorf("shortened comment note:\n%s", md)
	}
}

// TestShortenedNoteOnGitLab: GitLab has no job summary: a note links the pipeline, whose check job's
// artifacts hold the report, and a shortened one points there.
func TestShortenedNoteOnGitLab(t *testing.T) {
	const pipeline, job = "https://gitlab.example.com/acme/shop/-/pipelines/5", "https://gitlab.example.com/acme/shop/-/jobs/99"
	md := Markdown(truncatedReport(), MarkdownOptions{Marker: testMarker, PipelineURL: pipeline, JobURL: job, Artifact: "schemagate-report.json"})
	checkInert(t, md, testMarker)
	if strings.Contains(md, "job summary") {
		t.Errorf("a GitLab note names a job summary:\n%s", md[max(0, len(md)-800):])
	}
	for _, want := range []string{"This comment is shortened",
		"The full report is the report file `schemagate-report.json` among the check job's artifacts in the [pipeline](" + pipeline + ").",
		"<sub>schemagate · [pipeline](" + pipeline + ") · [job log](" + job + ")</sub>"} {
		if !strings.Contains(md, want) {
			t.Errorf("note lacks %q:\n%s", want, md[max(0, len(md)-800):])
		}
	}
}

// TestNoRawControlCharacters: escape sequences (ESC, the C1 CSI), carriage returns and bidi controls
// from file names, SQL and server messages never reach the Markdown raw, in a <summary> line, a fenced
// statement or a table: raw, they colour or hide text in a terminal or the Actions log viewer, or make
// a file name read otherwise than it is (Trojan Source).
func TestNoRawControlCharacters(t *testing.T) {
	const evil = "\x1b[31mRED\x1b[0m\u009b2J\r::error::x\u202eevil\ufeff"
	r := hostileReport()
	m := &r.Migrations[len(r.Migrations)-1]
	m.Name += evil
	m.File = "db/migrations/002_" + evil + ".up.sql"
	m.Error.Message += evil
	m.Error.Hint += evil
	m.Error.File = m.File
	m.Error.Statement = "select * from \"nope" + evil + "\";\n\tselect 2;"
	m.Roundtrip.Problems = append(m.Roundtrip.Problems, "index "+evil+" is left behind")
	m.Findings[0].File = m.File
	m.Findings[0].Message += evil
	m.Findings[0].Statement = m.Error.Statement
	m.Findings[0].Suggestion += evil
	r.Notes = append(r.Notes, evil)
	r.Finish()
	md := Markdown(r, MarkdownOptions{Marker: testMarker})
	for _, bad := range []string{"\x1b", "\u009b", "\r", "\u202e", "\ufeff"} {
		if i := strings.Index(md, bad); i >= 0 {
			lo := max(0, i-60)
			t.Errorf("raw %q in the Markdown: …%q…", bad, md[lo:min(len(md), i+20)])
		}
	}
	// The statement keeps its layout: the tab and the line break stay inside the fence.
	if !strings.Contains(md, "\";\n\tselect 2;") {
		t.Errorf("fenced statement lost its line break or tab:\n%s", md)
	}
}

// TestMarkdownHeaderCountsTheChange: the header counts what the change adds, edits and deletes apart,
// as the progress line does: an edited or deleted migration of the base is not a new one.
func TestMarkdownHeaderCountsTheChange(t *testing.T) {
	edit := &SQLError{Message: "edited after the base applied it", Phase: "edit"}
	r := &Report{Tool: "schemagate", Migrations: []Migration{
		{Version: "1", Name: "a", Status: StatusBase},
		{Version: "2", Name: "b", New: true, Status: StatusFailed, Error: edit, Findings: []lint.Finding{{Rule: "edited-applied-migration"}}},
		{Version: "3", Name: "c", New: true, Status: StatusApplied, Findings: []lint.Finding{{Rule: "edited-applied-migration"}}}, // its down alone
		{Version: "4", Name: "d", New: true, Status: StatusApplied},
		{Version: "5", Name: "e", New: true, Status: StatusFailed, Error: edit, Findings: []lint.Finding{{Rule: "deleted-applied-migration"}}},
	}}
	if md := Markdown(r, MarkdownOptions{}); !strings.Contains(md, "\n1 new migration, 2 edited, 1 deleted\n") {
		t.Errorf("header does not count the change apart:\n%s", md)
	}
	r.Migrations = r.Migrations[3:4]
	if md := Markdown(r, MarkdownOptions{}); !strings.Contains(md, "\n1 new migration\n") {
		t.Errorf("header of a change that only adds:\n%s", md)
	}
}

// TestShortenedCommentDropsTheERDiagramFirst: past the size limit the ER diagram is the first section
// left out, as the documentation says, and the notes (what the run did not rehearse, a base that does
// not apply, a rehearsal canceled part way) stay while the diagram's room is enough.
func TestShortenedCommentDropsTheERDiagramFirst(t *testing.T) {
	r := safeReport()
	var added []schema.Change
	for i := range 60 {
		added = append(added, schema.Change{Kind: "table", Name: fmt.Sprintf("public.table_%02d", i),
			Definition: "(id bigint NOT NULL, name text, created_at timestamp with time zone DEFAULT now())"})
	}
	r.Migrations[1].SchemaDiff = &schema.Diff{Added: added}
	r.Notes = []string{"history migration 001 fails: the base itself does not apply"}
	full := Markdown(r, MarkdownOptions{MaxRunes: -1})
	if !strings.Contains(full, "erDiagram") || !strings.Contains(full, "the base itself does not apply") {
		t.Fatalf("the full rendering lacks the diagram or the note:\n%s", full)
	}
	md := Markdown(r, MarkdownOptions{MaxRunes: utf8.RuneCountInString(full) - 100})
	if strings.Contains(md, "erDiagram") {
		t.Errorf("the ER diagram is kept:\n%s", md)
	}
	if !strings.Contains(md, "the base itself does not apply") {
		t.Errorf("the notes are dropped while the ER diagram alone makes room:\n%s", md)
	}
	if !strings.Contains(md, "left out: ER diagram.") {
		t.Errorf("the note does not say the ER diagram was left out:\n%s", md)
	}
}

// TestMarkdownFileIsNoComment: the Markdown report written to a file (check --report-md) has no
// comment's size limit, and when it is shortened all the same (past 1 MiB) it says so as a file: no
// "comment", no job summary to look at, the JSON report as the full one.
func TestMarkdownFileIsNoComment(t *testing.T) {
	r := truncatedReport()
	r.Migrations = r.Migrations[:12]
	if utf8.RuneCountInString(Markdown(r, MarkdownOptions{MaxRunes: -1})) <= DefaultMaxRunes {
		t.Fatal("test report fits a comment; make it larger")
	}
	md := FileMarkdown(r, MarkdownOptions{Artifact: "report.json"})
	if strings.Contains(md, "shortened") || !strings.Contains(md, "UPDATE users SET email") {
		t.Errorf("a file is cut at a comment's size:\n%s", md[max(0, len(md)-800):])
	}
	big := truncatedReport()
	long := strings.Repeat("UPDATE users SET email = lower(email) WHERE id = 1;\n", 4000)
	for i := range big.Migrations {
		for j := range big.Migrations[i].Findings {
			big.Migrations[i].Findings[j].Statement = long
		}
	}
	for _, artifact := range []string{"report.json", ""} {
		md = FileMarkdown(big, MarkdownOptions{Artifact: artifact})
		if len(md) > MaxSummaryBytes {
			t.Errorf("file report of %d bytes", len(md))
		}
		tail := md[max(0, len(md)-800):]
		if !strings.Contains(md, "This report is shortened") || strings.Contains(md, "This comment") || strings.Contains(md, "job summary") {
			t.Errorf("shortened file's note:\n%s", tail)
		}
		want := "The full report is the JSON report `report.json`."
		if artifact == "" {
			want = "The full report is the JSON report (--report-json)."
		}
		if !strings.Contains(md, want) {
			t.Errorf("shortened file's note lacks %q:\n%s", want, tail)
		}
	}
}

// TestAnnotationsRoundtripPlaces: a round trip's problem with a place is annotated there, one without
// at the down file's first line.
func TestAnnotationsRoundtripPlaces(t *testing.T) {
	r := &Report{Migrations: []Migration{{Version: "2", File: "db/2_x.up.sql", DownFile: "db/2_x.down.sql", New: true, Status: StatusApplied,
		Roundtrip: &Roundtrip{Status: RoundtripFailed, Problems: []string{"role r is left behind by the down", "index i is left behind by the down"},
			Places: []ProblemPlace{{Problem: 1, File: "db/2_x.up.sql", Line: 4, Column: 3}}}}}}
	got := map[string]string{}
	for _, a := range Annotations(r) {
		got[a.Message] = fmt.Sprintf("%s:%d:%d", a.File, a.Line, a.Col)
	}
	if got["role r is left behind by the down"] != "db/2_x.down.sql:1:1" || got["index i is left behind by the down"] != "db/2_x.up.sql:4:3" {
		t.Errorf("annotations at %v", got)
	}
	md := Markdown(r, MarkdownOptions{})
	if !strings.Contains(md, "- index i is left behind by the down (`db/2_x.up.sql:4:3`)\n") || !strings.Contains(md, "- role r is left behind by the down\n") {
		t.Errorf("the comment does not place the problems:\n%s", md)
	}
	// A failed re-up: its problem, the last, is placed at the error, which the annotation and the
	// comment's error line show once.
	rt := r.Migrations[0].Roundtrip
	rt.Problems = append(rt.Problems, "the up fails when run again after the down: relation \"i\" already exists")
	rt.Places = append(rt.Places, ProblemPlace{Problem: 2, File: "db/2_x.up.sql", Line: 4, Column: 1})
	rt.Error = &SQLError{Message: `relation "i" already exists`, SQLState: "42P07", File: "db/2_x.up.sql", Line: 4, Column: 1, Phase: "re-up"}
	n := 0
	for _, a := range Annotations(r) {
		if a.File == "db/2_x.up.sql" && a.Line == 4 && a.Col == 1 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d annotations at the failed statement, want 1: %+v", n, Annotations(r))
	}
	md = Markdown(r, MarkdownOptions{})
	if !strings.Contains(md, "- the up fails when run again after the down\\: relation &quot;i&quot; already exists\n") || strings.Count(md, "db/2_x.up.sql:4:1") != 1 {
		t.Errorf("the comment places the failed statement other than once, at its error:\n%s", md)
	}
}

// TestForgedReportFits: schemagate comment posts an artifact its author could have written, and a
// comment longer than the forge takes is refused (GitHub: 422), which leaves the previous comment in
// place. Whatever the report holds, the rendering fits MaxRunes: the fields of the parts never left out
// are bounded after escaping (a bidi control is seven runes escaped, so a bound on the raw text let 25
// ignored findings of 500 U+202E take 87,500), and when even those parts do not fit, the comment says
// the report is too large and where it is.
func TestForgedReportFits(t *testing.T) {
	const limit = 65000
	bidi := func(n int) string { return strings.Repeat("\u202e", n) }
	opts := MarkdownOptions{Marker: testMarker, SummaryURL: "https://github.com/acme/shop/actions/runs/1", Artifact: "schemagate-report.json", MaxRunes: limit}
	for _, tt := range []struct {
		name  string
		edit  func(r *Report)
		opts  func(o *MarkdownOptions)
		want  []string
		whole bool // the report is shown, not the too-large note
	}{
		{name: "bidi reason and ignored findings", edit: func(r *Report) {
			r.Approval = &Approval{Required: true, State: "pending", Reason: bidi(2000)}
			for range 25 {
				r.Approval.Ignored = append(r.Approval.Ignored, bidi(500))
			}
		}, want: []string{"(cut: 2000 characters in all)", "(cut: 500 characters in all)", "- … 5 more (in the full report)"}, whole: true},
		{name: "a 70,000-character format", edit: func(r *Report) { r.Format = strings.Repeat("x", 70000) },
			want: []string{"format `" + strings.Repeat("x", 198) + "` … *(cut: 70000 characters in all)*"}, whole: true},
		{name: "long header fields", edit: func(r *Report) {
			r.Dir, r.FailOn, r.FailOnReached = bidi(70000), bidi(70000), true
			r.Database = &Database{ServerVersion: bidi(70000), Provider: strings.Repeat("<", 70000)}
			r.Migrations[1].Name = bidi(70000)
		}, want: []string{"(cut: 70000 characters in all)"}, whole: true},
		{name: "kept parts larger than the limit", edit: func(r *Report) {
			r.Approval = &Approval{Required: true, State: "pending", Reason: bidi(2000)}
		}, opts: func(o *MarkdownOptions) { o.MaxRunes = 1000 },
			want: []string{"The report is too large to show in this comment, even shortened.", "[job summary](https://github.com/acme/shop/actions/runs/1)", "`schemagate-report.json`"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := failedReport()
			tt.edit(r)
			o := opts
			if tt.opts != nil {
				tt.opts(&o)
			}
			md := Markdown(r, o)
			checkInert(t, md, testMarker)
			if n := utf8.RuneCountInString(md); n > o.MaxRunes {
				t.Fatalf("%d runes, over the limit of %d", n, o.MaxRunes)
			}
			if strings.ContainsFunc(md, isBidi) {
				t.Errorf("a raw bidi control in the comment")
			}
			for _, want := range tt.want {
				if !strings.Contains(md, want) {
					t.Errorf("the comment lacks %q:\n%s", want, md[:min(len(md), 4000)])
				}
			}
			if tt.whole && (strings.Contains(md, "too large") || r.Approval != nil && !strings.Contains(md, "### DBA approval")) {
				t.Errorf("the report is not shown:\n%s", md[:min(len(md), 4000)])
			}
		})
	}
}
