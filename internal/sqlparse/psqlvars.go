package sqlparse

import (
	"fmt"
	"strings"
)

// psql variables.
//
// psql substitutes its variables into the SQL before it sends it: :name becomes the value as it is,
// :'name' a quoted literal and :"name" a quoted identifier, except inside quotes, comments, dollar
// quotes and COPY data. :: is a cast, and a reference to a variable that is not set stays as it is
// (arr[1:n] is a slice, not a variable). \set name value... sets one from there on (its arguments
// concatenated, themselves interpolated), \unset name removes it. sqitch sets variables from its
// configuration and --set; a script's own \set lines count from where they stand.

// PsqlVarError is a problem with a psql variable, at byte offset Off of the text.
type PsqlVarError struct {
	Off       int
	Msg, Hint string
}

func (e *PsqlVarError) Error() string { return e.Msg }

// InterpolatePsql returns src with the psql variable references in src[start:end] replaced, as psql
// would send it, starting from the variables in vars (not modified). Meta-command lines are left in
// place (ParsePsql takes them out). When nothing is replaced it returns src itself.
func InterpolatePsql(src string, start, end int, vars map[string]string) (string, error) {
	end = min(max(end, 0), len(src))
	start = min(max(start, 0), end)
	section := src[start:end]
	if strings.IndexByte(section, ':') < 0 && strings.IndexByte(section, '\\') < 0 {
		return src, nil
	}
	meta, data := psqlRegions(section)
	set := make(map[string]string, len(vars))
	for k, v := range vars {
		set[k] = v
	}
	var b strings.Builder
	changed := false
	last := 0 // section[last:i] is still to be copied
	flush := func(i int) {
		b.WriteString(section[last:i])
		last = i
	}
	for i := 0; i < len(section); {
		// The walk steps as psqlRegions does, so it lands on every region's start; drop one it passed.
		for len(data) > 0 && data[0].start < i {
			data = data[1:]
		}
		for len(meta) > 0 && meta[0].start < i {
			meta = meta[1:]
		}
		if len(data) > 0 && i == data[0].start {
			i, data = data[0].end, data[1:]
			continue
		}
		if len(meta) > 0 && i == meta[0].start {
			line := section[i+1 : meta[0].end]
			if err := psqlSetCommand(line, set); err != nil {
				err.Off += start + i + 1
				return "", err
			}
			i, meta = meta[0].end, meta[1:]
			continue
		}
		if section[i] == ':' {
			if i+1 < len(section) && section[i+1] == ':' {
				i += 2
				continue
			}
			value, n, ok := psqlReference(section[i:], set)
			if ok {
				flush(i)
				b.WriteString(value)
				i += n
				last, changed = i, true
				continue
			}
		}
		if next, ok := skipToken(section, i); ok {
			i = next
			continue
		}
		i++
	}
	if !changed {
		return src, nil
	}
	flush(len(section))
	return src[:start] + b.String() + src[end:], nil
}

// psqlReference reads the variable reference at the start of text (":name", ":'name'", ":\"name\""):
// its substitution and length, or ok=false when it is none or names a variable that is not set.
func psqlReference(text string, vars map[string]string) (value string, n int, ok bool) {
	if len(text) < 2 {
		return "", 0, false
	}
	quote := text[1]
	if quote == '\'' || quote == '"' {
		e := 2
		for e < len(text) && psqlVarByte(text[e]) {
			e++
		}
		if e == 2 || e >= len(text) || text[e] != quote {
			return "", 0, false
		}
		v, set := vars[text[2:e]]
		if !set {
			return "", 0, false
		}
		if quote == '"' {
			return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`, e + 1, true
		}
		return psqlLiteral(v), e + 1, true
	}
	e := 1
	for e < len(text) && psqlVarByte(text[e]) {
		e++
	}
	if e == 1 {
		return "", 0, false
	}
	v, set := vars[text[1:e]]
	return v, e, set
}

// psqlLiteral quotes v as PQescapeLiteral does: a string with a backslash becomes an E” string.
func psqlLiteral(v string) string {
	q := "'" + strings.ReplaceAll(v, "'", "''") + "'"
	if strings.Contains(v, `\`) {
		q = " E'" + strings.ReplaceAll(strings.ReplaceAll(v, "'", "''"), `\`, `\\`) + "'"
	}
	return q
}

// psqlVarByte tells whether c may be part of a psql variable name: ASCII letters, digits, underscores
// and the bytes of non-ASCII letters.
func psqlVarByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// psqlSetCommand applies a \set or \unset line (without its backslash) to vars; other commands are
// left alone. The error's offset is relative to line.
func psqlSetCommand(line string, vars map[string]string) *PsqlVarError {
	line = strings.TrimRight(line, " \t\r")
	name, rest := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		name, rest = line[:i], line[i+1:]
	}
	if name != "set" && name != "unset" {
		return nil
	}
	args, err := psqlArgs(rest, len(name)+1, vars)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return nil // \set alone lists the variables
	}
	if !psqlValidName(args[0]) {
		return &PsqlVarError{Off: len(name) + 1, Msg: fmt.Sprintf("invalid psql variable name %q", args[0]),
			Hint: "psql variable names are letters, digits and underscores"}
	}
	if name == "unset" {
		delete(vars, args[0])
		return nil
	}
	vars[args[0]] = strings.Join(args[1:], "")
	return nil
}

func psqlValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !psqlVarByte(s[i]) {
			return false
		}
	}
	return true
}

// psqlArgs splits meta-command arguments as psql does: separated by white space; 'single quotes' with
// ” and backslash escapes; "double quotes" kept as they are, quotes included; :name, :'name' and
// :"name" interpolated outside single quotes. A backquoted shell command is an error: it runs on the
// machine that runs psql. off is where rest starts in the line, for error offsets.
func psqlArgs(rest string, off int, vars map[string]string) ([]string, *PsqlVarError) {
	var args []string
	for i := 0; i < len(rest); {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
		if i >= len(rest) {
			break
		}
		var arg strings.Builder
		for i < len(rest) && rest[i] != ' ' && rest[i] != '\t' {
			switch c := rest[i]; c {
			case '`':
				return nil, &PsqlVarError{Off: off + i, Msg: "psql runs a shell command in backquotes to set this variable",
					Hint: "schemagate does not run shell commands: set the value itself"}
			case '\'':
				j := i + 1
				for ; j < len(rest); j++ {
					if rest[j] == '\'' {
						if j+1 < len(rest) && rest[j+1] == '\'' {
							arg.WriteByte('\'')
							j++
							continue
						}
						break
					}
					if rest[j] == '\\' && j+1 < len(rest) {
						j++
						arg.WriteString(psqlEscape(rest[j]))
						continue
					}
					arg.WriteByte(rest[j])
				}
				if j >= len(rest) {
					return nil, &PsqlVarError{Off: off + i, Msg: "unterminated quoted string in a psql meta-command", Hint: "close the quote"}
				}
				i = j + 1
			case '"':
				j := strings.IndexByte(rest[i+1:], '"')
				if j < 0 {
					return nil, &PsqlVarError{Off: off + i, Msg: "unterminated quoted string in a psql meta-command", Hint: "close the quote"}
				}
				arg.WriteString(rest[i : i+j+2])
				i += j + 2
			case ':':
				if v, n, ok := psqlReference(rest[i:], vars); ok {
					arg.WriteString(v)
					i += n
					continue
				}
				arg.WriteByte(c)
				i++
			default:
				arg.WriteByte(c)
				i++
			}
		}
		args = append(args, arg.String())
	}
	return args, nil
}

// psqlEscape is what a backslash escape in a single-quoted psql argument stands for.
func psqlEscape(c byte) string {
	switch c {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case 'b':
		return "\b"
	case 'r':
		return "\r"
	case 'f':
		return "\f"
	}
	return string(c)
}
