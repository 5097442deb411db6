package migrate

import (
	"cmp"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// Flyway: V{version}__{description}.sql versioned migrations (the version dotted or underscored, 1.10
// or 1_10, compared part by part as numbers), U{version}__{description}.sql undo scripts (our Down),
// R__{description}.sql repeatable migrations (run after the versioned ones, ordered by description), in
// the folder and its subfolders. {file}.conf beside a script may say executeInTransaction=false or
// placeholderReplacement=false. Placeholders are replaced as Flyway does (see subst.go).

var (
	flywayVersion  = regexp.MustCompile(`^[0-9]+([._][0-9]+)*$`)
	flywayLooksVer = regexp.MustCompile(`^[VUR][0-9]`)
	flywayCallback = regexp.MustCompile(`^(before|after)[A-Za-z]*(__.*)?\.sql$`)
)

// flywayConfKeys are the script settings Flyway knows; executeInTransaction and placeholderReplacement
// change what we do.
var flywayConfKeys = map[string]bool{"executeInTransaction": true, "encoding": true, "placeholderReplacement": true, "shouldExecute": true}

func (r *reader) readFlyway() {
	settings := r.loadFlywaySettings()
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
		case strings.HasSuffix(p, ".sql.conf"):
			confs[p] = true
		case r.otherCaseSQL(p, "Flyway"):
		case isSQL(p):
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
	for _, p := range names {
		base := path.Base(p)
		kind, version, desc, problem := parseFlywayName(base)
		if problem != "" {
			r.errorf(p, 0, "Flyway names scripts V{version}__{description}.sql, U{version}__{description}.sql or R__{description}.sql", "%s", problem)
			continue
		}
		if kind == 0 {
			if flywayCallback.MatchString(base) {
				r.warnf(p, 0, "schemagate does not run Flyway callbacks", "ignored: Flyway callback script")
			} else {
				r.warnf(p, 0, "Flyway reads V{version}__{description}.sql, U…, R__… scripts", "ignored: not a Flyway migration file name")
			}
			continue
		}
		src, ok := r.load(p)
		if !ok {
			continue
		}
		noTx, noTxSet, replace := false, false, true
		if confs[p+".conf"] {
			delete(confs, p+".conf")
			noTx, noTxSet, replace = r.readFlywayConf(p + ".conf")
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
		return cmp.Or(cmp.Compare(flywayDescription(a.Name), flywayDescription(b.Name)), cmp.Compare(a.Up.File, b.Up.File))
	})
	for i, m := range repeatables {
		if i > 0 && flywayDescription(repeatables[i-1].Name) == flywayDescription(m.Name) {
			r.errorf(m.Up.File, 0, "give each repeatable migration its own description",
				"duplicate repeatable migration %q (also %s)", flywayDescription(m.Name), repeatables[i-1].Up.File)
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

// parseFlywayName splits a script name. kind is 'V', 'U' or 'R', or 0 for a name that is no migration
// (then problem says why when the name looks like a versioned one).
func parseFlywayName(base string) (kind byte, version, desc, problem string) {
	if !isSQL(base) {
		return 0, "", "", ""
	}
	stem := trimSQL(base)
	switch {
	case strings.HasPrefix(stem, "R__"):
		if stem == "R__" {
			return 0, "", "", "repeatable migration without a description"
		}
		return 'R', "", stem[3:], ""
	case len(stem) > 1 && (stem[0] == 'V' || stem[0] == 'U'):
		sep := strings.Index(stem, "__")
		if sep < 0 && flywayVersion.MatchString(stem[1:]) {
			// No separator: all of it is the version and the description is empty
			// (ResourceNameParser.java splitAtSeparator), so V1.sql is version 1.
			return stem[0], strings.ReplaceAll(stem[1:], "_", "."), "", ""
		}
		if sep < 0 {
			if flywayLooksVer.MatchString(stem) {
				return 0, "", "", "Flyway file name has no __ between version and description"
			}
			return 0, "", "", ""
		}
		raw := stem[1:sep]
		if !flywayVersion.MatchString(raw) {
			if flywayLooksVer.MatchString(stem) {
				return 0, "", "", "invalid Flyway version " + raw + " (want numbers separated by . or _)"
			}
			return 0, "", "", ""
		}
		return stem[0], strings.ReplaceAll(raw, "_", "."), stem[sep+2:], ""
	case len(stem) > 1 && stem[0] == 'B' && stem[1] >= '0' && stem[1] <= '9':
		return 0, "", "", "Flyway baseline migrations are not supported"
	case len(stem) > 1 && strings.ContainsRune("vur", rune(stem[0])) && flywayLooksVer.MatchString(strings.ToUpper(stem[:1])+stem[1:]):
		return 0, "", "", "Flyway prefixes are upper-case: V, U and R"
	}
	return 0, "", "", ""
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

// readFlywayConf reads a script's settings: whether it runs outside a transaction (and whether the file
// says so at all), and whether Flyway replaces placeholders in it.
func (r *reader) readFlywayConf(name string) (noTx, noTxSet, replace bool) {
	replace = true
	src, ok := r.load(name)
	if !ok {
		return false, false, true
	}
	r.properties(name, src, "Flyway script setting", func(line int, key, value string) {
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

// needsAutocommit reports a script with a statement that cannot run in a transaction block.
func needsAutocommit(s *Script) bool {
	for _, st := range s.Statements {
		if sqlparse.NeedsAutocommit(st.Node) {
			return true
		}
	}
	return false
}
