// Package githubtest is an httptest fake of the part of GitHub's REST API schemagate uses. It keeps
// pull requests, comments, reviews, files, teams, users' roles, statuses, and Actions workflow runs with
// their artifacts in memory, answers with GitHub's payload shapes (Link pagination, base64 contents,
// 403/404/410 bodies, rate-limit headers, an artifact download's redirect to a storage that takes no token), lists a commit's merged
// pull requests only for commits of the default branch, at most 3000 files of a pull request, and no
// content over 1 MB but through the raw media type, as GitHub does, fails the test on a
// request it has no route for and, at cleanup, on an expected request that never came.
package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/forgetest"
)

var _ forgetest.Backend = (*Server)(nil)

// Token is the only token the fake accepts; others get GitHub's 401 "Bad credentials".
const Token = "ghs_fake_token"

// Prefix is the path the API is served under, as on GitHub Enterprise Server.
const Prefix = "/api/v3"

const docsBase = "https://docs.github.com/rest"

// DefaultBranch is every repository's default branch. GET .../commits/{sha}/pulls lists merged pull
// requests only for its commits.
const DefaultBranch = "main"

type pull struct {
	repo, title, author string
	number              int
	headSHA, baseSHA    string
	headRef, baseRef    string
	headRepo            string
	state               string
	merged              bool
	mergeSHA            string    // merge_commit_sha once merged: the merge, squash or last rebased commit
	mergedAt            time.Time // zero: an hour after creation
	commits             []string  // the pull request's own commits (AddCommit with its ref)
	files               []string
	comments            []*comment
	reviews             []*review
	created             time.Time
}

// commit is a commit of a repository's history, which the fake keeps linear: its parent is the commit
// added before it.
type commit struct {
	sha   string
	files []string
	at    time.Time
}

type comment struct {
	id               int64
	author, body     string
	created, updated time.Time
}

type review struct {
	id                    int64
	author, state, commit string
	submitted             time.Time
}

type status struct {
	forge.Status
	repo, sha string
	id        int64
	created   time.Time
}

type expectation struct {
	pattern string
	hits    int
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	t   testing.TB
	srv *httptest.Server
	mux *http.ServeMux

	mu                  sync.Mutex
	bot                 string
	installation        bool
	app                 string // the App of an installation token ("" for the Actions GITHUB_TOKEN)
	pulls               map[string]*pull
	nextNumber          map[string]int
	nextID              int64
	users               map[string]int64
	files               map[string][]byte    // repo \x00 ref \x00 path
	history             map[string][]*commit // repo: oldest first
	teams               map[string]map[string]bool
	teamRoles           map[string]string // team → its role on every repository ("": no access, 404); write when not set
	secretTeams         map[string]bool
	orgForbidden        bool
	associations        map[string]string // lower-cased login → author_association of their reviews
	roles               map[string]string // lower-cased login → role_name on every repository ("": none, 404)
	membershipForbidden bool
	pullsForbidden      bool
	permissionForbidden bool
	permissionErrors    map[string]permissionError // lower-cased login → the refusal GET .../permission answers
	readOnly            bool
	pageSize            int
	fileLimit           int // >0: GET .../pulls/{n}/files lists no more files (default MaxFiles)
	rateLimit           int
	rateLimitOn         map[string]int // route pattern → requests still to answer as rate-limited
	failNext, failCode  int
	statuses            []*status
	runs                []*workflowRun
	workflows           map[string]bool // repo \x00 workflow file
	artifacts           map[int64]*artifact
	actionsForbidden    bool
	expects             []*expectation
	log                 []string
	clock               time.Time
}

// New starts a fake whose token user is "schemagate-bot"; it is closed and verified at cleanup.
func New(t testing.TB) *Server {
	s := &Server{
		t: t, bot: "schemagate-bot",
		pulls: map[string]*pull{}, nextNumber: map[string]int{}, nextID: 1000,
		users: map[string]int64{}, files: map[string][]byte{}, teams: map[string]map[string]bool{}, teamRoles: map[string]string{}, secretTeams: map[string]bool{}, history: map[string][]*commit{},
		associations: map[string]string{}, roles: map[string]string{}, permissionErrors: map[string]permissionError{}, rateLimitOn: map[string]int{}, fileLimit: MaxFiles, clock: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
	}
	s.mux = http.NewServeMux()
	s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.srv.Close()
		s.verify()
	})
	return s
}

// URL is the API root to give the client (GITHUB_API_URL), ending in /api/v3.
func (s *Server) URL() string { return s.srv.URL + Prefix }

// SetInstallationToken makes the token behave like the Actions GITHUB_TOKEN: GET /user is refused and
// comments are written by github-actions[bot].
func (s *Server) SetInstallationToken(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installation = on
}

// SetAppInstallationToken makes the token behave like a GitHub App's installation token: GET /user is
// refused and comments are written by login (e.g. "my-app[bot]").
func (s *Server) SetAppInstallationToken(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installation, s.app = true, login
}

// Expect registers a request that must arrive before cleanup, by route pattern, e.g.
// "POST /repos/{owner}/{repo}/statuses/{sha}".
func (s *Server) Expect(pattern string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expects = append(s.expects, &expectation{pattern: pattern})
}

// Requests returns every request received as "METHOD /path?query", in order.
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
			s.t.Errorf("githubtest: expected request %q never came; requests were:\n%s", e.pattern, strings.Join(s.log, "\n"))
		}
	}
}

func (s *Server) tick() time.Time {
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

func (s *Server) userID(login string) int64 {
	if id, ok := s.users[login]; ok {
		return id
	}
	id := int64(21031067 + len(s.users))
	s.users[login] = id
	return id
}

func (s *Server) commentAuthor() string {
	if s.installation {
		if s.app != "" {
			return s.app
		}
		return "github-actions[bot]"
	}
	return s.bot
}

func key(repo string, n int) string { return repo + "#" + strconv.Itoa(n) }

// AddChangeRequest stores an open pull request whose head is a branch of the same repository (of the
// author's fork with Fork): cr.HeadBranch, else feature-N. files are the paths it changes: "-path" lists
// a removed file, "new\x00old" a file renamed from old.
func (s *Server) AddChangeRequest(cr forge.ChangeRequest, files []string) forge.Ref {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := cr.Number
	if n == 0 {
		s.nextNumber[cr.Repo]++
		n = s.nextNumber[cr.Repo]
	}
	p := &pull{
		repo: cr.Repo, number: n, title: cr.Title, author: cr.Author,
		headSHA: cr.HeadSHA, baseSHA: cr.BaseSHA, headRef: "feature-" + strconv.Itoa(n), baseRef: cr.BaseRef,
		headRepo: cr.Repo, state: "open", files: slices.Clone(files), created: s.tick(),
	}
	if cr.Fork {
		p.headRepo = cr.Author + "/" + strings.SplitN(cr.Repo, "/", 2)[1]
	}
	if cr.HeadBranch != "" {
		p.headRef = cr.HeadBranch
	}
	if cr.State != "" {
		p.state = cr.State
	}
	p.merged = cr.Merged
	s.pulls[key(cr.Repo, n)] = p
	return forge.Ref{Repo: cr.Repo, Number: n}
}

// Push moves a pull request's head to sha, as a push does (GitHub's reviews keep the commit they were
// given on, so the time does not matter here).
func (s *Server) Push(ref forge.Ref, sha string, at time.Time) { s.SetHead(ref, sha) }

// SetPullFiles replaces the files a pull request changes, as a push does.
func (s *Server) SetPullFiles(ref forge.Ref, files []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPull(ref).files = slices.Clone(files)
}

// SetHead moves a pull request's head, as a push does.
func (s *Server) SetHead(ref forge.Ref, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPull(ref).headSHA = sha
}

// AddCommit appends a commit changing files to the repository's history (kept linear, newest last), as
// GET /repos/{owner}/{repo}/commits lists it. When of names a pull request, the commit is one of its
// own: GET /repos/{owner}/{repo}/commits/{sha}/pulls lists the pull request for it.
func (s *Server) AddCommit(repo, sha string, files []string, of forge.Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history[repo] = append(s.history[repo], &commit{sha: sha, files: slices.Clone(files), at: s.tick()})
	if of.Number != 0 {
		p := s.mustPull(of)
		p.commits = append(p.commits, sha)
	}
}

// MergeInto merges the pull request into branch as mergeSHA, its merge_commit_sha: the merge commit, the
// squash commit (squash) or the last rebased commit. The commit itself goes into the history with
// AddCommit.
func (s *Server) MergeInto(ref forge.Ref, branch, mergeSHA string, squash bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPull(ref)
	p.baseRef, p.state, p.merged, p.mergeSHA, p.mergedAt = branch, "closed", true, mergeSHA, s.tick()
}

func (s *Server) mustPull(ref forge.Ref) *pull {
	p, ok := s.pulls[key(ref.Repo, ref.Number)]
	if !ok {
		s.t.Fatalf("githubtest: no pull request %s#%d", ref.Repo, ref.Number)
	}
	return p
}

// AddComment adds a conversation comment by author.
func (s *Server) AddComment(ref forge.Ref, author, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPull(ref)
	s.nextID++
	now := s.tick()
	p.comments = append(p.comments, &comment{id: s.nextID, author: author, body: body, created: now, updated: now})
	return s.nextID
}

// AddReview appends a review; State is GitHub's upper-case review state.
func (s *Server) AddReview(ref forge.Ref, r forge.Review) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPull(ref)
	s.nextID++
	at := r.SubmittedAt
	if at.IsZero() {
		at = s.tick()
	}
	commit := r.CommitSHA
	if commit == "" {
		commit = p.headSHA
	}
	p.reviews = append(p.reviews, &review{id: s.nextID, author: r.Author, state: r.State, commit: commit, submitted: at})
}

// SetAssociation sets the author_association GitHub gives login's reviews: how the user relates to the
// repository now (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE...); MEMBER when not set.
func (s *Server) SetAssociation(login, association string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.associations[strings.ToLower(login)] = association
}

// Roles a user may hold on a repository, as GitHub's role_name names them, and the base permission
// GitHub maps each to in the permission field (maintain → write, triage → read).
var roles = map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}

// SetRole sets login's role on every repository, as GET /repos/{owner}/{repo}/collaborators/{username}/
// permission answers it: admin, maintain, write, triage or read; "" makes it answer 404, as GitHub does
// for a user who is no collaborator. A login without a role set gets one from its author_association:
// admin for OWNER, write for MEMBER (the default) and COLLABORATOR, none (404) for the others.
func (s *Server) SetRole(login, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := roles[role]; !ok && role != "" {
		s.t.Fatalf("githubtest: role %q is not modelled (admin, maintain, write, triage, read or \"\")", role)
	}
	s.roles[strings.ToLower(login)] = role
}

// roleOf is login's role on the repositories ("" for none); the caller holds s.mu.
func (s *Server) roleOf(login string) string {
	if role, ok := s.roles[strings.ToLower(login)]; ok {
		return role
	}
	switch s.associations[strings.ToLower(login)] {
	case "OWNER":
		return "admin"
	case "", "MEMBER", "COLLABORATOR":
		return "write"
	}
	return ""
}

// SetPermissionForbidden makes GET .../collaborators/{username}/permission answer 403 "Resource not
// accessible by integration", as GitHub does for a token without the Metadata permission on the
// repository.
func (s *Server) SetPermissionForbidden(forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.permissionForbidden = forbidden
}

// permissionError is a refusal of GET .../collaborators/{username}/permission.
type permissionError struct {
	code    int
	message string
}

// SetPermissionError makes GET .../collaborators/{login}/permission answer code with message, as GitHub
// does for login alone: 403 "Must have push access to view collaborator permission." to a token without
// push access (a fork pull request's or a read-only GITHUB_TOKEN), 422 for a login that is no user (an
// app's bot, such as dependabot[bot]). Code 0 takes it back.
func (s *Server) SetPermissionError(login string, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.permissionErrors, strings.ToLower(login))
		return
	}
	s.permissionErrors[strings.ToLower(login)] = permissionError{code: code, message: message}
}

// SetFile stores a file at a ref (branch name or SHA).
func (s *Server) SetFile(repo, path, ref string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[repo+"\x00"+ref+"\x00"+path] = slices.Clone(content)
}

// AddTeamMember makes user an active member of "org/team".
func (s *Server) AddTeamMember(team, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	team = strings.TrimPrefix(team, "@")
	if s.teams[team] == nil {
		s.teams[team] = map[string]bool{}
	}
	if user != "" {
		s.teams[team][user] = true
	}
}

// SetTeamRole sets team's ("org/team") role on every repository, as GET /orgs/{org}/teams/{team_slug}/
// repos/{owner}/{repo} answers it: admin, maintain, write, triage or read; "" makes it answer 404, as
// GitHub does for a team without access. A team without a role set has write access.
func (s *Server) SetTeamRole(team, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := roles[role]; !ok && role != "" {
		s.t.Fatalf("githubtest: role %q is not modelled (admin, maintain, write, triage, read or \"\")", role)
	}
	s.teamRoles[strings.TrimPrefix(team, "@")] = role
}

// SetTeamSecret makes team ("org/team") secret (privacy "secret") or visible ("closed", the default).
// The token's user is taken to be an owner of the organization, who sees secret teams too.
func (s *Server) SetTeamSecret(team string, secret bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secretTeams[strings.TrimPrefix(team, "@")] = secret
}

// SetOrgForbidden makes team, team repository and membership reads answer 403 "Resource not accessible
// by integration", as GitHub does for a GitHub App's token without the Members organization permission.
func (s *Server) SetOrgForbidden(forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgForbidden = forbidden
}

// SetMembershipForbidden makes team and membership reads answer 404, as GitHub does for a token
// without read:org (the Actions GITHUB_TOKEN).
func (s *Server) SetMembershipForbidden(forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.membershipForbidden = forbidden
}

// SetPullListForbidden makes the lists of pull requests (GET /repos/{owner}/{repo}/pulls and GET
// /repos/{owner}/{repo}/commits/{sha}/pulls) answer 403 "Resource not accessible by integration", as
// GitHub does for a token without the Pull requests permission.
func (s *Server) SetPullListForbidden(forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pullsForbidden = forbidden
}

// SetReadOnly makes every write answer 403 "Resource not accessible by integration".
func (s *Server) SetReadOnly(readOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readOnly = readOnly
}

// SetPageSize caps the items per page of every list.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// MaxFiles is the most files GET /repos/{owner}/{repo}/pulls/{number}/files lists of a pull request, as
// on GitHub ("Responses include a maximum of 3000 files"); the pull request's changed_files still counts
// them all.
const MaxFiles = 3000

// SetFileLimit makes GET .../pulls/{number}/files list at most n files of a pull request, as GitHub's
// cap of MaxFiles does, with changed_files counting them all; 0 restores MaxFiles.
func (s *Server) SetFileLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		n = MaxFiles
	}
	s.fileLimit = n
}

// RateLimitNext answers the next n requests with a secondary rate limit (403, Retry-After: 1).
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit = n
}

// RateLimitNextOn answers the next n requests to the route pattern (as Expect names it, e.g.
// "GET /repos/{owner}/{repo}/collaborators/{username}/permission") with a secondary rate limit
// (403, Retry-After: 1), whatever RateLimitNext says of the others.
func (s *Server) RateLimitNextOn(pattern string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimitOn[pattern] = n
}

// FailNext makes the next n requests answer code (502, 503, 504...) without doing anything, as GitHub
// does when a backend is unavailable.
func (s *Server) FailNext(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failCode = n, code
}

// BotLogin is the token user's login as comments show it.
func (s *Server) BotLogin() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commentAuthor()
}

// Comments returns a pull request's comments, oldest first.
func (s *Server) Comments(ref forge.Ref) []forge.Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []forge.Comment
	for _, c := range s.mustPull(ref).comments {
		out = append(out, forge.Comment{ID: c.id, Author: c.author, Body: c.body})
	}
	return out
}

// Statuses returns the statuses set on sha, oldest first.
func (s *Server) Statuses(repo, sha string) []forge.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []forge.Status
	for _, st := range s.statuses {
		if st.repo == repo && st.sha == sha {
			out = append(out, st.Status)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.log = append(s.log, r.Method+" "+r.URL.RequestURI())
	s.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, blobPrefix) {
		s.serveBlob(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, Prefix+"/") {
		s.t.Errorf("githubtest: request outside %s: %s %s", Prefix, r.Method, r.URL.Path)
		writeError(w, http.StatusNotFound, "Not Found", docsBase)
		return
	}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		s.t.Errorf("githubtest: unexpected request %s %s", r.Method, r.URL.RequestURI())
		writeError(w, http.StatusNotFound, "Not Found", docsBase)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+Token {
		writeError(w, http.StatusUnauthorized, "Bad credentials", docsBase)
		return
	}
	route := strings.Replace(pattern, Prefix, "", 1)
	s.mu.Lock()
	for _, e := range s.expects {
		if e.pattern == route {
			e.hits++
		}
	}
	limited := s.rateLimitOn[route] > 0
	if limited {
		s.rateLimitOn[route]--
	} else if s.rateLimit > 0 {
		limited = true
		s.rateLimit--
	}
	failCode := 0
	if !limited && s.failNext > 0 {
		s.failNext--
		failCode = s.failCode
	}
	readOnly := s.readOnly && r.Method != http.MethodGet
	s.mu.Unlock()
	if failCode != 0 {
		// GitHub's answer when a backend is unavailable: {"message": "Server Error"} with the status.
		writeError(w, failCode, "Server Error", "")
		return
	}
	if limited {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusForbidden, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
		return
	}
	if readOnly {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", docsBase)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg, doc string) {
	writeJSON(w, code, map[string]any{"message": msg, "documentation_url": doc})
}

// page slices items per the request's page/per_page and sets GitHub's Link header.
func page[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T) []T {
	q := r.URL.Query()
	per := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	s.mu.Lock()
	if s.pageSize > 0 {
		per = min(per, s.pageSize)
	}
	s.mu.Unlock()
	pg := 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		pg = v
	}
	last := max(1, (len(items)+per-1)/per)
	link := func(n int, rel string) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		qq := r.URL.Query()
		qq.Set("page", strconv.Itoa(n))
		qq.Set("per_page", strconv.Itoa(per))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if pg < last {
		links = append(links, link(pg+1, "next"), link(last, "last"))
	}
	if pg > 1 {
		links = append(links, link(1, "first"), link(pg-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((pg-1)*per, len(items))
	hi := min(lo+per, len(items))
	return items[lo:hi]
}
