package githubtest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
)

// recorder stands in for the test the fake reports to, so that its failures can be checked.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) finish() string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

func get(t *testing.T, s *Server, method, path string) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestUnexpectedRequestFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec)
	if code := get(t, s, "DELETE", "/repos/acme/shop/issues/comments/1"); code != 404 {
		t.Errorf("unknown route answered %d, want 404", code)
	}
	if errs := rec.finish(); !strings.Contains(errs, "unexpected request DELETE /api/v3/repos/acme/shop/issues/comments/1") {
		t.Errorf("errors = %q, want the unexpected request reported", errs)
	}
}

func TestExpectedRequestNeverCameFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec)
	s.Expect("POST /repos/{owner}/{repo}/statuses/{sha}")
	s.Expect("GET /user")
	get(t, s, "GET", "/user")
	errs := rec.finish()
	if !strings.Contains(errs, `expected request "POST /repos/{owner}/{repo}/statuses/{sha}" never came`) || strings.Contains(errs, "GET /user\" never") {
		t.Errorf("errors = %q, want only the status request reported missing", errs)
	}
}

func TestEditingSomeoneElsesCommentFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice"}, nil)
	id := s.AddComment(ref, "alice", "mine")
	get(t, s, "PATCH", fmt.Sprintf("/repos/acme/shop/issues/comments/%d", id))
	if errs := rec.finish(); !strings.Contains(errs, "edited with the bot's token") {
		t.Errorf("errors = %q, want the edit of alice's comment reported", errs)
	}
}

func TestBadCredentials(t *testing.T) {
	s := New(t)
	req, _ := http.NewRequest("GET", s.URL()+"/user", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong token answered %d, want 401", resp.StatusCode)
	}
}
