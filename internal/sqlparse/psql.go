package sqlparse

import (
	"strings"
)

// psql meta-commands.
//
// Scripts that psql runs (sqitch's PostgreSQL engine calls psql; plain folders are what psql -f and
// docker-entrypoint-initdb.d run) may hold backslash commands that psql runs itself and never sends to
// the server: \set ON_ERROR_STOP on, \echo, and the \restrict / \unrestrict lines pg_dump writes since
// PostgreSQL 17.6, 16.10, 15.14, 14.19 and 13.22.

// PsqlCommand is a psql meta-command: from a backslash outside quotes and comments to the end of its line.
type PsqlCommand struct {
	// Name is the command without its backslash: "set", "ir", "restrict".
	Name string
	// Args is the rest of the line, trimmed.
	Args string
	// Pos is where the backslash stands.
	Pos Position
	// Last is set when nothing but white space and comments follows the command in the script.
	Last bool
}

// ParsePsql is ParseRange for a script psql runs: meta-command lines are taken out of the SQL (their
// bytes blanked, so every statement keeps its position) and returned apart. \g and \gx end the statement
// before them, as a semicolon does. COPY … FROM STDIN data is left alone (a data line may start with a
// backslash: \N is NULL).
func ParsePsql(src string, start, end int, lines *Lines) ([]Statement, []PsqlCommand) {
	if lines == nil {
		lines = NewLines(src)
	}
	end = min(max(end, 0), len(src))
	start = min(max(start, 0), end)
	section := src[start:end]
	if strings.IndexByte(section, '\\') < 0 {
		return ParseRange(src, start, end, lines), nil
	}
	spans := psqlLines(section)
	if len(spans) == 0 {
		return ParseRange(src, start, end, lines), nil
	}
	b := []byte(section)
	cmds := make([]PsqlCommand, 0, len(spans))
	for _, s := range spans {
		line := section[s.start+1 : s.end]
		name := line
		if i := strings.IndexAny(line, " \t\\"); i >= 0 {
			name = line[:i]
		}
		cmds = append(cmds, PsqlCommand{
			Name: name,
			Args: strings.Trim(line[len(name):], pgSpace),
			Pos:  lines.Pos(start + s.start),
			Last: skipSpaceAndComments(section[s.end:]) == len(section)-s.end,
		})
		for i := s.start; i < s.end; i++ {
			b[i] = ' '
		}
		if name == "g" || name == "gx" {
			b[s.start] = ';' // runs the query buffer
		}
	}
	blanked := src[:start] + string(b) + src[end:]
	return ParseRange(blanked, start, end, lines), cmds
}

// IsPsqlCommand reports whether a statement's text starts with a backslash: a psql meta-command, which
// only psql understands.
func IsPsqlCommand(sql string) bool {
	return strings.HasPrefix(strings.TrimLeft(sql, pgSpace), `\`)
}

type span struct{ start, end int }

// psqlLines finds the meta-commands of a section as psql reads it: a backslash outside quotes, dollar
// quotes and comments starts one, which runs to the end of the line (a carriage return before the line
// feed excluded). After a statement that is COPY … FROM STDIN, the lines up to \. are data, not
// commands.
func psqlLines(section string) []span {
	meta, _ := psqlRegions(section)
	return meta
}

// psqlRegions is psqlLines, and the COPY … FROM STDIN data in between (from the line after the
// statement to the end of its \. line or of the text).
func psqlRegions(section string) (out, data []span) {
	stmt := 0 // where the current statement's text starts
	for i := 0; i < len(section); {
		if next, ok := skipToken(section, i); ok {
			i = next
			continue
		}
		switch section[i] {
		case '\\':
			e := i
			for e < len(section) && section[e] != '\n' {
				e++
			}
			end := e
			if end > i && section[end-1] == '\r' {
				end--
			}
			out = append(out, span{i, end})
			if skipSpaceAndComments(section[stmt:i]) == i-stmt {
				stmt = e // nothing of a statement before the command
			}
			i = e
			continue
		case ';':
			if isCopyFromStdin(section[stmt : i+1]) {
				_, _, after := copyData(section, i+1)
				data = append(data, span{i + 1, after})
				i, stmt = after, after
				continue
			}
			stmt = i + 1
		}
		i++
	}
	return out, data
}

// skipEscapeString skips an E'…' string from its quote at i: a backslash escapes the next byte.
func skipEscapeString(text string, i int) int {
	for i++; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case '\'':
			if i+1 < len(text) && text[i+1] == '\'' {
				i++
				continue
			}
			return i + 1
		}
	}
	return i
}

func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
