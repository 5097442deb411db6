// Package sqlparse puts the PostgreSQL parser (pg_query_go, the server's own grammar) behind a small API
// that splits SQL text into statements and keeps the byte offset, line and column of each one.
package sqlparse

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"
)

// GrammarVersion is the PostgreSQL major version whose grammar the embedded parser implements.
const GrammarVersion = 17

// Position is a place in a file: a byte offset and the 1-based line and column (in characters) it falls on.
type Position struct {
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// Statement is one SQL statement of a script.
type Statement struct {
	// SQL is the statement's text from its first token to its end, without the terminating semicolon.
	SQL string
	// Pos is where the statement's first token stands; End is the offset just past its last character.
	Pos Position
	End int
	// Node is the statement's parse tree; nil when it did not parse (then Err says why).
	Node *pg_query.Node
	// Err is the parser's error for this statement, positioned in the file; nil when it parsed.
	Err *Error
	// FromStdin marks a COPY … FROM STDIN statement. As psql does, the lines after it up to a line
	// holding only \. (or the end of the section) are its data, in CopyData; End is then past them.
	FromStdin bool
	CopyData  string
	// DataPos is where CopyData starts (the line after the statement).
	DataPos Position
	// Skipped lists, in ascending order, the file's lines within the statement that SQL leaves out, as
	// the tool that runs it leaves them out (sql-migrate's "-- " lines): see FileLine.
	Skipped []int
	// treeBase is where, in the text the parser read, SQL starts: a location in Node (a byte offset in
	// that text) minus treeBase is an offset in SQL (see Offset).
	treeBase int
	// elided are the runs of an INSERT's VALUES rows that Node leaves out, in the parser's text (see
	// elideRows): ElidedRows gives them back.
	elided []elided
}

// Offset is the byte offset in SQL of a location a node of the statement's parse tree carries; -1 when
// the location is unknown (the parser's -1) or outside SQL.
func (st *Statement) Offset(loc int32) int {
	off := int(loc) - st.treeBase
	if loc < 0 || off < 0 || off >= len(st.SQL) {
		return -1
	}
	return off
}

// PosOf is the position in the file of byte offset off of SQL (the statement's own position when off is
// outside SQL): its line counted past the lines SQL leaves out (Skipped), its column in characters. Its
// Offset is Pos.Offset plus off, the file's offset unless SQL leaves lines out.
func (st *Statement) PosOf(off int) Position {
	if off <= 0 || off >= len(st.SQL) {
		return st.Pos
	}
	before := st.SQL[:off]
	nl := strings.LastIndexByte(before, '\n')
	if nl < 0 {
		return Position{Offset: st.Pos.Offset + off, Line: st.Pos.Line, Column: st.Pos.Column + utf8.RuneCountInString(before)}
	}
	line := st.FileLine(st.Pos.Line + strings.Count(before, "\n"))
	return Position{Offset: st.Pos.Offset + off, Line: line, Column: utf8.RuneCountInString(before[nl+1:]) + 1}
}

// FileLine is the file's line for a line counted in SQL from Pos.Line (as a server error's position
// gives it), past the lines SQL leaves out (Skipped).
func (st *Statement) FileLine(line int) int {
	for _, l := range st.Skipped {
		if l <= line {
			line++
		}
	}
	return line
}

// Error is a syntax error with its position in the file.
type Error struct {
	Message string
	Pos     Position
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Message) }

// Lines maps byte offsets of a text to line and column numbers.
type Lines struct {
	text   string
	starts []int
	bom    int // length of a byte-order mark that starts the text, 0 when none
}

// NewLines indexes the line starts of text.
func NewLines(text string) *Lines {
	starts := make([]int, 1, 64)
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	l := &Lines{text: text, starts: starts}
	if strings.HasPrefix(text, bom) {
		l.bom = len(bom)
	}
	return l
}

// bom is the UTF-8 byte-order mark. Editors do not show it: the character after it is in column 1.
const bom = "\uFEFF"

// Pos returns the position of byte offset off (clamped to the text).
func (l *Lines) Pos(off int) Position {
	if off < 0 {
		off = 0
	}
	if off > len(l.text) {
		off = len(l.text)
	}
	lo, hi := 0, len(l.starts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.starts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	from := l.starts[lo]
	if lo == 0 {
		from = min(l.bom, off) // a byte-order mark takes no column
	}
	col := utf8.RuneCountInString(l.text[from:off]) + 1
	return Position{Offset: off, Line: lo + 1, Column: col}
}

// Parse splits src into statements with the PostgreSQL parser. It never fails as a whole: a statement that
// does not parse is returned with Err set (and Node nil), the others still carry their trees.
func Parse(src string) []Statement {
	return ParseRange(src, 0, len(src), nil)
}

// ParseRange parses src[start:end], a section of a larger file, with positions in the whole file.
// lines may be nil; pass a shared index when parsing several sections of one file.
func ParseRange(src string, start, end int, lines *Lines) []Statement {
	if lines == nil {
		lines = NewLines(src)
	}
	end = min(max(end, 0), len(src))
	start = min(max(start, 0), end)
	section := src[start:end]
	if strings.Trim(section, pgSpace) == "" {
		return nil
	}
	if blocks := copyBlocks(section); len(blocks) > 0 {
		// COPY … FROM STDIN data is not SQL: parse the SQL around it, and give each COPY its data.
		var out []Statement
		at := start
		for _, b := range blocks {
			head := parseRange(src, at, start+b.stmtEnd, lines)
			if n := len(head); n > 0 && head[n-1].Node != nil && IsCopyFromStdin(head[n-1].Node) {
				st := &head[n-1]
				st.FromStdin, st.CopyData, st.DataPos, st.End = true, section[b.dataStart:b.dataEnd], lines.Pos(start+b.dataStart), start+b.after
			}
			out = append(out, head...)
			at = start + b.after
		}
		return append(out, parseRange(src, at, end, lines)...)
	}
	return parseRange(src, start, end, lines)
}

// NULMessage is the error of a statement that holds a NUL byte, which PostgreSQL refuses in SQL text.
const NULMessage = "NUL byte in SQL text (PostgreSQL rejects it)"

// parseRange is ParseRange for a section without COPY … FROM STDIN data.
func parseRange(src string, start, end int, lines *Lines) []Statement {
	section := src[start:end]
	if strings.Trim(section, pgSpace) == "" {
		return nil
	}
	if nul := strings.IndexByte(section, 0); nul >= 0 {
		// The parser reads C strings and would silently drop everything after a NUL byte, and
		// PostgreSQL refuses such text: report it instead of losing statements.
		out := ParseRange(src, start, start+nul, lines)
		pos := lines.Pos(start + nul)
		return append(out, Statement{
			SQL: strings.ReplaceAll(strings.TrimRight(section[nul:], pgSpace), "\x00", `\0`),
			Pos: pos,
			End: end,
			Err: &Error{Message: NULMessage, Pos: pos},
		})
	}
	short, runs := elideRows(section)
	if tree, err := parse(short); err == nil {
		return fromTree(src, start, section, tree, lines, runs)
	}
	// Some statement does not parse: split with the scanner (tolerant of grammar errors) and parse each
	// piece alone, so every good statement keeps its tree and the bad one gets a positioned error.
	var out []Statement
	pieces, open := splitPieces(section, true)
	if open {
		// An unclosed parenthesis (the likely syntax error) would swallow every later statement.
		pieces, _ = splitPieces(section, false)
	}
	for _, piece := range pieces {
		text := section[piece.start:piece.end]
		first := piece.start + skipSpaceAndComments(text)
		if first >= piece.end {
			continue
		}
		short, runs := elideRows(text)
		tree, err := parse(short)
		if err == nil {
			out = append(out, fromTree(src, start+piece.start, text, tree, lines, runs)...)
			continue
		}
		st := Statement{SQL: strings.TrimRight(section[first:piece.end], pgSpace), Pos: lines.Pos(start + first), End: start + piece.end}
		st.SQL = strings.TrimSuffix(st.SQL, ";")
		perr := &Error{Message: err.Error(), Pos: st.Pos}
		var pe *parser.Error
		if errors.As(err, &pe) {
			perr.Message = pe.Message
			if pe.Cursorpos > 0 {
				// Cursorpos counts characters, not bytes.
				off := max(byteOffset(text, pe.Cursorpos-1), first-piece.start)
				perr.Pos = lines.Pos(start + piece.start + off)
			}
		}
		if IsPsqlCommand(st.SQL) {
			perr.Message += ` (a psql meta-command: psql runs backslash commands itself, the server does not know them)`
		} else if o := perr.Pos.Offset; o+1 < len(src) && src[o] == ':' && (psqlVarByte(src[o+1]) || src[o+1] == '\'' || src[o+1] == '"') {
			perr.Message += ` (a psql variable: psql substitutes :name, :'name' and :"name"; set it with \set or, for sqitch, in sqitch.conf [deploy "variables"])`
		}
		st.Err = perr
		out = append(out, st)
	}
	return out
}

// copyBlock is a COPY … FROM STDIN statement and its inline data, as byte offsets in a section: the
// statement runs to stmtEnd (past its semicolon), its data from dataStart to dataEnd, and the SQL goes
// on at after (past the \. line).
type copyBlock struct{ stmtEnd, dataStart, dataEnd, after int }

// copyBlocks finds the COPY … FROM STDIN statements of a section and their data, as psql reads it: the
// lines after the one the statement ends on, up to a line holding only \. (or the end). It walks the
// statements once with the scanner and parses only those that start with COPY, so a file of many COPY
// blocks costs no more than its length.
func copyBlocks(section string) []copyBlock {
	if !containsStdin(section) {
		return nil
	}
	var out []copyBlock
	for i := 0; i < len(section); {
		end := nextPiece(section, i, false)
		if !isCopyFromStdin(section[i:end]) {
			i = end
			continue
		}
		b := copyBlock{stmtEnd: end}
		b.dataStart, b.dataEnd, b.after = copyData(section, end)
		out = append(out, b)
		i = b.after
	}
	return out
}

// isCopyFromStdin tells whether a statement's text (with its semicolon) is COPY … FROM STDIN; it parses
// only text that starts with COPY.
func isCopyFromStdin(text string) bool {
	first := skipSpaceAndComments(text)
	if len(text)-first < 4 || !strings.EqualFold(text[first:first+4], "copy") {
		return false
	}
	tree, err := parse(text)
	return err == nil && len(tree.Stmts) == 1 && IsCopyFromStdin(tree.Stmts[0].Stmt)
}

// copyData finds the inline data of a COPY … FROM STDIN statement that ends at end (past its
// semicolon), as psql reads it: the lines after the one the statement ends on, up to a line holding only
// \. (or the end of the section). The data runs from dataStart to dataEnd; the SQL goes on at after.
func copyData(section string, end int) (dataStart, dataEnd, after int) {
	dataStart, dataEnd, after = len(section), len(section), len(section)
	if nl := strings.IndexByte(section[end:], '\n'); nl >= 0 {
		dataStart = end + nl + 1
	}
	for l := dataStart; l < len(section); {
		next, lineEnd := len(section), len(section)
		if nl := strings.IndexByte(section[l:], '\n'); nl >= 0 {
			lineEnd, next = l+nl, l+nl+1
		}
		if strings.TrimRight(section[l:lineEnd], "\r") == `\.` {
			return dataStart, l, next
		}
		l = next
	}
	return dataStart, dataEnd, after
}

// containsStdin tells whether text holds "stdin" in any case, without copying it (every parse asks).
func containsStdin(text string) bool {
	for i := 0; i+5 <= len(text); i++ {
		if text[i]|0x20 == 's' && strings.EqualFold(text[i:i+5], "stdin") {
			return true
		}
	}
	return false
}

// IsCopyFromStdin reports whether n is COPY … FROM STDIN (whose data the client sends).
func IsCopyFromStdin(n *pg_query.Node) bool {
	c := n.GetCopyStmt()
	return c != nil && c.IsFrom && c.Filename == "" && !c.IsProgram
}

// fromTree makes the statements of tree, the parse of section (with runs of rows elided, see
// elideRows), which starts at offset base of src.
func fromTree(src string, base int, section string, tree *pg_query.ParseResult, lines *Lines, runs []elided) []Statement {
	out := make([]Statement, 0, len(tree.Stmts))
	for _, raw := range tree.Stmts {
		loc := int(raw.StmtLocation)
		end := len(section)
		if raw.StmtLen > 0 {
			end = loc + int(raw.StmtLen)
		}
		if end > len(section) {
			end = len(section)
		}
		first := loc + skipSpaceAndComments(section[loc:end])
		text := strings.TrimRight(section[first:end], " \t\r\n;")
		var mine []elided
		for len(runs) > 0 && runs[0].start < end {
			if runs[0].start >= first {
				mine = append(mine, runs[0])
			}
			runs = runs[1:]
		}
		out = append(out, Statement{
			SQL:      text,
			Pos:      lines.Pos(base + first),
			End:      base + end,
			Node:     raw.Stmt,
			treeBase: first,
			elided:   mine,
		})
	}
	return out
}

// byteOffset returns the byte offset of the n-th character (0-based) of text, clamped to len(text).
// Characters are counted as PostgreSQL does (pg_utf_mblen: the length a UTF-8 lead byte announces), so
// that positions agree with the parser's even in text that is not valid UTF-8.
func byteOffset(text string, n int) int {
	i := 0
	for ; n > 0 && i < len(text); n-- {
		switch c := text[i]; {
		case c&0xe0 == 0xc0:
			i += 2
		case c&0xf0 == 0xe0:
			i += 3
		case c&0xf8 == 0xf0:
			i += 4
		default:
			i++
		}
	}
	return min(i, len(text))
}

type piece struct{ start, end int }

// splitPieces cuts text at top-level semicolons, honouring quotes, dollar quotes and comments, so that a
// syntax error in one statement does not swallow the rest of the file. Each piece includes its semicolon.
// With parens, semicolons inside parentheses do not cut (CREATE RULE ... DO (a; b)); open reports a
// parenthesis left unclosed at the end.
func splitPieces(text string, parens bool) (pieces []piece, open bool) {
	var out []piece
	for start := 0; start < len(text); {
		end, depth := scanPiece(text, start, parens)
		out = append(out, piece{start, end})
		start = end
		open = depth > 0
	}
	return out, open
}

// nextPiece returns where the piece of text starting at i ends: past its top-level semicolon, or at the
// end of the text.
func nextPiece(text string, i int, parens bool) int {
	end, _ := scanPiece(text, i, parens)
	return end
}

// scanPiece scans one piece from i with the scanner's rules (comments, quotes, dollar quotes and, with
// parens, parentheses hide semicolons); depth is the parenthesis depth left open at its end.
func scanPiece(text string, i int, parens bool) (end, depth int) {
	for i < len(text) {
		if next, ok := skipToken(text, i); ok {
			i = next
			continue
		}
		switch c := text[i]; {
		case c == '(' && parens:
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case c == ';' && depth == 0:
			return i + 1, 0
		}
		i++
	}
	return len(text), depth
}

// skipToken skips the comment, quoted identifier, string (E'…' with its backslash escapes) or
// dollar-quoted string that starts at text[i], as PostgreSQL's scanner reads them (a -- comment ends at
// a carriage return too); ok is false when none starts there.
func skipToken(text string, i int) (next int, ok bool) {
	switch c := text[i]; {
	case c == '-' && i+1 < len(text) && text[i+1] == '-':
		for i < len(text) && text[i] != '\n' && text[i] != '\r' {
			i++
		}
		return i, true
	case c == '/' && i+1 < len(text) && text[i+1] == '*':
		return skipBlockComment(text, i), true
	case c == '\'' && i > 0 && text[i-1]|0x20 == 'e' && (i == 1 || !identByte(text[i-2])):
		return skipEscapeString(text, i), true
	case c == '\'' || c == '"':
		return skipQuoted(text, i, c), true
	case c == '$':
		if tag, ok := dollarTag(text, i); ok {
			closeAt := strings.Index(text[i+len(tag):], tag)
			if closeAt < 0 {
				return len(text), true
			}
			return i + len(tag) + closeAt + len(tag), true
		}
	}
	return i, false
}

func skipBlockComment(text string, i int) int {
	depth := 0
	for i < len(text) {
		if strings.HasPrefix(text[i:], "/*") {
			depth++
			i += 2
			continue
		}
		if strings.HasPrefix(text[i:], "*/") {
			depth--
			i += 2
			if depth == 0 {
				return i
			}
			continue
		}
		i++
	}
	return i
}

func skipQuoted(text string, i int, q byte) int {
	i++
	for i < len(text) {
		if text[i] == q {
			if i+1 < len(text) && text[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return i
}

// dollarTag reports the dollar-quote opening tag ($$ or $name$) at text[i], if there is one.
func dollarTag(text string, i int) (string, bool) {
	if i > 0 {
		p := text[i-1]
		if p == '_' || p >= 'a' && p <= 'z' || p >= 'A' && p <= 'Z' || p >= '0' && p <= '9' {
			return "", false // part of an identifier such as a$b
		}
	}
	j := i + 1
	for j < len(text) {
		c := text[j]
		if c == '$' {
			return text[i : j+1], true
		}
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || (j > i+1 && c >= '0' && c <= '9')) {
			return "", false
		}
		j++
	}
	return "", false
}

// pgSpace is what PostgreSQL's scanner takes for white space: ASCII only (a no-break space is part of an
// identifier to it, so trimming Unicode space would move a statement's text off its position).
const pgSpace = " \t\n\r\f\v"

// skipSpaceAndComments returns the offset of the first token in text. Like PostgreSQL's scanner, it ends
// a -- comment at a carriage return as well as at a line feed.
func skipSpaceAndComments(text string) int {
	i := 0
	for i < len(text) {
		switch c := text[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			for i < len(text) && text[i] != '\n' && text[i] != '\r' {
				i++
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			i = skipBlockComment(text, i)
		default:
			return i
		}
	}
	return i
}

// NeedsAutocommit reports whether PostgreSQL refuses to run the statement inside a transaction block
// (SQLSTATE 25001): CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, REINDEX SCHEMA, DATABASE or
// SYSTEM, VACUUM, CLUSTER without a table, CREATE/DROP DATABASE, ALTER DATABASE … SET TABLESPACE,
// CREATE/DROP TABLESPACE, ALTER SYSTEM, CREATE SUBSCRIPTION that creates a replication slot, and ALTER
// TABLE … DETACH PARTITION … CONCURRENTLY.
func NeedsAutocommit(n *pg_query.Node) bool {
	switch {
	case n == nil:
		return false
	case n.GetIndexStmt() != nil:
		return n.GetIndexStmt().Concurrent
	case n.GetDropStmt() != nil:
		return n.GetDropStmt().Concurrent
	case n.GetReindexStmt() != nil:
		switch n.GetReindexStmt().Kind {
		case pg_query.ReindexObjectType_REINDEX_OBJECT_SCHEMA, pg_query.ReindexObjectType_REINDEX_OBJECT_DATABASE, pg_query.ReindexObjectType_REINDEX_OBJECT_SYSTEM:
			return true
		}
		return ReindexesConcurrently(n)
	case n.GetVacuumStmt() != nil:
		return n.GetVacuumStmt().IsVacuumcmd
	case n.GetClusterStmt() != nil:
		return n.GetClusterStmt().Relation == nil
	case n.GetAlterDatabaseStmt() != nil:
		for _, o := range n.GetAlterDatabaseStmt().Options {
			if o.GetDefElem().GetDefname() == "tablespace" {
				return true
			}
		}
		return false
	case n.GetCreateSubscriptionStmt() != nil:
		// connect = false makes create_slot false; create_slot defaults to true
		o := n.GetCreateSubscriptionStmt().Options
		return OptionBool(o, "connect", true) && OptionBool(o, "create_slot", true)
	case n.GetCreatedbStmt() != nil, n.GetDropdbStmt() != nil, n.GetCreateTableSpaceStmt() != nil,
		n.GetDropTableSpaceStmt() != nil, n.GetAlterSystemStmt() != nil:
		return true
	case n.GetAlterTableStmt() != nil:
		for _, c := range n.GetAlterTableStmt().Cmds {
			if pc := c.GetAlterTableCmd().GetDef().GetPartitionCmd(); pc != nil && pc.Concurrent {
				return true
			}
		}
	}
	return false
}

// ReindexesConcurrently reports whether the statement is REINDEX … CONCURRENTLY: REINDEX (CONCURRENTLY
// false) is a plain REINDEX, which runs in a transaction block.
func ReindexesConcurrently(n *pg_query.Node) bool {
	return n.GetReindexStmt() != nil && OptionBool(n.GetReindexStmt().GetParams(), "concurrently", false)
}

// OptionBool is the boolean value of the option named name among options (a WITH list's DefElems),
// def when there is none. PostgreSQL reads true, false, on, off, 1 and 0; a name alone is true.
func OptionBool(options []*pg_query.Node, name string, def bool) bool {
	for _, o := range options {
		d := o.GetDefElem()
		if d == nil || d.Defname != name {
			continue
		}
		switch {
		case d.Arg == nil:
			return true
		case d.Arg.GetBoolean() != nil:
			return d.Arg.GetBoolean().Boolval
		case d.Arg.GetInteger() != nil:
			return d.Arg.GetInteger().Ival != 0
		}
		v := d.Arg.GetString_().GetSval()
		if tn := d.Arg.GetTypeName(); tn != nil && len(tn.Names) > 0 {
			v = tn.Names[len(tn.Names)-1].GetString_().GetSval() // off: a keyword PostgreSQL reads as a type name
		}
		switch strings.ToLower(v) {
		case "false", "off", "0", "no":
			return false
		}
		return true
	}
	return def
}

// AddsEnumValue reports whether the statement is ALTER TYPE ... ADD VALUE. Inside a transaction block
// (allowed from PostgreSQL 12) the new value cannot be used before the transaction commits (SQLSTATE
// 55P04), where psql running a file statement by statement commits it at once.
func AddsEnumValue(n *pg_query.Node) bool {
	e := n.GetAlterEnumStmt()
	return e != nil && e.NewVal != "" && e.OldVal == ""
}

// EndsTransaction reports whether the statement is ROLLBACK (ABORT) or a two-phase PREPARE / COMMIT
// PREPARED / ROLLBACK PREPARED: inside a transaction schemagate holds, it would end that transaction
// and leave the rest of the script to run in autocommit (ROLLBACK TO SAVEPOINT does not count).
func EndsTransaction(n *pg_query.Node) bool {
	t := n.GetTransactionStmt()
	if t == nil {
		return false
	}
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK, pg_query.TransactionStmtKind_TRANS_STMT_PREPARE,
		pg_query.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
		return true
	}
	return false
}

// Commits reports whether the statement is COMMIT or END (not COMMIT PREPARED): in a query of several
// statements, what follows it runs in a new implicit transaction.
func Commits(n *pg_query.Node) bool {
	t := n.GetTransactionStmt()
	return t != nil && t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_COMMIT
}

// LeavesBlockOpen reports whether the statement leaves a transaction block open after it: BEGIN, START
// TRANSACTION, and COMMIT or ROLLBACK AND CHAIN.
func LeavesBlockOpen(n *pg_query.Node) bool {
	t := n.GetTransactionStmt()
	if t == nil {
		return false
	}
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
		return true
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		return t.Chain
	}
	return false
}

// OpensOrCommits reports whether the statement is BEGIN, START TRANSACTION, COMMIT or END: the
// transaction control that sqitch scripts (and some hand-written files) carry themselves. Inside a
// transaction schemagate already holds, running them would commit its transaction half way; skipping
// them keeps the script exactly as atomic as its author meant.
func OpensOrCommits(n *pg_query.Node) bool {
	t := n.GetTransactionStmt()
	if t == nil {
		return false
	}
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START,
		pg_query.TransactionStmtKind_TRANS_STMT_COMMIT:
		return true
	}
	return false
}

// HiddenSemicolons returns the byte offsets of the semicolons of text that end no statement to
// PostgreSQL's scanner: those inside a comment, a quoted identifier, a string, a dollar-quoted string
// (a function body) or parentheses. A tool that cuts a script at every ';' without reading SQL
// (golang-migrate's x-multi-statement) cuts a statement or a comment in two there.
func HiddenSemicolons(text string) []int {
	var out []int
	depth := 0
	for i := 0; i < len(text); {
		if next, ok := skipToken(text, i); ok {
			for j := i; j < next; j++ {
				if text[j] == ';' {
					out = append(out, j)
				}
			}
			i = next
			continue
		}
		switch text[i] {
		case '(':
			depth++
		case ')':
			depth = max(depth-1, 0)
		case ';':
			if depth > 0 {
				out = append(out, i)
			}
		}
		i++
	}
	return out
}
