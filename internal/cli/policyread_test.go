package cli

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
)

// TestReadBasePolicyFailsClosed: a base schemagate.yml that reads only in part is not replaced by the
// defaults, which are looser than it (fail_on never): what reads holds, what does not counts as its
// strictest value, and a policy setting that cannot be told is refused with its line.
func TestReadBasePolicyFailsClosed(t *testing.T) {
	tests := []struct {
		name, base string
		check      func(*config.Config) bool
		notes      []string // substrings of the notes, in order
		refused    []string // substrings of the usage error; none when empty
	}{
		{name: "a renamed rule turned off", base: "dir: db\nlint:\n  fail_on: dangerous\n  rules:\n    prefer-txt: off\n    drop-table: dangerous\n",
			check: func(c *config.Config) bool {
				_, bad := c.Lint.Rules["prefer-txt"]
				return c.Dir == "db" && c.Lint.FailOn == "dangerous" && c.Lint.Rules["drop-table"] == "dangerous" && !bad
			},
			notes: []string{"schemagate.yml at main:5:5 does not read (lint.rules.prefer-txt: unknown rule id"}},
		{name: "a bad class", base: "lint:\n  rules:\n    prefer-text: dangerus\n",
			check: func(c *config.Config) bool { return c.Lint.Rules["prefer-text"] == "dangerous" },
			notes: []string{"schemagate.yml at main:3:18 does not read (lint.rules.prefer-text: unknown class"}},
		{name: "a bad fail_on", base: "approval:\n  require: dangerous\nlint:\n  fail_on: dangerus\n",
			check: func(c *config.Config) bool {
				return c.Lint.FailOn == "safe" && c.Approval.RequireLevel() == "dangerous"
			},
			notes: []string{"main:4:12 does not read (lint.fail_on: unknown value", "counts as safe"}},
		{name: "a bad require", base: "approval:\n  require: [x]\n",
			check: func(c *config.Config) bool { return c.Approval.RequireLevel() == "always" }, notes: []string{"counts as always"}},
		{name: "a bad environment", base: "lint:\n  fail_on: caution\nenvironments:\n  prod:\n    database_url_env: X\n    lock_timeout: 3s\n    time_zone: Mars/Base\n",
			check: func(c *config.Config) bool { return c.Lint.FailOn == "caution" && deployTimeouts(c) == nil },
			notes: []string{"environments.prod.time_zone", "the deploy's timeouts do not count"}},
		{name: "a setting outside the policy", base: "database:\n  provider: lokal\nlint:\n  fail_on: caution\n",
			check: func(c *config.Config) bool { return c.Lint.FailOn == "caution" }, notes: []string{"no part of the policy"}},
		{name: "an image that does not read", base: "database:\n  pg_version: 15\n  image: [x]\nlint:\n  fail_on: caution\n",
			check: func(c *config.Config) bool {
				return c.Lint.FailOn == "caution" && c.Database.PGVersion == 15 && c.Database.Image == ""
			}, notes: []string{"database.image", "the default image (postgres:<pg_version>)"}},
		{name: "a golang-migrate setting that does not read", base: "golang_migrate:\n  multi_statement_max_size: -1\nlint:\n  fail_on: caution\n",
			check: func(c *config.Config) bool { return c.Lint.FailOn == "caution" }, notes: []string{"golang_migrate.multi_statement_max_size", "no part of the policy"}},
		{name: "a renamed rule raised", base: "lint:\n  fail_on: dangerous\n  rules:\n    prefer-txt: dangerous\n",
			refused: []string{"schemagate.yml at main:4:5: lint.rules.prefer-txt: unknown rule id", "fix schemagate.yml on main first"}},
		{name: "approvals", base: "approval:\n  approvals: two\n", refused: []string{"schemagate.yml at main:2"}},
		{name: "a misspelled key", base: "lint:\n  fial_on: dangerous\n", refused: []string{"schemagate.yml at main:2", "fial_on"}},
		{name: "a misspelled dir", base: "dirr: db\n", refused: []string{"schemagate.yml at main:1", "dirr"}},
		{name: "not YAML", base: "lint: [\n", refused: []string{"schemagate.yml at main"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := config.Default()
			notes, err := readBasePolicy("schemagate.yml", "schemagate.yml at main", "main", []byte(tt.base), base)
			if len(tt.refused) > 0 {
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != ExitUsage {
					t.Fatalf("err %v, want a usage error", err)
				}
				for _, w := range tt.refused {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(base) {
				t.Errorf("base policy read as %+v", base)
			}
			all := strings.Join(notes, "\n")
			for _, w := range tt.notes {
				if !strings.Contains(all, w) {
					t.Errorf("notes %q lack %q", notes, w)
				}
			}
		})
	}
}

// TestCheckBrokenBasePolicyHolds: the base's schemagate.yml says fail_on: dangerous but holds a rule id a
// schemagate upgrade renamed; the change's own file says fail_on: never. The base's fail_on holds.
func TestCheckBrokenBasePolicyHolds(t *testing.T) {
	requirePG(t)
	root := policyRepo(t, "lint:\n  fail_on: dangerous\n  rules:\n    prefer-txt: off\n", loosening)
	code, out, errOut := run(t, nil, "check", "--config", filepath.Join(root, "schemagate.yml"), "--dir", filepath.Join(root, "db", "migrations"), "--base", "main", "-q")
	if code != ExitBlocked || !strings.Contains(out, "reaches fail_on dangerous (schemagate.yml at main)") || !strings.Contains(out, "prefer-txt") {
		t.Errorf("exit %d, want %d (the base's fail_on: dangerous)\nstdout:\n%s\nstderr:\n%s", code, ExitBlocked, out, errOut)
	}
}

// TestCheckRefusesAnUnknownBasePolicy: a policy setting of the base that does not read, and has no
// strictest value to stand for it, stops the check with its line (exit 2).
func TestCheckRefusesAnUnknownBasePolicy(t *testing.T) {
	root := policyRepo(t, "lint:\n  fail_on: dangerous\napproval:\n  approvals: two\n", loosening)
	code, out, errOut := run(t, nil, "check", "--config", filepath.Join(root, "schemagate.yml"), "--dir", filepath.Join(root, "db", "migrations"), "--base", "main",
		"--provider", "url", "--database-url", "postgres://127.0.0.1:1/x", "-q")
	if code != ExitUsage || !strings.Contains(errOut, "schemagate.yml at main:4:14: approval.approvals") || !strings.Contains(errOut, "\nhint: ") {
		t.Errorf("exit %d, want %d naming schemagate.yml at main:4:14\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, out, errOut)
	}
}

// TestBaseDefaultDirIsNotFromTheFile: a base whose schemagate.yml names no dir has the default folder;
// the notes and the hint of a missing folder do not say it comes from that file.
func TestBaseDefaultDirIsNotFromTheFile(t *testing.T) {
	head, base := config.Default(), config.Default()
	if err := config.Parse("schemagate.yml", []byte("dir: sql\n"), head); err != nil {
		t.Fatal(err)
	}
	if err := config.Parse("schemagate.yml at main", []byte("lint:\n  fail_on: dangerous\n"), base); err != nil {
		t.Fatal(err)
	}
	p := enforceBasePolicy(head, base, "schemagate.yml", "schemagate.yml at main", policyFlags{})
	want := "the base's dir migrations (the default: no dir in schemagate.yml at main) applies"
	if h := p.folderHint(); !strings.Contains(h, want) {
		t.Errorf("hint %q, want %q", h, want)
	}
	if n := strings.Join(p.notes, "\n"); !strings.Contains(n, "ignored, migrations (the default: no dir in schemagate.yml at main)") {
		t.Errorf("notes %q", n)
	}
}
