package github_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
)

func sha(c byte) string { return strings.Repeat(string(c), 40) }

// releaseRepo holds pull requests merged into a release branch, whose commits GitHub's
// GET .../commits/{sha}/pulls lists with open pull requests only: squashed (merged as its squash
// commit 'd') and merged (by a merge commit 'c', its own commit 'a' changing the file).
func releaseRepo(t *testing.T, s *githubtest.Server) (squashed, merged forge.Ref) {
	t.Helper()
	const repo = "acme/shop"
	add := func(head byte, files ...string) forge.Ref {
		return s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "alice", HeadSHA: sha(head),
			BaseSHA: sha('0'), BaseRef: "release/1.x"}, files)
	}
	s.AddCommit(repo, sha('0'), []string{"db/1_init.up.sql"}, forge.Ref{})
	merged = add('b', "db/2_a.up.sql", "README.md")
	s.AddCommit(repo, sha('a'), []string{"db/2_a.up.sql"}, merged)
	s.AddCommit(repo, sha('b'), []string{"README.md"}, merged)
	s.MergeInto(merged, "release/1.x", sha('c'), false)
	s.AddCommit(repo, sha('c'), nil, forge.Ref{})
	squashed = add('e', "db/3_b.up.sql")
	s.MergeInto(squashed, "release/1.x", sha('d'), true)
	s.AddCommit(repo, sha('d'), []string{"db/3_b.up.sql"}, forge.Ref{})
	return squashed, merged
}

// TestChangeRequestOfFileOnReleaseBranch: a deploy from a release branch finds the pull requests merged
// there although GitHub lists no merged pull request for a commit off the default branch: by the closed
// pull requests' merge_commit_sha (a squash merge), else by the search API (a commit the pull request
// holds).
func TestChangeRequestOfFileOnReleaseBranch(t *testing.T) {
	s := githubtest.New(t)
	squashed, merged := releaseRepo(t, s)
	s.Expect("GET /search/issues")
	c := newClient(t, s, github.Options{})
	for _, tc := range []struct {
		name, path string
		want       forge.Ref
	}{
		{"squash commit", "db/3_b.up.sql", squashed},
		{"commit of a merged pull request", "db/2_a.up.sql", merged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := c.ChangeRequestOfFile(t.Context(), "acme/shop", tc.path, sha('d'), "release/1.x")
			if err != nil || cr.Ref != tc.want || !cr.Merged || cr.BaseRef != "release/1.x" {
				t.Fatalf("ChangeRequestOfFile(%s) = %+v, %v; want %v merged into release/1.x", tc.path, cr, err, tc.want)
			}
		})
	}
	// Merged into the release branch, not into main.
	if cr, err := c.ChangeRequestOfFile(t.Context(), "acme/shop", "db/3_b.up.sql", sha('d'), "main"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("ChangeRequestOfFile(db/3_b.up.sql into main) = %+v, %v; want ErrNotFound", cr, err)
	}
}

// TestFindBySHAMergedIntoReleaseBranch: the deployed commit of a release branch (a squash or merge
// commit) names the pull request merged as it.
func TestFindBySHAMergedIntoReleaseBranch(t *testing.T) {
	s := githubtest.New(t)
	squashed, merged := releaseRepo(t, s)
	c := newClient(t, s, github.Options{})
	for commit, want := range map[string]forge.Ref{sha('d'): squashed, sha('c'): merged} {
		cr, err := c.FindChangeRequestBySHA(t.Context(), "acme/shop", commit)
		if err != nil || cr.Ref != want || !cr.Merged {
			t.Errorf("FindChangeRequestBySHA(%.7s) = %+v, %v; want %v, merged", commit, cr, err, want)
		}
	}
}

// TestFindBySHAMergeCommitOnDefaultBranch: on the default branch GitHub lists the pull request merged as
// the commit; its head is another commit, and it is the one a deploy of that commit ships.
func TestFindBySHAMergeCommitOnDefaultBranch(t *testing.T) {
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: sha('b'),
		BaseSHA: sha('0'), BaseRef: "main"}, nil)
	s.MergeInto(ref, "main", sha('c'), true)
	s.AddCommit("acme/shop", sha('c'), []string{"db/2_a.up.sql"}, forge.Ref{})
	cr, err := newClient(t, s, github.Options{}).FindChangeRequestBySHA(t.Context(), "acme/shop", sha('c'))
	if err != nil || cr.Ref != ref {
		t.Fatalf("FindChangeRequestBySHA(squash commit) = %+v, %v; want %v", cr, err, ref)
	}
	for _, req := range s.Requests() {
		if strings.Contains(req, "/search/") || strings.Contains(req, "state=closed") {
			t.Errorf("request %s: the commit's pull requests named it, nothing else was needed", req)
		}
	}
}

// TestMergedElsewhereBounded: the closed pull requests are read for at most three pages before the
// search API is asked.
func TestMergedElsewhereBounded(t *testing.T) {
	s := githubtest.New(t)
	_, merged := releaseRepo(t, s)
	for i := range 5 {
		other := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "bob",
			HeadSHA: strings.Repeat(string(rune('1'+i)), 40), BaseRef: "release/1.x"}, nil)
		s.MergeInto(other, "release/1.x", strings.Repeat(string(rune('5'+i)), 40), true)
	}
	s.SetPageSize(1)
	s.Expect("GET /search/issues")
	cr, err := newClient(t, s, github.Options{}).ChangeRequestOfFile(t.Context(), "acme/shop", "db/2_a.up.sql", sha('d'), "release/1.x")
	if err != nil || cr.Ref != merged {
		t.Fatalf("ChangeRequestOfFile = %+v, %v; want %v", cr, err, merged)
	}
	closed := slices.DeleteFunc(s.Requests(), func(r string) bool { return !strings.Contains(r, "state=closed") })
	if len(closed) != 3 {
		t.Errorf("closed pull request pages read = %d (%q), want 3", len(closed), closed)
	}
}
