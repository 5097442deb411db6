package config

import (
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
	good := Approval{Require: "always", Approvals: 2, DBAUsers: []string{"@dora", "dan"}, DBATeams: []string{"acme/dba", "dbas"}, CodeownersPath: ".github/CODEOWNERS"}
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
