package gitlabtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw := r.URL.EscapedPath()
	entry := r.Method + " " + raw
	if r.URL.RawQuery != "" {
		entry += "?" + r.URL.RawQuery
	}
	s.log = append(s.log, entry)
	if s.rateLimit > 0 {
		s.rateLimit--
		h := w.Header()
		h.Set("Retry-After", "1")
		h.Set("RateLimit-Limit", "600")
		h.Set("RateLimit-Observed", "601")
		h.Set("RateLimit-Remaining", "0")
		h.Set("RateLimit-Reset", strconv.FormatInt(s.clock.Add(time.Second).Unix(), 10))
		h.Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "Retry later\n")
		return
	}
	if s.failNext > 0 {
		s.failNext--
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(s.failCode)
		fmt.Fprintf(w, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			s.failCode, http.StatusText(s.failCode), s.failCode, http.StatusText(s.failCode))
		return
	}
	segs, ok := splitPath(raw)
	if !ok {
		s.unexpected(w, r)
		return
	}
	name, handler := s.route(r.Method, segs)
	if handler == nil {
		s.unexpected(w, r)
		return
	}
	for _, e := range s.expects {
		if e.route == name {
			e.hits++
		}
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	switch {
	case r.Header.Get("Private-Token") == Token:
	case r.Header.Get("Job-Token") == JobToken:
		if !jobTokenRoutes[name] {
			if write {
				message(w, http.StatusForbidden, "403 Forbidden")
			} else {
				message(w, http.StatusUnauthorized, "401 Unauthorized")
			}
			return
		}
	default:
		message(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	if write && s.readOnly {
		message(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	handler(w, r)
}

// jobTokenRoutes are the routes a CI_JOB_TOKEN may use (gitlabhq doc/ci/jobs/ci_job_token.md).
var jobTokenRoutes = map[string]bool{
	"GET merge_request": true, "GET notes": true, "GET note": true, "GET diffs": true, "GET raw_file": true,
}

func (s *Server) unexpected(w http.ResponseWriter, r *http.Request) {
	s.t.Errorf("gitlabtest: unexpected request %s %s", r.Method, r.URL.String())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, `{"error":"404 Not Found"}`)
}

// splitPath returns the unescaped segments after /api/v4/, keeping "acme%2Fshop" one segment.
func splitPath(raw string) ([]string, bool) {
	rest, ok := strings.CutPrefix(raw, Prefix+"/")
	if !ok {
		return nil, false
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

type handlerFunc func(w http.ResponseWriter, r *http.Request)

// route names the endpoint and returns its handler, or nil.
func (s *Server) route(method string, segs []string) (string, handlerFunc) {
	is := func(m string, n int) bool { return method == m && len(segs) == n }
	switch {
	case is("GET", 1) && segs[0] == "user":
		return "GET user", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.userPayload()) }
	case is("GET", 1) && segs[0] == "users":
		return "GET users", s.listUsers
	case is("GET", 4) && segs[0] == "groups" && segs[2] == "members" && segs[3] == "all":
		return "GET group_members_all", func(w http.ResponseWriter, r *http.Request) { s.groupMembers(w, r, segs[1], true) }
	case is("GET", 3) && segs[0] == "groups" && segs[2] == "members":
		return "GET group_members", func(w http.ResponseWriter, r *http.Request) { s.groupMembers(w, r, segs[1], false) }
	case len(segs) < 3 || segs[0] != "projects":
		return "", nil
	}
	pid, rest := segs[1], segs[2:]
	withProject := func(f func(http.ResponseWriter, *http.Request, *project)) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			p := s.findProject(pid)
			if p == nil {
				message(w, http.StatusNotFound, "404 Project Not Found")
				return
			}
			f(w, r, p)
		}
	}
	withMR := func(f func(http.ResponseWriter, *http.Request, *project, *mr)) handlerFunc {
		return withProject(func(w http.ResponseWriter, r *http.Request, p *project) {
			iid, err := strconv.ParseInt(rest[1], 10, 64)
			m := p.mrs[iid]
			if err != nil || m == nil {
				message(w, http.StatusNotFound, "404 Not found")
				return
			}
			f(w, r, p, m)
		})
	}
	n := len(rest)
	switch {
	case rest[0] == "merge_requests" && n == 2 && method == "GET":
		return "GET merge_request", withMR(func(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
			writeJSON(w, http.StatusOK, s.mrPayload(p, m, true))
		})
	case rest[0] == "merge_requests" && n == 3 && rest[2] == "notes" && method == "GET":
		return "GET notes", withMR(s.listNotes)
	case rest[0] == "merge_requests" && n == 3 && rest[2] == "notes" && method == "POST":
		return "POST notes", withMR(s.createNote)
	case rest[0] == "merge_requests" && n == 4 && rest[2] == "notes" && (method == "PUT" || method == "GET"):
		return method + " note", withMR(func(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
			s.note(w, r, p, m, rest[3])
		})
	case rest[0] == "merge_requests" && n == 3 && rest[2] == "approvals" && method == "GET":
		return "GET approvals", withMR(func(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
			writeJSON(w, http.StatusOK, s.approvalsPayload(p, m))
		})
	case rest[0] == "merge_requests" && n == 3 && rest[2] == "reviewers" && method == "GET":
		return "GET reviewers", withMR(func(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
			items := make([]any, 0, len(m.reviewers))
			for _, rv := range m.reviewers {
				items = append(items, s.reviewerPayload(rv))
			}
			s.paginate(w, r, items)
		})
	case rest[0] == "merge_requests" && n == 3 && rest[2] == "approval_state" && method == "GET":
		return "GET approval_state", withMR(s.approvalState)
	case rest[0] == "merge_requests" && n == 3 && rest[2] == "versions" && method == "GET":
		return "GET versions", withMR(func(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
			items := make([]any, 0, len(m.versions))
			for i := len(m.versions) - 1; i >= 0; i-- { // newest first, as GitLab lists them
				items = append(items, s.versionPayload(m, m.versions[i]))
			}
			s.paginate(w, r, items)
		})
	case rest[0] == "merge_requests" && n == 3 && rest[2] == "diffs" && method == "GET":
		return "GET diffs", withMR(func(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
			// GitLab from 15.7 (when the endpoint came) until its fix paginated these twice, capped at 30
			// a page: a larger per_page answered 500 (gitlab-org/gitlab#427168).
			if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 30 {
				message(w, http.StatusInternalServerError, "500 Internal Server Error")
				return
			}
			files := m.files
			if s.diffLimit > 0 && len(files) > s.diffLimit {
				files = files[:s.diffLimit]
			}
			items := make([]any, 0, len(files))
			for _, f := range files {
				items = append(items, s.diffPayload(f))
			}
			s.paginate(w, r, items)
		})
	case rest[0] == "repository" && n == 4 && rest[1] == "files" && rest[3] == "raw" && method == "GET":
		return "GET raw_file", withProject(func(w http.ResponseWriter, r *http.Request, p *project) {
			s.rawFile(w, r, p, rest[2])
		})
	case rest[0] == "repository" && n == 2 && rest[1] == "commits" && method == "GET":
		return "GET commits", withProject(s.listCommits)
	case rest[0] == "repository" && n == 4 && rest[1] == "commits" && rest[3] == "merge_requests" && method == "GET":
		return "GET commit_merge_requests", withProject(func(w http.ResponseWriter, r *http.Request, p *project) {
			s.commitMRs(w, r, p, rest[2])
		})
	case rest[0] == "statuses" && n == 2 && method == "POST":
		return "POST status", withProject(func(w http.ResponseWriter, r *http.Request, p *project) {
			s.setStatus(w, r, p, rest[1])
		})
	}
	return "", nil
}

func (s *Server) findProject(id string) *project {
	if p, ok := s.projects[id]; ok {
		return p
	}
	for _, p := range s.projects {
		if strconv.FormatInt(p.id, 10) == id {
			return p
		}
	}
	return nil
}

func (s *Server) listNotes(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
	q := r.URL.Query()
	ns := sortedNotes(m.notes, q.Get("sort") == "asc")
	if q.Get("order_by") == "updated_at" {
		slices.SortStableFunc(ns, func(a, b *note) int {
			c := a.updated.Compare(b.updated)
			if q.Get("sort") != "asc" {
				c = -c
			}
			return c
		})
	}
	items := make([]any, 0, len(ns))
	for _, n := range ns {
		items = append(items, s.notePayload(p, m, n))
	}
	s.paginate(w, r, items)
}

func (s *Server) createNote(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
	body, ok := s.param(w, r, "body")
	if !ok {
		return
	}
	if strings.TrimSpace(body) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body is empty"})
		return
	}
	if noteTooLong(w, "Note", body) {
		return
	}
	now := s.tick()
	n := &note{id: s.id(), author: s.bot, body: s.runQuickActions(m, body), created: now, updated: now}
	m.notes = append(m.notes, n)
	writeJSON(w, http.StatusCreated, s.notePayload(p, m, n))
}

func (s *Server) note(w http.ResponseWriter, r *http.Request, p *project, m *mr, id string) {
	var n *note
	for _, x := range m.notes {
		if strconv.FormatInt(x.id, 10) == id {
			n = x
		}
	}
	if n == nil {
		message(w, http.StatusNotFound, "404 Note Not Found")
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, s.notePayload(p, m, n))
		return
	}
	if n.author != s.bot || n.system {
		message(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	body, ok := s.param(w, r, "body")
	if !ok || noteTooLong(w, "Failed to save note", body) {
		return
	}
	n.body = s.runQuickActions(m, body)
	n.updated = s.tick()
	writeJSON(w, http.StatusOK, s.notePayload(p, m, n))
}

func (s *Server) approvalState(w http.ResponseWriter, r *http.Request, p *project, m *mr) {
	if m.rulesStatus != 0 {
		message(w, m.rulesStatus, fmt.Sprintf("%d %s", m.rulesStatus, http.StatusText(m.rulesStatus)))
		return
	}
	rules := []any{}
	for i, rl := range m.rules {
		rules = append(rules, s.rulePayload(i, rl))
	}
	writeJSON(w, http.StatusOK, map[string]any{"approval_rules_overwritten": false, "rules": rules})
}

func (s *Server) rawFile(w http.ResponseWriter, r *http.Request, p *project, path string) {
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = "HEAD"
	}
	b, ok := s.files[p.path+"\x00"+ref+"\x00"+path]
	if !ok {
		message(w, http.StatusNotFound, "404 File Not Found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Gitlab-File-Name", path[strings.LastIndex(path, "/")+1:])
	h.Set("X-Gitlab-File-Path", path)
	h.Set("X-Gitlab-Ref", ref)
	h.Set("X-Gitlab-Size", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) commitMRs(w http.ResponseWriter, r *http.Request, p *project, sha string) {
	known := s.refs[p.path+"\x00"+sha]
	items := []any{}
	iids := make([]int64, 0, len(p.mrs))
	for iid := range p.mrs {
		iids = append(iids, iid)
	}
	slices.Sort(iids)
	for _, iid := range slices.Backward(iids) {
		m := p.mrs[iid]
		if m.headSHA == sha || (m.mergeSHA != "" && m.mergeSHA == sha) || slices.Contains(m.commits, sha) {
			items = append(items, s.mrPayload(p, m, false))
			known = true
		}
	}
	if !known {
		message(w, http.StatusNotFound, "404 Commit Not Found")
		return
	}
	s.paginate(w, r, items) // 20 a page unless per_page says otherwise, as GitLab
}

// listCommits answers GET /projects/:id/repository/commits?ref_name=&path=: the history up to ref_name
// (default: the newest commit), newest first, only the commits changing path when given, paginated. An
// unknown ref_name answers an empty list, as GitLab does.
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request, p *project) {
	q := r.URL.Query()
	end := len(p.history) - 1
	if ref := q.Get("ref_name"); ref != "" {
		end = slices.IndexFunc(p.history, func(c *commit) bool { return c.sha == ref })
	}
	items := []any{}
	for i := end; i >= 0; i-- {
		if path := q.Get("path"); path != "" && !slices.Contains(p.history[i].files, path) {
			continue
		}
		parent := ""
		if i > 0 {
			parent = p.history[i-1].sha
		}
		items = append(items, s.commitPayload(p, p.history[i], parent))
	}
	s.paginate(w, r, items)
}

// sameStateEvents are the state machine's events of the states GitLab refuses to enter from themselves.
var sameStateEvents = map[string]string{"pending": "enqueue", "running": "run"}

// listUsers answers GET /users?username=NAME: a list holding the user of that name, or an empty list
// (a group's name, or nobody's).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("username")
	items := []any{}
	for u := range s.users {
		if name != "" && strings.EqualFold(u, name) {
			items = append(items, s.basicUser(u))
		}
	}
	writeJSON(w, http.StatusOK, items)
}

var statusStates = []string{"pending", "running", "success", "failed", "canceled", "skipped"}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, p *project, sha string) {
	params, ok := s.params(w, r)
	if !ok {
		return
	}
	state := params["state"]
	if !slices.Contains(statusStates, state) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "state does not have a valid value"})
		return
	}
	name := params["name"]
	if name == "" {
		name = params["context"]
	}
	if name == "" {
		name = "default"
	}
	pl, ok := s.statusPipeline(w, p, sha, params)
	if !ok {
		return
	}
	for i := len(s.statuses) - 1; i >= 0; i-- {
		// GitLab updates the latest status of the name in the pipeline; its state machine refuses to move
		// pending to pending or running to running (lib/api/commit_statuses.rb renders the
		// StateMachines::InvalidTransition as a 400).
		if old := s.statuses[i]; old.pipeline == pl.id && old.name == name {
			if event, ok := sameStateEvents[state]; ok && old.state == state {
				message(w, http.StatusBadRequest, fmt.Sprintf("Cannot transition status via :%s from :%s (Reason(s): Status cannot transition via \"%s\")", event, state, event))
				return
			}
			break
		}
	}
	st := &status{
		id: s.id(), pipeline: pl.id, project: p.path, sha: sha, name: name, state: state,
		description: params["description"], targetURL: params["target_url"], created: s.tick(),
	}
	s.statuses = append(s.statuses, st)
	writeJSON(w, http.StatusCreated, s.statusPayload(st))
}

// statusPipeline is the pipeline a commit status goes into, as Ci::CreateCommitStatusService picks it:
// the newest pipeline of the commit, of the ref when one is given and with the ID pipeline_id when one
// is given. A pipeline_id that names no pipeline of the commit (another commit's pipeline) is a 404, as
// the service's validate answers it (the releases before it created a new pipeline instead); with none
// given and no pipeline of the commit, GitLab creates one (source "external") to hold the status.
func (s *Server) statusPipeline(w http.ResponseWriter, p *project, sha string, params map[string]string) (*pipeline, bool) {
	var id int64
	if raw := params["pipeline_id"]; raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "pipeline_id is invalid"})
			return nil, false
		}
		id = n
	}
	ref := params["ref"]
	for i := len(s.pipelines) - 1; i >= 0; i-- {
		if pl := s.pipelines[i]; pl.project == p.path && pl.sha == sha && (ref == "" || pl.ref == ref) && (id == 0 || pl.id == id) {
			return pl, true
		}
	}
	if id != 0 {
		message(w, http.StatusNotFound, "404 Pipeline for pipeline_id, sha and ref Not Found")
		return nil, false
	}
	pl := &pipeline{id: s.id(), project: p.path, sha: sha, ref: ref}
	s.pipelines = append(s.pipelines, pl)
	return pl, true
}

// groupMembers answers GET /groups/:id/members (direct members) and, with all, /members/all, which
// adds the members inherited from ancestor groups (those of "acme" in "acme/dba").
func (s *Server) groupMembers(w http.ResponseWriter, r *http.Request, group string, all bool) {
	if s.membershipForbidden {
		message(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	members, ok := s.groups[group]
	if !ok {
		message(w, http.StatusNotFound, "404 Group Not Found")
		return
	}
	members = slices.Clone(members)
	for i := strings.LastIndex(group, "/"); all && i > 0; i = strings.LastIndex(group[:i], "/") {
		members = append(members, s.groups[group[:i]]...)
	}
	q := strings.ToLower(r.URL.Query().Get("query"))
	items := []any{}
	for _, u := range members {
		if q == "" || strings.Contains(strings.ToLower(u), q) {
			m := s.memberPayload(u)
			if s.awaiting[group+"\x00"+u] {
				m["membership_state"] = "awaiting"
			}
			items = append(items, m)
		}
	}
	s.paginate(w, r, items)
}

// paginate answers one page of items with GitLab's offset-pagination headers and Link.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, items []any) {
	q := r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = 20
	}
	per = min(per, 100)
	if s.pageSize > 0 {
		per = min(per, s.pageSize)
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page <= 0 {
		page = 1
	}
	pages := max(1, (len(items)+per-1)/per)
	lo := min((page-1)*per, len(items))
	hi := min(lo+per, len(items))
	link := func(n int) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		v := u.Query()
		v.Set("page", strconv.Itoa(n))
		v.Set("per_page", strconv.Itoa(per))
		u.RawQuery = v.Encode()
		return u.String()
	}
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(len(items)))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	var links []string
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
		links = append(links, fmt.Sprintf(`<%s>; rel="prev"`, link(page-1)))
	}
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
		links = append(links, fmt.Sprintf(`<%s>; rel="next"`, link(page+1)))
	}
	links = append(links, fmt.Sprintf(`<%s>; rel="first"`, link(1)), fmt.Sprintf(`<%s>; rel="last"`, link(pages)))
	h.Set("Link", strings.Join(links, ", "))
	writeJSON(w, http.StatusOK, items[lo:hi])
}

// params reads a JSON or form request body into strings.
func (s *Server) params(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "400 Bad request - " + err.Error()})
			return nil, false
		}
		for k, v := range m {
			if v != nil {
				out[k] = fmt.Sprint(v)
			}
		}
		return out, true
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "400 Bad request - " + err.Error()})
		return nil, false
	}
	for k := range r.Form {
		out[k] = r.Form.Get(k)
	}
	return out, true
}

func (s *Server) param(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	p, ok := s.params(w, r)
	if !ok {
		return "", false
	}
	v, ok := p[name]
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": name + " is missing"})
		return "", false
	}
	return v, true
}

// maxNoteLength is the longest note body GitLab takes, in characters (the Note model's length
// validation, Gitlab::Database::MAX_TEXT_SIZE_LIMIT). It is the fake's own, not the client's
// gitlab.MaxNoteLength, so that a client whose cap is wrong meets a refusal here.
const maxNoteLength = 1_000_000

// noteTooLong answers 400 as GitLab does for a note body over maxNoteLength characters, created
// (what "Note") or edited (what "Failed to save note"): the API validates the body as sent, before it
// runs the quick actions, and renders the model's errors into bad_request!'s message string.
func noteTooLong(w http.ResponseWriter, what, body string) bool {
	if utf8.RuneCountInString(body) <= maxNoteLength {
		return false
	}
	message(w, http.StatusBadRequest, fmt.Sprintf(`400 Bad request - %s {:note=>["is too long (maximum is %d characters)"]}`, what, maxNoteLength))
	return true
}

func message(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"message": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"message":"500 Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// Quick actions, as GitLab's extractor finds them (lib/gitlab/quick_actions/extractor.rb): a line that
// starts with /<command> in a paragraph, i.e. outside fenced code blocks, HTML blocks and >>> quotes.
var (
	quickAction  = regexp.MustCompile(`(?m)^/([a-z_]+)(?:[ ]([^\n]*))?$`)
	fencedBlock  = regexp.MustCompile("(?ms)^```.+?\\n```$")
	htmlBlock    = regexp.MustCompile(`(?ms)^<[^>]+?>\n.+?\n</[^>]+?>$`)
	quoteBlock   = regexp.MustCompile(`(?ms)^>>>.+?\n>>>$`)
	knownActions = map[string]bool{
		"approve": true, "unapprove": true, "merge": true, "close": true, "label": true, "unlabel": true,
		"assign": true, "assign_reviewer": true, "reviewer": true, "draft": true, "ready": true,
		"submit_review": true, "rebase": true, "lock": true, "title": true, "copy_metadata": true,
	}
)

// QuickActions returns the quick actions notes have run so far, as "command args".
func (s *Server) QuickActions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.actions)
}

// runQuickActions runs the quick actions of a note the bot writes (an approval by /approve is
// recorded; every command is logged for QuickActions) and returns the body GitLab stores: the command
// lines removed.
func (s *Server) runQuickActions(m *mr, body string) string {
	content := strings.ReplaceAll(body, "\r", "")
	scan := content
	for _, re := range []*regexp.Regexp{fencedBlock, htmlBlock, quoteBlock} {
		scan = re.ReplaceAllStringFunc(scan, func(b string) string { return strings.Repeat("x", len(b)) })
	}
	var out strings.Builder
	last := 0
	for _, loc := range quickAction.FindAllStringSubmatchIndex(scan, -1) {
		cmd := strings.ToLower(scan[loc[2]:loc[3]])
		if !knownActions[cmd] {
			continue
		}
		args := ""
		if loc[4] >= 0 {
			args = content[loc[4]:loc[5]]
		}
		s.actions = append(s.actions, strings.TrimSpace("/"+cmd+" "+args))
		if cmd == "approve" {
			m.approvals = append(m.approvals, approval{user: s.bot, at: s.clock})
		}
		out.WriteString(content[last:loc[0]])
		last = loc[1]
	}
	out.WriteString(content[last:])
	return out.String()
}
