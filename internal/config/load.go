package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/repofs"
)

// DefaultFile is the configuration file looked for in the working folder.
const DefaultFile = "schemagate.yml"

// Problem is one thing wrong with a configuration, positioned in its file when possible:
// schemagate.yml:12:5, as editors and CI annotations take it.
type Problem struct {
	File   string
	Line   int
	Column int    // 1-based, in characters; 0 when only the line is known (a YAML syntax error)
	Path   string // dotted path of the setting, e.g. environments.prod.window.cron
	Msg    string
	// atKey places a problem found by Path at the setting's key rather than its value (an unknown rule id).
	atKey bool
}

func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
			if p.Column > 0 {
				fmt.Fprintf(&b, ":%d", p.Column)
			}
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem of a configuration; it is an error when not empty.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	if len(ps) == 1 {
		return "invalid configuration: " + msgs[0]
	}
	return fmt.Sprintf("invalid configuration (%d problems):\n  %s", len(ps), strings.Join(msgs, "\n  "))
}

// Default returns the built-in defaults.
func Default() *Config {
	return &Config{Format: string(migrate.FormatAuto), Database: Database{Provider: "auto"}, Lint: Lint{FailOn: "never"}}
}

// Load reads a configuration file over the defaults. A missing file is an error only when required
// (the user named it). Every problem is reported at once: unknown keys, wrong types, bad values.
func Load(path string, required bool) (*Config, error) {
	cfg := Default()
	if err := LoadOver(path, required, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadOver reads a configuration file over cfg, as Load does over the defaults.
func LoadOver(path string, required bool, cfg *Config) error {
	data, err := repofs.ReadFile(path) // the pull request's file: never a link out of the repository
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if !required {
				return nil
			}
			return fmt.Errorf("read configuration: %w", missingFile(path))
		}
		// "d: is a directory", not "read d: is a directory" nor "openat d: ...": the system call is no news.
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", path, pe.Err)
		}
		return fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data, cfg)
}

// missingFile is the error of a configuration file that is not there: "schemagate.yml: no such file"
// (rather than the system call's "openat schemagate.yml: no such file or directory"). It is an
// fs.ErrNotExist.
type missingFile string

func (m missingFile) Error() string { return string(m) + ": no such file" }
func (m missingFile) Unwrap() error { return fs.ErrNotExist }

// zeroDuration matches a duration setting written as a bare 0 ("statement_timeout: 0", as for no limit),
// which the YAML decoder reads as an integer; Parse reads it as 0s. The keys are those of every
// time.Duration field of the configuration.
var zeroDuration = regexp.MustCompile(`(?m)((?:^|[{,])\s*(?:` + strings.Join(durationKeys(reflect.TypeOf(Config{}), map[reflect.Type]bool{}), "|") + `)\s*:\s*)0(\s*(?:$|[,}#]))`)

// durationKeys lists the YAML keys of the time.Duration fields reachable from t.
func durationKeys(t reflect.Type, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft == reflect.TypeOf(time.Duration(0)) && name != "" && name != "-" {
			out = append(out, regexp.QuoteMeta(name))
			continue
		}
		out = append(out, durationKeys(f.Type, seen)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Parse decodes YAML data into cfg and validates the result.
func Parse(file string, data []byte, cfg *Config) error {
	// The YAML reader says "invalid trailing UTF-8 octet" and no line (it reads UTF-16 with its
	// byte-order mark, which is left to it).
	if !utf8.Valid(data) && !bytes.HasPrefix(data, []byte{0xff, 0xfe}) && !bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		bad := migrate.FirstInvalidUTF8(data)
		lineStart := bytes.LastIndexByte(data[:bad], '\n') + 1
		return Problems{{File: file, Line: 1 + bytes.Count(data[:bad], []byte{'\n'}), Column: 1 + utf8.RuneCount(data[lineStart:bad]),
			Msg: fmt.Sprintf("not valid UTF-8 (byte 0x%02x at offset %d): save the file as UTF-8", data[bad], bad)}}
	}
	written := data // as the file has it: the places of syntax errors are found in it
	data = zeroDuration.ReplaceAll(data, []byte("${1}0s${2}"))
	var probs Problems
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Problems{syntaxProblem(file, written, err)}
	}
	// A key set twice makes the decoder drop its whole mapping, and with it every other problem there:
	// each duplicate is a problem of its own, and its entry is blanked out so the rest decodes.
	if dups := duplicateKeys(&root, ""); len(dups) > 0 {
		for _, d := range dups {
			probs = append(probs, Problem{File: file, Line: d.line, Column: d.col, Path: d.path,
				Msg: fmt.Sprintf("set twice (line %d and line %d): keep one", d.first, d.line)})
		}
		probs = append(probs, repeatedProblems(file, data, dups)...)
		data = blankLines(data, dups)
		if err := yaml.Unmarshal(data, &root); err != nil {
			return append(probs, syntaxProblem(file, blankLines(written, dups), err))
		}
	}
	lines, places := map[string]int{}, map[string]place{}
	indexLines(&root, "", lines, places)
	cfg.file, cfg.lines, cfg.places = file, lines, places
	// A major version written with its minor (pg_version: 14.2) would be cut to 14 without a word.
	if v := nodeAt(&root, "database", "pg_version"); v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!float" {
		msg := fmt.Sprintf("database.pg_version: %s is not a PostgreSQL major version such as 15", v.Value)
		if major, minor, ok := strings.Cut(v.Value, "."); ok && digits(major) && digits(minor) {
			msg = fmt.Sprintf("database.pg_version: %s is not a major version (write %s)", v.Value, major)
		}
		probs = append(probs, Problem{File: file, Line: v.Line, Column: v.Column, Msg: msg})
	}
	// The decoder cuts a number with a fraction to a whole one (approvals: 1.5 is 1, keep: 0.5 is 0, no
	// limit) and reads 015 as octal 13: a whole number written otherwise is refused where it is.
	probs = append(probs, inexactInts(file, &root, reflect.TypeOf(Config{}))...)
	// A yes/no value where text is expected would be read as the word, and an empty list item dropped.
	boolText, nullItems := misreadScalars(file, &root, reflect.TypeOf(Config{}))
	// approvals: 0 decodes as the unset default (1): written in the file, it is refused as -1 is.
	if v := nodeAt(&root, "approval", "approvals"); v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
		if n, err := strconv.Atoi(v.Value); err == nil && n == 0 {
			probs = append(probs, Problem{File: file, Line: v.Line, Column: v.Column, Path: "approval.approvals", Msg: "must be at least 1, not 0"})
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				// A value refused above already (pg_version: 99999999999999999999, a float to YAML) is not
				// reported twice.
				p := decodeProblem(file, &root, e)
				if !slices.ContainsFunc(probs, func(q Problem) bool {
					return q.File == p.File && q.Line == p.Line && q.Column == p.Column && q.Line > 0
				}) {
					probs = append(probs, p)
				}
			}
		} else {
			probs = append(probs, decodeProblem(file, &root, err.Error()))
		}
	}
	// A second document (after ---) would be ignored: say so rather than lose its settings.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		probs = append(probs, Problem{File: file, Line: next.Line, Column: next.Column, Msg: "a second YAML document (after ---): schemagate.yml holds one; merge its settings into the first"})
	}
	// Rule ids too are read in any case, as lint.Lookup reads them; the rules are then looked up by the
	// lower-case id, so an entry Prefer-Text would otherwise pass the check and do nothing.
	if len(cfg.Lint.Rules) > 0 {
		rules := make(map[string]string, len(cfg.Lint.Rules))
		ids := slices.Sorted(maps.Keys(cfg.Lint.Rules))
		slices.SortStableFunc(ids, func(a, b string) int { return lines["lint.rules."+a] - lines["lint.rules."+b] }) // the later one is the repeat
		for _, id := range ids {
			lo := strings.ToLower(id)
			if _, dup := rules[lo]; dup {
				probs = append(probs, Problem{File: file, Line: lines["lint.rules."+id], Column: places["lint.rules."+id].keyCol, Path: "lint.rules." + id,
					Msg: fmt.Sprintf("rule %s is set twice, in two letter cases: keep one", lo)})
			}
			rules[lo] = strings.ToLower(strings.TrimSpace(cfg.Lint.Rules[id])) // Dangerous, OFF: as --rule takes them
			// Where finds the entry by the id it is looked up by.
			if _, ok := places["lint.rules."+lo]; !ok {
				places["lint.rules."+lo] = places["lint.rules."+id]
			}
		}
		cfg.Lint.Rules = rules
	}
	// Words the configuration chooses from are read in any letter case (LOCAL, Golang-Migrate, WAIT).
	lower := func(s *string) { *s = strings.ToLower(strings.TrimSpace(*s)) }
	lower(&cfg.Format)
	lower(&cfg.Database.Provider)
	lower(&cfg.Lint.FailOn)
	lower(&cfg.Approval.Require)
	for _, env := range cfg.Environments {
		if env == nil {
			continue
		}
		lower(&env.OutsideWindow)
		lower(&env.Snapshot.Kind)
		for _, a := range []*Action{&env.Maintenance.On, &env.Maintenance.Off} {
			if a.Webhook != nil {
				a.Webhook.Method = strings.ToUpper(strings.TrimSpace(a.Webhook.Method))
			}
		}
	}
	decoded := map[int]bool{} // lines whose value did not decode: what Validate says of them repeats it
	for _, p := range probs {
		decoded[p.Line] = true
	}
	for _, p := range cfg.Validate() {
		if p.File == "" {
			p.File = file
		}
		if p.Line == 0 {
			p.Line, p.Column = placeOf(places, p.Path, p.atKey)
		}
		if p.Line != 0 && decoded[p.Line] {
			continue
		}
		probs = append(probs, p)
	}
	probs = append(probs, nullItems...)
	for _, p := range boolText { // unless Validate says more of the value (want dangerous, caution...)
		if !slices.ContainsFunc(probs, func(q Problem) bool { return dotted(q.Path) == dotted(p.Path) }) {
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		slices.SortStableFunc(probs, func(a, b Problem) int { return a.Line - b.Line })
		return probs
	}
	return nil
}

// walkTyped calls visit for n and each value below it that the decoder reads into a field of type t
// (walkValues walks the nodes alone), with the field's type, its path (approval.approvals,
// dba_users[1]) and whether it is a list item; merge keys (<<: *defaults) and aliases are followed as the
// decoder follows them. item says n itself is one.
func walkTyped(n *yaml.Node, t reflect.Type, path string, item bool, visit func(n *yaml.Node, t reflect.Type, path string, item bool)) {
	for n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	visit(n, t, path, item)
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" { // <<: *defaults
				walkTyped(v, t, path, false, visit)
				continue
			}
			for j := range t.NumField() {
				if name, _, _ := strings.Cut(t.Field(j).Tag.Get("yaml"), ","); name == k.Value {
					walkTyped(v, t.Field(j).Type, join(k.Value), false, visit)
				}
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkTyped(n.Content[i+1], t.Elem(), join(n.Content[i].Value), false, visit)
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			walkTyped(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), true, visit)
		}
	}
}

// inexactInts finds the values below n, read into the fields of type t, that the decoder would change
// when reading them into a whole number field: a number with a fraction, or one with a leading 0 (octal
// to the decoder, decimal to YAML 1.2 and editors). database.pg_version says a fraction its own way (see
// Parse).
func inexactInts(file string, root *yaml.Node, t reflect.Type) Problems {
	var ps Problems
	walkTyped(root, t, "", false, func(n *yaml.Node, t reflect.Type, path string, _ bool) {
		if n.Kind != yaml.ScalarNode || t == reflect.TypeOf(time.Duration(0)) || t.Kind() < reflect.Int || t.Kind() > reflect.Uint64 {
			return
		}
		switch {
		case n.Tag == "!!float" && path != "database.pg_version":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f != math.Trunc(f) {
				ps = append(ps, Problem{File: file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf("%s is not a whole number", n.Value)})
			}
		case n.Tag == "!!int" && leadingZero.MatchString(n.Value):
			ps = append(ps, Problem{File: file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf("%s has a leading 0, which reads as an octal number: write it without", n.Value)})
		}
	})
	return ps
}

// misreadScalars finds the values below n, read into the fields of type t, that the decoder would read
// otherwise than they are written: a yes/no value (true, False: YAML's booleans) where text is expected,
// which it reads as the word, and an empty list item (null, or nothing after the dash), which it drops.
// A number where text is expected is the text it is written as (dir: 2024, rows: [[42]]); yes, no, on and
// off are text to YAML 1.2 and to editors, and so to the decoder there.
func misreadScalars(file string, root *yaml.Node, t reflect.Type) (boolText, nullItems Problems) {
	walkTyped(root, t, "", false, func(n *yaml.Node, t reflect.Type, path string, item bool) {
		if n.Kind != yaml.ScalarNode {
			return
		}
		switch {
		case n.Tag == "!!null" && item:
			msg := "an empty item, which would be dropped: remove it, or write its value"
			if strings.Contains(path, ".rows[") {
				msg = "an empty value (YAML's null), which would be dropped: the check compares a NULL as the text NULL, so write 'NULL' in quotes"
			}
			nullItems = append(nullItems, Problem{File: file, Line: n.Line, Column: n.Column, Path: path, Msg: msg})
		case t.Kind() == reflect.String && n.Tag == "!!bool":
			msg := fmt.Sprintf("%s is a yes/no value, not text: write it in quotes (%q) if you mean the word", n.Value, n.Value)
			if strings.Contains(path, ".rows[") {
				msg = fmt.Sprintf("%s is a yes/no value, not text, and PostgreSQL writes a boolean as t or f: write t or f, or %q in quotes if the column holds the word", n.Value, n.Value)
			}
			boolText = append(boolText, Problem{File: file, Line: n.Line, Column: n.Column, Path: path, Msg: msg})
		}
	})
	return boolText, nullItems
}

// dotted is a path with its list indexes as keys: dba_users[1] is dba_users.1, as Validate may write it.
func dotted(path string) string { return strings.NewReplacer("[", ".", "]", "").Replace(path) }

// leadingZero matches a YAML integer that the decoder reads as octal: 015 is 13 to it.
var leadingZero = regexp.MustCompile(`^[-+]?0[0-9_]+$`)

// place is where a setting is written: the line and column of its value when that is a value on the
// key's line (a problem of the setting is one of its value), else of its key (a section, a list, a value
// left empty or written below), and the column of its key. A list item has no key: its own place.
type place struct{ line, col, keyCol int }

// placeOf finds the line and column of a dotted path, or of its closest ancestor; atKey asks for the
// key's column.
func placeOf(places map[string]place, path string, atKey bool) (line, col int) {
	path = strings.NewReplacer("[", ".", "]", "").Replace(path) // dba_users[1] -> dba_users.1
	for path != "" {
		if p, ok := places[path]; ok {
			if atKey {
				return p.line, p.keyCol
			}
			return p.line, p.col
		}
		i := strings.LastIndex(path, ".")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0, 0
}

// duplicate is a mapping key set again: its path, the lines of its first setting (first to firstEnd),
// and the lines of the repeated entry (key to the end of its value).
type duplicate struct {
	path                            string
	first, firstEnd, line, col, end int
}

// duplicateKeys finds the keys set twice in a block mapping below n. (A duplicate in a flow mapping,
// {a: 1, a: 2}, shares its line with the rest: the decoder reports it.)
func duplicateKeys(n *yaml.Node, prefix string) []duplicate {
	var out []duplicate
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := prefix
			if n.Kind == yaml.SequenceNode {
				p = prefix + "[" + strconv.Itoa(i) + "]"
			}
			out = append(out, duplicateKeys(c, p)...)
		}
	case yaml.MappingNode:
		// entryEnd is the last line of the entry whose key is n.Content[i].
		entryEnd := func(i int) int {
			end := lastLine(n.Content[i+1])
			if i+2 < len(n.Content) {
				end = n.Content[i+2].Line - 1
			}
			return max(end, n.Content[i].Line)
		}
		seen := map[string]int{} // the index of each key's first setting
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if first, ok := seen[k.Value]; ok && n.Style&yaml.FlowStyle == 0 && k.Kind == yaml.ScalarNode {
				out = append(out, duplicate{path: p, first: n.Content[first].Line, firstEnd: entryEnd(first), line: k.Line, col: k.Column, end: entryEnd(i)})
				continue
			}
			seen[k.Value] = i
			out = append(out, duplicateKeys(n.Content[i+1], p)...)
		}
	}
	return out
}

// repeatedProblems are the problems of each duplicate's own value, which Parse blanks out to read the
// rest: approvals: 2 then approvals: "3" is a key set twice and a number written as text. Each is found
// by parsing data (the file as Parse reads it) with the duplicate in place of its first setting and every
// other duplicate blanked, and keeping what is said of the duplicate's lines.
func repeatedProblems(file string, data []byte, dups []duplicate) Problems {
	var out Problems
	for i, d := range dups {
		others := []duplicate{{line: d.first, end: d.firstEnd}}
		for j, o := range dups {
			if j != i {
				others = append(others, o)
			}
		}
		err := Parse(file, blankLines(data, others), Default())
		var ps Problems
		if !errors.As(err, &ps) {
			continue
		}
		for _, p := range ps {
			if p.Line >= d.line && p.Line <= d.end {
				out = append(out, p)
			}
		}
	}
	return out
}

// lastLine is the last line a node's text takes.
func lastLine(n *yaml.Node) int {
	last := n.Line
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		last += strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
	}
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}

// blankLines empties the lines of the duplicate entries, keeping every other line where it was.
func blankLines(data []byte, dups []duplicate) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	for _, d := range dups {
		for l := d.line; l <= d.end && l-1 < len(lines); l++ {
			if bytes.HasSuffix(lines[l-1], []byte("\n")) {
				lines[l-1] = []byte("\n")
			} else {
				lines[l-1] = nil
			}
		}
	}
	return bytes.Join(lines, nil)
}

// nodeAt is the value at the mapping keys path below the document n, or nil.
func nodeAt(n *yaml.Node, path ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// indexLines records the line of every dotted path below n (its key's, or a list item's own) in lines,
// and its place in places.
func indexLines(n *yaml.Node, prefix string, lines map[string]int, places map[string]place) {
	walkValues(n, prefix, func(path string, key, v *yaml.Node) {
		at := key
		if at == nil {
			at = v
		}
		lines[path] = at.Line
		p := place{line: at.Line, col: at.Column, keyCol: at.Column}
		if key != nil && v.Kind == yaml.ScalarNode && v.Line == key.Line && v.Tag != "!!null" {
			p.col = v.Column
		}
		places[path] = p
	})
}

// decodeProblem is the problem of a decoder message ("line 3: cannot unmarshal !!str `abc` into
// time.Duration", "line 6: field colour not found in type config.Database"), placed at the value it
// quotes, or at the unknown key it names, when one fits.
func decodeProblem(file string, root *yaml.Node, msg string) Problem {
	line := yamlLine(msg)
	p := Problem{File: file, Line: line, Msg: cleanYAMLError(msg)}
	var at *yaml.Node
	p.Path, at = valuePath(root, line, msg)
	if m := yamlUnknownField.FindStringSubmatch(strings.TrimPrefix(msg, "yaml: ")); m != nil && line > 0 {
		at = nil
		walkValues(root, "", func(_ string, key, _ *yaml.Node) {
			if key != nil && key.Line == line && key.Value == m[1] && at == nil {
				at = key
			}
		})
	}
	if at != nil {
		p.Column = at.Column
	}
	return p
}

// walkValues calls visit for every value below n with its dotted path (mapping keys, list indexes), the
// key that names it (nil in a list), and the value, parents before what they hold.
func walkValues(n *yaml.Node, prefix string, visit func(path string, key, v *yaml.Node)) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkValues(c, prefix, visit)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			visit(join(k.Value), k, v)
			walkValues(v, join(k.Value), visit)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			visit(join(strconv.Itoa(i)), nil, c)
			walkValues(c, join(strconv.Itoa(i)), visit)
		}
	}
}

// valuePath names the setting whose value the decoder could not read ("line 3: cannot unmarshal !!str
// `abc` into time.Duration"): the dotted path of the value at that line, the one the message quotes
// when several share the line ({lock_timeout: 5s, max_wait: abc}), and that value. It is empty when the
// message quotes no value (an unknown field names itself) or no single value fits.
func valuePath(root *yaml.Node, line int, msg string) (string, *yaml.Node) {
	m := yamlValue.FindStringSubmatch(msg)
	if m == nil || line == 0 {
		return "", nil
	}
	quoted := strings.Trim(m[1], " `")
	matches := func(v *yaml.Node) bool {
		if v.Kind != yaml.ScalarNode || m[1] == "" {
			return (v.Kind != yaml.ScalarNode) == (m[1] == "") // a mapping or list where a value belongs: the message quotes none
		}
		if p, ok := strings.CutSuffix(quoted, "..."); ok && len(v.Value) > 10 { // the decoder cuts long values
			return strings.HasPrefix(v.Value, p)
		}
		return v.Value == quoted
	}
	var found []string
	nodes := map[string]*yaml.Node{}
	walkValues(root, "", func(path string, _, v *yaml.Node) {
		if v.Line == line && matches(v) {
			found = append(found, path)
			nodes[path] = v
		}
	})
	// A block mapping or list starts at the line of its first entry: the entry, not its parent, is meant.
	var innermost []string
	for _, p := range found {
		if !slices.ContainsFunc(found, func(q string) bool { return strings.HasPrefix(q, p+".") }) {
			innermost = append(innermost, p)
		}
	}
	if len(innermost) != 1 {
		return "", nil
	}
	return innermost[0], nodes[innermost[0]]
}

func yamlLine(msg string) int {
	// "yaml: line 3: field foo not found in type config.Config" / "line 3: cannot unmarshal ..."
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	rest := msg[i+5:]
	j := strings.IndexByte(rest, ':')
	if j < 0 {
		return 0
	}
	n, _ := strconv.Atoi(rest[:j])
	return n
}

func cleanYAMLError(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	// An unknown key gets the nearest key of its section, as an unknown flyway.* setting does, or the
	// setting of another section it names.
	if m := yamlUnknownField.FindStringSubmatch(msg); m != nil {
		if t, ok := sectionTypes[m[2]]; ok {
			if hint := unknownKeyHint(m[1], t); hint != "" {
				msg += " (" + hint + ")"
			}
		}
	}
	if i := strings.Index(msg, "line "); i == 0 {
		if j := strings.Index(msg, ": "); j > 0 {
			msg = msg[j+2:]
		}
	}
	msg = yamlType.ReplaceAllStringFunc(msg, func(m string) string {
		name := yamlType.FindStringSubmatch(m)[1]
		if name == "Config" {
			return " at the top level"
		}
		var b strings.Builder
		for i, r := range name {
			if i > 0 && r >= 'A' && r <= 'Z' {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		}
		return " in section " + strings.ToLower(b.String())
	})
	// A section or list where the file has a value of another kind: no Go type names (config.Lint).
	msg = yamlInto.ReplaceAllStringFunc(msg, func(m string) string {
		if strings.HasPrefix(m, " into []") {
			return " into a list"
		}
		return " into a section of settings (key: value lines)"
	})
	if m := yamlDuration.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("want a duration such as 90s, 5m or 2h30m, got %s", strings.Trim(m[1], "`"))
	}
	// The decoder reads yes/no, on/off and y/n into a yes/no setting, quoted or not, but not a quoted
	// true: say what it takes, without Go's words.
	if m := yamlBool.FindStringSubmatch(msg); m != nil {
		if m[1] == "str" && (strings.EqualFold(m[2], "true") || strings.EqualFold(m[2], "false")) {
			msg = fmt.Sprintf("want true or false without quotes, got %q", m[2])
		} else {
			msg = fmt.Sprintf("want true or false (yes/no, on/off and y/n are read too), got %s", m[2])
		}
	}
	return msg
}

// sectionTypes are the struct types of the configuration by name, as the decoder's errors name them
// ("field x not found in type config.Lint").
var sectionTypes = structTypes(reflect.TypeOf(Config{}), map[string]reflect.Type{})

func structTypes(t reflect.Type, out map[string]reflect.Type) map[string]reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || out[t.Name()] != nil || t.PkgPath() != reflect.TypeOf(Config{}).PkgPath() {
		return out
	}
	out[t.Name()] = t
	for i := range t.NumField() {
		structTypes(t.Field(i).Type, out)
	}
	return out
}

// yamlKeys are the keys a struct type takes in YAML.
func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// unknownKeyHint says what an unknown key of section t was meant to be: the section's key it is a slip
// of (windw, rulse, Windows), else the one setting of another section it names (pg_version at the top
// level is database.pg_version), else, for deploy at the top level, where a deploy's settings go.
// It is "" when nothing fits well enough to be worth a guess.
func unknownKeyHint(name string, t reflect.Type) string {
	if near := nearestKey(name, yamlKeys(t)); near != "" {
		return "did you mean " + near + "?"
	}
	var elsewhere []string
	for key, paths := range keyPaths {
		if strings.EqualFold(key, name) || nearestKey(name, []string{key}) != "" {
			elsewhere = append(elsewhere, paths...)
		}
	}
	if len(elsewhere) == 1 {
		return "did you mean " + elsewhere[0] + "?"
	}
	if t == reflect.TypeOf(Config{}) && slices.Contains([]string{"deploy", "deployment", "deploys", "production"}, strings.ToLower(name)) {
		return "a deploy's settings go under environments.<name>, e.g. environments.prod.windows"
	}
	return ""
}

// nearestKey is the key of keys that name is a slip of: letter case aside, at most one edit (a wrong,
// missing, extra or swapped letter) for a name of up to 4 characters, two up to 8, three beyond; ""
// when none is that close, or two are.
func nearestKey(name string, keys []string) string {
	limit := 1
	switch n := len(name); {
	case n > 8:
		limit = 3
	case n > 4:
		limit = 2
	}
	best, bestD, tie := "", limit+1, false
	for _, k := range keys {
		switch d := osaDistance(strings.ToLower(name), strings.ToLower(k)); {
		case d < bestD:
			best, bestD, tie = k, d, false
		case d == bestD:
			tie = true
		}
	}
	if tie || bestD >= len(name) {
		return ""
	}
	return best
}

// osaDistance is the optimal string alignment distance of a and b in bytes: the Levenshtein distance
// (suggest.Distance) with a swap of two adjacent bytes counting as one edit (rulse, rules).
func osaDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// keyPaths lists, by YAML key, the dotted paths of the settings that key names in mapping sections
// (environments.<name>.windows); settings inside lists are left out.
var keyPaths = settingPaths(reflect.TypeOf(Config{}), "", map[string][]string{})

func settingPaths(t reflect.Type, prefix string, out map[string][]string) map[string][]string {
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		out[name] = append(out[name], path)
		ft := t.Field(i).Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Map && ft.Key().Kind() == reflect.String {
			ft, path = ft.Elem(), path+".<name>"
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() {
			settingPaths(ft, path, out)
		}
	}
	return out
}

var (
	yamlUnknownField = regexp.MustCompile(`^(?:line \d+: )?field (\S+) not found in type config\.(\w+)`)
	yamlValue        = regexp.MustCompile("cannot unmarshal !!\\w+( `[^`]*`)? into ")
	yamlType         = regexp.MustCompile(` in type config\.(\w+)`)
	yamlInto         = regexp.MustCompile(` into (?:map\[\w+\]\*?(?:config\.)?\w+|\*?config\.\w+|\[\]\*?(?:config\.)?\w+)$`)
	yamlDuration     = regexp.MustCompile("^cannot unmarshal !!\\w+ (`[^`]*`|\\S+) into time\\.Duration$")
	yamlBool         = regexp.MustCompile("^cannot unmarshal !!(\\w+) `([^`]*)` into bool$")
)

// Validate checks values; it returns every problem, with dotted paths.
func (c *Config) Validate() Problems {
	var ps Problems
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if _, err := migrate.ParseFormat(c.Format); err != nil {
		add("format", "%v", err)
	} else if f := migrate.Format(c.Format); c.GolangMigrate.MultiStatement && f != "" && f != migrate.FormatAuto && f != migrate.FormatGolangMigrate {
		add("golang_migrate.multi_statement", "applies to golang-migrate folders, and format is %s: remove it, or set format to golang-migrate", f)
	}
	if n := c.GolangMigrate.MultiStatementMaxSize; n < 0 {
		add("golang_migrate.multi_statement_max_size", "must not be negative (leave it out for golang-migrate's default, 10485760)")
	} else if n > 0 && !c.GolangMigrate.MultiStatement {
		add("golang_migrate.multi_statement_max_size", "golang-migrate reads it only with x-multi-statement: set multi_statement: true too, or remove it")
	}
	switch c.Database.Provider {
	case "", "auto", "local", "docker", "url":
	default:
		add("database.provider", "unknown provider %q (want auto, local, docker or url)", c.Database.Provider)
	}
	if v := c.Database.PGVersion; v != 0 && (v < 10 || v > 19) {
		add("database.pg_version", "PostgreSQL version %d is not supported (want 10 to 19)", v)
	}
	for i, f := range c.Database.Setup {
		if strings.TrimSpace(f) == "" { // it would be read as the folder of schemagate.yml
			add(fmt.Sprintf("database.setup[%d]", i), "empty: name an SQL file")
		}
	}
	if t := c.Database.StatementTimeout; t != nil && *t < 0 {
		add("database.statement_timeout", "must not be negative (0s turns the limit off)")
	}
	if c.Database.Provider == "url" && c.Database.URL == "" {
		add("database.url", "provider url needs database.url (or --database-url / SCHEMAGATE_DATABASE_URL)")
	}
	switch c.Lint.FailOn {
	case "", "never", "safe", "caution", "dangerous":
	default:
		add("lint.fail_on", "unknown value %q (want dangerous, caution, safe or never)", c.Lint.FailOn)
	}
	for _, id := range slices.Sorted(maps.Keys(c.Lint.Rules)) {
		if _, ok := lint.Lookup(id); !ok {
			ps = append(ps, Problem{Path: "lint.rules." + id, Msg: fmt.Sprintf("unknown rule id %q%s", id, lint.DidYouMean(id)), atKey: true})
		}
		switch class := c.Lint.Rules[id]; class {
		case "off", "safe", "caution", "dangerous":
		default:
			add("lint.rules."+id, "unknown class %q (want off, safe, caution or dangerous)", class)
		}
	}
	for _, p := range c.validateSections() {
		ps = append(ps, p)
	}
	return ps
}

// ApplyEnv overrides settings from SCHEMAGATE_* environment variables (between the file and flags).
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if v := getenv("SCHEMAGATE_DATABASE_URL"); v != "" {
		c.Database.URL = v
	}
	// Words in any letter case, as the file's are read (provider: Docker).
	if v := getenv("SCHEMAGATE_PROVIDER"); v != "" {
		c.Database.Provider = strings.ToLower(strings.TrimSpace(v))
	}
	if v := getenv("SCHEMAGATE_PG_VERSION"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("SCHEMAGATE_PG_VERSION=%q is not a number", v)
		}
		c.Database.PGVersion = n
	}
	if v := getenv("SCHEMAGATE_DIR"); v != "" {
		c.Dir = v
	}
	if v := getenv("SCHEMAGATE_FORMAT"); v != "" {
		c.Format = strings.ToLower(strings.TrimSpace(v))
	}
	return nil
}

// digits tells a non-empty run of ASCII digits.
func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
