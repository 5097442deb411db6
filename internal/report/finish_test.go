package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
)

// TestFinishEmptyFindings: a migration without findings has "findings": [] in the JSON, never null.
func TestFinishEmptyFindings(t *testing.T) {
	r := &Report{Migrations: []Migration{{Version: "1", New: true, Status: StatusApplied}}}
	r.Finish()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"findings":[]`) {
		t.Errorf("JSON %s, want \"findings\":[]", b)
	}
}

// TestIgnoredFindingsCountForTheApproval: an ignore comment silences a finding for Risk (what --fail-on
// judges) but not for ApprovalRisk, and the DBA is told what was ignored and why; a report read from
// JSON written without approval_risk is judged the same.
func TestIgnoredFindingsCountForTheApproval(t *testing.T) {
	r := &Report{Migrations: []Migration{{Version: "2", New: true, Status: StatusApplied, Findings: []lint.Finding{
		{Rule: "alter-system", Risk: lint.Dangerous, File: "migrations/2_x.up.sql", Line: 2, Ignored: true, Reason: "tuning needed"},
		{Rule: "prefer-text", Risk: lint.Safe, File: "migrations/2_x.up.sql", Line: 3, Ignored: true, Reason: "fine"},
	}}}}
	r.Finish()
	if r.Risk != lint.Safe || r.ApprovalRisk != lint.Dangerous || r.RiskForApproval() != lint.Dangerous {
		t.Errorf("risk %s, approval risk %s (%s), want safe and dangerous", r.Risk, r.ApprovalRisk, r.RiskForApproval())
	}
	ig := r.IgnoredFindings()
	if len(ig) != 1 || ig[0] != "migrations/2_x.up.sql:2: dangerous alter-system, ignored by the author: tuning needed" {
		t.Errorf("ignored findings %q", ig)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"risk":"safe","approval_risk":"dangerous"`) {
		t.Errorf("JSON %s lacks risk safe and approval_risk dangerous", b)
	}
	old := strings.Replace(string(b), `"approval_risk":"dangerous",`, "", 1)
	var back Report
	if err := json.Unmarshal([]byte(old), &back); err != nil {
		t.Fatal(err)
	}
	if back.RiskForApproval() != lint.Dangerous {
		t.Errorf("a report without approval_risk: risk for the approval %s, want dangerous", back.RiskForApproval())
	}
	r.Approval = &Approval{Required: true, State: "pending", Ignored: ig}
	md := Markdown(r, MarkdownOptions{})
	for _, want := range []string{"**dangerous** for the DBA approval", "alter\\-system", "tuning needed"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestFinishRoundtripOfEveryNewMigration: a new migration whose round trip did not run (its up failed,
// it was not run) has "roundtrip": {"status": "skipped"} in the JSON; one that ran keeps its own; a
// history migration has none.
func TestFinishRoundtripOfEveryNewMigration(t *testing.T) {
	r := &Report{Migrations: []Migration{
		{Version: "1", Status: StatusBase},
		{Version: "2", New: true, Status: StatusApplied, Roundtrip: &Roundtrip{Status: RoundtripNoDown, Problems: []string{}}},
		{Version: "3", New: true, Status: StatusFailed, Error: &SQLError{Message: "syntax error", File: "3_x.up.sql", Line: 1, Column: 1}},
		{Version: "4", New: true, Status: StatusNotRun},
	}}
	r.Finish()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Migrations []struct {
			Version   string
			Roundtrip *struct {
				Status   string
				Problems []string
			}
		}
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"1": "", "2": RoundtripNoDown, "3": RoundtripSkipped, "4": RoundtripSkipped}
	for _, m := range back.Migrations {
		got := ""
		if m.Roundtrip != nil {
			got = m.Roundtrip.Status
			if m.Roundtrip.Problems == nil {
				t.Errorf("migration %s: \"problems\" is null, want []", m.Version)
			}
		}
		if got != want[m.Version] {
			t.Errorf("migration %s: round trip %q, want %q (JSON %s)", m.Version, got, want[m.Version], b)
		}
	}
	if r.OK {
		t.Error("a report with a failed migration is not OK")
	}
}
