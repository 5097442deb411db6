package migrate

import (
	"cmp"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Flyway: V{version}__{description}.sql versioned migrations (the version dotted or underscored, 1.10
// or 1_10, compared part by part as numbers), U{version}__{description}.sql undo scripts (our Down),
// R__{description}.sql repeatable migrations (run after the versioned ones, ordered by description; the
// description may be empty, R__.sql, and such a migration is named R__ in reports), in
// the folder and its subfolders, or in the folders flyway.locations names (flywaylocations.go); the prefixes, the separator and the suffixes are Flyway's settings
// (flywayNaming). {file}.conf beside a script may say executeInTransaction=false or
// placeholderReplacement=false; Flyway replaces placeholders in it too (readFlywayConf). Placeholders
// are replaced as Flyway does (see subst.go).

var (
	flywayVersion       = regexp.MustCompile(`^[0-9]+([._][0-9]+)*$`)
	flywayCallbackEvent = regexp.MustCompile(`^(before|after)[A-Za-z]*$`)
)

// flywayConfKeys are the script settings Flyway knows; executeInTransaction and placeholderReplacement
// change what we do.
var flywayConfKeys = map[string]bool{"executeInTransaction": true, "encoding": true, "placeholderReplacement": true, "shouldExecute": true}

func (r *reader) readFlyway() {
	settings := r.loadFlywaySettings()
	r.outOfOrder = settings.outOfOrder
	r.noValidate = !settings.validateOnMigrate
	r.ignore = r.ignorePatterns(&settings)
	naming := settings.naming
	locs := r.flywayLocations(&settings)
	var names []string
	confs := map[string]bool{}
	err := fs.WalkDir(r.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			r.errorf(p, 0, "", "read migration folder: %v", err)
			return nil
		}
		switch {
		case d.IsDir() && p != "." && strings.HasPrefix(d.Name(), "."):
			return fs.SkipDir
		case !r.isFile(p, d):
		case !locs.holds(p):
			// Outside Flyway's locations: Flyway never sees it.
		case strings.HasSuffix(p, ".conf") && naming.suffix(strings.TrimSuffix(p, ".conf")) != "":
			confs[p] = true
		case naming.otherCase(p):
			r.warnf(p, 0, "rename it to end in "+naming.suffixNames()+" if it is a migration",
				"ignored: Flyway only reads %s files (the extension is case-sensitive)", naming.suffixNames())
		case naming.suffix(p) != "":
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		r.errorf("", 0, "", "read migration folder: %v", err)
	}
	type versioned struct {
		parts    []string
		up, down *Migration
	}
	var (
		byVersion   []*versioned
		repeatables []*Migration
	)
	find := func(parts []string) *versioned {
		for _, v := range byVersion {
			if compareFlywayVersions(v.parts, parts) == 0 {
				return v
			}
		}
		v := &versioned{parts: parts}
		byVersion = append(byVersion, v)
		return v
	}
	namingHint := "Flyway names scripts " + naming.describe()
	if len(settings.ignored) > 0 {
		namingHint += "; the migration folder's " + strings.Join(settings.ignored, ", ") + " is not read: Flyway reads its configuration from the working directory or FLYWAY_CONFIG_FILES"
	}
	for _, p := range names {
		base := path.Base(p)
		kind, version, desc, problem := naming.parse(base)
		switch {
		case problem.msg != "" && !problem.skipped:
			r.errorf(p, 0, namingHint, "%s", problem.msg)
			continue
		case problem.msg != "" && settings.validateNaming:
			// ResourceNameValidator: "Invalid SQL filenames found".
			r.errorf(p, 0, namingHint, "%s: Flyway refuses it (validateMigrationNaming=true)", problem.msg)
			continue
		case problem.msg != "":
			// SqlMigrationResolver skips a name ResourceNameParser finds invalid; only
			// validateMigrationNaming=true has ResourceNameValidator refuse it.
			hint := namingHint
			if rename := naming.readable(problem.rename); rename != "" {
				hint = "rename it " + rename + " if it is a migration: " + hint
			}
			r.warnf(p, 0, hint+"; with flyway.validateMigrationNaming=true Flyway refuses such a name instead",
				"ignored: %s: Flyway skips such a name (validateMigrationNaming is false)", problem.msg)
			continue
		case kind == 0 && naming.callback(base):
			r.warnf(p, 0, "schemagate does not run Flyway callbacks", "ignored: Flyway callback script")
			continue
		case kind == 0 && settings.validateNaming:
			// ResourceNameParser: "Unrecognised migration name format", or a version or description
			// where its prefix wants none.
			r.errorf(p, 0, namingHint, "not a Flyway migration file name: Flyway refuses it (validateMigrationNaming=true)")
			continue
		case kind == 0:
			hint := "Flyway reads " + naming.describe()
			// 4__add_users.sql: the prefix is missing (4_add_users.sql: the separator too).
			if rename := naming.readable(naming.versioned + base); leadingDigits(base) != "" && rename != "" {
				hint = "rename it " + path.Join(path.Dir(p), rename) + " if it is a migration: " + hint
			}
			r.warnf(p, 0, hint, "ignored: not a Flyway migration file name")
			continue
		}
		src, ok := r.load(p)
		if !ok {
			continue
		}
		noTx, noTxSet, replace := false, false, true
		if confs[p+".conf"] {
			delete(confs, p+".conf")
			noTx, noTxSet, replace = r.readFlywayConf(p, settings)
		}
		text := src
		if replace {
			var bad *substError
			if text, bad = flywayPlaceholders(p, src, settings); bad != nil {
				r.errorf(p, lineAt(src, bad.Off), bad.Hint, "%s", bad.Msg)
				continue
			}
		}
		s := script(p, text, 0, len(text), nil)
		if text != src {
			s.Source = strings.TrimPrefix(src, "\uFEFF")
		}
		s.NoTransaction = noTx
		if !noTxSet {
			// The script's own executeInTransaction wins; else executeInTransaction=false runs every
			// script outside a transaction, and mixed=true a script that mixes statements that cannot run
			// in one (CREATE INDEX CONCURRENTLY) with others (Flyway DbMigrate, ParsedSqlScript).
			s.NoTransaction = !settings.inTransaction || settings.mixed && needsAutocommit(s)
			if !settings.mixed {
				r.checkFlywayMixed(p, s)
				if settings.inTransaction {
					s.Alone = AloneFlyway
				}
			}
		}
		m := &Migration{Version: version, Name: desc, Up: s, NoTransaction: s.NoTransaction}
		switch kind {
		case 'R':
			m.Repeatable = true
			repeatables = append(repeatables, m)
		case 'V', 'U':
			v := find(strings.Split(version, "."))
			slot := &v.up
			if kind == 'U' {
				slot = &v.down
			}
			if *slot != nil {
				r.errorf(p, 0, "give each migration its own version", "duplicate version %s (also %s)", version, (*slot).Up.File)
				continue
			}
			*slot = m
		}
	}
	for c := range confs {
		r.errorf(c, 0, "rename it after its script or delete it", "script settings for a missing script %s", strings.TrimSuffix(c, ".conf"))
	}
	slices.SortFunc(byVersion, func(a, b *versioned) int { return compareFlywayVersions(a.parts, b.parts) })
	for _, v := range byVersion {
		if v.up == nil && r.lone {
			// An undo script given on its own: Flyway runs it as it runs a V script.
			v.up, v.down = v.down, nil
		}
		if v.up == nil {
			r.errorf(v.down.Up.File, 0, "add the V script it undoes or delete it", "undo script without a versioned migration")
			continue
		}
		if v.down != nil {
			v.up.Down = v.down.Up
		}
		r.checkEmpty(v.up, 0, "Flyway", "V script")
		r.migrations = append(r.migrations, v.up)
	}
	slices.SortStableFunc(repeatables, func(a, b *Migration) int {
		return cmp.Or(javaCompare(flywayDescription(a.Name), flywayDescription(b.Name)), cmp.Compare(a.Up.File, b.Up.File))
	})
	for i, m := range repeatables {
		if i > 0 && flywayDescription(repeatables[i-1].Name) == flywayDescription(m.Name) {
			what := fmt.Sprintf("%q", flywayDescription(m.Name))
			if m.Name == "" {
				what = "with an empty description"
			}
			r.errorf(m.Up.File, 0, "give each repeatable migration its own description",
				"duplicate repeatable migration %s (also %s)", what, repeatables[i-1].Up.File)
			continue
		}
		r.checkEmpty(m, 0, "Flyway", "R script")
		r.migrations = append(r.migrations, m)
	}
}

// flywayDescription is the description Flyway gives a script: the name part with each _ replaced by a
// space (ResourceNameParser.java). Repeatable migrations run in the order of their descriptions
// (ResolvedMigrationComparator), so R__create_views ("create views") runs before R__create-functions,
// and R__my_view.sql and "R__my view.sql" are the same migration to Flyway (it refuses the folder).
func flywayDescription(name string) string { return strings.ReplaceAll(name, "_", " ") }

// javaCompare orders two strings as Java's String.compareTo does, which ResolvedMigrationComparator
// applies to descriptions: by UTF-16 code unit, then by length. Go orders by byte, which is by code
// point; the two differ where a character beyond U+FFFF (an emoji), which UTF-16 writes as a surrogate
// pair from 0xD800, meets one from U+E000 to U+FFFF (a full-width form, a private-use character): Java
// puts the emoji first.
func javaCompare(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return slices.Compare(utf16.AppendRune(nil, ra), utf16.AppendRune(nil, rb))
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// suffix is the first of the suffixes that name ends with (case-sensitively, as Flyway compares them),
// or "" when it ends with none: Flyway reads no other file.
func (n flywayNaming) suffix(name string) string {
	for _, s := range n.suffixList() {
		if strings.HasSuffix(name, s) {
			return s
		}
	}
	return ""
}

// otherCase tells a file that ends with a suffix in another case (V1__a.SQL), which Flyway never reads.
func (n flywayNaming) otherCase(name string) bool {
	if n.suffix(name) != "" {
		return false
	}
	for _, s := range n.suffixList() {
		if len(name) >= len(s) && strings.EqualFold(name[len(name)-len(s):], s) {
			return true
		}
	}
	return false
}

// suffixNames lists the suffixes for messages: ".sql", ".sql or .pgsql".
func (n flywayNaming) suffixNames() string { return strings.Join(n.suffixList(), " or ") }

// describe says how Flyway names scripts, for hints: V{version}__{description}.sql...
func (n flywayNaming) describe() string {
	suffix := ".sql"
	if l := n.suffixList(); len(l) > 0 {
		suffix = l[0]
	}
	return fmt.Sprintf("%[1]s{version}%[4]s{description}%[5]s, %[2]s{version}%[4]s{description}%[5]s or %[3]s%[4]s{description}%[5]s",
		n.versioned, n.undo, n.repeatable, n.separator, suffix)
}

// callback tells a callback script (beforeMigrate.sql, afterEachMigrate__log.sql): an event name, then
// nothing or the separator and a description.
func (n flywayNaming) callback(base string) bool {
	suffix := n.suffix(base)
	if suffix == "" {
		return false
	}
	event, _, _ := strings.Cut(strings.TrimSuffix(base, suffix), n.separator)
	return flywayCallbackEvent.MatchString(event)
}

// nameProblem says why a script name that looks like a migration's is none.
type nameProblem struct {
	msg string
	// skipped: Flyway's ResourceNameParser finds the name invalid, so Flyway skips the file (or, with
	// validateMigrationNaming=true, refuses the folder). Otherwise Flyway runs the file and schemagate
	// cannot read it.
	skipped bool
	// rename is the name Flyway would read the file by, when the mistake is plain (a lower-case prefix,
	// one _ for the separator).
	rename string
}

// parse splits a script name as Flyway's ResourceNameParser does: the first suffix the name ends with is
// taken off, then the longest prefix it starts with decides the kind ('V', 'U', 'R' or 'B'); the rest is
// split at the first separator into version and description. kind is 0 for a name that is no migration
// (then problem says why when the name looks like a versioned one: Flyway skips such a file, which is
// rarely what its author meant).
// readable returns name when Flyway reads it as a migration, or else the rename its problem proposes
// when Flyway reads that one (v2_b.sql: V2_b.sql, which lacks the separator, then V2__b.sql); "" when
// neither is read: a rename hint must not propose a name Flyway skips too.
func (n flywayNaming) readable(name string) string {
	for range 3 {
		if name == "" {
			return ""
		}
		kind, _, _, pb := n.parse(name)
		if pb.msg == "" && kind != 0 {
			return name
		}
		if pb.rename == name {
			return ""
		}
		name = pb.rename
	}
	return ""
}

func (n flywayNaming) parse(base string) (kind byte, version, desc string, problem nameProblem) {
	suffix := n.suffix(base)
	if suffix == "" || n.callback(base) {
		return 0, "", "", problem
	}
	stem := strings.TrimSuffix(base, suffix)
	prefixes := []struct {
		prefix string
		kind   byte
	}{{n.versioned, 'V'}, {n.undo, 'U'}, {n.repeatable, 'R'}, {n.baseline, 'B'}}
	// Flyway tries the longest prefix first (so RR before R); of equal ones, the first listed.
	slices.SortStableFunc(prefixes, func(a, b struct {
		prefix string
		kind   byte
	}) int {
		return len(b.prefix) - len(a.prefix)
	})
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(stem, p.prefix)
		if !ok {
			continue
		}
		looksVersioned := rest != "" && rest[0] >= '0' && rest[0] <= '9'
		switch p.kind {
		case 'R':
			// Whatever comes before the first separator is a version, which a repeatable migration must
			// not have; the description may be empty: R__.sql, and R.sql (no separator: no version and
			// no description), are repeatable migrations with the description "".
			d, ok := strings.CutPrefix(rest, n.separator)
			if !ok && rest != "" {
				return 0, "", "", problem // Flyway: a repeatable migration has no version
			}
			return 'R', "", d, problem
		case 'B':
			if looksVersioned {
				return 0, "", "", nameProblem{msg: "Flyway baseline migrations are not supported"}
			}
			return 0, "", "", problem
		}
		raw, d, found := strings.Cut(rest, n.separator)
		switch {
		case raw == "":
			return 0, "", "", problem // Flyway: a versioned migration needs a version
		case flywayVersion.MatchString(raw):
			// Without a separator all of it is the version and the description is empty
			// (ResourceNameParser.java splitAtSeparator), so V1.sql is version 1.
			return p.kind, strings.ReplaceAll(raw, "_", "."), d, problem
		case !looksVersioned:
			return 0, "", "", problem
		case !found:
			pb := nameProblem{msg: "Flyway file name has no " + n.separator + " between version and description", skipped: true}
			// V3_add_users: one _ where the separator goes (after the version's digits and dots).
			if i := strings.IndexFunc(raw, func(c rune) bool { return c != '.' && (c < '0' || c > '9') }); i > 0 && raw[i] == n.separator[0] {
				pb.rename = p.prefix + raw[:i] + n.separator + strings.TrimLeft(raw[i:], n.separator[:1]) + suffix
			}
			return 0, "", "", pb
		}
		return 0, "", "", nameProblem{msg: "invalid Flyway version " + raw + " (want numbers separated by . or _)", skipped: true}
	}
	for _, p := range prefixes {
		if p.prefix == "" || len(stem) <= len(p.prefix) || p.kind == 'B' {
			continue
		}
		if c := stem[len(p.prefix)]; strings.EqualFold(stem[:len(p.prefix)], p.prefix) && c >= '0' && c <= '9' {
			return 0, "", "", nameProblem{msg: fmt.Sprintf("Flyway prefixes are case-sensitive: %s, %s and %s", n.versioned, n.undo, n.repeatable), skipped: true,
				rename: p.prefix + stem[len(p.prefix):] + suffix}
		}
	}
	return 0, "", "", problem
}

// FlywayDescription is the description Flyway records for a migration named name (its Name): the
// description part of the file name with "_" read as a space, cut to 200 characters as Flyway cuts it
// (AbbreviationUtils.abbreviateDescription). Flyway's validate fails on an applied migration whose
// description differs from the one recorded ("Migration description mismatch").
func FlywayDescription(name string) string {
	d := []rune(strings.ReplaceAll(name, "_", " "))
	if len(d) > 200 {
		return string(d[:197]) + "..."
	}
	return string(d)
}

// CompareFlywayVersions compares two Flyway versions as Flyway does: parts separated by . or _ are
// numbers, missing parts count as 0 (1.0 equals 1, 01.2 equals 1.2).
func CompareFlywayVersions(a, b string) int {
	split := func(v string) []string {
		return strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '_' })
	}
	return compareFlywayVersions(split(a), split(b))
}

// compareFlywayVersions compares dotted versions part by part as numbers; missing parts count as 0,
// so 1.0 equals 1 as in Flyway.
func compareFlywayVersions(a, b []string) int {
	for i := range max(len(a), len(b)) {
		x, y := "0", "0"
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := CompareNumbers(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// readFlywayConf reads the settings of the script file, in file.conf: whether it runs outside a
// transaction (and whether the file says so at all), and whether Flyway replaces placeholders in it.
//
// Flyway replaces placeholders in the settings file itself before it reads them, whatever
// placeholderReplacement says (SqlScriptMetadata.fromResource reads it through
// PlaceholderReplacingReader.create): executeInTransaction=${in_tx} takes the placeholder's value, and a
// placeholder without one fails the migration ("No value provided for placeholder").
func (r *reader) readFlywayConf(file string, settings flywaySettings) (noTx, noTxSet, replace bool) {
	name := file + ".conf"
	replace = true
	src, ok := r.load(name)
	if !ok {
		return false, false, true
	}
	src = strings.TrimPrefix(src, "\uFEFF")
	settings.replacement = true
	src, bad := flywayPlaceholders(file, src, settings)
	if bad != nil {
		hint, _, _ := strings.Cut(bad.Hint, ", or turn placeholders off")
		r.errorf(name, lineAt(src, bad.Off), hint, "%s: Flyway replaces placeholders in a script's settings too, and fails on this one (\"No value provided for placeholder\")", bad.Msg)
		return false, false, true
	}
	r.properties(name, src, func(line int, key, value string) {
		switch {
		case !flywayConfKeys[key]:
			r.errorf(name, line, "Flyway script settings are executeInTransaction, encoding, placeholderReplacement and shouldExecute",
				"unknown Flyway script setting %q", key)
		case key == "executeInTransaction":
			noTx, noTxSet = !r.boolSetting(name, line, key, value, !noTx), true
		case key == "placeholderReplacement":
			replace = r.boolSetting(name, line, key, value, replace)
		}
	})
	return noTx, noTxSet, replace
}

// checkFlywayMixed reports a script that mixes statements Flyway runs outside a transaction
// (flywayNonTransactional) with others, when mixed is false and the script's .conf does not set
// executeInTransaction: Flyway's ParserSqlScript.parse refuses it, at the first statement by which it
// has found both kinds ("Detected both transactional and non-transactional statements within the same
// migration (even though mixed is false). Offending statement found at line N"), whatever the
// folder's executeInTransaction, and the migration fails before any of its statements runs.
func (r *reader) checkFlywayMixed(file string, s *Script) {
	tx, nonTx := false, false
	for _, st := range s.Statements {
		if flywayNonTransactional(st.Node) {
			nonTx = true
		} else {
			tx = true
		}
		if tx && nonTx {
			r.errorf(file, st.Pos.Line, "put what Flyway runs outside a transaction (CREATE INDEX CONCURRENTLY, VACUUM...) in a migration of its own, set flyway.mixed=true (Flyway then runs this script outside a transaction), or set executeInTransaction in "+path.Base(file)+".conf",
				"Flyway refuses a script that mixes statements it runs outside a transaction with others while mixed is false (\"Detected both transactional and non-transactional statements within the same migration (even though mixed is false)\"): both kinds are found by this statement")
			return
		}
	}
}

// needsAutocommit reports a script with a statement that Flyway runs outside a transaction
// (flywayNonTransactional).
func needsAutocommit(s *Script) bool {
	for _, st := range s.Statements {
		if flywayNonTransactional(st.Node) {
			return true
		}
	}
	return false
}

// flywayNonTransactional tells a statement that Flyway runs outside a transaction: its PostgreSQL
// parser's list (PostgreSQLParser.detectCanExecuteInTransaction), which matches the statement's text:
// CREATE or DROP DATABASE, TABLESPACE or SUBSCRIPTION, ALTER SYSTEM, CREATE [UNIQUE] INDEX
// CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX SCHEMA, DATABASE or SYSTEM, VACUUM and DISCARD ALL
// (and ALTER TYPE … ADD VALUE before PostgreSQL 12, which schemagate does not rehearse on). Every other
// statement runs in the script's transaction, where REINDEX INDEX … CONCURRENTLY and DETACH PARTITION
// … CONCURRENTLY fail: PostgreSQL refuses them there (see sqlparse.NeedsAutocommit), and the rehearsal
// lets them fail as Flyway's migrate does.
func flywayNonTransactional(n *pg_query.Node) bool {
	switch {
	case n == nil:
		return false
	case n.GetCreatedbStmt() != nil, n.GetDropdbStmt() != nil, n.GetCreateTableSpaceStmt() != nil, n.GetDropTableSpaceStmt() != nil,
		n.GetCreateSubscriptionStmt() != nil, n.GetDropSubscriptionStmt() != nil, n.GetAlterSystemStmt() != nil:
		return true
	case n.GetIndexStmt() != nil:
		return n.GetIndexStmt().Concurrent
	case n.GetDropStmt() != nil:
		return n.GetDropStmt().Concurrent && n.GetDropStmt().RemoveType == pg_query.ObjectType_OBJECT_INDEX
	case n.GetReindexStmt() != nil:
		switch n.GetReindexStmt().Kind {
		case pg_query.ReindexObjectType_REINDEX_OBJECT_SCHEMA, pg_query.ReindexObjectType_REINDEX_OBJECT_DATABASE, pg_query.ReindexObjectType_REINDEX_OBJECT_SYSTEM:
			return true
		}
	case n.GetVacuumStmt() != nil:
		return n.GetVacuumStmt().IsVacuumcmd
	case n.GetDiscardStmt() != nil:
		return n.GetDiscardStmt().Target == pg_query.DiscardMode_DISCARD_ALL
	}
	return false
}
