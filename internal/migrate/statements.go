package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// What an applied migration's edit changes: its text, or what databases run. A comment fixed, a line
// reindented or a blank line added in an applied golang-migrate, goose, dbmate or sql-migrate migration
// changes no statement any database runs, and those tools record no checksum of what they applied, so
// they accept it; the statements form tells such an edit from one that changes what runs.

// ChecksumFree tells whether the tool that owns format records no checksum of the scripts it applied,
// so that it runs an applied migration's edit nowhere and refuses it nowhere: golang-migrate, goose and
// dbmate record versions, sql-migrate file names. Flyway records a CRC its validate compares, sqitch a
// hash of each deploy script that sqitch check compares (the sqitch-check manual: it "fails and reports
// divergence for all changes with non-matching hashes", of the deploy script's bytes), and Atlas hashes
// every file in atlas.sum and its revisions table: an edit of any byte is one to them. A plain folder
// has no tool that keeps a record; psql runs it, with meta-commands (\i, \set, \if) that Script's
// Statements leave out, so comparing the statements would miss an edit of those: schemagate deploy's
// history, its only record, stays as strict as before.
func ChecksumFree(f Format) bool {
	switch f {
	case FormatGolangMigrate, FormatGoose, FormatDbmate, FormatSQLMigrate:
		return true
	}
	return false
}

// StatementsForm is what the script runs, without what the server ignores: each statement as the parser
// split it (Statements), its tokens as PostgreSQL's own scanner reads them, comments and the blank space
// between tokens left out, and whether the tool runs it in a transaction (goose NO TRANSACTION, dbmate
// transaction:false, sql-migrate notransaction, or one inferred from its statements). The scanner keeps
// string literals, dollar-quoted bodies and quoted identifiers whole, so a "comment" within one of
// those is text the server keeps, and a change to it changes the form. COPY … FROM STDIN data counts as
// written. Two scripts of equal forms run the same statements.
//
// ok is false when the form cannot stand for what runs: the script's text has variables substituted
// (Source: goose ENVSUB, Flyway placeholders), which the environment decides, or a statement does not
// scan (an unterminated quote).
func (s *Script) StatementsForm() (form string, ok bool) {
	if s == nil {
		return "", true
	}
	if s.Source != "" {
		return "", false
	}
	var b strings.Builder
	if s.NoTransaction {
		b.WriteString("no transaction")
	} else {
		b.WriteString("transaction")
	}
	// What lies between the statements must be nothing the server reads: semicolons, comments, blank
	// space. The splitter passes over an unclosed /* (to the end of the script, statements included),
	// which the server refuses: such a script has no form, and an edit that adds one is an edit.
	prev := s.Start
	gap := func(end int) bool {
		if end < prev || end-s.Start > len(s.SQL) {
			return false
		}
		toks, err := sqlparse.Tokens(s.SQL[prev-s.Start : end-s.Start])
		return err == nil && !slices.ContainsFunc(toks, func(t string) bool { return t != ";" })
	}
	for _, st := range s.Statements {
		if !gap(st.Pos.Offset) {
			return "", false
		}
		prev = st.End
		toks, err := sqlparse.Tokens(st.SQL)
		if err != nil {
			return "", false
		}
		// NUL separates tokens and two of them statements: no SQL holds a NUL (the server refuses one),
		// so no token does, and no two lists of tokens read alike. A statement may hold a ";" token
		// (CREATE RULE … DO (a; b)), which therefore cannot end it here.
		b.WriteString("\x00\x00")
		for _, t := range toks {
			b.WriteString(t)
			b.WriteByte(0)
		}
		if st.FromStdin {
			b.WriteString("\x00stdin\x00")
			b.WriteString(strings.ReplaceAll(st.CopyData, "\r\n", "\n"))
		}
	}
	if !gap(s.Start + len(s.SQL)) {
		return "", false
	}
	return b.String(), true
}

// SameStatements tells whether m's up and o's run the same statements alike (see StatementsForm): false
// when either has no form, runs what the folder does not hold (a goose Go migration), or has goose
// substitute ${VAR} references (ENVSUB ON), whose values the deploy's environment decides: a
// reference edited to another may read alike here and not there.
func (m *Migration) SameStatements(o *Migration) bool {
	a, ok := m.statementsForm()
	if !ok {
		return false
	}
	b, ok := o.statementsForm()
	return ok && a == b
}

// StatementsChecksum is a SHA-256 of the up's statements form, which deploy history records beside
// Checksum and UpChecksum: for a folder whose tool records no checksum (ChecksumFree), an applied
// migration whose up still has it has not drifted, whatever comments or blank space changed. "" when
// the up has no form (see StatementsForm).
func (m *Migration) StatementsChecksum() string {
	form, ok := m.statementsForm()
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte(form))
	return hex.EncodeToString(sum[:])
}

func (m *Migration) statementsForm() (string, bool) {
	if m.External != "" || m.Up == nil || m.EnvSub {
		return "", false
	}
	return m.Up.StatementsForm()
}

// FirstChangedLine is the file line of the first line of now's text that differs from was's (line
// endings aside), for a finding to point at an edit that changed no statement; 1 when it is not known.
func FirstChangedLine(now, was *Script) int {
	if now == nil || was == nil {
		return 1
	}
	a := strings.Split(strings.ReplaceAll(now.text(), "\r\n", "\n"), "\n")
	b := strings.Split(strings.ReplaceAll(was.text(), "\r\n", "\n"), "\n")
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) {
		i = len(a) - 1 // only was has more: at now's last line
	}
	return now.firstLine() + i
}

// firstLine is the file line the script's text starts on: 1 for a whole file, the line of its section
// for a section (goose, dbmate, sql-migrate), found from its first statement.
func (s *Script) firstLine() int {
	if len(s.Statements) == 0 {
		return 1
	}
	st := s.Statements[0]
	off := st.Pos.Offset - s.Start
	if off < 0 || off > len(s.SQL) {
		return 1
	}
	return max(1, st.Pos.Line-strings.Count(s.SQL[:off], "\n"))
}
