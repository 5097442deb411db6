// Package gitlabtest is an httptest fake of the part of GitLab's REST API v4 schemagate uses. It keeps
// projects, merge requests, notes, approvals, reviewers, approval rules, files, groups, pipelines and the
// commit statuses of each pipeline in memory, answers with GitLab's payload shapes (X-Page / X-Next-Page / X-Total-Pages and Link
// pagination, {"message": "403 Forbidden"} refusals, 429 with Retry-After), tells a project access token
// from a CI job token, fails the test on a request it has no route for and, at cleanup, on an expected
// request that never came.
package gitlabtest

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/forgetest"
)

var _ forgetest.Backend = (*Server)(nil)

// Token is the project access token the fake accepts as PRIVATE-TOKEN; others get 401.
const Token = "glpat-fake-project-token"

// JobToken is the CI_JOB_TOKEN the fake accepts as JOB-TOKEN: it may read merge requests, their notes
// and changes and repository files, and is refused everything else, as on GitLab.
const JobToken = "glcbt-fake-job-token"

// Prefix is the path the API is served under.
const Prefix = "/api/v4"

type project struct {
	id   int64
	path string
	mrs  map[int64]*mr
	next int64
	// history is the repository's commits, oldest first, kept linear: each commit's parent is the one
	// before it.
	history []*commit
}

type commit struct {
	sha   string
	files []string
	at    time.Time
}

type mr struct {
	id, iid          int64
	title, author    string
	headSHA, baseSHA string
	startSHA         string // the target branch's head when the diff was made; baseSHA (the merge base) when unset
	headRef, baseRef string
	sourceProject    int64
	state            string
	mergeSHA         string
	squash           bool // mergeSHA is the squash commit
	mergedAt         time.Time
	closedAt         time.Time // when a closed one was closed
	files            []string
	commits          []string // the merge request's own commits (AddCommit with its ref)
	notes            []*note
	approvals        []approval
	reviewers        []*reviewer // in the order they were added, as GET .../reviewers lists them
	rules            []Rule
	rulesStatus      int // non-zero: approval_state answers this status (a tier without rules)
	created          time.Time
	versions         []diffVersion // oldest first: one per push
}

// diffVersion is a merge request diff version: GitLab records one each time the branch is pushed.
type diffVersion struct {
	id   int64
	head string
	at   time.Time
}

type note struct {
	id               int64
	author, body     string
	system           bool
	created, updated time.Time
}

type approval struct {
	user string
	at   time.Time
}

// reviewer is a merge request reviewer: state is unreviewed, review_started, reviewed,
// requested_changes, approved or unapproved (MergeRequestReviewer's states, GitLab 17.x).
type reviewer struct {
	user    string
	state   string
	created time.Time
}

type status struct {
	id                                  int64
	pipeline                            int64
	project, sha                        string
	name, state, description, targetURL string
	created                             time.Time
}

// Rule is an approval rule of a merge request's approval state (GET .../approval_state).
type Rule struct {
	Name string
	// Type is regular, code_owner, report_approver or any_approver.
	Type string
	// Section is the CODEOWNERS section of a code_owner rule.
	Section  string
	Required int
	// Eligible are the users who may approve; ApprovedBy those who did. The rule is approved when
	// len(ApprovedBy) >= Required.
	Eligible   []string
	ApprovedBy []string
	Groups     []string
}

// pipeline is a CI pipeline of a commit: GitLab keeps each commit status in one pipeline.
type pipeline struct {
	id                int64
	project, sha, ref string
}

type expectation struct {
	route string
	hits  int
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu                  sync.Mutex
	bot                 string
	projects            map[string]*project
	nextID              int64
	users               map[string]int64
	files               map[string][]byte // project \x00 ref \x00 path
	refs                map[string]bool   // project \x00 ref
	groups              map[string][]string
	awaiting            map[string]bool // group \x00 user: membership awaiting a seat
	membershipForbidden bool
	readOnly            bool
	pageSize            int
	diffLimit           int // GET .../diffs lists no more files (GitLab's diff limits; DefaultDiffLimit)
	rateLimit           int
	failNext, failCode  int
	statuses            []*status
	pipelines           []*pipeline // oldest first
	actions             []string
	expects             []*expectation
	log                 []string
	clock               time.Time
}

// New starts a fake whose token user is a project access token's bot; it is closed and verified at
// cleanup.
func New(t testing.TB) *Server {
	s := &Server{
		t: t, bot: "project_42_bot_3cca1d029554e372cf8f39df76bf507d",
		projects: map[string]*project{}, nextID: 1000, users: map[string]int64{},
		files: map[string][]byte{}, refs: map[string]bool{}, groups: map[string][]string{}, awaiting: map[string]bool{},
		diffLimit: DefaultDiffLimit, clock: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
	}
	s.srv = httptest.NewServer(s)
	t.Cleanup(func() {
		s.srv.Close()
		s.verify()
	})
	return s
}

// URL is the API root to give the client (CI_API_V4_URL), ending in /api/v4.
func (s *Server) URL() string { return s.srv.URL + Prefix }

// BotLogin is the username of Token's user.
func (s *Server) BotLogin() string { return s.bot }

// Expect fails the test at cleanup unless a request reached route, written "METHOD name" with the
// route names of routes.go, e.g. "POST notes" or "GET approval_state".
func (s *Server) Expect(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expects = append(s.expects, &expectation{route: route})
}

// Requests returns every request received, as "METHOD /path?query" (path still escaped).
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func (s *Server) verify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.expects {
		if e.hits == 0 {
			s.t.Errorf("gitlabtest: expected request %s never came; got %q", e.route, s.log)
		}
	}
}

// tick advances the fake's clock: every stored object gets a distinct time.
func (s *Server) tick() time.Time {
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) userID(name string) int64 {
	if id, ok := s.users[name]; ok {
		return id
	}
	id := int64(100 + len(s.users))
	s.users[name] = id
	return id
}

func (s *Server) project(path string) *project {
	if p, ok := s.projects[path]; ok {
		return p
	}
	p := &project{id: int64(40 + len(s.projects)), path: path, mrs: map[int64]*mr{}}
	s.projects[path] = p
	return p
}

// AddChangeRequest stores an open merge request with its changed files and returns its ref: each file
// is one the merge request adds, or, written "-path", one it deletes, or, written "new\x00old", one it
// renames from old. A zero cr.Number takes the project's next IID; cr.Fork puts the source branch in
// another project.
func (s *Server) AddChangeRequest(cr forge.ChangeRequest, files []string) forge.Ref {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(cr.Repo)
	iid := int64(cr.Number)
	if iid == 0 {
		p.next++
		iid = p.next
	} else if iid > p.next {
		p.next = iid
	}
	m := &mr{
		id: s.id(), iid: iid, title: cr.Title, author: cr.Author,
		headSHA: cr.HeadSHA, baseSHA: cr.BaseSHA, baseRef: cr.BaseRef, headRef: fmt.Sprintf("feature-%d", iid),
		sourceProject: p.id, state: "opened", files: slices.Clone(files), created: s.tick(),
	}
	m.versions = []diffVersion{{id: s.id(), head: cr.HeadSHA, at: m.created}}
	if cr.Fork {
		m.sourceProject = p.id + 1000
	}
	if cr.State == "merged" || cr.Merged {
		m.state = "merged"
	}
	if cr.State == "closed" {
		m.state, m.closedAt = "closed", s.tick()
	}
	p.mrs[iid] = m
	s.userID(cr.Author)
	return forge.Ref{Repo: cr.Repo, Number: int(iid)}
}

// Push moves the merge request's head to sha, as a push to its branch at time at does: GitLab records a
// new diff version and keeps the approvals (ResetApprovals models a project that resets them on push).
func (s *Server) Push(ref forge.Ref, sha string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mustMR(ref)
	if m == nil {
		return
	}
	if at.IsZero() {
		at = s.tick()
	}
	m.headSHA = sha
	m.versions = append(m.versions, diffVersion{id: s.id(), head: sha, at: at})
}

// AddCommit appends a commit changing files to the project's history (kept linear, newest last), as
// GET /projects/:id/repository/commits lists it. When of names a merge request, the commit is one of
// its own: GET /projects/:id/repository/commits/:sha/merge_requests lists the merge request for it.
func (s *Server) AddCommit(repo, sha string, files []string, of forge.Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(repo)
	p.history = append(p.history, &commit{sha: sha, files: slices.Clone(files), at: s.tick()})
	s.refs[repo+"\x00"+sha] = true
	if of.Number != 0 {
		if m := s.mustMR(of); m != nil {
			m.commits = append(m.commits, sha)
		}
	}
}

// AdvanceTarget moves the target branch on to sha after the merge request branched off: its diff
// refs then show start_sha (the target's head) apart from base_sha (the merge base).
func (s *Server) AdvanceTarget(ref forge.Ref, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mustMR(ref); m != nil {
		m.startSHA = sha
	}
}

// Merge marks the merge request merged into its target branch by mergeSHA (a merge or squash commit),
// as a deploy on the default branch then finds it.
func (s *Server) Merge(ref forge.Ref, mergeSHA string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mustMR(ref)
	if m == nil {
		return
	}
	m.state, m.mergeSHA, m.squash, m.mergedAt = "merged", mergeSHA, false, s.tick()
}

// Close marks the merge request closed without merging it.
func (s *Server) Close(ref forge.Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mustMR(ref); m != nil {
		m.state, m.closedAt = "closed", s.tick()
	}
}

func (s *Server) mustMR(ref forge.Ref) *mr {
	p, ok := s.projects[ref.Repo]
	if !ok || p.mrs[int64(ref.Number)] == nil {
		s.t.Errorf("gitlabtest: no merge request %s!%d", ref.Repo, ref.Number)
		return nil
	}
	return p.mrs[int64(ref.Number)]
}

// AddComment adds a user note by author and returns its ID.
func (s *Server) AddComment(ref forge.Ref, author, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mustMR(ref)
	if m == nil {
		return 0
	}
	now := s.tick()
	n := &note{id: s.id(), author: author, body: body, created: now, updated: now}
	m.notes = append(m.notes, n)
	return n.id
}

// AddReview records a review decision the way GitLab does:
//   - APPROVED: an approval (GET .../approvals), a system note "approved this merge request" at
//     r.SubmittedAt, and a reviewer's state moved to approved;
//   - DISMISSED: the approval revoked, a system note "unapproved this merge request", and a reviewer's
//     state moved to unapproved;
//   - CHANGES_REQUESTED: a review submitted with "Request changes" (GitLab 17.x): a system note
//     "requested changes", the reviewer's state moved to requested_changes (the author is made a
//     reviewer first, if not one yet) and their approval removed without a note
//     (MergeRequests::UpdateReviewerStateService).
//
// Other states have no GitLab counterpart and fail the test.
func (s *Server) AddReview(ref forge.Ref, r forge.Review) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mustMR(ref)
	if m == nil {
		return
	}
	at := r.SubmittedAt
	if at.IsZero() {
		at = s.tick()
	}
	unapprove := func() {
		m.approvals = slices.DeleteFunc(m.approvals, func(a approval) bool { return a.user == r.Author })
	}
	var body string
	switch r.State {
	case "APPROVED":
		body = "approved this merge request"
		unapprove()
		m.approvals = append(m.approvals, approval{user: r.Author, at: at})
		s.setReviewerState(m, r.Author, "approved", false)
	case "DISMISSED":
		body = "unapproved this merge request"
		unapprove()
		s.setReviewerState(m, r.Author, "unapproved", false)
	case "CHANGES_REQUESTED":
		body = "requested changes"
		unapprove()
		s.setReviewerState(m, r.Author, "requested_changes", true)
	default:
		s.t.Errorf("gitlabtest: GitLab has no review state %q (approvals and requested changes only)", r.State)
		return
	}
	m.notes = append(m.notes, &note{id: s.id(), author: r.Author, body: body, system: true, created: at, updated: at})
}

// setReviewerState moves user's reviewer state, adding user as a reviewer first when add is set;
// GitLab keeps no state for a user who is not a reviewer.
func (s *Server) setReviewerState(m *mr, user, state string, add bool) {
	for _, rv := range m.reviewers {
		if rv.user == user {
			rv.state = state
			return
		}
	}
	if add {
		m.reviewers = append(m.reviewers, &reviewer{user: user, state: state, created: s.tick()})
		s.userID(user)
	}
}

// AddReviewer makes user a reviewer of the merge request, in state unreviewed.
func (s *Server) AddReviewer(ref forge.Ref, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mustMR(ref); m != nil {
		s.setReviewerState(m, user, "unreviewed", true)
	}
}

// RequestReview re-requests a review from reviewer user, as the author's "Re-request review" does
// (MergeRequests::RequestReviewService): the state goes back to unreviewed and the user's approval is
// removed without a note. Changes the user requested no longer count.
func (s *Server) RequestReview(ref forge.Ref, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mustMR(ref)
	if m == nil {
		return
	}
	if !slices.ContainsFunc(m.reviewers, func(rv *reviewer) bool { return rv.user == user }) {
		s.t.Errorf("gitlabtest: %s is no reviewer of %s!%d", user, ref.Repo, ref.Number)
		return
	}
	m.approvals = slices.DeleteFunc(m.approvals, func(a approval) bool { return a.user == user })
	s.setReviewerState(m, user, "unreviewed", false)
}

// SetReviewerState sets reviewer user's state alone (making user a reviewer if not one yet), with no
// note and no change of approvals, as GET .../reviewers then answers it.
func (s *Server) SetReviewerState(ref forge.Ref, user, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mustMR(ref); m != nil {
		s.setReviewerState(m, user, state, true)
	}
}

// ReviewerStates returns each reviewer's state, as GET .../reviewers answers it.
func (s *Server) ReviewerStates(ref forge.Ref) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	if m := s.mustMR(ref); m != nil {
		for _, rv := range m.reviewers {
			out[rv.user] = rv.state
		}
	}
	return out
}

// ResetApprovals drops every current approval without a system note, as a push does when the project
// resets approvals on push.
func (s *Server) ResetApprovals(ref forge.Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mustMR(ref); m != nil {
		m.approvals = nil
	}
}

// SetApprovalRules sets the rules GET .../approval_state answers.
func (s *Server) SetApprovalRules(ref forge.Ref, rules []Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mustMR(ref); m != nil {
		m.rules = slices.Clone(rules)
	}
}

// SetApprovalRulesUnavailable makes GET .../approval_state answer status (403 or 404), as on a tier
// without approval rules; 0 restores it.
func (s *Server) SetApprovalRulesUnavailable(ref forge.Ref, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mustMR(ref); m != nil {
		m.rulesStatus = status
	}
}

// SetFile stores a file's content at a ref (branch name or SHA).
func (s *Server) SetFile(repo, path, ref string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project(repo)
	s.files[repo+"\x00"+ref+"\x00"+strings.TrimPrefix(path, "/")] = slices.Clone(content)
	s.refs[repo+"\x00"+ref] = true
}

// AddUser makes name a user GitLab knows (GET /users?username= finds it), as every author, approver
// and member already is.
func (s *Server) AddUser(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userID(name)
}

// MergeInto marks the merge request merged into branch by mergeSHA (its merge commit), as Merge does,
// with squash set: the commit is the squash commit (squash_commit_sha) and merge_commit_sha is null, as
// GitLab answers for a squash merge with a fast-forward merge method.
func (s *Server) MergeInto(ref forge.Ref, branch, mergeSHA string, squash bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mustMR(ref)
	if m == nil {
		return
	}
	m.baseRef = branch
	m.state, m.mergeSHA, m.squash, m.mergedAt = "merged", mergeSHA, squash, s.tick()
}

// AddTeamMember makes user an active member of group team (a full path).
func (s *Server) AddTeamMember(team, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[team] = append(s.groups[team], user)
	s.userID(user)
}

// AddAwaitingMember adds user to group team with a membership awaiting a seat (membership_state
// "awaiting"), which GitLab lists but does not let act as a member.
func (s *Server) AddAwaitingMember(team, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[team] = append(s.groups[team], user)
	s.awaiting[team+"\x00"+user] = true
	s.userID(user)
}

// SetMembershipForbidden makes group member reads answer 403 Forbidden.
func (s *Server) SetMembershipForbidden(forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.membershipForbidden = forbidden
}

// SetReadOnly makes every write answer 403 Forbidden, as for a Guest or a token without `api` scope.
func (s *Server) SetReadOnly(readOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readOnly = readOnly
}

// SetPageSize caps the number of items per page of every list endpoint.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// DefaultDiffLimit is GitLab's default maximum of diff files (Admin > Settings > General > Diff limits),
// the most files GET .../diffs lists of a merge request until SetDiffLimit says otherwise.
const DefaultDiffLimit = 1000

// SetDiffLimit makes merge requests list at most n changed files, as GitLab's diff limits do (maximum
// diff files, DefaultDiffLimit by default): GET .../diffs leaves the others out and the merge request's
// changes_count reads "n+". 0 restores DefaultDiffLimit.
func (s *Server) SetDiffLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		n = DefaultDiffLimit
	}
	s.diffLimit = n
}

// SetFileLimit is SetDiffLimit (forgetest.Backend's name for a platform's cap on listed files).
func (s *Server) SetFileLimit(n int) { s.SetDiffLimit(n) }

// FailNext makes the next n requests answer code (502, 503, 504...) as GitLab's nginx does in front of
// an unavailable Puma, without doing anything.
func (s *Server) FailNext(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failCode = n, code
}

// RateLimitNext makes the next n requests answer 429 with Retry-After: 1.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit = n
}

// Comments returns the merge request's notes as stored (system notes included), oldest first.
func (s *Server) Comments(ref forge.Ref) []forge.Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mustMR(ref)
	if m == nil {
		return nil
	}
	var out []forge.Comment
	for _, n := range sortedNotes(m.notes, true) {
		out = append(out, forge.Comment{ID: n.id, Author: n.author, Body: n.body, System: n.system})
	}
	return out
}

// Statuses returns the commit statuses set on sha, in whichever of its pipelines, oldest first, with
// GitLab's "failed" read back as forge's "failure".
func (s *Server) Statuses(repo, sha string) []forge.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusesWhere(func(st *status) bool { return st.project == repo && st.sha == sha })
}

func (s *Server) statusesWhere(keep func(*status) bool) []forge.Status {
	var out []forge.Status
	for _, st := range s.statuses {
		if !keep(st) {
			continue
		}
		state := st.state
		if state == "failed" {
			state = "failure"
		}
		out = append(out, forge.Status{Context: st.name, State: state, Description: st.description, TargetURL: st.targetURL})
	}
	return out
}

// AddPipeline records a pipeline of repo for commit sha on ref, newer than every pipeline before it, as
// a push, a merge request, a schedule or a re-run creates one, and returns its ID (CI_PIPELINE_ID). One
// commit may have several: two merge requests from one branch, a branch pipeline and a merge request
// pipeline.
func (s *Server) AddPipeline(repo, sha, ref string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project(repo)
	pl := &pipeline{id: s.id(), project: repo, sha: sha, ref: ref}
	s.pipelines = append(s.pipelines, pl)
	return pl.id
}

// Pipelines returns the IDs of the pipelines of sha, oldest first, those GitLab created for a commit
// status included.
func (s *Server) Pipelines(repo, sha string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for _, pl := range s.pipelines {
		if pl.project == repo && pl.sha == sha {
			out = append(out, pl.id)
		}
	}
	return out
}

// PipelineStatuses returns the commit statuses set in pipeline id, oldest first, as Statuses does.
func (s *Server) PipelineStatuses(id int64) []forge.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusesWhere(func(st *status) bool { return st.pipeline == id })
}

func sortedNotes(ns []*note, asc bool) []*note {
	out := slices.Clone(ns)
	slices.SortStableFunc(out, func(a, b *note) int {
		c := a.created.Compare(b.created)
		if c == 0 {
			c = int(a.id - b.id)
		}
		if !asc {
			c = -c
		}
		return c
	})
	return out
}
