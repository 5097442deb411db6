package cli

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/codeowners"
	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/forgetest"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/forge/gitlab"
	"github.com/schemagate/schemagate/internal/forge/gitlab/gitlabtest"
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
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop", Number: 7}, Author: "alice", HeadSHA: "h1", BaseSHA: "b1",
		BaseRef: "main", State: "closed", Merged: true}, []string{"1_a.up.sql", "db/a/1_a.up.sql", "db/b/1_a.up.sql", "elsewhere/db/a/1_a.up.sql", "elsewhere/1_a.up.sql"})
	s.SetFile("acme/shop", ".github/CODEOWNERS", "b1", []byte("* @dora\n"))
	s.AddReview(ref, forge.Review{Author: "dora", State: "APPROVED"})
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
		err := (&approvalChecker{f: f, ref: ref, dir: c.dir, dialect: codeowners.GitHub, policy: defaultPolicy}).Check(t.Context(), c.ms)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("deploy of %s: %v, want %q", c.dir, err, c.want)
		}
	}
}

func defaultPolicy(context.Context, string) (config.Approval, []string, error) {
	return config.Approval{}, nil, nil
}

// approvalPlatforms are the forges the deploy's approval check is tested on, each a fake answering as
// the real API does.
var approvalPlatforms = []struct {
	name       string
	dialect    codeowners.Dialect
	codeowners string
	open       func(t *testing.T) (forge.Forge, forgetest.Backend)
}{
	{"GitHub", codeowners.GitHub, ".github/CODEOWNERS", func(t *testing.T) (forge.Forge, forgetest.Backend) {
		s := githubtest.New(t)
		s.SetInstallationToken(true)
		f, err := github.New(github.Options{Token: githubtest.Token, BaseURL: s.URL(), FallbackLogin: github.ActionsBotLogin})
		if err != nil {
			t.Fatal(err)
		}
		return f, s
	}},
	{"GitLab", codeowners.GitLab, ".gitlab/CODEOWNERS", func(t *testing.T) (forge.Forge, forgetest.Backend) {
		s := gitlabtest.New(t)
		f, err := gitlab.New(gitlab.Options{Token: gitlabtest.Token, BaseURL: s.URL()})
		if err != nil {
			t.Fatal(err)
		}
		return f, s
	}},
}

// TestDeployApprovalIsVerifiedOnTheForge: the approval record is written with the CI token, which anybody
// who may push a branch can use in their own pipeline; a record the owners never backed on the forge
// must not let a deploy through, on GitLab as on GitHub. The change request must be the one merged into
// the branch deployed, and hold every pending migration.
func TestDeployApprovalIsVerifiedOnTheForge(t *testing.T) {
	t.Parallel()
	const (
		repo = "acme/shop"
		head = "1f3ad6c3e57ca3a959ca5aad62de7213c562f8c8"
		base = "9a0b1f852bd8fca8fcc58a9a2d6c842781e32a21"
	)
	set, err := migrate.Read(fstest.MapFS{
		"4_drop.up.sql": {Data: []byte("ALTER TABLE orders DROP COLUMN note;\n")},
		"5_idx.up.sql":  {Data: []byte("CREATE INDEX orders_at ON orders (at);\n")},
	}, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	four, both := set.Migrations[:1], set.Migrations

	for _, p := range approvalPlatforms {
		for _, tc := range []struct {
			name     string
			state    string // of the change request; "merged" or "opened"
			target   string
			files    []string
			approver string // "" for nobody
			pending  []*migrate.Migration
			want     string // "" for approved
		}{
			{name: "forged record, nobody approved", state: "merged", target: "main", files: []string{"db/migrations/4_drop.up.sql"},
				pending: four, want: "does not show these migrations approved"},
			{name: "approved by a non-owner", state: "merged", target: "main", files: []string{"db/migrations/4_drop.up.sql"},
				approver: "mallory2", pending: four, want: "does not show these migrations approved"},
			{name: "approved by the owner", state: "merged", target: "main", files: []string{"db/migrations/4_drop.up.sql"},
				approver: "dora", pending: four},
			{name: "open change request", state: "opened", target: "main", files: []string{"db/migrations/4_drop.up.sql"},
				approver: "dora", pending: four, want: "not merged"},
			{name: "merged into another branch", state: "merged", target: "evil-target", files: []string{"db/migrations/4_drop.up.sql"},
				approver: "dora", pending: four, want: "not into main"},
			{name: "a pending migration the change does not hold", state: "merged", target: "main", files: []string{"db/migrations/4_drop.up.sql"},
				approver: "dora", pending: both, want: "5_idx"},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				f, b := p.open(t)
				cr := forge.ChangeRequest{Ref: forge.Ref{Repo: repo, Number: 9}, Author: "mallory", HeadSHA: head, BaseSHA: base, BaseRef: tc.target}
				if tc.state == "merged" {
					cr.State, cr.Merged = "merged", true
					if p.dialect == codeowners.GitHub {
						cr.State = "closed"
					}
				}
				ref := b.AddChangeRequest(cr, tc.files)
				b.SetFile(repo, p.codeowners, base, []byte("/db/migrations/ @dora\n"))
				if tc.approver != "" {
					b.AddReview(ref, forge.Review{Author: tc.approver, State: "APPROVED", CommitSHA: head})
				}
				// What anybody with the CI token can post: a record approving exactly these migrations.
				r := &report.Report{}
				for _, m := range tc.pending {
					r.Migrations = append(r.Migrations, report.Migration{Version: m.Version, Name: m.Name, Checksum: m.Checksum, New: true})
				}
				d := &gate.Decision{Required: true, State: gate.Approved, HeadSHA: head, Checksum: gate.Checksum(r), ApprovedBy: []string{"dora"}}
				if _, err := gate.Save(t.Context(), f, ref, "db/migrations", d); err != nil {
					t.Fatal(err)
				}
				c := &approvalChecker{f: f, ref: ref, dir: "db/migrations", dialect: p.dialect, branch: "main", policy: defaultPolicy}
				err := c.Check(t.Context(), tc.pending)
				if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
					t.Errorf("Check = %v, want %q", err, tc.want)
				}
			})
		}
	}
}

// TestDeployApprovalOfSeveralMergedChangeRequests: a deploy in the maintenance window ships what several
// merges brought. Each pending migration is judged on the change request merged into the deployed
// branch that last changed its file, with that change request's own approval and record; one
// unapproved change request, or a migration pushed straight to the branch, blocks, named.
func TestDeployApprovalOfSeveralMergedChangeRequests(t *testing.T) {
	t.Parallel()
	const repo = "acme/shop"
	sha := func(c byte) string { return strings.Repeat(string(c), 40) }
	set, err := migrate.Read(fstest.MapFS{
		"4_drop.up.sql": {Data: []byte("ALTER TABLE orders DROP COLUMN note;\n")},
		"5_idx.up.sql":  {Data: []byte("CREATE INDEX orders_at ON orders (at);\n")},
		"6_push.up.sql": {Data: []byte("DROP TABLE audit;\n")},
	}, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	four, five, six := set.Migrations[:1], set.Migrations[1:2], set.Migrations[2:]

	for _, p := range approvalPlatforms {
		for _, tc := range []struct {
			name       string
			unapproved bool // the second change request has no owner's approval
			pushed     bool // 6_push is pushed straight to main
			pin        bool // --pr names the first change request
			want       []string
			not        []string
		}{
			{name: "each approved with its own record"},
			{name: "one unapproved", unapproved: true, want: []string{"5_idx", "does not show these migrations approved"}, not: []string{"4_drop"}},
			{name: "one pushed straight to the branch", pushed: true, want: []string{"6_push", "pushed straight to the branch"}, not: []string{"4_drop", "5_idx"}},
			{name: "--pr pins the change request", pin: true, want: []string{"5_idx", "is not a change of"}},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				f, b := p.open(t)
				b.SetPageSize(1) // every list paginated
				b.SetFile(repo, p.codeowners, sha('0'), []byte("/db/migrations/ @dora\n"))
				b.AddCommit(repo, sha('0'), []string{"README.md"}, forge.Ref{})
				// Two change requests merged one after the other while the deploy waited for its window: #11
				// with a merge commit (its migration's commit is not its head), #12 squashed.
				merge := func(number int, head, merged byte, squash bool, m *migrate.Migration) forge.Ref {
					file := "db/migrations/" + m.Up.File
					ref := b.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo, Number: number}, Author: "alice",
						HeadSHA: sha(head), BaseSHA: sha('0'), BaseRef: "main"}, []string{file, "app/orders.go"})
					if !squash {
						b.AddCommit(repo, sha(head-1), []string{file}, ref)
						b.AddCommit(repo, sha(head), []string{"app/orders.go"}, ref)
					}
					if !tc.unapproved || number == 11 {
						b.AddReview(ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: sha(head)})
					}
					b.MergeInto(ref, "main", sha(merged), squash)
					files := []string(nil) // a merge commit changes nothing of its own
					if squash {
						files = []string{file, "app/orders.go"}
					}
					b.AddCommit(repo, sha(merged), files, forge.Ref{})
					// The gate's record on each, for its own migrations.
					r := &report.Report{}
					r.Migrations = append(r.Migrations, report.Migration{Version: m.Version, Name: m.Name, Checksum: m.Checksum, New: true})
					d := &gate.Decision{Required: true, State: gate.Approved, HeadSHA: sha(head), Checksum: gate.Checksum(r), ApprovedBy: []string{"dora"}}
					if _, err := gate.Save(t.Context(), f, ref, "db/migrations", d); err != nil {
						t.Fatal(err)
					}
					return ref
				}
				first := merge(11, 'b', 'c', false, four[0])
				merge(12, 'e', 'f', true, five[0])
				pending := append(slices.Clone(four), five...)
				deployed := sha('f')
				if tc.pushed {
					b.AddCommit(repo, sha('1'), []string{"db/migrations/6_push.up.sql"}, forge.Ref{})
					pending, deployed = append(pending, six...), sha('1')
				}
				c := &approvalChecker{f: f, ref: forge.Ref{Repo: repo}, commit: deployed, dir: "db/migrations", dialect: p.dialect, branch: "main", policy: defaultPolicy}
				if tc.pin {
					c.ref, c.commit = first, ""
				}
				err := c.Check(t.Context(), pending)
				if len(tc.want) == 0 {
					if err != nil {
						t.Fatalf("Check = %v, want approved", err)
					}
					return
				}
				if err == nil {
					t.Fatalf("Check passed, want blocked with %q", tc.want)
				}
				msg := err.Error()
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("Check = %v, want it to say %q", err, w)
					}
				}
				if tc.unapproved && !strings.Contains(msg, map[codeowners.Dialect]string{codeowners.GitHub: "acme/shop#12", codeowners.GitLab: "acme/shop!12"}[p.dialect]) {
					t.Errorf("Check = %v, want it to name change request 12", err)
				}
				for _, n := range tc.not {
					if strings.Contains(msg, n) {
						t.Errorf("Check = %v, want it not to say %q", err, n)
					}
				}
			})
		}
	}
}
