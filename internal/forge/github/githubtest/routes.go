package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/forge"
)

func (s *Server) routes() {
	h := func(pattern string, fn http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		s.mux.HandleFunc(method+" "+Prefix+path, fn)
	}
	h("GET /user", s.getUser)
	h("GET /repos/{owner}/{repo}/pulls", s.listPulls)
	h("GET /repos/{owner}/{repo}/pulls/{number}", s.getPull)
	h("GET /repos/{owner}/{repo}/commits", s.listCommits)
	h("GET /repos/{owner}/{repo}/commits/{sha}/pulls", s.commitPulls)
	h("GET /search/issues", s.searchIssues)
	h("GET /repos/{owner}/{repo}/issues/{number}/comments", s.listComments)
	h("POST /repos/{owner}/{repo}/issues/{number}/comments", s.createComment)
	h("PATCH /repos/{owner}/{repo}/issues/comments/{id}", s.editComment)
	h("GET /repos/{owner}/{repo}/pulls/{number}/reviews", s.listReviews)
	h("GET /repos/{owner}/{repo}/pulls/{number}/files", s.listFiles)
	h("GET /repos/{owner}/{repo}/contents/{path...}", s.getContents)
	h("POST /repos/{owner}/{repo}/statuses/{sha}", s.createStatus)
	h("GET /orgs/{org}/teams/{team}/memberships/{user}", s.getMembership)
	h("GET /orgs/{org}/teams/{team}", s.getTeam)
	h("GET /orgs/{org}/teams/{team}/repos/{owner}/{repo}", s.getTeamRepo)
	h("GET /repos/{owner}/{repo}/collaborators/{username}/permission", s.getPermission)
	h("GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs", s.listWorkflowRuns)
	h("GET /repos/{owner}/{repo}/actions/runs/{run}/artifacts", s.listRunArtifacts)
	h("GET /repos/{owner}/{repo}/actions/artifacts/{artifact}/{format}", s.downloadArtifact)
}

func repoOf(r *http.Request) string { return r.PathValue("owner") + "/" + r.PathValue("repo") }

// pullOf returns the request's pull request, or answers 404 and returns nil.
func (s *Server) pullOf(w http.ResponseWriter, r *http.Request, doc string) *pull {
	n, err := strconv.Atoi(r.PathValue("number"))
	s.mu.Lock()
	p := s.pulls[key(repoOf(r), n)]
	s.mu.Unlock()
	if err != nil || p == nil {
		writeError(w, http.StatusNotFound, "Not Found", docsBase+doc)
		return nil
	}
	return p
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	inst, bot := s.installation, s.bot
	u := s.userJSON(bot)
	s.mu.Unlock()
	if inst {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", docsBase+"/users/users#get-the-authenticated-user")
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	p := s.pullOf(w, r, "/pulls/pulls#get-a-pull-request")
	if p == nil {
		return
	}
	s.mu.Lock()
	out := s.pullJSON(p, true)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) pullsWhere(repo string, keep func(*pull) bool) []*pull {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []*pull
	for _, p := range s.pulls {
		if p.repo == repo && keep(p) {
			ps = append(ps, p)
		}
	}
	// Newest first, GitHub's default order for lists of pulls.
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			if ps[j].number > ps[i].number {
				ps[i], ps[j] = ps[j], ps[i]
			}
		}
	}
	return ps
}

func (s *Server) writePulls(w http.ResponseWriter, r *http.Request, ps []*pull) {
	ps = page(s, w, r, ps)
	out := []any{}
	s.mu.Lock()
	for _, p := range ps {
		out = append(out, s.pullJSON(p, false))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// listPulls answers GET /repos/{owner}/{repo}/pulls?state=&base=&head=&sort=&direction=: newest first by
// default; sort=updated orders by the last change (a merge updates a pull request), ascending unless
// direction=desc, as GitHub defaults. head is OWNER:BRANCH, the owner of the repository holding the head
// branch and the branch.
func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	if s.pullListRefused(w, "/pulls/pulls#list-pull-requests") {
		return
	}
	q := r.URL.Query()
	state, base, head := q.Get("state"), q.Get("base"), q.Get("head")
	if state == "" {
		state = "open"
	}
	headOwner, headRef, ok := strings.Cut(head, ":")
	if head != "" && !ok {
		s.t.Errorf("githubtest: list pulls with head=%q (no OWNER:BRANCH) is not modelled", head)
	}
	ps := s.pullsWhere(repoOf(r), func(p *pull) bool {
		return (state == "all" || p.state == state) && (base == "" || p.baseRef == base) &&
			(head == "" || (strings.EqualFold(strings.Split(p.headRepo+"/", "/")[0], headOwner) && p.headRef == headRef))
	})
	switch q.Get("sort") {
	case "", "created":
		if q.Get("direction") == "asc" {
			slices.Reverse(ps)
		}
	case "updated":
		s.mu.Lock()
		slices.SortStableFunc(ps, func(a, b *pull) int {
			c := s.updatedAt(a).Compare(s.updatedAt(b))
			if q.Get("direction") != "asc" && q.Get("direction") != "" {
				c = -c
			}
			return c
		})
		s.mu.Unlock()
	default:
		s.t.Errorf("githubtest: list pulls sorted by %q is not modelled", q.Get("sort"))
	}
	s.writePulls(w, r, ps)
}

// pullListRefused answers 403 as GitHub does for a token without the Pull requests permission (see
// SetPullListForbidden) and reports whether it did.
func (s *Server) pullListRefused(w http.ResponseWriter, doc string) bool {
	s.mu.Lock()
	refused := s.pullsForbidden
	s.mu.Unlock()
	if refused {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", docsBase+doc)
	}
	return refused
}

// updatedAt is a pull request's updated_at: its merge, else its creation.
func (s *Server) updatedAt(p *pull) time.Time {
	if p.merged {
		return s.mergedAt(p)
	}
	return p.created
}

// commitPulls answers GET /repos/{owner}/{repo}/commits/{sha}/pulls as GitHub documents it: "Lists the
// merged pull request that introduced the commit to the repository. If the commit is not present in the
// default branch, will only return open pull requests associated with the commit." A commit is off the
// default branch here when the merged pull requests holding it were all merged into other branches.
func (s *Server) commitPulls(w http.ResponseWriter, r *http.Request) {
	if s.pullListRefused(w, "/commits/commits#list-pull-requests-associated-with-a-commit") {
		return
	}
	sha, repo := r.PathValue("sha"), repoOf(r)
	known := len(s.pullsWhere(repo, func(p *pull) bool { return p.headSHA == sha || p.baseSHA == sha })) > 0 ||
		s.commitIndex(repo, sha) >= 0
	if !known {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"message": "No commit found for SHA: " + sha, "documentation_url": docsBase + "/commits/commits#list-pull-requests-associated-with-a-commit"})
		return
	}
	holds := func(p *pull) bool {
		return p.headSHA == sha || (p.merged && p.mergeSHA == sha) || slices.Contains(p.commits, sha)
	}
	merged := s.pullsWhere(repo, func(p *pull) bool { return p.merged && holds(p) })
	onDefault := len(merged) == 0 || slices.ContainsFunc(merged, func(p *pull) bool { return p.baseRef == DefaultBranch })
	s.writePulls(w, r, s.pullsWhere(repo, func(p *pull) bool {
		return holds(p) && (onDefault || p.state == "open")
	}))
}

// searchIssues answers GET /search/issues?q= for the queries schemagate sends: a commit SHA (at least 7
// hex digits, matching the pull requests whose head, merge commit or own commits it is) with repo:,
// is:pr, is:merged, is:open, is:closed and base: qualifiers. Any other term fails the test.
func (s *Server) searchIssues(w http.ResponseWriter, r *http.Request) {
	var repo, sha, base string
	var merged, open, closed bool
	for _, term := range strings.Fields(r.URL.Query().Get("q")) {
		k, v, ok := strings.Cut(term, ":")
		switch {
		case !ok && len(term) >= 7 && strings.Trim(strings.ToLower(term), "0123456789abcdef") == "":
			sha = strings.ToLower(term)
		case k == "repo":
			repo = v
		case k == "base":
			base = v
		case term == "is:pr":
		case term == "is:merged":
			merged = true
		case term == "is:open":
			open = true
		case term == "is:closed":
			closed = true
		default:
			s.t.Errorf("githubtest: search term %q is not modelled", term)
		}
	}
	if repo == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
			"errors":            []any{map[string]any{"message": "None of the search qualifiers apply to this search type.", "resource": "Search", "field": "q", "code": "invalid"}},
			"documentation_url": docsBase + "/search/search#search-issues-and-pull-requests"})
		return
	}
	ps := s.pullsWhere(repo, func(p *pull) bool {
		holds := sha == "" || strings.HasPrefix(p.headSHA, sha) || (p.merged && strings.HasPrefix(p.mergeSHA, sha)) ||
			slices.ContainsFunc(p.commits, func(c string) bool { return strings.HasPrefix(c, sha) })
		return holds && (!merged || p.merged) && (!open || p.state == "open") && (!closed || p.state == "closed") &&
			(base == "" || p.baseRef == base)
	})
	total := len(ps)
	ps = page(s, w, r, ps)
	items := []any{}
	s.mu.Lock()
	for _, p := range ps {
		items = append(items, s.issueJSON(p))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"total_count": total, "incomplete_results": false, "items": items})
}

// commitIndex is the position of sha in the repository's history, -1 when absent.
func (s *Server) commitIndex(repo, sha string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.IndexFunc(s.history[repo], func(c *commit) bool { return c.sha == sha })
}

// listCommits answers GET /repos/{owner}/{repo}/commits?sha=&path=: the history up to sha (default: the
// newest commit), newest first, only the commits changing path when given, paginated.
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request) {
	repo, q := repoOf(r), r.URL.Query()
	s.mu.Lock()
	hist := slices.Clone(s.history[repo])
	s.mu.Unlock()
	end := len(hist) - 1
	if sha := q.Get("sha"); sha != "" {
		end = slices.IndexFunc(hist, func(c *commit) bool { return c.sha == sha })
		if end < 0 {
			writeError(w, http.StatusNotFound, "No commit found for SHA: "+sha, docsBase+"/commits/commits#list-commits")
			return
		}
	}
	type entry struct {
		c      *commit
		parent string
	}
	var es []entry
	for i := end; i >= 0; i-- {
		if path := q.Get("path"); path != "" && !slices.Contains(hist[i].files, path) {
			continue
		}
		e := entry{c: hist[i]}
		if i > 0 {
			e.parent = hist[i-1].sha
		}
		es = append(es, e)
	}
	es = page(s, w, r, es)
	out := []any{}
	s.mu.Lock()
	for _, e := range es {
		out = append(out, s.commitJSON(repo, e.c, e.parent))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	p := s.pullOf(w, r, "/issues/comments#list-issue-comments")
	if p == nil {
		return
	}
	s.mu.Lock()
	cs := append([]*comment(nil), p.comments...)
	s.mu.Unlock()
	cs = page(s, w, r, cs)
	out := []any{}
	s.mu.Lock()
	for _, c := range cs {
		out = append(out, s.commentJSON(p.repo, p.number, c))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsBase)
		return false
	}
	return true
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	p := s.pullOf(w, r, "/issues/comments#create-an-issue-comment")
	if p == nil {
		return
	}
	var in struct {
		Body *string `json:"body"`
	}
	if !readBody(w, r, &in) {
		return
	}
	if in.Body == nil {
		writeJSON(w, http.StatusUnprocessableEntity, validation("IssueComment", "body", "missing_field", ""))
		return
	}
	if tooLong(w, *in.Body) {
		return
	}
	s.mu.Lock()
	s.nextID++
	now := s.tick()
	c := &comment{id: s.nextID, author: s.commentAuthor(), body: *in.Body, created: now, updated: now}
	p.comments = append(p.comments, c)
	out := s.commentJSON(p.repo, p.number, c)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

// tooLong answers 422 as GitHub does for a comment body over 65,536 characters, created or edited.
func tooLong(w http.ResponseWriter, body string) bool {
	if utf8.RuneCountInString(body) <= 65536 {
		return false
	}
	writeJSON(w, http.StatusUnprocessableEntity, validation("IssueComment", "body", "custom", "Body is too long (maximum is 65536 characters)"))
	return true
}

func validation(resource, field, code, msg string) map[string]any {
	e := map[string]any{"resource": resource, "field": field, "code": code}
	if msg != "" {
		e["message"] = msg
	}
	return map[string]any{"message": "Validation Failed", "errors": []any{e}, "documentation_url": docsBase}
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct {
		Body *string `json:"body"`
	}
	if !readBody(w, r, &in) || in.Body != nil && tooLong(w, *in.Body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pulls {
		if p.repo != repoOf(r) {
			continue
		}
		for _, c := range p.comments {
			if c.id != id {
				continue
			}
			if c.author != s.commentAuthor() {
				// GitHub would let a maintainer's token do this; schemagate must never.
				s.t.Errorf("githubtest: comment %d by %s was edited with the bot's token", id, c.author)
			}
			if in.Body != nil {
				c.body = *in.Body
			}
			c.updated = s.tick()
			writeJSON(w, http.StatusOK, s.commentJSON(p.repo, p.number, c))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not Found", docsBase+"/issues/comments#update-an-issue-comment")
}

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request) {
	p := s.pullOf(w, r, "/pulls/reviews#list-reviews-for-a-pull-request")
	if p == nil {
		return
	}
	s.mu.Lock()
	rs := append([]*review(nil), p.reviews...)
	s.mu.Unlock()
	rs = page(s, w, r, rs)
	out := []any{}
	s.mu.Lock()
	for _, rv := range rs {
		out = append(out, s.reviewJSON(p, rv))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	p := s.pullOf(w, r, "/pulls/pulls#list-pull-requests-files")
	if p == nil {
		return
	}
	s.mu.Lock()
	type f struct {
		i    int
		name string
	}
	var fs []f
	for i, name := range p.files {
		if i == s.fileLimit {
			break // GitHub lists no more, and says nothing of the others: changed_files counts them
		}
		fs = append(fs, f{i, name})
	}
	s.mu.Unlock()
	fs = page(s, w, r, fs)
	out := []any{}
	for _, x := range fs {
		status := "added"
		name, previous, renamed := strings.Cut(x.name, "\x00") // "new\x00old" marks a renamed file
		if renamed {
			status = "renamed"
		}
		if rest, ok := strings.CutPrefix(name, "-"); ok { // "-path" marks a removed file
			status, name = "removed", rest
		}
		// The blob SHA of the content stored at the head (SetFile), as git computes it; else a
		// made-up one.
		sha := fmt.Sprintf("%040x", x.i+1)
		s.mu.Lock()
		data, ok := s.files[p.repo+"\x00"+p.headSHA+"\x00"+name]
		s.mu.Unlock()
		if ok {
			sha = BlobSHA(data)
		}
		fj := fileJSON(p.repo, sha, name, status)
		if renamed {
			fj["previous_filename"] = previous
		}
		out = append(out, fj)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getContents(w http.ResponseWriter, r *http.Request) {
	repo, path, ref := repoOf(r), r.PathValue("path"), r.URL.Query().Get("ref")
	if ref == "" {
		ref = "main"
	}
	s.mu.Lock()
	data, ok := s.files[repo+"\x00"+ref+"\x00"+path]
	refKnown := false
	for k := range s.files {
		if strings.HasPrefix(k, repo+"\x00"+ref+"\x00") {
			refKnown = true
			break
		}
	}
	s.mu.Unlock()
	switch {
	case ok && rawAccept(r):
		w.Header().Set("Content-Type", "application/vnd.github.raw+json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
	case ok:
		writeJSON(w, http.StatusOK, contentJSON(repo, path, ref, data))
	case !refKnown:
		writeError(w, http.StatusNotFound, "No commit found for the ref "+ref, docsBase+"/repos/contents#get-repository-content")
	default:
		writeError(w, http.StatusNotFound, "Not Found", docsBase+"/repos/contents#get-repository-content")
	}
}

// rawAccept reports whether the request asks for the raw media type (application/vnd.github.raw+json,
// or the older application/vnd.github.v3.raw).
func rawAccept(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/vnd.github.raw") || strings.Contains(a, "application/vnd.github.v3.raw")
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		State       string  `json:"state"`
		TargetURL   *string `json:"target_url"`
		Description *string `json:"description"`
		Context     *string `json:"context"`
	}
	if !readBody(w, r, &in) {
		return
	}
	switch in.State {
	case "error", "failure", "pending", "success":
	default:
		writeJSON(w, http.StatusUnprocessableEntity, validation("Status", "state", "custom", "state is not included in the list"))
		return
	}
	st := &status{repo: repoOf(r), sha: r.PathValue("sha"), Status: forge.Status{State: in.State, Context: "default"}}
	if in.Context != nil {
		st.Context = *in.Context
	}
	if in.Description != nil {
		st.Description = *in.Description
	}
	if in.TargetURL != nil {
		st.TargetURL = *in.TargetURL
	}
	if utf8.RuneCountInString(st.Description) > 140 {
		writeJSON(w, http.StatusUnprocessableEntity, validation("Status", "description", "custom", "description is too long (maximum is 140 characters)"))
		return
	}
	s.mu.Lock()
	s.nextID++
	st.id = s.nextID
	st.created = s.tick()
	s.statuses = append(s.statuses, st)
	out := s.statusJSON(st)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

// orgRefused answers 403 as GitHub does for an App token without the Members permission (see
// SetOrgForbidden) and reports whether it did.
func (s *Server) orgRefused(w http.ResponseWriter, doc string) bool {
	s.mu.Lock()
	refused := s.orgForbidden
	s.mu.Unlock()
	if refused {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", docsBase+doc)
	}
	return refused
}

func (s *Server) getMembership(w http.ResponseWriter, r *http.Request) {
	team := r.PathValue("org") + "/" + r.PathValue("team")
	user := r.PathValue("user")
	if s.orgRefused(w, "/teams/members#get-team-membership-for-a-user") {
		return
	}
	s.mu.Lock()
	forbidden := s.membershipForbidden
	member := s.teams[team][user]
	s.mu.Unlock()
	if forbidden || !member {
		writeError(w, http.StatusNotFound, "Not Found", docsBase+"/teams/members#get-team-membership-for-a-user")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"url":   "https://api.github.com/teams/1/memberships/" + user,
		"role":  "member",
		"state": "active",
	})
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	org, slug := r.PathValue("org"), r.PathValue("team")
	if s.orgRefused(w, "/teams/teams#get-a-team-by-name") {
		return
	}
	s.mu.Lock()
	forbidden := s.membershipForbidden
	_, exists := s.teams[org+"/"+slug]
	privacy := "closed"
	if s.secretTeams[org+"/"+slug] {
		privacy = "secret"
	}
	s.mu.Unlock()
	if forbidden || !exists {
		writeError(w, http.StatusNotFound, "Not Found", docsBase+"/teams/teams#get-a-team-by-name")
		return
	}
	writeJSON(w, http.StatusOK, teamJSON(org, slug, privacy, int64(len(org)*1000+len(slug))))
}

// getTeamRepo answers GET /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}: with the
// application/vnd.github.v3.repository+json media type, the repository with the team's permissions and
// role_name (see SetTeamRole); without it, 204 No Content, as GitHub does; 404 for a team without
// access, a team that does not exist or one the token may not see (SetMembershipForbidden); 403 with
// SetOrgForbidden.
func (s *Server) getTeamRepo(w http.ResponseWriter, r *http.Request) {
	const doc = "/teams/teams#check-team-permissions-for-a-repository"
	team := r.PathValue("org") + "/" + r.PathValue("team")
	if s.orgRefused(w, doc) {
		return
	}
	s.mu.Lock()
	forbidden := s.membershipForbidden
	_, exists := s.teams[team]
	role, set := s.teamRoles[team]
	s.mu.Unlock()
	if !set {
		role = "write"
	}
	switch {
	case forbidden || !exists || role == "":
		writeError(w, http.StatusNotFound, "Not Found", docsBase+doc)
	case !strings.Contains(r.Header.Get("Accept"), "application/vnd.github.v3.repository+json"):
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, teamRepoJSON(repoOf(r), role))
	}
}

// getPermission answers GET /repos/{owner}/{repo}/collaborators/{username}/permission: the user's role
// (role_name) and the base permission it maps to (permission: admin, write or read), or 404 for a user
// who is no collaborator (see SetRole); 403 when the token may not ask (SetPermissionForbidden), or
// what SetPermissionError set for the user.
func (s *Server) getPermission(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/collaborators/collaborators#get-repository-permissions-for-a-user"
	user := r.PathValue("username")
	s.mu.Lock()
	forbidden, role := s.permissionForbidden, s.roleOf(user)
	refusal, refused := s.permissionErrors[strings.ToLower(user)]
	var out map[string]any
	if role != "" {
		out = s.permissionJSON(user, role, roles[role])
	}
	s.mu.Unlock()
	switch {
	case forbidden:
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", doc)
	case refused:
		writeError(w, refusal.code, refusal.message, doc)
	case role == "":
		writeError(w, http.StatusNotFound, "Not Found", doc)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}
