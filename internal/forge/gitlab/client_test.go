package gitlab_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/forgetest"
	"github.com/schemagate/schemagate/internal/forge/gitlab"
	"github.com/schemagate/schemagate/internal/forge/gitlab/gitlabtest"
)

// sleeps records the waits a client asked for, returning at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func newClient(t *testing.T, srv *gitlabtest.Server, opts gitlab.Options) *gitlab.Client {
	t.Helper()
	opts.BaseURL = srv.URL()
	if opts.Token == "" && opts.JobToken == "" {
		opts.Token = gitlabtest.Token
	}
	if opts.Sleep == nil {
		opts.Sleep = (&sleeps{}).sleep
	}
	c, err := gitlab.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestConformance(t *testing.T) {
	forgetest.Run(t, func(t *testing.T) (forge.Forge, forgetest.Backend) {
		srv := gitlabtest.New(t)
		return newClient(t, srv, gitlab.Options{}), srv
	})
}

// TestConformanceWithRunCache: the gate's cache of comments and files behaves as the client it wraps.
func TestConformanceWithRunCache(t *testing.T) {
	forgetest.Run(t, func(t *testing.T) (forge.Forge, forgetest.Backend) {
		srv := gitlabtest.New(t)
		return forge.WithRunCache(newClient(t, srv, gitlab.Options{})), srv
	})
}

func newMR(srv *gitlabtest.Server, files ...string) (forge.Ref, forge.ChangeRequest) {
	cr := forge.ChangeRequest{
		Ref: forge.Ref{Repo: "acme/shop"}, Title: "Add orders.status", Author: "alice",
		HeadSHA: "1111111111111111111111111111111111111111",
		BaseSHA: "2222222222222222222222222222222222222222", BaseRef: "main",
	}
	ref := srv.AddChangeRequest(cr, files)
	cr.Ref = ref
	return ref, cr
}

func TestStickyNoteCreatedThenUpdated(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, _ := newMR(srv)
	srv.Expect("POST notes")
	srv.Expect("PUT note")
	ctx := t.Context()
	marker := "<!-- schemagate:report db/migrations -->"
	id, created, err := forge.Upsert(ctx, c, ref, marker, "## schemagate\n1 migration: safe")
	if err != nil || !created {
		t.Fatalf("first Upsert = %d, %v, %v; want created", id, created, err)
	}
	id2, created, err := forge.Upsert(ctx, c, ref, marker, "## schemagate\n1 migration: dangerous")
	if err != nil || created || id2 != id {
		t.Fatalf("second Upsert = %d, %v, %v; want an update of %d", id2, created, err, id)
	}
	var ours []forge.Comment
	for _, n := range srv.Comments(ref) {
		if strings.Contains(n.Body, marker) {
			ours = append(ours, n)
		}
	}
	if len(ours) != 1 || !strings.Contains(ours[0].Body, "dangerous") {
		t.Fatalf("notes holding the marker = %+v, want exactly one, updated", ours)
	}
}

func TestStickyMarkerOnLaterPage(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, _ := newMR(srv)
	ctx := t.Context()
	marker := "<!-- schemagate:report db -->"
	// Thirty notes first, one of them forging the marker, and an approval as a system note: with pages
	// of 4 our note lands on the ninth page, after the forged one.
	for i := range 30 {
		body := "looks good"
		if i == 5 {
			body = marker + "\nforged by the author"
		}
		srv.AddComment(ref, "alice", body)
	}
	srv.AddReview(ref, forge.Review{Author: "dora", State: "APPROVED"})
	ours, created, err := forge.Upsert(ctx, c, ref, marker, "v1")
	if err != nil || !created {
		t.Fatalf("first Upsert = %d, %v, %v; want a new note next to the forged one", ours, created, err)
	}
	srv.SetPageSize(4)
	id, created, err := forge.Upsert(ctx, c, ref, marker, "v2")
	if err != nil || created || id != ours {
		t.Fatalf("Upsert over 8 pages = %d, %v, %v; want an update of %d on the last page", id, created, err, ours)
	}
	pages := 0
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r, "GET /api/v4/projects/acme%2Fshop/merge_requests/1/notes") {
			if !strings.Contains(r, "sort=asc") || !strings.Contains(r, "order_by=created_at") {
				t.Errorf("notes listed without an explicit ascending order: %s", r)
			}
			if strings.Contains(r, "per_page=100") && strings.Contains(r, "page=8") {
				pages++
			}
		}
	}
	if pages != 1 {
		t.Errorf("requests %q: want page 8 read once", srv.Requests())
	}
	n := 0
	for _, cm := range srv.Comments(ref) {
		if cm.ID == ours && cm.Body != "v2\n\n"+marker {
			t.Errorf("our note = %q, want v2 and the marker", cm.Body)
		}
		if cm.Author == "alice" && strings.Contains(cm.Body, marker) && !strings.Contains(cm.Body, "forged") {
			t.Errorf("the author's forged note was overwritten: %q", cm.Body)
		}
		if strings.Contains(cm.Body, marker) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("notes holding the marker = %d, want 2 (the forged one and ours)", n)
	}
}

func TestInsufficientToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts gitlab.Options
	}{
		{"job token", gitlab.Options{JobToken: gitlabtest.JobToken}},
		{"wrong token", gitlab.Options{Token: "glpat-revoked"}},
		{"read-only role", gitlab.Options{Token: gitlabtest.Token}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gitlabtest.New(t)
			if tt.name == "read-only role" {
				srv.SetReadOnly(true)
			}
			c := newClient(t, srv, tt.opts)
			ref, cr := newMR(srv)
			ctx := t.Context()
			_, err := c.CreateComment(ctx, ref, "report")
			if !errors.Is(err, forge.ErrReadOnly) {
				t.Fatalf("CreateComment: err = %v, want ErrReadOnly", err)
			}
			if !strings.Contains(err.Error(), "GITLAB_TOKEN") || !strings.Contains(err.Error(), "`api` scope") {
				t.Errorf("error %q does not name the fix (an access token with api scope in GITLAB_TOKEN)", err)
			}
			var ae *gitlab.APIError
			if !errors.As(err, &ae) || ae.Hint() == "" || (ae.Status != http.StatusForbidden && ae.Status != http.StatusUnauthorized) {
				t.Errorf("error %v: want an APIError with a hint and status 401/403", err)
			}
			if err := c.SetStatus(ctx, "acme/shop", cr.HeadSHA, forge.Status{Context: "schemagate", State: "pending"}); !errors.Is(err, forge.ErrReadOnly) {
				t.Errorf("SetStatus: err = %v, want ErrReadOnly", err)
			}
			_, _, err = forge.Upsert(ctx, c, ref, "<!-- m -->", "report")
			if !errors.Is(err, forge.ErrReadOnly) || !strings.Contains(err.Error(), "GITLAB_TOKEN") {
				t.Errorf("Upsert: err = %v, want ErrReadOnly naming GITLAB_TOKEN", err)
			}
			if n := len(srv.Comments(ref)); n != 0 {
				t.Errorf("notes after refused writes = %d, want 0", n)
			}
		})
	}
}

func TestJobTokenReadsNotes(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{JobToken: gitlabtest.JobToken})
	ref, _ := newMR(srv, "db/001.sql")
	srv.AddComment(ref, "alice", "hello")
	got, err := c.Comments(t.Context(), ref)
	if err != nil || len(got) != 1 || got[0].Body != "hello" {
		t.Fatalf("Comments with CI_JOB_TOKEN = %+v, %v; want the one note", got, err)
	}
	if _, err := c.Me(t.Context()); !errors.Is(err, forge.ErrReadOnly) {
		t.Errorf("Me with CI_JOB_TOKEN: err = %v, want ErrReadOnly", err)
	}
	if slices.ContainsFunc(srv.Requests(), func(r string) bool { return strings.HasPrefix(r, "GET /api/v4/user") }) {
		t.Errorf("Me with CI_JOB_TOKEN asked GitLab: %q", srv.Requests())
	}
}

func TestQuickActionInjectionInert(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, _ := newMR(srv)
	// A report quoting migration names, SQL and errors the merge request's author wrote.
	body := strings.Join([]string{
		"## schemagate: 3 migrations",
		"/merge",
		"/approve",
		" /label ~safe",
		"\t/assign_reviewer @mallory",
		"Migration `003_x.sql`:",
		"```sql",
		"SELECT 1;",
		"```",
		"/approve",
		"```",
		">>>",
		"/approve",
		">>>",
		"<details>",
		"/unapprove",
		"</details>",
		"  ```",
		"/merge",
		"  ```",
		"text\r/approve\r\n/close",
	}, "\n")
	if _, err := c.CreateComment(t.Context(), ref, body); err != nil {
		t.Fatal(err)
	}
	if got := srv.QuickActions(); len(got) != 0 {
		t.Errorf("quick actions run by our note: %q", got)
	}
	for _, r := range srv.Comments(ref) {
		if !strings.Contains(r.Body, "/merge") || !strings.Contains(r.Body, "/approve") {
			t.Errorf("stored note lost the quoted text: %q", r.Body)
		}
	}
	// The fake must run the same text when it is not sanitised, or this test proves nothing.
	if n := countActions(t, srv, ref, body); n == 0 {
		t.Fatal("the fake ran no quick action of the unsanitised body: the check above cannot fail")
	}
}

// countActions posts body unsanitised, straight to the fake, and returns the quick actions it ran.
func countActions(t *testing.T, srv *gitlabtest.Server, ref forge.Ref, body string) int {
	t.Helper()
	before := len(srv.QuickActions())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		srv.URL()+"/projects/acme%2Fshop/merge_requests/1/notes", strings.NewReader(`{"body":`+jsonString(body)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("PRIVATE-TOKEN", gitlabtest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("raw note: status %d", resp.StatusCode)
	}
	return len(srv.QuickActions()) - before
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestApprovalRules(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, _ := newMR(srv, "db/migrations/003_orders.sql")
	srv.SetApprovalRules(ref, []gitlabtest.Rule{
		{Name: "/db/", Type: "code_owner", Section: "Database", Required: 1, Eligible: []string{"dora", "dan"}, ApprovedBy: []string{"dora"}, Groups: []string{"acme/dba"}},
		{Name: "/db/migrations/", Type: "code_owner", Section: "Security", Required: 1, Eligible: []string{"sam"}},
		{Name: "*.sql", Type: "code_owner", Section: "Docs", Required: 0, Eligible: []string{"walt"}},
		{Name: "All Members", Type: "any_approver", Required: 1, ApprovedBy: []string{"dora"}},
	})
	srv.Expect("GET approval_state")
	rules, err := c.ApprovalRules(t.Context(), ref)
	if err != nil {
		t.Fatalf("ApprovalRules: %v", err)
	}
	want := []gitlab.ApprovalRule{
		{Name: "/db/", Type: "code_owner", Section: "Database", Required: 1, Approved: true, ApprovedBy: []string{"dora"}, Eligible: []string{"dora", "dan"}, Groups: []string{"acme/dba"}},
		{Name: "/db/migrations/", Type: "code_owner", Section: "Security", Required: 1, Approved: false, Eligible: []string{"sam"}},
		{Name: "*.sql", Type: "code_owner", Section: "Docs", Required: 0, Approved: true, Eligible: []string{"walt"}},
		{Name: "All Members", Type: "any_approver", Required: 1, Approved: true, ApprovedBy: []string{"dora"}},
	}
	if len(rules) != len(want) {
		t.Fatalf("ApprovalRules = %+v, want %d rules", rules, len(want))
	}
	for i := range want {
		g, w := rules[i], want[i]
		if g.Name != w.Name || g.Type != w.Type || g.Section != w.Section || g.Required != w.Required || g.Approved != w.Approved ||
			!slices.Equal(g.ApprovedBy, w.ApprovedBy) || !slices.Equal(g.Eligible, w.Eligible) || !slices.Equal(g.Groups, w.Groups) {
			t.Errorf("rule %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestApprovalRulesUnavailable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		want   error
	}{{http.StatusNotFound, forge.ErrNotFound}, {http.StatusForbidden, forge.ErrForbidden}} {
		srv := gitlabtest.New(t)
		c := newClient(t, srv, gitlab.Options{})
		ref, _ := newMR(srv)
		srv.SetApprovalRulesUnavailable(ref, tc.status)
		_, err := c.ApprovalRules(t.Context(), ref)
		if !errors.Is(err, tc.want) {
			t.Errorf("ApprovalRules on a tier answering %d: err = %v, want %v", tc.status, err, tc.want)
		}
	}
}

func TestReviewsResetOnPush(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, cr := newMR(srv)
	srv.AddReview(ref, forge.Review{Author: "dora", State: "APPROVED"})
	srv.ResetApprovals(ref)
	got, err := c.Reviews(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].State != "APPROVED" || got[1].State != "DISMISSED" || got[1].Author != "dora" || got[1].CommitSHA != cr.HeadSHA {
		t.Errorf("Reviews after an approval reset by a push = %+v, want dora APPROVED then DISMISSED", got)
	}
}

func TestCodeownersReadFromTargetBranch(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	// The merge request rewrites CODEOWNERS to make its author the owner of the migrations.
	ref, cr := newMR(srv, "db/migrations/004_drop.sql", ".gitlab/CODEOWNERS")
	srv.SetFile("acme/shop", ".gitlab/CODEOWNERS", "main", []byte("[Database]\n/db/ @acme/dba\n"))
	srv.SetFile("acme/shop", ".gitlab/CODEOWNERS", cr.HeadSHA, []byte("[Database]\n/db/ @alice\n"))
	ctx := t.Context()
	got, err := c.ChangeRequest(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.ChangedFiles(ctx, ref)
	if err != nil || !slices.Contains(files, ".gitlab/CODEOWNERS") {
		t.Fatalf("ChangedFiles = %q, %v; want CODEOWNERS among them", files, err)
	}
	owners, err := c.FileAt(ctx, "acme/shop", ".gitlab/CODEOWNERS", got.BaseRef)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(owners), "@acme/dba") {
		t.Errorf("CODEOWNERS at the target branch %q = %q, want the target branch's owners", got.BaseRef, owners)
	}
	want := "GET /api/v4/projects/acme%2Fshop/repository/files/%2Egitlab%2FCODEOWNERS/raw?ref=main"
	if !slices.Contains(srv.Requests(), want) {
		t.Errorf("requests %q, want %s", srv.Requests(), want)
	}
}

// TestFilesSayWhereARenamedFileWas: GitLab's diffs give a renamed file's old_path beside its new_path
// (renamed_file); Files keeps it as PreviousPath, for a migration renamed out of its folder is one the
// folder lost, and a deleted file is listed at its path.
func TestFilesSayWhereARenamedFileWas(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, _ := newMR(srv, "attic/1_init.up.sql\x00db/migrations/1_init.up.sql", "-db/migrations/1_init.down.sql", "db/migrations/2_x.up.sql")
	got, err := c.Files(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	want := []forge.ChangedFile{
		{Path: "attic/1_init.up.sql", Status: "renamed", PreviousPath: "db/migrations/1_init.up.sql"},
		{Path: "db/migrations/1_init.down.sql", Status: "removed"},
		{Path: "db/migrations/2_x.up.sql", Status: "added"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Files = %+v, want %+v", got, want)
	}
}

func TestFindMergedChangeRequest(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, _ := newMR(srv)
	merge := "9999999999999999999999999999999999999999"
	srv.Merge(ref, merge)
	got, err := c.FindChangeRequestBySHA(t.Context(), "acme/shop", merge)
	if err != nil {
		t.Fatalf("FindChangeRequestBySHA of a merge commit: %v", err)
	}
	if got.Ref != ref || !got.Merged || got.State != "merged" || got.BaseSHA == "" {
		t.Errorf("FindChangeRequestBySHA = %+v, want merged %+v with its base SHA", *got, ref)
	}
}

func TestRateLimitWaitsAsAsked(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	sl := &sleeps{}
	c := newClient(t, srv, gitlab.Options{Sleep: sl.sleep})
	ref, _ := newMR(srv)
	srv.RateLimitNext(2)
	if _, err := c.Comments(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sl.d, []time.Duration{time.Second, time.Second}) {
		t.Errorf("waits = %v, want Retry-After's 1s twice", sl.d)
	}
}

func TestRateLimitHonoursContext(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	// The real sleep: the fake asks for 1 s, the context ends first.
	c, err := gitlab.New(gitlab.Options{BaseURL: srv.URL(), Token: gitlabtest.Token})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := newMR(srv)
	srv.RateLimitNext(1)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = c.Comments(ctx, ref)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Comments whose context ends during a rate-limit wait: err = %v, want context.DeadlineExceeded", err)
	}
}

func TestNoteTooLong(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, _ := newMR(srv)
	_, err := c.CreateComment(t.Context(), ref, strings.Repeat("é", gitlab.MaxNoteLength+1))
	if err == nil || !strings.Contains(err.Error(), "at most 1000000") {
		t.Errorf("CreateComment of an overlong note: err = %v, want the limit named", err)
	}
	// The fake refuses what GitLab refuses (gitlabtest's TestNoteLength): the cap is not above GitLab's.
	id, err := c.CreateComment(t.Context(), ref, strings.Repeat("é", gitlab.MaxNoteLength))
	if err != nil {
		t.Fatalf("CreateComment of a note at the limit: %v", err)
	}
	if err := c.UpdateComment(t.Context(), ref, id, strings.Repeat("a", gitlab.MaxNoteLength)); err != nil {
		t.Errorf("UpdateComment to a note at the limit: %v", err)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"gitlab.example.com/api/v4", "ftp://x/api/v4", "://"} {
		if _, err := gitlab.New(gitlab.Options{BaseURL: u}); err == nil || !strings.Contains(err.Error(), "CI_API_V4_URL") {
			t.Errorf("New(%q): err = %v, want a parse error naming CI_API_V4_URL", u, err)
		}
	}
}

func TestIsMemberAwaitingSeat(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	srv.AddTeamMember("acme/dba", "dora")
	srv.AddAwaitingMember("acme/dba", "dan")
	for user, want := range map[string]bool{"dora": true, "dan": false, "do": false} {
		got, err := c.IsMember(t.Context(), "acme/dba", user)
		if err != nil || got != want {
			t.Errorf("IsMember(acme/dba, %s) = %v, %v; want %v", user, got, err, want)
		}
	}
	// GitLab's code owners are a group's direct members: one of the parent group is not.
	srv.AddTeamMember("acme", "mallory")
	if got, err := c.IsMember(t.Context(), "acme/dba", "mallory"); err != nil || got {
		t.Errorf("IsMember(acme/dba, mallory of the parent group) = %v, %v; want false", got, err)
	}
	// A one-segment name that is no group is most often a user: not found, not forbidden.
	if _, err := c.IsMember(t.Context(), "dora", "bob"); !errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrForbidden) {
		t.Errorf("IsMember(dora, bob) with no group dora: err = %v, want ErrNotFound", err)
	}
	_, err := c.IsMember(t.Context(), "acme/hidden", "dora")
	var ae *gitlab.APIError
	if !errors.Is(err, forge.ErrForbidden) || !errors.As(err, &ae) || !strings.Contains(ae.Hint(), "cannot see it") {
		t.Errorf("IsMember of a group the token cannot see: err = %v, want ErrForbidden with a hint", err)
	}
}

// TestMergedChangeRequestOfADeploy: GET /repository/commits/M/merge_requests lists every merge request
// that holds M: the one merged as M, an open one whose head is M (a branch cut at M), one merged into
// another branch. A deploy of M on main ships only the first, found by its merge or squash commit.
func TestMergedChangeRequestOfADeploy(t *testing.T) {
	t.Parallel()
	const m = "9999999999999999999999999999999999999999"
	for _, squash := range []bool{false, true} {
		srv := gitlabtest.New(t)
		c := newClient(t, srv, gitlab.Options{})
		merged, _ := newMR(srv)
		srv.MergeInto(merged, "main", m, squash)
		open := srv.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "mallory", HeadSHA: m,
			BaseSHA: m, BaseRef: "evil-target"}, []string{"db/migrations/4_x.up.sql"})
		elsewhere := srv.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "mallory", HeadSHA: m,
			BaseSHA: m, BaseRef: "evil-target"}, nil)
		srv.MergeInto(elsewhere, "evil-target", "8888888888888888888888888888888888888888", false)
		_ = open
		got, err := c.MergedChangeRequest(t.Context(), "acme/shop", m, "main")
		if err != nil || got.Ref != merged || !got.Merged || got.BaseRef != "main" {
			t.Errorf("squash %v: MergedChangeRequest(M, main) = %+v, %v; want merged %+v", squash, got, err, merged)
		}
		if got, err := c.MergedChangeRequest(t.Context(), "acme/shop", m, "release"); !errors.Is(err, forge.ErrNotFound) {
			t.Errorf("squash %v: MergedChangeRequest(M, release) = %+v, %v; want ErrNotFound", squash, got, err)
		}
	}
}

// TestMergedChangeRequestOnALaterPage: GitLab lists the merge requests holding a commit 20 a page, newest
// first; the one merged as M, older than 25 branches cut at M since, is on the second page, and is
// found there (by the deploy, and by the comment of a merged change).
func TestMergedChangeRequestOnALaterPage(t *testing.T) {
	t.Parallel()
	const m = "9999999999999999999999999999999999999999"
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	merged, _ := newMR(srv)
	srv.MergeInto(merged, "main", m, false)
	for range 25 {
		srv.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "mallory", HeadSHA: m,
			BaseSHA: m, BaseRef: "main"}, nil)
	}
	got, err := c.MergedChangeRequest(t.Context(), "acme/shop", m, "main")
	if err != nil || got.Ref != merged {
		t.Errorf("MergedChangeRequest(M, main) = %+v, %v; want merged %+v", got, err, merged)
	}
}

// TestIsMemberOfAPrivateTopLevelGroup: GitLab answers 404 for the members of a group the token cannot
// see; for a one-segment name that is not a user, that is a group the gate cannot read, not a user.
func TestIsMemberOfAPrivateTopLevelGroup(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	srv.AddUser("dora")
	if _, err := c.IsMember(t.Context(), "dora", "bob"); !errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrForbidden) {
		t.Errorf("IsMember(dora, bob), dora a user: err = %v, want ErrNotFound", err)
	}
	_, err := c.IsMember(t.Context(), "dba-group", "dora")
	var ae *gitlab.APIError
	if !errors.Is(err, forge.ErrForbidden) || !errors.As(err, &ae) || !strings.Contains(ae.Hint(), "cannot see it") {
		t.Errorf("IsMember(dba-group, dora), no such user: err = %v, want ErrForbidden with a hint", err)
	}
}

// TestSetStatusAlreadyPending: GitLab refuses to move a status from pending to pending (a re-run of a
// gate still waiting); the status is as asked, so that is no error.
func TestSetStatusAlreadyPending(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	_, cr := newMR(srv)
	st := forge.Status{Context: "schemagate/dba-approval", State: "pending", Description: "waiting"}
	for i := range 2 {
		if err := c.SetStatus(t.Context(), "acme/shop", cr.HeadSHA, st); err != nil {
			t.Errorf("SetStatus pending #%d: %v", i+1, err)
		}
	}
	st.State = "success"
	if err := c.SetStatus(t.Context(), "acme/shop", cr.HeadSHA, st); err != nil {
		t.Errorf("SetStatus success after pending: %v", err)
	}
	if got := srv.Statuses("acme/shop", cr.HeadSHA); len(got) != 2 || got[1].State != "success" {
		t.Errorf("statuses = %+v, want pending then success", got)
	}
}

// TestSetStatusGoesIntoTheJobsPipeline: a commit with several pipelines (two merge requests from one
// branch, a branch pipeline) gets a status without pipeline_id in the newest. A job of the older one
// puts a status on its own commit into its own pipeline; a status on another commit (the merge request's
// head from a merged results pipeline, whose commit is the temporary merge) or in another project (a
// fork's pipeline) carries no pipeline_id, which GitLab would refuse there, and lands in the newest.
func TestSetStatusGoesIntoTheJobsPipeline(t *testing.T) {
	t.Parallel()
	const merge = "3333333333333333333333333333333333333333"
	tests := []struct {
		name string
		// pipeline makes the client's pipeline from the job's (older), the newer one of the head and a
		// pipeline of the merge commit and of the fork.
		pipeline  func(older, mergePL, forkPL int64, head string) gitlab.Pipeline
		wantOlder bool // the status lands in the older pipeline, else the newer
	}{
		{name: "the job's own commit", wantOlder: true, pipeline: func(older, _, _ int64, head string) gitlab.Pipeline {
			return gitlab.Pipeline{ID: older, Project: "acme/shop", SHA: head}
		}},
		{name: "the project named in another case", wantOlder: true, pipeline: func(older, _, _ int64, head string) gitlab.Pipeline {
			return gitlab.Pipeline{ID: older, Project: "Acme/Shop", SHA: head}
		}},
		{name: "outside a pipeline", pipeline: func(int64, int64, int64, string) gitlab.Pipeline { return gitlab.Pipeline{} }},
		{name: "merged results pipeline", pipeline: func(_, mergePL, _ int64, _ string) gitlab.Pipeline {
			return gitlab.Pipeline{ID: mergePL, Project: "acme/shop", SHA: merge}
		}},
		{name: "a fork's pipeline", pipeline: func(_, _, forkPL int64, head string) gitlab.Pipeline {
			return gitlab.Pipeline{ID: forkPL, Project: "dev/shop", SHA: head}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := gitlabtest.New(t)
			_, cr := newMR(srv)
			older := srv.AddPipeline("acme/shop", cr.HeadSHA, "refs/merge-requests/1/head")
			newer := srv.AddPipeline("acme/shop", cr.HeadSHA, "refs/merge-requests/2/head")
			mergePL := srv.AddPipeline("acme/shop", merge, "refs/merge-requests/1/merge")
			forkPL := srv.AddPipeline("dev/shop", cr.HeadSHA, "feature")
			c := newClient(t, srv, gitlab.Options{Pipeline: tc.pipeline(older, mergePL, forkPL, cr.HeadSHA)})
			sts := []forge.Status{
				{Context: "schemagate/dba-approval", State: "pending", Description: "waiting"},
				{Context: "schemagate/dba-approval", State: "pending", Description: "waiting"}, // a re-run: left as it is
				{Context: "schemagate/dba-approval", State: "success", Description: "approved by dora"},
			}
			for _, st := range sts {
				if err := c.SetStatus(t.Context(), "acme/shop", cr.HeadSHA, st); err != nil {
					t.Fatalf("SetStatus %s: %v", st.State, err)
				}
			}
			in, notIn := newer, older
			if tc.wantOlder {
				in, notIn = older, newer
			}
			if got, want := srv.PipelineStatuses(in), []forge.Status{sts[0], sts[2]}; !slices.Equal(got, want) {
				t.Errorf("statuses of pipeline %d = %+v, want %+v", in, got, want)
			}
			for _, id := range []int64{notIn, mergePL, forkPL} {
				if got := srv.PipelineStatuses(id); len(got) != 0 {
					t.Errorf("statuses of pipeline %d = %+v, want none", id, got)
				}
			}
			if got := srv.Pipelines("acme/shop", cr.HeadSHA); !slices.Equal(got, []int64{older, newer}) {
				t.Errorf("pipelines of the head %v, want %v: none created for the status", got, []int64{older, newer})
			}
		})
	}
}

// TestErrorsNameTheProjectAndTheToken: a project the token cannot see answers 404; the error says so
// and names the project, once. A token GitLab refuses gets one hint naming that token.
func TestErrorsNameTheProjectAndTheToken(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	newMR(srv)
	_, err := c.ChangeRequest(t.Context(), forge.Ref{Repo: "acme/private", Number: 7})
	if !errors.Is(err, forge.ErrNotFound) {
		t.Fatalf("ChangeRequest of a hidden project: err = %v, want ErrNotFound", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "404 404") || strings.Contains(msg, ": not found") || !strings.Contains(msg, "acme/private") || !strings.Contains(msg, "cannot see") {
		t.Errorf("error %q: want the status said once, the project and that GitLab answers 404 for projects the token cannot see", msg)
	}
	revoked := newClient(t, srv, gitlab.Options{Token: "glpat-revoked"})
	_, err = revoked.CreateComment(t.Context(), forge.Ref{Repo: "acme/shop", Number: 1}, "x")
	if msg := err.Error(); strings.Contains(msg, "CI_JOB_TOKEN") || strings.Count(msg, "GITLAB_TOKEN") != 2 || !strings.Contains(msg, "expired") {
		t.Errorf("error with a revoked GITLAB_TOKEN %q: want one hint about GITLAB_TOKEN being expired, no word of CI_JOB_TOKEN", msg)
	}
}

// TestGatewayErrorsOnReadsAreRetried: a read GitLab's proxy answers 502 or 503 is sent again after a
// pause; a write is not (GitLab may have made the note), and its error says what GitLab answered.
func TestGatewayErrorsOnReadsAreRetried(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	sl := &sleeps{}
	c := newClient(t, srv, gitlab.Options{Sleep: sl.sleep})
	ref, _ := newMR(srv)
	srv.FailNext(2, http.StatusBadGateway)
	if _, err := c.Comments(t.Context(), ref); err != nil {
		t.Fatalf("Comments after two 502s: %v", err)
	}
	if len(sl.d) != 2 {
		t.Errorf("pauses %v, want two", sl.d)
	}
	before := len(srv.Requests())
	srv.FailNext(1, http.StatusServiceUnavailable)
	if _, err := c.CreateComment(t.Context(), ref, "report"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("CreateComment answered 503: err = %v, want it named", err)
	}
	if n := len(srv.Requests()) - before; n != 1 {
		t.Errorf("%d requests for one note answered 503, want 1 (no resend)", n)
	}
}

// TestFilesBeyondTheDiffLimits: GitLab's diffs list no more files than its diff limits allow, and the
// merge request then counts its changes as "N+". Files, which the gate checks a report against, and
// ChangedFiles, whose owners the gate asks for, must not pass off such a list as whole.
func TestFilesBeyondTheDiffLimits(t *testing.T) {
	t.Parallel()
	srv := gitlabtest.New(t)
	c := newClient(t, srv, gitlab.Options{})
	ref, _ := newMR(srv, "db/migrations/1_a.up.sql", "db/migrations/2_b.up.sql", "db/migrations/3_c.up.sql")
	srv.SetDiffLimit(2)
	_, err := c.Files(t.Context(), ref)
	if err == nil || !strings.Contains(err.Error(), "more files than GitLab's diff limits list (2+)") {
		t.Errorf("Files beyond the diff limits: err = %v, want one saying GitLab lists only some of them", err)
	}
	if got, err := c.ChangedFiles(t.Context(), ref); !errors.Is(err, forge.ErrIncomplete) {
		t.Errorf("ChangedFiles beyond the diff limits = %q, %v, want ErrIncomplete", got, err)
	}
	srv.SetDiffLimit(0)
	if fs, err := c.Files(t.Context(), ref); err != nil || len(fs) != 3 {
		t.Errorf("Files within the limits = %+v, %v, want the three files", fs, err)
	}
	// GitLab's default limit: 1000 files.
	many := make([]string, gitlabtest.DefaultDiffLimit+1)
	for i := range many {
		many[i] = fmt.Sprintf("src/f%04d.rb", i)
	}
	big, _ := newMR(srv, many...)
	if _, err := c.Files(t.Context(), big); !errors.Is(err, forge.ErrIncomplete) || !strings.Contains(err.Error(), "(1000+)") {
		t.Errorf("Files of %d files under GitLab's default limits: err = %v, want ErrIncomplete (1000+)", len(many), err)
	}
}
