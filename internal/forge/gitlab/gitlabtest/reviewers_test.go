package gitlabtest

import (
	"encoding/json"
	"testing"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/schemagate/schemagate/internal/forge"
)

// TestReviewersPayload: GET .../reviewers answers GitLab's shape ({user, state, created_at}, decoded by
// client-go's MergeRequestReviewer) one page at a time, and a request for changes moves the state and
// removes the approval without a note.
func TestReviewersPayload(t *testing.T) {
	s := New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "abc"}, nil)
	s.AddReviewer(ref, "bob")
	s.AddReview(ref, forge.Review{Author: "dora", State: "APPROVED"})
	s.AddReview(ref, forge.Review{Author: "dora", State: "CHANGES_REQUESTED"})
	s.SetPageSize(1)
	code, h, body := call(t, s, "GET", "/projects/acme%2Fshop/merge_requests/1/reviewers?page=2&per_page=100", "PRIVATE-TOKEN: "+Token, "")
	if code != 200 || h.Get("X-Total") != "2" || h.Get("X-Next-Page") != "" || h.Get("X-Prev-Page") != "1" {
		t.Fatalf("reviewers page 2: %d %v %s", code, h, body)
	}
	var rs []*gl.MergeRequestReviewer
	if err := json.Unmarshal([]byte(body), &rs); err != nil || len(rs) != 1 {
		t.Fatalf("decode %s: %v", body, err)
	}
	if r := rs[0]; r.User == nil || r.User.Username != "dora" || r.User.ID == 0 || r.State != "requested_changes" || r.CreatedAt == nil {
		t.Errorf("reviewer = %+v, want dora in state requested_changes with user id and created_at", r)
	}
	var raw []map[string]any
	_ = json.Unmarshal([]byte(body), &raw)
	for _, k := range []string{"user", "state", "created_at"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("reviewer payload %s lacks %q", body, k)
		}
	}
	_, _, body = call(t, s, "GET", "/projects/acme%2Fshop/merge_requests/1/approvals", "PRIVATE-TOKEN: "+Token, "")
	var ap struct {
		ApprovedBy []any `json:"approved_by"`
	}
	if err := json.Unmarshal([]byte(body), &ap); err != nil || len(ap.ApprovedBy) != 0 {
		t.Errorf("approvals after a request for changes = %s, want none", body)
	}
	notes := s.Comments(ref)
	if n := notes[len(notes)-1]; !n.System || n.Body != "requested changes" || n.Author != "dora" {
		t.Errorf("last note = %+v, want dora's system note \"requested changes\"", n)
	}
	if st := s.ReviewerStates(ref); st["bob"] != "unreviewed" || st["dora"] != "requested_changes" {
		t.Errorf("states = %v", st)
	}
	s.RequestReview(ref, "dora")
	if st := s.ReviewerStates(ref); st["dora"] != "unreviewed" {
		t.Errorf("state after the review was re-requested = %v, want unreviewed", st)
	}
}
