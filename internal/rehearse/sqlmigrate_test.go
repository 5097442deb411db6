package rehearse_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// sqlMigrateUp is a sql-migrate file creating table.
func sqlMigrateUp(table string) string {
	return fmt.Sprintf("-- +migrate Up\nCREATE TABLE %s (id bigint PRIMARY KEY);\n-- +migrate Down\nDROP TABLE %[1]s;\n", table)
}

// rehearseAgainst rehearses set against base, returning the report and the progress lines.
func rehearseAgainst(t *testing.T, set, base *migrate.Set) (*report.Report, []string) {
	t.Helper()
	var progress []string
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: base, Provider: provider(t),
		Progress: func(format string, args ...any) { progress = append(progress, fmt.Sprintf(format, args...)) }})
	if err != nil {
		t.Fatal(err)
	}
	return rep, progress
}

// byFile lists the report's migrations as file:status:new, and their history findings by file.
func byFile(rep *report.Report) (string, map[string][]string) {
	var got []string
	findings := map[string][]string{}
	for _, m := range rep.Migrations {
		got = append(got, fmt.Sprintf("%s:%s:%v", m.File, m.Status, m.New))
		for _, f := range m.Findings {
			if f.Source == "history" {
				findings[m.File] = append(findings[m.File], f.Rule+" "+f.Risk.String()+": "+f.Message)
			}
		}
	}
	return strings.Join(got, " "), findings
}

// TestSQLMigrateNewFileSortingFirst: sql-migrate knows an applied migration by its file name. A change
// that adds 1_a.sql to a base with 1_b.sql (which sorts after it, and used to lose the number 1 to it)
// leaves 1_b.sql history, unchanged, and 1_a.sql new, out of order: sql-migrate's plan catches up on it
// on a database at 1_b.sql, after 1_b.sql, as the rehearsal runs it (its finding, dangerous, says that
// schemagate deploy refuses it).
func TestSQLMigrateNewFileSortingFirst(t *testing.T) {
	base := folderOf(t, migrate.FormatSQLMigrate, map[string]string{"1_b.sql": sqlMigrateUp("b")})
	set := folderOf(t, migrate.FormatSQLMigrate, map[string]string{"1_a.sql": sqlMigrateUp("a"), "1_b.sql": sqlMigrateUp("b")})
	sp := rehearse.SplitHistory(set, base)
	if len(sp.History) != 1 || sp.History[0].Up.File != "1_b.sql" || len(sp.Fresh) != 1 || sp.Fresh[0].Up.File != "1_a.sql" || len(sp.Edited) != 0 || len(sp.Deleted) != 0 {
		t.Fatalf("history %v, new %v, edited %v, deleted %v; want 1_b.sql history and 1_a.sql new", sp.History, sp.Fresh, sp.Edited, sp.Deleted)
	}
	rep, progress := rehearseAgainst(t, set, base)
	if want := "2 migrations: 1 history, 1 new"; len(progress) == 0 || progress[0] != want {
		t.Errorf("progress %q, want it to start %q", progress, want)
	}
	got, findings := byFile(rep)
	if want := "1_a.sql:applied:true 1_b.sql:base:false"; got != want {
		t.Fatalf("migrations %q, want %q", got, want)
	}
	if f := findings["1_a.sql"]; len(f) != 1 || !strings.HasPrefix(f[0], "out-of-order-migration dangerous: new migration 1_a sorts before 1_b") ||
		!strings.Contains(f[0], "sql-migrate's up applies it all the same") || !strings.Contains(f[0], "schemagate deploy refuses it") {
		t.Errorf("1_a.sql: %q, want one out-of-order-migration finding saying that sql-migrate applies it", f)
	}
	if f := findings["1_b.sql"]; len(f) != 0 {
		t.Errorf("1_b.sql is unchanged: %q", f)
	}
}

// TestSQLMigrateRenamedFile: renaming an applied sql-migrate file, even with its number and text, makes
// another migration of it to sql-migrate, whose plan then stops on the old name in gorp_migrations
// ("unknown migration in database"): the old file is a deleted applied migration, replayed by the
// history, and the new one is new (it fails, as sql-migrate would run it again with ignoreunknown).
func TestSQLMigrateRenamedFile(t *testing.T) {
	base := folderOf(t, migrate.FormatSQLMigrate, map[string]string{"1_init.sql": sqlMigrateUp("init"), "2_pets.sql": sqlMigrateUp("pets")})
	set := folderOf(t, migrate.FormatSQLMigrate, map[string]string{"1_init.sql": sqlMigrateUp("init"), "2_add_pets.sql": sqlMigrateUp("pets")})
	rep, progress := rehearseAgainst(t, set, base)
	want := "2 migrations, and 1 deleted since the base: 2 history to replay (1 unchanged, 1 deleted, as the base has it), 1 new to rehearse; the change: 1 added, 0 edited, 1 deleted"
	if len(progress) == 0 || progress[0] != want || !slices.Contains(progress, "replaying 2 history migrations") {
		t.Errorf("progress %q, want it to start %q and replay 2 history migrations", progress, want)
	}
	got, findings := byFile(rep)
	if want := "1_init.sql:base:false 2_add_pets.sql:failed:true 2_pets.sql:failed:true"; got != want {
		t.Fatalf("migrations %q, want %q", got, want)
	}
	if rep.OK {
		t.Error("report OK with a renamed applied migration")
	}
	f := findings["2_pets.sql"]
	if len(f) != 1 || !strings.HasPrefix(f[0], "deleted-applied-migration dangerous: migration 2_pets is at the base and was renamed to 2_add_pets.sql") ||
		!strings.Contains(f[0], `"Unable to create migration plan because of 2_pets.sql: unknown migration in database"`) || !strings.Contains(f[0], "ignoreunknown") {
		t.Errorf("2_pets.sql: %q, want one deleted-applied-migration finding on the rename", f)
	}
	for _, m := range rep.Migrations {
		switch m.File {
		case "2_pets.sql":
			if m.Error == nil || m.Error.Phase != "edit" || !strings.HasPrefix(m.Error.Message, "renamed to 2_add_pets.sql after the base applied it") {
				t.Errorf("2_pets.sql error %+v", m.Error)
			}
		case "2_add_pets.sql":
			// The history replayed 2_pets.sql: its table exists, as on databases that applied it.
			if m.Error == nil || !strings.Contains(m.Error.Message, "already exists") {
				t.Errorf("2_add_pets.sql error %+v, want the table that 2_pets.sql made", m.Error)
			}
		}
	}
	// Deleted outright, the file is reported the same way, without a rename.
	gone := folderOf(t, migrate.FormatSQLMigrate, map[string]string{"1_init.sql": sqlMigrateUp("init")})
	entry := rehearse.SplitHistory(gone, base).DeletedEntry(base.Find("2_pets.sql"))
	if len(entry.Findings) != 1 || !strings.HasPrefix(entry.Findings[0].Message, "migration 2_pets is at the base but was deleted") ||
		!strings.Contains(entry.Findings[0].Message, "unknown migration in database") || strings.Contains(entry.Findings[0].Message, "renamed") {
		t.Errorf("deleted 2_pets.sql: %+v", entry.Findings)
	}
}

// TestDbmateOutOfOrderIsDangerous: dbmate applies a new migration that sorts before the base's last one
// after it, and the rehearsal runs it so; but schemagate deploy refuses the folder once it is merged
// (an unapplied migration before an applied one is drift to its plan). The finding used to be a caution,
// so `check --base` passed (exit 0 with the default --fail-on never) and the gate asked no one, and the
// deploy after the merge was blocked; it is dangerous now, as for golang-migrate.
func TestDbmateOutOfOrderIsDangerous(t *testing.T) {
	up := func(table string) string {
		return fmt.Sprintf("-- migrate:up\nCREATE TABLE %s (id bigint PRIMARY KEY);\n-- migrate:down\nDROP TABLE %[1]s;\n", table)
	}
	base := folderOf(t, migrate.FormatDbmate, map[string]string{"20240301000000_orders.sql": up("orders")})
	set := folderOf(t, migrate.FormatDbmate, map[string]string{"20240215000000_invoices.sql": up("invoices"), "20240301000000_orders.sql": up("orders")})
	rep, _ := rehearseAgainst(t, set, base)
	got, findings := byFile(rep)
	if want := "20240215000000_invoices.sql:applied:true 20240301000000_orders.sql:base:false"; got != want {
		t.Fatalf("migrations %q, want %q", got, want)
	}
	if f := findings["20240215000000_invoices.sql"]; len(f) != 1 || !strings.HasPrefix(f[0], "out-of-order-migration dangerous: new migration 20240215000000_invoices sorts before 20240301000000_orders") ||
		!strings.Contains(f[0], "schemagate deploy refuses it") {
		t.Errorf("20240215000000_invoices.sql: %q, want one dangerous out-of-order-migration finding saying that schemagate deploy refuses it", f)
	}
	if rep.Risk != lint.Dangerous {
		t.Errorf("the report's risk is %s, want dangerous", rep.Risk)
	}
}
