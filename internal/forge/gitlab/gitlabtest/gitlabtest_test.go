package gitlabtest

import (
	"encoding/json"
	"fmt"
	"io"
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

// call sends a request with a header ("PRIVATE-TOKEN: x") and returns the status, headers and body.
func call(t *testing.T, s *Server, method, path, header, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if k, v, ok := strings.Cut(header, ": "); ok {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

const auth = "PRIVATE-TOKEN: " + Token

func TestUnexpectedRequestFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec)
	if code, _, _ := call(t, s, "DELETE", "/projects/acme%2Fshop/merge_requests/1/notes/5", auth, ""); code != 404 {
		t.Errorf("unknown route answered %d, want 404", code)
	}
	if errs := rec.finish(); !strings.Contains(errs, "unexpected request DELETE /api/v4/projects/acme%2Fshop/merge_requests/1/notes/5") {
		t.Errorf("errors = %q, want the unexpected request reported", errs)
	}
}

func TestExpectedRequestNeverCameFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec)
	s.Expect("POST status")
	s.Expect("GET user")
	call(t, s, "GET", "/user", auth, "")
	errs := rec.finish()
	if !strings.Contains(errs, "expected request POST status never came") || strings.Contains(errs, "GET user never") {
		t.Errorf("errors = %q, want only the status request reported missing", errs)
	}
}

func TestPagination(t *testing.T) {
	s := New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice"}, nil)
	for i := range 5 {
		s.AddComment(ref, "alice", fmt.Sprint("note ", i))
	}
	code, h, body := call(t, s, "GET", "/projects/acme%2Fshop/merge_requests/1/notes?per_page=2&page=2&sort=asc", auth, "")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	for k, want := range map[string]string{"X-Page": "2", "X-Per-Page": "2", "X-Total": "5", "X-Total-Pages": "3", "X-Next-Page": "3", "X-Prev-Page": "1"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	link := h.Get("Link")
	for _, rel := range []string{`rel="next"`, `rel="prev"`, `rel="first"`, `rel="last"`} {
		if !strings.Contains(link, rel) {
			t.Errorf("Link %q has no %s", link, rel)
		}
	}
	if !strings.Contains(link, "page=3") || !strings.Contains(link, "sort=asc") {
		t.Errorf("Link %q does not keep the query and point at page 3", link)
	}
	var notes []map[string]any
	if err := json.Unmarshal([]byte(body), &notes); err != nil || len(notes) != 2 || notes[0]["body"] != "note 2" {
		t.Errorf("page 2 = %s, %v; want notes 2 and 3", body, err)
	}
	for _, key := range []string{"noteable_type", "resolvable", "confidential", "author", "system"} {
		if _, ok := notes[0][key]; !ok {
			t.Errorf("note payload lacks GitLab's %q field", key)
		}
	}
	_, h, _ = call(t, s, "GET", "/projects/acme%2Fshop/merge_requests/1/notes?per_page=2&page=3", auth, "")
	if h.Get("X-Next-Page") != "" || strings.Contains(h.Get("Link"), `rel="next"`) {
		t.Errorf("last page announces a next page: %q, %q", h.Get("X-Next-Page"), h.Get("Link"))
	}
}

func TestTokens(t *testing.T) {
	s := New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice"}, nil)
	notes := fmt.Sprintf("/projects/acme%%2Fshop/merge_requests/%d/notes", ref.Number)
	tests := []struct {
		name, method, path, header string
		code                       int
		message                    string
	}{
		{"no token", "GET", notes, "", 401, "401 Unauthorized"},
		{"wrong token", "GET", notes, "PRIVATE-TOKEN: nope", 401, "401 Unauthorized"},
		{"job token reads notes", "GET", notes, "JOB-TOKEN: " + JobToken, 200, ""},
		{"job token cannot write notes", "POST", notes, "JOB-TOKEN: " + JobToken, 403, "403 Forbidden"},
		{"job token cannot read approvals", "GET", "/projects/acme%2Fshop/merge_requests/1/approvals", "JOB-TOKEN: " + JobToken, 401, "401 Unauthorized"},
		{"unknown project", "GET", "/projects/acme%2Fnope/merge_requests/1", auth, 404, "404 Project Not Found"},
		{"numeric project id", "GET", "/projects/40/merge_requests/1", auth, 200, ""},
	}
	for _, tt := range tests {
		code, _, body := call(t, s, tt.method, tt.path, tt.header, `{"body":"x"}`)
		if code != tt.code {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, code, tt.code, body)
		}
		if tt.message != "" && body != fmt.Sprintf(`{"message":%q}`, tt.message) {
			t.Errorf("%s: body %s, want GitLab's {\"message\":%q}", tt.name, body, tt.message)
		}
	}
}

func TestRateLimitAnswer(t *testing.T) {
	s := New(t)
	s.RateLimitNext(1)
	code, h, body := call(t, s, "GET", "/user", auth, "")
	if code != 429 || h.Get("Retry-After") != "1" || h.Get("RateLimit-Remaining") != "0" || h.Get("RateLimit-Reset") == "" || body != "Retry later\n" {
		t.Errorf("rate-limited answer = %d %v %q", code, h, body)
	}
	if code, _, _ := call(t, s, "GET", "/user", auth, ""); code != 200 {
		t.Errorf("answer after the limit = %d, want 200", code)
	}
}

func TestQuickActionsRun(t *testing.T) {
	s := New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice"}, nil)
	body := "report\n/approve\n```\n/merge\n```\n/label ~db"
	code, _, resp := call(t, s, "POST", "/projects/acme%2Fshop/merge_requests/1/notes", auth, `{"body":`+jsonQuote(body)+`}`)
	if code != 201 {
		t.Fatalf("create note: %d %s", code, resp)
	}
	got := s.QuickActions()
	if strings.Join(got, ",") != "/approve,/label ~db" {
		t.Errorf("quick actions = %q, want /approve and /label outside the code block", got)
	}
	stored := s.Comments(ref)[0].Body
	if strings.Contains(stored, "/approve") || !strings.Contains(stored, "/merge") {
		t.Errorf("stored body %q: want command lines removed, code kept", stored)
	}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestNoteLength: the fake refuses a note over GitLab's 1,000,000 characters as GitLab does, created
// or edited (400, the model's error in bad_request!'s message), counting characters, not bytes, and
// before it runs the note's quick actions; a note at the limit is taken.
func TestNoteLength(t *testing.T) {
	s := New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice"}, nil)
	notes := fmt.Sprintf("/projects/acme%%2Fshop/merge_requests/%d/notes", ref.Number)
	at := strings.Repeat("é", 1_000_000) // 2,000,000 bytes
	code, _, resp := call(t, s, "POST", notes, auth, `{"body":`+jsonQuote(at)+`}`)
	if code != 201 {
		t.Fatalf("create a note of 1,000,000 characters: %d %.200s", code, resp)
	}
	var created struct{ ID int64 }
	if err := json.Unmarshal([]byte(resp), &created); err != nil || created.ID == 0 {
		t.Fatalf("created note %.200s: %v", resp, err)
	}
	const tooLong = `is too long (maximum is 1000000 characters)`
	tests := []struct {
		name, method, path, body string
		message                  string
	}{
		{"create one over", "POST", notes, at + "é", `400 Bad request - Note {:note=>["` + tooLong + `"]}`},
		{"create one over with a quick action", "POST", notes, "/approve\n" + at, `400 Bad request - Note {:note=>["` + tooLong + `"]}`},
		{"update one over", "PUT", fmt.Sprintf("%s/%d", notes, created.ID), at + "a", `400 Bad request - Failed to save note {:note=>["` + tooLong + `"]}`},
	}
	for _, tt := range tests {
		code, _, resp := call(t, s, tt.method, tt.path, auth, `{"body":`+jsonQuote(tt.body)+`}`)
		if want := fmt.Sprintf(`{"message":%s}`, jsonQuote(tt.message)); code != 400 || resp != want {
			t.Errorf("%s: %d %.200s, want 400 %s", tt.name, code, resp, want)
		}
	}
	if cs := s.Comments(ref); len(cs) != 1 || cs[0].Body != at {
		t.Errorf("stored %d notes; want the one at the limit, unchanged", len(cs))
	}
	if got := s.QuickActions(); len(got) != 0 {
		t.Errorf("quick actions of refused notes ran: %q", got)
	}
	if code, _, resp := call(t, s, "PUT", fmt.Sprintf("%s/%d", notes, created.ID), auth, `{"body":`+jsonQuote(at[2:]+"a")+`}`); code != 200 {
		t.Errorf("update to 1,000,000 characters: %d %.200s", code, resp)
	}
}

// TestStatusPipeline: as Ci::CreateCommitStatusService, the fake puts a commit status into the newest
// pipeline of the commit (of ref when given, the one pipeline_id names when given), creates one for a
// commit without pipelines, and refuses a pipeline_id of another commit (404).
func TestStatusPipeline(t *testing.T) {
	const head, other = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	s := New(t)
	s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "dev", HeadSHA: head}, nil)
	older := s.AddPipeline("acme/shop", head, "feature")
	newer := s.AddPipeline("acme/shop", head, "refs/merge-requests/1/head")
	ofOther := s.AddPipeline("acme/shop", other, "main")
	post := func(sha, body string) (int, string) {
		t.Helper()
		code, _, b := call(t, s, "POST", "/projects/acme%2Fshop/statuses/"+sha, "PRIVATE-TOKEN: "+Token, body)
		return code, b
	}
	tests := []struct {
		name, sha, body string
		code            int
		into            int64 // the pipeline the status lands in; 0: a new one
	}{
		{"newest", head, `{"state":"pending","name":"a"}`, http.StatusCreated, newer},
		{"by ref", head, `{"state":"pending","name":"b","ref":"feature"}`, http.StatusCreated, older},
		{"by pipeline_id", head, fmt.Sprintf(`{"state":"pending","name":"c","pipeline_id":%d}`, older), http.StatusCreated, older},
		{"pipeline_id of another commit", head, fmt.Sprintf(`{"state":"pending","name":"d","pipeline_id":%d}`, ofOther), http.StatusNotFound, -1},
		{"no pipeline of the commit", "3333333333333333333333333333333333333333", `{"state":"success","name":"e"}`, http.StatusCreated, 0},
	}
	for _, tc := range tests {
		code, body := post(tc.sha, tc.body)
		if code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.code)
			continue
		}
		if code == http.StatusNotFound {
			if !strings.Contains(body, "404 Pipeline for pipeline_id, sha and ref Not Found") {
				t.Errorf("%s: %s, want GitLab's message", tc.name, body)
			}
			continue
		}
		var st struct {
			Pipeline int64 `json:"pipeline_id"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if pls := s.Pipelines("acme/shop", tc.sha); tc.into == 0 && (len(pls) != 1 || st.Pipeline != pls[0]) {
			t.Errorf("%s: status in pipeline %d, pipelines of the commit %v: want one created for it", tc.name, st.Pipeline, pls)
		} else if tc.into != 0 && st.Pipeline != tc.into {
			t.Errorf("%s: status in pipeline %d, want %d", tc.name, st.Pipeline, tc.into)
		}
	}
	if got := s.PipelineStatuses(ofOther); len(got) != 0 {
		t.Errorf("statuses of the other commit's pipeline %+v, want none", got)
	}
	// The state machine is per pipeline: pending again in another pipeline is a new status.
	if code, body := post(head, fmt.Sprintf(`{"state":"pending","name":"a","pipeline_id":%d}`, older)); code != http.StatusCreated {
		t.Errorf("pending in another pipeline: %d %s", code, body)
	}
	if code, body := post(head, `{"state":"pending","name":"a"}`); code != http.StatusBadRequest || !strings.Contains(body, "Cannot transition status via :enqueue from :pending") {
		t.Errorf("pending again in the same pipeline: %d %s, want 400", code, body)
	}
}
