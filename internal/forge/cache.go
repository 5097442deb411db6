package forge

import (
	"context"
	"slices"
	"sync"
)

// WithCommentCache returns f with its change requests' comments remembered for the life of the value:
// one gate run reads them to find its approval record and again to find its sticky comment, and on a
// busy pull request each read is several pages of API calls counted against the rate limit. Writing a
// comment through it forgets what it remembered of that change request.
func WithCommentCache(f Forge) Forge {
	return &commentCache{Forge: f, comments: map[Ref][]Comment{}}
}

type commentCache struct {
	Forge
	mu       sync.Mutex
	comments map[Ref][]Comment
}

// StoredBody passes the wrapped forge's own storage form through (see BodyStorer).
func (c *commentCache) StoredBody(body string) string { return StoredBody(c.Forge, body) }

func (c *commentCache) Comments(ctx context.Context, ref Ref) ([]Comment, error) {
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

func (c *commentCache) CreateComment(ctx context.Context, ref Ref, body string) (int64, error) {
	c.forget(ref)
	return c.Forge.CreateComment(ctx, ref, body)
}

func (c *commentCache) UpdateComment(ctx context.Context, ref Ref, id int64, body string) error {
	c.forget(ref)
	return c.Forge.UpdateComment(ctx, ref, id, body)
}

func (c *commentCache) forget(ref Ref) {
	c.mu.Lock()
	delete(c.comments, ref)
	c.mu.Unlock()
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
