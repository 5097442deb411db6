// Package forge is the code-host interface schemagate talks to: change requests (GitHub pull requests,
// GitLab merge requests), their comments, reviews/approvals, commit statuses and changed files.
// Implementations live in forge/github and forge/gitlab; forgetest holds the conformance suite both pass.
package forge

import (
	"context"
	"errors"
	"time"
)

// ErrReadOnly is returned (wrapped) when the token may read but not write, e.g. a fork pull request's
// GITHUB_TOKEN (HTTP 403) or a GitLab CI_JOB_TOKEN. Callers skip the write with a notice.
var ErrReadOnly = errors.New("token cannot write")

// ErrNotFound is returned (wrapped) when the change request, comment or file does not exist.
var ErrNotFound = errors.New("not found")

// ErrForbidden is returned (wrapped) when the token may not read what was asked, e.g. organization team
// membership with a default GITHUB_TOKEN. Callers must not guess: they report it.
var ErrForbidden = errors.New("token may not read this")

// ErrIncomplete is returned (wrapped) when the forge lists only part of what was asked, e.g. the files
// of a change request beyond GitHub's 3000 or GitLab's diff limits. A partial list must never pass for
// the whole: the files left out would escape the checks.
var ErrIncomplete = errors.New("the forge lists only part of it")

// Ref identifies a change request: a repository (owner/name or GitLab project path/ID) and its number.
type Ref struct {
	Repo   string
	Number int
}

// ChangeRequest is a pull request or merge request.
type ChangeRequest struct {
	Ref
	Title   string
	Author  string
	HeadSHA string
	BaseSHA string
	BaseRef string
	State   string
	Merged  bool
	// Fork is set when the head lives in another repository (its token is read-only).
	Fork bool
	// HeadBranch is the branch the head is on (GitHub head.ref, GitLab source_branch), and HeadRepo
	// the repository that holds it (owner/name; "" when the forge does not say, or a fork was deleted).
	HeadBranch string
	HeadRepo   string
}

// Comment is a conversation comment (GitHub issue comment, GitLab MR note).
type Comment struct {
	ID     int64
	Author string
	// AuthorBot is set when the forge says the author is a bot account (GitHub: user.type "Bot", whose
	// login ends in "[bot]"); a user account may hold the same name without the suffix.
	AuthorBot bool
	Body      string
	System    bool
}

// Review is one review decision (GitHub review, GitLab approval).
type Review struct {
	Author string
	// State is APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING.
	State       string
	CommitSHA   string
	SubmittedAt time.Time
	// Outsider is set when the forge says the reviewer may not write to the repository now: GitHub
	// counts no review of theirs toward required or code-owner reviews, and no change request of theirs
	// blocks. On GitHub, for a reviewer whose latest decision is an approval or a change request, their
	// role on the repository says so (write, maintain and admin may write), whatever their
	// author_association: an organization member may hold read access only, an outside collaborator
	// read or triage, and a member whose membership is private shows as CONTRIBUTOR or NONE. For other reviews an author_association other than OWNER, MEMBER or
	// COLLABORATOR (as anybody has who reviews a public repository's pull request) says so.
	Outsider bool
	// Role is the reviewer's role on the repository when the forge was asked for it (GitHub's
	// role_name: admin, maintain, write, triage, read or a custom role; "none" for no collaborator),
	// "" when it was not.
	Role string
	// RoleUnread says why the forge, asked the reviewer's role, would not tell it (GitHub answers 403
	// to a token without push access and 422 for an app's bot): whether they may write is unknown, so
	// the gate counts no approval of theirs and keeps their change request, each with a note saying
	// this. Outsider is then unset.
	RoleUnread string
}

// TeamAccess is a team's standing in a repository, as a forge that asks it of a team CODEOWNERS names
// says (see gate.TeamStanding): GitHub counts a team as code owner only when it is visible and has write
// access to the repository itself, whatever access its members have of their own.
type TeamAccess struct {
	// Role is the team's role on the repository (GitHub's role_name: admin, maintain, write, triage, read
	// or a custom role), "" when the team has no access to it.
	Role string
	// Writes is set when the role lets the team push: admin, maintain or write, or a custom role built
	// on one of them.
	Writes bool
	// Secret is set when only the team's members and the organization's owners can see the team (GitHub
	// privacy "secret"; "closed" is visible).
	Secret bool
}

// TeamReader is implemented by forges that read a team's standing in a repository (GitHub); the gate
// asks it of every team CODEOWNERS names (see gate.TeamStanding). TeamAccess returns a wrapped
// ErrForbidden when the token may not read the team.
type TeamReader interface {
	TeamAccess(ctx context.Context, repo, team string) (TeamAccess, error)
}

// UserAccess is a user's standing in a repository: GitHub counts a user CODEOWNERS names as code owner
// only when they have write access to it.
type UserAccess struct {
	// Role is the user's role on the repository (GitHub's role_name), "none" when they have no access.
	Role string
	// Writes is set when the role lets the user push: admin, maintain or write, or a custom role built
	// on one of them.
	Writes bool
}

// UserReader is implemented by forges that read a user's standing in a repository (GitHub); the gate
// asks it of every user CODEOWNERS names as an owner of the migration files. UserAccess returns a
// wrapped ErrForbidden when the token may not read it.
type UserReader interface {
	UserAccess(ctx context.Context, repo, login string) (UserAccess, error)
}

// SameHeadLister is implemented by forges whose commit status belongs to a commit, not to a change
// request (GitHub): every open pull request whose head is that commit shows the same status, so the
// gate must not set success on it for one pull request while another with that head lacks its own
// approval.
type SameHeadLister interface {
	// SameHead lists the open change requests of cr's repository, cr left out, whose head is
	// cr.HeadSHA, all pages, in the order of their numbers; a wrapped ErrForbidden when the token may
	// not list them.
	SameHead(ctx context.Context, cr *ChangeRequest) ([]*ChangeRequest, error)
}

// ChangedFile is a file a change request adds, modifies, renames or removes, as the forge lists it.
type ChangedFile struct {
	Path string
	// Status is the forge's word for the change: added, modified, renamed, removed, ...
	Status string
	// BlobSHA is the git blob SHA of the file's content at the head ("" when removed or not given:
	// GitLab gives none).
	BlobSHA string
	// PreviousPath is where a renamed file was ("" when it was not renamed, or the forge does not say).
	PreviousPath string
}

// Present are the paths of files that the change request leaves at its head (all but removed ones),
// as ChangedFiles lists them.
func Present(files []ChangedFile) []string {
	var out []string
	for _, f := range files {
		if f.Status != "removed" {
			out = append(out, f.Path)
		}
	}
	return out
}

// FileLister is implemented by forges that list a change request's files with their status and, where
// the forge gives it, their content's blob SHA (GitHub does, GitLab does not). The gate uses it to check
// an untrusted report against the change request, reading a file's content at the head when it has no
// blob SHA.
type FileLister interface {
	// Files lists every file the change request touches, all pages, removed ones included, with the
	// status "removed" for those; a wrapped ErrNotFound when the change request does not exist, a
	// wrapped ErrIncomplete when the forge lists only some of them.
	Files(ctx context.Context, ref Ref) ([]ChangedFile, error)
}

// Status is a commit status.
type Status struct {
	Context     string
	State       string // success | pending | failure | error
	Description string
	TargetURL   string
}

// Forge is a code host. Every method takes a context, returns wrapped ErrReadOnly / ErrNotFound /
// ErrForbidden where those apply, and retries rate-limited requests itself (Retry-After / reset headers).
type Forge interface {
	// ChangeRequest returns the change request.
	ChangeRequest(ctx context.Context, ref Ref) (*ChangeRequest, error)
	// FindChangeRequestBySHA returns the open change request whose head is sha, else the most recently
	// merged one merged as sha (its merge or squash commit, or its head), into any branch; a wrapped
	// ErrNotFound when none is.
	FindChangeRequestBySHA(ctx context.Context, repo, sha string) (*ChangeRequest, error)
	// ChangeRequestOfFile returns the change request that brought the newest commit changing path, in
	// the history of commit ref, into branch ("" for any): merged there as that commit (its merge or
	// squash commit, or its head), else merged there containing it. A wrapped ErrNotFound when no merged
	// change request did (the commit was pushed straight to the branch) or no commit changed path.
	// Implementations remember the answer per commit, so files changed together cost one lookup.
	ChangeRequestOfFile(ctx context.Context, repo, path, ref, branch string) (*ChangeRequest, error)
	// Me returns the login of the token's user (the bot), used to find our own comments.
	Me(ctx context.Context) (string, error)
	// Comments lists every comment of the change request, all pages.
	Comments(ctx context.Context, ref Ref) ([]Comment, error)
	// CreateComment adds a comment and returns its ID.
	CreateComment(ctx context.Context, ref Ref, body string) (int64, error)
	// UpdateComment replaces a comment's body.
	UpdateComment(ctx context.Context, ref Ref, id int64, body string) error
	// Reviews lists every review, all pages, in chronological order.
	Reviews(ctx context.Context, ref Ref) ([]Review, error)
	// ChangedFiles lists the paths the change request adds or modifies, all pages; a wrapped
	// ErrIncomplete when the forge lists only some of its files.
	ChangedFiles(ctx context.Context, ref Ref) ([]string, error)
	// FileAt returns a file's content at a ref (branch or SHA); wrapped ErrNotFound if absent.
	FileAt(ctx context.Context, repo, path, ref string) ([]byte, error)
	// IsMember reports whether user belongs to team ("org/team" on GitHub, group path on GitLab);
	// wrapped ErrForbidden when the token cannot read membership.
	IsMember(ctx context.Context, team, user string) (bool, error)
	// SetStatus sets a commit status on sha.
	SetStatus(ctx context.Context, repo, sha string, st Status) error
}
