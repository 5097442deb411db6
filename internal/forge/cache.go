package forge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// RunCache is a Forge that remembers, for the life of the value, what one run reads of its change
// requests more than once: their comments and their files. One gate run reads the comments to find its
// approval record and again to find its sticky comment, and lists the files to check a report against
// the change request and again to decide whose approval it needs; on a busy or large change request each
// read is several pages of API calls counted against the rate limit (and, on GitHub, one more for the
// pull request's changed_files). Writing a comment through it forgets what it remembered of that change
// request's comments; the files are remembered only once listed in full (an error is not remembered).
type RunCache struct {
	Forge
	mu       sync.Mutex
	comments map[Ref][]Comment
	files    map[Ref][]ChangedFile
}

var (
	_ Forge          = (*RunCache)(nil)
	_ FileLister     = (*RunCache)(nil)
	_ TeamReader     = (*RunCache)(nil)
	_ UserReader     = (*RunCache)(nil)
	_ SameHeadLister = (*RunCache)(nil)
)

// WithRunCache returns f behind a RunCache.
func WithRunCache(f Forge) *RunCache {
	return &RunCache{Forge: f, comments: map[Ref][]Comment{}, files: map[Ref][]ChangedFile{}}
}

// StoredBody passes the wrapped forge's own storage form through (see BodyStorer).
func (c *RunCache) StoredBody(body string) string { return StoredBody(c.Forge, body) }

// MaxCommentRunes passes the wrapped forge's comment limit through (see CommentLimiter).
func (c *RunCache) MaxCommentRunes() int { return MaxCommentRunes(c.Forge) }

// TeamAccess passes the wrapped forge's reading of a team's standing through (the gate's TeamStanding:
// GitHub counts a CODEOWNERS team only when it is visible and may write): without it, every team the
// gate reads through the cache went unread, and its members' approvals uncounted. A forge that cannot
// tell answers ErrForbidden, as for a token that may not read it.
func (c *RunCache) TeamAccess(ctx context.Context, repo, team string) (TeamAccess, error) {
	ts, ok := c.Forge.(TeamReader)
	if !ok {
		return TeamAccess{}, fmt.Errorf("read the standing of team %s: %w", team, ErrForbidden)
	}
	return ts.TeamAccess(ctx, repo, team)
}

// UserAccess passes the wrapped forge's reading of a user's standing through (see UserReader), as
// TeamAccess does a team's. A forge that cannot tell answers ErrForbidden.
func (c *RunCache) UserAccess(ctx context.Context, repo, login string) (UserAccess, error) {
	ur, ok := c.Forge.(UserReader)
	if !ok {
		return UserAccess{}, fmt.Errorf("read the standing of %s: %w", login, ErrForbidden)
	}
	return ur.UserAccess(ctx, repo, login)
}

// SameHead passes the wrapped forge's listing of the open change requests that share cr's head through
// (see SameHeadLister): without it, the gate would never see them, as it once never saw a team's
// standing. A forge that has none answers an error wrapping errors.ErrUnsupported: its statuses are
// not shared that way (GitLab sets them on the merge request's own pipeline).
func (c *RunCache) SameHead(ctx context.Context, cr *ChangeRequest) ([]*ChangeRequest, error) {
	sl, ok := c.Forge.(SameHeadLister)
	if !ok {
		return nil, fmt.Errorf("list the change requests whose head is %s: %T cannot: %w", cr.HeadSHA, c.Forge, errors.ErrUnsupported)
	}
	return sl.SameHead(ctx, cr)
}

// Comments returns the change request's comments, read once until a comment is written through c.
func (c *RunCache) Comments(ctx context.Context, ref Ref) ([]Comment, error) {
	c.mu.Lock()
	cs, ok := c.comments[ref]
	c.mu.Unlock()
	if ok {
		return slices.Clone(cs), nil
	}
	cs, err := c.Forge.Comments(ctx, ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.comments[ref] = slices.Clone(cs)
	c.mu.Unlock()
	return cs, nil
}

// CreateComment adds a comment and forgets the change request's comments.
func (c *RunCache) CreateComment(ctx context.Context, ref Ref, body string) (int64, error) {
	c.forget(ref)
	return c.Forge.CreateComment(ctx, ref, body)
}

// UpdateComment replaces a comment's body and forgets the change request's comments.
func (c *RunCache) UpdateComment(ctx context.Context, ref Ref, id int64, body string) error {
	c.forget(ref)
	return c.Forge.UpdateComment(ctx, ref, id, body)
}

func (c *RunCache) forget(ref Ref) {
	c.mu.Lock()
	delete(c.comments, ref)
	c.mu.Unlock()
}

// Files lists the change request's files through the wrapped forge's FileLister, once; an error
// wrapping errors.ErrUnsupported when the wrapped forge is none.
func (c *RunCache) Files(ctx context.Context, ref Ref) ([]ChangedFile, error) {
	fl, ok := c.Forge.(FileLister)
	if !ok {
		return nil, fmt.Errorf("list the files of %s %d with their status: %T cannot: %w", ref.Repo, ref.Number, c.Forge, errors.ErrUnsupported)
	}
	c.mu.Lock()
	fs, ok := c.files[ref]
	c.mu.Unlock()
	if ok {
		return slices.Clone(fs), nil
	}
	fs, err := fl.Files(ctx, ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.files[ref] = slices.Clone(fs)
	c.mu.Unlock()
	return fs, nil
}

// ChangedFiles lists the paths the change request leaves at its head: Present of Files, shared with
// it, when the wrapped forge is a FileLister (as both clients, whose ChangedFiles is just that, are).
func (c *RunCache) ChangedFiles(ctx context.Context, ref Ref) ([]string, error) {
	if _, ok := c.Forge.(FileLister); !ok {
		return c.Forge.ChangedFiles(ctx, ref)
	}
	fs, err := c.Files(ctx, ref)
	if err != nil {
		return nil, err
	}
	return Present(fs), nil
}

// Memo remembers a lookup's answer, value or error, per key for the life of a client (a deploy asks
// which change request brought each pending file, and several files share a commit). Safe for
// concurrent use; the zero value is ready.
type Memo[K comparable, V any] struct {
	mu      sync.Mutex
	answers map[K]memoAnswer[V]
}

type memoAnswer[V any] struct {
	v   V
	err error
}

// Get returns the remembered answer for key, or f's, which it remembers.
func (m *Memo[K, V]) Get(key K, f func() (V, error)) (V, error) {
	m.mu.Lock()
	a, ok := m.answers[key]
	m.mu.Unlock()
	if !ok {
		a.v, a.err = f()
		m.mu.Lock()
		if m.answers == nil {
			m.answers = map[K]memoAnswer[V]{}
		}
		m.answers[key] = a
		m.mu.Unlock()
	}
	return a.v, a.err
}
