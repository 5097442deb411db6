package migrate

import (
	"errors"
	"strings"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// psqlScript reads a whole file that psql runs (sqitch scripts, plain folders): psql's meta-commands
// are taken out of the SQL. Those that only print, set psql variables or mark pg_dump output are
// dropped; those that would change what runs (another database, an included file, a conditional) are
// errors at their line, since schemagate cannot rehearse what psql would do with them.
//
// psql variables are substituted as psql does (see sqlparse.InterpolatePsql), from vars (sqitch's
// configuration) and the script's own \set lines; the checksum stays that of the text as written.
func (r *reader) psqlScript(file, src string, vars map[string]string) *Script {
	start := 0
	if strings.HasPrefix(src, "\uFEFF") {
		start = len("\uFEFF")
	}
	text, err := sqlparse.InterpolatePsql(src, start, len(src), vars)
	if err != nil {
		var ve *sqlparse.PsqlVarError
		if errors.As(err, &ve) {
			r.errorf(file, lineAt(src, ve.Off), ve.Hint, "%s", ve.Msg)
		}
		text = src
	}
	sts, cmds := sqlparse.ParsePsql(text, start, len(text), nil)
	for _, c := range cmds {
		if hint, bad := psqlUnsupported(c); bad {
			r.errorf(file, c.Pos.Line, hint, "psql meta-command \\%s is not supported in a migration", c.Name)
		}
	}
	s := &Script{File: file, SQL: text[start:], Start: start, Statements: sts}
	if text != src {
		s.Source = src[start:]
	}
	return s
}

// psqlIgnored are the meta-commands that change nothing on the server: output, display, psql
// variables, and pg_dump's \restrict / \unrestrict.
var psqlIgnored = map[string]bool{
	"set": true, "unset": true, "echo": true, "qecho": true, "warn": true, "timing": true, "pset": true,
	"a": true, "C": true, "f": true, "H": true, "t": true, "T": true, "x": true, "o": true, "out": true,
	"restrict": true, "unrestrict": true, "conninfo": true, "errverbose": true, "p": true, "print": true,
	"encoding": true, "copyright": true, "?": true, "h": true, "help": true, "l": true, "l+": true,
	"list": true, "sf": true, "sf+": true, "sv": true, "sv+": true, "z": true, "g": true, "gx": true,
	`\`: true, "": true,
}

// psqlUnsupported tells whether a meta-command would change what the script does, with advice.
func psqlUnsupported(c sqlparse.PsqlCommand) (hint string, bad bool) {
	switch name := c.Name; {
	case psqlIgnored[name] || strings.HasPrefix(name, "d"): // \d, \dt+...: display only
		return "", false
	case name == "q" || name == "quit":
		if c.Last {
			return "", false
		}
		return "psql stops reading the script at \\q, so what follows never runs: move \\q to the end or delete it", true
	case name == "c" || name == "connect":
		return "a migration runs on one database: move what runs on another one to its own migration folder", true
	case name == "i" || name == "ir" || name == "include" || name == "include_relative":
		return "schemagate does not follow psql includes: put the included SQL in the script", true
	case name == "if" || name == "elif" || name == "else" || name == "endif":
		return "psql conditionals are not rehearsed: use a DO block or IF EXISTS / IF NOT EXISTS", true
	case name == "copy":
		return "\\copy reads a file on the machine that runs psql: put the rows inline with COPY … FROM STDIN", true
	case name == "gexec":
		return "\\gexec runs what a query returns as statements, which cannot be read before it runs: write the statements out, or use a DO block", true
	case name == "gset":
		return "\\gset stores a query's result in psql variables, whose values cannot be known before the query runs (later lines use them as :name): write the values out, or use a DO block", true
	default:
		return "delete the line; psql commands that only print or set psql variables are ignored", true
	}
}
