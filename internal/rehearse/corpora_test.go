package rehearse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestMain points testcontainers at 127.0.0.1 and checks every incremental catalog read against a full
// one (see pgtest.Main).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const corpora = "../../testdata/corpora"

// corpusOutcome is what a folder's SQL deserves: per migration "status/roundtrip", in order.
type corpusOutcome struct {
	format   migrate.Format
	outcomes []string
	// problem is a text every failed round trip's problems must contain.
	problem string
}

var corpusOutcomes = map[string]corpusOutcome{
	// The CONCURRENTLY index sits alone in its file: golang-migrate sends the file as one query, so
	// it runs outside a transaction and succeeds, as it does under golang-migrate.
	"golang-migrate-examples": {migrate.FormatGolangMigrate, []string{
		"applied/ok", "applied/ok", "applied/ok", "applied/ok", "applied/ok",
		"applied/no-down", "applied/no-down", "applied/no-down", "applied/no-down"}, ""},
	// 00002's down deletes the rows its up inserted but not the sequence values they used: the
	// re-up inserts owners with new ids and its hard-coded foreign keys no longer match.
	"goose-testdata": {migrate.FormatGoose, []string{
		"applied/ok", "applied/failed", "applied/ok", "applied/no-down", "applied/ok", "applied/ok"},
		"violates foreign key constraint"},
	"openfga": {migrate.FormatGoose, []string{
		"applied/ok", "applied/ok", "applied/ok", "applied/ok", "applied/ok", "applied/ok"}, ""},
	"dbmate-testdata": {migrate.FormatDbmate, []string{"applied/ok", "applied/ok"}, ""},
	"kestra":          {migrate.FormatFlyway, repeat("applied/no-down", 26), ""},
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func corpusDir(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(corpora, name)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("corpus %s: %v", name, err)
	}
	return dir
}

func checkOutcome(t *testing.T, rep *report.Report, want corpusOutcome) {
	t.Helper()
	var got []string
	for _, m := range rep.Migrations {
		rt := "-"
		if m.Roundtrip != nil {
			rt = m.Roundtrip.Status
		}
		got = append(got, m.Status+"/"+rt)
		if rt == report.RoundtripFailed && !containsAll(m.Roundtrip.Problems, want.problem) {
			t.Errorf("%s: round-trip problems %q lack %q", m.Label(), m.Roundtrip.Problems, want.problem)
		}
		if m.Status == report.StatusApplied && m.DurationMS < 0 {
			t.Errorf("%s: negative duration", m.Label())
		}
	}
	if strings.Join(got, " ") != strings.Join(want.outcomes, " ") {
		t.Errorf("outcomes\n got %v\nwant %v", got, want.outcomes)
	}
	wantOK := !strings.Contains(strings.Join(want.outcomes, " "), "failed")
	if rep.OK != wantOK {
		t.Errorf("report OK = %v, want %v", rep.OK, wantOK)
	}
}

func rehearseWith(t *testing.T, p sandbox.Provider, dir string, format migrate.Format) *report.Report {
	t.Helper()
	set := readDir(t, dir, migrate.FormatAuto)
	if set.Format != format {
		t.Fatalf("%s detected as %s, want %s", dir, set.Format, format)
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: p, Dir: dir, Lint: lint.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestCorpora rehearses the public migration folders with the local provider.
func TestCorpora(t *testing.T) {
	p := provider(t)
	for name, want := range corpusOutcomes {
		t.Run(name, func(t *testing.T) {
			checkOutcome(t, rehearseWith(t, p, corpusDir(t, name), want.format), want)
		})
	}
}

// formatDirs are folders in testdata/formats, one per format, each the same small schema written the
// way its tool wants it (transaction directives, StatementBegin/End, sqitch's own BEGIN/COMMIT, U files).
var formatDirs = map[string]corpusOutcome{
	"golang-migrate": {migrate.FormatGolangMigrate, repeat("applied/ok", 2), ""},
	"goose":          {migrate.FormatGoose, repeat("applied/ok", 2), ""},
	"dbmate":         {migrate.FormatDbmate, repeat("applied/ok", 2), ""},
	"flyway":         {migrate.FormatFlyway, repeat("applied/ok", 2), ""},
	"sqitch":         {migrate.FormatSqitch, repeat("applied/ok", 2), ""},
	"sql-migrate":    {migrate.FormatSQLMigrate, repeat("applied/ok", 3), ""},
	"plain":          {migrate.FormatPlain, repeat("applied/no-down", 3), ""},
	"atlas":          {migrate.FormatAtlas, repeat("applied/no-down", 3), ""},
}

func TestFormats(t *testing.T) {
	p := provider(t)
	for name, want := range formatDirs {
		t.Run(name, func(t *testing.T) {
			checkOutcome(t, rehearseWith(t, p, filepath.Join("testdata/formats", name), want.format), want)
		})
	}
}

// TestSqitchOwnTransactions: sqitch scripts carry BEGIN/COMMIT. Inside the rehearsal's transaction they
// must not commit half way, or a failed round trip could not be rolled back: here the second change's
// revert forgets a table, the round trip fails, and the third change still applies on the after-up state.
func TestSqitchOwnTransactions(t *testing.T) {
	rep := rehearseWith(t, provider(t), "testdata/sqitch-bad-revert", migrate.FormatSqitch)
	checkOutcome(t, rep, corpusOutcome{outcomes: []string{"applied/ok", "applied/failed", "applied/ok"}, problem: "customer_audit"})
}

// dockerProvider returns the docker provider on a locally built image, failing under CI=true when
// Docker or the image is missing (scripts/setup-machine.sh builds them).
func dockerProvider(t *testing.T, version int) sandbox.Provider {
	t.Helper()
	image := fmt.Sprintf("schemagate/postgres:%d", version)
	if !sandbox.DockerAvailable(context.Background()) {
		pgtest.Unavailable(t, "no Docker daemon answers (run scripts/setup-machine.sh)")
	}
	return sandbox.NewDocker(sandbox.Options{Image: image, PGVersion: version})
}

// TestCorporaDocker rehearses the same folders in containers: every corpus on PostgreSQL 15, and every
// format folder on PostgreSQL 17 (a second major version).
func TestCorporaDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no containers")
	}
	t.Run("pg15", func(t *testing.T) {
		p := dockerProvider(t, 15)
		for name, want := range corpusOutcomes {
			t.Run(name, func(t *testing.T) {
				rep := rehearseWith(t, p, corpusDir(t, name), want.format)
				if !strings.HasPrefix(rep.Database.ServerVersion, "15") {
					t.Errorf("server version %s, want 15.x", rep.Database.ServerVersion)
				}
				checkOutcome(t, rep, want)
			})
		}
	})
	t.Run("pg17", func(t *testing.T) {
		p := dockerProvider(t, 17)
		for name, want := range formatDirs {
			t.Run(name, func(t *testing.T) {
				rep := rehearseWith(t, p, filepath.Join("testdata/formats", name), want.format)
				if !strings.HasPrefix(rep.Database.ServerVersion, "17") {
					t.Errorf("server version %s, want 17.x", rep.Database.ServerVersion)
				}
				checkOutcome(t, rep, want)
			})
		}
	})
}

// TestIncrementalMatchesWholeReads rehearses each corpus twice: as a rehearsal runs (catalog read
// incrementally, tracer state carried from one migration to the next) and with WholeReads (everything
// read again at every step). Both must report the same: statuses, round trips, findings, traces
// (durations aside) and schema diffs. The generated history adds indexes, checks and foreign keys, so
// tables are scanned in both the migrations and the round trips between them.
func TestIncrementalMatchesWholeReads(t *testing.T) {
	t.Setenv("SCHEMAGATE_INSPECT", "incremental") // TestMain's verify mode would make both runs whole
	p := provider(t)
	dirs := map[string]string{"generated": generateHistory(t, 40)}
	for name := range corpusOutcomes {
		dirs[name] = corpusDir(t, name)
	}
	for name := range formatDirs {
		dirs["formats/"+name] = filepath.Join("testdata", "formats", name)
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			set := readDir(t, dir, migrate.FormatAuto)
			var got [2]string
			traced := 0
			for i, whole := range []bool{false, true} {
				rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: p, Dir: dir, WholeReads: whole})
				if err != nil {
					t.Fatal(err)
				}
				for j := range rep.Migrations {
					m := &rep.Migrations[j]
					m.DurationMS = 0
					polled := map[[2]int]bool{}
					for k := range m.Trace {
						tr := &m.Trace[k]
						tr.DurationMS = 0
						if tr.Concurrent {
							// Locks of a statement run outside a transaction are polled from a second
							// connection: a build that takes 2 ms may or may not be seen holding one.
							tr.Locks = nil
							polled[[2]int{tr.Line, tr.Column}] = true
						}
						if len(tr.Locks) > 0 {
							traced++
						}
					}
					kept := m.Findings[:0]
					for _, f := range m.Findings {
						if polled[[2]int{f.Line, f.Column}] {
							if f.Source == "dynamic" {
								continue // drawn from the polled locks alone
							}
							f.Lock, f.Source = "", "" // a static finding the polled locks may confirm
						}
						kept = append(kept, f)
					}
					if len(kept) < len(m.Findings) && m.Status == report.StatusApplied {
						m.Risk = lint.Highest(kept) // as the rehearsal rates an applied migration
					}
					m.Findings = kept
				}
				b, err := json.MarshalIndent(rep.Migrations, "", " ")
				if err != nil {
					t.Fatal(err)
				}
				got[i] = string(b)
			}
			if got[0] != got[1] {
				t.Fatalf("incremental rehearsal differs from one with whole reads:\n%s", firstDifference(got[1], got[0]))
			}
			if traced == 0 {
				t.Fatal("no statement traced any lock: the comparison proves nothing")
			}
		})
	}
}

// firstDifference shows the lines around the first line where got differs from want.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) && i < len(g); i++ {
		if w[i] != g[i] {
			from := max(0, i-8)
			return fmt.Sprintf("whole reads, lines %d-:\n%s\nincremental:\n%s", from+1,
				strings.Join(w[from:min(len(w), i+4)], "\n"), strings.Join(g[from:min(len(g), i+4)], "\n"))
		}
	}
	return fmt.Sprintf("lengths differ: %d lines with whole reads, %d incremental", len(w), len(g))
}
