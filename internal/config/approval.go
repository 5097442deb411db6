package config

import (
	"fmt"
	"strings"
)

// Approval requirement levels.
const (
	RequireRisky     = "risky"     // caution or dangerous migrations need approval (default)
	RequireDangerous = "dangerous" // only dangerous migrations need approval
	RequireAlways    = "always"    // every new migration needs approval
	RequireNever     = "never"     // no approval gate
)

// Approval is the DBA approval policy (see the gate package).
type Approval struct {
	// Require says which changes need a DBA's approval: risky (caution or dangerous, the default),
	// dangerous, always or never.
	Require string `yaml:"require" json:"require,omitempty"`
	// Approvals is how many distinct owners must approve (default 1). A GitLab CODEOWNERS section's
	// own count ([Section][2]) applies when it is higher.
	Approvals int `yaml:"approvals" json:"approvals,omitempty"`
	// DBAUsers are logins that may approve any migration, in addition to the CODEOWNERS owners. They are
	// the fallback when the token cannot read team membership (the Actions GITHUB_TOKEN).
	DBAUsers []string `yaml:"dba_users" json:"dba_users,omitempty"`
	// DBATeams are teams whose members may approve any migration, in addition to the CODEOWNERS owners:
	// "org/team" on GitHub, the group's full path on GitLab ("acme/dba"). A GitLab top-level group goes
	// in dba_users, where "@name" may be a user or a group, as in GitLab's CODEOWNERS.
	DBATeams []string `yaml:"dba_teams" json:"dba_teams,omitempty"`
	// StaleOnPush makes an approval count only on the head commit it was given on (default true).
	StaleOnPush *bool `yaml:"stale_on_push" json:"stale_on_push,omitempty"`
	// CodeownersPath is the CODEOWNERS file to read from the base branch; empty means the platform's
	// usual places.
	CodeownersPath string `yaml:"codeowners_path" json:"codeowners_path,omitempty"`
}

// RequireLevel returns Require with its default.
func (a Approval) RequireLevel() string {
	if a.Require == "" {
		return RequireRisky
	}
	return strings.ToLower(a.Require)
}

// Needed returns Approvals with its default.
func (a Approval) Needed() int {
	if a.Approvals <= 0 {
		return 1
	}
	return a.Approvals
}

// Stale reports whether a push makes earlier approvals stale (default true).
func (a Approval) Stale() bool { return a.StaleOnPush == nil || *a.StaleOnPush }

// Validate returns every problem of the approval section, with dotted paths under "approval".
func (a Approval) Validate() Problems {
	var ps Problems
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: "approval." + path, Msg: fmt.Sprintf(format, args...)})
	}
	switch a.RequireLevel() {
	case RequireRisky, RequireDangerous, RequireAlways, RequireNever:
	default:
		add("require", "unknown value %q (want risky, dangerous, always or never)", a.Require)
	}
	if a.Approvals < 0 { // 0 is the default when unset: Parse refuses one written in the file
		add("approvals", "must be at least 1, not %d", a.Approvals)
	}
	for i, u := range a.DBAUsers {
		u = strings.TrimPrefix(u, "@")
		if u == "" || strings.ContainsAny(u, " /\t") {
			add(fmt.Sprintf("dba_users[%d]", i), "%q is not a login", a.DBAUsers[i])
		}
	}
	for i, t := range a.DBATeams {
		if !isTeam(t) {
			add(fmt.Sprintf("dba_teams[%d]", i), "%q is not a team: want org/team on GitHub, the group's full path on GitLab "+
				"(group/subgroup); a GitLab top-level group goes in dba_users, as @name may be a user or a group there", t)
		}
	}
	if strings.HasPrefix(a.CodeownersPath, "/") || strings.Contains(a.CodeownersPath, "..") {
		add("codeowners_path", "%q must be a path inside the repository, like .github/CODEOWNERS", a.CodeownersPath)
	}
	return ps
}

// isTeam reports whether t names a team with its organization or parent group ("acme/dba",
// "@acme/dba", "acme/db/oncall"): a single name would be taken for a user on GitHub.
func isTeam(t string) bool {
	parts := strings.Split(strings.TrimPrefix(t, "@"), "/")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t") {
			return false
		}
	}
	return true
}
