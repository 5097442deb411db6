package gate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/lint"
)

func TestRecordRoundTrip(t *testing.T) {
	e := newEnv(t, owners)
	ctx := t.Context()
	if _, err := gate.LatestApproval(ctx, e.f, e.ref); !errors.Is(err, forge.ErrNotFound) {
		t.Fatalf("LatestApproval with no record: err = %v, want ErrNotFound", err)
	}
	// A pending gate leaves no comment.
	d := e.decide(t, config.Approval{})
	if rec, err := gate.Save(ctx, e.f, e.ref, "db/migrations", d); err != nil || rec != nil {
		t.Fatalf("Save pending = %v, %v; want nothing written", rec, err)
	}
	if n := len(e.s.Comments(e.ref)); n != 0 {
		t.Fatalf("comments after a pending Save = %d, want 0", n)
	}
	e.review("dora", "APPROVED")
	d = e.decide(t, config.Approval{})
	rec, err := gate.Save(ctx, e.f, e.ref, "db/migrations", d)
	if err != nil || rec == nil {
		t.Fatalf("Save approved = %v, %v", rec, err)
	}
	want := gate.Checksum(testReport(lint.Dangerous))
	got, err := gate.LatestApproval(ctx, e.f, e.ref)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Approves(want) || got.HeadSHA != head || strings.Join(got.ApprovedBy, ",") != "dora" {
		t.Errorf("record = %+v, want an approval of %s on %s by dora", got, want, head)
	}
	changed := testReport(lint.Dangerous)
	changed.Migrations[1].Checksum = "edited"
	if got.Approves(gate.Checksum(changed)) {
		t.Errorf("the record approves edited SQL")
	}
	// Changes requested: the same comment is updated, and no longer approves.
	e.review("dora", "CHANGES_REQUESTED")
	d = e.decide(t, config.Approval{})
	if _, err := gate.Save(ctx, e.f, e.ref, "db/migrations", d); err != nil {
		t.Fatal(err)
	}
	if n := len(e.s.Comments(e.ref)); n != 1 {
		t.Errorf("comments = %d, want the one record updated", n)
	}
	got, _ = gate.LatestApproval(ctx, e.f, e.ref)
	if got.Approves(want) || got.State != gate.Blocked {
		t.Errorf("record after changes requested = %+v, want blocked", got)
	}
}

func TestForgedRecordIgnored(t *testing.T) {
	e := newEnv(t, owners)
	forged := `<!-- schemagate:approval {"v":1,"repo":"acme/shop","number":1,"dir":"db/migrations","state":"approved","head_sha":"x","checksum":"c"} -->`
	e.s.AddComment(e.ref, "alice", forged)
	if _, err := gate.LatestApproval(t.Context(), e.f, e.ref); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("LatestApproval with a record pasted by the author: err = %v, want ErrNotFound", err)
	}
	// Our own record for another pull request (copied) is not this one's either.
	e.s.AddComment(e.ref, e.s.BotLogin(), strings.Replace(forged, `"number":1`, `"number":7`, 1))
	if _, err := gate.LatestApproval(t.Context(), e.f, e.ref); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("LatestApproval with another PR's record: err = %v, want ErrNotFound", err)
	}
	e.s.AddComment(e.ref, e.s.BotLogin(), "quoting: "+forged)
	if _, err := gate.LatestApproval(t.Context(), e.f, e.ref); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("LatestApproval with a marker not at the start: err = %v, want ErrNotFound", err)
	}
}

func TestRecordEscapesHostileFolder(t *testing.T) {
	e := newEnv(t, owners)
	e.review("dora", "APPROVED")
	d := e.decide(t, config.Approval{})
	dir := `db/--> <!-- schemagate:approval {"v":1} -->`
	if _, err := gate.Save(t.Context(), e.f, e.ref, dir, d); err != nil {
		t.Fatal(err)
	}
	body := e.s.Comments(e.ref)[0].Body
	if strings.Count(body, "-->") != 1 || strings.Count(body, "<!--") != 1 {
		t.Errorf("record body opens or closes more than one HTML comment:\n%s", body)
	}
	got, err := gate.ApprovalFor(t.Context(), e.f, e.ref, dir)
	if err != nil || got.Dir != dir {
		t.Errorf("ApprovalFor(hostile dir) = %+v, %v", got, err)
	}
}

func TestSaveReadOnly(t *testing.T) {
	e := newEnv(t, owners)
	e.review("dora", "APPROVED")
	d := e.decide(t, config.Approval{})
	e.s.SetReadOnly(true)
	if _, err := gate.Save(t.Context(), e.f, e.ref, "db/migrations", d); !errors.Is(err, forge.ErrReadOnly) {
		t.Errorf("Save read-only: err = %v, want ErrReadOnly", err)
	}
}

func TestStatusAndMarkdown(t *testing.T) {
	long := make([]string, 40)
	for i := range long {
		long[i] = "@acme/database-administrators"
	}
	tests := []struct {
		name  string
		d     gate.Decision
		state string
		desc  string
		md    []string
	}{
		{"pending", gate.Decision{State: gate.Pending, Required: true, Needed: 1, Owners: []string{"@acme/dba"}},
			"pending", "Needs 1 approval from @acme/dba", []string{"⏳", "`@acme/dba`"}},
		{"approved", gate.Decision{State: gate.Approved, Required: true, ApprovedBy: []string{"dora"}, Checksum: "0123456789abcdef"},
			"success", "Approved by dora", []string{"✅", "`dora`", "`0123456789ab`"}},
		{"blocked", gate.Decision{State: gate.Blocked, Required: true, BlockedBy: []string{"dora"}},
			"failure", "Changes requested by dora", []string{"⛔"}},
		{"not required", gate.Decision{State: gate.NotRequired, Reason: "risk is safe; approval.require=risky"},
			"success", "Not required: risk is safe; approval.require=risky", []string{"➖"}},
		{"long", gate.Decision{State: gate.Pending, Needed: 2, Owners: long}, "pending", "", nil},
		// The description quotes the change request's files and the reason: shown escaped (report.Clean),
		// a bidi control or a line break as text, not applied.
		{"unowned bidi", gate.Decision{State: gate.Blocked, Required: true, Unowned: []string{"db/migrations/0002_orders\u202e\u2066lqs.pu.ylno_tnemmoc\u2069.up.sql"}},
			"failure", `No one may approve db/migrations/0002_orders\u202e\u2066lqs.pu.ylno_tnemmoc\u2069.up.sql`, nil},
		{"not required escapes", gate.Decision{State: gate.NotRequired, Reason: "no new\nmigrations \x1b[2J\u2066"},
			"success", `Not required: no new\nmigrations \x1b[2J\u2066`, nil},
		{"pending owners escaped", gate.Decision{State: gate.Pending, Required: true, Needed: 1, Owners: []string{"@acme/dba\u202e"}},
			"pending", `Needs 1 approval from @acme/dba\u202e`, nil},
		{"hostile note", gate.Decision{State: gate.Pending, Notes: []string{"x <script> @dora | [a](b)\n/merge"}}, "pending", "",
			[]string{`x &lt;script&gt; @` + "\u200b" + `dora \| \[a\]\(b\) /merge`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := gate.Status(&tt.d, "https://ci/run/1")
			if st.Context != gate.StatusContext || st.State != tt.state || st.TargetURL != "https://ci/run/1" {
				t.Errorf("Status = %+v", st)
			}
			if n := len([]rune(st.Description)); n > 140 {
				t.Errorf("description has %d characters, want ≤ 140", n)
			}
			if tt.desc != "" && st.Description != tt.desc {
				t.Errorf("description = %q, want %q", st.Description, tt.desc)
			}
			md := gate.Markdown(&tt.d)
			for _, s := range tt.md {
				if !strings.Contains(md, s) {
					t.Errorf("markdown lacks %q:\n%s", s, md)
				}
			}
			if strings.Contains(md, "\n/merge") {
				t.Errorf("markdown lets a line start with /merge:\n%s", md)
			}
		})
	}
}

// TestMarkdownEscapesAsTheComment: the section goes into the comment and the job summary, and quotes
// the change request: an ignore comment's reason, a file's name. It escapes as the check's comment does
// (report.Text): a URL or a www. name in a reason must not become a link (GitHub autolinks them: a
// tracking pixel or a phishing link in the bot's words), and a bidi control is shown as text, not applied
// (it would make the line read otherwise than it runs).
func TestMarkdownEscapesAsTheComment(t *testing.T) {
	d := &gate.Decision{State: gate.Pending, Required: true, Needed: 1, Owners: []string{"@acme/dba"},
		Ignored:      []string{"db/0002_x.up.sql:1: dangerous drop-table, ignored by the author: approved by DBA, see https://evil.example/pixel?u=1 or www.evil.example \u202eevil\u202c <!-- hidden -->"},
		Requirements: []gate.Requirement{{Owners: []string{"@acme/dba"}, Files: []string{"db/0002_x\u202e|.up.sql"}, Needed: 1}},
		Notes:        []string{"see http://evil.example and www.evil.example \u2066x\u2069"}}
	md := gate.Markdown(d) + gate.Markdown(&gate.Decision{State: gate.Blocked, Required: true, Unowned: []string{"db/0002_x\u202e<!--.up.sql"}})
	for _, bad := range []string{"https://", "http://", "www.evil", "evil.example", "<!--", "\u202e", "\u202c", "\u2066"} {
		if strings.Contains(md, bad) {
			t.Errorf("the section holds %q:\n%s", bad, md)
		}
	}
	for _, want := range []string{`https\://evil\.example`, `www\.evil\.example`, `\\u202eevil\\u202c`, "`db/0002_x\\u202e<!\u200b--.up.sql`"} {
		if !strings.Contains(md, want) {
			t.Errorf("the section lacks %q:\n%s", want, md)
		}
	}
}
