package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/schemagate/schemagate/internal/forge"
)

// System note bodies GitLab writes when someone approves, revokes an approval or requests changes.
const (
	approvedNote         = "approved this merge request"
	unapprovedNote       = "unapproved this merge request"
	requestedChangesNote = "requested changes"
)

// requestedChanges is the state of a merge request reviewer who submitted a review with "Request
// changes" (GitLab 17.x); approving moves it to "approved", a re-requested review to "unreviewed".
const requestedChanges = "requested_changes"

// Comments lists every note of the merge request, all pages, oldest first; system notes (approvals,
// pushes, label changes) are included with System set, and callers skip them.
func (c *Client) Comments(ctx context.Context, ref forge.Ref) ([]forge.Comment, error) {
	notes, err := c.notes(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]forge.Comment, 0, len(notes))
	for _, n := range notes {
		out = append(out, forge.Comment{ID: n.ID, Author: n.Author.Username, Body: n.Body, System: n.System})
	}
	return out, nil
}

func (c *Client) notes(ctx context.Context, ref forge.Ref) ([]*gl.Note, error) {
	op := fmt.Sprintf("list notes of merge request %s!%d", ref.Repo, ref.Number)
	opt := &gl.ListMergeRequestNotesOptions{
		ListOptions: gl.ListOptions{PerPage: 100, Page: 1},
		OrderBy:     gl.Ptr("created_at"),
		Sort:        gl.Ptr("asc"),
	}
	ns, err := allPages(c, op, &opt.ListOptions, func() ([]*gl.Note, *gl.Response, error) {
		return c.api.Notes.ListMergeRequestNotes(ref.Repo, int64(ref.Number), opt, ctxOpt(ctx))
	})
	return ns, inProject(err, ref.Repo)
}

// MaxNoteLength is the longest note GitLab accepts, in characters.
const MaxNoteLength = 1_000_000

// MaxCommentRunes is MaxNoteLength (see forge.CommentLimiter).
func (c *Client) MaxCommentRunes() int { return MaxNoteLength }

func checkLength(op, body string) error {
	if n := utf8.RuneCountInString(body); n > MaxNoteLength {
		return fmt.Errorf("%s: the note has %d characters, GitLab accepts at most %d", op, n, MaxNoteLength)
	}
	return nil
}

// CreateComment adds a note, its body passed through SanitizeNote, and returns its ID. A token that
// cannot write notes (CI_JOB_TOKEN, none, too weak a role) yields a wrapped forge.ErrReadOnly whose Hint
// names the fix.
func (c *Client) CreateComment(ctx context.Context, ref forge.Ref, body string) (int64, error) {
	op := fmt.Sprintf("create note on merge request %s!%d", ref.Repo, ref.Number)
	body = SanitizeNote(body)
	if err := checkLength(op, body); err != nil {
		return 0, err
	}
	n, _, err := c.api.Notes.CreateMergeRequestNote(ref.Repo, int64(ref.Number),
		&gl.CreateMergeRequestNoteOptions{Body: gl.Ptr(body)}, ctxOpt(ctx))
	if err != nil {
		return 0, c.mapErr(op, err, write)
	}
	return n.ID, nil
}

// StoredBody is a note body as GitLab gets it from this client (see forge.BodyStorer).
func (c *Client) StoredBody(body string) string { return SanitizeNote(body) }

// UpdateComment replaces a note's body, passed through SanitizeNote.
func (c *Client) UpdateComment(ctx context.Context, ref forge.Ref, id int64, body string) error {
	op := fmt.Sprintf("update note %d on merge request %s!%d", id, ref.Repo, ref.Number)
	body = SanitizeNote(body)
	if err := checkLength(op, body); err != nil {
		return err
	}
	_, _, err := c.api.Notes.UpdateMergeRequestNote(ref.Repo, int64(ref.Number), id,
		&gl.UpdateMergeRequestNoteOptions{Body: gl.Ptr(body)}, ctxOpt(ctx))
	return c.mapErr(op, err, write)
}

// approvals is GET /projects/:id/merge_requests/:iid/approvals, with approved_at which client-go drops.
type approvals struct {
	ApprovedBy []struct {
		User       gl.BasicUser `json:"user"`
		ApprovedAt *time.Time   `json:"approved_at"`
	} `json:"approved_by"`
}

// Reviews returns the approval history of the merge request, oldest first: GitLab keeps no list of
// approval events, so it is read from the "approved / unapproved this merge request" system notes and
// reconciled with the current approvals (GET .../approvals, which holds approvals whose notes are gone,
// and drops approvals GitLab reset on push). A GitLab approval belongs to the merge request, not to a
// commit, and a push keeps it unless the project resets approvals on push; so each review carries the
// head of the diff version that was current when it was given (GET .../versions: GitLab records one
// per push), and the gate's stale_on_push policy works as on GitHub.
//
// A review submitted with "Request changes" (GitLab 17.x) is a CHANGES_REQUESTED review, as on GitHub:
// GitLab writes a "requested changes" system note, removes the user's approval without a note, sets
// their reviewer state to requested_changes (GET .../reviewers) and blocks the merge until they approve
// again. The reviewer state is the authority: a reviewer in requested_changes whose notes do not end
// with a request gets one after their other reviews, and a reviewer whose request was withdrawn (the
// review re-requested, which moves the state to unreviewed) gets a DISMISSED review after it, as a
// dismissed review on GitHub. A user who requested changes without being a reviewer has no state: the
// note stands until they approve.
func (c *Client) Reviews(ctx context.Context, ref forge.Ref) ([]forge.Review, error) {
	mr, err := c.ChangeRequest(ctx, ref)
	if err != nil {
		return nil, err
	}
	notes, err := c.notes(ctx, ref)
	if err != nil {
		return nil, err
	}
	path := fmt.Sprintf("projects/%s/merge_requests/%d/approvals", gl.PathEscape(ref.Repo), ref.Number)
	req, err := c.api.NewRequest(http.MethodGet, path, nil, []gl.RequestOptionFunc{ctxOpt(ctx)})
	if err != nil {
		return nil, fmt.Errorf("read approvals of merge request %s!%d: %w", ref.Repo, ref.Number, err)
	}
	var cur approvals
	if _, err := c.api.Do(req, &cur); err != nil {
		return nil, c.mapErr(fmt.Sprintf("read approvals of merge request %s!%d", ref.Repo, ref.Number), err, read)
	}
	reviewers, err := c.reviewers(ctx, ref)
	if err != nil {
		return nil, err
	}

	var out []forge.Review
	last := map[string]string{}      // lower-cased username → latest state
	lastAt := map[string]time.Time{} // lower-cased username → time of their latest review
	var latest time.Time
	add := func(author, state string, at time.Time) {
		name := strings.ToLower(author)
		latest = maxTime(latest, at)
		out = append(out, forge.Review{Author: author, State: state, CommitSHA: mr.HeadSHA, SubmittedAt: at})
		last[name], lastAt[name] = state, maxTime(lastAt[name], at)
	}
	for _, n := range notes {
		if !n.System {
			continue
		}
		switch strings.TrimSpace(n.Body) {
		case approvedNote:
			add(n.Author.Username, "APPROVED", noteTime(n))
		case unapprovedNote:
			add(n.Author.Username, "DISMISSED", noteTime(n))
		case requestedChangesNote:
			add(n.Author.Username, "CHANGES_REQUESTED", noteTime(n))
		}
	}
	approved := map[string]bool{}
	for _, a := range cur.ApprovedBy {
		name := strings.ToLower(a.User.Username)
		approved[name] = true
		if last[name] == "APPROVED" || (a.ApprovedAt == nil && last[name] == "CHANGES_REQUESTED") {
			// Noted already; or of unknown time, which must not undo a later request for changes.
			continue
		}
		at := latest
		if a.ApprovedAt != nil {
			at = *a.ApprovedAt
		}
		add(a.User.Username, "APPROVED", at)
	}
	// Approvals the notes show but GitLab no longer counts were reset (a push, a rule change).
	for _, r := range slices.Clone(out) {
		name := strings.ToLower(r.Author)
		if last[name] == "APPROVED" && !approved[name] {
			add(r.Author, "DISMISSED", latest)
		}
	}
	for _, rv := range reviewers {
		if rv == nil || rv.User == nil {
			continue
		}
		name := strings.ToLower(rv.User.Username)
		switch {
		case rv.State == requestedChanges && last[name] != "CHANGES_REQUESTED":
			add(rv.User.Username, "CHANGES_REQUESTED", lastAt[name])
		case rv.State != requestedChanges && last[name] == "CHANGES_REQUESTED":
			add(rv.User.Username, "DISMISSED", latest)
		}
	}
	slices.SortStableFunc(out, func(a, b forge.Review) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	versions, err := c.versions(ctx, ref)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].CommitSHA = headAt(versions, out[i].SubmittedAt, mr.HeadSHA)
	}
	return out, nil
}

// reviewers lists the merge request's reviewers with their review state (GET .../reviewers, all pages).
// A GitLab without the endpoint (before 15.3) answers 404: it has no reviewer states, so none.
func (c *Client) reviewers(ctx context.Context, ref forge.Ref) ([]*gl.MergeRequestReviewer, error) {
	op := fmt.Sprintf("list reviewers of merge request %s!%d", ref.Repo, ref.Number)
	path := fmt.Sprintf("projects/%s/merge_requests/%d/reviewers", gl.PathEscape(ref.Repo), ref.Number)
	opt := &gl.ListOptions{PerPage: 100, Page: 1}
	rs, err := allPages(c, op, opt, func() ([]*gl.MergeRequestReviewer, *gl.Response, error) {
		req, err := c.api.NewRequest(http.MethodGet, path, opt, []gl.RequestOptionFunc{ctxOpt(ctx)})
		if err != nil {
			return nil, nil, err
		}
		var page []*gl.MergeRequestReviewer
		resp, err := c.api.Do(req, &page)
		return page, resp, err
	})
	if errors.Is(err, forge.ErrNotFound) {
		return nil, nil
	}
	return rs, err
}

// version is one diff version of a merge request: the head a push left, and when.
type version struct {
	head string
	at   time.Time
}

// versions lists the merge request's diff versions, oldest first.
func (c *Client) versions(ctx context.Context, ref forge.Ref) ([]version, error) {
	op := fmt.Sprintf("list diff versions of merge request %s!%d", ref.Repo, ref.Number)
	opt := &gl.GetMergeRequestDiffVersionsOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: 1}}
	vs, err := allPages(c, op, &opt.ListOptions, func() ([]*gl.MergeRequestDiffVersion, *gl.Response, error) {
		return c.api.MergeRequests.GetMergeRequestDiffVersions(ref.Repo, int64(ref.Number), opt, ctxOpt(ctx))
	})
	if err != nil {
		return nil, err
	}
	var out []version
	for _, v := range vs {
		if v.CreatedAt != nil && v.HeadCommitSHA != "" {
			out = append(out, version{head: v.HeadCommitSHA, at: *v.CreatedAt})
		}
	}
	slices.SortStableFunc(out, func(a, b version) int { return a.at.Compare(b.at) })
	return out, nil
}

// headAt is the head of the last version pushed at or before t: the commit an approval given at t
// approved. Without versions or a time it is head, the merge request's current head.
func headAt(versions []version, t time.Time, head string) string {
	if len(versions) == 0 || t.IsZero() {
		return head
	}
	at := versions[0].head // an approval dated before the first version (clock skew) approved that one
	for _, v := range versions {
		if v.at.After(t) {
			break
		}
		at = v.head
	}
	return at
}

func noteTime(n *gl.Note) time.Time {
	if n.CreatedAt != nil {
		return *n.CreatedAt
	}
	return time.Time{}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ApprovalRule is one rule of a merge request's approval state (GitLab Premium and Ultimate).
type ApprovalRule struct {
	// Name is the rule's name; for a code-owner rule, the CODEOWNERS pattern or owner.
	Name string
	// Type is GitLab's rule_type: regular, code_owner, report_approver or any_approver.
	Type string
	// Section is the CODEOWNERS section of a code-owner rule ("codeowners" for the default section).
	Section string
	// Required is approvals_required; 0 for an optional CODEOWNERS section ("^[Section]").
	Required int
	// Approved reports whether GitLab counts the rule as satisfied.
	Approved bool
	// ApprovedBy are the usernames whose approvals count toward the rule.
	ApprovedBy []string
	// Eligible are the usernames who may approve for the rule.
	Eligible []string
	// Groups are the full paths of the groups the rule names.
	Groups []string
}

// ApprovalRules returns the merge request's approval rules with what GitLab counts toward each
// (GET .../approval_state). Tiers without approval rules (Free) answer 404 or 403: the error then wraps
// forge.ErrNotFound or forge.ErrForbidden and callers fall back to Reviews and CODEOWNERS.
func (c *Client) ApprovalRules(ctx context.Context, ref forge.Ref) ([]ApprovalRule, error) {
	st, _, err := c.api.MergeRequestApprovals.GetApprovalState(ref.Repo, int64(ref.Number), ctxOpt(ctx))
	if err != nil {
		return nil, c.mapErr(fmt.Sprintf("read approval state of merge request %s!%d", ref.Repo, ref.Number), err, read)
	}
	out := make([]ApprovalRule, 0, len(st.Rules))
	for _, r := range st.Rules {
		if r == nil {
			continue
		}
		ar := ApprovalRule{Name: r.Name, Type: r.RuleType, Section: r.Section, Required: int(r.ApprovalsRequired), Approved: r.Approved}
		for _, u := range r.ApprovedBy {
			if u != nil {
				ar.ApprovedBy = append(ar.ApprovedBy, u.Username)
			}
		}
		for _, u := range r.EligibleApprovers {
			if u != nil {
				ar.Eligible = append(ar.Eligible, u.Username)
			}
		}
		for _, g := range r.Groups {
			if g != nil {
				ar.Groups = append(ar.Groups, g.FullPath)
			}
		}
		out = append(out, ar)
	}
	return out, nil
}
