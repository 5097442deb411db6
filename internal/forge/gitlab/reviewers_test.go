package gitlab_test

import (
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/gitlab"
	"github.com/schemagate/schemagate/internal/forge/gitlab/gitlabtest"
)

// latestDecisions is each author's latest APPROVED, CHANGES_REQUESTED or DISMISSED review, as the gate
// reads them.
func latestDecisions(rs []forge.Review) map[string]forge.Review {
	out := map[string]forge.Review{}
	for _, r := range rs {
		switch r.State {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			out[r.Author] = r
		}
	}
	return out
}

// TestReviewsRequestedChanges: a DBA who approved and then requested changes (GitLab removes the
// approval without a note) is read as GitHub's CHANGES_REQUESTED, their latest decision, read from
// GET .../reviewers over several pages; a reviewer who requested changes and approved since counts as
// approving.
func TestReviewsRequestedChanges(t *testing.T) {
	srv := gitlabtest.New(t)
	ref, _ := newMR(srv)
	srv.AddReviewer(ref, "carol")
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	srv.AddReview(ref, forge.Review{Author: "dora", State: "APPROVED", SubmittedAt: base})
	srv.AddReview(ref, forge.Review{Author: "erin", State: "CHANGES_REQUESTED", SubmittedAt: base.Add(time.Minute)})
	srv.Push(ref, "3333333333333333333333333333333333333333", base.Add(2*time.Minute))
	srv.AddReview(ref, forge.Review{Author: "dora", State: "CHANGES_REQUESTED", SubmittedAt: base.Add(3 * time.Minute)})
	srv.AddReview(ref, forge.Review{Author: "erin", State: "APPROVED", SubmittedAt: base.Add(4 * time.Minute)})
	srv.SetPageSize(1)
	srv.Expect("GET reviewers")
	if got := srv.ReviewerStates(ref); got["dora"] != "requested_changes" || got["erin"] != "approved" || got["carol"] != "unreviewed" {
		t.Fatalf("reviewer states = %v", got)
	}

	got, err := newClient(t, srv, gitlab.Options{}).Reviews(t.Context(), ref)
	if err != nil {
		t.Fatalf("Reviews: %v", err)
	}
	latest := latestDecisions(got)
	if r := latest["dora"]; r.State != "CHANGES_REQUESTED" || r.CommitSHA != "3333333333333333333333333333333333333333" || !r.SubmittedAt.Equal(base.Add(3*time.Minute)) {
		t.Errorf("dora's latest decision = %+v, want CHANGES_REQUESTED on the second push at %v (reviews %+v)", r, base.Add(3*time.Minute), got)
	}
	if r := latest["erin"]; r.State != "APPROVED" {
		t.Errorf("erin's latest decision = %+v, want APPROVED (reviews %+v)", r, got)
	}
	if r, ok := latest["carol"]; ok {
		t.Errorf("carol, an unreviewed reviewer, has decision %+v, want none", r)
	}
	if r := got[len(got)-1]; r.Author != "erin" || r.State != "APPROVED" {
		t.Errorf("reviews = %+v, want oldest first, erin's approval last", got)
	}
}

// TestReviewsRequestedChangesWithdrawn: a review re-requested from a reviewer who requested changes
// (their state back to unreviewed) no longer blocks, as a dismissed review on GitHub.
func TestReviewsRequestedChangesWithdrawn(t *testing.T) {
	srv := gitlabtest.New(t)
	ref, _ := newMR(srv)
	srv.AddReview(ref, forge.Review{Author: "dora", State: "APPROVED"})
	srv.AddReview(ref, forge.Review{Author: "dora", State: "CHANGES_REQUESTED"})
	srv.RequestReview(ref, "dora")
	got, err := newClient(t, srv, gitlab.Options{}).Reviews(t.Context(), ref)
	if err != nil {
		t.Fatalf("Reviews: %v", err)
	}
	if r := latestDecisions(got)["dora"]; r.State != "DISMISSED" {
		t.Errorf("dora's latest decision after the review was re-requested = %+v, want DISMISSED (reviews %+v)", r, got)
	}
}

// TestReviewsReviewerStateIsTheAuthority: a reviewer in state requested_changes blocks even when no
// "requested changes" note says so, and counts after their approval; the states are read over pages.
func TestReviewsReviewerStateIsTheAuthority(t *testing.T) {
	srv := gitlabtest.New(t)
	ref, _ := newMR(srv)
	srv.AddReviewer(ref, "bob")
	srv.AddReviewer(ref, "carol")
	srv.AddReview(ref, forge.Review{Author: "dora", State: "APPROVED"})
	srv.SetReviewerState(ref, "dora", "requested_changes")
	srv.SetPageSize(1)
	got, err := newClient(t, srv, gitlab.Options{}).Reviews(t.Context(), ref)
	if err != nil {
		t.Fatalf("Reviews: %v", err)
	}
	if r := latestDecisions(got)["dora"]; r.State != "CHANGES_REQUESTED" {
		t.Errorf("dora's latest decision = %+v, want CHANGES_REQUESTED (reviews %+v)", r, got)
	}
	if len(latestDecisions(got)) != 1 {
		t.Errorf("reviews = %+v, want decisions by dora only", got)
	}
}
