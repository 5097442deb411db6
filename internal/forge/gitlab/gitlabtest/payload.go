package gitlabtest

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The payload templates are real GitLab v4 answers: get_merge_request.json, list_merge_request_item.json
// (the first item of get_merge_requests.json), list_merge_request_diff.json and get_user_bot.json are
// client-go v1.46.0's testdata; note.json, approvals.json, approval_state_rule.json, group_member.json,
// commit_status.json and list_merge_request_versions.json are the examples of GitLab's API documentation
// (doc/api/notes.md, merge_request_approvals.md, members.md, commits.md, merge_requests.md). The fake fills in the fields it keeps and leaves
// every other field as GitLab sent it, so that a client relying on a field the fake does not model still
// sees a realistic value.
//
//go:embed testdata/*.json
var templates embed.FS

// object returns a fresh copy of a template object.
func (s *Server) object(name string) map[string]any {
	var m map[string]any
	b, err := templates.ReadFile("testdata/" + name)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil || m == nil {
		s.t.Errorf("gitlabtest: template %s: %v", name, err)
		return map[string]any{}
	}
	return m
}

// firstOf returns a fresh copy of the first object of a template array.
func (s *Server) firstOf(name string) map[string]any {
	var a []map[string]any
	b, err := templates.ReadFile("testdata/" + name)
	if err == nil {
		err = json.Unmarshal(b, &a)
	}
	if err != nil || len(a) == 0 || a[0] == nil {
		s.t.Errorf("gitlabtest: template %s: %v", name, err)
		return map[string]any{}
	}
	return a[0]
}

// ts formats a time the way GitLab does (UTC, milliseconds).
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// basicUser is GitLab's short user object (author, approved_by[].user, eligible_approvers[]).
func (s *Server) basicUser(name string) map[string]any {
	return map[string]any{
		"id": s.userID(name), "username": name, "name": name, "state": "active", "locked": false,
		"avatar_url": "https://www.gravatar.com/avatar/0?s=80&d=identicon",
		"web_url":    s.srv.URL + "/" + name,
	}
}

func (s *Server) mrPayload(p *project, m *mr, full bool) map[string]any {
	var o map[string]any
	if full {
		o = s.object("get_merge_request.json")
	} else {
		o = s.object("list_merge_request_item.json")
	}
	o["id"] = m.id
	o["iid"] = m.iid
	o["project_id"] = p.id
	o["title"] = m.title
	o["description"] = ""
	o["state"] = m.state
	o["created_at"] = ts(m.created)
	o["updated_at"] = ts(m.created)
	o["target_branch"] = m.baseRef
	o["source_branch"] = m.headRef
	o["author"] = s.basicUser(m.author)
	o["source_project_id"] = m.sourceProject
	o["target_project_id"] = p.id
	o["sha"] = m.headSHA
	o["merge_commit_sha"] = nil
	o["merged_at"] = nil
	o["merged_by"] = nil
	o["squash_commit_sha"] = nil
	if m.state == "merged" {
		o["merge_commit_sha"] = m.mergeSHA
		if m.squash {
			o["merge_commit_sha"], o["squash_commit_sha"] = nil, m.mergeSHA
		}
		o["merged_at"] = ts(m.mergedAt)
	}
	if m.state == "closed" {
		o["closed_at"], o["closed_by"] = ts(m.closedAt), s.basicUser(m.author)
	}
	o["reference"] = fmt.Sprintf("!%d", m.iid)
	o["web_url"] = fmt.Sprintf("%s/%s/-/merge_requests/%d", s.srv.URL, p.path, m.iid)
	o["user_notes_count"] = len(m.notes)
	if full {
		start := m.startSHA
		if start == "" {
			start = m.baseSHA
		}
		o["diff_refs"] = map[string]any{"base_sha": m.baseSHA, "head_sha": m.headSHA, "start_sha": start}
		o["changes_count"] = fmt.Sprint(len(m.files))
		if s.diffLimit > 0 && len(m.files) > s.diffLimit {
			o["changes_count"] = fmt.Sprintf("%d+", s.diffLimit)
		}
	}
	return o
}

func (s *Server) notePayload(p *project, m *mr, n *note) map[string]any {
	o := s.object("note.json")
	o["id"] = n.id
	o["body"] = n.body
	o["author"] = s.basicUser(n.author)
	o["created_at"] = ts(n.created)
	o["updated_at"] = ts(n.updated)
	o["system"] = n.system
	o["noteable_id"] = m.id
	o["noteable_iid"] = m.iid
	o["project_id"] = p.id
	return o
}

// diffPayload is an entry of GET .../merge_requests/:iid/diffs: a file the merge request adds, or,
// written "-path", one it deletes, or, written "new\x00old", one it renames from old (GitLab gives
// both paths and renamed_file). GitLab gives no blob SHA of either side.
func (s *Server) diffPayload(path string) map[string]any {
	o := s.firstOf("list_merge_request_diff.json")
	if name, previous, ok := strings.Cut(path, "\x00"); ok {
		o["old_path"], o["new_path"] = previous, name
		o["renamed_file"] = true
		o["diff"] = ""
		return o
	}
	if rest, ok := strings.CutPrefix(path, "-"); ok {
		o["old_path"], o["new_path"] = rest, rest
		o["deleted_file"] = true
		o["b_mode"] = "0"
		o["diff"] = "@@ -1 +0,0 @@\n--- " + rest + "\n"
		return o
	}
	o["old_path"] = path
	o["new_path"] = path
	o["new_file"] = true
	o["a_mode"] = "0"
	o["diff"] = "@@ -0,0 +1 @@\n+-- " + path + "\n"
	return o
}

func (s *Server) versionPayload(m *mr, v diffVersion) map[string]any {
	o := s.firstOf("list_merge_request_versions.json")
	o["id"] = v.id
	o["head_commit_sha"] = v.head
	o["base_commit_sha"] = m.baseSHA
	o["start_commit_sha"] = m.baseSHA
	o["created_at"] = ts(v.at)
	o["merge_request_id"] = m.id
	return o
}

func (s *Server) approvalsPayload(p *project, m *mr) map[string]any {
	o := s.object("approvals.json")
	o["id"] = m.id
	o["iid"] = m.iid
	o["project_id"] = p.id
	o["title"] = m.title
	o["state"] = m.state
	by := []any{}
	for _, a := range m.approvals {
		by = append(by, map[string]any{"user": s.basicUser(a.user), "approved_at": ts(a.at)})
	}
	o["approved_by"] = by
	o["approvals_required"] = 0
	o["approvals_left"] = 0
	return o
}

// reviewerPayload is an entry of GET /projects/:id/merge_requests/:iid/reviewers (doc/api/merge_requests.md
// "Get single merge request reviewers"; client-go's MergeRequestReviewer): the reviewer's user, their
// review state and when they were made a reviewer.
func (s *Server) reviewerPayload(rv *reviewer) map[string]any {
	return map[string]any{"user": s.basicUser(rv.user), "state": rv.state, "created_at": ts(rv.created)}
}

func (s *Server) rulePayload(i int, r Rule) map[string]any {
	o := s.object("approval_state_rule.json")
	o["id"] = i + 1
	o["name"] = r.Name
	o["rule_type"] = r.Type
	o["approvals_required"] = r.Required
	users := func(names []string) []any {
		out := []any{}
		for _, n := range names {
			out = append(out, s.basicUser(n))
		}
		return out
	}
	o["eligible_approvers"] = users(r.Eligible)
	o["users"] = users(r.Eligible)
	o["approved_by"] = users(r.ApprovedBy)
	groups := []any{}
	for _, g := range r.Groups {
		groups = append(groups, map[string]any{"id": s.userID("group:" + g), "name": g, "path": g, "full_name": g, "full_path": g})
	}
	o["groups"] = groups
	o["approved"] = len(r.ApprovedBy) >= r.Required
	if r.Section != "" {
		o["section"] = r.Section
	}
	return o
}

func (s *Server) memberPayload(name string) map[string]any {
	o := s.object("group_member.json")
	o["id"] = s.userID(name)
	o["username"] = name
	o["name"] = name
	o["web_url"] = s.srv.URL + "/" + name
	return o
}

func (s *Server) statusPayload(st *status) map[string]any {
	o := s.object("commit_status.json")
	o["id"] = st.id
	o["sha"] = st.sha
	o["name"] = st.name
	o["status"] = st.state
	o["pipeline_id"] = st.pipeline
	o["description"] = nilIfEmpty(st.description)
	o["target_url"] = nilIfEmpty(st.targetURL)
	o["author"] = s.basicUser(s.bot)
	o["created_at"] = ts(st.created)
	o["finished_at"] = nil
	if st.state != "pending" && st.state != "running" {
		o["finished_at"] = ts(st.created)
	}
	return o
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) userPayload() map[string]any {
	o := s.object("get_user_bot.json")
	o["id"] = s.userID(s.bot)
	o["username"] = s.bot
	o["web_url"] = s.srv.URL + "/" + s.bot
	return o
}

// commitPayload is an entry of GET /projects/:id/repository/commits (doc/api/commits.md); parent is the
// commit before it ("" for the first).
func (s *Server) commitPayload(p *project, c *commit, parent string) map[string]any {
	parents := []any{}
	if parent != "" {
		parents = append(parents, parent)
	}
	title := "Change " + strings.Join(c.files, ", ")
	return map[string]any{
		"id":                c.sha,
		"short_id":          c.sha[:min(len(c.sha), 8)],
		"title":             title,
		"author_name":       "Alice",
		"author_email":      "alice@example.com",
		"authored_date":     ts(c.at),
		"committer_name":    "Alice",
		"committer_email":   "alice@example.com",
		"committed_date":    ts(c.at),
		"created_at":        ts(c.at),
		"message":           title + "\n",
		"parent_ids":        parents,
		"web_url":           fmt.Sprintf("%s/%s/-/commit/%s", s.srv.URL, p.path, c.sha),
		"trailers":          map[string]any{},
		"extended_trailers": map[string]any{},
	}
}
