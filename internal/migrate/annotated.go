package migrate

import (
	"slices"
	"strconv"
	"strings"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// This file holds what goose, dbmate and sql-migrate share: one file per migration, cut into an up and
// a down section by control comments on lines of their own.

// directiveKind is what a control comment asks for.
type directiveKind int

const (
	dirNone directiveKind = iota
	dirUp
	dirDown
	dirBegin // StatementBegin
	dirEnd   // StatementEnd
	dirNoTx  // a whole-file "no transaction"
	dirEnvOn
	dirEnvOff
)

// directive is one control comment line, as a format's classifier understood it.
type directive struct {
	kind directiveKind
	noTx bool   // an up or down section's own "no transaction" option
	err  string // set when the line is meant as a directive but is wrong
	hint string
	// comment, with err, is what the tool makes of the line when it takes it for a plain comment line
	// (dbmate, an indented marker): before the first up directive of a dialect with leadingDown, where
	// the tool drops comment lines, that is a warning instead of the error.
	comment string
}

// dialect describes one single-file format.
type dialect struct {
	tool     string // the tool's name, for messages
	up, down string // how the up and down directives are written, for messages
	// upFirst requires the up section before the down section.
	upFirst bool
	// classify recognises a directive line (without its line break); dirNone means plain SQL or comment.
	classify func(line string) directive
	// splitsAtSemicolon: the tool does not parse SQL but ends a statement at each line whose last word
	// ends with ";" (outside StatementBegin/End), and refuses a file with a statement left without one
	// at the next section directive or the end of the file; unended is the tool's message then.
	splitsAtSemicolon bool
	unended           string
	// holdsBlank: the tool skips only empty lines and comment lines before a statement, not a line of
	// white space, which it holds; a comment line after such a line then starts statement text
	// (goose's ParseSQLMigration: `line == ""`, and comments only while its buffer is empty).
	holdsBlank bool
	// looseBlocks: the tool ignores a StatementBegin before the first section or inside a block, and a
	// StatementEnd outside one (sql-migrate's ParseMigration: ignoreSemicolons is only set from a
	// section and cleared at StatementEnd), where goose refuses the file.
	looseBlocks bool
	// dropsAfterEmptyBlock: after a StatementBegin/StatementEnd block that gave the tool no text (only
	// comment and empty lines), the tool leaves out the next line that is neither empty, a comment nor
	// a directive (goose: its StatementEnd line is skipped as a comment while its buffer is empty, so
	// it stays in the StatementEnd state, where it writes no line, and sends an empty statement).
	dropsAfterEmptyBlock bool
	// bom, when set, is the error for a file that starts with a byte-order mark: the tool does not
	// skip it, so its first line no longer reads as a directive or a comment.
	bom string
	// bomDirective, when set, is the error for a directive on a first line that starts with a
	// byte-order mark: the tool does not see it.
	bomDirective string
	// missingDown, when set, is the error for a file without a down section.
	missingDown string
	// repeats: a second up (or down) directive starts another part of that section, which the tool
	// appends to it; upOptional: a file with only a down section has an empty up.
	repeats, upOptional bool
	// sections: each up directive starts another up/down pair, which the tool runs after the ones
	// before it (dbmate 2). The pairs are read as parts of one up and one down section, in file
	// order. sectionUp is the error for an up directive after the first (what running that pair
	// does), twoDowns the error for a second down directive in one pair.
	sections            bool
	sectionUp, twoDowns string
	// oneQuery: the tool sends a section it runs outside a transaction as one query (dbmate's
	// transaction:false), which PostgreSQL runs as one implicit transaction when it holds several
	// statements.
	oneQuery bool
	// leadingDown, when set, is the note for a down directive before the first up directive, which the
	// tool takes for a comment line (dbmate 2): it starts no section. SQL before the first up
	// directive is then what the tool refuses, with the error sqlBefore.
	leadingDown, sqlBefore string
	// scansLines: the tool reads the file with bufio.Scanner and sends each line it keeps followed by
	// "\n", so without the carriage return of a CRLF line break; dropsLine, when set, reports a line it
	// leaves out wherever it stands (sql-migrate's "-- " lines, even inside a string or a dollar-quoted
	// body). The statements carry the SQL the tool sends, positioned in the file (scannedScript).
	scansLines bool
	dropsLine  func(line string) bool
	// maxLine, when set, is the size of the tool's bufio.Scanner buffer, maxLineWhere where it is set:
	// a line as long or longer (its "\n" aside) does not fit with its line break, and the tool fails the
	// file with "bufio.Scanner: token too long".
	maxLine      int
	maxLineWhere string
	// commentLinesBefore: the tool allows only blank lines and -- comment lines before the first up
	// directive (dbmate's statementsPrecedeMigrateBlocks reads line by line), so a /* */ comment there
	// is refused too, with the error sqlBefore.
	commentLinesBefore bool
}

// section is the byte range of an up or down section: from just after its directive line to the next
// section directive (or the end of the file).
type section struct {
	start, end int
	line       int // line of the directive; 0 for an up section the file does not have (upOptional)
	noTx       bool
	more       []*section // later parts of the section (repeats), in file order
}

// sections is a single-file migration cut into its parts.
type sections struct {
	up, down *section
	noTx     bool // the whole migration runs outside a transaction
	envSub   bool
	env      [][2]int // goose ENVSUB regions: byte ranges between ENVSUB ON and OFF (or the end)
	// unread are the lines goose never puts in a statement, which ENVSUB therefore leaves alone: its
	// annotations, and a comment line while it holds no statement text (before a statement, inside a
	// StatementBegin block too). A comment line after a statement has begun is statement text, and
	// goose expands it like any other.
	unread map[int]bool
	// cuts are the lines at which a tool that splitsAtSemicolon ends a statement; bounds are those and
	// the StatementEnd lines: every line after which the tool sends what it holds.
	cuts, bounds []int
}

// split cuts src into sections, reporting misplaced, repeated and unknown directives of file.
func (r *reader) split(file, src string, d dialect, lines *sqlparse.Lines) sections {
	var (
		out        = sections{unread: map[int]bool{}}
		cur        *section
		blockLine  int // line of an open StatementBegin, 0 when none
		firstStart = -1
		downLine   int  // line of the down directive of the current pair (sections), 0 when none yet
		openUp     int  // line of the up directive of the current pair while it has no down (sections)
		envFrom    = -1 // start of an open ENVSUB region
		open       int  // first line of a statement the tool has not ended yet (splitsAtSemicolon), 0 when none
		openNote   bool // that line is a comment line the tool keeps as statement text
		held       bool // the tool holds a line of white space and nothing else (holdsBlank)
		blockText  bool // the open StatementBegin block has given the tool some text
		dropNext   int  // line of the StatementEnd of a block that gave the tool no text (dropsAfterEmptyBlock), 0 when none
	)
	// pair notes the up or down directive on line that starts the current part of a pair (sections).
	pair := func(kind directiveKind, line int) {
		if kind == dirUp {
			openUp, downLine = line, 0
		} else {
			openUp, downLine = 0, line
		}
	}
	closeSection := func(at int) {
		if cur == nil {
			return
		}
		switch {
		case open > 0 && openNote && d.holdsBlank:
			r.errorf(file, open, "delete the white space on the line before it, or the comment",
				"%s keeps this comment line as statement text, as it follows a line of white space (%s skips only empty lines and, before a statement, comment lines), and no line ending with ; follows it: %s refuses the file (%s)",
				d.tool, d.tool, d.tool, d.unended)
		case open > 0 && openNote:
			r.errorf(file, open, "start the comment with \"-- \" at the beginning of the line, or delete it",
				"%s keeps this comment line as statement text (it leaves out only lines that start with \"-- \"), and no line ending with ; follows it: %s refuses the file (%s)",
				d.tool, d.tool, d.unended)
		case open > 0:
			r.errorf(file, open, "end the statement with ; at the end of its last line, or wrap it in StatementBegin/StatementEnd lines",
				"statement without ; at the end of its last line: %s refuses the file (%s)", d.tool, d.unended)
		}
		open, openNote, held = 0, false, false
		cur.end = at
		if blockLine > 0 {
			r.errorf(file, blockLine, "add a StatementEnd line after the statement", "StatementBegin is never closed")
			blockLine = 0
		}
		cur = nil
	}
	lineNo := 0
	for off := 0; off < len(src); {
		lineNo++
		next := strings.IndexByte(src[off:], '\n')
		lineEnd := len(src)
		if next >= 0 {
			lineEnd = off + next + 1
		}
		text := strings.TrimRight(src[off:lineEnd], "\r\n")
		bomLine := lineNo == 1 && strings.HasPrefix(text, "\uFEFF")
		if bomLine {
			text = text[len("\uFEFF"):]
			if d.bom != "" {
				r.errorf(file, 1, "save the file as UTF-8 without a byte-order mark", "%s", d.bom)
			}
		}
		start := off
		off = lineEnd
		dir := d.classify(text)
		if dir.kind != dirNone || dir.err != "" || dir.comment != "" {
			out.unread[lineNo] = true
		}
		if dir.kind == dirDown && out.up == nil && d.leadingDown != "" {
			// A comment line to the tool, options and all.
			r.warnf(file, lineNo, "delete it, or move it below the "+d.up+" block it belongs to", "ignored: %s", d.leadingDown)
			continue
		}
		if dir.comment != "" && out.up == nil && d.leadingDown != "" {
			// A comment line to the tool, which it drops before the first up directive.
			r.warnf(file, lineNo, "delete the line, or write it without leading white space where a directive belongs", "ignored: %s", dir.comment)
			continue
		}
		if bomLine && d.bomDirective != "" && dir.kind != dirNone {
			r.errorf(file, 1, "save the file as UTF-8 without a byte-order mark", "%s", d.bomDirective)
		}
		if dir.err != "" {
			r.errorf(file, lineNo, dir.hint, "%s", dir.err)
			if dir.kind == dirNone {
				continue
			}
			// A directive the tool still takes for one (dbmate's, with an option it ignores) starts
			// its section as usual, so that the file is not reported for sections it does have.
		}
		if dir.kind == dirUp || dir.kind == dirDown || dir.kind == dirBegin {
			dropNext = 0 // the tool leaves its StatementEnd state
		}
		if d.dropsAfterEmptyBlock && dir.kind == dirNone && cur != nil {
			t := strings.TrimSpace(text)
			skipped := text == "" || strings.HasPrefix(t, "--")
			switch {
			case blockLine > 0 && skipped && !blockText:
				// ParseSQLMigration skips a comment line while its buffer is empty, here at the start
				// of the block.
				out.unread[lineNo] = true
			case blockLine > 0 && !skipped:
				blockText = true
			case blockLine == 0 && dropNext > 0 && !skipped:
				if t != "" {
					r.errorf(file, lineNo, "delete the StatementBegin/StatementEnd block, or put its statement in it",
						"%s leaves out this line: the StatementBegin/StatementEnd block that ends on line %d holds no statement, so %s sends an empty one and skips the next line that is not empty or a comment", d.tool, dropNext, d.tool)
				}
				dropNext = 0
			}
		}
		if d.splitsAtSemicolon && dir.kind == dirNone && cur != nil && blockLine == 0 {
			// As the tool reads the section: blank lines and comments before a statement are skipped
			// (which ones, the tool says); a line whose last word (before a -- comment) ends with ; ends
			// the statement.
			t := strings.TrimSpace(text)
			comment := strings.HasPrefix(t, "--")
			switch {
			case d.dropsLine != nil && d.dropsLine(text):
				// Left out wherever it stands (sql-migrate's "-- " lines).
			case open == 0 && t == "":
				held = held || d.holdsBlank && text != ""
			case open == 0 && comment && d.dropsLine == nil && !held:
				out.unread[lineNo] = true
			case endsWithSemicolon(text):
				out.cuts = append(out.cuts, lineNo)
				out.bounds = append(out.bounds, lineNo)
				open, openNote, held = 0, false, false
			case open == 0:
				open, openNote = lineNo, comment
			}
		}
		switch dir.kind {
		case dirUp, dirDown:
			name, slot, other := d.up, &out.up, out.down
			if dir.kind == dirDown {
				name, slot, other = d.down, &out.down, out.up
			}
			if *slot != nil && d.sections {
				if dir.kind == dirDown && downLine > 0 {
					r.errorf(file, lineNo, "keep one "+d.down+" line after each "+d.up+" line",
						"second %s with no %s since the one on line %d: %s", d.down, d.up, downLine, d.twoDowns)
					continue
				}
				if dir.kind == dirUp {
					if openUp > 0 {
						r.missingSectionDown(file, openUp, d)
					}
					r.errorf(file, lineNo, "split the file: one migration for each "+d.up+"/"+d.down+" pair",
						"second %s (the first is on line %d): %s", d.up, (*slot).line, d.sectionUp)
				}
				closeSection(start)
				cur = &section{start: lineEnd, end: len(src), line: lineNo, noTx: dir.noTx}
				(*slot).more = append((*slot).more, cur)
				pair(dir.kind, lineNo)
				continue
			}
			if *slot != nil && d.repeats {
				closeSection(start)
				cur = &section{start: lineEnd, end: len(src), line: lineNo, noTx: dir.noTx}
				(*slot).more = append((*slot).more, cur)
				(*slot).noTx = (*slot).noTx || dir.noTx
				continue
			}
			if *slot != nil {
				r.errorf(file, lineNo, "keep one "+name+" section per file", "second %s (the first is on line %d)", name, (*slot).line)
				continue
			}
			if dir.kind == dirDown && d.upFirst && other == nil {
				r.errorf(file, lineNo, "put the "+d.up+" section first", "%s before %s", d.down, d.up)
			}
			closeSection(start)
			if firstStart < 0 {
				firstStart = start
			}
			cur = &section{start: lineEnd, end: len(src), line: lineNo, noTx: dir.noTx}
			*slot = cur
			pair(dir.kind, lineNo)
		case dirBegin:
			blockText = open > 0 || held
			open, openNote, held = 0, false, false // the tool goes on to StatementEnd with what it holds
			switch {
			case cur == nil && d.looseBlocks:
				r.warnf(file, lineNo, "delete the line", "ignored: %s ignores a StatementBegin before the first %s or %s line", d.tool, d.up, d.down)
			case cur == nil:
				r.errorf(file, lineNo, "move it below "+d.up+" or "+d.down, "StatementBegin outside the %s and %s sections", d.up, d.down)
			case blockLine > 0 && d.looseBlocks:
				r.warnf(file, lineNo, "delete the line", "ignored: %s ignores a StatementBegin inside the block that starts on line %d, which the next StatementEnd ends", d.tool, blockLine)
			case blockLine > 0:
				r.errorf(file, lineNo, "close the block on line "+strconv.Itoa(blockLine)+" with StatementEnd first", "StatementBegin inside another StatementBegin block")
			default:
				blockLine = lineNo
			}
		case dirEnd:
			if blockLine == 0 && d.looseBlocks {
				r.warnf(file, lineNo, "delete the line", "ignored: StatementEnd without StatementBegin: %s ignores it", d.tool)
				continue
			}
			if blockLine == 0 {
				r.errorf(file, lineNo, "add a StatementBegin line before the statement or delete this line", "StatementEnd without StatementBegin")
			}
			if d.dropsAfterEmptyBlock && blockLine > 0 && !blockText {
				dropNext = lineNo
			}
			blockLine, held = 0, false
			out.bounds = append(out.bounds, lineNo)
		case dirNoTx:
			out.noTx = true
		case dirEnvOn:
			out.envSub = true
			if envFrom < 0 {
				envFrom = lineEnd
			}
		case dirEnvOff:
			if envFrom >= 0 {
				out.env = append(out.env, [2]int{envFrom, start})
				envFrom = -1
			}
		}
	}
	if envFrom >= 0 {
		out.env = append(out.env, [2]int{envFrom, len(src)})
	}
	closeSection(len(src))
	if out.up == nil && out.down != nil && d.upOptional {
		at := max(firstStart, len(src)-len(strings.TrimPrefix(src, "\uFEFF")))
		out.up = &section{start: at, end: at}
	}
	if out.up == nil {
		r.errorf(file, 0, "start the migration's SQL with a "+d.up+" line", "no %s section", d.up)
		return out
	}
	switch {
	case d.sections && len(out.up.more) > 0:
		// Each pair needs its down block; those before the last were reported at the next up line.
		if openUp > 0 {
			r.missingSectionDown(file, openUp, d)
		}
	case out.down == nil && d.missingDown != "":
		r.errorf(file, 0, "add a "+d.down+" line after the up section, with nothing below it if the migration cannot be undone",
			"no %s section: %s", d.down, d.missingDown)
	}
	if bomLen := len(src) - len(strings.TrimPrefix(src, "\uFEFF")); firstStart > bomLen {
		st := sqlparse.ParseRange(src, bomLen, firstStart, lines)
		if d.commentLinesBefore {
			if n, text := firstNonCommentLine(src, bomLen, firstStart); n > 0 && (len(st) == 0 || n < st[0].Pos.Line) {
				what, hint := "text that is neither a blank line nor a -- comment", "move it below "+d.up
				if strings.HasPrefix(strings.TrimSpace(text), "/*") {
					what, hint = "block comment", "write the comment as -- lines, or move it below "+d.up
				}
				r.errorf(file, n, hint,
					"%s before the first %s line: %s allows only blank lines and -- comments there; %s", what, d.up, d.tool, d.sqlBefore)
				return out
			}
		}
		if len(st) > 0 {
			if d.sqlBefore != "" {
				r.errorf(file, st[0].Pos.Line, "move it below "+d.up, "SQL before the first %s line: %s", d.up, d.sqlBefore)
			} else {
				r.errorf(file, st[0].Pos.Line, "move it below "+d.up+" or "+d.down,
					"SQL before the first %s/%s line is never run by %s", d.up, d.down, d.tool)
			}
		}
	}
	return out
}

// firstNonCommentLine is the first line of src[from:to] (numbered in src) that is neither blank nor a
// -- comment line, as dbmate's isEmptyLine (^\s*$) and isCommentLine (^\s*--) read lines; 0 when none.
func firstNonCommentLine(src string, from, to int) (int, string) {
	n := 1 + strings.Count(src[:from], "\n")
	for _, line := range strings.Split(src[from:to], "\n") {
		t := strings.TrimLeft(line, " \t\n\f\r")
		if t != "" && !strings.HasPrefix(t, "--") {
			return n, line
		}
		n++
	}
	return 0, ""
}

// missingSectionDown reports the up directive on line of a file cut into up/down pairs (sections) whose
// pair has no down directive.
func (r *reader) missingSectionDown(file string, line int, d dialect) {
	r.errorf(file, line, "add a "+d.down+" line after its up block, with nothing below it if it cannot be undone",
		"no %s after this %s: %s", d.down, d.up, d.missingDown)
}

// readSingleFile reads one migration file of a single-file format.
func (r *reader) readSingleFile(file, version, name string, d dialect) *Migration {
	src, ok := r.load(file)
	if !ok {
		return nil
	}
	if n, length := longLine(src, d.maxLine); n > 0 {
		r.errorf(file, n, "split the line (a long VALUES list or string literal over several lines), or load such data outside the migration",
			"line of %d bytes: %s cannot read a line of %s or more (bufio.Scanner, %s) and fails the file with \"bufio.Scanner: token too long\"",
			length, d.tool, mebibytes(d.maxLine), d.maxLineWhere)
		return nil
	}
	lines := sqlparse.NewLines(src)
	s := r.split(file, src, d, lines)
	if s.up == nil {
		return nil
	}
	m := &Migration{Version: version, Name: name, EnvSub: s.envSub}
	build := func(sec *section) *Script {
		text, end := src, sec.end
		if len(sec.more) > 0 {
			// The parts of a repeated section run as one script: the text between them (the other
			// section and the directive lines) is blanked so that offsets and lines still match the file.
			text, end = blankBetween(src, sec), sec.more[len(sec.more)-1].end
		}
		writtenEnd := end
		for i := len(s.env) - 1; i >= 0; i-- { // from the last region, so earlier offsets hold
			from, to := max(s.env[i][0], sec.start), min(s.env[i][1], sec.end)
			if from >= to {
				continue
			}
			next, bad := gooseEnv(text, from, to, s.unread)
			if bad != nil {
				r.errorf(file, lineAt(text, bad.Off), bad.Hint, "%s", bad.Msg)
				return nil
			}
			end += len(next) - len(text)
			text = next
		}
		if text == src {
			return d.script(file, src, sec.start, sec.end, lines)
		}
		sc := d.script(file, text, sec.start, end, nil)
		// As written: the substituted text may be longer or shorter than the section it came from.
		sc.Source = src[sc.Start:writtenEnd]
		return sc
	}
	if m.Up = build(s.up); m.Up == nil {
		return nil
	}
	m.Up.NoTransaction = s.noTx || s.up.noTx
	m.NoTransaction = m.Up.NoTransaction
	if s.down != nil {
		if m.Down = build(s.down); m.Down == nil {
			return nil
		}
		m.Down.NoTransaction = s.noTx || s.down.noTx
	}
	if d.splitsAtSemicolon {
		r.checkCuts(file, d, s.cuts, lines, m.Up, m.Down)
		r.checkJoined(file, d, s.bounds, lines, m.Up, m.Down)
	}
	if d.oneQuery {
		r.oneQuery(file, d, m, s.up, s.down)
	}
	if s.up.line == 0 {
		r.warnf(file, 0, "", "no %s section: %s runs nothing for the migration's up", d.up, d.tool)
		return m
	}
	r.checkEmpty(m, s.up.line, d.tool, d.up+" section")
	return m
}

// longLine finds the first line of src of max bytes or more, its "\n" aside: its number and length, or
// 0 when there is none (or max is 0).
func longLine(src string, max int) (line, length int) {
	if max <= 0 || len(src) < max {
		return 0, 0
	}
	for n := 1; src != ""; n++ {
		l, rest, _ := strings.Cut(src, "\n")
		if len(l) >= max {
			return n, len(l)
		}
		src = rest
	}
	return 0, 0
}

// mebibytes writes a size of whole mebibytes as "4 MiB".
func mebibytes(n int) string { return strconv.Itoa(n>>20) + " MiB" }

// script is the package's script, or scannedScript for a tool that sends what it reads line by line.
func (d dialect) script(file, src string, start, end int, lines *sqlparse.Lines) *Script {
	if d.scansLines {
		return scannedScript(file, src, start, end, lines, d.dropsLine)
	}
	return script(file, src, start, end, lines)
}

// blankBetween returns src with every byte between the parts of sec that is in none of them replaced by
// a space (line breaks kept), so that statements keep their offsets and lines in the file.
func blankBetween(src string, sec *section) string {
	b := []byte(src)
	from := sec.end
	for _, p := range sec.more {
		for i := from; i < p.start; i++ {
			if b[i] != '\n' && b[i] != '\r' {
				b[i] = ' '
			}
		}
		from = p.end
	}
	return string(b)
}

// checkCuts reports each line at which the tool ends a statement that goes on: the tool sends the two
// halves as two statements, and both fail (a function body with ; inside, outside StatementBegin/End).
func (r *reader) checkCuts(file string, d dialect, cuts []int, lines *sqlparse.Lines, scripts ...*Script) {
	if len(cuts) == 0 {
		return
	}
	for _, sc := range scripts {
		if sc == nil || sc.Source != "" { // text substituted (ENVSUB): lines no longer match
			continue
		}
		for _, st := range sc.Statements {
			if st.Err != nil {
				continue
			}
			endLine := lines.Pos(max(st.End-1, 0)).Line
			for _, c := range cuts {
				if c >= st.Pos.Line && c < endLine {
					r.errorf(file, c, "wrap the statement in -- +"+strings.TrimPrefix(strings.Fields(d.up)[1], "+")+" StatementBegin and StatementEnd lines",
						"%s ends a statement at this line (its last word ends with ;), inside the statement that starts on line %d and ends on line %d: it would send the two parts apart",
						d.tool, st.Pos.Line, endLine)
					break
				}
			}
		}
	}
}

// checkJoined reports a statement that refuses a transaction block (CREATE INDEX CONCURRENTLY) which the
// tool sends together with another one in a script it runs outside a transaction: goose and sql-migrate
// end a statement only at a line that ends with ; (or StatementEnd), so two statements on one line go
// as one query, which PostgreSQL runs as one implicit transaction, and the statement fails there.
func (r *reader) checkJoined(file string, d dialect, bounds []int, lines *sqlparse.Lines, scripts ...*Script) {
	for _, sc := range scripts {
		if sc == nil || !sc.NoTransaction || sc.Source != "" {
			continue
		}
		group := []*sqlparse.Statement{}
		flush := func() {
			if len(group) < 2 {
				return
			}
			for _, st := range group {
				if st.Err == nil && sqlparse.NeedsAutocommit(st.Node) {
					r.errorf(file, st.Pos.Line, "put each statement on a line of its own",
						"%s sends this statement in one query with the one before or after it (it ends a statement only at a line that ends with ;): PostgreSQL runs such a query as one transaction, where this statement fails", d.tool)
					return
				}
			}
		}
		prevEnd := 0
		for i := range sc.Statements {
			st := &sc.Statements[i]
			if len(group) > 0 && slices.ContainsFunc(bounds, func(b int) bool { return b >= prevEnd && b < st.Pos.Line }) {
				flush()
				group = group[:0]
			}
			group = append(group, st)
			prevEnd = lines.Pos(max(st.End-1, 0)).Line
		}
		flush()
	}
}

// oneQuery reads a section the tool sends as one query as PostgreSQL runs it: with several statements,
// as one transaction (all or nothing, as the rehearsal then runs it), where a statement that refuses a
// transaction block fails (amacneil/dbmate#182). Each part of a section cut into pairs (sections) is
// such a query of its own; the script runs outside a transaction when one of them holds a single
// statement that does.
func (r *reader) oneQuery(file string, d dialect, m *Migration, up, down *section) {
	for _, x := range []struct {
		sc  *Script
		sec *section
	}{{m.Up, up}, {m.Down, down}} {
		if x.sc == nil || x.sec == nil {
			continue
		}
		parts := append([]*section{x.sec}, x.sec.more...)
		noTx := false
		for _, p := range parts {
			if !p.noTx {
				continue
			}
			var sts []sqlparse.Statement
			for _, st := range x.sc.Statements {
				if st.Pos.Offset >= p.start && st.Pos.Offset < p.end {
					sts = append(sts, st)
				}
			}
			r.checkSavepoints(file, d.tool+" sends a section it runs outside a transaction", "drop transaction:false ("+d.tool+" then runs the section in a transaction of its own), or put BEGIN; before it and COMMIT; at the end", sts)
			if len(sts) < 2 {
				noTx = noTx || len(sts) == 1 || len(parts) == 1
				continue
			}
			for _, st := range sts {
				if st.Err == nil && sqlparse.NeedsAutocommit(st.Node) {
					r.errorf(file, st.Pos.Line, "put it in a migration of its own",
						"%s sends a section it runs outside a transaction as one query, and PostgreSQL runs a query of several statements as one transaction, where this statement fails", d.tool)
					break
				}
			}
		}
		x.sc.NoTransaction = noTx
		if noTx {
			x.sc.Alone = AloneOneQuery
		}
	}
	m.NoTransaction = m.Up != nil && m.Up.NoTransaction
}

// endsWithSemicolon is how goose and sql-migrate tell the end of a statement: the line's last
// white-space-separated word before one starting with "--" ends with ";".
func endsWithSemicolon(line string) bool {
	prev := ""
	for _, w := range strings.Fields(line) {
		if strings.HasPrefix(w, "--") {
			break
		}
		prev = w
	}
	return strings.HasSuffix(prev, ";")
}

// checkEmpty reports an up script without statements, a warning: every tool that calls it runs such a
// migration as a no-op and records it as applied (goose migration_sql.go runSQLMigration and sql-migrate
// migrate.go applyMigration loop over no statement before recording the version; dbmate db.go Migrate
// sends the empty up, which PostgreSQL answers with EmptyQueryResponse; Flyway, sqitch through psql and
// Atlas run an empty script), whether or not its down script has SQL. A down with SQL says the SQL may
// be in the wrong section; the round trip then shows whether the down undoes what the up never made.
func (r *reader) checkEmpty(m *Migration, line int, tool, upName string) {
	if !m.Up.Empty() {
		return
	}
	if !m.Down.Empty() {
		r.warnf(m.Up.File, line, "put the migration's SQL in the "+upName+" if it belongs there",
			"%s has no SQL statement but the down script has: %s records migration %s and runs nothing for its up", upName, tool, m.ID())
		return
	}
	r.warnf(m.Up.File, line, "", "migration %s has no SQL statement; %s runs it as a no-op", m.ID(), tool)
}

// commentBody returns what follows "--" and blanks on a comment line, and whether the line (after
// indentation) is a comment; indented reports leading white space.
func commentBody(line string) (body string, isComment, indented bool) {
	t := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(t, "--") {
		return "", false, false
	}
	return strings.TrimLeft(t[2:], " \t"), true, len(t) != len(line)
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
