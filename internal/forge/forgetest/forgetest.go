// Package forgetest is the conformance suite every forge.Forge implementation passes: one set of
// behaviours (pagination, error mapping, read-only tokens, rate limits, sticky comments) checked the
// same way against the GitHub and the GitLab httptest fakes.
//
// To run it for a platform:
//
//  1. Write an httptest fake of the platform's REST API that answers with the real payload shapes.
//  2. Make it satisfy Backend, the platform-neutral controls the suite drives it through.
//  3. Call Run from a test with a constructor that returns a fresh fake and a Forge pointed at it
//     whose retry sleep returns at once (the suite rate-limits requests on purpose).
package forgetest

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
)

// Backend is a platform's httptest fake seen through platform-neutral controls.
type Backend interface {
	// AddChangeRequest stores an open change request with its changed files and returns its ref: each
	// file is one it adds, or, written "-path", one it removes. cr.Repo must be set; a zero cr.Number is
	// assigned by the backend.
	AddChangeRequest(cr forge.ChangeRequest, files []string) forge.Ref
	// AddComment adds a comment by author and returns its ID.
	AddComment(ref forge.Ref, author, body string) int64
	// AddReview appends a review decision (GitLab: an approval when State is APPROVED, a revoked
	// approval when DISMISSED, a reviewer's "Request changes" when CHANGES_REQUESTED).
	AddReview(ref forge.Ref, r forge.Review)
	// Push moves the change request's head to sha, as a push at time at does; the platform keeps the
	// approvals given before it.
	Push(ref forge.Ref, sha string, at time.Time)
	// SetFile stores a file's content at a ref (branch name or SHA).
	SetFile(repo, path, ref string, content []byte)
	// AddCommit appends a commit changing files to the repository's history, kept linear (newest last);
	// when of names a change request, the commit is one of its own.
	AddCommit(repo, sha string, files []string, of forge.Ref)
	// MergeInto merges the change request into branch as mergeSHA (its merge commit, or with squash its
	// squash commit).
	MergeInto(ref forge.Ref, branch, mergeSHA string, squash bool)
	// AddTeamMember makes user an active member of team ("org/team" on GitHub, group path on GitLab).
	AddTeamMember(team, user string)
	// SetMembershipForbidden makes membership reads fail the way the platform refuses a token that
	// may not read them.
	SetMembershipForbidden(forbidden bool)
	// SetReadOnly makes every write fail the way the platform refuses a read-only token.
	SetReadOnly(readOnly bool)
	// SetPageSize caps the number of items per page of every list endpoint.
	SetPageSize(n int)
	// SetFileLimit makes the change request's files list no more than n files, as the platform's own
	// cap does (GitHub: 3000; GitLab: its diff limits), the change request still counting them all;
	// 0 restores the platform's default.
	SetFileLimit(n int)
	// RateLimitNext makes the next n requests answer rate-limited with Retry-After: 1.
	RateLimitNext(n int)
	// BotLogin is the login of the token's user.
	BotLogin() string
	// Comments returns the change request's comments as stored, oldest first.
	Comments(ref forge.Ref) []forge.Comment
	// Statuses returns the commit statuses set on sha, oldest first.
	Statuses(repo, sha string) []forge.Status
}

// Run runs the conformance suite. newForge returns a fresh backend and a Forge talking to it; the
// Forge's retry sleep must return at once.
func Run(t *testing.T, newForge func(t *testing.T) (forge.Forge, Backend)) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, f forge.Forge, b Backend)
	}{
		{"ChangeRequest", testChangeRequest},
		{"ChangeRequestNotFound", testChangeRequestNotFound},
		{"FindChangeRequestBySHA", testFindBySHA},
		{"Me", testMe},
		{"CommentsPaginated", testCommentsPaginated},
		{"CreateAndUpdateComment", testCreateUpdateComment},
		{"UpdateMissingComment", testUpdateMissingComment},
		{"CommentAtTheLimit", testCommentLimit},
		{"ReviewsPaginatedInOrder", testReviews},
		{"ReviewsCarryTheCommitTheyApproved", testReviewsAcrossPushes},
		{"ReviewsChangesRequested", testReviewsChangesRequested},
		{"ChangedFilesPaginated", testChangedFiles},
		{"FilesPaginated", testFiles},
		{"FilesBeyondTheForgesLimit", testFilesIncomplete},
		{"FileAt", testFileAt},
		{"FileAtOver1MB", testFileAtLarge},
		{"ChangeRequestOfFile", testChangeRequestOfFile},
		{"ChangeRequestOfFileOnAnotherBranch", testChangeRequestOfFileOtherBranch},
		{"IsMember", testIsMember},
		{"IsMemberForbidden", testIsMemberForbidden},
		{"IsMemberOnALaterPage", testIsMemberPaginated},
		{"SetStatus", testSetStatus},
		{"ReadOnly", testReadOnly},
		{"RateLimitRetried", testRateLimit},
		{"RateLimitBounded", testRateLimitBounded},
		{"UpsertCreatesThenUpdates", testUpsert},
		{"UpsertIgnoresForgedMarker", testUpsertForged},
		{"UpsertKeepsMarkersApart", testUpsertMarkers},
		{"UpsertUpdatesTheOldMarker", testUpsertOldMarker},
		{"UpsertReadOnly", testUpsertReadOnly},
		{"UpsertFindsItOnALaterPage", testUpsertLaterPage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, b := newForge(t)
			tt.fn(t, f, b)
		})
	}
}

func newCR(b Backend, files ...string) (forge.Ref, forge.ChangeRequest) {
	cr := forge.ChangeRequest{
		Ref:     forge.Ref{Repo: "acme/shop"},
		Title:   "Add orders.status",
		Author:  "alice",
		HeadSHA: "1111111111111111111111111111111111111111",
		BaseSHA: "2222222222222222222222222222222222222222",
		BaseRef: "main",
	}
	ref := b.AddChangeRequest(cr, files)
	cr.Ref = ref
	return ref, cr
}

func testChangeRequest(t *testing.T, f forge.Forge, b Backend) {
	ref, want := newCR(b, "db/migrations/001_init.up.sql")
	got, err := f.ChangeRequest(t.Context(), ref)
	if err != nil {
		t.Fatalf("ChangeRequest: %v", err)
	}
	if got.Ref != ref || got.Title != want.Title || got.Author != want.Author ||
		got.HeadSHA != want.HeadSHA || got.BaseSHA != want.BaseSHA || got.BaseRef != want.BaseRef {
		t.Errorf("ChangeRequest = %+v, want %+v", *got, want)
	}
	if got.State == "" {
		t.Errorf("ChangeRequest state is empty")
	}
	if got.Merged || got.Fork {
		t.Errorf("ChangeRequest merged=%v fork=%v, want false", got.Merged, got.Fork)
	}
}

func testChangeRequestNotFound(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	ref.Number += 1000
	_, err := f.ChangeRequest(t.Context(), ref)
	if !errors.Is(err, forge.ErrNotFound) {
		t.Fatalf("ChangeRequest of a missing number: err = %v, want ErrNotFound", err)
	}
}

func testFindBySHA(t *testing.T, f forge.Forge, b Backend) {
	newCR(b)
	cr := forge.ChangeRequest{
		Ref: forge.Ref{Repo: "acme/shop"}, Title: "Second", Author: "bob",
		HeadSHA: "3333333333333333333333333333333333333333",
		BaseSHA: "2222222222222222222222222222222222222222", BaseRef: "main",
	}
	ref := b.AddChangeRequest(cr, nil)
	got, err := f.FindChangeRequestBySHA(t.Context(), "acme/shop", cr.HeadSHA)
	if err != nil {
		t.Fatalf("FindChangeRequestBySHA: %v", err)
	}
	if got.Ref != ref || got.Author != "bob" {
		t.Errorf("FindChangeRequestBySHA = %+v, want ref %+v by bob", *got, ref)
	}
	_, err = f.FindChangeRequestBySHA(t.Context(), "acme/shop", "4444444444444444444444444444444444444444")
	if !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("FindChangeRequestBySHA of an unknown SHA: err = %v, want ErrNotFound", err)
	}
}

func testMe(t *testing.T, f forge.Forge, b Backend) {
	me, err := f.Me(t.Context())
	if err != nil {
		t.Fatalf("Me: %v", err)
	}
	if me != b.BotLogin() {
		t.Errorf("Me = %q, want %q", me, b.BotLogin())
	}
}

func testCommentsPaginated(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	b.SetPageSize(2)
	var want []forge.Comment
	for i := range 5 {
		author := "alice"
		if i%2 == 1 {
			author = "bob"
		}
		body := fmt.Sprintf("comment %d\nline two", i)
		id := b.AddComment(ref, author, body)
		want = append(want, forge.Comment{ID: id, Author: author, Body: body})
	}
	got, err := f.Comments(t.Context(), ref)
	if err != nil {
		t.Fatalf("Comments: %v", err)
	}
	var user []forge.Comment
	for _, c := range got {
		if !c.System {
			user = append(user, c)
		}
	}
	if !slices.Equal(user, want) {
		t.Errorf("Comments over pages of 2 =\n%+v\nwant\n%+v", user, want)
	}
}

func testCreateUpdateComment(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	ctx := t.Context()
	id, err := f.CreateComment(ctx, ref, "first body")
	if err != nil {
		t.Fatalf("CreateComment: %v", err)
	}
	if err := f.UpdateComment(ctx, ref, id, "second body"); err != nil {
		t.Fatalf("UpdateComment: %v", err)
	}
	stored := b.Comments(ref)
	if len(stored) != 1 || stored[0].ID != id || stored[0].Body != "second body" || stored[0].Author != b.BotLogin() {
		t.Errorf("stored comments = %+v, want one by %s with the updated body", stored, b.BotLogin())
	}
}

func testUpdateMissingComment(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	err := f.UpdateComment(t.Context(), ref, 987654, "body")
	if !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("UpdateComment of a missing comment: err = %v, want ErrNotFound", err)
	}
}

// testCommentLimit: the forge states its comment limit (forge.CommentLimiter), and it is the platform's:
// a comment of that many characters is taken, one more is refused, created or edited.
func testCommentLimit(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	if _, ok := f.(forge.CommentLimiter); !ok {
		t.Fatalf("%T states no comment limit (forge.CommentLimiter)", f)
	}
	n := forge.MaxCommentRunes(f)
	at := strings.Repeat("é", n) // two bytes each: the limit counts characters
	id, err := f.CreateComment(t.Context(), ref, at)
	if err != nil {
		t.Fatalf("CreateComment of %d characters, the limit: %v", n, err)
	}
	if _, err := f.CreateComment(t.Context(), ref, at+"é"); err == nil {
		t.Errorf("CreateComment of %d characters, over the limit, was taken", n+1)
	}
	if err := f.UpdateComment(t.Context(), ref, id, at+"é"); err == nil {
		t.Errorf("UpdateComment to %d characters, over the limit, was taken", n+1)
	}
	if cs := b.Comments(ref); len(cs) != 1 || cs[0].Body != at {
		t.Errorf("stored %d comments; want the one at the limit, unchanged", len(cs))
	}
}

func testReviews(t *testing.T, f forge.Forge, b Backend) {
	ref, cr := newCR(b)
	b.SetPageSize(2)
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	want := []forge.Review{
		{Author: "dba1", State: "APPROVED", CommitSHA: cr.HeadSHA, SubmittedAt: base},
		{Author: "dba2", State: "APPROVED", CommitSHA: cr.HeadSHA, SubmittedAt: base.Add(time.Minute)},
		{Author: "dba1", State: "DISMISSED", CommitSHA: cr.HeadSHA, SubmittedAt: base.Add(2 * time.Minute)},
		{Author: "dba3", State: "APPROVED", CommitSHA: cr.HeadSHA, SubmittedAt: base.Add(3 * time.Minute)},
		{Author: "dba2", State: "DISMISSED", CommitSHA: cr.HeadSHA, SubmittedAt: base.Add(4 * time.Minute)},
	}
	for _, r := range want {
		b.AddReview(ref, r)
	}
	got, err := f.Reviews(t.Context(), ref)
	if err != nil {
		t.Fatalf("Reviews: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Reviews over pages of 2 = %d reviews %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Author != w.Author || g.State != w.State || g.CommitSHA != w.CommitSHA || !g.SubmittedAt.Equal(w.SubmittedAt) {
			t.Errorf("review %d = %+v, want %+v", i, g, w)
		}
	}
}

// testReviewsAcrossPushes: a review names the head it was given on, so that a gate can tell an approval
// of an earlier push from one of the current head (GitLab approvals carry no commit: the diff version
// current at the approval's time does).
func testReviewsAcrossPushes(t *testing.T, f forge.Forge, b Backend) {
	ref, cr := newCR(b)
	b.SetPageSize(1)
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	second, third := "4444444444444444444444444444444444444444", "5555555555555555555555555555555555555555"
	b.AddReview(ref, forge.Review{Author: "dba1", State: "APPROVED", CommitSHA: cr.HeadSHA, SubmittedAt: base})
	b.Push(ref, second, base.Add(time.Minute))
	b.AddReview(ref, forge.Review{Author: "dba2", State: "APPROVED", CommitSHA: second, SubmittedAt: base.Add(2 * time.Minute)})
	b.Push(ref, third, base.Add(3*time.Minute))
	b.AddReview(ref, forge.Review{Author: "dba3", State: "APPROVED", CommitSHA: third, SubmittedAt: base.Add(4 * time.Minute)})
	got, err := f.Reviews(t.Context(), ref)
	if err != nil {
		t.Fatalf("Reviews: %v", err)
	}
	want := map[string]string{"dba1": cr.HeadSHA, "dba2": second, "dba3": third}
	if len(got) != len(want) {
		t.Fatalf("Reviews = %+v, want one approval each by dba1, dba2, dba3", got)
	}
	for _, r := range got {
		if r.State != "APPROVED" || r.CommitSHA != want[r.Author] {
			t.Errorf("review %+v, want an approval of %s", r, want[r.Author])
		}
	}
	head, err := f.ChangeRequest(t.Context(), ref)
	if err != nil || head.HeadSHA != third {
		t.Errorf("head after the pushes = %v (%v), want %s", head, err, third)
	}
}

// testReviewsChangesRequested: a reviewer's latest decision is what counts (the gate reads each
// reviewer's latest APPROVED, CHANGES_REQUESTED or DISMISSED review): changes requested after an
// approval withdraw it, an approval after a request for changes settles it.
func testReviewsChangesRequested(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	b.SetPageSize(1)
	base := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	for i, r := range []forge.Review{
		{Author: "dba1", State: "APPROVED"},
		{Author: "dba2", State: "CHANGES_REQUESTED"},
		{Author: "dba1", State: "CHANGES_REQUESTED"},
		{Author: "dba3", State: "APPROVED"},
		{Author: "dba2", State: "APPROVED"},
	} {
		r.SubmittedAt = base.Add(time.Duration(i) * time.Minute)
		b.AddReview(ref, r)
	}
	got, err := f.Reviews(t.Context(), ref)
	if err != nil {
		t.Fatalf("Reviews: %v", err)
	}
	latest := map[string]string{}
	for _, r := range got {
		switch r.State {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			latest[r.Author] = r.State
		}
	}
	want := map[string]string{"dba1": "CHANGES_REQUESTED", "dba2": "APPROVED", "dba3": "APPROVED"}
	if fmt.Sprint(latest) != fmt.Sprint(want) {
		t.Errorf("each reviewer's latest decision = %v, want %v (reviews %+v)", latest, want, got)
	}
}

func testChangedFiles(t *testing.T, f forge.Forge, b Backend) {
	want := []string{
		"db/migrations/001_init.up.sql", "db/migrations/001_init.down.sql",
		"db/migrations/002_orders.up.sql", "db/migrations/002_orders.down.sql", "README.md",
	}
	ref, _ := newCR(b, want...)
	b.SetPageSize(2)
	got, err := f.ChangedFiles(t.Context(), ref)
	if err != nil {
		t.Fatalf("ChangedFiles: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ChangedFiles over pages of 2 = %q, want %q", got, want)
	}
}

// testFiles: a forge that lists files with their status (forge.FileLister: both clients, whose
// compile-time assertions keep it so, and forge.RunCache) lists every file over all pages, removed ones
// as such; a blob SHA it gives is the content's at the head.
func testFiles(t *testing.T, f forge.Forge, b Backend) {
	fl, ok := f.(forge.FileLister)
	if !ok {
		t.Skipf("%T lists no files with their status", f)
	}
	ref, cr := newCR(b, "db/migrations/001_init.up.sql", "-db/migrations/000_old.up.sql", "db/migrations/002_orders.up.sql", "README.md")
	content := []byte("CREATE TABLE orders (id bigint);\n")
	b.SetFile(ref.Repo, "db/migrations/002_orders.up.sql", cr.HeadSHA, content)
	b.SetPageSize(2)
	got, err := fl.Files(t.Context(), ref)
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	want := []forge.ChangedFile{
		{Path: "db/migrations/001_init.up.sql", Status: "added"}, {Path: "db/migrations/000_old.up.sql", Status: "removed"},
		{Path: "db/migrations/002_orders.up.sql", Status: "added"}, {Path: "README.md", Status: "added"},
	}
	if len(got) != len(want) {
		t.Fatalf("Files over pages of 2 = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Path != want[i].Path || got[i].Status != want[i].Status {
			t.Errorf("Files[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00%s", len(content), content)
	if blob := got[2].BlobSHA; blob != "" && blob != hex.EncodeToString(h.Sum(nil)) {
		t.Errorf("blob SHA of %s = %s, want the git blob SHA of its content at the head", got[2].Path, blob)
	}
	changed, err := f.ChangedFiles(t.Context(), ref)
	if err != nil {
		t.Fatalf("ChangedFiles: %v", err)
	}
	if want := []string{"db/migrations/001_init.up.sql", "db/migrations/002_orders.up.sql", "README.md"}; !slices.Equal(changed, want) {
		t.Errorf("ChangedFiles = %q, want %q (the removed file left out)", changed, want)
	}
}

// testFilesIncomplete: a change request with more files than the forge lists (GitHub: 3000; GitLab:
// its diff limits) yields ErrIncomplete from Files and ChangedFiles, never the part listed: the gate
// would take the files left out as unchanged, needing neither a check nor their owners' approval.
func testFilesIncomplete(t *testing.T, f forge.Forge, b Backend) {
	files := []string{"db/migrations/001_a.up.sql", "db/migrations/002_b.up.sql", "db/migrations/003_c.up.sql",
		"db/migrations/004_d.up.sql", "db/migrations/005_e.up.sql"}
	ref, _ := newCR(b, files...)
	b.SetPageSize(2)
	b.SetFileLimit(3)
	if fl, ok := f.(forge.FileLister); ok {
		if got, err := fl.Files(t.Context(), ref); !errors.Is(err, forge.ErrIncomplete) {
			t.Errorf("Files of 5 files when the forge lists 3 = %+v, %v; want ErrIncomplete", got, err)
		}
	}
	if got, err := f.ChangedFiles(t.Context(), ref); !errors.Is(err, forge.ErrIncomplete) {
		t.Errorf("ChangedFiles of 5 files when the forge lists 3 = %q, %v; want ErrIncomplete", got, err)
	}
	b.SetFileLimit(0)
	if got, err := f.ChangedFiles(t.Context(), ref); err != nil || !slices.Equal(got, files) {
		t.Errorf("ChangedFiles within the forge's limit = %q, %v; want %q", got, err, files)
	}
}

func testFileAt(t *testing.T, f forge.Forge, b Backend) {
	content := []byte("# owners\n/db/ @acme/dba\n\x00binary-safe é\n")
	b.SetFile("acme/shop", ".github/CODEOWNERS", "main", content)
	b.SetFile("acme/shop", ".github/CODEOWNERS", "feature", []byte("* @mallory\n"))
	got, err := f.FileAt(t.Context(), "acme/shop", ".github/CODEOWNERS", "main")
	if err != nil {
		t.Fatalf("FileAt: %v", err)
	}
	if string(got) != string(content) {
		t.Errorf("FileAt = %q, want %q", got, content)
	}
	_, err = f.FileAt(t.Context(), "acme/shop", "CODEOWNERS", "main")
	if !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("FileAt of a missing file: err = %v, want ErrNotFound", err)
	}
	_, err = f.FileAt(t.Context(), "acme/shop", ".github/CODEOWNERS", "no-such-branch")
	if !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("FileAt at a missing ref: err = %v, want ErrNotFound", err)
	}
}

// testFileAtLarge: a file over 1 MB (a large CODEOWNERS, a data migration) is read whole; GitHub
// inlines no content that large, and only its raw media type gives it.
func testFileAtLarge(t *testing.T, f forge.Forge, b Backend) {
	content := []byte(strings.Repeat("# owners of the shop\n", 80_000) + "/db/ @acme/dba\n")
	b.SetFile("acme/shop", ".github/CODEOWNERS", "main", content)
	got, err := f.FileAt(t.Context(), "acme/shop", ".github/CODEOWNERS", "main")
	if err != nil || string(got) != string(content) {
		t.Errorf("FileAt of a %d-byte file = %d bytes, %v; want it whole", len(content), len(got), err)
	}
}

func testIsMember(t *testing.T, f forge.Forge, b Backend) {
	b.AddTeamMember("acme/dba", "dora")
	b.AddTeamMember("acme/web", "walt")
	for _, tc := range []struct {
		team, user string
		want       bool
	}{
		{"acme/dba", "dora", true},
		{"acme/dba", "walt", false},
		{"acme/web", "walt", true},
		{"acme/dba", "mallory", false},
	} {
		got, err := f.IsMember(t.Context(), tc.team, tc.user)
		if err != nil {
			t.Errorf("IsMember(%s, %s): %v", tc.team, tc.user, err)
			continue
		}
		if got != tc.want {
			t.Errorf("IsMember(%s, %s) = %v, want %v", tc.team, tc.user, got, tc.want)
		}
	}
}

func testIsMemberForbidden(t *testing.T, f forge.Forge, b Backend) {
	b.AddTeamMember("acme/dba", "dora")
	b.SetMembershipForbidden(true)
	for _, user := range []string{"dora", "mallory"} {
		ok, err := f.IsMember(t.Context(), "acme/dba", user)
		if !errors.Is(err, forge.ErrForbidden) {
			t.Errorf("IsMember(%s) with a token that cannot read membership = %v, %v; want ErrForbidden", user, ok, err)
		}
	}
}

// testIsMemberPaginated: a member listed on a later page is a member (GitLab lists a group's members,
// GitHub answers for the one user).
func testIsMemberPaginated(t *testing.T, f forge.Forge, b Backend) {
	for _, u := range []string{"adora", "dora2", "dorab", "dora"} {
		b.AddTeamMember("acme/dba", u)
	}
	b.SetPageSize(1)
	if ok, err := f.IsMember(t.Context(), "acme/dba", "dora"); err != nil || !ok {
		t.Errorf("IsMember(acme/dba, dora) listed fourth, pages of 1 = %v, %v; want true", ok, err)
	}
	if ok, err := f.IsMember(t.Context(), "acme/dba", "dor"); err != nil || ok {
		t.Errorf("IsMember(acme/dba, dor), a prefix of members' names = %v, %v; want false", ok, err)
	}
}

func testSetStatus(t *testing.T, f forge.Forge, b Backend) {
	_, cr := newCR(b)
	ctx := t.Context()
	sts := []forge.Status{
		{Context: "schemagate/dba-approval", State: "pending", Description: "waiting for @acme/dba", TargetURL: "https://example.com/run/1"},
		{Context: "schemagate/dba-approval", State: "success", Description: "approved by dora"},
	}
	for _, st := range sts {
		if err := f.SetStatus(ctx, "acme/shop", cr.HeadSHA, st); err != nil {
			t.Fatalf("SetStatus: %v", err)
		}
	}
	got := b.Statuses("acme/shop", cr.HeadSHA)
	if !slices.Equal(got, sts) {
		t.Errorf("statuses = %+v, want %+v", got, sts)
	}
}

func testReadOnly(t *testing.T, f forge.Forge, b Backend) {
	ref, cr := newCR(b)
	id := b.AddComment(ref, b.BotLogin(), "old")
	b.SetReadOnly(true)
	ctx := t.Context()
	if _, err := f.CreateComment(ctx, ref, "x"); !errors.Is(err, forge.ErrReadOnly) {
		t.Errorf("CreateComment read-only: err = %v, want ErrReadOnly", err)
	}
	if err := f.UpdateComment(ctx, ref, id, "x"); !errors.Is(err, forge.ErrReadOnly) {
		t.Errorf("UpdateComment read-only: err = %v, want ErrReadOnly", err)
	}
	if err := f.SetStatus(ctx, "acme/shop", cr.HeadSHA, forge.Status{Context: "c", State: "pending"}); !errors.Is(err, forge.ErrReadOnly) {
		t.Errorf("SetStatus read-only: err = %v, want ErrReadOnly", err)
	}
	if _, err := f.Comments(ctx, ref); err != nil {
		t.Errorf("Comments with a read-only token: %v", err)
	}
	if got := b.Comments(ref); len(got) != 1 || got[0].Body != "old" {
		t.Errorf("comments after refused writes = %+v, want the old one unchanged", got)
	}
}

func testRateLimit(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	b.AddComment(ref, "alice", "hello")
	b.RateLimitNext(2)
	got, err := f.Comments(t.Context(), ref)
	if err != nil {
		t.Fatalf("Comments after two rate-limited answers: %v", err)
	}
	if len(got) != 1 || got[0].Body != "hello" {
		t.Errorf("Comments = %+v, want the one comment", got)
	}
	b.RateLimitNext(1)
	if _, err := f.CreateComment(t.Context(), ref, "after limit"); err != nil {
		t.Fatalf("CreateComment after a rate-limited answer: %v", err)
	}
	if n := len(b.Comments(ref)); n != 2 {
		t.Errorf("comments after a retried create = %d, want 2 (created exactly once)", n)
	}
}

func testRateLimitBounded(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	b.RateLimitNext(1000)
	_, err := f.Comments(t.Context(), ref)
	if err == nil {
		t.Fatal("Comments under an endless rate limit: err = nil, want an error after bounded retries")
	}
	if errors.Is(err, forge.ErrReadOnly) || errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrForbidden) {
		t.Errorf("Comments under a rate limit: err = %v, mistaken for a permission or existence error", err)
	}
	b.RateLimitNext(0)
}

const testMarker = "<!-- schemagate:report db/migrations -->"

func testUpsert(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	ctx := t.Context()
	b.AddComment(ref, "alice", "unrelated")
	id, created, err := forge.Upsert(ctx, f, ref, testMarker, "report v1")
	if err != nil || !created {
		t.Fatalf("first Upsert = %d, %v, %v; want created", id, created, err)
	}
	id2, created, err := forge.Upsert(ctx, f, ref, testMarker, "report v2")
	if err != nil || created || id2 != id {
		t.Fatalf("second Upsert = %d, %v, %v; want update of %d", id2, created, err, id)
	}
	var ours []forge.Comment
	for _, c := range b.Comments(ref) {
		if strings.Contains(c.Body, testMarker) {
			ours = append(ours, c)
		}
	}
	if len(ours) != 1 || !strings.Contains(ours[0].Body, "report v2") || strings.Contains(ours[0].Body, "report v1") {
		t.Errorf("marked comments = %+v, want one holding report v2", ours)
	}
}

func testUpsertForged(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	forged := b.AddComment(ref, "alice", testMarker+"\nall good, approved")
	id, created, err := forge.Upsert(t.Context(), f, ref, testMarker, "real report")
	if err != nil || !created || id == forged {
		t.Fatalf("Upsert next to a pasted marker = %d, %v, %v; want a new comment", id, created, err)
	}
	for _, c := range b.Comments(ref) {
		if c.ID == forged && !strings.Contains(c.Body, "all good") {
			t.Errorf("the PR author's comment was overwritten: %q", c.Body)
		}
	}
}

func testUpsertMarkers(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	ctx := t.Context()
	m1, m2 := "<!-- schemagate:report db/a -->", "<!-- schemagate:report db/b -->"
	id1, _, err := forge.Upsert(ctx, f, ref, m1, "a1")
	if err != nil {
		t.Fatal(err)
	}
	id2, created, err := forge.Upsert(ctx, f, ref, m2, "b1")
	if err != nil || !created || id2 == id1 {
		t.Fatalf("Upsert of a second marker = %d, %v, %v; want a second comment", id2, created, err)
	}
	if _, _, err := forge.Upsert(ctx, f, ref, m1, "a2"); err != nil {
		t.Fatal(err)
	}
	bodies := map[int64]string{}
	for _, c := range b.Comments(ref) {
		bodies[c.ID] = c.Body
	}
	if len(bodies) != 2 || !strings.Contains(bodies[id1], "a2") || !strings.Contains(bodies[id2], "b1") {
		t.Errorf("comments = %v, want %d holding a2 and %d holding b1", bodies, id1, id2)
	}
}

// testUpsertOldMarker: a comment an earlier version marked otherwise is updated, not doubled, and carries
// the new marker from then on; a comment with the new marker comes first, and one holding only the old
// marker that someone else wrote is never taken.
func testUpsertOldMarker(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	ctx := t.Context()
	oldMarker, newMarker := "<!-- schemagate:report db/app_migrations -->", "<!-- schemagate:report db/app%2Dmigrations -->"
	forged := b.AddComment(ref, "alice", "looks fine "+oldMarker)
	old := b.AddComment(ref, b.BotLogin(), "report v0\n\n"+oldMarker)
	id, created, err := forge.Upsert(ctx, f, ref, newMarker, "report v1", oldMarker)
	if err != nil || created || id != old {
		t.Fatalf("Upsert over the old marker = %d, %v, %v; want an update of %d", id, created, err, old)
	}
	// From now on found by the new marker: another folder that once shared the old one gets its own comment.
	id2, created, err := forge.Upsert(ctx, f, ref, oldMarker, "other folder")
	if err != nil || !created || id2 == old {
		t.Fatalf("Upsert of the old marker after the move = %d, %v, %v; want a new comment", id2, created, err)
	}
	if id3, created, err := forge.Upsert(ctx, f, ref, newMarker, "report v2", oldMarker); err != nil || created || id3 != old {
		t.Fatalf("second Upsert = %d, %v, %v; want an update of %d", id3, created, err, old)
	}
	bodies := map[int64]string{}
	for _, c := range b.Comments(ref) {
		bodies[c.ID] = c.Body
	}
	if len(bodies) != 3 || !strings.Contains(bodies[old], "report v2") || !strings.Contains(bodies[old], newMarker) ||
		strings.Contains(bodies[old], oldMarker) || !strings.Contains(bodies[id2], "other folder") || bodies[forged] != "looks fine "+oldMarker {
		t.Errorf("comments = %v", bodies)
	}
}

func testUpsertReadOnly(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	b.SetReadOnly(true)
	_, _, err := forge.Upsert(t.Context(), f, ref, testMarker, "body")
	if !errors.Is(err, forge.ErrReadOnly) {
		t.Errorf("Upsert read-only: err = %v, want ErrReadOnly", err)
	}
}

// testUpsertLaterPage: the sticky comment is found on whatever page the forge lists it, and updated,
// not written again beside itself (nor is the approval record, read the same way).
func testUpsertLaterPage(t *testing.T, f forge.Forge, b Backend) {
	ref, _ := newCR(b)
	ctx := t.Context()
	b.AddComment(ref, "alice", "first")
	old := b.AddComment(ref, b.BotLogin(), "report v0\n\n"+testMarker)
	for i := range 5 {
		b.AddComment(ref, "bob", fmt.Sprintf("later comment %d", i))
	}
	b.SetPageSize(1)
	id, created, err := forge.Upsert(ctx, f, ref, testMarker, "report v1")
	if err != nil || created || id != old {
		t.Fatalf("Upsert with the sticky comment second of 7, pages of 1 = %d, %v, %v; want an update of %d", id, created, err, old)
	}
	var ours []forge.Comment
	for _, c := range b.Comments(ref) {
		if strings.Contains(c.Body, testMarker) {
			ours = append(ours, c)
		}
	}
	if len(ours) != 1 || !strings.Contains(ours[0].Body, "report v1") {
		t.Errorf("marked comments = %+v, want one holding report v1", ours)
	}
}

// testChangeRequestOfFile: the change request that brought the newest commit changing a file into the
// branch, whether it merged with a merge commit (the commit is one of its own, not its merge commit), a
// squash commit or its head; none for a commit pushed straight to the branch, or merged elsewhere.
// testChangeRequestOfFileOtherBranch: a deploy from a branch other than the default one (a release
// branch) finds the change requests merged there, by the file's last commit and by the deployed commit.
func testChangeRequestOfFileOtherBranch(t *testing.T, f forge.Forge, b Backend) {
	const repo, branch = "acme/shop", "release/2.x"
	sha := func(c byte) string { return strings.Repeat(string(c), 40) }
	b.SetPageSize(1)
	b.AddCommit(repo, sha('0'), []string{"db/1_init.up.sql"}, forge.Ref{})
	squashed := b.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "alice", HeadSHA: sha('e'),
		BaseSHA: sha('0'), BaseRef: branch}, []string{"db/2_a.up.sql"})
	b.MergeInto(squashed, branch, sha('d'), true)
	b.AddCommit(repo, sha('d'), []string{"db/2_a.up.sql"}, forge.Ref{})
	cr, err := f.ChangeRequestOfFile(t.Context(), repo, "db/2_a.up.sql", sha('d'), branch)
	if err != nil || cr.Ref != squashed || !cr.Merged || cr.BaseRef != branch {
		t.Errorf("ChangeRequestOfFile(db/2_a.up.sql) = %+v, %v; want %v merged into %s", cr, err, squashed, branch)
	}
	cr, err = f.FindChangeRequestBySHA(t.Context(), repo, sha('d'))
	if err != nil || cr.Ref != squashed || !cr.Merged {
		t.Errorf("FindChangeRequestBySHA(the squash commit) = %+v, %v; want %v, merged", cr, err, squashed)
	}
	if cr, err := f.ChangeRequestOfFile(t.Context(), repo, "db/2_a.up.sql", sha('d'), "main"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("ChangeRequestOfFile(db/2_a.up.sql into main) = %+v, %v; want ErrNotFound", cr, err)
	}
}

func testChangeRequestOfFile(t *testing.T, f forge.Forge, b Backend) {
	const repo = "acme/shop"
	sha := func(c byte) string { return strings.Repeat(string(c), 40) }
	add := func(head byte, files ...string) forge.Ref {
		return b.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: repo}, Author: "alice", HeadSHA: sha(head),
			BaseSHA: sha('0'), BaseRef: "main"}, files)
	}
	b.SetPageSize(1)
	b.AddCommit(repo, sha('0'), []string{"db/1_init.up.sql"}, forge.Ref{})
	merged := add('b', "db/2_a.up.sql", "README.md")
	b.AddCommit(repo, sha('a'), []string{"db/2_a.up.sql"}, merged)
	b.AddCommit(repo, sha('b'), []string{"README.md"}, merged)
	b.MergeInto(merged, "main", sha('c'), false)
	b.AddCommit(repo, sha('c'), nil, forge.Ref{}) // the merge commit changes nothing of its own
	squashed := add('e', "db/3_b.up.sql", "db/4_c.up.sql")
	b.MergeInto(squashed, "main", sha('d'), true)
	b.AddCommit(repo, sha('d'), []string{"db/3_b.up.sql", "db/4_c.up.sql"}, forge.Ref{})
	elsewhere := add('f', "db/5_d.up.sql")
	b.AddCommit(repo, sha('f'), []string{"db/5_d.up.sql"}, elsewhere)
	b.MergeInto(elsewhere, "release", sha('f'), false)
	b.AddCommit(repo, sha('1'), []string{"db/6_e.up.sql"}, forge.Ref{}) // pushed straight to main
	deployed := sha('1')
	for _, c := range []struct {
		path string
		want forge.Ref // zero: none
	}{
		{"db/2_a.up.sql", merged}, {"db/3_b.up.sql", squashed}, {"db/4_c.up.sql", squashed},
		{"db/5_d.up.sql", forge.Ref{}}, {"db/6_e.up.sql", forge.Ref{}}, {"db/1_init.up.sql", forge.Ref{}},
		{"db/7_nowhere.up.sql", forge.Ref{}},
	} {
		cr, err := f.ChangeRequestOfFile(t.Context(), repo, c.path, deployed, "main")
		switch {
		case c.want.Number == 0 && !errors.Is(err, forge.ErrNotFound):
			t.Errorf("ChangeRequestOfFile(%s) = %+v, %v; want ErrNotFound", c.path, cr, err)
		case c.want.Number != 0 && (err != nil || cr.Ref != c.want || !cr.Merged || cr.BaseRef != "main"):
			t.Errorf("ChangeRequestOfFile(%s) = %+v, %v; want %v merged into main", c.path, cr, err, c.want)
		}
	}
	// As of an older commit, the file's history ends there.
	if cr, err := f.ChangeRequestOfFile(t.Context(), repo, "db/2_a.up.sql", sha('c'), "main"); err != nil || cr.Ref != merged {
		t.Errorf("ChangeRequestOfFile(db/2_a.up.sql at the merge commit) = %+v, %v; want %v", cr, err, merged)
	}
	// A later commit pushed straight to the branch is what the file is now.
	b.AddCommit(repo, sha('2'), []string{"db/2_a.up.sql"}, forge.Ref{})
	if cr, err := f.ChangeRequestOfFile(t.Context(), repo, "db/2_a.up.sql", sha('2'), "main"); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("ChangeRequestOfFile(db/2_a.up.sql changed by a push) = %+v, %v; want ErrNotFound", cr, err)
	}
}
