// Package gitlab is the GitLab (gitlab.com and self-managed) adapter of forge.Forge, over the REST API v4
// with client-go. It paginates every list, maps GitLab's refusals onto forge's errors with a hint a user
// can act on, retries rate-limited requests itself, and passes every note body through SanitizeNote so
// that no text of the merge request can run a quick action with the bot's rights.
package gitlab

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/schemagate/schemagate/internal/forge"
)

var (
	_ forge.Forge          = (*Client)(nil)
	_ forge.FileLister     = (*Client)(nil)
	_ forge.CommentLimiter = (*Client)(nil)
)

// DefaultBaseURL is gitlab.com's REST API.
const DefaultBaseURL = "https://gitlab.com/api/v4"

// TokenHint is what to do when GitLab refuses the access token in GITLAB_TOKEN.
const TokenHint = "put a project or group access token with `api` scope in GITLAB_TOKEN " +
	"(a masked CI/CD variable)"

// JobTokenHint is what to do when GitLab refuses CI_JOB_TOKEN, which schemagate uses when GITLAB_TOKEN is
// empty.
const JobTokenHint = "CI_JOB_TOKEN cannot write notes or commit statuses, nor read approvals: " + TokenHint

// maxPages bounds every pagination loop, in case a server keeps answering a next page.
const maxPages = 10000

// Options configures a Client.
type Options struct {
	// Token is a project, group or personal access token sent as PRIVATE-TOKEN (GITLAB_TOKEN).
	Token string
	// JobToken is CI_JOB_TOKEN, sent as JOB-TOKEN when Token is empty: it reads merge requests and notes
	// but cannot write notes, so writes fail with forge.ErrReadOnly.
	JobToken string
	// BaseURL is the REST API root: CI_API_V4_URL, e.g. https://gitlab.example.com/api/v4. Empty means
	// gitlab.com.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Sleep waits between rate-limited attempts; nil means a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to read RateLimit-Reset; nil means time.Now.
	Now func() time.Time
	// MaxRetries bounds the retries of a rate-limited request (default 3).
	MaxRetries int
	// MaxWait is the longest single wait accepted (default 2 minutes); a longer one fails at once.
	MaxWait time.Duration
	// Pipeline is the CI pipeline the job runs in; the zero value outside GitLab CI.
	Pipeline Pipeline
}

// Pipeline is the GitLab CI pipeline a job runs in, from its predefined variables. SetStatus puts a
// status on the pipeline's own commit into this pipeline: without pipeline_id GitLab adds it to the
// newest pipeline of the commit, which may be another's (a second merge request from the same branch, a
// branch pipeline created after the merge request pipeline, a scheduled run), where a pending status of
// this job can hold that pipeline up while this one never gets it.
type Pipeline struct {
	// ID is CI_PIPELINE_ID; 0 means none.
	ID int64
	// Project is the project the pipeline runs in (CI_PROJECT_PATH), as SetStatus's repo names it: a
	// fork's merge request pipeline may run in the fork while the status goes to the target project.
	Project string
	// SHA is the commit the pipeline runs on (CI_COMMIT_SHA). In a merged results or merge train
	// pipeline it is the temporary merge commit, not the merge request's head the status goes to:
	// GitLab answers 404 for a pipeline_id that is not a pipeline of the commit (older releases created
	// a new pipeline), so none is sent there.
	SHA string
}

// holds reports whether a status on sha in project repo belongs in the pipeline.
func (p Pipeline) holds(repo, sha string) bool {
	return p.ID > 0 && p.SHA != "" && strings.EqualFold(p.SHA, sha) && p.Project != "" && strings.EqualFold(p.Project, repo)
}

// Client talks to one GitLab instance.
type Client struct {
	api *gl.Client
	// anonymous is set when no access token was given: the client may read, never write.
	anonymous bool
	// jobToken is set when the client sends CI_JOB_TOKEN.
	jobToken bool
	// pipeline is the job's pipeline, where statuses on its commit go.
	pipeline Pipeline

	mu    sync.Mutex
	login string
	// merged remembers ChangeRequestOfFile's answer per project, commit and branch.
	merged forge.Memo[string, *forge.ChangeRequest]
}

// New returns a Client.
func New(opts Options) (*Client, error) {
	hc := newRetryTransport(nil, opts).Client(opts.HTTPClient)
	baseURL := opts.BaseURL
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("parse GitLab API URL %q: want e.g. https://gitlab.com/api/v4 (CI_API_V4_URL)", baseURL)
	}
	copts := []gl.ClientOptionFunc{gl.WithBaseURL(baseURL), gl.WithHTTPClient(hc), gl.WithoutRetries()}
	var (
		api *gl.Client
		err error
	)
	if opts.Token == "" && opts.JobToken != "" {
		api, err = gl.NewJobClient(opts.JobToken, copts...)
	} else {
		api, err = gl.NewClient(opts.Token, copts...)
	}
	if err != nil {
		return nil, fmt.Errorf("create GitLab client: %w", err)
	}
	return &Client{api: api, anonymous: opts.Token == "", jobToken: opts.Token == "" && opts.JobToken != "", pipeline: opts.Pipeline}, nil
}

// APIError is a refusal by GitLab, mapped onto forge's errors (Unwrap) with what to do about it (Hint).
type APIError struct {
	// Op is what was being done, e.g. "create note".
	Op string
	// Status is the HTTP status GitLab answered.
	Status int
	// Message is GitLab's "message" or "error".
	Message string
	// Err is forge.ErrReadOnly, forge.ErrNotFound or forge.ErrForbidden.
	Err error
	fix string
}

func (e *APIError) Error() string {
	s := e.Op + ":"
	switch msg, code := e.Message, strconv.Itoa(e.Status); {
	case e.Status != 0 && strings.HasPrefix(msg, code):
		s += " GitLab answered " + msg // GitLab's messages often start with the status: "404 Not Found"
	case e.Status != 0:
		s += " GitLab answered " + strings.TrimSpace(code+" "+msg)
	case msg != "":
		s += " " + msg
	default:
		s += " " + e.Err.Error()
	}
	if e.fix != "" {
		s += " (" + e.fix + ")"
	}
	return s
}

// Unwrap returns the forge error e maps to.
func (e *APIError) Unwrap() error { return e.Err }

// Hint says what to do about it.
func (e *APIError) Hint() string { return e.fix }

// kind says how a refusal of an operation maps onto forge's errors.
type kind int

const (
	read  kind = iota // 401/403 → ErrForbidden
	write             // 401/403 → ErrReadOnly
)

// mapErr translates GitLab's refusals: 404 → forge.ErrNotFound; 401 or 403 on a write →
// forge.ErrReadOnly (CI_JOB_TOKEN, a missing or expired token, a token without `api` scope or below the
// Reporter role); 401 or 403 on a read → forge.ErrForbidden. Rate limits never reach here: the
// transport retries them or returns a RateLimitError. The hint names the token actually sent.
func (c *Client) mapErr(op string, err error, k kind) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gl.ErrNotFound) {
		return &APIError{Op: op, Status: http.StatusNotFound, Message: "404 Not Found", Err: forge.ErrNotFound}
	}
	var er *gl.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	code := er.Response.StatusCode
	e := &APIError{Op: op, Status: code, Message: er.Message}
	switch code {
	case http.StatusNotFound:
		e.Err = forge.ErrNotFound
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Err = forge.ErrForbidden
		if k == write {
			e.Err = forge.ErrReadOnly
		}
		switch {
		case c != nil && c.jobToken:
			e.fix = JobTokenHint
		case bytes.Contains(er.Body, []byte("insufficient_scope")):
			// {"error":"insufficient_scope","error_description":"...","scope":"api"}: a read_api token.
			e.Message = fmt.Sprintf("%d insufficient_scope", code)
			e.fix = "the token in GITLAB_TOKEN lacks the `api` scope (read_api can read, not write): " +
				"create a project or group access token with `api` scope"
		case code == http.StatusUnauthorized:
			e.fix = "the token in GITLAB_TOKEN is missing, expired or revoked: " + TokenHint
		default:
			e.fix = "the token in GITLAB_TOKEN may not do this (role below Developer, or too narrow a scope): " + TokenHint
		}
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
	return e
}

// inProject adds to a 404 of a request about project repo that GitLab answers 404, not 403, for a
// project the token cannot see.
func inProject(err error, repo string) error {
	var ae *APIError
	if errors.As(err, &ae) && errors.Is(err, forge.ErrNotFound) && ae.fix == "" {
		ae.fix = fmt.Sprintf("GitLab answers 404 for a project the token cannot see as for one that does not exist: "+
			"check that %s is the project (CI_PROJECT_PATH, --repo) and that the user of GITLAB_TOKEN is a member of it", repo)
	}
	return err
}

func ctxOpt(ctx context.Context) gl.RequestOptionFunc { return gl.WithContext(ctx) }

// ChangeRequest returns the merge request ref.Number (its IID) of project ref.Repo.
func (c *Client) ChangeRequest(ctx context.Context, ref forge.Ref) (*forge.ChangeRequest, error) {
	mr, _, err := c.api.MergeRequests.GetMergeRequest(ref.Repo, int64(ref.Number), nil, ctxOpt(ctx))
	if err != nil {
		return nil, inProject(c.mapErr(fmt.Sprintf("get merge request %s!%d", ref.Repo, ref.Number), err, read), ref.Repo)
	}
	return toChangeRequest(ref.Repo, &mr.BasicMergeRequest, mr.DiffRefs), nil
}

func toChangeRequest(repo string, mr *gl.BasicMergeRequest, refs gl.MergeRequestDiffRefs) *forge.ChangeRequest {
	cr := &forge.ChangeRequest{
		Ref:     forge.Ref{Repo: repo, Number: int(mr.IID)},
		Title:   mr.Title,
		HeadSHA: mr.SHA,
		// GitLab judges code owners by the target branch: its head (start_sha), not the merge base
		// (base_sha), which may predate a CODEOWNERS change on the target.
		BaseSHA: cmp.Or(refs.StartSha, refs.BaseSha),
		BaseRef: mr.TargetBranch,
		State:   mr.State,
		Merged:  mr.State == "merged",
		Fork:    mr.SourceProjectID != 0 && mr.TargetProjectID != 0 && mr.SourceProjectID != mr.TargetProjectID,
	}
	if cr.HeadSHA == "" {
		cr.HeadSHA = refs.HeadSha
	}
	if mr.State == "opened" {
		cr.State = "open"
	}
	if mr.Author != nil {
		cr.Author = mr.Author.Username
	}
	return cr
}

// FindChangeRequestBySHA returns the open merge request whose head is sha, else the most recently merged
// merge request merged as sha (its merge or squash commit, or its head for a fast-forward merge). A merge
// request that merely contains sha does not count.
func (c *Client) FindChangeRequestBySHA(ctx context.Context, repo, sha string) (*forge.ChangeRequest, error) {
	op := fmt.Sprintf("find merge request of commit %s in %s", sha, repo)
	mrs, err := c.commitMergeRequests(ctx, repo, sha)
	if err != nil {
		return nil, inProject(c.mapErr(op, err, read), repo)
	}
	best := pickBySHA(mrs, sha)
	if best == nil {
		best = pickMerged(mrs, sha, "")
	}
	if best == nil {
		return nil, &APIError{Op: op, Message: "no merge request has it as its head or merge commit", Err: forge.ErrNotFound}
	}
	// The list entries carry no diff_refs: read the merge request itself for its base SHA.
	return c.ChangeRequest(ctx, forge.Ref{Repo: repo, Number: int(best.IID)})
}

// commitMergeRequests lists the merge requests that hold commit sha (GET .../repository/commits/:sha/
// merge_requests), every page: GitLab answers 20 a page, and a commit many merge requests hold (a
// branch point, a commit cherry-picked or merged again) may have its own on a later one.
func (c *Client) commitMergeRequests(ctx context.Context, repo, sha string) ([]*gl.BasicMergeRequest, error) {
	var all []*gl.BasicMergeRequest
	for page := int64(1); ; {
		mrs, resp, err := c.api.Commits.ListMergeRequestsByCommit(repo, sha, ctxOpt(ctx), gl.WithOffsetPaginationParameters(page))
		if err != nil {
			return nil, err
		}
		all = append(all, mrs...)
		if resp == nil || resp.NextPage == 0 || resp.NextPage <= page {
			return all, nil
		}
		page = resp.NextPage
	}
}

// MergedChangeRequest returns the merge request merged into branch as commit sha: the one whose merge
// commit, squash commit or (fast-forward merge) head is sha, never an open or closed one, and never one
// merged into another branch (an empty branch accepts any). This is what a deploy of sha ships; a
// wrapped forge.ErrNotFound when none is.
func (c *Client) MergedChangeRequest(ctx context.Context, repo, sha, branch string) (*forge.ChangeRequest, error) {
	return c.mergedWith(ctx, repo, sha, branch, false)
}

// mergedWith returns the merge request merged into branch ("" for any) as sha, as MergedChangeRequest
// does; with holding, when none was, the first merged into branch of those holding sha, which brought
// it in (later ones held it already in their base).
func (c *Client) mergedWith(ctx context.Context, repo, sha, branch string, holding bool) (*forge.ChangeRequest, error) {
	op := fmt.Sprintf("find the merge request merged as %s into %s in %s", sha, cmp.Or(branch, "any branch"), repo)
	mrs, err := c.commitMergeRequests(ctx, repo, sha)
	if err != nil {
		return nil, inProject(c.mapErr(op, err, read), repo)
	}
	best := pickMerged(mrs, sha, branch)
	if best == nil && holding {
		var in []*gl.BasicMergeRequest
		for _, mr := range mrs {
			if mr != nil && mr.State == "merged" && (branch == "" || mr.TargetBranch == branch) {
				in = append(in, mr)
			}
		}
		if len(in) > 0 {
			best = slices.MinFunc(in, func(a, b *gl.BasicMergeRequest) int { return mergedAt(a).Compare(mergedAt(b)) })
		}
	}
	if best == nil {
		msg := "no merge request was merged as this commit"
		if holding {
			msg = "no merge request merged into the branch brought this commit in (pushed straight to the branch?)"
		}
		return nil, &APIError{Op: op, Message: msg, Err: forge.ErrNotFound}
	}
	cr, err := c.ChangeRequest(ctx, forge.Ref{Repo: repo, Number: int(best.IID)})
	if err != nil {
		return nil, err
	}
	if !cr.Merged || (branch != "" && cr.BaseRef != branch) {
		return nil, &APIError{Op: op, Message: fmt.Sprintf("!%d is %s into %s", cr.Number, cr.State, cr.BaseRef), Err: forge.ErrNotFound}
	}
	return cr, nil
}

// ChangeRequestOfFile returns the merge request merged into branch that brought the newest commit
// changing path in the history of ref: GET /projects/:id/repository/commits?path=&ref_name=ref (its
// first entry), then the merge requests of that commit, remembered per commit. The one merged as the
// commit (MergedChangeRequest: its merge or squash commit, or its head after a fast-forward merge)
// counts first, else the first merged into branch of those holding it (a merge commit's merge request
// whose last commit did not change path). A commit pushed straight to the branch has none: wrapped
// forge.ErrNotFound.
func (c *Client) ChangeRequestOfFile(ctx context.Context, repo, path, ref, branch string) (*forge.ChangeRequest, error) {
	op := fmt.Sprintf("list the commits changing %s at %s in %s", path, ref, repo)
	cs, _, err := c.api.Commits.ListCommits(repo, &gl.ListCommitsOptions{RefName: gl.Ptr(ref), Path: gl.Ptr(path),
		ListOptions: gl.ListOptions{PerPage: 1, Page: 1}}, ctxOpt(ctx))
	if err != nil {
		return nil, inProject(c.mapErr(op, err, read), repo)
	}
	if len(cs) == 0 || cs[0] == nil || cs[0].ID == "" {
		return nil, &APIError{Op: op, Message: "no commit changed it", Err: forge.ErrNotFound}
	}
	sha := cs[0].ID
	key := repo + "\x00" + sha + "\x00" + branch
	found, err := c.merged.Get(key, func() (*forge.ChangeRequest, error) { return c.mergedWith(ctx, repo, sha, branch, true) })
	if err != nil {
		return nil, fmt.Errorf("%s was last changed by commit %.12s: %w", path, sha, err)
	}
	cr := *found
	return &cr, nil
}

// pickBySHA is the open merge request whose head is sha.
func pickBySHA(mrs []*gl.BasicMergeRequest, sha string) *gl.BasicMergeRequest {
	for _, mr := range mrs {
		if mr != nil && mr.State == "opened" && mr.SHA == sha {
			return mr
		}
	}
	return nil
}

// pickMerged is the merge request merged into branch ("" for any) as sha: by its merge or squash commit
// first, else by its head (a fast-forward merge), the most recently merged of each.
func pickMerged(mrs []*gl.BasicMergeRequest, sha, branch string) *gl.BasicMergeRequest {
	var byMerge, byHead []*gl.BasicMergeRequest
	for _, mr := range mrs {
		if mr == nil || mr.State != "merged" || (branch != "" && mr.TargetBranch != branch) {
			continue
		}
		switch {
		case mr.MergeCommitSHA == sha || mr.SquashCommitSHA == sha:
			byMerge = append(byMerge, mr)
		case mr.SHA == sha:
			byHead = append(byHead, mr)
		}
	}
	for _, list := range [][]*gl.BasicMergeRequest{byMerge, byHead} {
		if len(list) > 0 {
			return slices.MaxFunc(list, func(a, b *gl.BasicMergeRequest) int { return mergedAt(a).Compare(mergedAt(b)) })
		}
	}
	return nil
}

func mergedAt(mr *gl.BasicMergeRequest) time.Time {
	if mr.MergedAt != nil {
		return *mr.MergedAt
	}
	return time.Time{}
}

// Me returns the username of the token's user (a project access token's bot user). It is only needed
// to write, so without an access token (none, or CI_JOB_TOKEN alone, which cannot read /user) and when
// GitLab refuses the token it fails with a wrapped forge.ErrReadOnly that names the fix.
func (c *Client) Me(ctx context.Context) (string, error) {
	const op = "get the token's user"
	if c.anonymous {
		return "", &APIError{Op: op, Message: "no access token", Err: forge.ErrReadOnly, fix: TokenHint}
	}
	c.mu.Lock()
	login := c.login
	c.mu.Unlock()
	if login != "" {
		return login, nil
	}
	u, _, err := c.api.Users.CurrentUser(ctxOpt(ctx))
	if err != nil {
		return "", c.mapErr(op, err, write)
	}
	c.mu.Lock()
	c.login = u.Username
	c.mu.Unlock()
	return u.Username, nil
}

// ChangedFiles lists the paths the merge request adds, modifies or renames to, all pages, in GitLab's
// order; deleted files are left out. Beyond GitLab's diff limits (1000 files by default) it fails as
// Files does: the gate asks the owners of these files, and a file left out would need no one.
func (c *Client) ChangedFiles(ctx context.Context, ref forge.Ref) ([]string, error) {
	fs, err := c.Files(ctx, ref)
	if err != nil {
		return nil, err
	}
	return forge.Present(fs), nil
}

// Files lists the merge request's files (GET .../merge_requests/:iid/diffs), all pages, in GitLab's
// order, deleted ones included, with GitHub's words for their status: added, removed, renamed (Path is
// the new path, PreviousPath the old one) or modified. GitLab gives no blob SHA: BlobSHA is empty, and a caller that needs the
// content reads it with FileAt at the head. A merge request with more files than GitLab's diff limits
// list (its changes_count reads "1000+") is a wrapped forge.ErrIncomplete: a list that leaves files out
// cannot vouch for them.
func (c *Client) Files(ctx context.Context, ref forge.Ref) ([]forge.ChangedFile, error) {
	op := fmt.Sprintf("list changes of merge request %s!%d", ref.Repo, ref.Number)
	mr, _, err := c.api.MergeRequests.GetMergeRequest(ref.Repo, int64(ref.Number), nil, ctxOpt(ctx))
	if err != nil {
		return nil, inProject(c.mapErr(op, err, read), ref.Repo)
	}
	if strings.HasSuffix(mr.ChangesCount, "+") {
		return nil, fmt.Errorf("%s: %w: it changes more files than GitLab's diff limits list (%s): the files beyond cannot be checked; "+
			"split the merge request, or on a self-managed instance raise Admin > Settings > General > Diff limits", op, forge.ErrIncomplete, mr.ChangesCount)
	}
	return c.diffs(ctx, ref)
}

// diffsPerPage is the largest page of GET .../diffs every GitLab answers: from 15.7, when the endpoint
// came, until gitlab-org/gitlab#427168 was fixed, a per_page above 30 failed with a 500.
const diffsPerPage = 30

// diffs lists the merge request's files as GitLab's diffs give them, all pages.
func (c *Client) diffs(ctx context.Context, ref forge.Ref) ([]forge.ChangedFile, error) {
	op := fmt.Sprintf("list changes of merge request %s!%d", ref.Repo, ref.Number)
	opt := &gl.ListMergeRequestDiffsOptions{ListOptions: gl.ListOptions{PerPage: diffsPerPage, Page: 1}}
	diffs, err := allPages(c, op, &opt.ListOptions, func() ([]*gl.MergeRequestDiff, *gl.Response, error) {
		return c.api.MergeRequests.ListMergeRequestDiffs(ref.Repo, int64(ref.Number), opt, ctxOpt(ctx))
	})
	if err != nil {
		return nil, inProject(err, ref.Repo)
	}
	out := make([]forge.ChangedFile, 0, len(diffs))
	for _, d := range diffs {
		if d == nil {
			continue
		}
		f := forge.ChangedFile{Path: d.NewPath, Status: "modified"}
		switch {
		case d.DeletedFile:
			f.Path, f.Status = cmp.Or(d.OldPath, d.NewPath), "removed"
		case d.NewFile:
			f.Status = "added"
		case d.RenamedFile:
			// Where it was counts too: a migration renamed away is one the folder lost.
			f.Status, f.PreviousPath = "renamed", d.OldPath
		}
		out = append(out, f)
	}
	return out, nil
}

// allPages calls list for page 1, 2, ... of a listing whose page list's options hold, until GitLab says
// there is no next page, and returns every page's items; more than maxPages pages is an error.
func allPages[T any](c *Client, op string, page *gl.ListOptions, list func() ([]T, *gl.Response, error)) ([]T, error) {
	var out []T
	for range maxPages {
		items, resp, err := list()
		if err != nil {
			return nil, c.mapErr(op, err, read)
		}
		out = append(out, items...)
		if resp.NextPage == 0 {
			return out, nil
		}
		page.Page = resp.NextPage
	}
	return nil, fmt.Errorf("%s: more than %d pages", op, maxPages)
}

// FileAt returns a file's raw content at a branch, tag or SHA; wrapped forge.ErrNotFound when the file
// or the ref does not exist.
func (c *Client) FileAt(ctx context.Context, repo, path, ref string) ([]byte, error) {
	path = strings.TrimPrefix(path, "/")
	b, _, err := c.api.RepositoryFiles.GetRawFile(repo, path, &gl.GetRawFileOptions{Ref: gl.Ptr(ref)}, ctxOpt(ctx))
	if err != nil {
		return nil, c.mapErr(fmt.Sprintf("read %s at %s in %s", path, ref, repo), err, read)
	}
	return b, nil
}

// member is an entry of GET /groups/:id/members, with membership_state which client-go drops.
type member struct {
	Username        string `json:"username"`
	State           string `json:"state"`
	MembershipState string `json:"membership_state"`
}

// IsMember reports whether user is an active direct member of group team (a full path such as
// "acme/dba"): GitLab's code owners count a group's direct members only, not those who inherit their
// membership from an ancestor group. A blocked user or a membership awaiting a seat does not count.
// A group the token cannot see answers 404 on GitLab, so 403 and a 404 on a subgroup path yield a
// wrapped forge.ErrForbidden: the gate must not read them as "not a member". A 404 on a one-segment
// name is a user or a private top-level group: forge.ErrNotFound when GitLab has a user of that name
// (the gate then counts that user's own approval), else forge.ErrForbidden.
func (c *Client) IsMember(ctx context.Context, team, user string) (bool, error) {
	op := fmt.Sprintf("read members of group %s", team)
	opt := &gl.ListGroupMembersOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: 1}, Query: gl.Ptr(user)}
	path := "groups/" + gl.PathEscape(team) + "/members"
	for range maxPages {
		req, err := c.api.NewRequest(http.MethodGet, path, opt, []gl.RequestOptionFunc{ctxOpt(ctx)})
		if err != nil {
			return false, fmt.Errorf("%s: %w", op, err)
		}
		var ms []member
		resp, err := c.api.Do(req, &ms)
		if err != nil {
			err = c.mapErr(op, err, read)
			var ae *APIError
			if errors.As(err, &ae) && errors.Is(err, forge.ErrNotFound) && (strings.Contains(team, "/") || !c.isUser(ctx, team)) {
				ae.Err = forge.ErrForbidden
				ae.fix = "the group does not exist or the token cannot see it (GitLab answers 404 for a private group): " +
					"make the user of GITLAB_TOKEN a member of the group, or invite the group to the project"
			}
			return false, err
		}
		for _, m := range ms {
			if strings.EqualFold(m.Username, user) && (m.State == "" || m.State == "active") &&
				(m.MembershipState == "" || m.MembershipState == "active") {
				return true, nil
			}
		}
		if resp.NextPage == 0 {
			return false, nil
		}
		opt.Page = resp.NextPage
	}
	return false, fmt.Errorf("%s: more than %d pages", op, maxPages)
}

// isUser reports whether GitLab has a user whose username is name (GET /users?username=, which answers
// an empty list for anybody else). When it cannot tell it says no: the caller then reports the name as
// a group it cannot read rather than guess.
func (c *Client) isUser(ctx context.Context, name string) bool {
	us, _, err := c.api.Users.ListUsers(&gl.ListUsersOptions{Username: gl.Ptr(name)}, ctxOpt(ctx))
	if err != nil {
		return false
	}
	return slices.ContainsFunc(us, func(u *gl.User) bool { return u != nil && strings.EqualFold(u.Username, name) })
}

// SetStatus sets an external commit status on sha: Context is the status name, forge's "failure" and
// "error" both become GitLab's "failed". A status already in the state asked for is left as it is. A
// status on the commit of the client's Pipeline goes into that pipeline (pipeline_id); any other into
// the newest pipeline of sha, or a new one GitLab creates when sha has none.
func (c *Client) SetStatus(ctx context.Context, repo, sha string, st forge.Status) error {
	var state gl.BuildStateValue
	switch st.State {
	case "success":
		state = gl.Success
	case "pending":
		state = gl.Pending
	case "failure", "error":
		state = gl.Failed
	default:
		return fmt.Errorf("set status %q on %s: unknown state %q (want success, pending, failure or error)", st.Context, sha, st.State)
	}
	opt := &gl.SetCommitStatusOptions{State: state, Name: gl.Ptr(st.Context)}
	if st.Description != "" {
		opt.Description = gl.Ptr(st.Description)
	}
	if st.TargetURL != "" {
		opt.TargetURL = gl.Ptr(st.TargetURL)
	}
	if c.pipeline.holds(repo, sha) {
		opt.PipelineID = gl.Ptr(c.pipeline.ID)
	}
	_, _, err := c.api.Commits.SetCommitStatus(repo, sha, opt, ctxOpt(ctx))
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.HasStatusCode(http.StatusBadRequest) && sameStateRefused(er.Message, state) {
		// The status already has this state (a re-run of a gate still pending): GitLab refuses the
		// transition from a state to itself.
		return nil
	}
	return c.mapErr(fmt.Sprintf("set status %q on %s", st.Context, sha), err, write)
}

// transition is the message of GitLab's 400 for a commit status transition its state machine refuses:
// "Cannot transition status via :enqueue from :pending (Reason(s): Status cannot transition via "enqueue")".
var transition = regexp.MustCompile(`Cannot transition status via :\w+ from :(\w+)`)

// sameStateRefused reports whether msg is GitLab refusing to move a status to state from state itself.
func sameStateRefused(msg string, state gl.BuildStateValue) bool {
	m := transition.FindStringSubmatch(msg)
	return m != nil && m[1] == string(state)
}
