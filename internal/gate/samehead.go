package gate

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
)

// Sharer is another open change request whose head is the same commit as the one decided, as SameHead
// judged it.
type Sharer struct {
	Number  int    `json:"number"`
	BaseRef string `json:"base_ref,omitempty"`
	// State is what the policy says of it: approved or not-required when it is satisfied.
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// Satisfied reports whether the policy is satisfied on the change request.
func (s Sharer) Satisfied() bool { return s.State == Approved || s.State == NotRequired }

// HeadState is the state of the commit status of the decided head: the decision's own, but pending
// when it would be a success while another open change request with that head is not satisfied, or
// could not be listed (see SameHead). The commit status, and the exit code, follow it; the approval
// record stays the change request's own decision.
func (d *Decision) HeadState() string {
	if (d.State == Approved || d.State == NotRequired) && d.HeadWaits() != "" {
		return Pending
	}
	return d.State
}

// HeadWaits says, when not empty, why the head's commit status stays pending although this change
// request is satisfied: the others with the same head that are not, or that they could not be listed.
func (d *Decision) HeadWaits() string {
	if d.SharedHeadUnread != "" {
		return "cannot list the pull requests with the same head: " + d.SharedHeadUnread
	}
	var waiting []string
	for _, s := range d.SharedHead {
		if !s.Satisfied() {
			waiting = append(waiting, fmt.Sprintf("#%d", s.Number))
		}
	}
	switch len(waiting) {
	case 0:
		return ""
	case 1:
		return waiting[0] + " has the same head and needs its own DBA approval"
	}
	return strings.Join(waiting, ", ") + " have the same head and need their own DBA approval"
}

// SameHead judges the other open change requests whose head is cr's (forge.SameHeadLister), when the
// decision d would set success on it: GitHub keeps the commit status per commit, so a branch opened
// against two bases shows one status in both pull requests, and a success set for the approved one
// would pass the other, which nobody approved, whatever its own gate said before. Each is judged as
// Evaluate judges a change request (its reviews, author and staleness, CODEOWNERS of its base,
// approval.dba_users and dba_teams), on the files of req.Report.Dir it changes against its own base:
// none, and it needs no approval; only new migrations of this report, and their risk is this report's;
// any other, and their risk is unknown to this run, so an approval is required whatever it is (unless
// approval.require is never). The results go to d.SharedHead, where HeadState reads them. A token that
// may not list them leaves d.SharedHeadUnread set: a success nobody can vouch for is not given, as an
// approval through a team whose members the token cannot read is not counted. A forge whose statuses
// are not shared so (SameHead answers errors.ErrUnsupported) is left alone.
func SameHead(ctx context.Context, f forge.Forge, req Request, cr *forge.ChangeRequest, d *Decision) error {
	if d.State != Approved && d.State != NotRequired {
		return nil // the status is no success: it passes no other change request
	}
	sl, ok := f.(forge.SameHeadLister)
	if !ok {
		return nil
	}
	others, err := sl.SameHead(ctx, cr)
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		return nil
	case errors.Is(err, forge.ErrForbidden):
		d.SharedHeadUnread = "the token may not list pull requests (give it pull-requests: read)"
		d.Notes = append(d.Notes, fmt.Sprintf("the commit status stays pending: %s; another open pull request with head %s would show a success given for this one (%v)",
			d.SharedHeadUnread, short(cr.HeadSHA), err))
		return nil
	case err != nil:
		return fmt.Errorf("check the pull requests with the same head: %w", err)
	}
	ours := MigrationFiles(req.Report, nil)
	for _, o := range others {
		s, err := judgeSharer(ctx, f, req, o, ours)
		if err != nil {
			return fmt.Errorf("check %s#%d, which has the same head: %w", o.Repo, o.Number, err)
		}
		d.SharedHead = append(d.SharedHead, s)
		if !s.Satisfied() {
			d.Notes = append(d.Notes, fmt.Sprintf("#%d (into %s) has the same head %s, whose commit status it shows: %s — %s; the status stays pending until it is approved too",
				s.Number, s.BaseRef, short(cr.HeadSHA), s.State, s.Reason))
		}
	}
	return nil
}

// judgeSharer decides other, a change request with the head of the one decided (see SameHead); ours
// are the files of the decided report's new migrations.
func judgeSharer(ctx context.Context, f forge.Forge, req Request, other *forge.ChangeRequest, ours []string) (Sharer, error) {
	s := Sharer{Number: other.Number, BaseRef: other.BaseRef}
	ref := forge.Ref{Repo: req.Ref.Repo, Number: other.Number}
	changed, err := sharerFiles(ctx, f, ref)
	if err != nil {
		return s, err
	}
	dir := strings.Trim(path.Clean("/"+req.Report.Dir), "/")
	var files []string
	known := true
	for _, c := range changed {
		if dir != "" && !strings.HasPrefix(c, dir+"/") {
			continue
		}
		files = appendNew(files, c)
		known = known && slices.Contains(ours, c)
	}
	if len(files) == 0 {
		s.State, s.Reason = NotRequired, fmt.Sprintf("it changes no file of %s", cmpDir(dir))
		return s, nil
	}
	policy := req.Policy
	if !known && policy.RequireLevel() != config.RequireNever {
		// Its own base may make other migrations new, of a risk this run did not measure.
		policy.Require = config.RequireAlways
	}
	in := Input{Policy: policy, Dialect: req.Dialect, Risk: req.Report.RiskForApproval(), NewMigrations: len(files), Files: files,
		Repo: req.Ref.Repo, Author: other.Author, HeadSHA: other.HeadSHA}
	if Required(policy, in.Risk) {
		if in.Reviews, err = f.Reviews(ctx, ref); err != nil {
			return s, err
		}
		base := other.BaseSHA
		if base == "" {
			base = other.BaseRef
		}
		if in.CodeOwners, _, in.Notes, err = ReadCodeOwners(ctx, f, req.Ref.Repo, base, req.Dialect, req.Policy.CodeownersPath); err != nil {
			return s, err
		}
	}
	d, err := Decide(ctx, in, f)
	if err != nil {
		return s, err
	}
	s.State, s.Reason = d.State, d.Reason
	if !known && d.State != Approved {
		s.Reason += " (it changes migration files that are not this pull request's new migrations, whose risk this run did not measure)"
	}
	return s, nil
}

// sharerFiles are the paths a change request changes against its own base, removed ones included
// (removing a migration needs approval as much as adding one) when the forge lists them.
func sharerFiles(ctx context.Context, f forge.Forge, ref forge.Ref) ([]string, error) {
	fl, ok := f.(forge.FileLister)
	if !ok {
		return f.ChangedFiles(ctx, ref)
	}
	fs, err := fl.Files(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, file := range fs {
		out = append(out, file.Path)
		if file.PreviousPath != "" {
			out = append(out, file.PreviousPath)
		}
	}
	return out, nil
}

// cmpDir names a folder, the repository's root for "".
func cmpDir(dir string) string {
	if dir == "" {
		return "the repository"
	}
	return dir
}
