package cli

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// TestApprovalAcrossLineEndings: the gate may have run on a checkout with other line endings than the
// deploy's (core.autocrlf): the approval still holds for the same migrations, and not for changed ones.
func TestApprovalAcrossLineEndings(t *testing.T) {
	t.Parallel()
	read := func(files map[string]string) []*migrate.Migration {
		t.Helper()
		fsys := fstest.MapFS{}
		for name, text := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(text)}
		}
		set, err := migrate.Read(fsys, migrate.FormatGolangMigrate)
		if err != nil {
			t.Fatal(err)
		}
		return set.Migrations
	}
	lf := map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE INDEX a_id ON a (id);\n", "1_a.down.sql": "DROP TABLE a;\n",
		"2_b.up.sql": "ALTER TABLE a ADD COLUMN b text;\n",
	}
	crlf, changed := map[string]string{}, map[string]string{}
	for name, text := range lf {
		crlf[name] = strings.ReplaceAll(text, "\n", "\r\n")
		changed[name] = text
	}
	changed["2_b.up.sql"] = "ALTER TABLE a ADD COLUMN b varchar(10);\n"

	record := func(ms []*migrate.Migration) *gate.Record {
		r := &report.Report{}
		for _, m := range ms {
			r.Migrations = append(r.Migrations, report.Migration{Version: m.Version, Checksum: m.Checksum, New: true})
		}
		return &gate.Record{State: gate.Approved, Checksum: gate.Checksum(r)}
	}
	for _, tc := range []struct {
		name      string
		gate, dep map[string]string
		want      bool
	}{
		{"same checkout", lf, lf, true},
		{"gate on LF, deploy on CRLF", lf, crlf, true},
		{"gate on CRLF, deploy on LF", crlf, lf, true},
		{"a migration changed", lf, changed, false},
		{"changed and CRLF", lf, func() map[string]string {
			m := map[string]string{}
			for k, v := range changed {
				m[k] = strings.ReplaceAll(v, "\n", "\r\n")
			}
			return m
		}(), false},
	} {
		if _, ok := approves(record(read(tc.gate)), read(tc.dep)); ok != tc.want {
			t.Errorf("%s: approves = %v, want %v", tc.name, ok, tc.want)
		}
	}
}
