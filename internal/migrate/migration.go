// Package migrate models migrations as users already keep them (golang-migrate, goose, dbmate, Flyway,
// sqitch, sql-migrate, plain folders of .sql files) and reads such folders from an fs.FS.
package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// Format names a migration folder layout.
type Format string

// The supported formats. FormatAuto asks Read to detect the layout.
const (
	FormatAuto          Format = "auto"
	FormatGolangMigrate Format = "golang-migrate"
	FormatGoose         Format = "goose"
	FormatDbmate        Format = "dbmate"
	FormatFlyway        Format = "flyway"
	FormatSqitch        Format = "sqitch"
	FormatSQLMigrate    Format = "sql-migrate"
	FormatPlain         Format = "plain"
	FormatAtlas         Format = "atlas"
)

// Formats lists every concrete format, in the order auto-detection tries them.
var Formats = []Format{FormatSqitch, FormatAtlas, FormatGolangMigrate, FormatFlyway, FormatGoose, FormatSQLMigrate, FormatDbmate, FormatPlain}

// ParseFormat validates a format name given by a user.
func ParseFormat(s string) (Format, error) {
	if s == "" || s == string(FormatAuto) {
		return FormatAuto, nil
	}
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, 0, len(Formats)+1)
	names = append(names, string(FormatAuto))
	for _, f := range Formats {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown migration format %q (want one of %s)", s, strings.Join(names, ", "))
}

// ExternalGo marks a goose migration written in Go (see Migration.External).
const ExternalGo = "go"

// Script is one SQL script of a migration (its up, down or verify part).
type Script struct {
	// File is the script's path relative to the migration folder, with forward slashes.
	File string
	// SQL is the script's text: the whole file, or for single-file formats the section of it.
	SQL string
	// Start is the byte offset of SQL within File's content (non-zero for a section of a file).
	Start int
	// Statements are SQL split by the PostgreSQL parser, positioned in File.
	Statements []sqlparse.Statement
	// NoTransaction is set when the owning tool runs this script outside a transaction (for the Up
	// script it equals Migration.NoTransaction; dbmate and sql-migrate can mark a Down alone).
	NoTransaction bool
	// CommitsHalfWay is set when the tool runs the script in a transaction of its own that a COMMIT (or
	// ROLLBACK) of the script's, followed by more statements, ends half way (goose and sql-migrate, which
	// run its statements one by one in their transaction): NoTransaction is then set too, so that the
	// rehearsal runs it statement by statement as the tool ends up doing (see inferAutocommit), though
	// the tool does not mark it. golang-migrate opens no transaction: a file's own BEGIN … COMMIT are
	// its transactions.
	CommitsHalfWay bool
	// Alone, when set, says that a statement that refuses a transaction block runs outside one here
	// only while it stands alone in the script (or its section): another statement put beside it, such
	// as a SET lock_timeout before it, makes the tool run it where it fails (see Alone's values). Lint's
	// advice for a timeout then names what works for the tool instead of a SET.
	Alone Alone
	// Source is the script as written when SQL has variables substituted (Flyway placeholders, goose
	// ENVSUB); empty otherwise. Checksums are of the text as written.
	Source string
	// bom is set when SQL starts with a byte-order mark that the tool sends to the server (golang-migrate
	// does; the other readers strip it). Checksums leave it out, as they did when every reader stripped
	// it: a file deployed then has not changed.
	bom bool
	// flyway is set on the scripts of a Flyway folder: Flyway tells an applied script from an edited one
	// by its own checksum (FlywayChecksum), which SameScript, SameText and ChecksumMatches then follow.
	flyway bool
}

// Alone is what a tool does with a script that holds a statement beside one that refuses a transaction
// block (see Script.Alone).
type Alone string

const (
	// AloneOneQuery: the tool sends the script as one query (golang-migrate without x-multi-statement,
	// dbmate's transaction:false), which PostgreSQL runs as one implicit transaction once it holds two
	// statements, where CREATE INDEX CONCURRENTLY and its kind fail (SQLSTATE 25001).
	AloneOneQuery Alone = "one-query"
	// AloneFlyway: Flyway runs the script outside a transaction because each of its statements must
	// run so, and refuses one that mixes such statements with others while neither flyway.mixed nor the
	// script's .conf (executeInTransaction) says otherwise.
	AloneFlyway Alone = "flyway"
)

// Empty reports whether the script holds no statement.
func (s *Script) Empty() bool { return s == nil || len(s.Statements) == 0 }

// Migration is one versioned (or repeatable) change to a database schema.
type Migration struct {
	// Version orders migrations; its form is the format's own (a number, a timestamp, a dotted Flyway
	// version, a sqitch change name). Compare with the order of Set.Migrations, not by string.
	Version string
	// Name is the human part of the file name or the sqitch change's note-less name.
	Name string
	Up   *Script
	// Down undoes Up; nil when the migration has none.
	Down *Script
	// External names what runs a migration whose SQL is not in the folder: ExternalGo for a goose Go
	// migration. Its Up holds no statement (Up.SQL is the Go source, for the checksum), and it has no
	// Down: schemagate can neither rehearse nor deploy it, and says so.
	External string
	// Verify is a sqitch verify script; nil for other formats.
	Verify *Script
	// NoTransaction is set when the tool that owns the format would run Up outside a transaction
	// (goose "NO TRANSACTION", dbmate "transaction:false", sql-migrate "notransaction").
	NoTransaction bool
	// PerStatement is set when the tool sends each statement of the migration as a query of its own,
	// outside any transaction but the script's own BEGIN … COMMIT (golang-migrate with
	// x-multi-statement, see Options.MultiStatement), as psql runs sqitch scripts and plain folders: each
	// statement commits by itself even when NoTransaction is not set (the rehearsal and the deploy may
	// still run such a script in one transaction, which succeeds alike: see inferAutocommit).
	PerStatement bool
	// Repeatable marks Flyway R__ migrations, re-applied whenever their checksum changes.
	Repeatable bool
	// Requires lists sqitch dependencies.
	Requires []string
	// Plan is a sqitch change's line in its plan, from which sqitch derives the change's ID; nil for the
	// other formats.
	Plan *PlanEntry
	// KeyedByFile is set when the owning tool records an applied migration by its up file's name, which
	// Key then is: sql-migrate writes the file's base name ("2_pets.sql") to gorp_migrations.id and plans
	// by it, so a renamed file is another migration to it, and two files of one number are two.
	KeyedByFile bool
	// Rework counts the times a sqitch change was planned before this instance of it (0 for its first;
	// a reworked change is planned again after a tag). Key tells the instances apart by it, since
	// their Version moves with each rework (the older scripts are renamed name@tag).
	Rework int
	// EnvSub is set when a goose file turns on "-- +goose ENVSUB ON": goose substitutes ${VAR}
	// references from its environment before running the SQL, and so does Read (see subst.go); the
	// scripts' Source keeps the text as written.
	EnvSub bool
	// Checksum is a SHA-256 of the migration's scripts, stable across reads; deploys compare it.
	Checksum string
}

// PlanEntry is a sqitch change's line in sqitch.plan. sqitch identifies a deployed change by an ID, a
// SHA-1 of the change's project, URI, name, planner, date, dependencies and note, and of the ID of the
// change planned before it (App::Sqitch::Plan::Change info): a database records the IDs of the changes
// it deployed, and sqitch deploy fails ("Cannot find change <id> in sqitch.plan") when the plan no
// longer yields the last one. Tags are not part of it.
type PlanEntry struct {
	// File is the plan, relative to the migration folder; Line the change's line in it.
	File string
	Line int
	// Info is what sqitch hashes of the line itself, the parent's ID aside.
	Info string
	// Parent is the Key of the change planned right before it; "" for the plan's first change.
	Parent string
}

// SamePlanEntry tells whether sqitch gives m and o, the same change at two commits, the same ID: their
// plan lines read alike and the same change is planned right before each. Always true for the other
// formats.
func (m *Migration) SamePlanEntry(o *Migration) bool {
	if m.Plan == nil || o.Plan == nil {
		return true
	}
	return m.Plan.Info == o.Plan.Info && m.Plan.Parent == o.Plan.Parent
}

// ID is a stable identifier for messages: "version_name".
func (m *Migration) ID() string {
	switch {
	case m.Version == "" && m.Name == "" && m.Repeatable:
		// A Flyway repeatable migration with an empty description (R__.sql): named by its key, so
		// that messages and the deploy history name something.
		return m.Key()
	case m.Version == "":
		return m.Name // a Flyway repeatable migration
	case m.Name == "" || m.Version == m.Name || strings.HasPrefix(m.Version, m.Name+"@"):
		return m.Version // a sqitch change, versioned by its own name
	}
	return m.Version + "_" + m.Name
}

// Key identifies the migration within its set, the same from one commit of the folder to the next:
// its version; "R__" and the name for a Flyway repeatable migration, which has none (Flyway versions
// are numbers, so the two never meet); for a sqitch change the change's name, and for the instances a
// rework added name#2, name#3... (sqitch names no change with a #). A sqitch change's Version does
// not do: a rework renames the older scripts, and the instance that was "users" becomes "users@v1.0".
// For a migration KeyedByFile (sql-migrate) it is its up file's base name, "2_pets.sql", what the tool
// records: its Version does not do either, for a new file of the same number that sorts first takes it.
// Deploy history records the key, and check --base matches the folder with its base ref by it.
func (m *Migration) Key() string {
	switch {
	case m.KeyedByFile && m.Up != nil && m.Up.File != "":
		return path.Base(m.Up.File)
	case m.Repeatable:
		return "R__" + m.Name
	case m.Rework > 0:
		return m.Name + "#" + strconv.Itoa(m.Rework+1)
	case m.Name != "" && strings.HasPrefix(m.Version, m.Name+"@"):
		return m.Name // the first instance of a reworked sqitch change
	}
	return m.Version
}

// Files lists the files the migration is made of.
func (m *Migration) Files() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range []*Script{m.Up, m.Down, m.Verify} {
		if s != nil && !seen[s.File] {
			seen[s.File] = true
			out = append(out, s.File)
		}
	}
	return out
}

// computeChecksum fills Checksum from the scripts' text.
func (m *Migration) computeChecksum() {
	m.Checksum = m.checksum(func(s string) string { return s })
}

// ChecksumMatches tells whether a checksum recorded for this migration (by an earlier deploy) stands for
// the same text: the same bytes, or the same text with other line endings. A checkout with
// core.autocrlf (a Windows runner) turns every LF into CRLF without changing the migration.
//
// Trailing blank space aside too (see sameTextForm): the recorded text may have ended with a newline
// or without one, before the blank lines it has now.
//
// For a Flyway folder, only what Flyway's checksum leaves out too: line endings and line breaks at the
// end, never blank space within a line (see FlywayChecksum).
func (m *Migration) ChecksumMatches(recorded string) bool {
	if recorded == m.Checksum || slices.Contains(m.ChecksumForms()[1:], recorded) {
		return true
	}
	return slices.ContainsFunc(m.endForms(), func(form func(string) string) bool { return recorded == m.checksum(form) })
}

// endForms are the forms of a script's text that a recorded checksum may have been taken of, when the
// file's end changed since: its end trimmed as the folder's tool reads it (sameTextForm, or for a
// Flyway folder flywayTrimmed), and that ending in one newline, as most files end.
func (m *Migration) endForms() []func(string) string {
	trim := sameTextForm
	if m.flyway() {
		trim = flywayTrimmed
	}
	return []func(string) string{trim, func(s string) string { return trim(s) + "\n" }}
}

// flyway tells whether the migration is read from a Flyway folder.
func (m *Migration) flyway() bool { return m.Up != nil && m.Up.flyway }

// flywayTrimmed is a script's text with LF line endings and no line break at its end: Flyway's checksum
// is the same for any number of them, but not for blank space before them.
func flywayTrimmed(s string) string {
	return strings.TrimRight(strings.ReplaceAll(strings.TrimPrefix(s, "\uFEFF"), "\r\n", "\n"), "\r\n")
}

// SameText tells whether two migrations hold the same text, line endings and a byte order mark aside
// (a checkout with core.autocrlf changes both, not the migration).
//
// For a Flyway folder each script is compared as SameScript does, as Flyway's checksum reads it.
func (m *Migration) SameText(o *Migration) bool {
	if m.Checksum == o.Checksum {
		return true
	}
	if m.flyway() && o.flyway() {
		return SameScript(m.Up, o.Up) && SameScript(m.Down, o.Down) && SameScript(m.Verify, o.Verify)
	}
	return m.checksum(sameTextForm) == o.checksum(sameTextForm)
}

// sameTextForm is a script's text with its line endings, byte order mark and trailing blank space
// aside. Blank lines at a script's end change nothing any tool sends (Flyway's checksum leaves empty
// lines out too), and a section of a file gains one when another section follows it: goose's template
// puts a blank line before -- +goose Down, so adding a down to an applied migration must not read as
// an edit of its up. A Flyway folder's scripts are compared as Flyway's checksum reads them instead
// (flywayForm), which counts blank space at the end of a line.
func sameTextForm(s string) string {
	return strings.TrimRight(strings.ReplaceAll(strings.TrimPrefix(s, "\uFEFF"), "\r\n", "\n"), " \t\n")
}

// SameScript tells whether two scripts (either may be nil) hold the same text as SameText reads it.
// Two scripts of a Flyway folder are the same when they hold the same lines but for empty ones (see
// flywayForm): then Flyway's checksum is the same, and its validate takes one for the other.
func SameScript(a, b *Script) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.flyway && b.flyway {
		return flywayForm(a.text()) == flywayForm(b.text())
	}
	return sameTextForm(a.text()) == sameTextForm(b.text())
}

// FlywayChecksum is the checksum Flyway records in flyway_schema_history for a script and compares on
// validate: a CRC-32 of the UTF-8 bytes of each line of the file, without its line break, as a signed
// 32-bit number (flyway-core ChecksumCalculator.calculateChecksumForResource: a BufferedReader's
// readLine, which ends a line at \n, \r or \r\n and yields no line after a final break, the first line
// rid of a byte order mark by BomFilter, then crc32.update(line.getBytes(UTF_8)) and (int)
// crc32.getValue()). Lines are not trimmed, so blank space within a line counts; an empty line adds
// no byte, so an empty line inserted anywhere, or line breaks added at the end, change nothing. text
// is the file as written, before placeholders.
func FlywayChecksum(text string) int32 {
	return int32(crc32.ChecksumIEEE([]byte(strings.NewReplacer("\r", "", "\n", "").Replace(strings.TrimPrefix(text, "\uFEFF")))))
}

// flywayForm is a script's lines as Flyway's checksum reads them (see FlywayChecksum), its empty lines
// left out, one a line: two scripts of the same form have the same checksum. It keeps the lines apart,
// which the checksum does not: a line split in two ("-- note DROP TABLE t;" made "-- note" and "DROP
// TABLE t;") keeps Flyway's checksum but not what a new database runs, and stays an edit; comparing
// the text rather than the CRC also leaves no collision to take an edit for the applied text.
func flywayForm(s string) string {
	lines := strings.FieldsFunc(strings.TrimPrefix(s, "\uFEFF"), func(r rune) bool { return r == '\r' || r == '\n' })
	return strings.Join(lines, "\n")
}

// text is what the checksum covers: the script as written (Source) when it differs from the SQL run.
func (s *Script) text() string {
	if s.Source != "" {
		return s.Source
	}
	if s.bom {
		return strings.TrimPrefix(s.SQL, "\uFEFF")
	}
	return s.SQL
}

// UpChecksum is a SHA-256 of the up script's text alone. Deploy history records it beside Checksum: a
// migration whose up is as applied has not drifted when only its down or verify script changed since
// (a fixed down is what a later rollback should run), as golang-migrate, goose, Flyway and sqitch see it.
// For a Flyway folder it is a SHA-256 of the up's flywayForm: the up is as applied when Flyway's
// validate takes it for the applied one (empty lines and line endings aside).
func (m *Migration) UpChecksum() string {
	if m.flyway() {
		return upChecksum(m.Up, flywayForm)
	}
	return upChecksum(m.Up, func(s string) string { return s })
}

// UpChecksumMatches is ChecksumMatches for UpChecksum: the same up text, line endings and trailing
// blank space aside. For a Flyway folder, UpChecksum's own form, or, for a row recorded before it
// was (the up's text as written), the same text but for line endings and line breaks at the end.
func (m *Migration) UpChecksumMatches(recorded string) bool {
	if recorded == "" {
		return false
	}
	same := func(s string) string { return s }
	lf := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
	crlf := func(s string) string { return strings.ReplaceAll(lf(s), "\n", "\r\n") }
	if recorded == m.UpChecksum() || recorded == upChecksum(m.Up, same) || recorded == upChecksum(m.Up, lf) || recorded == upChecksum(m.Up, crlf) {
		return true
	}
	return slices.ContainsFunc(m.endForms(), func(form func(string) string) bool { return recorded == upChecksum(m.Up, form) })
}

func upChecksum(s *Script, form func(string) string) string {
	h := sha256.New()
	if s != nil {
		h.Write([]byte(form(s.text())))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ChecksumForms are the checksums of the migration's text as it is, with LF line endings and with CRLF
// line endings, in that order (see ChecksumMatches).
func (m *Migration) ChecksumForms() []string {
	lf := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
	crlf := func(s string) string { return strings.ReplaceAll(lf(s), "\n", "\r\n") }
	return []string{m.Checksum, m.checksum(lf), m.checksum(crlf)}
}

// checksum hashes the scripts' text as written, after form.
func (m *Migration) checksum(form func(string) string) string {
	h := sha256.New()
	for _, s := range []*Script{m.Up, m.Down, m.Verify} {
		if s == nil {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte(form(s.text())))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Set is the ordered content of a migration folder.
type Set struct {
	Format     Format
	Migrations []*Migration
	// Project is the project a sqitch plan names (%project=...), which sqitch's registry records with
	// each change; empty for the other formats.
	Project string
	// Warnings are problems that do not stop a read: files ignored because they fit no pattern of the
	// format, migrations that do nothing.
	Warnings []*Error
	// Schemas are the schemas the tool creates, those that do not exist, before it runs migrations, in
	// this order (Flyway: defaultSchema, then flyway.schemas; none with createSchemas=false). Names as
	// configured, unquoted (they are case-sensitive). Nil for the other formats.
	Schemas []string
	// SearchPath is what the tool puts in front of the connection's search_path before each migration
	// (its up, undo, and repeatable scripts alike): a quoted identifier ("app"); empty when it leaves the
	// search path alone. Flyway sets search_path to SearchPath followed by the connection's own
	// search_path, unless that already starts with the schema or the schema does not exist.
	SearchPath string
	// OutOfOrder is set when the tool applies a new migration that sorts before the last one a database
	// has applied (Flyway's outOfOrder); false for the formats whose tools have no such setting.
	OutOfOrder bool
	// NoValidate is set when the tool migrates without first validating the migrations databases
	// applied against the folder (Flyway's validateOnMigrate=false): it then goes on past a changed
	// checksum or description, a migration missing from the folder, and one it never applies (see
	// FlywayPasses). False for the formats whose tools have no such setting.
	NoValidate bool
	// IgnorePatterns are Flyway's ignoreMigrationPatterns (default *:future): the migrations its
	// validation lets pass, by kind and state. Nil for the other formats.
	IgnorePatterns []ValidatePattern
	// Options are the tool's settings the folder was read with (golang-migrate's x-multi-statement):
	// another commit of the folder is read with the same.
	Options Options
	// Plan lists, in plan order, every change line of a sqitch plan that reads, whether or not the
	// change's scripts do (a change without its deploy script is no migration, but it is planned): a
	// plan that does not read as a whole is still known as far as its lines read. Nil for the other
	// formats.
	Plan []*PlannedChange
}

// ValidatePattern is one of Flyway's ignoreMigrationPatterns: a kind of migration (versioned,
// repeatable) and a state (missing, pending, ignored, future), in lower case, "*" for any.
type ValidatePattern struct{ Type, State string }

// String is the pattern as written in Flyway's configuration: *:missing.
func (p ValidatePattern) String() string { return p.Type + ":" + p.State }

// FlywayPasses tells whether Flyway's migrate goes on past a migration (repeatable or versioned) in the
// given state of its validation, and why: "missing" (applied, no longer in the folder; an applied
// versioned migration above every version of the folder is "future" instead), "ignored" (in the
// folder, not applied, below the latest applied version, outOfOrder off), "future", or "" for a
// migration whose checksum or description changed since it was applied, which no pattern lets pass.
// why is "validateOnMigrate=false" or the pattern, "ignoreMigrationPatterns *:missing". False for the
// other formats.
func (s *Set) FlywayPasses(repeatable bool, state string) (ok bool, why string) {
	if s == nil || s.Format != FormatFlyway {
		return false, ""
	}
	if s.NoValidate {
		return true, "validateOnMigrate=false"
	}
	if state == "" {
		return false, ""
	}
	typ := "versioned"
	if repeatable {
		typ = "repeatable"
	}
	for _, p := range s.IgnorePatterns {
		if (p.Type == "*" || p.Type == typ) && (p.State == "*" || p.State == state) {
			return true, "ignoreMigrationPatterns " + p.String()
		}
	}
	return false, ""
}

// PlannedChange is a change line of a sqitch plan (see Set.Plan).
type PlannedChange struct {
	Name string
	// Rework counts the times the change was planned before this line (see Migration.Rework).
	Rework int
	// Requires and Conflicts are its dependencies as written, the conflicts without their !.
	Requires, Conflicts []string
	// Entry is the line, with what sqitch's change ID covers; Entry.Parent is the change read before
	// it.
	Entry PlanEntry
	// ParentUnread is set when a line that does not read as a change (a malformed one, a -change)
	// comes between the change and Entry.Parent: which change sqitch takes for its parent is not known.
	ParentUnread bool
}

// Key is the Key of the migration the change line is (name, or name#2 for its second instance).
func (c *PlannedChange) Key() string {
	return (&Migration{Version: c.Name, Name: c.Name, Rework: c.Rework}).Key()
}

// Find returns the migration whose Key is key (its version, for most migrations: see Key), or nil.
func (s *Set) Find(key string) *Migration {
	for _, m := range s.Migrations {
		if m.Key() == key {
			return m
		}
	}
	return nil
}

// Lookup finds the migration a user names on the command line: its version (for a reworked sqitch
// change, the name is its latest instance and name@tag an older one), its key (R__name for a Flyway
// repeatable, name#2 for a sqitch rework), its ID (version_name), its up file's name, or its version
// written with other leading zeros (0005 for 5). Nil when none matches.
func (s *Set) Lookup(name string) *Migration {
	for _, m := range s.Migrations {
		if !m.Repeatable && m.Version == name {
			return m
		}
	}
	if m := s.Find(name); m != nil {
		return m
	}
	for _, m := range s.Migrations {
		if m.ID() == name || (m.Up != nil && m.Up.File != "" && (path.Base(m.Up.File) == name || strings.TrimSuffix(strings.TrimSuffix(path.Base(m.Up.File), ".sql"), ".up") == name)) {
			return m
		}
	}
	if digits(name) {
		for _, m := range s.Migrations {
			if digits(m.Version) && strings.TrimLeft(m.Version, "0") == strings.TrimLeft(name, "0") {
				return m
			}
		}
	}
	return nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Error is a problem with a migration folder, positioned where possible.
type Error struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (hint: " + e.Hint + ")")
	}
	return b.String()
}
