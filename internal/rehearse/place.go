package rehearse

import (
	"strings"
	"unicode"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// addProblems appends the sentences of a round trip's comparison to rt's problems, each with the place
// of the statement that names its object: for the comparison after the down (afterDown), an object the
// down leaves behind is looked for in the up first (the statement that creates it) and one it does not
// restore, or restores otherwise, in the down first (the statement that drops or alters it); after the
// re-up, in the up first. A sentence whose object no statement names has no place.
func addProblems(rt *report.Roundtrip, m *migrate.Migration, sentences []schema.Sentence, afterDown bool) {
	words := wordCache{} // each statement scanned once, however many problems look in it
	for _, s := range sentences {
		scripts := []*migrate.Script{m.Up, m.Down}
		if afterDown && s.Side <= 0 {
			scripts = []*migrate.Script{m.Down, m.Up}
		}
		if at := statementNaming(scripts, s.Change, words); at != nil {
			at.Problem = len(rt.Problems)
			rt.Places = append(rt.Places, *at)
		}
		rt.Problems = append(rt.Problems, s.Text)
	}
}

// addFailure appends a problem that a statement's error tells, placed at that statement.
func addFailure(rt *report.Roundtrip, text string, e *report.SQLError) {
	if e != nil && e.File != "" && e.Line > 0 && !strings.Contains(e.File, ".generated.") {
		rt.Places = append(rt.Places, report.ProblemPlace{Problem: len(rt.Problems), File: e.File, Line: e.Line, Column: e.Column})
	}
	rt.Problems = append(rt.Problems, text)
}

// statementNaming is the place of the first statement of scripts, in order, that names c's object
// (and its schema, when that is not public), preferring one that names its table as well; nil when none
// does or the object has no name a statement would spell (an operator, a cast, a membership). Names are
// matched as the parser reads them: outside string constants, dollar-quoted bodies and comments, plain
// ones in any letter case, quoted ones exactly. A function must be named by a statement that says
// FUNCTION, PROCEDURE, ROUTINE or AGGREGATE (overloads are not told apart). A down written by
// schemagate (--generate-down) is no file of the repository: it is not looked in.
func statementNaming(scripts []*migrate.Script, c schema.Change, words wordCache) *report.ProblemPlace {
	name, schemaName, table := placeNames(c)
	if name == "" {
		return nil
	}
	routine := c.Kind == schema.KindFunction || c.Kind == schema.KindProcedure || c.Kind == schema.KindAggregate
	var best *report.ProblemPlace
	bestScore := 0
	for _, sc := range scripts {
		if sc.Empty() || strings.Contains(sc.File, ".generated.") {
			continue
		}
		for i := range sc.Statements {
			st := &sc.Statements[i]
			ws := words.of(st)
			if !ws[name] || schemaName != "" && !ws[schemaName] ||
				routine && !ws["function"] && !ws["procedure"] && !ws["routine"] && !ws["aggregate"] {
				continue
			}
			score := 1
			if table != "" && ws[table] {
				score = 2
			}
			if score > bestScore {
				best = &report.ProblemPlace{File: sc.File, Line: st.Pos.Line, Column: st.Pos.Column}
				bestScore = score
			}
			if table == "" || score == 2 {
				return best
			}
		}
	}
	return best
}

// placeNames are the names a statement about c spells: the object's own, its schema when that is not
// public ("" otherwise), and its table's when it belongs to one. name is "" when c has no such name.
func placeNames(c schema.Change) (name, schemaName, table string) {
	switch c.Kind {
	case schema.KindMembership, schema.KindDefaultPrivileges, schema.KindDatabase, schema.KindCast, schema.KindOperator,
		schema.KindUserMapping, schema.KindTransform, schema.KindPrivilege:
		return "", "", ""
	case schema.KindRole, schema.KindSchema, schema.KindExtension, schema.KindLanguage, schema.KindForeignServer,
		schema.KindForeignWrapper, schema.KindEventTrigger, schema.KindPublication, schema.KindAccessMethod:
		// Names of their own, never schema-qualified: a dot is part of the name.
		return c.Name, "", ""
	}
	name = schema.ObjectName(c)
	if !strings.ContainsFunc(name, func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return "", "", ""
	}
	qualified := c.Name
	if c.Table != "" {
		qualified = c.Table
		if c.Table != c.Name {
			table = schema.ObjectName(schema.Change{Name: c.Table})
		}
	}
	if sch, _, ok := schema.CutKey(qualified); ok && sch != "public" {
		schemaName = sch
	}
	return name, schemaName, table
}

// wordCache keeps statementWords per statement.
type wordCache map[*sqlparse.Statement]map[string]bool

func (c wordCache) of(st *sqlparse.Statement) map[string]bool {
	ws, ok := c[st]
	if !ok {
		ws = statementWords(st.SQL)
		c[st] = ws
	}
	return ws
}

// statementWords are the identifiers and key words of a statement as the parser reads them: outside
// string constants (dollar-quoted bodies too) and comments, plain ones folded to lower case, quoted
// ones as written. A statement the scanner refuses has none.
func statementWords(sql string) map[string]bool {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil
	}
	ws := map[string]bool{}
	for _, t := range res.GetTokens() {
		switch t.GetToken() {
		case pg_query.Token_SCONST, pg_query.Token_USCONST, pg_query.Token_BCONST, pg_query.Token_XCONST,
			pg_query.Token_SQL_COMMENT, pg_query.Token_C_COMMENT, pg_query.Token_FCONST, pg_query.Token_ICONST,
			pg_query.Token_PARAM, pg_query.Token_Op, pg_query.Token_UIDENT:
			continue
		}
		if t.GetToken() < 256 || t.GetStart() < 0 || int(t.GetEnd()) > len(sql) || t.GetStart() >= t.GetEnd() {
			continue
		}
		w := sql[t.GetStart():t.GetEnd()]
		if len(w) >= 2 && w[0] == '"' && w[len(w)-1] == '"' {
			ws[strings.ReplaceAll(w[1:len(w)-1], `""`, `"`)] = true
		} else {
			ws[strings.ToLower(w)] = true
		}
	}
	return ws
}
