package gate_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/gate"
)

// TestMarkdownUnchangedWithinItsBounds: a decision whose lists are short renders as it always has, with
// or without a room to fit in.
func TestMarkdownUnchangedWithinItsBounds(t *testing.T) {
	tests := []struct {
		name string
		d    gate.Decision
		want string
	}{
		{name: "pending", d: gate.Decision{State: gate.Pending, Required: true, Needed: 1, Owners: []string{"@acme/dba", "dora"},
			Requirements: []gate.Requirement{
				{Owners: []string{"@acme/dba"}, Files: []string{"db/migrations/002_a.up.sql", "db/migrations/003_b.up.sql"}, Needed: 1},
				{Section: "DBA", Owners: []string{"dora", "@acme/leads"}, Files: []string{"db/migrations/004_c.up.sql"}, Needed: 2, ApprovedBy: []string{"erin"}},
			},
			Ignored:  []string{"db/migrations/002_a.up.sql:1: dangerous drop-table, ignored by the author: archived"},
			Notes:    []string{"Codertocat opened the change; an author's own approval does not count", "erin approved but owns none of the migration files"},
			Checksum: "0123456789abcdef0123"},
			want: "### ⏳ DBA approval: pending\n\nWaiting for 1 approval from `@acme/dba`, `dora`.\n\n| Owners | Files | Approved |\n|---|---|---|\n" +
				"| `@acme/dba` | `db/migrations/002_a.up.sql`, `db/migrations/003_b.up.sql` | 0 of 1 |\n| DBA: `dora`, `@acme/leads` | `db/migrations/004_c.up.sql` | 1 of 2 (`erin`) |\n\n" +
				"Ignored by the author, counted for the approval:\n\n- db/migrations/002\\_a\\.up\\.sql\\:1\\: dangerous drop\\-table, ignored by the author\\: archived\n\n" +
				"- Codertocat opened the change; an author's own approval does not count\n- erin approved but owns none of the migration files\n\n" +
				"<sub>Approval applies to migrations checksum `0123456789ab`; any change to their SQL needs a new approval.</sub>\n"},
		{name: "unowned", d: gate.Decision{State: gate.Blocked, Required: true, Unowned: []string{"db/x.sql", "db/y.sql"}},
			want: "### ⛔ DBA approval: blocked\n\nNobody may approve `db/x.sql`, `db/y.sql`: add a CODEOWNERS rule on the base branch or set `approval.dba_users`.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gate.Markdown(&tt.d); got != tt.want {
				t.Errorf("Markdown =\n%q\nwant\n%q", got, tt.want)
			}
			if got := gate.MarkdownUpTo(&tt.d, 1<<20); got != tt.want {
				t.Errorf("MarkdownUpTo =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestMarkdownBoundsItsLists: a change of thousands of migration files lists 20 files a row (and of the
// files nobody may approve) and 50 notes (one a file past the gate's read-back limit), each list saying
// how many it left out: the job summary has the runner's 1 MiB, and the comment quotes none of it.
func TestMarkdownBoundsItsLists(t *testing.T) {
	const n = 2300
	var files, notes []string
	for i := range n {
		f := fmt.Sprintf("db/migrations/%04d_%s.up.sql", i, strings.Repeat("|", 230))
		files = append(files, f)
		notes = append(notes, f+": the gate reads back at most 100 migration files to check them; counted as dangerous")
	}
	d := &gate.Decision{State: gate.Pending, Required: true, Needed: 1, Owners: []string{"@dora"},
		Requirements: []gate.Requirement{{Owners: []string{"@dora"}, Files: files, Needed: 1}}, Notes: notes, Checksum: "0123456789abcdef"}
	md := gate.Markdown(d)
	if len(md) > 200_000 {
		t.Errorf("the section is %d bytes", len(md))
	}
	var row string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| `@dora` |") {
			row = l
		}
	}
	if got := strings.Count(row, "db/migrations/"); got != 20 {
		t.Errorf("the row lists %d files, want 20:\n%.300s", got, row)
	}
	if !strings.Contains(row, ", … and 2280 more files |") {
		t.Errorf("the row does not say how many files it leaves out:\n%.300s…%s", row, row[max(0, len(row)-300):])
	}
	if unescaped := strings.Count(row, "|") - strings.Count(row, `\|`); unescaped != 4 {
		t.Errorf("the row has %d cell separators, want 4 (3 cells)", unescaped)
	}
	if got := strings.Count(md, "counted as dangerous"); got != 50 {
		t.Errorf("%d notes listed, want 50", got)
	}
	if !strings.Contains(md, "\n- … and 2250 more notes (the gate's output lists them all)\n") {
		t.Errorf("no count of the notes left out:\n%s", md[max(0, len(md)-1000):])
	}
	blocked := gate.Markdown(&gate.Decision{State: gate.Blocked, Required: true, Unowned: files})
	if got := strings.Count(blocked, "db/migrations/"); got != 20 || !strings.Contains(blocked, ", … and 2280 more files: add a CODEOWNERS rule") {
		t.Errorf("the files nobody may approve: %d listed, want 20 and a count of the rest:\n%.300s", got, blocked)
	}
}

// TestMarkdownUpToFitsTheRoom: with many owner rules, each with long file names, the section keeps to
// the room it is given (what the job summary has left) by leaving out the table's last rows and then
// the last notes, saying so, and still ends with the checksum the approval applies to.
func TestMarkdownUpToFitsTheRoom(t *testing.T) {
	d := &gate.Decision{State: gate.Pending, Required: true, Needed: 3, Owners: []string{"@a"}, Checksum: "0123456789abcdef"}
	for r := range 200 {
		req := gate.Requirement{Owners: []string{fmt.Sprintf("@team%d", r)}, Needed: 1}
		for i := range 30 {
			req.Files = append(req.Files, fmt.Sprintf("db/%d/%04d_%s.sql", r, i, strings.Repeat("x", 400)))
		}
		d.Requirements = append(d.Requirements, req)
		d.Notes = append(d.Notes, fmt.Sprintf("note %d %s", r, strings.Repeat("n", 900)))
	}
	full := gate.Markdown(d)
	for _, room := range []int{len(full), 1 << 20, 100_000, 20_000} {
		md := gate.MarkdownUpTo(d, room)
		if len(md) > room {
			t.Errorf("room %d: the section is %d bytes", room, len(md))
		}
		if room >= len(full) {
			if md != full {
				t.Errorf("room %d: the section is not the whole one", room)
			}
			continue
		}
		if !strings.HasSuffix(md, "needs a new approval.</sub>\n") || !strings.Contains(md, "- note 0 ") {
			t.Errorf("room %d: the section lost its first note or its checksum line:\n%s", room, md[max(0, len(md)-500):])
		}
		if room >= 100_000 && !strings.Contains(md, "| `@team0` | `db/0/0000_") {
			t.Errorf("room %d: the section lost its table's first row:\n%.1000s", room, md)
		}
		if !regexp.MustCompile(`\n- … and \d+ more notes \(the gate's output lists them all\)\n`).MatchString(md) {
			t.Errorf("room %d: no count of the notes left out:\n%s", room, md[max(0, len(md)-500):])
		}
		if !strings.Contains(md, " more owner rules (the gate's --json output lists them all)\n") {
			t.Errorf("room %d: no count of the rows left out:\n%s", room, md[max(0, len(md)-500):])
		}
	}
}
