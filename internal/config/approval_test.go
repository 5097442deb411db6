package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestApprovalDefaults(t *testing.T) {
	var a Approval
	if a.RequireLevel() != RequireRisky || a.Needed() != 1 || !a.Stale() {
		t.Errorf("defaults = %s, %d, %v; want risky, 1, true", a.RequireLevel(), a.Needed(), a.Stale())
	}
	off := false
	a = Approval{Require: "Dangerous", Approvals: 2, StaleOnPush: &off}
	if a.RequireLevel() != RequireDangerous || a.Needed() != 2 || a.Stale() {
		t.Errorf("set = %s, %d, %v", a.RequireLevel(), a.Needed(), a.Stale())
	}
}

func TestApprovalValidate(t *testing.T) {
	good := Approval{Require: "always", Approvals: 2, DBAUsers: []string{"@dora", "dan"}, DBATeams: []string{"acme/dba", "@acme/dba", "acme/db/oncall"}, CodeownersPath: ".github/CODEOWNERS"}
	if ps := good.Validate(); len(ps) != 0 {
		t.Errorf("valid policy: %v", ps)
	}
	bad := Approval{Require: "sometimes", Approvals: -1, DBAUsers: []string{"", "a b"}, DBATeams: []string{"acme/"}, CodeownersPath: "../CODEOWNERS"}
	ps := bad.Validate()
	var paths []string
	for _, p := range ps {
		paths = append(paths, p.Path)
	}
	want := "approval.require approval.approvals approval.dba_users[0] approval.dba_users[1] approval.dba_teams[0] approval.codeowners_path"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("problem paths = %s\nwant %s", got, want)
	}
}

func TestApprovalFromYAML(t *testing.T) {
	cfg := Default()
	src := "approval:\n  require: dangerous\n  approvals: 2\n  dba_users: [dora]\n  dba_teams: [acme/dba]\n  stale_on_push: false\n  codeowners_path: docs/CODEOWNERS\n"
	if err := Parse("schemagate.yml", []byte(src), cfg); err != nil {
		t.Fatal(err)
	}
	a := cfg.Approval
	if a.RequireLevel() != RequireDangerous || a.Needed() != 2 || a.Stale() || a.DBAUsers[0] != "dora" || a.DBATeams[0] != "acme/dba" || a.CodeownersPath != "docs/CODEOWNERS" {
		t.Errorf("approval = %+v", a)
	}
}

// approvals: 0 used to pass (it reads as the unset default, 1) while -1 was refused.
func TestApprovalsZeroRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, want string
	}{
		{name: "zero", src: "approval:\n  approvals: 0\n", want: "schemagate.yml:2:14: approval.approvals: must be at least 1, not 0"},
		{name: "negative", src: "approval:\n  approvals: -1\n", want: "schemagate.yml:2:14: approval.approvals: must be at least 1, not -1"},
		{name: "flow", src: "approval: {require: always, approvals: 0}\n", want: "schemagate.yml:1:40: approval.approvals: must be at least 1, not 0"},
		{name: "one", src: "approval:\n  approvals: 1\n"},
		{name: "unset", src: "approval:\n  require: always\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Parse("schemagate.yml", []byte(tc.src), Default())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != "invalid configuration: "+tc.want {
				t.Errorf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}

// A team without its organization ("dba") used to pass: on GitHub it is taken for a user, and a DBA
// team's members could never approve.
func TestDBATeamsWantOrgSlashTeam(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, team string
		ok         bool
	}{
		{name: "org/team", team: "acme/dba", ok: true},
		{name: "at org/team", team: "@acme/dba", ok: true},
		{name: "gitlab subgroup", team: "acme/db/oncall", ok: true},
		{name: "no slash", team: "noslash"},
		{name: "at no slash", team: "@dbas"},
		{name: "trailing slash", team: "acme/"},
		{name: "leading slash", team: "/dba"},
		{name: "empty segment", team: "acme//dba"},
		{name: "space", team: "acme/d ba"},
		{name: "empty", team: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := fmt.Sprintf("approval:\n  dba_teams:\n    - %q\n", tc.team)
			err := Parse("schemagate.yml", []byte(src), Default())
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			want := fmt.Sprintf("schemagate.yml:3:7: approval.dba_teams[0]: %q is not a team: want org/team on GitHub, the group's full path on GitLab", tc.team)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant %s", err, want)
			}
		})
	}
}
