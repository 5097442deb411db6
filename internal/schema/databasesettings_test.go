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
