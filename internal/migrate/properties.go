package migrate

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode/utf16"
)

// Flyway reads a flyway.conf, and a script's {script}.conf, as ConfigUtils.loadConfigurationFromString
// does: not as java.util.Properties would read the file, but as it reads the file after three changes.
//  1. Each line (split at \n, after \r\n is turned into \n) is trimmed of white space and control
//     characters (String.trim), and its every backslash doubled, so that Windows paths keep theirs: a
//     backslash escapes nothing (\=, \:, \ and \u0041 are what they say, a backslash and the rest).
//  2. A line that ended with a backslash, other than the last, goes on over the next line (its last
//     backslash is kept single) unless the next line is empty, or is a flyway.* setting (it starts
//     with "flyway." and holds a "=") that is no continued boolean expression (one with == or != not
//     starting with shouldExecute, SqlScriptMetadata.isMultilineBooleanExpression): then that backslash
//     is part of the value.
//  3. Each ${NAME} (NAME of letters, digits and _) is replaced by the environment variable NAME, or by
//     nothing when it is not set.
//
// Properties.load then reads the text: # and ! start comment lines; a key ends at the first =, : or
// white space, and the value starts after white space and one = or :, so "key value", "key: value"
// and "key" (an empty value) are settings too, and no line is malformed; a logical line ending with an
// odd number of backslashes goes on over the next, whose leading white space is dropped.

// property is one key of a properties file, with the line its key is on.
type property struct {
	line       int
	key, value string
}

// flywayEnvRef is what ConfigUtils.expandEnvironmentVariables replaces.
var flywayEnvRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)}`)

// readProperties reads src as Flyway reads a configuration file (see above); lookup is the environment.
// bad is the line of a malformed \uXXXX escape, which Flyway refuses the file for (0 when none): an
// environment variable's value is the only place one can come from, since Flyway doubles backslashes.
//
// A byte-order mark stays in the text, as Flyway's InputStreamReader keeps it and String.trim (which
// drops characters up to U+0020) does not drop it: it starts the first key.
func readProperties(src string, lookup func(string) (string, bool)) (props []property, bad int) {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for len(lines) > 0 && lines[len(lines)-1] == "" { // String.split drops trailing empty strings
		lines = lines[:len(lines)-1]
	}
	var text strings.Builder
	starts := make([]int, len(lines)) // where each line starts in text
	for i, l := range lines {
		t := strings.ReplaceAll(javaTrim(l), `\`, `\\`)
		if strings.HasSuffix(t, `\\`) && i < len(lines)-1 {
			next := lines[i+1]
			restore := false
			switch {
			case next == "":
			case strings.HasPrefix(javaTrim(next), "flyway.") && strings.Contains(next, "="):
				restore = !strings.HasPrefix(next, "shouldExecute") && (strings.Contains(next, "==") || strings.Contains(next, "!="))
			default:
				restore = true
			}
			if restore {
				t = t[:len(t)-2] + `\`
			}
		}
		t = flywayEnvRef.ReplaceAllStringFunc(t, func(ref string) string {
			v, _ := lookup(ref[2 : len(ref)-1])
			return v
		})
		starts[i] = text.Len()
		text.WriteString(t)
		text.WriteByte('\n')
	}
	lineOf := func(off int) int { return sort.Search(len(starts), func(i int) bool { return starts[i] > off }) }
	for _, l := range logicalLines(text.String()) {
		key, value, ok := splitProperty(l.text)
		if !ok {
			if bad == 0 {
				bad = lineOf(l.off)
			}
			continue
		}
		props = append(props, property{line: lineOf(l.off), key: key, value: value})
	}
	return props, bad
}

// javaTrim is String.trim: it drops the characters up to U+0020 at both ends.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

// logicalLine is a logical line of a properties text (Properties.LineReader) and the offset it starts at.
type logicalLine struct {
	off  int
	text string
}

// logicalLines cuts a properties text into its logical lines, as Properties.LineReader does: blank and
// comment lines are dropped, leading white space too, and a line that ends with an odd number of
// backslashes goes on over the next (that backslash and the next line's leading white space dropped).
func logicalLines(s string) []logicalLine {
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }
	var out []logicalLine
	for i := 0; i < len(s); {
		if c := s[i]; space(c) || c == '\r' || c == '\n' {
			i++
			continue
		}
		if s[i] == '#' || s[i] == '!' {
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
			continue
		}
		start := i
		var buf []byte
		backslash := false
		for i < len(s) {
			c := s[i]
			if c != '\n' && c != '\r' {
				backslash = c == '\\' && !backslash
				buf = append(buf, c)
				i++
				continue
			}
			if !backslash {
				break
			}
			buf, backslash = buf[:len(buf)-1], false
			i++
			if c == '\r' && i < len(s) && s[i] == '\n' {
				i++
			}
			for i < len(s) && space(s[i]) {
				i++
			}
		}
		if backslash { // at the end of the text
			buf = buf[:len(buf)-1]
		}
		out = append(out, logicalLine{off: start, text: string(buf)})
	}
	return out
}

// splitProperty splits a logical line into its key and value as Properties.load0 does, and undoes their
// escapes (loadConvert); ok is false for a malformed \uXXXX escape.
func splitProperty(l string) (key, value string, ok bool) {
	keyLen, valueStart, sep, backslash := 0, len(l), false, false
	for ; keyLen < len(l); keyLen++ {
		c := l[keyLen]
		if !backslash && (c == '=' || c == ':') {
			valueStart, sep = keyLen+1, true
			break
		}
		if !backslash && (c == ' ' || c == '\t' || c == '\f') {
			valueStart = keyLen + 1
			break
		}
		backslash = c == '\\' && !backslash
	}
	for ; valueStart < len(l); valueStart++ {
		c := l[valueStart]
		if c == ' ' || c == '\t' || c == '\f' {
			continue
		}
		if !sep && (c == '=' || c == ':') {
			sep = true
			continue
		}
		break
	}
	key, ok = unescapeProperty(l[:keyLen])
	if !ok {
		return "", "", false
	}
	value, ok = unescapeProperty(l[valueStart:])
	return key, value, ok
}

// unescapeProperty undoes the escapes of Properties.loadConvert: \t, \n, \r, \f, \uXXXX, and a
// backslash before any other character stands for that character.
func unescapeProperty(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, true
	}
	var b strings.Builder
	var units []uint16 // \uXXXX code units not yet written (a surrogate pair takes two)
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			flush()
			b.WriteByte(c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 'u':
			if i+5 > len(s) {
				return "", false
			}
			var u uint16
			for _, h := range []byte(s[i+1 : i+5]) {
				switch {
				case h >= '0' && h <= '9':
					u = u<<4 | uint16(h-'0')
				case h >= 'a' && h <= 'f':
					u = u<<4 | uint16(h-'a'+10)
				case h >= 'A' && h <= 'F':
					u = u<<4 | uint16(h-'A'+10)
				default:
					return "", false
				}
			}
			units = append(units, u)
			i += 4
			continue
		case 't':
			c = '\t'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 'f':
			c = '\f'
		}
		flush()
		b.WriteByte(c)
	}
	flush()
	return b.String(), true
}

// properties calls each for every key of a configuration file as Flyway reads it (readProperties), with
// the line the key is on, and reports a file Flyway cannot read.
func (r *reader) properties(file, src string, each func(line int, key, value string)) {
	props, bad := readProperties(src, os.LookupEnv)
	if bad > 0 {
		r.errorf(file, bad, "fix the environment variable's value", "Flyway cannot read the file: malformed \\uxxxx encoding")
		return
	}
	for _, p := range props {
		each(p.line, p.key, p.value)
	}
}
