package rehearse

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// ErrServerAccess marks migrations refused in a CI job's rehearsal because they reach the files or
// programs of the machine the rehearsal's server runs on (see Options.RefuseServerAccess).
var ErrServerAccess = errors.New("the migrations reach the files or programs of the rehearsal's machine")

// serverAccessRefused refuses, before anything runs, the statements of scripts that reach the server's
// files or programs (serverAccess). In a CI job the rehearsal's server runs the change's SQL as a
// superuser beside the job's files: the clone's .git/config, where actions/checkout keeps the job's
// token (persist-credentials) and a GitLab runner the job token in the remote's URL, is world-readable,
// and what a migration reads there reaches the failure line, the annotation, the comment and the report.
//
// Code the server runs from text (DO blocks, function bodies, EXECUTE) is judged by the words it holds:
// a name pieced together at run time is not seen. A function an earlier migration made in an untrusted
// language is caught with that migration, which runs in the same rehearsal.
func serverAccessRefused(scripts []*migrate.Script) error {
	found := statementsThat(scripts, func(s *sqlparse.Statement) string { return serverAccess(s.Node, s.SQL) })
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("%w, and a CI job's rehearsal refuses them (its server runs the change's SQL as a superuser beside the job's files, the clone's credentials among them):\n  %s\n"+
		"hint: load data with COPY … FROM STDIN or INSERT, and leave files, programs and untrusted languages out of migrations; "+
		"if the migrations need them, set rehearsal.allow_server_access: true in schemagate.yml on the base branch (a change cannot set it for itself), "+
		"and check out without persisting credentials (actions/checkout with persist-credentials: false)",
		ErrServerAccess, strings.Join(found, "\n  "))
}

// serverFileCalls are the functions that read or write the server's files, or list them: built in,
// adminpack's and the large objects' server-side import and export (the lint's server-file-access
// functions). A quoted name ("pg_read_file"(...)) calls it too.
var serverFileCalls = lint.ServerCallRE("server-file-access")

// fileWords, in code the server runs from text, name what reaches the server's files or programs: the
// wrapper and the extension that do, and the untrusted languages.
var fileWords = regexp.MustCompile(`(?i)\b(file_fdw|adminpack|plpython[23]?u|plperlu|pltclu|plsh|plv8u|plluau|pljavau|plr)\b`)

// untrustedWords, in code the server runs from text, name the untrusted languages (untrustedLanguages
// but C and internal).
var untrustedWords = regexp.MustCompile(`(?i)\b(plpython[23]?u|plperlu|pltclu|plsh|plv8u|plluau|pljavau|plr)\b`)

// cLanguage is LANGUAGE C written in code run from text.
var cLanguage = regexp.MustCompile(`(?i)\blanguage\s*['"]*c\b`)

// programText is COPY … PROGRAM, or a foreign table's program option, written in code run from text.
var programText = regexp.MustCompile(`(?is)\bcopy\b[^;]*?\b(?:from|to)\s+program\b|\bprogram\s*(?:e?'|\$)`)

// fileCopyText is COPY to or from a file written in code run from text: the file name is a string after
// FROM or TO (quoted once, or twice inside a quoted body), where a COPY of the client's has STDIN or STDOUT.
var fileCopyText = regexp.MustCompile(`(?is)\bcopy\b[^;]*?\b(?:from|to)\s*(?:e?'|\$)`)

// systemLanguage is LANGUAGE C or internal written in code run from text: a function of the server's own
// code or of any library it can load (libc's system).
var systemLanguage = regexp.MustCompile(`(?i)\blanguage\s*['"]*(?:c|internal)\b`)

// serverAccess says how a statement reaches the files or programs of the machine its server runs on,
// "" when it does not as far as its parse tree and its text show: COPY to or from a file or a program,
// the functions that read, write or list files, large objects imported or exported, adminpack and
// file_fdw (its extension, wrapper, servers and the foreign tables' filename or program), untrusted
// languages and LANGUAGE C or internal functions, LOAD, and ALTER SYSTEM (it writes the server's
// configuration file, whose settings may run a program: archive_command).
func serverAccess(n *pg_query.Node, sql string) string {
	if what := runsProgram(n, sql); what != "" {
		return what
	}
	switch {
	case n.GetCopyStmt() != nil && n.GetCopyStmt().Filename != "":
		return "COPY to or from a server file reads or writes the files of the server's machine"
	case n.GetCreateExtensionStmt() != nil:
		if name := strings.ToLower(n.GetCreateExtensionStmt().Extname); name == "file_fdw" || name == "adminpack" || untrustedLanguages[name] {
			return "CREATE EXTENSION " + name + " reaches the files or programs of the server's machine"
		}
	case n.GetCreatePlangStmt() != nil:
		if l := n.GetCreatePlangStmt(); !l.Pltrusted || untrustedLanguages[strings.ToLower(l.Plname)] {
			return "CREATE LANGUAGE " + l.Plname + ": code in an untrusted language runs with the server's rights (its files and programs)"
		}
	case n.GetCreateFunctionStmt() != nil:
		if l := defString(n.GetCreateFunctionStmt().Options, "language"); untrustedLanguages[strings.ToLower(l)] {
			return "a function in LANGUAGE " + l + " runs with the server's rights (its files, programs and memory)"
		}
	case n.GetCreateFdwStmt() != nil && fileWords.MatchString(sql):
		return "a foreign data wrapper of file_fdw reads the server's files and runs programs"
	case n.GetCreateForeignServerStmt() != nil && strings.EqualFold(n.GetCreateForeignServerStmt().Fdwname, "file_fdw"):
		return "CREATE SERVER … FOREIGN DATA WRAPPER file_fdw: its foreign tables read the server's files and run programs"
	case n.GetLoadStmt() != nil:
		return "LOAD loads a library of the server's machine into the session (code with the server's rights)"
	case n.GetAlterSystemStmt() != nil:
		return "ALTER SYSTEM writes the server's configuration file, whose settings may run programs (archive_command) or load libraries"
	}
	if opt := foreignTableOption(n, "filename"); opt != "" {
		return "a foreign table's " + opt + " option reads a file of the server's machine (file_fdw)"
	}
	if m := serverFileCalls.FindString(sql); m != "" {
		return fmt.Sprintf("%s) reads, writes or lists the files of the server's machine", collapse(m))
	}
	if m := codeMentions(n, sql, fileCopyText, fileWords, systemLanguage); m != "" {
		return fmt.Sprintf("code run from text (a DO block or a function body) mentions %q, which reaches the files or programs of the server's machine", m)
	}
	return ""
}

// runsProgram says how a statement makes the server run a program (which may do anything its user may,
// reach the network too), "" when it does not as far as its parse tree and its text show: COPY …
// PROGRAM, a file_fdw foreign table's program option, a function or DO block in an untrusted language or
// LANGUAGE C (libc's system), and code run from text that mentions them.
func runsProgram(n *pg_query.Node, sql string) string {
	switch {
	case n.GetCopyStmt() != nil && n.GetCopyStmt().IsProgram:
		return "COPY … PROGRAM runs a program on the server's machine"
	case n.GetCreateFunctionStmt() != nil:
		if l := strings.ToLower(defString(n.GetCreateFunctionStmt().Options, "language")); l != "internal" && untrustedLanguages[l] {
			return "a function in LANGUAGE " + l + " runs with the server's rights: it may run programs and reach the network"
		}
	case n.GetDoStmt() != nil:
		if l := strings.ToLower(defString(n.GetDoStmt().Args, "language")); untrustedLanguages[l] {
			return "a DO block in LANGUAGE " + l + " runs with the server's rights: it may run programs and reach the network"
		}
	}
	if opt := foreignTableOption(n, "program"); opt != "" {
		return "a foreign table's program option runs a program on the server's machine when it is read (file_fdw)"
	}
	if n.GetDoStmt() == nil && n.GetCreateFunctionStmt() == nil {
		return ""
	}
	if m := programText.FindString(sql); m != "" {
		return fmt.Sprintf("code run from text (a DO block or a function body) mentions %q, which runs a program on the server's machine", collapse(m))
	}
	for _, re := range []*regexp.Regexp{untrustedWords, cLanguage} {
		if m := re.FindString(sql); m != "" {
			return fmt.Sprintf("code run from text (a DO block or a function body) mentions %q, a language whose code may run programs and reach the network", collapse(m))
		}
	}
	return ""
}

// foreignTableOption is name when a CREATE or ALTER FOREIGN TABLE sets or adds that option (file_fdw's
// filename or program), "" otherwise.
func foreignTableOption(n *pg_query.Node, name string) string {
	ft := n.GetCreateForeignTableStmt() != nil ||
		(n.GetAlterTableStmt() != nil && n.GetAlterTableStmt().Objtype == pg_query.ObjectType_OBJECT_FOREIGN_TABLE)
	if !ft {
		return ""
	}
	found := ""
	sqlparse.Walk(n.ProtoReflect(), func(d *pg_query.DefElem) {
		if strings.EqualFold(d.Defname, name) && d.Defaction != pg_query.DefElemAction_DEFELEM_DROP {
			found = name
		}
	})
	return found
}
