package githubtest

import (
	"encoding/json"
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

// TestPermissionPayload: GET .../collaborators/{username}/permission answers GitHub's shape: the base
// permission (maintain counted as write, triage as read), the role's own name and the user with their
// permissions hash; 404 for a user who is no collaborator, 403 for a token refused.
func TestPermissionPayload(t *testing.T) {
	s := New(t)
	s.SetAssociation("olga", "OWNER")
	s.SetAssociation("nina", "NONE")
	s.SetRole("tess", "triage")
	s.SetRole("max", "maintain")
	s.SetRole("gone", "")
	tests := []struct {
		login, permission, role string
		push                    bool
	}{
		{"olga", "admin", "admin", true},
		{"mia", "write", "write", true}, // MEMBER by default
		{"max", "write", "maintain", true},
		{"tess", "read", "triage", false},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", s.URL()+"/repos/acme/shop/collaborators/"+tt.login+"/permission", nil)
		req.Header.Set("Authorization", "Bearer "+Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Permission string `json:"permission"`
			RoleName   string `json:"role_name"`
			User       struct {
				Login       string          `json:"login"`
				RoleName    string          `json:"role_name"`
				Permissions map[string]bool `json:"permissions"`
			} `json:"user"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d, %v", tt.login, resp.StatusCode, err)
		}
		if got.Permission != tt.permission || got.RoleName != tt.role || got.User.Login != tt.login || got.User.RoleName != tt.role ||
			got.User.Permissions["push"] != tt.push || !got.User.Permissions["pull"] {
			t.Errorf("%s: %+v, want permission %s, role %s, push %v", tt.login, got, tt.permission, tt.role, tt.push)
		}
	}
	for _, login := range []string{"nina", "gone"} {
		if code := get(t, s, "GET", "/repos/acme/shop/collaborators/"+login+"/permission"); code != 404 {
			t.Errorf("%s, no collaborator: %d, want 404", login, code)
		}
	}
	s.SetPermissionForbidden(true)
	if code := get(t, s, "GET", "/repos/acme/shop/collaborators/mia/permission"); code != 403 {
		t.Errorf("refused token: %d, want 403", code)
	}
}
