package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
)

func lintFindings() []lint.Finding {
	return []lint.Finding{
		{Rule: "set-not-null", Risk: lint.Dangerous, File: "db/003_users.sql", Line: 4, Column: 3, Message: "SET NOT NULL scans users",
			Suggestion: "CHECK … NOT VALID, VALIDATE, SET NOT NULL", URL: lint.DocsBase + "set-not-null.md", Source: "static"},
		{Rule: "drop-column", Risk: lint.Caution, File: "db/003_users.sql", Line: 6, Column: 1, Message: "DROP COLUMN users.age",
			Ignored: true, Reason: "column unused since v2", Source: "static"},
		{Rule: "prefer-text", Risk: lint.Safe, File: "db/004.sql", Line: 1, Column: 1, Message: "varchar(20)", Source: "static"},
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteText(&b, lintFindings()); err != nil {
		t.Fatal(err)
	}
	want := `db/003_users.sql:4:3: dangerous set-not-null: SET NOT NULL scans users
    suggestion: CHECK … NOT VALID, VALIDATE, SET NOT NULL
    see: https://github.com/schemagate/schemagate/blob/main/docs/rules/set-not-null.md
db/003_users.sql:6:1: caution drop-column: DROP COLUMN users.age [ignored: column unused since v2]
db/004.sql:1:1: safe prefer-text: varchar(20)
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if s := Summary(lintFindings()); s != "2 findings: 1 dangerous, 0 caution, 1 safe (1 ignored)" {
		t.Errorf("summary %q", s)
	}
}

func TestWriteSARIF(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteSARIF(&b, lintFindings(), "1.2.3"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID                   string `json:"id"`
						HelpURI              string `json:"helpUri"`
						ShortDescription     struct{ Text string }
						DefaultConfiguration struct{ Level string }
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn int }
					}
				}
				Suppressions []struct{ Kind, Justification string }
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("log: %s", b.String())
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != 3 || run.Tool.Driver.Name != "schemagate" {
		t.Fatalf("rules: %+v", run.Tool.Driver.Rules)
	}
	for _, r := range run.Tool.Driver.Rules {
		if !strings.HasSuffix(r.HelpURI, "/docs/rules/"+r.ID+".md") || r.ShortDescription.Text == "" || r.DefaultConfiguration.Level == "" {
			t.Errorf("rule %+v", r)
		}
	}
	wantLevels := []string{"error", "warning", "note"}
	for i, res := range run.Results {
		if res.Level != wantLevels[i] {
			t.Errorf("result %d level %s, want %s", i, res.Level, wantLevels[i])
		}
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d ruleIndex %d points at %s", i, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
		}
	}
	loc := run.Results[0].Locations[0].PhysicalLocation
	if loc.ArtifactLocation.URI != "db/003_users.sql" || loc.Region.StartLine != 4 || loc.Region.StartColumn != 3 {
		t.Errorf("location %+v", loc)
	}
	if s := run.Results[1].Suppressions; len(s) != 1 || s[0].Kind != "inSource" || s[0].Justification != "column unused since v2" {
		t.Errorf("suppressions %+v", s)
	}
	if len(run.Results[0].Suppressions) != 0 {
		t.Error("unsuppressed result has suppressions")
	}
}
