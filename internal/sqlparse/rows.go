package sqlparse

import (
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// A data seed's INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), … of megabytes cost far more to parse
// than to apply: pg_query builds a C tree of every literal, serializes it to protobuf and Go unmarshals it
// into a node per literal, per row and per list (a 22 MB INSERT of 400,000 rows: 6.4 s and 600 MB of
// memory, against 2.1 s for the server to run it), and the lint rules then walk that tree. Yet such rows
// are data: they run nothing, name nothing, and the rules that read a VALUES list read at most its first
// row (viewcols), its length (Code, the trace's run of INSERTs: two rows or more, any), or whether its
// rows are literals; only enum-add-value compares each literal with a label (usesLabel), and it reads the
// rows left out through ElidedRows. So the parser is handed the statement with every row past the
// first keptRows that is plain (literals only, as plainRow reads them) inside a comment: the same bytes,
// "/*" over the comma and the bracket or blank before the row, "*/" over the end of the last row of a
// run. Every location in the tree, a syntax error's cursor (counted in characters: the bytes within are
// kept, so multi-byte characters count as before) and the statement's length stay what they were, and
// a syntax error anywhere is still reported: a row plainRow accepts parses, and the others stay in.
// Statement.SQL is untouched: the server gets every row.

const (
	// elideMin is the size of text (a section, a statement) under which nothing is elided: parsing it
	// whole costs a few milliseconds.
	elideMin = 8 << 10
	// keptRows is how many rows of a VALUES list the tree keeps, whatever they are.
	keptRows = 16
)

// elided is a run of rows left out of a statement's parse tree, as offsets in the parser's text: the
// comment runs from start (the comma before the run's first row) to end (past its last row's bracket);
// last is where the last row's last value starts (Code leaves out text up to it).
type elided struct{ start, end, last int }

// elideRows returns text with the plain rows past the first keptRows of each INSERT … VALUES commented
// out, and the runs it commented out; text itself and no runs when there is nothing to leave out.
func elideRows(text string) (string, []elided) {
	if len(text) < elideMin || !ContainsFold(text, "values") {
		return text, nil
	}
	var runs []elided
	for i := 0; i < len(text); {
		// Parentheses hide semicolons: a CREATE RULE's (INSERT …; INSERT …) is one piece, not an INSERT.
		end := nextPiece(text, i, true)
		if end-i >= elideMin {
			runs = append(runs, insertRuns(text, i, end)...)
		}
		i = end
	}
	if len(runs) == 0 {
		return text, nil
	}
	b := []byte(text)
	for _, r := range runs {
		b[r.start], b[r.start+1] = '/', '*'
		b[r.end-2], b[r.end-1] = '*', '/'
	}
	// b is not written again: the string may share it rather than copy megabytes once more.
	return unsafe.String(&b[0], len(b)), runs
}

// insertRuns finds the runs of plain rows to leave out of the statement text[start:end]: only an
// INSERT whose VALUES list follows its target at the top level (not a SELECT, nor VALUES in a set
// operation: INSERT … VALUES (…) UNION …), and ends the statement or is followed by ON CONFLICT or
// RETURNING, which read no row of it.
func insertRuns(text string, start, end int) []elided {
	i := start + skipSpaceAndComments(text[start:end])
	w, i := word(text, i, end)
	if !strings.EqualFold(w, "insert") {
		return nil
	}
	// Up to the VALUES keyword: INTO, the target, AS alias, the column list, OVERRIDING … VALUE.
	for {
		i += skipSpaceAndComments(text[i:end])
		if i >= end {
			return nil
		}
		if text[i] == '(' {
			if i = closeParen(text, i, end); i < 0 {
				return nil
			}
			continue
		}
		if next, ok := skipToken(text, i); ok {
			i = next // a quoted name
			continue
		}
		if text[i] == '.' {
			i++ // a qualified name's dot
			continue
		}
		var w string
		if w, i = word(text, i, end); strings.EqualFold(w, "values") {
			break
		}
		switch strings.ToLower(w) {
		case "", "select", "with", "table", "default", "union", "intersect", "except":
			return nil // not a word of a target: a statement schemagate leaves whole
		}
	}
	var runs []elided
	var run *elided
	var vals []literal       // reused from row to row
	comma, prevEnd := -1, -1 // the comma before the row at i, the end of the row before it
	for n := 0; ; n++ {
		i += skipSpaceAndComments(text[i:end])
		if i >= end || text[i] != '(' {
			return nil
		}
		rowEnd, row, plain := plainRow(text, i, end, vals[:0])
		vals = row
		if rowEnd < 0 {
			if rowEnd = closeParen(text, i, end); rowEnd < 0 {
				return nil
			}
		}
		if plain && n >= keptRows && commentable(text, comma, prevEnd, rowEnd, run != nil) {
			if run == nil {
				runs = append(runs, elided{start: comma})
				run = &runs[len(runs)-1]
			}
			run.end, run.last = rowEnd, vals[len(vals)-1].start
		} else {
			run = nil
		}
		prevEnd = rowEnd
		// The separator: blanks and -- comments only, so that a run stays one comment.
		if j := separator(text, rowEnd, end); j < end && text[j] == ',' {
			comma, i = j, j+1
			continue
		}
		i = rowEnd + skipSpaceAndComments(text[rowEnd:end])
		if i < end && text[i] == ',' {
			// A block comment before the comma: the next row starts no run.
			comma, i, run = i, i+1, nil
			continue
		}
		break
	}
	if i < end && text[i] != ';' {
		if w, _ := word(text, i, end); !strings.EqualFold(w, "on") && !strings.EqualFold(w, "returning") {
			return nil
		}
	}
	return runs
}

// word reads the unquoted word at text[i] ("" when none starts there) and returns where it ends.
func word(text string, i, end int) (string, int) {
	j := i
	for j < end && identByte(text[j]) || j > i && j < end && text[j] == '$' {
		j++
	}
	if j == i || text[i] >= '0' && text[i] <= '9' {
		return "", i
	}
	return text[i:j], j
}

// closeParen returns the offset past the bracket that closes the one at text[i], or -1.
func closeParen(text string, i, end int) int {
	depth := 0
	for i < end {
		if next, ok := skipToken(text, i); ok {
			i = next
			continue
		}
		switch text[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i + 1
			}
		case ';':
			return -1
		}
		i++
	}
	return -1
}

// commentable tells whether the row that ends at rowEnd may be inside the comment of a run: the run's
// text from the comma before it (a run's first row) or from the end of the row before it (a later one)
// holds no /* or */, which would open a nested comment or close it early, and no / or * stands just
// before the "*/" that would end the run on the row's last two characters (/*/ opens a comment).
func commentable(text string, comma, prevEnd, rowEnd int, inRun bool) bool {
	from := comma
	if inRun {
		from = prevEnd
	}
	s := text[from:rowEnd]
	if c := text[rowEnd-3]; c == '/' || c == '*' {
		return false
	}
	return !strings.Contains(s, "/*") && !strings.Contains(s, "*/")
}

// separator returns the offset of the first byte at or after j that is neither blank nor in a --
// comment.
func separator(text string, j, end int) int {
	for j < end {
		switch {
		case isBlank(text[j]):
			j++
		case text[j] == '-' && j+1 < end && text[j+1] == '-':
			for j < end && text[j] != '\n' && text[j] != '\r' {
				j++
			}
		default:
			return j
		}
	}
	return j
}

// isBlank tells whether c is white space to PostgreSQL's scanner (scan.l's space, \v included since
// PostgreSQL 16, whose grammar pg_query has): as skipSpaceAndComments reads it.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// literal is one value of a plain row: its kind ('s' a string, 'n' a number, 'k' NULL, TRUE or FALSE)
// and its text[start:end] (a negative number's from its minus sign).
type literal struct {
	kind       byte
	start, end int
}

// plainRow reads the row whose bracket is text[i] if it is plain: a list of literals PostgreSQL's
// grammar surely accepts and turns into constants, A_Const nodes of the tree (ElidedRows builds them
// back). That is a standard string ('…', a quote doubled within, valid UTF-8: the tree's strings are), a
// number (12, -3, 4.5, .5, 1e-3, 2.; not 0x1F nor 1_000, newer grammar), NULL, TRUE or FALSE, with
// blanks around. Anything else (a cast, a call, DEFAULT, E'…', a comment) is not plain: such a row stays
// in the tree. It returns the offset past the row's closing bracket, or -1 when the row is not plain,
// and the row's values appended to vals.
func plainRow(text string, i, end int, vals []literal) (rowEnd int, row []literal, plain bool) {
	i++ // (
	for {
		for i < end && isBlank(text[i]) {
			i++
		}
		if i >= end {
			return -1, vals, false
		}
		v := literal{start: i}
		switch c := text[i]; {
		case c == '\'':
			v.kind = 's'
			i++
			for {
				q := strings.IndexByte(text[i:end], '\'')
				if q < 0 {
					return -1, vals, false
				}
				i += q + 1
				if i < end && text[i] == '\'' {
					i++
					continue
				}
				break
			}
			if !utf8.ValidString(text[v.start:i]) {
				return -1, vals, false
			}
		case c == '-' || c == '.' || c >= '0' && c <= '9':
			v.kind = 'n'
			if i = number(text, i, end); i < 0 {
				return -1, vals, false
			}
		default:
			w, j := word(text, i, end)
			if !strings.EqualFold(w, "null") && !strings.EqualFold(w, "true") && !strings.EqualFold(w, "false") {
				return -1, vals, false
			}
			v.kind, i = 'k', j
		}
		v.end = i
		vals = append(vals, v)
		for i < end && isBlank(text[i]) {
			i++
		}
		if i >= end {
			return -1, vals, false
		}
		switch text[i] {
		case ',':
			i++
		case ')':
			return i + 1, vals, true
		default:
			return -1, vals, false // 'a' 'b', 1abc, 1.2.3: the parser tells
		}
	}
}

// number reads the numeric literal at text[i] (an optional minus sign, digits with an optional point
// and exponent) and returns where it ends, or -1 when it is not one plainRow takes.
func number(text string, i, end int) int {
	if text[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < end && text[i] >= '0' && text[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	n := digits()
	if i < end && text[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return -1
	}
	if i < end && text[i]|0x20 == 'e' {
		i++
		if i < end && (text[i] == '+' || text[i] == '-') {
			i++
		}
		if digits() == 0 {
			return -1
		}
	}
	if i < end && (identByte(text[i]) || text[i] == '.' || text[i] == '$') {
		return -1 // trailing junk the grammar refuses
	}
	return i
}

// constant is the A_Const node PostgreSQL's grammar makes of literal v of text, at location loc: a
// number that fits in 32 bits is an integer, another a numeric kept as written, and a minus sign
// negates either (doNegate) and gives the constant its own location.
func constant(text string, v literal, loc int32) *pg_query.Node {
	s := text[v.start:v.end]
	c := &pg_query.A_Const{Location: loc}
	switch v.kind {
	case 's':
		c.Val = &pg_query.A_Const_Sval{Sval: &pg_query.String{Sval: strings.ReplaceAll(s[1:len(s)-1], "''", "'")}}
	case 'k':
		switch strings.ToLower(s) {
		case "null":
			c.Isnull = true
		case "true":
			c.Val = &pg_query.A_Const_Boolval{Boolval: &pg_query.Boolean{Boolval: true}}
		default:
			c.Val = &pg_query.A_Const_Boolval{Boolval: &pg_query.Boolean{}}
		}
	default:
		digits, neg := strings.CutPrefix(s, "-")
		if n, err := strconv.ParseInt(digits, 10, 32); err == nil {
			if neg {
				n = -n
			}
			c.Val = &pg_query.A_Const_Ival{Ival: &pg_query.Integer{Ival: int32(n)}}
		} else {
			c.Val = &pg_query.A_Const_Fval{Fval: &pg_query.Float{Fval: s}}
		}
	}
	return &pg_query.Node{Node: &pg_query.Node_AConst{AConst: c}}
}

// ElidedRows calls f with each row of the statement's VALUES list that its parse tree leaves out (see
// elideRows), in order, as the list of A_Const nodes the full tree would hold, with the same locations.
// A rule that reads the values of an INSERT's rows (usesLabel) reads these too. f must not keep row,
// which is reused.
func (st *Statement) ElidedRows(f func(row []*pg_query.Node)) {
	var row []*pg_query.Node
	for _, r := range st.elided {
		// The offsets are in the parser's text, which is SQL from treeBase on.
		text := st.SQL[:r.end-st.treeBase]
		for i := r.start - st.treeBase; i < len(text); {
			i = separator(text, i+1, len(text)) // past the comma, at the row's bracket
			end, vals, _ := plainRow(text, i, len(text), nil)
			row = row[:0]
			for _, v := range vals {
				row = append(row, constant(text, v, int32(v.start+st.treeBase)))
			}
			f(row)
			i = separator(text, end, len(text)) // at the next comma, or the end
		}
	}
}

// ContainsFold tells whether text holds word (in lower case) in any case, without the copy of text that
// strings.ToLower would make: megabytes for a data seed's statement.
func ContainsFold(text, word string) bool {
	for i := 0; i+len(word) <= len(text); i++ {
		if text[i]|0x20 == word[0] && strings.EqualFold(text[i:i+len(word)], word) {
			return true
		}
	}
	return false
}
