package deploy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

// sqlMigrateFile is a sql-migrate migration creating table.
func sqlMigrateFile(table string) string {
	return fmt.Sprintf("-- +migrate Up\nCREATE TABLE %s (id int PRIMARY KEY);\n-- +migrate Down\nDROP TABLE %[1]s;\n", table)
}

// TestSQLMigrateLegacyKeysRekeyed: earlier releases recorded a sql-migrate migration under its Version
// (the number as written for the first file of a number, the file name without .sql for a later one);
// the key is now its file name, what sql-migrate records. A legacy row is the folder's file of that
// number with its checksum, even when a new file of the number that sorts first has taken the number
// as its version since; without a checksum match it is the file whose version the key is, as before.
func TestSQLMigrateLegacyKeysRekeyed(t *testing.T) {
	t.Parallel()
	set := readFolder(t, map[string]string{
		"01_init.sql": sqlMigrateFile("init"), "2_a_first.sql": sqlMigrateFile("first"),
		"2_pets.sql": sqlMigrateFile("pets"), "2_toys.sql": sqlMigrateFile("toys"),
	}, migrate.FormatSQLMigrate)
	sum := func(file string) string { return set.Find(file).Checksum }
	latest := []appliedRow{
		{Version: "01", Checksum: sum("01_init.sql"), Status: StatusApplied},
		// Recorded when 2_pets.sql was the first file of 2 and 2_toys.sql the second.
		{Version: "2", Checksum: sum("2_pets.sql"), Status: StatusApplied},
		{Version: "2_toys", Checksum: sum("2_toys.sql"), Status: StatusApplied},
	}
	var got []string
	for _, rk := range rekeyed(set, latest) {
		got = append(got, rk.from+"->"+rk.to)
	}
	if want := "01->01_init.sql 2->2_pets.sql 2_toys->2_toys.sql"; strings.Join(got, " ") != want {
		t.Errorf("rekeyed %q, want %q", got, want)
	}
	// The unapplied 2_a_first.sql sorts before the applied ones: that alone is drift, no edit.
	_, drift, _ := plan(set, latest)
	if len(drift) != 1 || !strings.Contains(drift[0], "2_a_first is not applied but sorts before applied 2_toys") {
		t.Errorf("drift %q, want only 2_a_first sorting before applied 2_toys", drift)
	}
	// An edited file is still the one the key names, and its edit drift.
	edited := []appliedRow{{Version: "2", Checksum: "other", Status: StatusApplied}}
	if rks := rekeyed(set, edited); len(rks) != 1 || rks[0].to != "2_a_first.sql" {
		t.Errorf("edited: rekeyed %+v, want the file whose version 2 is", rks)
	}
	if m := recordedMigration(set, "2_toys", sum("2_toys.sql")); m == nil || m.Up.File != "2_toys.sql" {
		t.Errorf("recordedMigration(2_toys) = %v", m)
	}
	if m := recordedMigration(set, "3", ""); m != nil {
		t.Errorf("recordedMigration(3) = %v, want none", m)
	}
}

// TestDeploySQLMigrateLegacyKeys: a database deployed by an earlier release holds sql-migrate migrations
// under their numbers; the next deploy recognises them, records them under their file names, and
// deploys only what is new. Once recorded by file name, a renamed applied file is drift, as sql-migrate
// would stop on it ("unknown migration in database").
func TestDeploySQLMigrateLegacyKeys(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := map[string]string{"1_init.sql": sqlMigrateFile("init"), "2_pets.sql": sqlMigrateFile("pets"), "2_toys.sql": sqlMigrateFile("toys")}
	o := tg.options(t, readFolder(t, files, migrate.FormatSQLMigrate), "run-1")
	o.Snapshotter = nil
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	// What an earlier release wrote.
	tg.exec(t, `UPDATE schemagate.schemagate_history SET version = CASE version WHEN '1_init.sql' THEN '1' WHEN '2_pets.sql' THEN '2'
		WHEN '2_toys.sql' THEN '2_toys' ELSE version END`)
	if got := tg.historyOf(t); got != "1:applied 2:applied 2_toys:applied" {
		t.Fatalf("legacy history %q", got)
	}
	o = tg.options(t, readFolder(t, with(files, map[string]string{"3_owners.sql": sqlMigrateFile("owners")}), migrate.FormatSQLMigrate), "run-2")
	o.Snapshotter = nil
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatalf("deploy: %v (drift %q)", err, res.Drift)
	}
	if got, want := statuses(res), "3:applied"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got, want := tg.historyOf(t), "1_init.sql:applied 2_pets.sql:applied 2_toys.sql:applied 3_owners.sql:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	renamed := with(files, map[string]string{"2_pets.sql": "", "2_add_pets.sql": files["2_pets.sql"], "3_owners.sql": sqlMigrateFile("owners")})
	delete(renamed, "2_pets.sql")
	o = tg.options(t, readFolder(t, renamed, migrate.FormatSQLMigrate), "run-3")
	o.Snapshotter = nil
	res, err = Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(strings.Join(res.Drift, "\n"), "version 2_pets.sql (pets) is applied but missing from the migration folder") {
		t.Errorf("renamed 2_pets.sql: err %v, drift %q; want blocked on 2_pets.sql", err, res.Drift)
	}
}
