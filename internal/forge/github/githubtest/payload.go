package githubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// The REST payloads below follow the shapes GitHub's REST API returns (docs.github.com/rest, and the
// pull_request objects of the octokit/webhooks examples in /work/shared/payloads/github), trimmed of
// fields nobody reads but keeping every field's name and type.

const ghTime = "2006-01-02T15:04:05Z"

func (s *Server) userJSON(login string) map[string]any {
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	id := s.userID(login)
	return map[string]any{
		"login":               login,
		"id":                  id,
		"node_id":             fmt.Sprintf("MDQ6VXNlcjk%d", id),
		"avatar_url":          fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		"gravatar_id":         "",
		"url":                 "https://api.github.com/users/" + login,
		"html_url":            "https://github.com/" + login,
		"followers_url":       "https://api.github.com/users/" + login + "/followers",
		"organizations_url":   "https://api.github.com/users/" + login + "/orgs",
		"repos_url":           "https://api.github.com/users/" + login + "/repos",
		"received_events_url": "https://api.github.com/users/" + login + "/received_events",
		"type":                typ,
		"site_admin":          false,
	}
}

func repoJSON(fullName string, id int64) map[string]any {
	owner, name, _ := strings.Cut(fullName, "/")
	return map[string]any{
		"id":             id,
		"node_id":        fmt.Sprintf("MDEwOlJlcG9zaXRvcnk%d", id),
		"name":           name,
		"full_name":      fullName,
		"private":        false,
		"owner":          map[string]any{"login": owner, "type": "Organization"},
		"html_url":       "https://github.com/" + fullName,
		"url":            "https://api.github.com/repos/" + fullName,
		"fork":           false,
		"default_branch": DefaultBranch,
	}
}

func (s *Server) pullJSON(p *pull, single bool) map[string]any {
	api := "https://api.github.com/repos/" + p.repo
	headRepo := any(repoJSON(p.headRepo, 186853002+int64(len(p.headRepo))))
	if p.headRepo == "" {
		headRepo = nil // a deleted fork
	}
	m := map[string]any{
		"url":                 fmt.Sprintf("%s/pulls/%d", api, p.number),
		"id":                  279147437 + int64(p.number),
		"node_id":             fmt.Sprintf("MDExOlB1bGxSZXF1ZXN0Mjc5MTQ3N%d", p.number),
		"html_url":            fmt.Sprintf("https://github.com/%s/pull/%d", p.repo, p.number),
		"diff_url":            fmt.Sprintf("https://github.com/%s/pull/%d.diff", p.repo, p.number),
		"issue_url":           fmt.Sprintf("%s/issues/%d", api, p.number),
		"number":              p.number,
		"state":               p.state,
		"locked":              false,
		"title":               p.title,
		"user":                s.userJSON(p.author),
		"body":                "",
		"created_at":          p.created.Format(ghTime),
		"updated_at":          p.created.Format(ghTime),
		"closed_at":           nil,
		"merged_at":           nil,
		"merge_commit_sha":    nil,
		"assignee":            nil,
		"assignees":           []any{},
		"requested_reviewers": []any{},
		"requested_teams":     []any{},
		"labels":              []any{},
		"milestone":           nil,
		"draft":               false,
		"head": map[string]any{
			"label": strings.Split(p.headRepo+"/", "/")[0] + ":" + p.headRef,
			"ref":   p.headRef,
			"sha":   p.headSHA,
			"user":  s.userJSON(p.author),
			"repo":  headRepo,
		},
		"base": map[string]any{
			"label": strings.Split(p.repo, "/")[0] + ":" + p.baseRef,
			"ref":   p.baseRef,
			"sha":   p.baseSHA,
			"repo":  repoJSON(p.repo, 186853002),
		},
		"author_association": "CONTRIBUTOR",
		"auto_merge":         nil,
		"active_lock_reason": nil,
	}
	if p.merged {
		m["merged_at"] = s.mergedAt(p).Format(ghTime)
		m["closed_at"] = m["merged_at"]
		if p.mergeSHA != "" {
			m["merge_commit_sha"] = p.mergeSHA
		}
	}
	if single {
		m["merged"] = p.merged
		m["mergeable"] = nil
		m["comments"] = 0
		m["review_comments"] = 0
		m["commits"] = 1
		m["changed_files"] = len(p.files)
	}
	return m
}

// mergedAt is when p was merged: MergeInto's time, else an hour after its creation.
func (s *Server) mergedAt(p *pull) time.Time {
	if p.mergedAt.IsZero() {
		return p.created.Add(time.Hour)
	}
	return p.mergedAt
}

// issueJSON is a pull request as the search API lists it: an issue with a pull_request object
// (GET /search/issues, docs.github.com/rest/search/search#search-issues-and-pull-requests).
func (s *Server) issueJSON(p *pull) map[string]any {
	api := "https://api.github.com/repos/" + p.repo
	html := fmt.Sprintf("https://github.com/%s/pull/%d", p.repo, p.number)
	pr := map[string]any{
		"url": fmt.Sprintf("%s/pulls/%d", api, p.number), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "merged_at": nil,
	}
	m := map[string]any{
		"url":                      fmt.Sprintf("%s/issues/%d", api, p.number),
		"repository_url":           api,
		"labels_url":               fmt.Sprintf("%s/issues/%d/labels{/name}", api, p.number),
		"comments_url":             fmt.Sprintf("%s/issues/%d/comments", api, p.number),
		"events_url":               fmt.Sprintf("%s/issues/%d/events", api, p.number),
		"html_url":                 html,
		"id":                       2187461803 + int64(p.number),
		"node_id":                  fmt.Sprintf("PR_kwDOCxLpGc5o%d", p.number),
		"number":                   p.number,
		"title":                    p.title,
		"user":                     s.userJSON(p.author),
		"labels":                   []any{},
		"state":                    p.state,
		"locked":                   false,
		"assignee":                 nil,
		"assignees":                []any{},
		"milestone":                nil,
		"comments":                 len(p.comments),
		"created_at":               p.created.Format(ghTime),
		"updated_at":               s.updatedAt(p).Format(ghTime),
		"closed_at":                nil,
		"author_association":       "CONTRIBUTOR",
		"active_lock_reason":       nil,
		"draft":                    false,
		"pull_request":             pr,
		"body":                     "",
		"reactions":                map[string]any{"url": fmt.Sprintf("%s/issues/%d/reactions", api, p.number), "total_count": 0},
		"timeline_url":             fmt.Sprintf("%s/issues/%d/timeline", api, p.number),
		"performed_via_github_app": nil,
		"state_reason":             nil,
		"score":                    1.0,
	}
	if p.merged {
		at := s.mergedAt(p).Format(ghTime)
		pr["merged_at"], m["closed_at"] = at, at
	}
	return m
}

func (s *Server) commentJSON(repo string, number int, c *comment) map[string]any {
	return map[string]any{
		"url":                      fmt.Sprintf("https://api.github.com/repos/%s/issues/comments/%d", repo, c.id),
		"html_url":                 fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", repo, number, c.id),
		"issue_url":                fmt.Sprintf("https://api.github.com/repos/%s/issues/%d", repo, number),
		"id":                       c.id,
		"node_id":                  fmt.Sprintf("MDEyOklzc3VlQ29tbWVudDQ5%d", c.id),
		"user":                     s.userJSON(c.author),
		"created_at":               c.created.Format(ghTime),
		"updated_at":               c.updated.Format(ghTime),
		"author_association":       "NONE",
		"body":                     c.body,
		"performed_via_github_app": nil,
	}
}

func (s *Server) reviewJSON(p *pull, r *review) map[string]any {
	html := fmt.Sprintf("https://github.com/%s/pull/%d#pullrequestreview-%d", p.repo, p.number, r.id)
	pullURL := fmt.Sprintf("https://api.github.com/repos/%s/pulls/%d", p.repo, p.number)
	association := s.associations[strings.ToLower(r.author)]
	if association == "" {
		association = "MEMBER"
	}
	m := map[string]any{
		"id":                 r.id,
		"node_id":            fmt.Sprintf("MDE3OlB1bGxSZXF1ZXN0UmV2aWV3%d", r.id),
		"user":               s.userJSON(r.author),
		"body":               "",
		"state":              r.state,
		"html_url":           html,
		"pull_request_url":   pullURL,
		"author_association": association,
		"_links": map[string]any{
			"html":         map[string]any{"href": html},
			"pull_request": map[string]any{"href": pullURL},
		},
		"commit_id": r.commit,
	}
	// Pending reviews have not been submitted.
	if r.state != "PENDING" {
		m["submitted_at"] = r.submitted.Format(ghTime)
	}
	return m
}

// permissionJSON is GitHub's "Repository Collaborator Permission": the base permission, the role's name
// and the user as a collaborator (with their permissions hash and role).
func (s *Server) permissionJSON(login, role, permission string) map[string]any {
	u := s.userJSON(login)
	rank := map[string]int{"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}[role]
	u["permissions"] = map[string]any{
		"pull": rank >= 1, "triage": rank >= 2, "push": rank >= 3, "maintain": rank >= 4, "admin": rank >= 5,
	}
	u["role_name"] = role
	return map[string]any{"permission": permission, "role_name": role, "user": u}
}

// BlobSHA is the git blob SHA of data ("blob <len>\x00" + data, SHA-1), which GitHub gives as a
// file's sha.
func BlobSHA(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func fileJSON(repo, sha, name, status string) map[string]any {
	return map[string]any{
		"sha":          sha,
		"filename":     name,
		"status":       status,
		"additions":    10,
		"deletions":    0,
		"changes":      10,
		"blob_url":     fmt.Sprintf("https://github.com/%s/blob/%s/%s", repo, sha, name),
		"raw_url":      fmt.Sprintf("https://github.com/%s/raw/%s/%s", repo, sha, name),
		"contents_url": fmt.Sprintf("https://api.github.com/repos/%s/contents/%s?ref=%s", repo, name, sha),
		"patch":        "@@ -0,0 +1,10 @@",
	}
}

// MaxInlined is the largest file whose content GET /repos/{owner}/{repo}/contents/{path} inlines: over
// it GitHub answers encoding "none" and an empty content, and only the raw media type gives the content.
const MaxInlined = 1 << 20

// contentJSON is GET /repos/{owner}/{repo}/contents/{path} for a file: base64 wrapped every 60
// characters, as GitHub sends it; over MaxInlined, no content and encoding "none".
func contentJSON(repo, path, ref string, data []byte) map[string]any {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60])
		b.WriteByte('\n')
		enc = enc[60:]
	}
	b.WriteString(enc)
	b.WriteByte('\n')
	content, encoding := b.String(), "base64"
	if len(data) > MaxInlined {
		content, encoding = "", "none"
	}
	name := path[strings.LastIndex(path, "/")+1:]
	url := fmt.Sprintf("https://api.github.com/repos/%s/contents/%s?ref=%s", repo, path, ref)
	return map[string]any{
		"type":         "file",
		"encoding":     encoding,
		"size":         len(data),
		"name":         name,
		"path":         path,
		"content":      content,
		"sha":          BlobSHA(data),
		"url":          url,
		"git_url":      fmt.Sprintf("https://api.github.com/repos/%s/git/blobs/%s", repo, BlobSHA(data)),
		"html_url":     fmt.Sprintf("https://github.com/%s/blob/%s/%s", repo, ref, path),
		"download_url": fmt.Sprintf("https://raw.githubusercontent.com/%s/%s/%s", repo, ref, path),
		"_links":       map[string]any{"self": url},
	}
}

func (s *Server) statusJSON(st *status) map[string]any {
	return map[string]any{
		"url":         fmt.Sprintf("https://api.github.com/repos/%s/statuses/%s", st.repo, st.sha),
		"avatar_url":  "https://avatars.githubusercontent.com/u/9919?v=4",
		"id":          st.id,
		"node_id":     fmt.Sprintf("MDEzOlN0YXR1c0NvbnRleHQ%d", st.id),
		"state":       st.State,
		"description": st.Description,
		"target_url":  st.TargetURL,
		"context":     st.Context,
		"created_at":  st.created.Format(ghTime),
		"updated_at":  st.created.Format(ghTime),
		"creator":     s.userJSON(s.commentAuthor()),
	}
}

// teamJSON is GitHub's team object; privacy is "closed" (visible) or "secret".
func teamJSON(org, slug, privacy string, id int64) map[string]any {
	return map[string]any{
		"id":                   id,
		"node_id":              fmt.Sprintf("MDQ6VGVhbTE%d", id),
		"url":                  fmt.Sprintf("https://api.github.com/teams/%d", id),
		"html_url":             fmt.Sprintf("https://github.com/orgs/%s/teams/%s", org, slug),
		"name":                 slug,
		"slug":                 slug,
		"description":          "",
		"privacy":              privacy,
		"notification_setting": "notifications_enabled",
		"permission":           "pull",
		"members_url":          fmt.Sprintf("https://api.github.com/teams/%d/members{/member}", id),
		"repositories_url":     fmt.Sprintf("https://api.github.com/teams/%d/repos", id),
		"parent":               nil,
	}
}

// teamRepoJSON is GET /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo} with the
// application/vnd.github.v3.repository+json media type: the repository, with the team's permissions hash
// and role_name on it.
func teamRepoJSON(fullName, role string) map[string]any {
	r := repoJSON(fullName, 186853002+int64(len(fullName)))
	rank := map[string]int{"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}[role]
	r["permissions"] = map[string]any{
		"pull": rank >= 1, "triage": rank >= 2, "push": rank >= 3, "maintain": rank >= 4, "admin": rank >= 5,
	}
	r["role_name"] = role
	r["visibility"] = "private"
	return r
}

// commitJSON is an entry of GET /repos/{owner}/{repo}/commits; parent is the commit before it ("" for
// the first).
func (s *Server) commitJSON(repo string, c *commit, parent string) map[string]any {
	api := "https://api.github.com/repos/" + repo
	sig := map[string]any{"name": "Alice", "email": "alice@example.com", "date": c.at.Format(ghTime)}
	parents := []any{}
	if parent != "" {
		parents = append(parents, map[string]any{"sha": parent, "url": api + "/commits/" + parent,
			"html_url": "https://github.com/" + repo + "/commit/" + parent})
	}
	return map[string]any{
		"sha":     c.sha,
		"node_id": "C_kwDOAJy2KtoAKD" + c.sha[:min(len(c.sha), 12)],
		"commit": map[string]any{
			"author":        sig,
			"committer":     sig,
			"message":       "Change " + strings.Join(c.files, ", "),
			"tree":          map[string]any{"sha": fmt.Sprintf("%040x", len(c.sha)), "url": api + "/git/trees/" + fmt.Sprintf("%040x", len(c.sha))},
			"url":           api + "/git/commits/" + c.sha,
			"comment_count": 0,
			"verification":  map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil},
		},
		"url":          api + "/commits/" + c.sha,
		"html_url":     "https://github.com/" + repo + "/commit/" + c.sha,
		"comments_url": api + "/commits/" + c.sha + "/comments",
		"author":       s.userJSON("alice"),
		"committer":    s.userJSON("web-flow"),
		"parents":      parents,
	}
}
