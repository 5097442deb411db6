// Package gate decides whether a change request's migrations may merge: the approval policy, the risk
// of the new migrations, the reviews and the CODEOWNERS file of the base branch give a Decision
// (approved, pending, blocked or not required), bound to the approved SQL by a checksum.
package gate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/schemagate/schemagate/internal/codeowners"
	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

// Decision states.
const (
	Approved    = "approved"
	Pending     = "pending"
	Blocked     = "blocked"
	NotRequired = "not-required"
)

// Membership answers team membership; forge.Forge is one. It returns a wrapped forge.ErrForbidden when
// the token may not read membership.
type Membership interface {
	IsMember(ctx context.Context, team, user string) (bool, error)
}

// TeamStanding answers a team's standing in a repository; the GitHub forge is one. GitHub counts a team
// CODEOWNERS names as code owner only when the team is visible and has write access to the repository
// itself ("even if all the individual members of the team already have write permissions directly",
// GitHub Docs, "About code owners"): a secret team, or one with read or triage access only, is asked
// for no review and its members' approvals are no code owner's. Decide reads it, on GitHub, of every
// team CODEOWNERS names as an owner of the files: a Membership that does not implement it leaves those
// teams unread, as one that cannot read their members does. TeamAccess returns a wrapped
// forge.ErrForbidden when the token may not read the team.
type TeamStanding = forge.TeamReader

// Input is everything a decision depends on.
type Input struct {
	Policy  config.Approval
	Dialect codeowners.Dialect
	// Risk is the highest risk of the new migrations, the findings that ignore comments silence included
	// (report.Report.RiskForApproval); NewMigrations counts them.
	Risk          lint.Risk
	NewMigrations int
	// Files are the repository paths of the migration files the change adds or modifies.
	Files []string
	// Repo is the repository (owner/name), named in the notes.
	Repo    string
	Author  string
	HeadSHA string
	// Reviews are every review, oldest first.
	Reviews []forge.Review
	// CodeOwners is the base branch's CODEOWNERS, nil when it has none.
	CodeOwners *codeowners.File
	// Checksum binds the decision to the migrations' content (see Checksum).
	Checksum string
	// Notes are carried into the decision (e.g. CODEOWNERS problems found while reading it).
	Notes []string
	// Ignored are the findings the author's ignore comments silence, with their reasons
	// (report.Report.IgnoredFindings): shown to the approvers.
	Ignored []string
}

// Requirement is one group of files with the same owners and how many of them must approve.
type Requirement struct {
	// Section is the GitLab section's name; "" on GitHub and for the unnamed section.
	Section    string   `json:"section,omitempty"`
	Owners     []string `json:"owners"`
	Files      []string `json:"files"`
	Needed     int      `json:"needed"`
	ApprovedBy []string `json:"approved_by,omitempty"`
	// Patterns are the CODEOWNERS patterns, as written, that decided its files in its section (on GitLab
	// the only ones whose code-owner rules speak for them); none for files only approval.dba_users and
	// dba_teams own.
	Patterns []string `json:"-"`
	// Ruled is set when a platform's own code-owner rule may still count approvers the gate cannot match
	// to a login (GitLab Premium's code_owner rules count role and e-mail owners): Decide sets it on
	// GitLab, and whoever reads the rules clears it where no rule can (Free, or no rule of the section).
	// Without it, a requirement whose only owners left are such is one no approval can satisfy.
	Ruled bool `json:"-"`
}

// Missing is how many more approvals the requirement needs.
func (r Requirement) Missing() int { return max(0, r.Needed-len(r.ApprovedBy)) }

// Decision is the gate's verdict.
type Decision struct {
	State    string `json:"state"`
	Required bool   `json:"required"`
	// Needed is the number of approvals still missing.
	Needed int `json:"needed"`
	// Owners are who may still give the missing approvals.
	Owners     []string `json:"owners,omitempty"`
	ApprovedBy []string `json:"approved_by,omitempty"`
	BlockedBy  []string `json:"blocked_by,omitempty"`
	// MayBlock are the reviewers who requested changes and may own the files through a team whose
	// members the token cannot read: a DBA may have asked for changes, so they block as BlockedBy do.
	MayBlock     []string      `json:"may_block,omitempty"`
	Requirements []Requirement `json:"requirements,omitempty"`
	// Unowned are migration files nobody may approve (no CODEOWNERS rule, no dba_users/dba_teams).
	Unowned []string `json:"unowned,omitempty"`
	Reason  string   `json:"reason"`
	// Notes explain what did not count and why (stale, author's own, non-owner, unreadable teams).
	Notes []string `json:"notes,omitempty"`
	// Ignored are the findings the author's ignore comments silence, with their reasons; they count in Risk.
	Ignored  []string  `json:"ignored,omitempty"`
	Risk     lint.Risk `json:"risk"`
	HeadSHA  string    `json:"head_sha,omitempty"`
	Checksum string    `json:"checksum,omitempty"`
	// SharedHead are the other open change requests whose head is this one's, as SameHead judged them:
	// the commit status is the commit's, so it is a success only when each is satisfied (HeadState).
	SharedHead []Sharer `json:"shared_head,omitempty"`
	// SharedHeadUnread says why they could not be listed ("" when they were, or were not asked for).
	SharedHeadUnread string `json:"shared_head_unread,omitempty"`
	// Current are the reviewers whose approval stands under the policy (their latest decision, not the
	// author's, not stale), owners of the files or not: who a platform's own code-owner rule may count.
	Current []string `json:"-"`
	// Author opened the change: never one of the Owners who may still approve.
	Author string `json:"-"`
	// forbidden are the teams whose members, or standing, the token could not read.
	forbidden []string
	// unfit are the teams CODEOWNERS names that own nothing on GitHub (secret, or without write access).
	unfit []string
	// invalid are the users CODEOWNERS names that own nothing on GitHub (without write access).
	invalid []string
	// dialect is the platform's, whose own rules the messages may name.
	dialect codeowners.Dialect
}

// Report converts the decision into the report model's approval section.
func (d *Decision) Report() *report.Approval {
	return &report.Approval{
		Required: d.Required, State: d.State, Reason: d.Reason, Owners: d.Owners,
		Approved: d.ApprovedBy, Needed: d.Needed, Checksum: d.Checksum, Ignored: d.Ignored,
	}
}

// Checksum is a SHA-256 over the version and checksum of each new migration, in order: an approval
// recorded with it holds only for exactly that SQL.
func Checksum(r *report.Report) string {
	h := sha256.New()
	for _, m := range r.New() {
		fmt.Fprintf(h, "%s\x00%s\n", m.Version, m.Checksum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Required reports whether the policy asks for approval of changes of this risk.
func Required(p config.Approval, risk lint.Risk) bool {
	switch p.RequireLevel() {
	case config.RequireNever:
		return false
	case config.RequireAlways:
		return true
	case config.RequireDangerous:
		return risk >= lint.Dangerous
	default:
		return risk >= lint.Caution
	}
}

// Decide computes the decision. Team membership is read through m; an error other than
// forge.ErrForbidden (which becomes a note) fails the decision.
func Decide(ctx context.Context, in Input, m Membership) (*Decision, error) {
	d := &Decision{Risk: in.Risk, HeadSHA: in.HeadSHA, Checksum: in.Checksum, Notes: slices.Clone(in.Notes), Ignored: slices.Clone(in.Ignored),
		Author: in.Author, dialect: in.Dialect}
	switch {
	case in.NewMigrations == 0:
		d.State, d.Reason = NotRequired, "no new migrations"
		return d, nil
	case !Required(in.Policy, in.Risk):
		d.State = NotRequired
		d.Reason = fmt.Sprintf("risk is %s; approval.require=%s", in.Risk, in.Policy.RequireLevel())
		return d, nil
	}
	d.Required = true
	reqs, unowned, optional := requirements(in)
	d.Unowned = unowned
	for _, r := range optional {
		var sections []string
		for _, name := range strings.Split(r.Section, ", ") {
			sections = append(sections, "^["+name+"]")
		}
		d.Notes = append(d.Notes, fmt.Sprintf("%s: owned only by the optional %s of CODEOWNERS; GitLab requires no approval there, the approval policy does: %s may approve",
			strings.Join(r.Files, ", "), strings.Join(sections, ", "), strings.Join(r.Owners, ", ")))
	}
	var unmatchable []string
	for _, r := range reqs {
		for _, o := range r.Owners {
			if !matchable(o) {
				unmatchable = appendNew(unmatchable, o)
			}
		}
	}
	if len(unmatchable) > 0 {
		note := fmt.Sprintf("owners %s are e-mail addresses or roles that cannot be matched to a reviewer's login; name the users or teams instead", strings.Join(unmatchable, ", "))
		if in.Dialect == codeowners.GitLab {
			note += ", or rely on GitLab's code-owner approval rules (Premium), which count them"
		}
		d.Notes = append(d.Notes, note)
	}
	e := &eligibility{ctx: ctx, m: m, dialect: in.Dialect, cache: map[string]bool{}, forbidden: map[string]bool{}, unread: map[string]bool{}}
	var unfit []unfitTeam
	if in.Dialect == codeowners.GitHub {
		var err error
		if reqs, unfit, err = e.teamStanding(in, reqs); err != nil {
			return nil, err
		}
		for _, r := range reqs {
			if len(r.Owners) == 0 {
				// Every owner CODEOWNERS names is a team GitHub does not count: nobody may approve.
				d.Unowned = append(d.Unowned, r.Files...)
			}
		}
		reqs = slices.DeleteFunc(reqs, func(r Requirement) bool { return len(r.Owners) == 0 })
		for _, u := range unfit {
			d.Notes = append(d.Notes, u.note(in.Repo))
		}
	}

	for _, rv := range latestDecisive(in.Reviews) {
		who := rv.Author
		if forge.SameLogin(who, in.Author) {
			if rv.State == "APPROVED" {
				d.Notes = append(d.Notes, fmt.Sprintf("%s opened the change; an author's own approval does not count", who))
			}
			continue
		}
		var owns []int
		for i := range reqs {
			ok, err := e.owns(who, reqs[i].Owners)
			if err != nil {
				return nil, err
			}
			if ok {
				owns = append(owns, i)
			}
		}
		switch rv.State {
		case "CHANGES_REQUESTED":
			switch {
			case rv.RoleUnread != "" && len(owns) > 0:
				// Whether they may write is unknown: their request holds, as GitHub would count it
				// from an owner who may, rather than let another approval merge what they asked to change.
				d.BlockedBy = append(d.BlockedBy, who)
				d.Notes = append(d.Notes, fmt.Sprintf("%s requested changes, but their role on %s could not be read (%s): the request "+
					"still blocks, as one from an owner who may write, until %s approves or it is dismissed", who, cmp.Or(in.Repo, "the repository"), rv.RoleUnread, who))
			case rv.Outsider:
				// GitHub counts no review from someone who cannot write to the repository, and the
				// gate counts no approval of theirs: their request for changes blocks nothing either.
				d.Notes = append(d.Notes, outsiderNote(who, "requested changes", rv.Role, in.Repo))
			case len(owns) > 0:
				d.BlockedBy = append(d.BlockedBy, who)
			case len(e.forbidden) > 0:
				// Maybe an owner through a team the token cannot read: a DBA may have asked for changes.
				// Their approval would not count unread, and their request must not be dropped unread
				// either, or another owner's approval would merge what a DBA asked to change.
				d.MayBlock = append(d.MayBlock, who)
				d.Notes = append(d.Notes, fmt.Sprintf("%s requested changes and may belong to %s, whose members the token cannot read: a DBA may have asked "+
					"for changes, so the request holds until %s approves or it is dismissed; %s whether they are a member, and DBAs listed in "+
					"approval.dba_users count without reading the team", who, strings.Join(sortedKeys(e.forbidden), ", "), who, readsMembers(in.Dialect)))
			default:
				d.Notes = append(d.Notes, fmt.Sprintf("%s requested changes but owns none of the migration files", who))
			}
		case "APPROVED":
			if rv.RoleUnread != "" {
				// Whether they may write is unknown, and GitHub counts approvals only from users who may.
				d.Notes = append(d.Notes, fmt.Sprintf("%s approved, but their role on %s could not be read (%s): GitHub counts approvals "+
					"only from users with write access, so their approval was not counted", who, cmp.Or(in.Repo, "the repository"), rv.RoleUnread))
				continue
			}
			if rv.Outsider {
				// GitHub counts no approval from someone who cannot write to the repository, nor does
				// the gate: a login CODEOWNERS names may have changed hands, its user left, or they
				// hold read access only (a team's members may, whom CODEOWNERS names all the same).
				d.Notes = append(d.Notes, outsiderNote(who, "approved", rv.Role, in.Repo))
				continue
			}
			stale := in.Policy.Stale() && in.HeadSHA != "" && rv.CommitSHA != in.HeadSHA
			if !stale {
				d.Current = appendNew(d.Current, who)
			}
			switch {
			case stale:
				d.Notes = append(d.Notes, fmt.Sprintf("%s approved commit %s, not the head %s: approvals must be renewed after a push", who, short(rv.CommitSHA), short(in.HeadSHA)))
			case len(owns) == 0 && len(e.forbidden) > 0:
				// Not a direct owner; maybe a member of a team the token cannot read.
				d.Notes = append(d.Notes, fmt.Sprintf("%s approved, is not named as an owner of the migration files, and may belong to %s, whose members the token cannot read",
					who, strings.Join(sortedKeys(e.forbidden), ", ")))
			case len(owns) == 0:
				through, err := e.memberOfUnfit(who, unfit)
				if err != nil {
					return nil, err
				}
				if through != "" {
					d.Notes = append(d.Notes, fmt.Sprintf("%s approved and is in %s, which GitHub does not count as a code owner (see the note on %s): their approval is no code owner's", who, through, through))
					continue
				}
				d.Notes = append(d.Notes, fmt.Sprintf("%s approved but owns none of the migration files", who))
			default:
				d.ApprovedBy = append(d.ApprovedBy, who)
				for _, i := range owns {
					reqs[i].ApprovedBy = append(reqs[i].ApprovedBy, who)
				}
			}
		}
	}
	for _, team := range sortedKeys(e.forbidden) {
		how := readsMembers(in.Dialect) + " them"
		note := fmt.Sprintf("the token cannot read the members of %s (%s); its members' approvals were not counted", team, how)
		if e.unread[team] {
			// GitHub's own rule needs the team's standing, which the same permission reads.
			note = fmt.Sprintf("the token cannot read the members of %s, nor whether it is visible and has write access to %s, which GitHub "+
				"requires of a team to count it as code owner (%s; or the team is secret, or does not exist); its members' approvals were not counted",
				team, cmp.Or(in.Repo, "the repository"), how)
		}
		if len(in.Policy.DBAUsers) > 0 {
			note += "; approval.dba_users still count"
		} else {
			note += "; list the DBAs in approval.dba_users to approve with this token"
		}
		d.Notes = append(d.Notes, note)
	}
	if in.Dialect == codeowners.GitLab {
		for i := range reqs {
			reqs[i].Ruled = true
		}
	}
	d.Requirements = reqs
	d.forbidden = sortedKeys(e.forbidden)
	for _, u := range unfit {
		if u.user {
			d.invalid = append(d.invalid, u.team)
			continue
		}
		d.unfit = append(d.unfit, u.team)
	}
	d.Settle()
	return d, nil
}

// Settle computes the state, the missing approvals and the reason from the requirements, the unowned
// files and the changes requested: Decide does, and so must whoever counts more approvals toward a
// requirement (a platform's own code-owner rules).
func (d *Decision) Settle() {
	d.Needed, d.Owners = 0, nil
	var never []string
	for _, r := range d.Requirements {
		if r.Missing() == 0 {
			continue
		}
		d.Needed += r.Missing()
		rest := r.Remaining(d.Author)
		if len(rest) == 0 {
			never = append(never, r.shortfall(d.Author, d.dialect))
			continue
		}
		if !r.Ruled {
			// No platform rule counts the owners the gate cannot match to a login: nobody can approve
			// for them, so they are nobody to ask.
			can := slices.DeleteFunc(slices.Clone(rest), func(o string) bool { return !matchable(o) })
			if len(can) == 0 {
				never = append(never, fmt.Sprintf("the owners of %s are only %s, which cannot be matched to a reviewer's login, so no approval can "+
					"satisfy them: name the owners in CODEOWNERS by @login or team, or list the DBAs in approval.dba_users",
					strings.Join(r.Files, ", "), strings.Join(rest, ", ")))
				continue
			}
			rest = can
		}
		d.Owners = appendNew(d.Owners, rest...)
	}
	unowned := d.Unowned
	switch {
	case len(d.BlockedBy) > 0:
		d.State = Blocked
		d.Reason = "changes requested by " + strings.Join(d.BlockedBy, ", ")
		if len(d.MayBlock) > 0 {
			d.Reason += fmt.Sprintf("; perhaps also by %s, who may belong to %s", strings.Join(d.MayBlock, ", "), strings.Join(d.forbidden, ", "))
		}
	case len(d.MayBlock) > 0:
		d.State = Blocked
		d.Reason = fmt.Sprintf("changes requested by %s, who may belong to %s", strings.Join(d.MayBlock, ", "), strings.Join(d.forbidden, ", "))
	case len(unowned) > 0:
		d.State = Blocked
		d.Reason = fmt.Sprintf("nobody may approve %s: add a CODEOWNERS rule on the base branch or set approval.dba_users", strings.Join(unowned, ", "))
	case len(d.Requirements) == 0:
		// Approval is required, but of no file: no owner to ask, no approval to count. Nobody having
		// approved is no approval.
		d.State = Blocked
		d.Reason = "the new migrations need approval, but no file of theirs is known to decide who may give it"
	case len(never) > 0:
		// Waiting (exit 4) would wait for an approval that cannot come.
		d.State = Blocked
		d.Reason = strings.Join(never, "; ")
	case d.Needed == 0:
		d.State = Approved
		d.Reason = "approved by " + strings.Join(d.ApprovedBy, ", ")
	default:
		d.State = Pending
		d.Reason = fmt.Sprintf("needs %d more approval%s", d.Needed, report.Plural(d.Needed))
		if len(d.Owners) > 0 {
			d.Reason += " from " + strings.Join(d.Owners, ", ")
		}
	}
	if len(d.forbidden) > 0 && d.State != Approved {
		d.Reason += fmt.Sprintf("; the token cannot read team membership (%s)", strings.Join(d.forbidden, ", "))
	}
	if len(d.unfit) > 0 && d.State != Approved {
		d.Reason += fmt.Sprintf("; GitHub counts no code owner's approval through %s (a team must be visible and have write access)", strings.Join(d.unfit, ", "))
	}
	if len(d.invalid) > 0 && d.State != Approved {
		d.Reason += fmt.Sprintf("; GitHub counts no code owner without write access (%s)", strings.Join(d.invalid, ", "))
	}
}

// readsMembers says which token reads the members of a team the token could not read, on the dialect's
// platform.
func readsMembers(d codeowners.Dialect) string {
	if d == codeowners.GitLab {
		return "a token of a member of the group, with read_api, can read"
	}
	return "a PAT with read:org or a GitHub App with Members: read can read"
}

// Remaining are the owners who may still give the requirement's missing approvals: neither the change's
// author (whose approval never counts) nor an owner who already approved. A team, a group, a role or
// an e-mail address stays: it may hold more approvers.
func (r Requirement) Remaining(author string) []string {
	var out []string
	for _, o := range r.Owners {
		login := strings.TrimPrefix(o, "@")
		if (author != "" && forge.SameLogin(login, author)) || slices.ContainsFunc(r.ApprovedBy, func(a string) bool { return forge.SameLogin(login, a) }) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// matchable reports whether an owner can be matched to a reviewer's login: a user, a team or a group,
// not a role (@@maintainer) or an e-mail address.
func matchable(owner string) bool {
	return strings.HasPrefix(owner, "@") && !strings.HasPrefix(owner, "@@")
}

// shortfall says why a requirement missing approvals has nobody left to give them: it asks for more
// approvals than it has owners besides the author (a GitLab section's [N] above its owners, say).
func (r Requirement) shortfall(author string, dialect codeowners.Dialect) string {
	var eligible, authors []string
	for _, o := range r.Owners {
		if author != "" && forge.SameLogin(strings.TrimPrefix(o, "@"), author) {
			authors = append(authors, o)
			continue
		}
		eligible = append(eligible, o)
	}
	what := "the owners of " + strings.Join(r.Files, ", ")
	if r.Section != "" {
		what = "section [" + r.Section + "]"
	}
	msg := fmt.Sprintf("%s needs %d approval%s but has only %d eligible owner%s", what, r.Needed, report.Plural(r.Needed), len(eligible), report.Plural(len(eligible)))
	if len(eligible) > 0 {
		msg += fmt.Sprintf(" (%s, who approved)", strings.Join(eligible, ", "))
	}
	if len(authors) > 0 {
		msg += fmt.Sprintf(" besides the author %s", strings.Join(authors, ", "))
	}
	msg += ", so it can never be satisfied"
	if dialect == codeowners.GitLab {
		msg += " (nor can GitLab's own rule)"
	}
	msg += ": add owners or lower the count"
	return msg
}

// requirements groups the files by owners. Files no CODEOWNERS rule owns fall to approval.dba_users and
// dba_teams, who may also approve every file.
//
// A GitLab optional section (^[Section]) asks GitLab for no approval; schemagate's policy still wants
// one of a risky migration. A file whose only owners are in optional sections is therefore theirs to
// approve (with dba_users and dba_teams), at the policy's count: calling it unowned would block it
// although CODEOWNERS names who owns it. Where a required section owns the file, optional owners do not
// count: GitLab requires the required section's. optional returns those requirements.
func requirements(in Input) (reqs []Requirement, unowned []string, optional []Requirement) {
	var extra []string
	for _, u := range in.Policy.DBAUsers {
		extra = appendNew(extra, "@"+strings.TrimPrefix(u, "@"))
	}
	for _, t := range in.Policy.DBATeams {
		extra = appendNew(extra, "@"+strings.TrimPrefix(t, "@"))
	}
	byKey := map[string]int{}
	add := func(section string, owners []string, needed int, file string, patterns ...string) {
		owners = appendNew(slices.Clone(owners), extra...)
		key := strings.ToLower(section) + "\x00" + strings.Join(owners, " ")
		i, ok := byKey[key]
		if !ok {
			i = len(reqs)
			byKey[key] = i
			reqs = append(reqs, Requirement{Section: section, Owners: owners, Needed: needed})
		}
		reqs[i].Needed = max(reqs[i].Needed, needed)
		reqs[i].Files = appendNew(reqs[i].Files, file)
		for _, p := range patterns {
			if !slices.Contains(reqs[i].Patterns, p) {
				reqs[i].Patterns = append(reqs[i].Patterns, p)
			}
		}
	}
	optKeys := map[string]bool{}
	for _, file := range in.Files {
		owned := false
		var optSections, optOwners, optPatterns []string
		if in.CodeOwners != nil {
			for _, mt := range in.CodeOwners.Owners(file) {
				if len(mt.Owners) == 0 {
					continue
				}
				if mt.Optional {
					optSections = appendNew(optSections, mt.Section)
					optOwners = appendNew(optOwners, mt.Owners...)
					optPatterns = append(optPatterns, mt.Rule.Pattern)
					continue
				}
				owned = true
				add(mt.Section, mt.Owners, max(in.Policy.Needed(), mt.Approvals), file, mt.Rule.Pattern)
			}
		}
		if !owned && len(optOwners) > 0 {
			section := strings.Join(optSections, ", ")
			add(section, optOwners, in.Policy.Needed(), file, optPatterns...)
			optKeys[strings.ToLower(section)+"\x00"+strings.Join(appendNew(slices.Clone(optOwners), extra...), " ")] = true
			owned = true
		}
		if owned {
			continue
		}
		if len(extra) == 0 {
			unowned = append(unowned, file)
			continue
		}
		add("", nil, in.Policy.Needed(), file)
	}
	for key, i := range byKey {
		if optKeys[key] {
			optional = append(optional, reqs[i])
		}
	}
	sort.Slice(optional, func(i, j int) bool { return optional[i].Section < optional[j].Section })
	return reqs, unowned, optional
}

// latestDecisive returns each reviewer's latest decisive review (APPROVED, CHANGES_REQUESTED or
// DISMISSED; comments and pending reviews change nothing), in order of the reviewers' first review.
// rs is in the forge's chronological order.
func latestDecisive(rs []forge.Review) []forge.Review {
	idx := map[string]int{}
	var out []forge.Review
	for _, r := range rs {
		switch strings.ToUpper(r.State) {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
		default:
			continue
		}
		r.State = strings.ToUpper(r.State)
		k := strings.ToLower(r.Author)
		if i, ok := idx[k]; ok {
			out[i] = r
			continue
		}
		idx[k] = len(out)
		out = append(out, r)
	}
	return out
}

type eligibility struct {
	ctx       context.Context
	m         Membership
	dialect   codeowners.Dialect
	cache     map[string]bool
	forbidden map[string]bool
	// unread are the teams of forbidden whose standing (TeamStanding) the token could not read.
	unread map[string]bool
}

// unfitTeam is a team, or a user, CODEOWNERS names that owns nothing on GitHub, and the files it was
// named for.
type unfitTeam struct {
	team   string
	access forge.TeamAccess
	files  []string
	// user is set for a user without write access (an invalid owner on GitHub).
	user bool
}

// note says which team or user owns nothing, for which files, why and what to do.
func (u unfitTeam) note(repo string) string {
	where := cmp.Or(repo, "the repository")
	if u.user {
		why := fmt.Sprintf("has the %s role on %s, without write access", u.access.Role, where)
		if u.access.Role == "none" || u.access.Role == "" {
			why = "has no access to " + where
		}
		return fmt.Sprintf("%s, whom CODEOWNERS names as an owner of %s, %s: GitHub counts a user as code owner only with write access "+
			"(an invalid owner otherwise), so it requests no review of them and counts no approval of theirs, nor does the gate; "+
			"grant them write access to %s, or name owners in CODEOWNERS who may write", u.team, strings.Join(u.files, ", "), why, where)
	}
	var why, fix []string
	if u.access.Secret {
		why = append(why, "is secret")
		fix = append(fix, "make it visible")
	}
	switch {
	case u.access.Role == "":
		why = append(why, "has no access to "+where)
		fix = append(fix, "give it write access to "+where)
	case !u.access.Writes:
		why = append(why, fmt.Sprintf("has the %s role on %s, without write access", u.access.Role, where))
		fix = append(fix, "give it write access to "+where)
	}
	return fmt.Sprintf("%s, which CODEOWNERS names as an owner of %s, %s: GitHub counts a team as code owner only when it is visible and has "+
		"write access to the repository, even if its members have write access of their own, so it requests no review of it and counts "+
		"its members' approvals as no code owner's, nor does the gate; %s, or name owners in CODEOWNERS who may write",
		u.team, strings.Join(u.files, ", "), strings.Join(why, " and "), strings.Join(fix, " and "))
}

// teamStanding reads the standing (TeamStanding) of every team CODEOWNERS names as an owner of the files
// and takes those GitHub does not count (secret, or without write access) out of the requirements'
// owners, returning them. A team the token cannot read stays an owner, whose members' approvals count
// no more than those of a team whose members it cannot read (forbidden). approval.dba_teams are the
// policy's own approvers, not code owners: GitHub's rule for code owners is not theirs, and they are
// not read.
func (e *eligibility) teamStanding(in Input, reqs []Requirement) ([]Requirement, []unfitTeam, error) {
	policy := map[string]bool{}
	for _, t := range slices.Concat(in.Policy.DBATeams, in.Policy.DBAUsers) {
		policy[strings.ToLower("@"+strings.TrimPrefix(t, "@"))] = true
	}
	ts, _ := e.m.(TeamStanding)
	us, _ := e.m.(forge.UserReader)
	standing := map[string]*forge.TeamAccess{} // lower-cased team or user → its access; nil: unread
	var unfit []unfitTeam
	for i := range reqs {
		var keep []string
		for _, o := range reqs[i].Owners {
			if !matchable(o) || policy[strings.ToLower(o)] {
				keep = append(keep, o)
				continue
			}
			k := strings.ToLower(o)
			if !strings.Contains(o, "/") {
				// A user: GitHub counts them as code owner only with write access (an invalid owner
				// otherwise), and counts no approval of theirs.
				a, read := standing[k]
				if !read && us != nil {
					got, err := us.UserAccess(e.ctx, in.Repo, o)
					switch {
					case errors.Is(err, forge.ErrForbidden):
						// Unread: kept, as the role of an approver is read again with their review.
					case err != nil:
						return nil, nil, fmt.Errorf("check whether %s may own files of %s: %w", o, cmp.Or(in.Repo, "the repository"), err)
					default:
						a = &forge.TeamAccess{Role: got.Role, Writes: got.Writes}
					}
					standing[k] = a
				}
				if a == nil || a.Writes {
					keep = append(keep, o)
					continue
				}
				j := slices.IndexFunc(unfit, func(u unfitTeam) bool { return strings.EqualFold(u.team, o) })
				if j < 0 {
					j = len(unfit)
					unfit = append(unfit, unfitTeam{team: o, access: *a, user: true})
				}
				unfit[j].files = appendNew(unfit[j].files, reqs[i].Files...)
				continue
			}
			a, read := standing[k]
			if !read {
				switch {
				case ts == nil:
					e.forbidden[o], e.unread[o] = true, true
				default:
					got, err := ts.TeamAccess(e.ctx, in.Repo, o)
					switch {
					case errors.Is(err, forge.ErrForbidden):
						e.forbidden[o], e.unread[o] = true, true
					case err != nil:
						return nil, nil, fmt.Errorf("check whether %s may own files of %s: %w", o, cmp.Or(in.Repo, "the repository"), err)
					default:
						a = &got
					}
				}
				standing[k] = a
			}
			if a == nil || (a.Writes && !a.Secret) {
				keep = append(keep, o)
				continue
			}
			j := slices.IndexFunc(unfit, func(u unfitTeam) bool { return strings.EqualFold(u.team, o) })
			if j < 0 {
				j = len(unfit)
				unfit = append(unfit, unfitTeam{team: o, access: *a})
			}
			unfit[j].files = appendNew(unfit[j].files, reqs[i].Files...)
		}
		reqs[i].Owners = keep
	}
	return reqs, unfit, nil
}

// memberOfUnfit returns the first of the unfit teams login is a member of ("" for none), so that their
// approval's note says why it is no code owner's. A team whose members the token cannot read is passed
// over: the note on the team says what GitHub does with it.
func (e *eligibility) memberOfUnfit(login string, unfit []unfitTeam) (string, error) {
	if e.m == nil {
		return "", nil
	}
	for _, u := range unfit {
		if u.user {
			continue
		}
		ok, err := e.m.IsMember(e.ctx, strings.TrimPrefix(u.team, "@"), login)
		switch {
		case errors.Is(err, forge.ErrForbidden):
		case err != nil:
			return "", fmt.Errorf("check whether %s is in %s: %w", login, u.team, err)
		case ok:
			return u.team, nil
		}
	}
	return "", nil
}

// owns reports whether login is one of owners, directly or through a team.
func (e *eligibility) owns(login string, owners []string) (bool, error) {
	for _, o := range owners {
		if strings.HasPrefix(o, "@@") || !strings.HasPrefix(o, "@") {
			continue // roles and e-mail addresses cannot be matched to a login
		}
		name := o[1:]
		if forge.SameLogin(name, login) {
			return true, nil
		}
		isTeam := strings.Contains(name, "/")
		if !isTeam && e.dialect != codeowners.GitLab {
			continue
		}
		// On GitLab "@name" may be a user or a top-level group.
		ok, err := e.member(name, login, !isTeam)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (e *eligibility) member(team, login string, maybeUser bool) (bool, error) {
	key := strings.ToLower(team + "\x00" + login)
	if v, ok := e.cache[key]; ok {
		return v, nil
	}
	if e.m == nil {
		e.forbidden["@"+team] = true
		return false, nil
	}
	if e.unread["@"+team] {
		// Its members would count only if its standing did, which the token could not read.
		return false, nil
	}
	ok, err := e.m.IsMember(e.ctx, team, login)
	switch {
	case err == nil:
	case errors.Is(err, forge.ErrForbidden):
		e.forbidden["@"+team] = true
		ok = false
	case errors.Is(err, forge.ErrNotFound) && maybeUser:
		ok = false
	default:
		return false, fmt.Errorf("check whether %s is in %s: %w", login, team, err)
	}
	e.cache[key] = ok
	return ok, nil
}

// outsiderNote says why a review from who (what they did: "approved", "requested changes"), who may not
// write to repo, does not count; role is their role on it when the forge was asked ("" when their
// association alone settled it).
func outsiderNote(who, did, role, repo string) string {
	where := cmp.Or(repo, "the repository")
	what := "their approval was not counted"
	if did != "approved" {
		what = "their request was not counted"
	}
	switch role {
	case "":
		return fmt.Sprintf("%s %s but is no member, collaborator or owner of the repository (GitHub counts no review of theirs): %s; "+
			"a user who left, or a login given up and taken by someone else; remove it from CODEOWNERS and approval.dba_users", who, did, what)
	case "none":
		return fmt.Sprintf("%s %s but has no access to %s (GitHub counts reviews only from users with write access): %s; "+
			"a user who left, a login given up and taken by someone else, or one never granted access; grant them write access, "+
			"or remove them from CODEOWNERS and approval.dba_users", who, did, where, what)
	}
	return fmt.Sprintf("%s %s but has the %s role on %s, without write access (GitHub counts reviews only from users with write, maintain or admin access): %s; "+
		"grant them write access (or their team), or remove them from CODEOWNERS and approval.dba_users", who, did, role, where, what)
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, it) }) {
			list = append(list, it)
		}
	}
	return list
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	if sha == "" {
		return "(unknown)"
	}
	return sha
}
