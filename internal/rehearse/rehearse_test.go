package rehearse_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// provider returns the local provider, failing under CI=true when the server binaries are missing.
func provider(t testing.TB) sandbox.Provider {
	t.Helper()
	p := sandbox.NewLocal(sandbox.Options{})
	inst, err := p.Start(context.Background())
	if err != nil {
		pgtest.Unavailable(t, "local PostgreSQL: %v", err)
	}
	inst.Close(context.Background())
	return p
}

func readDir(t testing.TB, dir string, format migrate.Format) *migrate.Set {
	t.Helper()
	set, err := migrate.Read(os.DirFS(dir), format)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return set
}

func rehearseDir(t *testing.T, dir string) *report.Report {
	t.Helper()
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: readDir(t, dir, migrate.FormatAuto), Provider: provider(t), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func migration(t *testing.T, rep *report.Report, version string) report.Migration {
	t.Helper()
	for _, m := range rep.Migrations {
		if m.Version == version {
			return m
		}
	}
	t.Fatalf("no migration %s in report", version)
	return report.Migration{}
}

func TestShopExample(t *testing.T) {
	rep := rehearseDir(t, "../../examples/shop")
	if !rep.OK {
		t.Fatalf("the shop example must rehearse cleanly: %+v", rep.Migrations)
	}
	for _, m := range rep.Migrations {
		if m.Status != report.StatusApplied || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s: status %s round trip %+v", m.Version, m.Status, m.Roundtrip)
		}
	}
	// 0004 builds an index on an existing table without CONCURRENTLY: dangerous, seen statically and by trace.
	m := migration(t, rep, "4")
	if m.Risk != lint.Dangerous {
		t.Errorf("0004 risk = %s, want dangerous (%+v)", m.Risk, m.Findings)
	}
	if len(m.Trace) != 1 || len(m.Trace[0].Locks) == 0 {
		t.Errorf("0004 trace has no locks: %+v", m.Trace)
	}
	if rep.Risk != lint.Dangerous {
		t.Errorf("report risk %s, want dangerous", rep.Risk)
	}
	if m := migration(t, rep, "3"); m.SchemaDiff.Empty() {
		t.Errorf("0003 adds a column but its schema diff is empty")
	}
}

func TestDownLeavesIndexBehind(t *testing.T) {
	rep := rehearseDir(t, "testdata/down-leaves-index")
	m := migration(t, rep, "2")
	if m.Roundtrip.Status != report.RoundtripFailed {
		t.Fatalf("round trip %+v, want failed", m.Roundtrip)
	}
	if !containsAll(m.Roundtrip.Problems, "users_email_idx", "left behind") {
		t.Fatalf("problems %q do not say the index is left behind", m.Roundtrip.Problems)
	}
	// The run goes on from the after-up state: migration 3 applies and round-trips.
	if m3 := migration(t, rep, "3"); m3.Status != report.StatusApplied || m3.Roundtrip.Status != report.RoundtripOK {
		t.Fatalf("migration 3 after a failed round trip: %+v", m3)
	}
	if rep.OK {
		t.Fatal("report OK despite a failed round trip")
	}
}

func TestDownFails(t *testing.T) {
	rep := rehearseDir(t, "testdata/down-fails")
	m := migration(t, rep, "1")
	e := m.Roundtrip.Error
	if m.Roundtrip.Status != report.RoundtripFailed || e == nil {
		t.Fatalf("round trip %+v, want failed with an error", m.Roundtrip)
	}
	if e.Phase != "down" || e.File != "1_users.down.sql" || e.Line != 2 || e.SQLState != "42P01" {
		t.Fatalf("down error %+v, want 1_users.down.sql:2 SQLSTATE 42P01 in phase down", e)
	}
	if m2 := migration(t, rep, "2"); m2.Status != report.StatusApplied {
		t.Fatalf("migration 2 must still run: %+v", m2)
	}
}

func TestReUpFails(t *testing.T) {
	rep := rehearseDir(t, "testdata/reup-fails")
	m := migration(t, rep, "1")
	e := m.Roundtrip.Error
	if e == nil || e.Phase != "re-up" || e.File != "1_users.up.sql" || e.Line != 2 || e.SQLState != "42P07" {
		t.Fatalf("re-up error %+v, want 1_users.up.sql:2 SQLSTATE 42P07", e)
	}
	if !containsAll(m.Roundtrip.Problems, "audit", "left behind") {
		t.Fatalf("problems %q do not name the table left behind", m.Roundtrip.Problems)
	}
}

func TestSyntaxErrorStopsTheRun(t *testing.T) {
	rep := rehearseDir(t, "testdata/syntax-error")
	m := migration(t, rep, "2")
	if m.Status != report.StatusFailed || m.Error == nil {
		t.Fatalf("migration 2: %+v, want failed", m)
	}
	if m.Error.File != "2_bad.up.sql" || m.Error.Line != 4 || m.Error.SQLState != "42601" {
		t.Fatalf("error %+v, want 2_bad.up.sql:4 SQLSTATE 42601", m.Error)
	}
	if m3 := migration(t, rep, "3"); m3.Status != report.StatusNotRun {
		t.Fatalf("migration 3 status %s, want not-run", m3.Status)
	}
	found := false
	for _, f := range m.Findings {
		if f.Rule == "parse-error" && f.Line == 4 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no parse-error finding at line 4: %+v", m.Findings)
	}
}

func TestConcurrentlyInTransaction(t *testing.T) {
	rep := rehearseDir(t, "testdata/concurrently-in-tx")
	m := migration(t, rep, "2")
	if m.Status != report.StatusFailed || m.Error.SQLState != "25001" || m.Error.Line != 3 || m.Error.File != "2_cic.up.sql" {
		t.Fatalf("migration 2: %+v / %+v, want failed at 2_cic.up.sql:3 SQLSTATE 25001", m, m.Error)
	}
}

func TestBaseMakesHistory(t *testing.T) {
	dir := "../../examples/shop"
	set := readDir(t, dir, migrate.FormatAuto)
	base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:3]}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: base, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, m := range rep.Migrations {
		statuses = append(statuses, m.Version+":"+m.Status)
		if m.New != (m.Version >= "4") {
			t.Errorf("%s new=%v", m.Version, m.New)
		}
	}
	want := "1:base 2:base 3:base 4:applied 5:applied"
	if got := strings.Join(statuses, " "); got != want {
		t.Fatalf("statuses %q, want %q", got, want)
	}
}

func containsAll(list []string, words ...string) bool {
	for _, s := range list {
		ok := true
		for _, w := range words {
			if !strings.Contains(s, w) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}
