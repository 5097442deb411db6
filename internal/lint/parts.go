package lint

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Findings about one part of a statement stand where that part starts (see analyzer.part): a column of
// CREATE TABLE at its name, a subcommand of an ALTER TABLE of several at its first word. A CREATE TABLE
// of thirty columns, or an ALTER TABLE that adds a column and changes the type of another, then gets its
// annotations on the lines that need them.

// subcommandParts returns the offset in the statement's SQL where each subcommand of at starts, in the
// order of at.Cmds; nil when the statement has fewer than two (the statement is its subcommand) or its
// text cannot be matched to them.
//
// The parser keeps no location for a subcommand: they are found with the scanner, which tells strings,
// quoted names and comments apart. The first starts after the relation's name; the others after each
// comma outside parentheses and brackets (a numeric(10,2), a CHECK's function call, an ARRAY[...]).
func (a *analyzer) subcommandParts(at *pg_query.AlterTableStmt) []int {
	if len(at.Cmds) < 2 || at.Relation == nil {
		return nil
	}
	sql := a.stmt.SQL
	name := a.stmt.Offset(at.Relation.Location)
	if name < 0 {
		return nil
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil
	}
	var toks []*pg_query.ScanToken
	for _, t := range res.Tokens {
		if t.Token != pg_query.Token_SQL_COMMENT && t.Token != pg_query.Token_C_COMMENT {
			toks = append(toks, t)
		}
	}
	i := 0
	for i < len(toks) && int(toks[i].Start) < name {
		i++
	}
	if i == len(toks) || int(toks[i].Start) != name {
		return nil
	}
	// The name: words joined by dots (schema.table), then an optional * (the table and its children).
	for i++; i+1 < len(toks) && toks[i].Token == pg_query.Token_ASCII_46; i += 2 {
	}
	if i < len(toks) && toks[i].Token == pg_query.Token_ASCII_42 {
		i++
	}
	if i == len(toks) {
		return nil
	}
	parts := []int{int(toks[i].Start)}
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i].Token {
		case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
			depth++
		case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
			depth--
		case pg_query.Token_ASCII_44:
			if depth == 0 && i+1 < len(toks) {
				parts = append(parts, int(toks[i+1].Start))
			}
		}
	}
	if len(parts) != len(at.Cmds) {
		return nil
	}
	return parts
}
