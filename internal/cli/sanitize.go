package cli

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

// Text output quotes the pull request: file names, SQL, identifiers, what the server said about them.
// Any of these may hold a newline (a quoted identifier, a file name, RAISE EXCEPTION E'...\n...') that
// starts a line of its own, read by GitHub Actions as a workflow command (::add-mask::, ::error::), or a
// terminal escape (ESC [2J). The data of every text line is printed with its control characters
// escaped, as \n, \r, \t, \x1b, and so are the invisible format characters (a byte-order mark, zero-width
// spaces, bidi controls) as \ufeff, \u202e; JSON, Markdown and SARIF escape in their own ways.

// clean escapes the control characters of s for a text line: report.Clean, which deploy's text report
// uses too.
func clean(s string) string { return report.Clean(s) }

// cleanArgs cleans the text among a format's arguments: strings, errors and Stringers.
func cleanArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = clean(v)
		case error:
			out[i] = clean(v.Error())
		case fmt.Stringer:
			out[i] = clean(v.String())
		default:
			out[i] = a
		}
	}
	return out
}

// progress is the Progress of a rehearsal (check, rollback-script): one line on stderr per step, none
// when quiet. Its arguments quote the pull request (file names, the first line of a slow statement, what
// the server said), so they are cleaned; the format is schemagate's.
func (a *App) progress(quiet bool) func(format string, args ...any) {
	return func(format string, args ...any) {
		if !quiet {
			fmt.Fprintf(a.Stderr, format+"\n", cleanArgs(args)...)
		}
	}
}

// cleanLines cleans text of several lines meant to be read (SQL shown on stderr): its line breaks stay,
// everything else is escaped as clean does (a "\r" too, which would start a line for the runner and
// the terminal), and a line that could be read as a workflow command is shown quoted (see defuse).
func cleanLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return defuse(strings.Join(lines, "\n"))
}

// lineBreaks are the line breaks error messages are built with on purpose: schemagate's own ("\n  " before
// an indented line, "\nhint: " before what to do) and the libraries' it wraps (pgx lists the addresses it
// tried as "\n\t..."). A line break elsewhere is escaped.
var lineBreaks = []string{"\n  ", "\n\t", "\nhint: "}

// cleanMessage cleans an error message for its lines on stderr: it keeps the line breaks of lineBreaks
// and escapes any other, with the rest of the text (see clean). What text the message quotes (a file
// name, SQL, a server's message) may hold such a break too, so a kept break is escaped all the same when
// the line it would start could be read as a workflow command (see startsCommand): whatever the message
// quotes, no line of it is one.
func cleanMessage(s string) string {
	var b strings.Builder
	for {
		i, brk := -1, ""
		for _, br := range lineBreaks {
			if j := strings.Index(s, br); j >= 0 && (i < 0 || j < i) {
				i, brk = j, br
			}
		}
		if i < 0 {
			b.WriteString(clean(s))
			return b.String()
		}
		b.WriteString(clean(s[:i]))
		s = s[i+1:]
		if startsCommand(s) {
			b.WriteString(`\n`)
		} else {
			b.WriteByte('\n')
		}
		// The rest of the break ("  ", a tab, "hint: ") is the message's layout: it stays as it is.
		b.WriteString(brk[1:])
		s = s[len(brk)-1:]
	}
}

// startsCommand tells whether a line starting with s could be read as a workflow command: the runner
// trims the leading white space (any Unicode space, as .NET's TrimStart does) before it looks for "::".
func startsCommand(s string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(s, unicode.IsSpace), "::")
}

// cleanError cleans an error's message for stderr, as cleanMessage does, except that the errors joined
// in it (errors.Join, migrate's list of read errors) each begin a line of their own: the line break
// between them is schemagate's, while one inside a file name or SQL is escaped with the rest.
func cleanError(err error) string {
	msg := err.Error()
	joined := joinedIn(err)
	if joined == nil {
		return cleanMessage(msg)
	}
	var children []error
	for _, c := range joined.Unwrap() {
		if c != nil {
			children = append(children, c)
		}
	}
	texts := make([]string, len(children))
	for i, c := range children {
		texts[i] = c.Error()
	}
	jmsg := joined.(error).Error()
	i := strings.LastIndex(msg, jmsg)
	if i < 0 || len(children) < 2 || strings.Join(texts, "\n") != jmsg {
		// Not errors.Join's layout: no line break in it is known to be schemagate's.
		return cleanMessage(msg)
	}
	parts := make([]string, len(children))
	for k, c := range children {
		parts[k] = strings.ReplaceAll(cleanError(c), "\n", "\n  ")
	}
	head := strings.TrimRight(cleanMessage(msg[:i]), " ")
	if head != "" {
		head += "\n  "
	}
	return head + strings.Join(parts, "\n  ") + cleanMessage(msg[i+len(jmsg):])
}

// joinedIn returns the first error of err's chain that joins several (Unwrap() []error), or nil.
func joinedIn(err error) interface{ Unwrap() []error } {
	for err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			return j
		}
		err = errors.Unwrap(err)
	}
	return nil
}

// cleanFindings returns findings with their text cleaned for a text report.
func cleanFindings(fs []lint.Finding) []lint.Finding {
	out := make([]lint.Finding, len(fs))
	for i, f := range fs {
		f.File, f.Rule, f.Message, f.Suggestion, f.Reason, f.URL = clean(f.File), clean(f.Rule), clean(f.Message), clean(f.Suggestion), clean(f.Reason), clean(f.URL)
		out[i] = f
	}
	return out
}
