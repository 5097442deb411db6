package cli

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
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

// TestApprovalOfEachFolder: the gate keeps one record per migration folder on a pull request; the deploy
// of one folder is judged by that folder's record, not by the newest record of any folder.
func TestApprovalOfEachFolder(t *testing.T) {
	t.Parallel()
	s := githubtest.New(t)
	s.SetInstallationToken(true)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop", Number: 7}, Author: "alice", HeadSHA: "h1", BaseSHA: "b1"}, nil)
	f, err := github.New(github.Options{Token: githubtest.Token, BaseURL: s.URL(), FallbackLogin: github.ActionsBotLogin})
	if err != nil {
		t.Fatal(err)
	}
	folder := func(sql string) []*migrate.Migration {
		set, err := migrate.Read(fstest.MapFS{"1_a.up.sql": {Data: []byte(sql)}}, migrate.FormatGolangMigrate)
		if err != nil {
			t.Fatal(err)
		}
		return set.Migrations
	}
	a, b := folder("CREATE TABLE a (id int);\n"), folder("CREATE TABLE b (id int);\n")
	save := func(dir string, ms []*migrate.Migration) {
		r := &report.Report{}
		for _, m := range ms {
			r.Migrations = append(r.Migrations, report.Migration{Version: m.Version, Name: m.Name, Checksum: m.Checksum, New: true})
		}
		d := &gate.Decision{Required: true, State: gate.Approved, HeadSHA: "h1", Checksum: gate.Checksum(r), ApprovedBy: []string{"dora"}}
		if _, err := gate.Save(t.Context(), f, ref, dir, d); err != nil {
			t.Fatal(err)
		}
	}
	save("db/a", a)
	save("db/b", b) // the newer record
	for _, c := range []struct {
		dir  string
		ms   []*migrate.Migration
		want string // "" for approved
	}{
		{"db/a", a, ""}, {"db/b", b, ""},
		{"db/a", b, "for db/a (state approved"},
		{"elsewhere/db/a", a, ""}, // no record names the folder: one approving exactly these migrations counts
		{"elsewhere", folder("DROP TABLE a;\n"), "is not for these migrations"},
	} {
		err := (&approvalChecker{f: f, ref: ref, dir: c.dir}).Check(t.Context(), c.ms)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("deploy of %s: %v, want %q", c.dir, err, c.want)
		}
	}
}
