package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/forgetest"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
)

func noSleep(context.Context, time.Duration) error { return nil }

func newClient(t *testing.T, s *githubtest.Server, opts github.Options) *github.Client {
	t.Helper()
	opts.Token = githubtest.Token
	opts.BaseURL = s.URL()
	if opts.Sleep == nil {
		opts.Sleep = noSleep
	}
	c, err := github.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	forgetest.Run(t, func(t *testing.T) (forge.Forge, forgetest.Backend) {
		s := githubtest.New(t)
		return newClient(t, s, github.Options{}), s
	})
}

func TestConformanceInstallationToken(t *testing.T) {
	forgetest.Run(t, func(t *testing.T) (forge.Forge, forgetest.Backend) {
		s := githubtest.New(t)
		s.SetInstallationToken(true)
		return newClient(t, s, github.Options{FallbackLogin: github.ActionsBotLogin}), s
	})
}

func TestMeInstallationTokenSaysWhy(t *testing.T) {
	s := githubtest.New(t)
	s.SetInstallationToken(true)
	s.Expect("GET /user")
	_, err := newClient(t, s, github.Options{}).Me(t.Context())
	if !errors.Is(err, forge.ErrForbidden) || !strings.Contains(err.Error(), github.ActionsBotLogin) {
		t.Errorf("Me with an installation token: err = %v, want ErrForbidden naming %s", err, github.ActionsBotLogin)
	}
}

func TestMeFallbackLogin(t *testing.T) {
	s := githubtest.New(t)
	s.SetInstallationToken(true)
	c := newClient(t, s, github.Options{FallbackLogin: github.ActionsBotLogin})
	for range 2 {
		me, err := c.Me(t.Context())
		if err != nil || me != github.ActionsBotLogin {
			t.Errorf("Me = %q, %v; want %s", me, err, github.ActionsBotLogin)
		}
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("requests = %d, want one GET /user (the answer is kept)", n)
	}
}

func TestRateLimitWaitsAsAsked(t *testing.T) {
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "abc"}, nil)
	var waits []time.Duration
	c := newClient(t, s, github.Options{Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}})
	s.RateLimitNext(2)
	if _, err := c.Comments(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 || waits[0] != time.Second || waits[1] != time.Second {
		t.Errorf("waits = %v, want two waits of 1s (Retry-After: 1)", waits)
	}
}

func TestRateLimitHonoursContext(t *testing.T) {
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "abc"}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	c := newClient(t, s, github.Options{Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}})
	s.RateLimitNext(1)
	_, err := c.Comments(ctx, ref)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Comments cancelled while waiting for a rate limit: err = %v, want context.Canceled", err)
	}
}

func TestRateLimitTooLongFailsAtOnce(t *testing.T) {
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "abc"}, nil)
	slept := 0
	c := newClient(t, s, github.Options{MaxWait: 500 * time.Millisecond, Sleep: func(context.Context, time.Duration) error {
		slept++
		return nil
	}})
	s.RateLimitNext(1)
	_, err := c.Comments(t.Context(), ref)
	var rl *github.RateLimitError
	if !errors.As(err, &rl) || slept != 0 {
		t.Errorf("Comments asked to wait 1s with MaxWait 0.5s: err = %v, slept %d times; want RateLimitError without sleeping", err, slept)
	}
}

func TestIsMemberForbiddenExplains(t *testing.T) {
	s := githubtest.New(t)
	s.AddTeamMember("acme/dba", "dora")
	s.SetMembershipForbidden(true)
	s.Expect("GET /orgs/{org}/teams/{team}/memberships/{user}")
	s.Expect("GET /orgs/{org}/teams/{team}")
	_, err := newClient(t, s, github.Options{}).IsMember(t.Context(), "@acme/dba", "dora")
	if !errors.Is(err, forge.ErrForbidden) || !strings.Contains(err.Error(), "read:org") {
		t.Errorf("IsMember with GITHUB_TOKEN: err = %v, want ErrForbidden explaining read:org", err)
	}
}

func TestStatusDescriptionTruncated(t *testing.T) {
	s := githubtest.New(t)
	c := newClient(t, s, github.Options{})
	long := strings.Repeat("é", 200)
	if err := c.SetStatus(t.Context(), "acme/shop", "abc", forge.Status{Context: "x", State: "pending", Description: long}); err != nil {
		t.Fatal(err)
	}
	got := s.Statuses("acme/shop", "abc")
	if len(got) != 1 || len([]rune(got[0].Description)) != 140 || !strings.HasSuffix(got[0].Description, "…") {
		t.Errorf("statuses = %+v, want one with a 140-character description ending in …", got)
	}
}

func TestFindBySHAForkAndMerged(t *testing.T) {
	s := githubtest.New(t)
	s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "eve", HeadSHA: "f00", Fork: true, State: "closed", Merged: true}, nil)
	want := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "eve", HeadSHA: "f00", Fork: true}, nil)
	cr, err := newClient(t, s, github.Options{}).FindChangeRequestBySHA(t.Context(), "acme/shop", "f00")
	if err != nil {
		t.Fatal(err)
	}
	if cr.Ref != want || !cr.Fork {
		t.Errorf("FindChangeRequestBySHA = %+v, want the open fork pull request %v", cr, want)
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, u := range []string{"api.github.com", "://x", "/api/v3"} {
		if _, err := github.New(github.Options{BaseURL: u}); err == nil {
			t.Errorf("New(BaseURL %q): err = nil, want an error", u)
		}
	}
}

func TestRemovedFilesLeftOut(t *testing.T) {
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "a", HeadSHA: "1"},
		[]string{"db/1.sql", "-db/old.sql", "db/2.sql"})
	got, err := newClient(t, s, github.Options{}).ChangedFiles(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "db/1.sql,db/2.sql" {
		t.Errorf("ChangedFiles = %q, want the removed file left out", got)
	}
}

// TestFilesBeyondGitHubsCap: GitHub lists at most 3000 files of a pull request ("Responses include a
// maximum of 3000 files") and says nothing of the others; its changed_files counts them all. A pull
// request of exactly 3000 files is listed whole, and Files gives them all; one of 3001 cannot be listed
// whole, and Files says so instead of passing the first 3000 off as all (the request for the files is
// not even made when changed_files tells already).
func TestFilesBeyondGitHubsCap(t *testing.T) {
	t.Parallel()
	for _, n := range []int{github.MaxListedFiles + 1, github.MaxListedFiles, github.MaxListedFiles - 1} {
		s := githubtest.New(t)
		files := make([]string, n)
		for i := range files {
			files[i] = fmt.Sprintf("src/f%04d.go", i)
		}
		ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "a", HeadSHA: "1"}, files)
		got, err := newClient(t, s, github.Options{}).Files(t.Context(), ref)
		switch {
		case n > github.MaxListedFiles && !errors.Is(err, forge.ErrIncomplete):
			t.Errorf("Files of %d files = %d files, %v; want ErrIncomplete", n, len(got), err)
		case n > github.MaxListedFiles && !strings.Contains(err.Error(), fmt.Sprintf("the pull request changes %d files and GitHub lists at most 3000", n)):
			t.Errorf("Files of %d files: err = %v, want one saying how many it changes and how many GitHub lists", n, err)
		case n <= github.MaxListedFiles && (err != nil || len(got) != n):
			t.Errorf("Files of %d files = %d files, %v; want them all", n, len(got), err)
		case n <= github.MaxListedFiles && (got[0].Path != files[0] || got[n-1].Path != files[n-1]):
			t.Errorf("Files of %d files: first %q, last %q; want %q and %q", n, got[0].Path, got[n-1].Path, files[0], files[n-1])
		}
		for _, r := range s.Requests() {
			if n > github.MaxListedFiles && strings.Contains(r, "/files") {
				t.Errorf("Files of %d files asked %s: changed_files said already that GitHub cannot list them", n, r)
				break
			}
		}
	}
}

// TestFilesShortOfChangedFiles: a list shorter than changed_files (GitHub's cap met below 3000 files,
// as the fake's SetFileLimit makes it) leaves files out: ErrIncomplete, naming both counts.
func TestFilesShortOfChangedFiles(t *testing.T) {
	s := githubtest.New(t)
	files := make([]string, 12)
	for i := range files {
		files[i] = fmt.Sprintf("src/f%02d.go", i)
	}
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "a", HeadSHA: "1"}, files)
	s.SetFileLimit(10)
	got, err := newClient(t, s, github.Options{}).Files(t.Context(), ref)
	if !errors.Is(err, forge.ErrIncomplete) || !strings.Contains(err.Error(), "GitHub listed 10 of the 12 files") {
		t.Errorf("Files listed short of changed_files = %d files, %v; want ErrIncomplete saying 10 of the 12", len(got), err)
	}
}

// TestConformanceWithRunCache: the gate's cache of comments and files behaves as the client it wraps.
func TestConformanceWithRunCache(t *testing.T) {
	forgetest.Run(t, func(t *testing.T) (forge.Forge, forgetest.Backend) {
		s := githubtest.New(t)
		return forge.WithRunCache(newClient(t, s, github.Options{})), s
	})
}

// TestGatewayErrorsOnReadsAreRetried: a read GitHub answers 502 or 504 is sent again after a pause; a
// write is not (GitHub may have made the comment).
func TestGatewayErrorsOnReadsAreRetried(t *testing.T) {
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "abc"}, nil)
	var waits []time.Duration
	c := newClient(t, s, github.Options{Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}})
	s.FailNext(2, http.StatusGatewayTimeout)
	if _, err := c.Comments(t.Context(), ref); err != nil {
		t.Fatalf("Comments after two 504s: %v", err)
	}
	if len(waits) != 2 {
		t.Errorf("pauses %v, want two", waits)
	}
	before := len(s.Requests())
	s.FailNext(1, http.StatusBadGateway)
	if _, err := c.CreateComment(t.Context(), ref, "report"); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("CreateComment answered 502: err = %v, want it named", err)
	}
	if n := len(s.Requests()) - before; n != 1 {
		t.Errorf("%d requests for one comment answered 502, want 1 (no resend)", n)
	}
}

// TestReviewsReadApproversRole: every approver but the repository's owner has their role read, and is an
// outsider unless it grants write access, whatever their author_association: a MEMBER or COLLABORATOR
// may hold read or triage only, and an organization member whose membership is private shows as
// CONTRIBUTOR or NONE though a team gives them write access (pri, nop). A reviewer who is no collaborator
// (GitHub answers 404) has none. The owner is settled by the association alone; the reviewer who only
// commented is not asked.
func TestReviewsReadApproversRole(t *testing.T) {
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "abc"}, nil)
	for login, association := range map[string]string{"mem": "MEMBER", "col": "COLLABORATOR", "own": "OWNER", "non": "NONE", "tri": "COLLABORATOR",
		"pri": "CONTRIBUTOR", "nop": "NONE", "ftc": "FIRST_TIME_CONTRIBUTOR"} {
		s.SetAssociation(login, association)
		s.AddReview(ref, forge.Review{Author: login, State: "APPROVED"})
	}
	s.SetAssociation("com", "CONTRIBUTOR")
	s.AddReview(ref, forge.Review{Author: "com", State: "COMMENTED"})
	s.SetRole("mem", "read")
	s.SetRole("col", "write")
	s.SetRole("tri", "triage")
	s.SetRole("pri", "write")
	s.SetRole("nop", "maintain")
	s.SetRole("ftc", "read")
	got, err := newClient(t, s, github.Options{}).Reviews(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"mem": "read true", "col": "write false", "own": " false", "non": "none true", "tri": "triage true",
		"pri": "write false", "nop": "maintain false", "ftc": "read true", "com": " true"}
	for _, r := range got {
		if g := fmt.Sprintf("%s %v", r.Role, r.Outsider); g != want[r.Author] {
			t.Errorf("%s: role and outsider %q, want %q", r.Author, g, want[r.Author])
		}
	}
	asked := map[string]int{}
	for _, r := range s.Requests() {
		if _, rest, ok := strings.Cut(r, "/collaborators/"); ok {
			asked[strings.TrimSuffix(rest, "/permission")]++
		}
	}
	if fmt.Sprint(asked) != "map[col:1 ftc:1 mem:1 non:1 nop:1 pri:1 tri:1]" {
		t.Errorf("roles asked %v, want each approver's once, never the owner's nor a commenter's", asked)
	}
}

// TestTeamAccess: a team's standing in a repository is read from GET /orgs/{org}/teams/{team_slug} (its
// privacy) and GET /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo} with the repository media type
// (its role; 404 for no access). A team the token may not read (404 on the team, as for the Actions
// GITHUB_TOKEN; 403, as for an App token without Members: read) is forge.ErrForbidden saying which
// permission reads it, never a team without access.
func TestTeamAccess(t *testing.T) {
	for _, tt := range []struct {
		name   string
		role   string
		secret bool
		want   forge.TeamAccess
	}{
		{"write", "write", false, forge.TeamAccess{Role: "write", Writes: true}},
		{"maintain", "maintain", false, forge.TeamAccess{Role: "maintain", Writes: true}},
		{"admin", "admin", false, forge.TeamAccess{Role: "admin", Writes: true}},
		{"triage", "triage", false, forge.TeamAccess{Role: "triage"}},
		{"read", "read", false, forge.TeamAccess{Role: "read"}},
		{"no access", "", false, forge.TeamAccess{}},
		{"secret with write", "write", true, forge.TeamAccess{Role: "write", Writes: true, Secret: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := githubtest.New(t)
			s.AddTeamMember("acme/dba", "dan")
			s.SetTeamRole("acme/dba", tt.role)
			s.SetTeamSecret("acme/dba", tt.secret)
			s.Expect("GET /orgs/{org}/teams/{team}")
			s.Expect("GET /orgs/{org}/teams/{team}/repos/{owner}/{repo}")
			got, err := newClient(t, s, github.Options{}).TeamAccess(t.Context(), "acme/shop", "@acme/dba")
			if err != nil || got != tt.want {
				t.Errorf("TeamAccess = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name  string
		setup func(s *githubtest.Server)
	}{
		{"GITHUB_TOKEN (404)", func(s *githubtest.Server) { s.SetMembershipForbidden(true) }},
		{"App token without Members (403)", func(s *githubtest.Server) { s.SetOrgForbidden(true) }},
		{"no such team", func(s *githubtest.Server) {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := githubtest.New(t)
			if tt.name != "no such team" {
				s.AddTeamMember("acme/dba", "dan")
			}
			tt.setup(s)
			_, err := newClient(t, s, github.Options{}).TeamAccess(t.Context(), "acme/shop", "@acme/dba")
			if !errors.Is(err, forge.ErrForbidden) || !strings.Contains(err.Error(), "read:org") || !strings.Contains(err.Error(), "@acme/dba") {
				t.Errorf("TeamAccess: err = %v, want ErrForbidden naming @acme/dba and read:org", err)
			}
		})
	}
}

// TestSameHead lists the open pull requests that share a head commit, whichever listing finds them and
// however many pages each takes: the same branch against another base, another branch at that commit.
// Closed ones and those of another head are left out, and so is the pull request asked about.
func TestSameHead(t *testing.T) {
	const repo, head, other = "acme/shop", "5555555555555555555555555555555555555555", "6666666666666666666666666666666666666666"
	s := githubtest.New(t)
	add := func(branch, base, sha, state string) forge.Ref {
		return s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "alice", HeadSHA: sha, BaseSHA: "b", BaseRef: base,
			HeadBranch: branch, State: state}, nil)
	}
	main := add("shared", "main", head, "")
	release := add("shared", "release/1.x", head, "")
	copied := add("copy", "main", head, "")
	add("elsewhere", "main", other, "")
	add("old", "release/0.9", head, "closed")
	s.SetPageSize(1)
	s.Expect("GET /repos/{owner}/{repo}/commits/{sha}/pulls")
	s.Expect("GET /repos/{owner}/{repo}/pulls")
	c := newClient(t, s, github.Options{})
	cr, err := c.ChangeRequest(t.Context(), main)
	if err != nil {
		t.Fatal(err)
	}
	if cr.HeadBranch != "shared" || cr.HeadRepo != repo {
		t.Fatalf("ChangeRequest head = %s of %s, want shared of %s", cr.HeadBranch, cr.HeadRepo, repo)
	}
	got, err := c.SameHead(t.Context(), cr)
	if err != nil {
		t.Fatalf("SameHead: %v", err)
	}
	var nums []int
	for _, g := range got {
		nums = append(nums, g.Number)
	}
	if fmt.Sprint(nums) != fmt.Sprint([]int{release.Number, copied.Number}) {
		t.Errorf("SameHead of #%d = %v, want [%d %d]", main.Number, nums, release.Number, copied.Number)
	}
	if len(got) > 0 && (got[0].BaseRef != "release/1.x" || got[0].Author != "alice") {
		t.Errorf("SameHead's first = %+v, want the release/1.x pull request by alice", *got[0])
	}
	var pages int
	for _, r := range s.Requests() {
		if strings.Contains(r, "/pulls?") && strings.Contains(r, "page=") {
			pages++
		}
	}
	if pages < 4 {
		t.Errorf("SameHead read %d later pages, want every page of both listings:\n%s", pages, strings.Join(s.Requests(), "\n"))
	}

	s.SetPullListForbidden(true)
	if _, err := c.SameHead(t.Context(), cr); !errors.Is(err, forge.ErrForbidden) {
		t.Errorf("SameHead with a token that may not list pull requests: err = %v, want ErrForbidden", err)
	}
}
