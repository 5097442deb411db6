package schema

import (
	"slices"
	"strings"
	"testing"
)

// TestDatabaseSettingSentences: the database's own settings (ALTER DATABASE ... SET) compare as a role's
// do, each in a sentence of its own, after the down and after re-up.
func TestDatabaseSettingSentences(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	before.DatabaseSettings = []string{"search_path=app, public", "statement_timeout=5s"}
	after.DatabaseSettings = []string{"statement_timeout=1min", "work_mem=64MB"}
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"the database's setting search_path is not set after the down, was app, public",
		"the database's setting statement_timeout is 1min after the down, was 5s",
		"the database's setting work_mem is 64MB after the down, was not set",
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("after the down:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := Describe(Compare(after, before), ReUpPhrasing); !slices.Contains(got, "the database's setting work_mem is not set after re-up, was 64MB") || len(got) != 3 {
		t.Errorf("after re-up:\n%s", strings.Join(got, "\n"))
	}
	if d := Compare(before, before); !d.Empty() {
		t.Errorf("the same settings differ: %+v", d)
	}
}

// TestGenerateDownDatabaseSettings: a generated down sets again what the up changed or reset of the
// database's settings and resets what it set, in the database it runs in (current_database()): the
// rehearsal's database, its copy and production's are each named otherwise.
func TestGenerateDownDatabaseSettings(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	before.DatabaseSettings = []string{`search_path=app, "my app"`, "statement_timeout=5s"}
	after.DatabaseSettings = []string{"statement_timeout=1min", "work_mem=64MB"}
	d := GenerateDown(before, after)
	want := []string{
		`DO 'BEGIN EXECUTE format(''ALTER DATABASE %I '', current_database()) || ''SET search_path TO ''''app'''', ''''my app''''''; END';`,
		`DO 'BEGIN EXECUTE format(''ALTER DATABASE %I '', current_database()) || ''SET statement_timeout TO ''''5s''''''; END';`,
		`DO 'BEGIN EXECUTE format(''ALTER DATABASE %I '', current_database()) || ''RESET work_mem''; END';`,
	}
	for _, w := range want {
		if !strings.Contains(d.SQL, w) {
			t.Errorf("missing %s in:\n%s", w, d.SQL)
		}
	}
	if !d.Reversible() {
		t.Errorf("irreversible: %v", d.Warnings)
	}
	if d := GenerateDown(before, before); !d.Empty() {
		t.Errorf("a down for no change:\n%s", d.SQL)
	}
}

// databasePrivilege is a privilege on the database or a parameter as internal/pg reads it.
func databasePrivilege(object, on, grantee, privilege, held, initially string) *BuiltInPrivilege {
	return &BuiltInPrivilege{Object: object, On: on, Grantee: grantee, Privilege: privilege, Held: held, Initially: initially}
}

// TestDatabasePropertySentences: the database's privileges (one privilege of one grantee, against its
// owner's defaults), those on configuration parameters, its owner, comment and connection limit
// compare, each in a sentence of its own: an up that granted or set them with a down that did nothing
// passed its round trip.
func TestDatabasePropertySentences(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	before.User, after.User = "postgres", "postgres"
	before.DatabaseOwner, after.DatabaseOwner = "postgres", "app"
	after.DatabaseComment = "orders db"
	after.DatabaseConnectionLimit = "50"
	for _, p := range []*BuiltInPrivilege{
		databasePrivilege(databaseObjectName, databaseOn, "app_ro", "CONNECT", "granted", ""),
	} {
		before.BuiltInPrivileges[p.Key()] = p
	}
	for _, p := range []*BuiltInPrivilege{
		databasePrivilege(databaseObjectName, databaseOn, "app_rw", "CREATE", "granted", ""),
		databasePrivilege(databaseObjectName, databaseOn, "app_ro", "CONNECT", "granted with grant option", ""),
		databasePrivilege(databaseObjectName, databaseOn, "", "TEMPORARY", "", "granted"),
		databasePrivilege("parameter work_mem", "PARAMETER work_mem", "app_rw", "SET", "granted", ""),
	} {
		after.BuiltInPrivileges[p.Key()] = p
	}
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"privilege CREATE on the database to app_rw is left behind by the down",
		"privilege SET on parameter work_mem to app_rw is left behind by the down",
		"privilege TEMPORARY on the database to PUBLIC is not restored by the down",
		"privilege CONNECT on the database to app_ro is held with grant option after the down, was without grant option",
		`the database's comment is "orders db" after the down, was none`,
		"the database's connection limit is 50 after the down, was none",
		"the database's owner is app after the down, was postgres",
	}
	if !slices.Equal(got, want) {
		t.Errorf("after the down:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := Describe(Compare(after, before), ReUpPhrasing); !slices.Contains(got, "the database's connection limit is none after re-up, was 50") || len(got) != 7 {
		t.Errorf("after re-up:\n%s", strings.Join(got, "\n"))
	}
	if d := Compare(after, after); !d.Empty() {
		t.Errorf("the same database differs: %+v", d)
	}
	// A catalog not read from a server has no owner: no difference for that.
	owned := NewCatalog()
	owned.DatabaseOwner = "postgres"
	if d := Compare(NewCatalog(), owned); !d.Empty() {
		t.Errorf("an owner only one side knows differs: %s", Describe(d, DownPhrasing))
	}
}

// TestGenerateDownDatabaseProperties: a generated down revokes the privileges on the database and on
// parameters the up granted, grants those it revoked, and sets back the database's owner, comment and
// connection limit, in the database it runs in (current_database()).
func TestGenerateDownDatabaseProperties(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	before.User, after.User = "postgres", "postgres"
	before.DatabaseOwner, after.DatabaseOwner = "postgres", "app"
	before.DatabaseComment, after.DatabaseComment = "it's old", "orders db"
	after.DatabaseConnectionLimit = "50"
	for _, p := range []*BuiltInPrivilege{
		databasePrivilege(databaseObjectName, databaseOn, "app_rw", "CREATE", "granted", ""),
		databasePrivilege(databaseObjectName, databaseOn, "", "TEMPORARY", "", "granted"),
		databasePrivilege("parameter work_mem", "PARAMETER work_mem", "app_rw", "SET", "granted", ""),
	} {
		after.BuiltInPrivileges[p.Key()] = p
	}
	d := GenerateDown(before, after)
	want := []string{
		`DO 'BEGIN EXECUTE format(''ALTER DATABASE %I '', current_database()) || ''OWNER TO CURRENT_USER''; END';`,
		`DO 'BEGIN EXECUTE format(''ALTER DATABASE %I '', current_database()) || ''CONNECTION LIMIT -1''; END';`,
		`DO 'BEGIN EXECUTE format(''COMMENT ON DATABASE %I '', current_database()) || ''IS ''''it''''''''s old''''''; END';`,
		`DO 'BEGIN EXECUTE format(''REVOKE CREATE ON DATABASE %I '', current_database()) || ''FROM app_rw''; END';`,
		`DO 'BEGIN EXECUTE format(''GRANT TEMPORARY ON DATABASE %I '', current_database()) || ''TO PUBLIC''; END';`,
		`REVOKE SET ON PARAMETER work_mem FROM app_rw;`,
	}
	for _, w := range want {
		if !strings.Contains(d.SQL, w) {
			t.Errorf("missing %s in:\n%s", w, d.SQL)
		}
	}
	if !d.Reversible() {
		t.Errorf("irreversible: %v", d.Warnings)
	}
	if d := GenerateDown(after, after); !d.Empty() {
		t.Errorf("a down for no change:\n%s", d.SQL)
	}
}

// TestDatabaseFlagSentences: the database's IS_TEMPLATE and ALLOW_CONNECTIONS (pg_database.datistemplate,
// datallowconn) compare, each in a sentence that names it: an up that ran ALTER DATABASE ... IS_TEMPLATE
// true with a down that did nothing passed its round trip.
func TestDatabaseFlagSentences(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	after.DatabaseIsTemplate = true
	after.DatabaseConnectionsDisallowed = true
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"the database's ALLOW_CONNECTIONS is false after the down, was true",
		"the database's IS_TEMPLATE is true after the down, was false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("after the down:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = Describe(Compare(after, before), ReUpPhrasing)
	want = []string{
		"the database's ALLOW_CONNECTIONS is true after re-up, was false",
		"the database's IS_TEMPLATE is false after re-up, was true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("after re-up:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := Compare(after, after); !d.Empty() {
		t.Errorf("the same database differs: %+v", d)
	}
}

// TestGenerateDownDatabaseFlags: a generated down sets back the IS_TEMPLATE the up changed, and the
// ALLOW_CONNECTIONS it turned off, in the database it runs in (current_database()); connections the up
// allowed cannot be disallowed from inside the database (PostgreSQL refuses), which the down says.
func TestGenerateDownDatabaseFlags(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	after.DatabaseIsTemplate = true
	after.DatabaseConnectionsDisallowed = true
	d := GenerateDown(before, after)
	for _, w := range []string{
		`DO 'BEGIN EXECUTE format(''ALTER DATABASE %I '', current_database()) || ''IS_TEMPLATE false''; END';`,
		`DO 'BEGIN EXECUTE format(''ALTER DATABASE %I '', current_database()) || ''ALLOW_CONNECTIONS true''; END';`,
	} {
		if !strings.Contains(d.SQL, w) {
			t.Errorf("missing %s in:\n%s", w, d.SQL)
		}
	}
	if !d.Reversible() {
		t.Errorf("irreversible: %v", d.Warnings)
	}
	d = GenerateDown(after, before)
	if w := `DO 'BEGIN EXECUTE format(''ALTER DATABASE %I '', current_database()) || ''IS_TEMPLATE true''; END';`; !strings.Contains(d.SQL, w) {
		t.Errorf("missing %s in:\n%s", w, d.SQL)
	}
	if d.Reversible() || strings.Contains(d.SQL, "''ALLOW_CONNECTIONS") {
		t.Errorf("a down that disallows connections from inside the database: reversible %v, warnings %v:\n%s", d.Reversible(), d.Warnings, d.SQL)
	}
	if d := GenerateDown(after, after); !d.Empty() {
		t.Errorf("a down for no change:\n%s", d.SQL)
	}
}
