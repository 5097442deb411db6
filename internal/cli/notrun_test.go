package cli

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

// TestCheckNotRunKeepsTheFoldersModel: the migrations a failure leaves not run are judged as lint --dir
// judges them, knowing the tables the history made: a type change of a timestamptz, varchar(50),
// numeric(12,2) or timestamp column is a rewrite (dangerous), not a change of unknown cost (caution) as
// when each was judged alone. Each not-run migration has every finding lint --dir gives its file, at its
// risk or higher, after a failed up with and without a base, and after a history that does not apply;
// after a failed round trip the later migrations run, and are judged so too.
func TestCheckNotRunKeepsTheFoldersModel(t *testing.T) {
	requirePG(t)
	users := map[string]string{
		"0001_users.up.sql": "CREATE TABLE users (\n  id bigint PRIMARY KEY,\n  name varchar(50) NOT NULL,\n  amount numeric(12,2),\n" +
			"  seen timestamp,\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n",
		"0001_users.down.sql": "DROP TABLE users;\n",
	}
	// Timeouts set, so that the type change alone decides each migration's risk.
	const timeouts = "SET lock_timeout = '2s';\nSET statement_timeout = '5min';\n"
	changes := map[string]string{
		"0004_ts.up.sql":       timeouts + "ALTER TABLE users ALTER COLUMN created_at TYPE timestamp;\n",
		"0004_ts.down.sql":     "ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;\n",
		"0005_name.up.sql":     timeouts + "ALTER TABLE users ALTER COLUMN name TYPE varchar(20);\n",
		"0005_name.down.sql":   "ALTER TABLE users ALTER COLUMN name TYPE varchar(50);\n",
		"0006_amount.up.sql":   timeouts + "ALTER TABLE users ALTER COLUMN amount TYPE numeric(10,2);\n",
		"0006_amount.down.sql": "ALTER TABLE users ALTER COLUMN amount TYPE numeric(12,2);\n",
		"0007_seen.up.sql":     timeouts + "ALTER TABLE users ALTER COLUMN seen TYPE timestamptz;\n",
		"0007_seen.down.sql":   "ALTER TABLE users ALTER COLUMN seen TYPE timestamp;\n",
	}
	badUp := map[string]string{
		"0003_bad.up.sql":   "ALTER TABLE users ADD COLUMN q int DEFALT 1;\n",
		"0003_bad.down.sql": "SELECT 1;\n",
	}
	join := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name          string
		history, news map[string]string
		base          bool
		status        string // of the type changes
	}{
		{name: "failed up with a base", history: users, news: join(badUp, changes), base: true, status: report.StatusNotRun},
		{name: "failed up without a base", history: users, news: join(badUp, changes), status: report.StatusNotRun},
		{name: "history does not apply", history: join(users, map[string]string{
			"0002_broken.up.sql": "ALTER TABLE nosuch ADD COLUMN x int;\n", "0002_broken.down.sql": "SELECT 1;\n",
		}), news: changes, base: true, status: report.StatusNotRun},
		{name: "failed round trip", history: users, news: join(map[string]string{
			"0003_q.up.sql": "ALTER TABLE users ADD COLUMN q int;\n", "0003_q.down.sql": "DROP TABLE nosuch;\n",
		}, changes), base: true, status: report.StatusApplied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := committedFolder(t, "base", tt.history)
			for name, text := range tt.news {
				writeFile(t, filepath.Join(dir, name), []byte(text))
			}
			// lint --dir: the static model of the whole folder, history included.
			_, out, errOut := run(t, nil, "lint", "--dir", dir, "--json", "--fail-on", "never")
			var linted struct{ Findings []lint.Finding }
			if err := json.Unmarshal([]byte(out), &linted); err != nil {
				t.Fatalf("lint --json: %v\n%s\n%s", err, out, errOut)
			}
			want := map[string][]lint.Finding{}
			for _, f := range linted.Findings {
				want[path.Base(filepath.ToSlash(f.File))] = append(want[path.Base(filepath.ToSlash(f.File))], f)
			}

			jsonPath := filepath.Join(t.TempDir(), "r.json")
			args := []string{"check", "--dir", dir, "--provider", "local", "--report-json", jsonPath, "-q"}
			if tt.base {
				args = append(args, "--base", "main")
			}
			code, out, errOut := run(t, nil, args...)
			if code == ExitFailure || code == ExitUsage {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			b, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			var rep report.Report
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			changed := 0
			for _, m := range rep.Migrations {
				if _, ok := changes[path.Base(m.File)]; !ok {
					continue
				}
				changed++
				if m.Status != tt.status {
					t.Errorf("%s: status %s, want %s", m.File, m.Status, tt.status)
				}
				if m.Risk != lint.Dangerous {
					t.Errorf("%s (%s): risk %s, want dangerous (a rewrite of a table the history made)", m.File, m.Status, m.Risk)
				}
				wanted := want[path.Base(m.File)]
				if len(wanted) == 0 {
					t.Errorf("lint --dir gives %s no finding", m.File)
				}
				for _, w := range wanted {
					found := false
					for _, f := range m.Findings {
						found = found || (f.Rule == w.Rule && f.Line == w.Line && f.Risk >= w.Risk)
					}
					if !found {
						t.Errorf("%s (%s): lacks lint --dir's %s %s at line %d; has %s", m.File, m.Status, w.Risk, w.Rule, w.Line, ruleList(m.Findings))
					}
				}
			}
			if rep.ApprovalRisk != lint.Dangerous {
				t.Errorf("approval risk %s, want dangerous", rep.ApprovalRisk)
			}
			if changed != 4 {
				t.Errorf("the report lists %d of the 4 type changes", changed)
			}
			if t.Failed() {
				t.Logf("check's output:\n%s%s", out, errOut)
			}
		})
	}
}

// ruleList names findings as "risk rule:line", for a test's message.
func ruleList(fs []lint.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Risk.String()+" "+f.Rule+":"+strconv.Itoa(f.Line))
	}
	return strings.Join(s, ", ")
}
