package rehearse_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// smallDisk mounts a tmpfs of the given size (as mount -o size= takes it) for the local provider's
// instance folders, unmounted when the test ends, failed or not. Mounting needs root, which CI
// (.ci/run) has.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		pgtest.Unavailable(t, "mounting a small tmpfs for the server's data needs root")
	}
	dir, err := os.MkdirTemp("", "schemagate-smalldisk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	// mode=0755: the server runs as the postgres user, who must reach its instance folder in it.
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		pgtest.Unavailable(t, "mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("unmount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// wantDiskFull fails the test unless the run failed with the server's 53100 (disk full), naming the
// migrations it failed instead.
func wantDiskFull(t *testing.T, rep *report.Report, err error) {
	t.Helper()
	var pe *pgconn.PgError
	if err != nil && errors.As(err, &pe) && pe.Code == "53100" {
		return
	}
	var failed []string
	if rep != nil {
		for _, m := range rep.Migrations {
			if m.Status == report.StatusFailed {
				failed = append(failed, m.Version+": "+m.Error.Phase+": "+m.Error.Message)
			}
		}
	}
	t.Fatalf("run error %v, failed migrations %q; want the run to fail with the server's 53100", err, failed)
}

// TestDiskFullIsTheMachines: a migration whose statement fills the disk the throwaway server keeps its
// data on (SQLSTATE 53100, here a tmpfs of 160 MB) is not failed for it, as if its SQL were wrong
// (status failed, exit 3): the rehearsal stops as the tool's failure, naming what ran out, the
// statement's file:line, and the folder to free space in.
func TestDiskFullIsTheMachines(t *testing.T) {
	disk := smallDisk(t, "160m")
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_a.up.sql":   "CREATE TABLE a (id bigint);",
		"1_a.down.sql": "DROP TABLE a;",
		"2_big.up.sql": "CREATE TABLE big (id bigint, pad text);\n" +
			"INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 2000000) g;",
		"2_big.down.sql": "DROP TABLE big;",
	})
	prov := sandbox.NewLocal(sandbox.Options{WorkDir: disk})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Dir: "db", Provider: prov})
	wantDiskFull(t, rep, err)
	msg := err.Error()
	for _, want := range []string{"ran out of disk space at db/2_big.up.sql:2:1", "not a fault of the migration",
		"free space where the server keeps its data, " + disk + "/schemagate-pg-"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q; want it to say %q", msg, want)
		}
	}
	// The reports are written all the same, as for a server that stops answering: the migration under
	// way met it, saying it is the machine's lack and what to free; the later ones are not run.
	if rep == nil || len(rep.Migrations) != 2 {
		t.Fatalf("report %+v; want one of the two migrations", rep)
	}
	if m := rep.Migrations[0]; m.Status != report.StatusApplied {
		t.Errorf("1: %s; want applied", m.Status)
	}
	m := rep.Migrations[1]
	if m.Status != report.StatusFailed || m.Error == nil || m.Error.Line != 2 || m.Error.SQLState != "53100" ||
		!strings.HasPrefix(m.Error.Message, "the throwaway PostgreSQL ran out of disk space (the machine's lack, not a fault of the migration): ") ||
		!strings.Contains(m.Error.Hint, disk) {
		t.Errorf("2: %s %+v; want failed at line 2 with the machine's lack of disk space and where to free it", m.Status, m.Error)
	}
	if len(rep.Notes) == 0 || !strings.Contains(strings.Join(rep.Notes, "\n"), "ran out of disk space during") {
		t.Errorf("notes %q; want one saying the server ran out of disk space", rep.Notes)
	}
}

// TestDiskFullInVerifyIsTheMachines: a sqitch verify script that fills the disk the throwaway server
// keeps its data on (SQLSTATE 53100) meets the machine's lack as a deploy script does: the rehearsal
// stops as the tool's failure, naming what ran out at the verify script's file:line. It used to fail
// the change, as if its verify script had found the deploy wrong.
func TestDiskFullInVerifyIsTheMachines(t *testing.T) {
	disk := smallDisk(t, "160m")
	set := folderOf(t, migrate.FormatSqitch, map[string]string{
		"sqitch.conf": "[core]\n\tengine = pg\n",
		"sqitch.plan": "%syntax-version=1.0.0\n%project=p\n\n" +
			"a 2024-01-01T00:00:00Z Me <me@example.com> # a\n" +
			"big [a] 2024-01-01T00:01:00Z Me <me@example.com> # big\n",
		"deploy/a.sql":   "CREATE TABLE a (id bigint);\n",
		"revert/a.sql":   "DROP TABLE a;\n",
		"deploy/big.sql": "CREATE TABLE big (id bigint, pad text);\n",
		"revert/big.sql": "DROP TABLE big;\n",
		// The verify's transaction is rolled back, but its rows fill the disk first: those of a table it
		// creates, which wal_level=minimal does not write to the WAL (WAL that fills the disk stops the
		// server instead).
		"verify/big.sql": "CREATE TEMP TABLE pad AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 2000000) g;\n",
	})
	prov := sandbox.NewLocal(sandbox.Options{WorkDir: disk})
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Dir: "db", Provider: prov})
	wantDiskFull(t, rep, err)
	for _, want := range []string{"ran out of disk space at db/verify/big.sql:1:1", "not a fault of the migration"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q; want it to say %q", err, want)
		}
	}
	if rep == nil || len(rep.Migrations) != 2 {
		t.Fatalf("report %+v; want one of the two changes", rep)
	}
	m := rep.Migrations[1]
	if m.Status != report.StatusFailed || m.Error == nil || m.Error.Phase != "verify" || m.Error.File != "verify/big.sql" || m.Error.SQLState != "53100" ||
		!strings.HasPrefix(m.Error.Message, "the throwaway PostgreSQL ran out of disk space (the machine's lack, not a fault of the migration): ") ||
		!strings.Contains(m.Error.Hint, disk) {
		t.Errorf("big: %s %+v; want its verify failed with the machine's lack of disk space and where to free it", m.Status, m.Error)
	}
}
