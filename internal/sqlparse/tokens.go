package sqlparse

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Tokens are the tokens of sql as PostgreSQL's scanner reads them, comments (-- and nested /* */) left
// out: what the server parses, whatever blank space or comments stand between them. A string literal
// (E'x' and U&'x' too), a dollar-quoted body and a quoted identifier are one token each, as written, so a
// "comment" inside one stays. An error when sql does not scan (an unterminated quote or comment).
func Tokens(sql string) ([]string, error) {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(res.Tokens))
	prevString := false
	for _, t := range res.Tokens {
		if t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT {
			continue
		}
		str := stringToken(t.Token)
		if str && prevString {
			// 'a' followed by 'b' is one string when a line break (a -- comment's end) stands between
			// them, a syntax error otherwise: what separates them counts, and the tokens cannot tell.
			return nil, fmt.Errorf("string constants one after another at byte %d: whether they continue each other depends on the blank space between them", t.Start)
		}
		prevString = str
		out = append(out, sql[t.Start:t.End])
	}
	return out, nil
}

// stringToken tells whether a token is a string constant ('x', E'x', U&'x', B'x', X'x', $$x$$).
func stringToken(t pg_query.Token) bool {
	switch t {
	case pg_query.Token_SCONST, pg_query.Token_USCONST, pg_query.Token_BCONST, pg_query.Token_XCONST:
		return true
	}
	return false
}
