package forge

import (
	"context"
	"fmt"
	"strings"
)

// Upsert keeps one comment per marker on a change request: it updates the comment that carries marker
// and was written by the token's own user (f.Me), or creates one. The marker alone is never trusted,
// since anyone who can comment can paste it. marker should name what the comment is about (e.g. the
// migration folder) so that two folders get two comments. body is stored with the marker appended
// when it does not hold it already. old are markers that earlier versions gave the same comment: when
// no comment holds marker, the one that holds the first old marker found is updated (and carries marker
// from then on) rather than left beside a new one. A read-only token yields a wrapped ErrReadOnly:
// callers skip the comment with a notice.
func Upsert(ctx context.Context, f Forge, ref Ref, marker, body string, old ...string) (id int64, created bool, err error) {
	if marker == "" {
		return 0, false, fmt.Errorf("upsert comment: empty marker")
	}
	if !strings.Contains(body, marker) {
		body = body + "\n\n" + marker
	}
	me, err := f.Me(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("upsert comment: %w", err)
	}
	c, err := FindOwn(ctx, f, ref, me, marker, old...)
	if err != nil {
		return 0, false, fmt.Errorf("upsert comment: %w", err)
	}
	if c != nil {
		if c.Body == body || c.Body == StoredBody(f, body) {
			return c.ID, false, nil
		}
		if err := f.UpdateComment(ctx, ref, c.ID, body); err != nil {
			return 0, false, fmt.Errorf("upsert comment: %w", err)
		}
		return c.ID, false, nil
	}
	id, err = f.CreateComment(ctx, ref, body)
	if err != nil {
		return 0, false, fmt.Errorf("upsert comment: %w", err)
	}
	return id, true, nil
}

// BodyStorer is implemented by forges that store a comment body other than as given (GitLab makes
// quick actions inert): StoredBody is what they would store.
type BodyStorer interface {
	StoredBody(body string) string
}

// StoredBody is body as f would store it.
func StoredBody(f Forge, body string) string {
	if s, ok := f.(BodyStorer); ok {
		return s.StoredBody(body)
	}
	return body
}

// CommentLimiter is implemented by forges that say how long a comment may be: GitHub refuses an issue
// comment of more than 65,536 characters (422 "Body is too long"), GitLab a note of more than 1,000,000.
type CommentLimiter interface {
	// MaxCommentRunes is the most characters (runes) a comment body may hold as the forge stores it
	// (StoredBody).
	MaxCommentRunes() int
}

// DefaultMaxCommentRunes is the limit of a forge that states none (MaxCommentRunes): GitHub's, the
// smallest known.
const DefaultMaxCommentRunes = 65536

// MaxCommentRunes is the most characters f takes in a comment: its own limit (CommentLimiter), else
// DefaultMaxCommentRunes.
func MaxCommentRunes(f Forge) int {
	if l, ok := f.(CommentLimiter); ok {
		return l.MaxCommentRunes()
	}
	return DefaultMaxCommentRunes
}

// FindOwn returns the newest non-system comment written by author that holds marker, else the newest
// that holds the first of old that one holds (see Upsert), or nil.
func FindOwn(ctx context.Context, f Forge, ref Ref, author, marker string, old ...string) (*Comment, error) {
	cs, err := f.Comments(ctx, ref)
	if err != nil {
		return nil, err
	}
	for _, m := range append([]string{marker}, old...) {
		if m == "" {
			continue
		}
		for i := len(cs) - 1; i >= 0; i-- {
			c := cs[i]
			if !c.System && c.By(author) && strings.Contains(c.Body, m) {
				return &c, nil
			}
		}
	}
	return nil, nil
}

// SameLogin reports whether two logins name the same account: logins are case-insensitive. "name" and
// "name[bot]" are different accounts (a user may be called github-actions); see Comment.By.
func SameLogin(a, b string) bool {
	return a != "" && strings.EqualFold(a, b)
}

// By reports whether the comment was written by login. GitHub shows an App's bot as "name[bot]" in
// comments while the login may be given as "name" (--bot-login my-app): that form counts only when the
// comment's author is a bot account, so a user named like the bot never passes for it.
func (c Comment) By(login string) bool {
	if SameLogin(c.Author, login) {
		return true
	}
	trim := func(s string) string { return strings.TrimSuffix(strings.ToLower(s), "[bot]") }
	return c.AuthorBot && c.Author != "" && trim(c.Author) == trim(login)
}
