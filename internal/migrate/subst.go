package migrate

import (
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mfridman/interpolate"
)

// Variable substitution, as the owning tools do it before they run a script:
//
//   - Flyway replaces placeholders ${name} everywhere in a script: user placeholders (from
//     flyway.toml / flyway.conf and FLYWAY_PLACEHOLDERS_<NAME>, as the Flyway CLI reads them; see
//     flywayconf.go), and built-ins ${flyway:defaultSchema},
//     ${flyway:user}, ${flyway:database}, ${flyway:table}, ${flyway:filename}, ${flyway:timestamp},
//     ${flyway:workingDirectory} and ${flyway:environment}. A placeholder without a value is an error, as in
//     Flyway. FLYWAY_PLACEHOLDER_REPLACEMENT=false or a script's placeholderReplacement=false turn it off;
//     FLYWAY_PLACEHOLDER_PREFIX and _SUFFIX change the ${ }.
//   - goose, after "-- +goose ENVSUB ON" (until OFF), replaces ${VAR}, ${VAR:-default}, ${VAR-default},
//     ${VAR:?message}, ${VAR?message}, ${VAR:+alt} and ${VAR+alt} from the environment; an unset
//     variable without a default is empty.
//
// The substituted text is what is rehearsed and deployed; the checksum stays that of the text as written
// (Script.Source), so it does not change with the environment.

// substError is a reference that has no value, at byte offset Off of the text.
type substError struct {
	Off       int
	Msg, Hint string
}

// flywayPlaceholders replaces Flyway placeholders in the script text src of file. It returns the new text,
// or an error for the first placeholder without a value.
//
// It reads the text as Flyway's PlaceholderReplacingReader does (flyway/flyway,
// flyway-core/src/main/java/org/flywaydb/core/internal/parser/PlaceholderReplacingReader.java): every
// prefix (${) starts a placeholder whose name is whatever follows up to the next suffix (}), spaces,
// quotes and line breaks included, and Flyway fails the migration when no placeholder has that name
// (${}, ${a b} and a ${ never closed too). A character read ahead to look for the prefix and found not
// to complete it is given back as it is: after a $ that no { follows, the next character starts no
// placeholder, so $${name} is left as written.
func flywayPlaceholders(file, src string, st flywaySettings) (string, *substError) {
	if !st.replacement || st.prefix == "" {
		return src, nil
	}
	prefix, suffix := []rune(st.prefix), []rune(st.suffix)
	in := []rune(src)
	byteOff := func(i int) int { return len(string(in[:i])) }
	var (
		b   strings.Builder
		buf []rune // read ahead, not yet given back
		i   int
	)
	for {
		if len(buf) > 0 {
			b.WriteRune(buf[0])
			buf = buf[1:]
			continue
		}
		for i < len(in) {
			buf = append(buf, in[i])
			i++
			if len(buf) >= len(prefix) || !slices.Equal(buf, prefix[:len(buf)]) {
				break
			}
		}
		if !runesHaveSuffix(buf, prefix) {
			if len(buf) == 0 {
				return b.String(), nil
			}
			continue
		}
		buf = buf[:0]
		start := i - len(prefix)
		var name []rune
		for i < len(in) {
			name = append(name, in[i])
			i++
			if runesHaveSuffix(name, suffix) {
				break
			}
		}
		written := string(in[start:i])
		if !runesHaveSuffix(name, suffix) {
			return src, &substError{Off: byteOff(start), Msg: "Flyway placeholder " + st.prefix + " is never closed with " + st.suffix + ": Flyway fails the migration",
				Hint: "close it with " + st.suffix + ", or turn placeholders off for this script with placeholderReplacement=false in " + path.Base(file) + ".conf"}
		}
		key := string(name[:len(name)-len(suffix)])
		if v, ok := flywayValue(file, key, st); ok {
			b.WriteString(v)
			continue
		}
		hint := "set FLYWAY_PLACEHOLDERS_" + envName(key) + " or flyway.placeholders." + key + " (" + flywayConfigHint() + ")"
		switch lower := strings.ToLower(key); {
		case lower == "flyway:user":
			hint = "set FLYWAY_USER or the environment's user"
		case lower == "flyway:database":
			hint = "set FLYWAY_URL or the environment's url"
		case strings.Contains(lower, "flyway:"):
			hint = "Flyway has no such built-in placeholder"
		case !flywayPlaceholderName.MatchString(key):
			hint = "Flyway reads everything from " + st.prefix + " to the next " + st.suffix + " as a placeholder's name, wherever it stands (in strings and comments too)"
		}
		return src, &substError{Off: byteOff(start), Msg: "no value for Flyway placeholder " + written,
			Hint: hint + ", or turn placeholders off for this script with placeholderReplacement=false in " + path.Base(file) + ".conf"}
	}
}

// flywayPlaceholderName is a name one can give a placeholder in flyway.conf, flyway.toml or FLYWAY_PLACEHOLDERS_*.
var flywayPlaceholderName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// runesHaveSuffix is strings.HasSuffix on runes, as Flyway's endsWith compares characters.
func runesHaveSuffix(s, suffix []rune) bool {
	return len(s) >= len(suffix) && slices.Equal(s[len(s)-len(suffix):], suffix)
}

// flywayValue is the value of placeholder name (case-insensitive, as in Flyway).
func flywayValue(file, name string, st flywaySettings) (string, bool) {
	lower := strings.ToLower(name)
	switch lower {
	case "flyway:defaultschema":
		if st.defaultSchema != "" {
			return st.defaultSchema, true
		}
		if st.schemas != "" {
			return strings.TrimSpace(strings.Split(st.schemas, ",")[0]), true
		}
		return "public", true
	case "flyway:user":
		return st.user, st.user != ""
	case "flyway:database":
		if u, err := url.Parse(strings.TrimPrefix(st.url, "jdbc:")); err == nil && strings.Trim(u.Path, "/") != "" {
			return strings.Trim(u.Path, "/"), true
		}
		return "", false
	case "flyway:table":
		if st.table != "" {
			return st.table, true
		}
		return "flyway_schema_history", true
	case "flyway:filename":
		return path.Base(file), true
	case "flyway:timestamp":
		return time.Now().Format("2006-01-02 15:04:05"), true
	case "flyway:workingdirectory":
		wd, err := os.Getwd()
		return wd, err == nil
	case "flyway:environment":
		return st.environment, true
	}
	if strings.HasPrefix(lower, "flyway:") {
		return "", false
	}
	v, ok := st.placeholders[strings.ReplaceAll(strings.ReplaceAll(lower, ".", "_"), "-", "_")]
	if !ok {
		v, ok = st.placeholders[lower]
	}
	return v, ok
}

// envName is the environment variable suffix the Flyway CLI reads a placeholder from.
func envName(name string) string {
	return strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
}

// gooseEnv replaces goose ENVSUB references in src[from:to]; the rest of src is kept. goose expands
// each line of the region with github.com/mfridman/interpolate v0.2.0 (the version goose v3.30.1
// depends on, internal/sqlparser/parser.go: interpolate.Expand(line, interpolate.LookupFunc(os.LookupEnv))):
// $NAME and ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:offset[:length]}, ${NAME?message}; $$ and \$
// stand for a dollar sign, and a $ before anything but a letter, _ or { is kept as it is ($5, $1). So
// does this, with the same library. ParseSQLMigration expands a line as it writes it to its statement
// buffer, so the lines it never writes there stay as they are: its annotations, and a comment line read
// while the buffer is empty (before a statement, or at the start of a StatementBegin block). Once a
// statement has begun, a comment line is statement text: goose expands it, and a bad reference in it
// fails the file. unread holds the numbers of the lines goose does not write (sections.unread).
func gooseEnv(src string, from, to int, unread map[int]bool) (string, *substError) {
	var b strings.Builder
	b.WriteString(src[:from])
	lineNo := lineAt(src, from)
	for off := from; off < to; lineNo++ {
		end := strings.IndexByte(src[off:to], '\n')
		if end < 0 {
			end = to
		} else {
			end += off
		}
		line := src[off:end]
		if unread[lineNo] || !strings.ContainsAny(line, "$\\") {
			b.WriteString(line)
		} else {
			out, err := interpolate.Expand(strings.TrimSuffix(line, "\r"), interpolate.LookupFunc(os.LookupEnv))
			if err != nil {
				return src, &substError{Off: off, Msg: "goose ENVSUB: " + err.Error(),
					Hint: "write a literal $ as $$ between ENVSUB ON and OFF (dollar quotes too: $$ becomes $), and name variables with a letter first"}
			}
			b.WriteString(out)
			if strings.HasSuffix(line, "\r") {
				b.WriteByte('\r')
			}
		}
		if end < to {
			b.WriteByte('\n')
		}
		off = end + 1
	}
	b.WriteString(src[to:])
	return b.String(), nil
}

// lineAt is the 1-based line of byte offset off in text.
func lineAt(text string, off int) int { return 1 + strings.Count(text[:min(off, len(text))], "\n") }
