package rehearse_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// TestOutOfOrderFailsAsDeployRefusesIt: a new migration that sorts before one the base applied is what
// schemagate deploy's plan calls drift ("is not applied but sorts before applied"), which its preflight
// refuses. Where the folder's tool never runs it there (golang-migrate only moves forward), the
// rehearsal fails it, as it does an edited applied migration, and does not run it; a later new
// migration is rehearsed without it. Where the tool applies it after the later ones (Flyway with
// outOfOrder=true), it is rehearsed so, and its finding says that schemagate deploy refuses it.
func TestOutOfOrderFailsAsDeployRefusesIt(t *testing.T) {
	unsetFlywayEnv(t)
	gmBase := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id bigint);\n", "5_e.up.sql": "CREATE TABLE e (id bigint);\n"})
	gmSet := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id bigint);\n", "3_c.up.sql": "CREATE TABLE c (id bigint);\n",
		"5_e.up.sql": "CREATE TABLE e (id bigint);\n", "6_f.up.sql": "CREATE TABLE f (id bigint);\n"})
	rep, progress := rehearseAgainst(t, gmSet, gmBase)
	got, findings := byFile(rep)
	if want := "1_a.up.sql:base:false 3_c.up.sql:failed:true 5_e.up.sql:base:false 6_f.up.sql:applied:true"; got != want {
		t.Fatalf("migrations %q, want %q\nprogress %q", got, want, progress)
	}
	if rep.OK {
		t.Error("report OK with a migration golang-migrate never runs and schemagate deploy refuses")
	}
	m := migration(t, rep, "3")
	if m.Error == nil || m.Error.Phase != "order" || !strings.Contains(m.Error.Message, "schemagate deploy refuses it") || m.DurationMS != 0 {
		t.Errorf("3_c error %+v, want it refused and not run", m.Error)
	}
	if f := findings["3_c.up.sql"]; len(f) != 1 || !strings.Contains(f[0], "golang-migrate only moves forward, so it never applies it there") ||
		!strings.Contains(f[0], "schemagate deploy refuses it") {
		t.Errorf("3_c: %q, want one finding saying golang-migrate never applies it and schemagate deploy refuses it", f)
	}
	if s := m.Findings[0].Suggestion; s != "rename it to sort after 5_e.up.sql, the last migration the base applied" {
		t.Errorf("3_c suggestion %q", s)
	}

	base := folderOf(t, migrate.FormatFlyway, map[string]string{"flyway.conf": "flyway.outOfOrder=true\n",
		"V1__a.sql": "CREATE TABLE a (id bigint);\n", "V5__e.sql": "CREATE TABLE e (id bigint);\n"})
	set := folderOf(t, migrate.FormatFlyway, map[string]string{"flyway.conf": "flyway.outOfOrder=true\n",
		"V1__a.sql": "CREATE TABLE a (id bigint);\n", "V3__c.sql": "CREATE TABLE c (id bigint);\n",
		"V5__e.sql": "CREATE TABLE e (id bigint);\n", "V6__f.sql": "CREATE TABLE f (id bigint);\n"})
	rep, progress = rehearseAgainst(t, set, base)
	got, findings = byFile(rep)
	if want := "V1__a.sql:base:false V3__c.sql:applied:true V5__e.sql:base:false V6__f.sql:applied:true"; got != want {
		t.Fatalf("Flyway with outOfOrder: migrations %q, want %q\nprogress %q", got, want, progress)
	}
	if f := findings["V3__c.sql"]; len(f) != 1 || !strings.Contains(f[0], "outOfOrder is on, so Flyway's migrate applies it there, after 5_e") ||
		!strings.Contains(f[0], "schemagate deploy refuses it") {
		t.Errorf("V3: %q, want one finding saying Flyway applies it and schemagate deploy refuses it", f)
	}
}

// TestOutOfOrderMessageNamesDeploy: whatever the folder's tool does with a new migration below the
// base's last one, the finding says that, and that schemagate deploy refuses it; the migration fails
// where the tool does not apply it.
func TestOutOfOrderMessageNamesDeploy(t *testing.T) {
	unsetFlywayEnv(t)
	atlas := func(files map[string]string) map[string]string {
		files["atlas.sum"] = migrate.AtlasSum(files)
		return files
	}
	for _, tc := range []struct {
		format    migrate.Format
		base, cur map[string]string
		key, says string
	}{
		{migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": "SELECT 1;\n", "5_e.up.sql": "SELECT 5;\n"},
			map[string]string{"1_a.up.sql": "SELECT 1;\n", "3_c.up.sql": "SELECT 3;\n", "5_e.up.sql": "SELECT 5;\n"}, "3", "golang-migrate only moves forward"},
		{migrate.FormatGoose, map[string]string{"1_a.sql": "-- +goose Up\nSELECT 1;\n", "5_e.sql": "-- +goose Up\nSELECT 5;\n"},
			map[string]string{"1_a.sql": "-- +goose Up\nSELECT 1;\n", "3_c.sql": "-- +goose Up\nSELECT 3;\n", "5_e.sql": "-- +goose Up\nSELECT 5;\n"}, "3", "goose refuses it as a missing migration"},
		{migrate.FormatDbmate, map[string]string{"20240101000001_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n", "20240101000005_e.sql": "-- migrate:up\nSELECT 5;\n-- migrate:down\n"},
			map[string]string{"20240101000001_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n", "20240101000003_c.sql": "-- migrate:up\nSELECT 3;\n-- migrate:down\n", "20240101000005_e.sql": "-- migrate:up\nSELECT 5;\n-- migrate:down\n"},
			"20240101000003", "it runs after 20240101000005_e there"},
		{migrate.FormatAtlas, atlas(map[string]string{"1_a.sql": "SELECT 1;\n", "5_e.sql": "SELECT 5;\n"}),
			atlas(map[string]string{"1_a.sql": "SELECT 1;\n", "3_c.sql": "SELECT 3;\n", "5_e.sql": "SELECT 5;\n"}), "3", "atlas migrate apply refuses to run it"},
		{migrate.FormatFlyway, map[string]string{"V1__a.sql": "SELECT 1;\n", "V5__e.sql": "SELECT 5;\n"},
			map[string]string{"V1__a.sql": "SELECT 1;\n", "V3__c.sql": "SELECT 3;\n", "V5__e.sql": "SELECT 5;\n"}, "3", "outOfOrder is off, so Flyway's migrate fails its validation"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			m := marked(folderOf(t, tc.format, tc.cur), folderOf(t, tc.format, tc.base))[tc.key]
			if len(m.Findings) != 1 || !strings.Contains(m.Findings[0].Message, tc.says) ||
				!strings.Contains(m.Findings[0].Message, "schemagate deploy refuses it, as it does any unapplied migration that sorts before an applied one") {
				t.Errorf("findings %+v, want one saying %q and that schemagate deploy refuses it", m.Findings, tc.says)
			}
			// dbmate applies it after the later ones, and the rehearsal runs it; the others never run it
			// there, or refuse to, and it fails.
			if applies := tc.format == migrate.FormatDbmate; applies != (m.Status != report.StatusFailed) {
				t.Errorf("%s, error %+v; want failed only where the tool does not apply it", m.Status, m.Error)
			}
		})
	}
}

// TestVersionTakenAtTheBase: two changes took the same next version, and the base has the other one:
// the folder's migration at that version is another migration (its file has another name), not an edit
// of the base's, and the finding says so, with the base's last migration to sort after.
func TestVersionTakenAtTheBase(t *testing.T) {
	base := folderOf(t, migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": "CREATE TABLE a (id bigint);\n", "2_b.up.sql": "CREATE TABLE b (id bigint);\n"})
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": "CREATE TABLE a (id bigint);\n", "2_c.up.sql": "CREATE TABLE c (id bigint);\n"})
	rep, _ := rehearseAgainst(t, set, base)
	m := migration(t, rep, "2")
	if m.Status != report.StatusFailed || rep.OK || len(m.Findings) != 1 {
		t.Fatalf("2_c: %s, findings %+v; want failed with one finding", m.Status, m.Findings)
	}
	f := m.Findings[0]
	if want := "version 2 is taken at the base by 2_b.up.sql: migration 2_c is another migration with the same version"; f.Rule != "edited-applied-migration" ||
		!strings.HasPrefix(f.Message, want) || strings.Contains(f.Message, "at the base with other text") {
		t.Errorf("finding %s: %q, want it to start %q", f.Rule, f.Message, want)
	}
	if want := "give this migration a version after the last one (the base's last is 2_b.up.sql)"; !strings.HasPrefix(f.Suggestion, want) {
		t.Errorf("suggestion %q, want it to start %q", f.Suggestion, want)
	}
	if e := m.Error; e == nil || !strings.HasPrefix(e.Message, "version 2 is taken at the base by 2_b.up.sql") {
		t.Errorf("error %+v", e)
	}
	// An edit of the base's own file is still an edit.
	edited := folderOf(t, migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": "CREATE TABLE a (id bigint);\n", "2_b.up.sql": "CREATE TABLE b2 (id bigint);\n"})
	if f := marked(edited, base)["2"].Findings; len(f) != 1 || !strings.Contains(f[0].Message, "migration 2_b is at the base with other text") ||
		f[0].Suggestion != "revert the edit and make the change in a new migration" {
		t.Errorf("edited 2_b: %s", fmt.Sprint(f))
	}
}
