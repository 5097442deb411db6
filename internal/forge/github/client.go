// Package github is the GitHub (and GitHub Enterprise Server) adapter of forge.Forge, over the REST API
// with go-github. It paginates every list, maps GitHub's refusals onto forge's errors and retries
// rate-limited requests itself.
package github

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"

	"github.com/schemagate/schemagate/internal/forge"
)

var _ forge.Forge = (*Client)(nil)
var _ forge.FileLister = (*Client)(nil)
var _ forge.CommentLimiter = (*Client)(nil)
var _ forge.TeamReader = (*Client)(nil)
var _ forge.UserReader = (*Client)(nil)
var _ forge.SameHeadLister = (*Client)(nil)

// DefaultBaseURL is GitHub.com's REST API.
const DefaultBaseURL = "https://api.github.com/"

// ActionsBotLogin is the login GitHub shows for comments written with a workflow's GITHUB_TOKEN.
const ActionsBotLogin = "github-actions[bot]"

// Options configures a Client.
type Options struct {
	// Token authenticates every request (GITHUB_TOKEN, an App installation token or a PAT).
	Token string
	// BaseURL is the REST API root: GITHUB_API_URL, e.g. https://api.github.com or
	// https://ghes.example.com/api/v3. Empty means GitHub.com.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Login is the token's user when known; empty means ask GET /user.
	Login string
	// FallbackLogin is used when GET /user refuses the token as an installation token (the Actions
	// GITHUB_TOKEN cannot read /user): set it to ActionsBotLogin inside GitHub Actions.
	FallbackLogin string
	// Sleep waits between rate-limited attempts; nil means a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to read x-ratelimit-reset; nil means time.Now.
	Now func() time.Time
	// MaxRetries bounds the retries of a rate-limited request (default 3).
	MaxRetries int
	// MaxWait is the longest single wait accepted (default 2 minutes); a longer one fails at once.
	MaxWait time.Duration
}

// Client talks to one GitHub instance.
type Client struct {
	gh *gh.Client
	// blob fetches what GitHub redirects to outside its API (artifact archives), without the token.
	blob *http.Client

	mu       sync.Mutex
	login    string
	fallback string
	// merged remembers ChangeRequestOfFile's answer per repository, commit and branch.
	merged forge.Memo[string, *forge.ChangeRequest]
	// roles remembers approvers' roles per repository and lower-cased login (see role); an error is not
	// remembered.
	roles map[string]role
}

// New returns a Client.
func New(opts Options) (*Client, error) {
	hc := newRateLimitTransport(nil, opts).Client(opts.HTTPClient)
	c := gh.NewClient(hc)
	if opts.Token != "" {
		c = c.WithAuthToken(opts.Token)
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("parse GitHub API URL %q: want e.g. https://api.github.com or https://ghes.example.com/api/v3", opts.BaseURL)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.BaseURL = u
	}
	blob := &http.Client{Timeout: 5 * time.Minute}
	if opts.HTTPClient != nil {
		blob = &http.Client{Transport: opts.HTTPClient.Transport, Timeout: opts.HTTPClient.Timeout}
	}
	return &Client{gh: c, blob: blob, login: opts.Login, fallback: opts.FallbackLogin, roles: map[string]role{}}, nil
}

func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q: want owner/name", repo)
	}
	return owner, name, nil
}

// mapErr translates GitHub's refusals: 404 → forge.ErrNotFound; 403 on a write → forge.ErrReadOnly
// (a fork's or a read-only GITHUB_TOKEN: "Resource not accessible by integration"); 403 on a read →
// forge.ErrForbidden. Rate limits never reach here as 403s: the transport turns them into
// RateLimitError.
func mapErr(err error, write bool) error {
	if err == nil {
		return nil
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		msg := er.Message
		if msg == "" {
			msg = er.Response.Status
		}
		switch er.Response.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: GitHub answered 404 %s", forge.ErrNotFound, msg)
		case http.StatusForbidden:
			if write {
				return fmt.Errorf("%w: GitHub answered 403 %q (a fork's pull request or a token without write permission)", forge.ErrReadOnly, msg)
			}
			return fmt.Errorf("%w: GitHub answered 403 %q", forge.ErrForbidden, msg)
		}
	}
	return err
}

func statusOf(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// ChangeRequest returns the pull request.
func (c *Client) ChangeRequest(ctx context.Context, ref forge.Ref) (*forge.ChangeRequest, error) {
	owner, name, err := splitRepo(ref.Repo)
	if err != nil {
		return nil, err
	}
	pr, _, err := c.gh.PullRequests.Get(ctx, owner, name, ref.Number)
	if err != nil {
		return nil, fmt.Errorf("get pull request %s#%d: %w", ref.Repo, ref.Number, mapErr(err, false))
	}
	return toChangeRequest(ref.Repo, pr), nil
}

func toChangeRequest(repo string, pr *gh.PullRequest) *forge.ChangeRequest {
	cr := &forge.ChangeRequest{
		Ref:     forge.Ref{Repo: repo, Number: pr.GetNumber()},
		Title:   pr.GetTitle(),
		Author:  pr.GetUser().GetLogin(),
		HeadSHA: pr.GetHead().GetSHA(),
		BaseSHA: pr.GetBase().GetSHA(),
		BaseRef: pr.GetBase().GetRef(),
		State:   pr.GetState(),
		Merged:  pr.GetMerged() || pr.MergedAt != nil,
	}
	head, base := pr.GetHead().GetRepo(), pr.GetBase().GetRepo()
	// A deleted fork leaves head.repo null; it was a fork all the same.
	cr.Fork = head == nil || (base != nil && !strings.EqualFold(head.GetFullName(), base.GetFullName()))
	cr.HeadBranch, cr.HeadRepo = pr.GetHead().GetRef(), head.GetFullName()
	return cr
}

// SameHead lists the open pull requests other than cr whose head is cr's head commit, in the order of
// their numbers. GitHub keeps a commit status per commit, so they all show the status a gate sets for
// one of them. Two listings, all pages of each: the pull requests of the commit (GET
// /repos/{owner}/{repo}/commits/{sha}/pulls, which finds those of other branches at the same commit;
// GitHub documents it as the merged pull request that brought a commit of the default branch in, open
// ones only for other commits), and the open pull requests of cr's head branch (GET
// /repos/{owner}/{repo}/pulls?state=open&head=OWNER:BRANCH, which finds the same branch opened
// against another base whatever that first list holds). A 403 is a wrapped forge.ErrForbidden.
func (c *Client) SameHead(ctx context.Context, cr *forge.ChangeRequest) ([]*forge.ChangeRequest, error) {
	owner, name, err := splitRepo(cr.Repo)
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{cr.Number: true}
	var out []*forge.ChangeRequest
	keep := func(prs []*gh.PullRequest) {
		for _, pr := range prs {
			if pr.GetState() != "open" || pr.GetHead().GetSHA() != cr.HeadSHA || seen[pr.GetNumber()] {
				continue
			}
			seen[pr.GetNumber()] = true
			out = append(out, toChangeRequest(cr.Repo, pr))
		}
	}
	opts := &gh.ListOptions{PerPage: 100}
	for {
		prs, resp, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, name, cr.HeadSHA, opts)
		if err != nil {
			// An unknown commit answers 422 "No commit found for SHA"; the branch's listing still counts.
			if statusOf(err) == http.StatusUnprocessableEntity {
				break
			}
			return nil, fmt.Errorf("list the pull requests of commit %s: %w", cr.HeadSHA, mapErr(err, false))
		}
		keep(prs)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if cr.HeadBranch != "" && cr.HeadRepo != "" {
		headOwner, _, _ := strings.Cut(cr.HeadRepo, "/")
		label := headOwner + ":" + cr.HeadBranch
		lopts := &gh.PullRequestListOptions{State: "open", Head: label, ListOptions: gh.ListOptions{PerPage: 100}}
		for {
			prs, resp, err := c.gh.PullRequests.List(ctx, owner, name, lopts)
			if err != nil {
				return nil, fmt.Errorf("list the open pull requests of %s in %s: %w", label, cr.Repo, mapErr(err, false))
			}
			keep(prs)
			if resp.NextPage == 0 {
				break
			}
			lopts.Page = resp.NextPage
		}
	}
	slices.SortFunc(out, func(a, b *forge.ChangeRequest) int { return a.Number - b.Number })
	return out, nil
}

// FindChangeRequestBySHA returns the open pull request whose head is sha, else the most recently merged
// one merged as sha (its merge_commit_sha: a merge, squash or rebase merge), else the most recently
// merged one whose head is sha. It asks the commit's associated pulls first, falls back to the open pulls,
// since workflow_run payloads of fork pull requests carry no pull request list, and then to
// mergedElsewhere, since GitHub lists a commit's merged pull requests only when the commit is on the
// default branch (a deploy from a release branch would find none).
func (c *Client) FindChangeRequestBySHA(ctx context.Context, repo, sha string) (*forge.ChangeRequest, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	var found []*gh.PullRequest
	opts := &gh.ListOptions{PerPage: 100}
	for {
		prs, resp, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, name, sha, opts)
		// An unknown commit answers 422 "No commit found for SHA"; the open pulls may still know it.
		if err != nil && statusOf(err) != http.StatusUnprocessableEntity && !errors.Is(mapErr(err, false), forge.ErrNotFound) {
			return nil, fmt.Errorf("list pull requests of commit %s: %w", sha, mapErr(err, false))
		}
		found = append(found, prs...)
		if err != nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if best := pickBySHA(found, sha); best != nil {
		return toChangeRequest(repo, best), nil
	}
	lopts := &gh.PullRequestListOptions{State: "open", ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		prs, resp, err := c.gh.PullRequests.List(ctx, owner, name, lopts)
		if err != nil {
			return nil, fmt.Errorf("list open pull requests of %s: %w", repo, mapErr(err, false))
		}
		if best := pickBySHA(prs, sha); best != nil {
			return toChangeRequest(repo, best), nil
		}
		if resp.NextPage == 0 {
			break
		}
		lopts.Page = resp.NextPage
	}
	merged, err := c.mergedElsewhere(ctx, owner, name, sha, "")
	if err != nil {
		return nil, err
	}
	if best := pickBySHA(merged, sha); best != nil {
		return toChangeRequest(repo, best), nil
	}
	return nil, fmt.Errorf("find pull request with head or merge commit %s in %s: %w", sha, repo, forge.ErrNotFound)
}

// pickBySHA is the open pull request whose head is sha, else the most recently merged one merged as sha
// (merge_commit_sha), else the most recently merged one whose head is sha.
func pickBySHA(prs []*gh.PullRequest, sha string) *gh.PullRequest {
	var byMerge, byHead []*gh.PullRequest
	for _, pr := range prs {
		switch {
		case pr.GetState() == "open" && pr.GetHead().GetSHA() == sha:
			return pr
		case pr.MergedAt == nil:
		case pr.GetMergeCommitSHA() == sha:
			byMerge = append(byMerge, pr)
		case pr.GetHead().GetSHA() == sha:
			byHead = append(byHead, pr)
		}
	}
	for _, list := range [][]*gh.PullRequest{byMerge, byHead} {
		if len(list) > 0 {
			return slices.MaxFunc(list, mergedLater)
		}
	}
	return nil
}

func mergedLater(a, b *gh.PullRequest) int { return a.MergedAt.Compare(b.MergedAt.Time) }

// Bounds of mergedElsewhere.
const (
	// closedPages is how many pages of 100 closed pull requests, most recently updated first, are read
	// for one merged as a commit.
	closedPages = 3
	// searchPulls is how many of the pull requests the search API finds for a commit are read.
	searchPulls = 10
)

// mergedElsewhere returns the merged pull requests into branch ("" for any) that hold sha, for when
// GET /repos/{owner}/{repo}/commits/{sha}/pulls names none: GitHub documents that list as "the merged
// pull request that introduced the commit" and, for a commit not on the default branch, open pull
// requests only, so a pull request merged into a release branch is missing from it. It reads the closed
// pull requests into branch, most recently updated first (at most closedPages pages), for those merged
// as sha or whose head is sha; when none is, it asks the search API for the merged pull requests holding
// the commit (GET /search/issues?q=SHA+repo:OWNER/REPO+is:pr+is:merged, at most searchPulls of them, each
// read for its base and merge commit). The listing comes first because search lags behind a merge that
// just happened (GitHub indexes asynchronously) and has a lower rate limit.
func (c *Client) mergedElsewhere(ctx context.Context, owner, name, sha, branch string) ([]*gh.PullRequest, error) {
	lopts := &gh.PullRequestListOptions{State: "closed", Base: branch, Sort: "updated", Direction: "desc",
		ListOptions: gh.ListOptions{PerPage: 100}}
	for range closedPages {
		prs, resp, err := c.gh.PullRequests.List(ctx, owner, name, lopts)
		if err != nil {
			return nil, fmt.Errorf("list closed pull requests of %s/%s: %w", owner, name, mapErr(err, false))
		}
		var hits []*gh.PullRequest
		for _, pr := range prs {
			if pr.MergedAt != nil && (pr.GetMergeCommitSHA() == sha || pr.GetHead().GetSHA() == sha) {
				hits = append(hits, pr)
			}
		}
		if len(hits) > 0 {
			return hits, nil
		}
		if resp.NextPage == 0 {
			break
		}
		lopts.Page = resp.NextPage
	}
	q := fmt.Sprintf("%s repo:%s/%s is:pr is:merged", sha, owner, name)
	if branch != "" {
		q += " base:" + branch
	}
	res, _, err := c.gh.Search.Issues(ctx, q, &gh.SearchOptions{Sort: "updated", Order: "desc", ListOptions: gh.ListOptions{PerPage: searchPulls}})
	if err != nil {
		return nil, fmt.Errorf("search the pull requests holding commit %s: %w", sha, mapErr(err, false))
	}
	var out []*gh.PullRequest
	for _, is := range res.Issues {
		if !is.IsPullRequest() || len(out) == searchPulls {
			continue
		}
		pr, _, err := c.gh.PullRequests.Get(ctx, owner, name, is.GetNumber())
		if err != nil {
			return nil, fmt.Errorf("get pull request %s/%s#%d: %w", owner, name, is.GetNumber(), mapErr(err, false))
		}
		if pr.MergedAt != nil && (branch == "" || pr.GetBase().GetRef() == branch) {
			out = append(out, pr)
		}
	}
	return out, nil
}

// ChangeRequestOfFile returns the pull request merged into branch that brought the newest commit
// changing path in the history of ref: GET /repos/{owner}/{repo}/commits?path=&sha=ref (its first
// entry), then the pull requests of that commit, remembered per commit. Of the merged pull requests
// whose base is branch, it takes the one merged as the commit (its merge_commit_sha: a squash or rebase
// merge), else the one whose head it is (a merge commit's pull request whose last commit changed path),
// else the first merged of those holding it (GitHub lists, for a commit of the default branch, the pull
// request that brought it in). GitHub lists no merged pull request for a commit off the default branch
// (a release branch): mergedElsewhere finds them then. A commit pushed straight to the branch has none:
// wrapped forge.ErrNotFound.
func (c *Client) ChangeRequestOfFile(ctx context.Context, repo, path, ref, branch string) (*forge.ChangeRequest, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	cs, _, err := c.gh.Repositories.ListCommits(ctx, owner, name, &gh.CommitsListOptions{SHA: ref, Path: path, ListOptions: gh.ListOptions{PerPage: 1}})
	if err != nil {
		return nil, fmt.Errorf("list the commits changing %s at %s: %w", path, ref, mapErr(err, false))
	}
	if len(cs) == 0 || cs[0].GetSHA() == "" {
		return nil, fmt.Errorf("no commit changed %s in the history of %s: %w", path, ref, forge.ErrNotFound)
	}
	sha := cs[0].GetSHA()
	key := repo + "\x00" + sha + "\x00" + branch
	found, err := c.merged.Get(key, func() (*forge.ChangeRequest, error) { return c.mergedWith(ctx, repo, sha, branch) })
	if err != nil {
		return nil, fmt.Errorf("%s was last changed by commit %.12s: %w", path, sha, err)
	}
	cr := *found
	return &cr, nil
}

// mergedWith returns the pull request merged into branch ("" for any) that brought sha in: from the
// commit's associated pulls, else (a commit off the default branch, for which GitHub lists open pull
// requests only) from mergedElsewhere.
func (c *Client) mergedWith(ctx context.Context, repo, sha, branch string) (*forge.ChangeRequest, error) {
	owner, name, _ := splitRepo(repo)
	var byMerge, byHead, holding []*gh.PullRequest
	classify := func(prs []*gh.PullRequest) {
		for _, pr := range prs {
			if pr.MergedAt == nil || (branch != "" && pr.GetBase().GetRef() != branch) {
				continue
			}
			switch {
			case pr.GetMergeCommitSHA() == sha:
				byMerge = append(byMerge, pr)
			case pr.GetHead().GetSHA() == sha:
				byHead = append(byHead, pr)
			default:
				holding = append(holding, pr)
			}
		}
	}
	opts := &gh.ListOptions{PerPage: 100}
	for {
		prs, resp, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, name, sha, opts)
		if err != nil {
			if statusOf(err) == http.StatusUnprocessableEntity {
				return nil, fmt.Errorf("GitHub knows no commit %s: %w", sha, forge.ErrNotFound)
			}
			return nil, fmt.Errorf("list pull requests of commit %s: %w", sha, mapErr(err, false))
		}
		classify(prs)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(byMerge)+len(byHead)+len(holding) == 0 {
		prs, err := c.mergedElsewhere(ctx, owner, name, sha, branch)
		if err != nil {
			return nil, err
		}
		classify(prs)
	}
	switch {
	case len(byMerge) > 0:
		return toChangeRequest(repo, slices.MaxFunc(byMerge, mergedLater)), nil
	case len(byHead) > 0:
		return toChangeRequest(repo, slices.MaxFunc(byHead, mergedLater)), nil
	case len(holding) > 0:
		// The first merged brought the commit in; later ones held it already in their base.
		return toChangeRequest(repo, slices.MinFunc(holding, mergedLater)), nil
	}
	return nil, fmt.Errorf("no pull request merged into %s brought it in (pushed straight to the branch?): %w",
		cmp.Or(branch, "any branch"), forge.ErrNotFound)
}

// Me returns the token's login: Options.Login when set, else GET /user.
func (c *Client) Me(ctx context.Context) (string, error) {
	c.mu.Lock()
	login := c.login
	c.mu.Unlock()
	if login != "" {
		return login, nil
	}
	u, _, err := c.gh.Users.Get(ctx, "")
	if err != nil {
		err = mapErr(err, false)
		if errors.Is(err, forge.ErrForbidden) && c.fallback != "" {
			c.mu.Lock()
			c.login = c.fallback
			c.mu.Unlock()
			return c.fallback, nil
		}
		if errors.Is(err, forge.ErrForbidden) {
			return "", fmt.Errorf("get the token's user: %w (an installation token such as GITHUB_TOKEN cannot read /user; its login is %s)", err, ActionsBotLogin)
		}
		return "", fmt.Errorf("get the token's user: %w", err)
	}
	c.mu.Lock()
	c.login = u.GetLogin()
	c.mu.Unlock()
	return u.GetLogin(), nil
}

// Comments lists the pull request's conversation comments, all pages.
func (c *Client) Comments(ctx context.Context, ref forge.Ref) ([]forge.Comment, error) {
	owner, name, err := splitRepo(ref.Repo)
	if err != nil {
		return nil, err
	}
	var out []forge.Comment
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		cs, resp, err := c.gh.Issues.ListComments(ctx, owner, name, ref.Number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of %s#%d: %w", ref.Repo, ref.Number, mapErr(err, false))
		}
		for _, cm := range cs {
			out = append(out, forge.Comment{ID: cm.GetID(), Author: cm.GetUser().GetLogin(), AuthorBot: cm.GetUser().GetType() == "Bot", Body: cm.GetBody()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreateComment adds a conversation comment.
func (c *Client) CreateComment(ctx context.Context, ref forge.Ref, body string) (int64, error) {
	owner, name, err := splitRepo(ref.Repo)
	if err != nil {
		return 0, err
	}
	cm, _, err := c.gh.Issues.CreateComment(ctx, owner, name, ref.Number, &gh.IssueComment{Body: gh.String(body)})
	if err != nil {
		return 0, fmt.Errorf("comment on %s#%d: %w", ref.Repo, ref.Number, mapErr(err, true))
	}
	return cm.GetID(), nil
}

// MaxCommentLength is the longest issue comment GitHub accepts, in characters: a longer one is refused
// with 422 "Body is too long (maximum is 65536 characters)".
const MaxCommentLength = 65536

// MaxCommentRunes is MaxCommentLength (see forge.CommentLimiter).
func (c *Client) MaxCommentRunes() int { return MaxCommentLength }

// UpdateComment replaces a comment's body.
func (c *Client) UpdateComment(ctx context.Context, ref forge.Ref, id int64, body string) error {
	owner, name, err := splitRepo(ref.Repo)
	if err != nil {
		return err
	}
	if _, _, err := c.gh.Issues.EditComment(ctx, owner, name, id, &gh.IssueComment{Body: gh.String(body)}); err != nil {
		return fmt.Errorf("update comment %d on %s: %w", id, ref.Repo, mapErr(err, true))
	}
	return nil
}

// Reviews lists the pull request's reviews, all pages, oldest first (GitHub's order). A reviewer whose
// latest decision is an approval or a change request has their role read (see role), once per reviewer,
// unless they are the repository's OWNER: Outsider is set on their reviews unless it grants write access
// (GitHub counts reviews only from users with write access, so neither their approval nor their change
// request counts). The
// author_association cannot settle it either way: MEMBER or COLLABORATOR may hold read access only, and
// an organization member whose membership is private shows as CONTRIBUTOR or NONE to anybody outside
// the organization, the Actions token included, though a team may give them write access. Only those
// reviewers are checked, since nothing else of an outsider's counts, to spare the rate limit. A role
// GitHub will not tell (403 to a token without push access, 422 for an app's bot) sets RoleUnread on
// the reviewer's reviews, saying why, rather than fail the gate or fall back to author_association:
// an approval is never counted, nor a change request dropped, unchecked.
func (c *Client) Reviews(ctx context.Context, ref forge.Ref) ([]forge.Review, error) {
	owner, name, err := splitRepo(ref.Repo)
	if err != nil {
		return nil, err
	}
	var out []forge.Review
	var associations []string
	opts := &gh.ListOptions{PerPage: 100}
	for {
		rs, resp, err := c.gh.PullRequests.ListReviews(ctx, owner, name, ref.Number, opts)
		if err != nil {
			return nil, fmt.Errorf("list reviews of %s#%d: %w", ref.Repo, ref.Number, mapErr(err, false))
		}
		for _, r := range rs {
			out = append(out, forge.Review{
				Author:      r.GetUser().GetLogin(),
				State:       strings.ToUpper(r.GetState()),
				CommitSHA:   r.GetCommitID(),
				SubmittedAt: r.GetSubmittedAt().Time,
				Outsider:    outsider(r.GetAuthorAssociation()),
			})
			associations = append(associations, strings.ToUpper(r.GetAuthorAssociation()))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	for _, i := range deciders(out) {
		who := out[i].Author
		if associations[i] == "OWNER" || who == "" {
			continue // the owner administers the repository
		}
		rl, err := c.role(ctx, owner, name, who)
		if err != nil {
			return nil, fmt.Errorf("list reviews of %s#%d: %w", ref.Repo, ref.Number, err)
		}
		for j := range out {
			if forge.SameLogin(out[j].Author, who) {
				// An unread role says nothing either way, nor does the association (see above):
				// RoleUnread leaves the decision to the gate, which counts no approval and keeps a
				// change request.
				out[j].Role, out[j].Outsider, out[j].RoleUnread = rl.name, !rl.writes && rl.unread == "", rl.unread
			}
		}
	}
	return out, nil
}

// deciders returns, for each reviewer whose latest decisive review (APPROVED, CHANGES_REQUESTED or
// DISMISSED) is an approval or a change request, the index of that review in rs.
func deciders(rs []forge.Review) []int {
	latest := map[string]int{}
	var order []string
	for i, r := range rs {
		switch r.State {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
		default:
			continue
		}
		k := strings.ToLower(r.Author)
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		latest[k] = i
	}
	var out []int
	for _, k := range order {
		if i := latest[k]; rs[i].State == "APPROVED" || rs[i].State == "CHANGES_REQUESTED" {
			out = append(out, i)
		}
	}
	return out
}

// outsider reports whether a review's author_association shows its author with no standing in the
// repository: not its owner, a member of its organization or a collaborator (CONTRIBUTOR, FIRST_TIMER,
// FIRST_TIME_CONTRIBUTOR, MANNEQUIN, NONE). It is a first guess only, kept for reviews that are no
// approval: GitHub says MEMBER only of a public member of the organization (a private member with write
// access through a team shows as CONTRIBUTOR or NONE), a MEMBER may hold only read access to this
// repository, and an outside COLLABORATOR may be invited with read or triage only, while GitHub counts
// only approvals from users with write access; so Reviews asks GitHub for every approver's role (see
// role). An association GitHub did not give decides nothing.
func outsider(association string) bool {
	switch strings.ToUpper(association) {
	case "", "OWNER", "MEMBER", "COLLABORATOR":
		return false
	}
	return true
}

// role is a user's role on a repository.
type role struct {
	// name is GitHub's role_name (admin, maintain, write, triage, read, a custom role's name), or
	// "none" for a user who is no collaborator.
	name string
	// writes is set when the role grants write access: the base permission admin or write (which
	// GitHub reports for maintain too, and for a custom role built on write or maintain).
	writes bool
	// unread says why GitHub would not tell the role (its answer and what the token needs); name and
	// writes are then empty.
	unread string
}

// permissionLevel is GitHub's "Repository Collaborator Permission" (go-github v60's
// RepositoryPermissionLevel lacks role_name).
type permissionLevel struct {
	// Permission is the base role: admin, write (maintain too), read (triage too) or none.
	Permission string `json:"permission"`
	// RoleName is the role itself, custom roles included.
	RoleName string `json:"role_name"`
}

// role returns login's role on owner/name, from GET /repos/{owner}/{repo}/collaborators/{username}/
// permission: the highest role the user holds through any grant (the repository, a team, the
// organization, the enterprise), remembered for the life of the client. GitHub answers 404 for a user
// who is no collaborator: no write access. A 403 ("Must have push access to view collaborator
// permission." to a token without push access, such as a fork pull request's GITHUB_TOKEN) or a 422 (a
// login that is no user, such as an app's bot) tells nothing of the role: the role returned is unread,
// saying why and what the token needs, and remembered too.
func (c *Client) role(ctx context.Context, owner, name, login string) (role, error) {
	key := strings.ToLower(owner + "/" + name + "\x00" + login)
	c.mu.Lock()
	r, ok := c.roles[key]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", owner, name, url.PathEscape(login))
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return role{}, fmt.Errorf("read the role of %s on %s/%s: %w", login, owner, name, err)
	}
	var p permissionLevel
	_, err = c.gh.Do(ctx, req, &p)
	code := statusOf(err)
	var answer string
	if er := (*gh.ErrorResponse)(nil); errors.As(err, &er) {
		answer = fmt.Sprintf("GitHub answered %d %q", code, cmp.Or(er.Message, http.StatusText(code)))
	}
	err = mapErr(err, false)
	switch {
	case errors.Is(err, forge.ErrNotFound):
		r = role{name: "none"}
	case errors.Is(err, forge.ErrForbidden):
		r = role{unread: answer + ": reading a user's role on the repository needs a token with push access to it (a fork pull " +
			"request's GITHUB_TOKEN, or one whose workflow permissions are read-only, has none) and, for a GitHub App or " +
			"fine-grained token, the Metadata: read repository permission"}
	case code == http.StatusUnprocessableEntity:
		r = role{unread: answer + ": GitHub tells no role of a login that is no user, such as an app's bot"}
	case err != nil:
		return role{}, fmt.Errorf("read the role of %s on %s/%s: %w", login, owner, name, err)
	default:
		r = role{name: cmp.Or(p.RoleName, p.Permission), writes: p.Permission == "admin" || p.Permission == "write"}
	}
	c.mu.Lock()
	c.roles[key] = r
	c.mu.Unlock()
	return r, nil
}

// ChangedFiles lists the paths the pull request adds or modifies (and the new path of a rename), all
// pages; a wrapped forge.ErrIncomplete beyond the files GitHub lists (see Files).
func (c *Client) ChangedFiles(ctx context.Context, ref forge.Ref) ([]string, error) {
	fs, err := c.Files(ctx, ref)
	if err != nil {
		return nil, err
	}
	return forge.Present(fs), nil
}

// MaxListedFiles is the most files GitHub lists of a pull request: GitHub's REST reference for "List
// pull requests files" (GET /repos/{owner}/{repo}/pulls/{pull_number}/files) says "Note: Responses
// include a maximum of 3000 files". A pull request of exactly 3000 files is listed whole.
const MaxListedFiles = 3000

// Files lists the pull request's files with their status and blob SHA (GET .../pulls/{n}/files), all
// pages, removed ones included. GitHub lists at most MaxListedFiles of them, without saying it left
// any out: the pull request's changed_files is the true count. A list with exactly changed_files
// entries is complete, at the cap too; a pull request of more than MaxListedFiles files, or a list
// shorter than changed_files, is a wrapped forge.ErrIncomplete: a list that leaves files out cannot
// vouch for them.
func (c *Client) Files(ctx context.Context, ref forge.Ref) ([]forge.ChangedFile, error) {
	owner, name, err := splitRepo(ref.Repo)
	if err != nil {
		return nil, err
	}
	op := fmt.Sprintf("list files of %s#%d", ref.Repo, ref.Number)
	pr, _, err := c.gh.PullRequests.Get(ctx, owner, name, ref.Number)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, mapErr(err, false))
	}
	total := pr.GetChangedFiles()
	if total > MaxListedFiles {
		return nil, tooManyFiles(op, total, -1)
	}
	var out []forge.ChangedFile
	opts := &gh.ListOptions{PerPage: 100}
	for {
		fs, resp, err := c.gh.PullRequests.ListFiles(ctx, owner, name, ref.Number, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, mapErr(err, false))
		}
		for _, f := range fs {
			out = append(out, forge.ChangedFile{Path: f.GetFilename(), Status: f.GetStatus(), BlobSHA: f.GetSHA(), PreviousPath: f.GetPreviousFilename()})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	// More than changed_files said is a push in between: complete only if GitHub's cap did not cut it.
	if len(out) < total || (len(out) >= MaxListedFiles && len(out) != total) {
		return nil, tooManyFiles(op, total, len(out))
	}
	return out, nil
}

// tooManyFiles is the error of a pull request whose files GitHub does not list in full: it changes
// total files (changed_files) and GitHub listed listed of them (-1: not asked).
func tooManyFiles(op string, total, listed int) error {
	what := fmt.Sprintf("the pull request changes %d files and GitHub lists at most %d of a pull request's files", total, MaxListedFiles)
	switch {
	case listed > total:
		return fmt.Errorf("%s: %w: GitHub listed %d files, its most, where the pull request said it changes %d: it changed while it was read, "+
			"and files beyond the %d listed may be missing; run again", op, forge.ErrIncomplete, listed, total, MaxListedFiles)
	case listed >= 0:
		what = fmt.Sprintf("GitHub listed %d of the %d files the pull request changes (it lists at most %d; or the pull request changed while it was read: run again)",
			listed, total, MaxListedFiles)
	}
	return fmt.Errorf("%s: %w: %s, so the files beyond cannot be checked; split the pull request into smaller ones", op, forge.ErrIncomplete, what)
}

// FileAt returns a file's content at ref.
func (c *Client) FileAt(ctx context.Context, repo, path, ref string) ([]byte, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	fc, dir, _, err := c.gh.Repositories.GetContents(ctx, owner, name, path, &gh.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, ref, mapErr(err, false))
	}
	if fc == nil || dir != nil {
		return nil, fmt.Errorf("read %s at %s: is a directory", path, ref)
	}
	var raw string
	if fc.Content != nil {
		raw = *fc.Content
	}
	switch fc.GetEncoding() {
	case "base64":
		// GitHub wraps the base64 text every 60 characters.
		data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(raw, "\n", ""))
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: decode content: %w", path, ref, err)
		}
		return data, nil
	case "":
		return []byte(raw), nil
	case "none":
		// GitHub inlines no content over 1 MB (encoding "none"); the raw media type gives it up to 100 MB.
		return c.rawFileAt(ctx, owner, name, path, ref)
	default:
		return nil, fmt.Errorf("read %s at %s: content not inlined (encoding %q, %d bytes)", path, ref, fc.GetEncoding(), fc.GetSize())
	}
}

// rawFileAt reads a file's content at ref with the raw media type (GET .../contents/{path} with Accept:
// application/vnd.github.raw+json), which GitHub answers for files up to 100 MB.
func (c *Client) rawFileAt(ctx context.Context, owner, name, path, ref string) ([]byte, error) {
	u := fmt.Sprintf("repos/%s/%s/contents/%s", owner, name, (&url.URL{Path: path}).String())
	if ref != "" {
		u += "?ref=" + url.QueryEscape(ref)
	}
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, ref, err)
	}
	req.Header.Set("Accept", "application/vnd.github.raw+json")
	var buf bytes.Buffer
	if _, err := c.gh.Do(ctx, req, &buf); err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, ref, mapErr(err, false))
	}
	return buf.Bytes(), nil
}

// IsMember reports whether user is an active member of team ("org/team-slug"). GitHub answers 404 both
// for "not a member" and for "you may not see this team" (the Actions GITHUB_TOKEN cannot read
// organization membership), so a 404 is settled by reading the team itself: a visible team means not a
// member, an invisible one is forge.ErrForbidden.
func (c *Client) IsMember(ctx context.Context, team, user string) (bool, error) {
	org, slug, ok := strings.Cut(strings.TrimPrefix(team, "@"), "/")
	if !ok || org == "" || slug == "" {
		return false, fmt.Errorf("team %q: want org/team-slug", team)
	}
	m, _, err := c.gh.Teams.GetTeamMembershipBySlug(ctx, org, slug, user)
	if err == nil {
		return m.GetState() == "active", nil
	}
	err = mapErr(err, false)
	forbidden := fmt.Errorf("read membership of %s in @%s/%s: %w: reading team membership needs a token with read:org "+
		"(PAT) or Members: read (GitHub App); the Actions GITHUB_TOKEN has neither", user, org, slug, forge.ErrForbidden)
	switch {
	case errors.Is(err, forge.ErrForbidden):
		return false, forbidden
	case !errors.Is(err, forge.ErrNotFound):
		return false, fmt.Errorf("read membership of %s in @%s/%s: %w", user, org, slug, err)
	}
	if _, _, terr := c.gh.Teams.GetTeamBySlug(ctx, org, slug); terr != nil {
		terr = mapErr(terr, false)
		if errors.Is(terr, forge.ErrNotFound) || errors.Is(terr, forge.ErrForbidden) {
			return false, forbidden
		}
		return false, fmt.Errorf("read team @%s/%s: %w", org, slug, terr)
	}
	return false, nil
}

// UserAccess returns login's role on repo and whether it grants write access (see role), remembered for
// the life of the client as the roles of reviewers are: GitHub counts a user CODEOWNERS names as code
// owner only with write access. A role GitHub will not tell (see role) is a wrapped forge.ErrForbidden.
func (c *Client) UserAccess(ctx context.Context, repo, login string) (forge.UserAccess, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.UserAccess{}, err
	}
	rl, err := c.role(ctx, owner, name, strings.TrimPrefix(login, "@"))
	if err != nil {
		return forge.UserAccess{}, err
	}
	if rl.unread != "" {
		return forge.UserAccess{}, fmt.Errorf("read the role of %s on %s: %w: %s", login, repo, forge.ErrForbidden, rl.unread)
	}
	return forge.UserAccess{Role: rl.name, Writes: rl.writes}, nil
}

// TeamAccess returns team's ("org/team-slug") standing in repo: its privacy (GET /orgs/{org}/teams/
// {team_slug}: secret or closed, which is visible) and its role on the repository (GET /orgs/{org}/teams/
// {team_slug}/repos/{owner}/{repo} with the application/vnd.github.v3.repository+json media type, which
// answers the repository with the team's permissions and role_name, or 404 when the team has no access
// to it). GitHub answers 404 for a team the token may not see (the Actions GITHUB_TOKEN cannot read
// organization teams; a secret team is hidden from whoever is neither its member nor an owner of the
// organization, and a team CODEOWNERS misspells does not exist) and 403 for a GitHub App token without
// the Members permission: a wrapped forge.ErrForbidden either way, so that the gate never takes a team it
// could not read for one without access.
func (c *Client) TeamAccess(ctx context.Context, repo, team string) (forge.TeamAccess, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return forge.TeamAccess{}, err
	}
	org, slug, ok := strings.Cut(strings.TrimPrefix(team, "@"), "/")
	if !ok || org == "" || slug == "" {
		return forge.TeamAccess{}, fmt.Errorf("team %q: want org/team-slug", team)
	}
	op := fmt.Sprintf("read the access of @%s/%s to %s", org, slug, repo)
	forbidden := func(err error) error {
		return fmt.Errorf("%s: %w: reading a team's visibility and access to a repository needs a token with read:org (PAT) or "+
			"Members: read (GitHub App), the Actions GITHUB_TOKEN has neither; or the team is secret and the token's user not in it, "+
			"or the team does not exist (%v)", op, forge.ErrForbidden, err)
	}
	t, _, err := c.gh.Teams.GetTeamBySlug(ctx, org, slug)
	if err != nil {
		err = mapErr(err, false)
		if errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrForbidden) {
			return forge.TeamAccess{}, forbidden(err)
		}
		return forge.TeamAccess{}, fmt.Errorf("%s: read the team: %w", op, err)
	}
	out := forge.TeamAccess{Secret: t.GetPrivacy() == "secret"}
	r, _, err := c.gh.Teams.IsTeamRepoBySlug(ctx, org, slug, owner, name)
	err = mapErr(err, false)
	switch {
	case errors.Is(err, forge.ErrNotFound):
		return out, nil // the team, which the token sees, has no access to the repository
	case errors.Is(err, forge.ErrForbidden):
		return forge.TeamAccess{}, forbidden(err)
	case err != nil:
		return forge.TeamAccess{}, fmt.Errorf("%s: %w", op, err)
	}
	p := r.GetPermissions()
	out.Writes = p["admin"] || p["maintain"] || p["push"]
	out.Role = r.GetRoleName()
	if out.Role == "" {
		// An older GitHub Enterprise Server gives permissions only: name the highest.
		for _, rl := range []string{"admin", "maintain", "push", "triage", "pull"} {
			if p[rl] {
				out.Role = map[string]string{"push": "write", "pull": "read"}[rl]
				out.Role = cmp.Or(out.Role, rl)
				break
			}
		}
	}
	return out, nil
}

// SetStatus sets a commit status on sha. GitHub rejects descriptions over 140 characters, so longer
// ones are cut with an ellipsis.
func (c *Client) SetStatus(ctx context.Context, repo, sha string, st forge.Status) error {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return err
	}
	s := &gh.RepoStatus{State: gh.String(st.State), Context: gh.String(st.Context), Description: gh.String(Truncate(st.Description, 140))}
	if st.TargetURL != "" {
		s.TargetURL = gh.String(st.TargetURL)
	}
	if _, _, err := c.gh.Repositories.CreateStatus(ctx, owner, name, sha, s); err != nil {
		return fmt.Errorf("set status %s on %s: %w", st.Context, sha, mapErr(err, true))
	}
	return nil
}

// Truncate cuts s to at most n characters, ending with "…" when cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
