package config

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// syntaxProblem is the problem of a file the YAML reader cannot read at all: err is what yaml.Unmarshal
// said of data, placed at the line and column where the reader gives up (see syntaxPlace).
func syntaxProblem(file string, data []byte, err error) Problem {
	msg := err.Error()
	p := Problem{File: file, Line: syntaxLine(msg), Msg: cleanYAMLError(msg)}
	if line, col := syntaxPlace(data, msg, p.Line); col > 0 {
		p.Line, p.Column = line, col
	}
	return p
}

// syntaxPlace is the line and column (1-based, in characters) of the YAML syntax error msg that
// yaml.Unmarshal gave for data, or 0, 0. The reader knows the column but says the line alone (yaml.v3
// parser.fail), and that line is at times the one where the construct it could not finish starts
// ("while parsing a block collection"), not the one it stopped at. So the place is found by reading ever
// longer starts of data, from the line the message names (from; the first when it names none): it is
// the last character of the shortest start that the reader refuses with the very same message, line
// included. That is the character the reader stops at (a tab, a second ':', an '@', a key indented
// wrong), or, for what is left open, the first one it cannot do without: a quote not closed, the '[' or
// '{' of a list or mapping not closed, the '*' of an alias to an unknown anchor.
//
// Each try reads the start of the file again: at each character of the line the message names, then at
// each later line's end, to find the line, and at each character of that line. A schemagate.yml is
// small, and this runs only when it cannot be read; the tries read syntaxBudget bytes at most, so that
// a large file (the pull request's) cannot hold the run: past that the line alone is said.
func syntaxPlace(data []byte, msg string, from int) (line, col int) {
	if !utf8.Valid(data) { // UTF-16, which the reader takes: bytes are not characters there
		return 0, 0
	}
	budget := syntaxBudget
	same := func(end int) bool {
		budget -= end
		if budget < 0 {
			return false
		}
		var n yaml.Node
		err := yaml.Unmarshal(data[:end], &n)
		return err != nil && err.Error() == msg
	}
	var starts []int // the offset of each line's start
	for i := 0; i <= len(data); {
		starts = append(starts, i)
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	lineEnd := func(l int) int { // the offset after line l's '\n'
		if l < len(starts) {
			return starts[l]
		}
		return len(data)
	}
	end := 0 // the shortest start's end
	for l := max(from, 1); l <= len(starts) && end == 0; l++ {
		// The line the message names may hold the place even when the whole of it does not bring the
		// message ("[dangerous," brings another): its characters are tried in any case.
		if l > from && !same(lineEnd(l)) {
			continue
		}
		for e := starts[l-1] + 1; e <= lineEnd(l); e++ {
			if (e == len(data) || utf8.RuneStart(data[e])) && same(e) {
				end = e
				break
			}
		}
	}
	switch {
	case budget < 0:
		return 0, 0
	case end == 0 && from == len(starts) && starts[from-1] == len(data):
		return from, 1 // the end of the file, on the line after its last line break
	case end == 0:
		return 0, 0
	}
	_, size := utf8.DecodeLastRune(data[:end])
	at := end - size // the character's offset
	if open, ok := flowOpen(msg); ok {
		b := at - 1
		for b >= 0 && strings.IndexByte(" \t\r\n", data[b]) >= 0 {
			b--
		}
		if b >= 0 && data[b] == open {
			at = b
		}
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil && bytes.HasSuffix(data[:end], []byte("*"+m[1])) {
		at = end - len(m[1]) - 1
	}
	line = 1 + bytes.Count(data[:at], []byte{'\n'})
	lineStart := bytes.LastIndexByte(data[:at], '\n') + 1
	col = 1 + utf8.RuneCount(data[lineStart:at])
	if lineStart == 0 && bytes.HasPrefix(data, []byte("\ufeff")) { // a byte-order mark takes no column
		col--
	}
	return line, col
}

// syntaxBudget is how many bytes syntaxPlace's tries read at most, together.
var syntaxBudget = 16 << 20

// flowOpen is the bracket that opens the list or mapping a YAML message says is not closed.
func flowOpen(msg string) (byte, bool) {
	switch {
	case strings.HasSuffix(msg, "did not find expected ',' or ']'"):
		return '[', true
	case strings.HasSuffix(msg, "did not find expected ',' or '}'"):
		return '{', true
	}
	return 0, false
}

// unknownAnchor matches the YAML reader's message for an alias (*name) to no anchor (&name).
var unknownAnchor = regexp.MustCompile(`unknown anchor '(.*)' referenced$`)

// parserProblems are the messages of the YAML reader's parser (gopkg.in/yaml.v3 parserc.go), as
// against its scanner's ("found character that cannot start any token", "mapping values are not allowed
// in this context").
var parserProblems = []string{
	"did not find expected <stream-start>", "did not find expected <document start>", "found undefined tag handle",
	"did not find expected node content", "did not find expected '-' indicator", "did not find expected key",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "found duplicate %YAML directive",
	"found incompatible YAML document", "found duplicate %TAG directive",
}

// syntaxLine is the line of a YAML syntax error message. The reader numbers the lines of its scanner's
// errors from 1 but those of its parser's from 0 (yaml.v3 parser.fail adds 1 for scanner errors only),
// so that "line 2: did not find expected ',' or ']'" is about line 3, where the list that is not closed
// starts; a parser error on the first line says no line at all (syntaxPlace finds it).
func syntaxLine(msg string) int {
	line := yamlLine(msg)
	for _, p := range parserProblems {
		if line > 0 && strings.HasSuffix(msg, p) {
			return line + 1
		}
	}
	return line
}
