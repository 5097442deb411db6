package githubtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"

	"github.com/schemagate/schemagate/internal/forge"
)

func getJSON(t *testing.T, s *Server, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return resp.StatusCode
}

// TestCommitPullsOffTheDefaultBranch: GET .../commits/{sha}/pulls lists a pull request merged into
// another branch than the default one only while it is open; the search API finds it.
func TestCommitPullsOffTheDefaultBranch(t *testing.T) {
	s := New(t)
	sha := strings.Repeat("d", 40)
	onMain := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "a", HeadSHA: strings.Repeat("1", 40)}, nil)
	s.MergeInto(onMain, DefaultBranch, strings.Repeat("c", 40), false)
	s.AddCommit("acme/shop", strings.Repeat("c", 40), nil, forge.Ref{})
	release := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "a", HeadSHA: strings.Repeat("2", 40)}, nil)
	s.MergeInto(release, "release/1.x", sha, true)
	s.AddCommit("acme/shop", sha, nil, forge.Ref{})

	var prs []*gh.PullRequest
	if code := getJSON(t, s, "/repos/acme/shop/commits/"+sha+"/pulls", &prs); code != 200 || len(prs) != 0 {
		t.Errorf("pulls of a release branch commit = %d %d, want 200 and none", code, len(prs))
	}
	if getJSON(t, s, "/repos/acme/shop/commits/"+strings.Repeat("c", 40)+"/pulls", &prs); len(prs) != 1 || prs[0].GetNumber() != onMain.Number {
		t.Errorf("pulls of a default branch merge commit = %d, want #%d", len(prs), onMain.Number)
	}
	var res gh.IssuesSearchResult
	q := "/search/issues?q=" + sha[:7] + "+repo:acme/shop+is:pr+is:merged+base:release/1.x"
	if code := getJSON(t, s, q, &res); code != 200 || res.GetTotal() != 1 || len(res.Issues) != 1 {
		t.Fatalf("search = %d %+v, want one pull request", code, res)
	}
	if is := res.Issues[0]; is.GetNumber() != release.Number || !is.IsPullRequest() || is.GetPullRequestLinks().MergedAt == nil {
		t.Errorf("search item = %+v, want merged pull request #%d", is, release.Number)
	}
	if getJSON(t, s, "/repos/acme/shop/pulls?state=closed&base=release/1.x&sort=updated&direction=desc", &prs); len(prs) != 1 || prs[0].GetMergeCommitSHA() != sha {
		t.Errorf("closed pulls into release/1.x = %+v, want #%d merged as %s", prs, release.Number, sha)
	}
}
