package gate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/codeowners"
	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

const (
	repo = "acme/shop"
	head = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	base = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func testReport(risk lint.Risk) *report.Report {
	r := &report.Report{Dir: "db/migrations", Migrations: []report.Migration{
		{Version: "001", Name: "init", File: "001_init.up.sql", Checksum: "c1", Status: report.StatusBase},
		{Version: "002", Name: "orders_status", File: "002_orders_status.up.sql", DownFile: "002_orders_status.down.sql",
			Checksum: "c2", New: true, Status: report.StatusApplied},
	}}
	r.Risk = risk
	return r
}

type env struct {
	s   *githubtest.Server
	f   *github.Client
	ref forge.Ref
}

// newEnv makes a pull request by alice changing one migration, with base-branch CODEOWNERS giving
// db/migrations to @acme/dba and dora.
func newEnv(t *testing.T, codeownersFile string) *env {
	t.Helper()
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{
		Ref: forge.Ref{Repo: repo}, Title: "orders.status", Author: "alice",
		HeadSHA: head, BaseSHA: base, BaseRef: "main",
	}, []string{"db/migrations/002_orders_status.up.sql", "db/migrations/002_orders_status.down.sql", "app/orders.go"})
	if codeownersFile != "" {
		s.SetFile(repo, ".github/CODEOWNERS", base, []byte(codeownersFile))
	}
	s.SetFile(repo, "README.md", base, []byte("base commit exists"))
	s.AddTeamMember("acme/dba", "dan")
	s.AddTeamMember("acme/web", "wendy")
	f, err := github.New(github.Options{Token: githubtest.Token, BaseURL: s.URL(), Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, f: f, ref: ref}
}

const owners = "* @acme/web\n/db/migrations/ @acme/dba @dora\n"

func (e *env) review(author, state string) {
	e.s.AddReview(e.ref, forge.Review{Author: author, State: state, CommitSHA: head})
}

func (e *env) decide(t *testing.T, p config.Approval) *gate.Decision {
	t.Helper()
	d, cr, err := gate.Evaluate(t.Context(), e.f, gate.Request{Ref: e.ref, Policy: p, Dialect: codeowners.GitHub, Report: testReport(lint.Dangerous)})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if cr.Ref != e.ref {
		t.Fatalf("Evaluate returned change request %v", cr.Ref)
	}
	return d
}

func wantState(t *testing.T, d *gate.Decision, state string, reasonHas ...string) {
	t.Helper()
	if d.State != state {
		t.Errorf("state = %s (%s; notes %q), want %s", d.State, d.Reason, d.Notes, state)
	}
	all := d.Reason + " | " + strings.Join(d.Notes, " | ")
	for _, s := range reasonHas {
		if !strings.Contains(all, s) {
			t.Errorf("reason and notes %q do not mention %q", all, s)
		}
	}
}

func TestReviewSequenceApproveChangesApprove(t *testing.T) {
	e := newEnv(t, owners)
	d := e.decide(t, config.Approval{})
	wantState(t, d, gate.Pending, "@acme/dba", "@dora")
	if d.Needed != 1 || !d.Required {
		t.Errorf("needed = %d, required = %v; want 1, true", d.Needed, d.Required)
	}
	e.review("dora", "APPROVED")
	d = e.decide(t, config.Approval{})
	wantState(t, d, gate.Approved, "dora")
	e.review("dora", "COMMENTED") // a comment changes nothing
	wantState(t, e.decide(t, config.Approval{}), gate.Approved)
	e.review("dora", "CHANGES_REQUESTED")
	wantState(t, e.decide(t, config.Approval{}), gate.Blocked, "changes requested by dora")
	e.review("dora", "APPROVED")
	d = e.decide(t, config.Approval{})
	wantState(t, d, gate.Approved)
	if strings.Join(d.ApprovedBy, ",") != "dora" {
		t.Errorf("approved by %q, want dora once", d.ApprovedBy)
	}
}

func TestDismissedApprovalNoLongerCounts(t *testing.T) {
	e := newEnv(t, owners)
	e.review("dora", "APPROVED")
	e.review("dora", "DISMISSED")
	wantState(t, e.decide(t, config.Approval{}), gate.Pending)
}

func TestApprovalGoesStaleOnPush(t *testing.T) {
	e := newEnv(t, owners)
	e.review("dora", "APPROVED")
	e.s.SetHead(e.ref, "cccccccccccccccccccccccccccccccccccccccc")
	wantState(t, e.decide(t, config.Approval{}), gate.Pending, "approved commit aaaaaaa, not the head ccccccc")
	off := false
	wantState(t, e.decide(t, config.Approval{StaleOnPush: &off}), gate.Approved)
}

func TestAuthorsOwnApprovalDoesNotCount(t *testing.T) {
	e := newEnv(t, "/db/ @alice @dora\n")
	e.review("alice", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Pending, "alice opened the change")
}

func TestNonOwnerApprovalDoesNotCount(t *testing.T) {
	e := newEnv(t, owners)
	e.review("wendy", "APPROVED") // owns * but not the migrations
	e.review("mallory", "CHANGES_REQUESTED")
	wantState(t, e.decide(t, config.Approval{}), gate.Pending, "wendy approved but owns none", "mallory requested changes but owns none")
}

// TestApprovalWithoutStandingDoesNotCount: GitHub counts a review toward required approvals only from a
// user who may write to the repository, and lets anybody review a public repository's pull request. A
// login CODEOWNERS or dba_users names whose user has no standing in the repository any more (left the
// organization, or a login given up by a rename and taken by someone else: author_association CONTRIBUTOR
// or NONE, and GitHub answers 404 for their permission) approves nothing; a member, collaborator or owner
// still does.
func TestApprovalWithoutStandingDoesNotCount(t *testing.T) {
	for _, association := range []string{"NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR"} {
		t.Run(association, func(t *testing.T) {
			e := newEnv(t, owners)
			e.s.SetAssociation("dora", association)
			e.review("dora", "APPROVED")
			wantState(t, e.decide(t, config.Approval{}), gate.Pending, "dora approved but has no access to acme/shop")
			e.s.SetAssociation("dan", association)
			e.review("dan", "APPROVED") // named through a team only
			wantState(t, e.decide(t, config.Approval{DBAUsers: []string{"dan"}}), gate.Pending, "dan approved but has no access")
		})
	}
	for _, association := range []string{"OWNER", "MEMBER", "COLLABORATOR"} {
		t.Run(association, func(t *testing.T) {
			e := newEnv(t, owners)
			e.s.SetAssociation("dora", association)
			e.review("dora", "APPROVED")
			wantState(t, e.decide(t, config.Approval{}), gate.Approved, "dora")
		})
	}
}

// TestPrivateMemberApprovalCounts: GitHub's author_association says MEMBER only of a public member of the
// organization; to the Actions token a DBA whose membership is private shows as CONTRIBUTOR or NONE,
// though a team gives them write access, and GitHub counts their approval. The gate asks their role as
// it does a member's: write counts, read does not.
func TestPrivateMemberApprovalCounts(t *testing.T) {
	for _, association := range []string{"CONTRIBUTOR", "NONE"} {
		for _, tt := range []struct {
			role, want string
			has        []string
		}{
			{"write", gate.Approved, []string{"approved by dora"}},
			{"maintain", gate.Approved, []string{"approved by dora"}},
			{"read", gate.Pending, []string{"dora approved but has the read role on acme/shop, without write access"}},
		} {
			t.Run(association+" "+tt.role, func(t *testing.T) {
				e := newEnv(t, owners)
				e.s.SetAssociation("dora", association)
				e.s.SetRole("dora", tt.role)
				e.s.Expect("GET /repos/{owner}/{repo}/collaborators/{username}/permission")
				e.review("dora", "APPROVED")
				wantState(t, e.decide(t, config.Approval{}), tt.want, tt.has...)
			})
		}
	}
}

// TestApprovalNeedsWriteAccess: GitHub counts toward required and code-owner reviews only approvals from
// users with write access (the write, maintain or admin role). An organization member, or an invited
// collaborator, may hold only read or triage access: their author_association (MEMBER, COLLABORATOR)
// says nothing of it, so the gate asks GitHub for each approving reviewer's permission.
func TestApprovalNeedsWriteAccess(t *testing.T) {
	tests := []struct {
		name        string
		association string
		role        string
		want        string
		has         []string
	}{
		{"read-only member through a team", "MEMBER", "read", gate.Pending, []string{"dan approved but has the read role on acme/shop, without write access"}},
		{"triage member", "MEMBER", "triage", gate.Pending, []string{"dan approved but has the triage role"}},
		{"read-only collaborator", "COLLABORATOR", "read", gate.Pending, []string{"dan approved but has the read role"}},
		{"member no longer a collaborator", "MEMBER", "", gate.Pending, []string{"dan approved but has no access to acme/shop"}},
		{"member with write", "MEMBER", "write", gate.Approved, []string{"approved by dan"}},
		{"collaborator with write", "COLLABORATOR", "write", gate.Approved, []string{"approved by dan"}},
		{"maintainer", "MEMBER", "maintain", gate.Approved, []string{"approved by dan"}},
		{"admin", "MEMBER", "admin", gate.Approved, []string{"approved by dan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, owners)
			e.s.SetAssociation("dan", tt.association)
			e.s.SetRole("dan", tt.role)
			e.s.Expect("GET /repos/{owner}/{repo}/collaborators/{username}/permission")
			e.review("dan", "APPROVED") // owns the migrations through @acme/dba
			wantState(t, e.decide(t, config.Approval{}), tt.want, tt.has...)
		})
	}
}

// TestPermissionAskedOncePerApprover: GitHub is asked for the permission of each reviewer whose approval
// or change request may count, once however many reviews they gave and however often the gate decides,
// and never of a reviewer who only commented, nor of the repository's owner.
func TestPermissionAskedOncePerApprover(t *testing.T) {
	e := newEnv(t, owners)
	e.s.SetAssociation("olga", "OWNER")
	e.review("dora", "APPROVED")
	e.review("dora", "COMMENTED")
	e.review("dora", "APPROVED")
	e.review("dan", "APPROVED")
	e.review("dan", "CHANGES_REQUESTED") // blocks only if dan may write
	e.review("bob", "COMMENTED")
	e.review("olga", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Blocked, "changes requested by dan")
	wantState(t, e.decide(t, config.Approval{}), gate.Blocked)
	asked := map[string]int{}
	for _, r := range e.s.Requests() {
		if rest, ok := strings.CutPrefix(r, "GET "+githubtest.Prefix+"/repos/"+repo+"/collaborators/"); ok {
			asked[strings.TrimSuffix(rest, "/permission")]++
		}
	}
	if fmt.Sprint(asked) != "map[dan:1 dora:1]" {
		t.Errorf("permissions asked %v, want dora's and dan's once", asked)
	}
}

// pushAccess is GitHub's answer to GET .../collaborators/{username}/permission from a token without push
// access to the repository: a fork pull request's GITHUB_TOKEN, or one whose workflow permissions are
// read-only.
const pushAccess = "Must have push access to view collaborator permission."

// TestPermissionRefusedLeavesTheRoleUnread: a reviewer whose role GitHub will not tell (403 to a token
// without push access, 422 for an app's bot) may or may not write. Neither fails the gate nor falls back to
// author_association: their approval is not counted and an owner's change request keeps blocking, each
// with a note saying whose role could not be read and why; a reviewer who is no collaborator (404) counts
// for nothing, as before. A CODEOWNERS user whose role is unread stays an owner.
func TestPermissionRefusedLeavesTheRoleUnread(t *testing.T) {
	unread := func(who string) string {
		return "their role on acme/shop could not be read (GitHub answered 403 \"" + pushAccess + "\": reading a user's role on the repository needs a token with push access"
	}
	for _, tt := range []struct {
		name    string
		refuse  map[string]int // login → status GitHub answers for their role
		reviews [][2]string
		want    string
		has     []string
	}{
		{"change requester, token without push access", map[string]int{"carol": 403, "dora": 403},
			[][2]string{{"carol", "CHANGES_REQUESTED"}, {"dora", "APPROVED"}}, gate.Blocked,
			[]string{"changes requested by carol", "carol requested changes, but " + unread("carol"), "the request still blocks, as one from an owner who may write, until carol approves or it is dismissed",
				"dora approved, but " + unread("dora"), "so their approval was not counted"}},
		{"change requester whose association says outsider", map[string]int{"carol": 403},
			[][2]string{{"carol", "CHANGES_REQUESTED"}, {"dora", "APPROVED"}}, gate.Blocked,
			[]string{"changes requested by carol", "carol requested changes, but " + unread("carol")}},
		{"approver, token without push access", map[string]int{"dora": 403},
			[][2]string{{"dora", "APPROVED"}}, gate.Pending,
			[]string{"needs 1 more approval", "dora approved, but " + unread("dora"), "Metadata: read"}},
		{"bot requesting changes", map[string]int{"renovate[bot]": 422},
			[][2]string{{"renovate[bot]", "CHANGES_REQUESTED"}, {"dora", "APPROVED"}}, gate.Approved,
			[]string{"approved by dora", "renovate[bot] requested changes but owns none of the migration files"}},
		{"owner who is a bot", map[string]int{"carol": 422},
			[][2]string{{"carol", "CHANGES_REQUESTED"}, {"dora", "APPROVED"}}, gate.Blocked,
			[]string{"changes requested by carol", "carol requested changes, but their role on acme/shop could not be read (GitHub answered 422 \"Validation Failed\": GitHub tells no role of a login that is no user"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "/db/migrations/ @carol @dora\n")
			e.s.SetAssociation("carol", "CONTRIBUTOR")
			for login, code := range tt.refuse {
				msg := pushAccess
				if code == 422 {
					msg = "Validation Failed"
				}
				e.s.SetPermissionError(login, code, msg)
			}
			for _, r := range tt.reviews {
				e.review(r[0], r[1])
			}
			wantState(t, e.decide(t, config.Approval{}), tt.want, tt.has...)
			// Read through the run's cache of the forge too, as schemagate gate reads it.
			d, _, err := gate.Evaluate(t.Context(), forge.WithRunCache(e.f), gate.Request{Ref: e.ref, Dialect: codeowners.GitHub, Report: testReport(lint.Dangerous)})
			if err != nil {
				t.Fatalf("Evaluate through the run cache: %v", err)
			}
			wantState(t, d, tt.want, tt.has...)
		})
	}
	// A change requester who is no collaborator (404) counts for nothing, as an approver.
	e := newEnv(t, "/db/migrations/ @carol @dora\n")
	e.s.SetPermissionError("carol", 404, "Not Found")
	e.review("carol", "CHANGES_REQUESTED")
	e.review("dora", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Approved, "carol requested changes but has no access to acme/shop")
	// An owner whose role is unread stays one: the gate waits for them rather than block the files.
	e = newEnv(t, "/db/migrations/ @carol\n")
	e.s.SetPermissionError("carol", 403, pushAccess)
	wantState(t, e.decide(t, config.Approval{}), gate.Pending, "needs 1 more approval from @carol")
	e = newEnv(t, "/db/migrations/ @carol\n")
	e.s.SetPermissionError("carol", 422, "Validation Failed")
	wantState(t, e.decide(t, config.Approval{}), gate.Pending, "needs 1 more approval from @carol")
	// A token refused the permission altogether fails nothing either.
	e = newEnv(t, owners)
	e.s.SetPermissionForbidden(true)
	e.review("dora", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Pending, "dora approved, but their role on acme/shop could not be read (GitHub answered 403 \"Resource not accessible by integration\"")
}

// TestPermissionRateLimitIsRetried: the permission request goes through the client's rate-limit handling
// like every other: waited out when GitHub asks, a RateLimitError when it keeps refusing.
func TestPermissionRateLimitIsRetried(t *testing.T) {
	const route = "GET /repos/{owner}/{repo}/collaborators/{username}/permission"
	e := newEnv(t, owners)
	e.s.SetRole("dora", "read")
	e.s.RateLimitNextOn(route, 2)
	e.review("dora", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Pending, "dora approved but has the read role")

	e = newEnv(t, owners)
	e.s.RateLimitNextOn(route, 100)
	e.review("dora", "APPROVED")
	_, _, err := gate.Evaluate(t.Context(), e.f, gate.Request{Ref: e.ref, Dialect: codeowners.GitHub, Report: testReport(lint.Dangerous)})
	var rl *forge.RateLimitError
	if !errors.As(err, &rl) {
		t.Errorf("Evaluate with the permission rate-limited throughout: err = %v, want a RateLimitError", err)
	}
}

func TestTeamMemberApproval(t *testing.T) {
	t.Run("token reads membership", func(t *testing.T) {
		e := newEnv(t, owners)
		e.s.Expect("GET /orgs/{org}/teams/{team}/memberships/{user}")
		e.review("dan", "APPROVED")
		wantState(t, e.decide(t, config.Approval{}), gate.Approved, "dan")
	})
	t.Run("GITHUB_TOKEN cannot", func(t *testing.T) {
		e := newEnv(t, owners)
		e.s.SetMembershipForbidden(true)
		e.review("dan", "APPROVED")
		d := e.decide(t, config.Approval{})
		wantState(t, d, gate.Pending, "cannot read team membership (@acme/dba)", "read:org", "approval.dba_users",
			"dan approved, is not named as an owner of the migration files, and may belong to @acme/dba")
		for _, n := range d.Notes {
			if strings.Contains(n, "owns none") {
				t.Errorf("note %q: dan may own them through the team, which the token cannot read", n)
			}
		}
	})
	t.Run("GITHUB_TOKEN with dba_users fallback", func(t *testing.T) {
		e := newEnv(t, owners)
		e.s.SetMembershipForbidden(true)
		e.review("dan", "APPROVED")
		d := e.decide(t, config.Approval{DBAUsers: []string{"dan"}})
		wantState(t, d, gate.Approved, "cannot read the members of @acme/dba", "dba_users still count")
	})
	t.Run("member of another team", func(t *testing.T) {
		e := newEnv(t, owners)
		e.review("wendy", "APPROVED")
		wantState(t, e.decide(t, config.Approval{}), gate.Pending)
	})
}

func TestPaginatedReviews(t *testing.T) {
	e := newEnv(t, owners)
	e.s.SetPageSize(2)
	e.review("dora", "CHANGES_REQUESTED")
	for range 5 {
		e.review("bob", "COMMENTED")
	}
	e.review("dora", "APPROVED") // on the fourth page
	wantState(t, e.decide(t, config.Approval{}), gate.Approved)
}

func TestCodeownersReadFromBaseNotHead(t *testing.T) {
	e := newEnv(t, owners)
	// The pull request rewrites CODEOWNERS to own the migrations itself.
	e.s.SetFile(repo, ".github/CODEOWNERS", head, []byte("* @mallory\n"))
	e.s.SetFile(repo, ".github/CODEOWNERS", "main", []byte("* @mallory\n"))
	e.review("mallory", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Pending, "mallory approved but owns none")
}

func TestCodeownersLocationsAndPath(t *testing.T) {
	e := newEnv(t, "")
	e.s.SetFile(repo, "docs/CODEOWNERS", base, []byte("/db/ @dora\n"))
	e.s.SetFile(repo, "CODEOWNERS", base, []byte("/db/ @zed\n"))
	e.review("zed", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Approved) // CODEOWNERS comes before docs/CODEOWNERS
	wantState(t, e.decide(t, config.Approval{CodeownersPath: "docs/CODEOWNERS"}), gate.Pending, "zed approved but owns none")
}

func TestTwoApprovalsNeeded(t *testing.T) {
	e := newEnv(t, owners)
	e.review("dora", "APPROVED")
	d := e.decide(t, config.Approval{Approvals: 2})
	wantState(t, d, gate.Pending, "needs 1 more approval")
	e.review("dan", "APPROVED")
	wantState(t, e.decide(t, config.Approval{Approvals: 2}), gate.Approved)
}

func TestUnownedAndFallback(t *testing.T) {
	e := newEnv(t, "")
	wantState(t, e.decide(t, config.Approval{}), gate.Blocked, "nobody may approve db/migrations/002_orders_status.up.sql")
	e.review("dan", "APPROVED")
	wantState(t, e.decide(t, config.Approval{DBATeams: []string{"acme/dba"}}), gate.Approved)
}

func TestInvalidCodeownersLinesAreNotes(t *testing.T) {
	e := newEnv(t, "/db/ not-an-owner\n/db/ @dora\n")
	d := e.decide(t, config.Approval{})
	wantState(t, d, gate.Pending, ".github/CODEOWNERS:1: owner")
}

func TestNotRequired(t *testing.T) {
	tests := []struct {
		name    string
		require string
		risk    lint.Risk
		want    bool
	}{
		{"risky safe", "", lint.Safe, false},
		{"risky caution", "", lint.Caution, true},
		{"dangerous caution", "dangerous", lint.Caution, false},
		{"dangerous dangerous", "dangerous", lint.Dangerous, true},
		{"always safe", "always", lint.Safe, true},
		{"never dangerous", "never", lint.Dangerous, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gate.Required(config.Approval{Require: tt.require}, tt.risk); got != tt.want {
				t.Errorf("Required = %v, want %v", got, tt.want)
			}
		})
	}
	e := newEnv(t, owners)
	d, _, err := gate.Evaluate(t.Context(), e.f, gate.Request{Ref: e.ref, Report: testReport(lint.Safe)})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, d, gate.NotRequired, "risk is safe")
	for _, r := range e.s.Requests() {
		if strings.Contains(r, "/reviews") || strings.Contains(r, "/contents/") {
			t.Errorf("a not-required gate read %s", r)
		}
	}
}

func TestGitLabSectionsNeedTheirCount(t *testing.T) {
	file, _ := codeowners.Parse(codeowners.GitLab, []byte("[DB][2] @dora @dan @dave\n/db/\n^[Docs] @writer\n*.sql\n"))
	in := gate.Input{
		Dialect: codeowners.GitLab, Risk: lint.Dangerous, NewMigrations: 1, Files: []string{"db/1.sql"},
		Author: "alice", HeadSHA: head, CodeOwners: file,
		Reviews: []forge.Review{{Author: "dora", State: "APPROVED", CommitSHA: head}},
	}
	d, err := gate.Decide(t.Context(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, d, gate.Pending, "needs 1 more approval")
	in.Reviews = append(in.Reviews, forge.Review{Author: "dave", State: "APPROVED", CommitSHA: head})
	d, _ = gate.Decide(t.Context(), in, nil)
	wantState(t, d, gate.Approved) // the optional Docs section does not block
}

// TestGitLabPatternWrittenTwiceKeepsItsPlace: GitLab orders a pattern repeated within a section by its
// first line (its entries are a Hash keyed by the pattern), so /db/migrations/ between two /db/ lines
// still decides the migrations: @dba approves them on GitLab, and @dev does not.
func TestGitLabPatternWrittenTwiceKeepsItsPlace(t *testing.T) {
	file, probs := codeowners.Parse(codeowners.GitLab, []byte("/db/ @dev\n/db/migrations/ @dba\n/db/ @dev\n"))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	for _, tt := range []struct{ approver, want, has string }{
		{"dba", gate.Approved, "approved by dba"},
		{"dev", gate.Pending, "needs 1 more approval from @dba"},
	} {
		in := gate.Input{
			Dialect: codeowners.GitLab, Risk: lint.Dangerous, NewMigrations: 1, Files: []string{"db/migrations/002_x.sql"},
			Author: "alice", HeadSHA: head, CodeOwners: file,
			Reviews: []forge.Review{{Author: tt.approver, State: "APPROVED", CommitSHA: head}},
		}
		d, err := gate.Decide(t.Context(), in, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, d, tt.want, tt.has)
	}
}

// TestRequirementPatternsAreTheDecidingOnes: a requirement carries the patterns that decided its files in
// its section, which a platform's code-owner rules are named after; a broader pattern of the section
// that also matches them (/db/, written before or around /db/migrations/) decided nothing.
func TestRequirementPatternsAreTheDecidingOnes(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"[Database]\n/db/ @lead\n/db/migrations/ @dora\n", "/db/migrations/"},
		{"[Database]\n/db/ @lead\ndb/migrations/*.sql @dora\n/db/ @lead\n", "db/migrations/*.sql"},
		{"[Database]\n/db/migrations/ @dora\n/db/ @lead\n", "/db/"},
	} {
		file, probs := codeowners.Parse(codeowners.GitLab, []byte(tt.file))
		if len(probs) != 0 {
			t.Fatalf("problems: %v", probs)
		}
		in := gate.Input{
			Dialect: codeowners.GitLab, Risk: lint.Dangerous, NewMigrations: 1, Files: []string{"db/migrations/002_x.sql"},
			Author: "alice", HeadSHA: head, CodeOwners: file,
		}
		d, err := gate.Decide(t.Context(), in, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Requirements) != 1 || strings.Join(d.Requirements[0].Patterns, " ") != tt.want {
			t.Errorf("%q: requirements %+v, want one decided by %s", tt.file, d.Requirements, tt.want)
		}
	}
}

// TestNoFilesNeverApproves: new risky migrations whose files the gate does not know leave it no owner to
// ask and no approval to count; nobody having approved must not read as approved.
func TestNoFilesNeverApproves(t *testing.T) {
	file, _ := codeowners.Parse(codeowners.GitHub, []byte("/db/ @dora\n"))
	for _, tt := range []struct {
		name   string
		policy config.Approval
	}{
		{"CODEOWNERS", config.Approval{}},
		{"dba_users", config.Approval{DBAUsers: []string{"dan"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := gate.Input{
				Policy: tt.policy, Risk: lint.Dangerous, NewMigrations: 1, Author: "alice", HeadSHA: head, CodeOwners: file,
				Reviews: []forge.Review{{Author: "dora", State: "APPROVED", CommitSHA: head}, {Author: "dan", State: "APPROVED", CommitSHA: head}},
			}
			d, err := gate.Decide(t.Context(), in, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantState(t, d, gate.Blocked, "no file")
			d.Settle() // as a platform's rules settle it again
			wantState(t, d, gate.Blocked, "no file")
			if st := gate.Status(d, ""); st.State != "failure" || !strings.Contains(st.Description, "no file") {
				t.Errorf("status %+v, want a failure that says why", st)
			}
			if md := gate.Markdown(d); !strings.Contains(md, "no file") || strings.Contains(md, "Nobody may approve") {
				t.Errorf("markdown %q, want the reason, not an empty list of files nobody may approve", md)
			}
		})
	}
}

func TestEmailOwnersCannotApprove(t *testing.T) {
	e := newEnv(t, "/db/ dora@example.com\n")
	e.review("dora", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Blocked, "dora@example.com are e-mail addresses or roles", "dora approved but owns none")
}

// TestNoApprovalCanSatisfyBlocks: a requirement no approval can ever satisfy blocks (exit 3) instead of
// waiting for an approval that cannot come (exit 4), saying why and what to change: owners the gate
// cannot match to a login (e-mail addresses), or no owner besides the change's author. The message
// names the platform's own rule only on that platform.
func TestNoApprovalCanSatisfyBlocks(t *testing.T) {
	e := newEnv(t, "/db/migrations/ dba@acme.com\n")
	e.review("dora", "APPROVED")
	d := e.decide(t, config.Approval{})
	wantState(t, d, gate.Blocked, "the owners of db/migrations/002_orders_status.up.sql", "only dba@acme.com, which cannot be matched to a reviewer's login",
		"so no approval can satisfy them", "name the owners in CODEOWNERS by @login or team")
	if st := gate.Status(d, ""); st.State != "failure" || len(d.Owners) != 0 {
		t.Errorf("status %+v, owners %q: want a failure asking nobody", st, d.Owners)
	}
	// approval.dba_users may still approve.
	wantState(t, e.decide(t, config.Approval{DBAUsers: []string{"dan"}}), gate.Pending, "needs 1 more approval from @dan")

	e = newEnv(t, "/db/migrations/ @alice\n") // alice opened the pull request
	d = e.decide(t, config.Approval{})
	wantState(t, d, gate.Blocked, "has only 0 eligible owners besides the author @alice, so it can never be satisfied: add owners or lower the count")
	for _, dd := range []*gate.Decision{d, e.decide(t, config.Approval{})} {
		if all := dd.Reason + strings.Join(dd.Notes, "|"); strings.Contains(all, "GitLab") {
			t.Errorf("a GitHub decision mentions GitLab: %q", all)
		}
	}

	// On GitLab the same shortfall is GitLab's rule's too, and says nothing of GitHub.
	file, _ := codeowners.Parse(codeowners.GitLab, []byte("/db/ @alice\n"))
	d, err := gate.Decide(t.Context(), gate.Input{Dialect: codeowners.GitLab, Risk: lint.Dangerous, NewMigrations: 1, Files: []string{"db/1.sql"},
		Author: "alice", HeadSHA: head, CodeOwners: file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, d, gate.Blocked, "can never be satisfied (nor can GitLab's own rule)")
	if strings.Contains(d.Reason+strings.Join(d.Notes, "|"), "GitHub") {
		t.Errorf("a GitLab decision mentions GitHub: %q %q", d.Reason, d.Notes)
	}
}

func TestMembershipErrorFails(t *testing.T) {
	in := gate.Input{Risk: lint.Dangerous, NewMigrations: 1, Files: []string{"db/1.sql"}, Author: "alice", HeadSHA: head,
		Policy:  config.Approval{DBATeams: []string{"acme/dba"}},
		Reviews: []forge.Review{{Author: "dan", State: "APPROVED", CommitSHA: head}}}
	e := newEnv(t, "")
	e.s.RateLimitNext(100)
	_, err := gate.Decide(t.Context(), in, e.f)
	if err == nil || errors.Is(err, forge.ErrForbidden) {
		t.Errorf("Decide with a failing membership check: err = %v, want a failure (not a guess)", err)
	}
}

// TestIgnoredFindingsNeedApproval: a finding the author's ignore comment silences leaves the report's
// risk safe but still needs the DBA's approval, and the decision shows what was ignored and why.
func TestIgnoredFindingsNeedApproval(t *testing.T) {
	e := newEnv(t, owners)
	r := testReport(lint.Safe)
	r.Migrations[1].Findings = []lint.Finding{{Rule: "alter-system", Risk: lint.Dangerous, File: "db/migrations/002_orders_status.up.sql",
		Line: 2, Ignored: true, Reason: "tuning needed"}}
	r.Finish()
	if r.Risk != lint.Safe {
		t.Fatalf("report risk %s, want safe", r.Risk)
	}
	d, _, err := gate.Evaluate(t.Context(), e.f, gate.Request{Ref: e.ref, Report: r})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, d, gate.Pending)
	if d.Risk != lint.Dangerous || len(d.Ignored) != 1 || !strings.Contains(d.Ignored[0], "ignored by the author: tuning needed") {
		t.Errorf("risk %s, ignored %q", d.Risk, d.Ignored)
	}
	if md := gate.Markdown(d); !strings.Contains(md, `ignored by the author\: tuning needed`) {
		t.Errorf("Markdown lacks the ignored finding:\n%s", md)
	}
	if a := d.Report(); len(a.Ignored) != 1 {
		t.Errorf("report approval ignored %q", a.Ignored)
	}
}

// TestGitLabOptionalSectionOwnersMayApprove: a migration owned only by an optional section asks GitLab
// for no approval, but the policy still wants one: the section's owners may give it, it is not unowned.
func TestGitLabOptionalSectionOwnersMayApprove(t *testing.T) {
	file, _ := codeowners.Parse(codeowners.GitLab, []byte("^[Opt]\n/db/ @dba1\n"))
	in := gate.Input{
		Dialect: codeowners.GitLab, Risk: lint.Dangerous, NewMigrations: 1, Files: []string{"db/1.sql"},
		Author: "alice", HeadSHA: head, CodeOwners: file,
	}
	d, err := gate.Decide(t.Context(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, d, gate.Pending, "needs 1 more approval from @dba1", "owned only by the optional ^[Opt]")
	in.Reviews = []forge.Review{{Author: "dba1", State: "APPROVED", CommitSHA: head}}
	d, _ = gate.Decide(t.Context(), in, nil)
	wantState(t, d, gate.Approved, "approved by dba1")
	if strings.Contains(strings.Join(d.Notes, "|"), "owns none") {
		t.Errorf("notes %q say the optional owner owns nothing", d.Notes)
	}

	// A required section owns the file too: only its owners count.
	file, _ = codeowners.Parse(codeowners.GitLab, []byte("^[Opt]\n/db/ @dba1\n[DB]\n/db/ @dora\n"))
	in.CodeOwners = file
	d, _ = gate.Decide(t.Context(), in, nil)
	wantState(t, d, gate.Pending, "needs 1 more approval from @dora")
}

// TestSectionCountAboveItsOwners: a section asking for more approvals than it has owners can never be
// satisfied; the gate blocks saying so instead of asking for more approvals from who already approved.
func TestSectionCountAboveItsOwners(t *testing.T) {
	file, _ := codeowners.Parse(codeowners.GitLab, []byte("[DB][3]\n/db/ @dba1 @dba2\n"))
	in := gate.Input{
		Dialect: codeowners.GitLab, Risk: lint.Dangerous, NewMigrations: 1, Files: []string{"db/1.sql"},
		Author: "alice", HeadSHA: head, CodeOwners: file,
		Reviews: []forge.Review{{Author: "dba1", State: "APPROVED", CommitSHA: head}, {Author: "dba2", State: "APPROVED", CommitSHA: head}},
	}
	d, err := gate.Decide(t.Context(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, d, gate.Blocked, "section [DB] needs 3 approvals but has only 2 eligible owners (@dba1, @dba2, who approved)")
	if strings.Contains(d.Reason, "from @dba1") || len(d.Owners) != 0 {
		t.Errorf("reason %q (owners %q) asks those who approved", d.Reason, d.Owners)
	}
}

// TestAuthorIsNotAPossibleApprover: the author's approval never counts, so the author is not named
// among who may still approve.
func TestAuthorIsNotAPossibleApprover(t *testing.T) {
	file, _ := codeowners.Parse(codeowners.GitLab, []byte("/db/ @alice @dba1\n"))
	in := gate.Input{
		Dialect: codeowners.GitLab, Risk: lint.Dangerous, NewMigrations: 1, Files: []string{"db/1.sql"},
		Author: "alice", HeadSHA: head, CodeOwners: file,
	}
	d, err := gate.Decide(t.Context(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, d, gate.Pending, "needs 1 more approval from @dba1")
	if strings.Contains(d.Reason, "@alice") {
		t.Errorf("reason %q names the author", d.Reason)
	}
	// The author as the only owner: nobody else can approve.
	file, _ = codeowners.Parse(codeowners.GitLab, []byte("/db/ @alice\n"))
	in.CodeOwners = file
	d, _ = gate.Decide(t.Context(), in, nil)
	wantState(t, d, gate.Blocked, "has only 0 eligible owners besides the author @alice")
}

// TestMarkdownKeepsToItsTableAndBounds: a pipe in a file name stays in its cell of the requirements
// table (GitHub splits a row at a pipe even inside a code span), and the author's ignored findings are
// listed 20 at most, each cut at 500 characters, as in the check's comment.
func TestMarkdownKeepsToItsTableAndBounds(t *testing.T) {
	d := &gate.Decision{State: gate.Pending, Needed: 1, Owners: []string{"@acme/dba"}, Required: true,
		Requirements: []gate.Requirement{{Owners: []string{"@acme/dba"}, Files: []string{"db/a|b.sql", "db/c.sql"}, Needed: 1, ApprovedBy: []string{"x|y"}}}}
	for i := range 30 {
		d.Ignored = append(d.Ignored, fmt.Sprintf("finding %d ignored by the author: %s", i, strings.Repeat("r", 800)))
	}
	md := gate.Markdown(d)
	var row string
	for _, l := range strings.Split(md, "\n") {
		if strings.Contains(l, "db/c.sql") {
			row = l
		}
	}
	if unescaped := strings.Count(row, "|") - strings.Count(row, `\|`); unescaped != 4 {
		t.Errorf("the row has %d cell separators, want 4 (3 cells):\n%s", unescaped, row)
	}
	if !strings.Contains(row, "`db/a\\|b.sql`") || !strings.Contains(row, "`x\\|y`") {
		t.Errorf("the pipes of the file name and login are not escaped for the table:\n%s", row)
	}
	if n := strings.Count(md, "ignored by the author"); n != 20 {
		t.Errorf("%d ignored findings listed, want 20", n)
	}
	if !strings.Contains(md, "- … 10 more (in the check's report)") {
		t.Errorf("no count of the ignored findings left out:\n%s", md)
	}
	if strings.Contains(md, strings.Repeat("r", 501)) {
		t.Error("an ignored finding's text is not cut at 500 characters")
	}
}

// TestTeamOwnerNeedsStanding: GitHub counts a team CODEOWNERS names as code owner only when the team is
// visible and has write access to the repository itself, even if its members have write access of their
// own: a secret team, or one with read, triage or no access, is asked for no review and its members'
// approvals are no code owner's. The gate reads each such team's standing and counts its members no more
// than GitHub does, saying which team, for which files, why and what to do; the other owners still
// count.
func TestTeamOwnerNeedsStanding(t *testing.T) {
	const files = "db/migrations/002_orders_status.up.sql, db/migrations/002_orders_status.down.sql"
	for _, tt := range []struct {
		name   string
		role   string
		secret bool
		want   string
		has    []string
	}{
		{"write", "write", false, gate.Approved, []string{"approved by dan"}},
		{"maintain", "maintain", false, gate.Approved, []string{"approved by dan"}},
		{"admin", "admin", false, gate.Approved, []string{"approved by dan"}},
		{"read", "read", false, gate.Pending, []string{
			"@acme/dba, which CODEOWNERS names as an owner of " + files + ", has the read role on acme/shop, without write access",
			"give it write access to acme/shop", "dan approved and is in @acme/dba, which GitHub does not count as a code owner",
			"needs 1 more approval from @dora; GitHub counts no code owner's approval through @acme/dba"}},
		{"triage", "triage", false, gate.Pending, []string{"has the triage role on acme/shop, without write access"}},
		{"no access", "", false, gate.Pending, []string{"@acme/dba, which CODEOWNERS names as an owner of " + files + ", has no access to acme/shop",
			"give it write access to acme/shop"}},
		{"secret", "write", true, gate.Pending, []string{"@acme/dba, which CODEOWNERS names as an owner of " + files + ", is secret",
			"make it visible", "dan approved and is in @acme/dba"}},
		{"secret and read", "read", true, gate.Pending, []string{"is secret and has the read role on acme/shop, without write access",
			"make it visible and give it write access to acme/shop"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, owners)
			e.s.SetTeamRole("acme/dba", tt.role)
			e.s.SetTeamSecret("acme/dba", tt.secret)
			e.s.Expect("GET /orgs/{org}/teams/{team}/repos/{owner}/{repo}")
			e.review("dan", "APPROVED") // owns the migrations through @acme/dba only
			d := e.decide(t, config.Approval{})
			wantState(t, d, tt.want, tt.has...)
			if tt.want != gate.Approved && strings.Contains(strings.Join(d.Owners, " "), "@acme/dba") {
				t.Errorf("owners who may still approve %q name @acme/dba, which GitHub does not count", d.Owners)
			}
			// A direct owner's approval counts all the same.
			e.review("dora", "APPROVED")
			wantState(t, e.decide(t, config.Approval{}), gate.Approved)
		})
	}
	t.Run("the only owner", func(t *testing.T) {
		e := newEnv(t, "/db/migrations/ @acme/dba\n")
		e.s.SetTeamRole("acme/dba", "read")
		e.review("dan", "APPROVED")
		d := e.decide(t, config.Approval{})
		wantState(t, d, gate.Blocked, "nobody may approve "+files, "GitHub counts no code owner's approval through @acme/dba",
			"has the read role on acme/shop")
		// approval.dba_users approve what GitHub's code owners cannot.
		wantState(t, e.decide(t, config.Approval{DBAUsers: []string{"dora"}}), gate.Pending, "needs 1 more approval from @dora")
	})
	t.Run("approval.dba_teams are the policy's", func(t *testing.T) {
		e := newEnv(t, owners)
		e.s.SetTeamRole("acme/dba", "read")
		e.review("dan", "APPROVED")
		wantState(t, e.decide(t, config.Approval{DBATeams: []string{"acme/dba"}}), gate.Approved, "approved by dan")
	})
}

// TestTeamStandingUnreadable: a token that may not read a team's standing (the Actions GITHUB_TOKEN: 404;
// an App token without Members: read: 403) neither counts its members' approvals nor drops them as a
// team without access: as for membership it cannot read, the decision says what it could not read and
// which permission reads it, and approval.dba_users still count.
func TestTeamStandingUnreadable(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(s *githubtest.Server)
	}{
		{"GITHUB_TOKEN (404)", func(s *githubtest.Server) { s.SetMembershipForbidden(true) }},
		{"App token without Members (403)", func(s *githubtest.Server) { s.SetOrgForbidden(true) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, owners)
			tt.setup(e.s)
			e.review("dan", "APPROVED")
			d := e.decide(t, config.Approval{})
			wantState(t, d, gate.Pending, "cannot read team membership (@acme/dba)",
				"cannot read the members of @acme/dba, nor whether it is visible and has write access to acme/shop", "read:org",
				"list the DBAs in approval.dba_users")
			if !slices.Contains(d.Owners, "@acme/dba") {
				t.Errorf("owners %q: a team the token cannot read may still be one GitHub counts", d.Owners)
			}
			wantState(t, e.decide(t, config.Approval{DBAUsers: []string{"dan"}}), gate.Approved, "dba_users still count")
		})
	}
	t.Run("other failures fail", func(t *testing.T) {
		e := newEnv(t, owners)
		e.s.RateLimitNextOn("GET /orgs/{org}/teams/{team}/repos/{owner}/{repo}", 100)
		e.review("dan", "APPROVED")
		_, _, err := gate.Evaluate(t.Context(), e.f, gate.Request{Ref: e.ref, Dialect: codeowners.GitHub, Report: testReport(lint.Dangerous)})
		var rl *forge.RateLimitError
		if !errors.As(err, &rl) || !strings.Contains(err.Error(), "@acme/dba") {
			t.Errorf("Evaluate with the team's access rate-limited throughout: err = %v, want a RateLimitError naming @acme/dba", err)
		}
	})
}

// TestTeamOwnerThroughRunCache: schemagate gate evaluates through the run's cache of the forge
// (forge.WithRunCache), which passed on only the Forge interface: the team's standing went unread, and
// no member of a team with write access could approve ("the token cannot read team membership").
func TestTeamOwnerThroughRunCache(t *testing.T) {
	e := newEnv(t, owners)
	e.s.SetTeamRole("acme/dba", "write")
	e.s.Expect("GET /orgs/{org}/teams/{team}/repos/{owner}/{repo}")
	e.review("dan", "APPROVED") // owns the migrations through @acme/dba only
	d, _, err := gate.Evaluate(t.Context(), forge.WithRunCache(e.f), gate.Request{Ref: e.ref, Policy: config.Approval{}, Dialect: codeowners.GitHub, Report: testReport(lint.Dangerous)})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	wantState(t, d, gate.Approved, "approved by dan")
	// Read as a team with read access through the cache too.
	e.s.SetTeamRole("acme/dba", "read")
	d, _, err = gate.Evaluate(t.Context(), forge.WithRunCache(e.f), gate.Request{Ref: e.ref, Policy: config.Approval{}, Dialect: codeowners.GitHub, Report: testReport(lint.Dangerous)})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	wantState(t, d, gate.Pending, "has the read role on acme/shop, without write access")
}

// TestChangeRequestThroughUnreadableTeamHolds: a change request from a reviewer who may belong to a team
// CODEOWNERS names, whose members the token cannot read (the Actions GITHUB_TOKEN: every team request
// answers 404), may be a DBA's: it must hold the decision, not read as a non-owner's while another
// owner's approval turns the gate green. A reviewer the token can place outside every owner still
// blocks nothing.
func TestChangeRequestThroughUnreadableTeamHolds(t *testing.T) {
	e := newEnv(t, "/db/migrations/ @acme/dba @dora\n")
	e.s.SetMembershipForbidden(true)
	e.review("bob", "CHANGES_REQUESTED")
	e.review("dora", "APPROVED")
	d := e.decide(t, config.Approval{})
	wantState(t, d, gate.Blocked, "changes requested by bob, who may belong to @acme/dba",
		"bob requested changes and may belong to @acme/dba, whose members the token cannot read", "read:org", "approval.dba_users")
	for _, n := range d.Notes {
		if strings.Contains(n, "owns none") {
			t.Errorf("note %q: bob may own the files through the team, which the token cannot read", n)
		}
	}
	if st := gate.Status(d, ""); st.State != "failure" {
		t.Errorf("status %+v, want a failure", st)
	}
	// dba_users count without reading the team, but say nothing of bob.
	wantState(t, e.decide(t, config.Approval{DBAUsers: []string{"dora"}}), gate.Blocked, "bob, who may belong to @acme/dba")
	// bob withdraws: dora's approval counts.
	e.review("bob", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Approved, "approved by dora")

	// A token that reads the team knows bob is not in it.
	e = newEnv(t, "/db/migrations/ @acme/dba @dora\n")
	e.review("bob", "CHANGES_REQUESTED")
	e.review("dora", "APPROVED")
	wantState(t, e.decide(t, config.Approval{}), gate.Approved, "bob requested changes but owns none")
}

// TestChangeRequestNeedsWriteAccess: GitHub counts reviews only from users with write access, and the gate
// already counted no approval of an owner who lost it: their change request must not block either, and
// a note says it was not counted and why. The permission is asked of them as of an approver, whatever
// their author_association says.
func TestChangeRequestNeedsWriteAccess(t *testing.T) {
	for _, tt := range []struct {
		name, association, role, want string
		has                           []string
	}{
		{"read", "MEMBER", "read", gate.Approved, []string{"approved by dora",
			"carol requested changes but has the read role on acme/shop, without write access (GitHub counts reviews only from users with write, maintain or admin access): their request was not counted"}},
		{"no access", "MEMBER", "", gate.Approved, []string{"carol requested changes but has no access to acme/shop"}},
		{"write", "MEMBER", "write", gate.Blocked, []string{"changes requested by carol"}},
		{"private member with write", "CONTRIBUTOR", "write", gate.Blocked, []string{"changes requested by carol"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "/db/migrations/ @carol @dora\n")
			e.s.SetAssociation("carol", tt.association)
			e.s.SetRole("carol", tt.role)
			e.s.SetRole("dora", "write")
			e.review("carol", "CHANGES_REQUESTED")
			e.review("dora", "APPROVED")
			wantState(t, e.decide(t, config.Approval{}), tt.want, tt.has...)
		})
	}
}

// TestOwnerWithoutWriteAccessOwnsNothing: GitHub counts a user CODEOWNERS names as code owner only with
// write access to the repository (an invalid owner otherwise): files whose only owner holds read access
// have nobody who may approve, and the gate blocks saying so and what to do, as for a team without
// write access, rather than wait for an approval that can never count; another owner is still asked.
func TestOwnerWithoutWriteAccessOwnsNothing(t *testing.T) {
	const files = "db/migrations/002_orders_status.up.sql, db/migrations/002_orders_status.down.sql"
	e := newEnv(t, "/db/migrations/ @carol\n")
	e.s.SetRole("carol", "read")
	e.review("carol", "APPROVED")
	d := e.decide(t, config.Approval{})
	wantState(t, d, gate.Blocked, "nobody may approve "+files, "GitHub counts no code owner without write access (@carol)",
		"@carol, whom CODEOWNERS names as an owner of "+files+", has the read role on acme/shop, without write access",
		"grant them write access to acme/shop")
	if st := gate.Status(d, ""); st.State != "failure" {
		t.Errorf("status %+v, want a failure", st)
	}

	e = newEnv(t, "/db/migrations/ @carol @dora\n")
	e.s.SetRole("carol", "read")
	d = e.decide(t, config.Approval{})
	wantState(t, d, gate.Pending, "needs 1 more approval from @dora")
	if slices.Contains(d.Owners, "@carol") {
		t.Errorf("owners who may still approve %q name @carol, who cannot write", d.Owners)
	}
	// approval.dba_users are the policy's own approvers and are not read so.
	e = newEnv(t, "/db/migrations/ @carol\n")
	e.s.SetRole("carol", "read")
	wantState(t, e.decide(t, config.Approval{DBAUsers: []string{"dan"}}), gate.Pending, "needs 1 more approval from @dan")
	// Read through the run's cache of the forge too, as schemagate gate reads it.
	d, _, err := gate.Evaluate(t.Context(), forge.WithRunCache(e.f), gate.Request{Ref: e.ref, Dialect: codeowners.GitHub, Report: testReport(lint.Dangerous)})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	wantState(t, d, gate.Blocked, "GitHub counts no code owner without write access (@carol)")
}
