package ci

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/schemagate/schemagate/internal/report"
)

// runnerCommand is a workflow command as the Actions runner reads it from a line of the step's output
// (actions/runner src/Runner.Common/ActionCommand.cs TryParseV2).
type runnerCommand struct {
	name  string
	props map[string]string
	data  string
}

// runnerLines splits output as the runner's reader does (.NET ReadLine): at "\n", "\r" and "\r\n".
func runnerLines(out string) []string {
	return strings.FieldsFunc(strings.ReplaceAll(out, "\r\n", "\n"), func(r rune) bool { return r == '\n' || r == '\r' })
}

// parseRunnerCommands reads the workflow commands of out as the runner does: leading white space trimmed,
// "::name props::data", properties split at "," and "=" and unescaped (%0D, %0A, %3A, %2C, then %25),
// the data unescaped (%0D, %0A, %25). Lines that are no command are skipped.
func parseRunnerCommands(out string) []runnerCommand {
	var cmds []runnerCommand
	for _, line := range runnerLines(out) {
		line = strings.TrimLeftFunc(line, unicode.IsSpace)
		if !strings.HasPrefix(line, "::") {
			continue
		}
		end := strings.Index(line[2:], "::")
		if end < 0 {
			continue
		}
		info, data := line[2:2+end], line[2+end+2:]
		c := runnerCommand{name: info, props: map[string]string{}}
		if name, props, ok := strings.Cut(info, " "); ok {
			c.name = name
			for _, p := range strings.Split(strings.TrimSpace(props), ",") {
				if k, v, ok := strings.Cut(p, "="); ok && k != "" && v != "" {
					c.props[k] = strings.NewReplacer("%0D", "\r").Replace(v)
					for _, m := range [][2]string{{"%0A", "\n"}, {"%3A", ":"}, {"%2C", ","}, {"%25", "%"}} {
						c.props[k] = strings.ReplaceAll(c.props[k], m[0], m[1])
					}
				}
			}
		}
		for _, m := range [][2]string{{"%0D", "\r"}, {"%0A", "\n"}, {"%25", "%"}} {
			data = strings.ReplaceAll(data, m[0], m[1])
		}
		c.data = data
		cmds = append(cmds, c)
	}
	return cmds
}

// TestAnnotationNamesItsFileAsTheRunnerReadsIt: a file name with a tab, a line break, a carriage return,
// "%", ":" or "," reaches the runner as itself, so the annotation lands on that file; the message keeps
// its "%" and line breaks, and nothing of either starts a command of its own.
func TestAnnotationNamesItsFileAsTheRunnerReadsIt(t *testing.T) {
	t.Parallel()
	for _, file := range []string{
		"db/001_plain.up.sql",
		"db/002_tab\there.up.sql",
		"db/003_line\n::add-mask::x.up.sql",
		"db/004_cr\r::error::forged.up.sql",
		"db/005_crlf\r\nx.up.sql",
		"db/006_100%25,a:b=c.up.sql",
		"db/007 spaced ,,::.up.sql",
	} {
		var buf bytes.Buffer
		a := NewActions(&GitHubEnv{}, &buf)
		msg := "50% of\r\nthe rows\n::set-output name=x::y"
		a.Annotate([]report.Annotation{{Level: report.LevelWarning, File: file, Line: 3, Col: 4, Title: "schemagate: rule (caution)", Message: msg}})
		cmds := parseRunnerCommands(buf.String())
		if len(cmds) != 1 {
			t.Errorf("%q: the runner reads %d commands, want 1:\n%q", file, len(cmds), buf.String())
			continue
		}
		c := cmds[0]
		if c.name != "warning" || c.props["file"] != file || c.props["line"] != "3" || c.props["col"] != "4" || c.props["title"] != "schemagate: rule (caution)" {
			t.Errorf("%q: the runner reads %s %q, want the warning on the file itself:\n%q", file, c.name, c.props, buf.String())
		}
		if c.data != "50% of\nthe rows\n::set-output name=x::y" {
			t.Errorf("%q: the runner reads the message %q", file, c.data)
		}
	}
}

// TestAnnotationOfAFileWithTerminalControls: a file name holding an escape sequence, a C1 control or a
// bidi control cannot be written into the log raw, nor as itself escaped (the runner unescapes only
// line breaks, "%", ":" and ","): the annotation then names no file it would not land on, and its
// message says which file and line, escaped.
func TestAnnotationOfAFileWithTerminalControls(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	a := NewActions(&GitHubEnv{}, &buf)
	file := "db/4_\x1b[2J\u009b\u202eevil\x01.up.sql"
	a.Annotate([]report.Annotation{{Level: report.LevelError, File: file, Line: 2, Col: 5, Title: "t", Message: "bad"}})
	cmds := parseRunnerCommands(buf.String())
	if len(cmds) != 1 {
		t.Fatalf("the runner reads %d commands:\n%q", len(cmds), buf.String())
	}
	if f, ok := cmds[0].props["file"]; ok {
		t.Errorf("the annotation names the file %q, which is not the file %q", f, file)
	}
	if want := `db/4_\x1b[2J\u009b\u202eevil\x01.up.sql:2:5: bad`; cmds[0].data != want {
		t.Errorf("message = %q, want %q", cmds[0].data, want)
	}
}
