package sqlparse

import pg_query "github.com/pganalyze/pg_query_go/v6"

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
	for _, t := range res.Tokens {
		if t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT {
			continue
		}
		out = append(out, sql[t.Start:t.End])
	}
	return out, nil
}
