package rehearse

import (
	"strings"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/schema"
)

// addProblems appends the sentences of a round trip's comparison to rt's problems, each with the place
// of the statement that names its object: for the comparison after the down (afterDown), an object the
// down leaves behind is looked for in the up first (the statement that creates it) and one it does not
// restore, or restores otherwise, in the down first (the statement that drops or alters it); after the
// re-up, in the up first. A sentence whose object no statement names has no place.
func addProblems(rt *report.Roundtrip, m *migrate.Migration, sentences []schema.Sentence, afterDown bool) {
	for _, s := range sentences {
		scripts := []*migrate.Script{m.Up, m.Down}
		if afterDown && s.Side <= 0 {
			scripts = []*migrate.Script{m.Down, m.Up}
		}
		if at := statementNaming(scripts, s.Change); at != nil {
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

// statementNaming is the place of the first statement of scripts, in order, that names c's object, and
// its table as well when it has one and some statement names both; nil when none names it. A down
// written by schemagate (--generate-down) is no file of the repository: it is not looked in.
func statementNaming(scripts []*migrate.Script, c schema.Change) *report.ProblemPlace {
	name := schema.ObjectName(c)
	if name == "" || c.Kind == schema.KindMembership || c.Kind == schema.KindDefaultPrivileges {
		return nil
	}
	table := ""
	if c.Table != "" && c.Table != c.Name {
		table = schema.ObjectName(schema.Change{Name: c.Table})
	}
	var best *report.ProblemPlace
	bestScore := 0
	for _, sc := range scripts {
		if sc.Empty() || strings.Contains(sc.File, ".generated.") {
			continue
		}
		for _, st := range sc.Statements {
			if !names(st.SQL, name) {
				continue
			}
			score := 1
			if table != "" && names(st.SQL, table) {
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

// names reports whether sql holds the identifier name as a word of its own: written plain (in any
// letter case, when name is in lower case, as PostgreSQL folds plain identifiers) or double-quoted.
func names(sql, name string) bool {
	if strings.Contains(sql, `"`+strings.ReplaceAll(name, `"`, `""`)+`"`) {
		return true
	}
	if name != strings.ToLower(name) {
		return false
	}
	low := strings.ToLower(sql)
	for i := 0; ; {
		j := strings.Index(low[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !identChar(low[j-1])) && (end == len(low) || !identChar(low[end])) {
			return true
		}
		i = j + 1
	}
}

func identChar(b byte) bool {
	return b == '_' || b == '$' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 0x80
}
