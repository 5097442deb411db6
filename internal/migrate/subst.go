package migrate

import (
	"net/url"
	"os"
	"path"
	"regexp"
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
func flywayPlaceholders(file, src string, st flywaySettings) (string, *substError) {
	if !st.replacement {
		return src, nil
	}
	re := regexp.MustCompile(regexp.QuoteMeta(st.prefix) + `([A-Za-z0-9_.:-]+)` + regexp.QuoteMeta(st.suffix))
	var bad *substError
	out := replaceAllIndex(re, src, func(m []int) string {
		name := src[m[2]:m[3]]
		if v, ok := flywayValue(file, name, st); ok {
			return v
		}
		if bad == nil {
			hint := "set FLYWAY_PLACEHOLDERS_" + envName(name) + " or flyway.placeholders." + name + " (" + flywayConfigHint() + ")"
			switch strings.ToLower(name) {
			case "flyway:user":
				hint = "set FLYWAY_USER or the environment's user"
			case "flyway:database":
				hint = "set FLYWAY_URL or the environment's url"
			default:
				if strings.HasPrefix(strings.ToLower(name), "flyway:") {
					hint = "Flyway has no such built-in placeholder"
				}
			}
			bad = &substError{Off: m[0], Msg: "no value for Flyway placeholder " + src[m[0]:m[1]],
				Hint: hint + ", or turn placeholders off for this script with placeholderReplacement=false in " + path.Base(file) + ".conf"}
		}
		return src[m[0]:m[1]]
	})
	return out, bad
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
// does this, with the same library; comment lines and blank lines, which goose skips before a
// statement, are left as they are.
func gooseEnv(src string, from, to int) (string, *substError) {
	var b strings.Builder
	b.WriteString(src[:from])
	for off := from; off < to; {
		end := strings.IndexByte(src[off:to], '\n')
		if end < 0 {
			end = to
		} else {
			end += off
		}
		line := src[off:end]
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") || !strings.ContainsAny(line, "$\\") {
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

// replaceAllIndex is regexp.ReplaceAllStringFunc with the match's submatch indexes.
func replaceAllIndex(re *regexp.Regexp, s string, f func(m []int) string) string {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		b.WriteString(f(m))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// lineAt is the 1-based line of byte offset off in text.
func lineAt(text string, off int) int { return 1 + strings.Count(text[:min(off, len(text))], "\n") }
