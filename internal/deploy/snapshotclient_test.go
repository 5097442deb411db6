package deploy

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// TestDeploySnapshotClientOfTheServerVersion: the deploy's snapshot is taken by the client of the
// server's major version, which the progress output and the result name. This machine has PostgreSQL
// 15's client only: a deploy to a 15 server snapshots with it; one to a 17 server is blocked before
// anything changed, naming the server's version and the clients found, with a hint saying what to
// install or set. Before, pg_dump 15 ran against 17 and failed with "server version mismatch", whose
// hint (set snapshot.pg_bin to a newer client) the image's users could not act on.
func TestDeploySnapshotClientOfTheServerVersion(t *testing.T) {
	t.Parallel()
	clients := snapshot.ClientsUnder(snapshot.DebianClientRoot)
	if len(clients) == 0 {
		pgtest.Unavailable(t, "no PostgreSQL client in %s/<version>/bin", snapshot.DebianClientRoot)
	}
	newest := clients[len(clients)-1]
	if newest.Major >= 17 {
		t.Skipf("this machine has the PostgreSQL %d client: nothing here is older than the 17 server", newest.Major)
	}

	t.Run("15", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t)
		major := tg.value(t, "SELECT (current_setting('server_version_num')::int / 10000)::text")
		o := tg.options(t, folder(t, goodMigrations), "run-client")
		var progress []string
		o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
		res, err := Run(t.Context(), o)
		if err != nil || res.Outcome != OutcomeDeployed {
			t.Fatalf("deploy: %v, outcome %s", err, res.Outcome)
		}
		if res.Snapshot == nil || !strings.HasPrefix(res.Snapshot.ClientVersion, major+".") {
			t.Fatalf("snapshot of a %s server: %+v", major, res.Snapshot)
		}
		want := "by pg_dump " + res.Snapshot.ClientVersion + " (" + res.Snapshot.Client + ") for PostgreSQL " + res.Snapshot.ServerVersion
		if !strings.Contains(strings.Join(progress, "\n"), want) {
			t.Errorf("progress does not say %q:\n%s", want, strings.Join(progress, "\n"))
		}
	})

	t.Run("17", func(t *testing.T) {
		t.Parallel()
		tg := newTargetAt(t, pgtest.TCPServerVersion(t, 17).URL)
		before := tg.checksums(t)
		o := tg.options(t, folder(t, goodMigrations), "run-client")
		var progress []string
		o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
		res, err := Run(t.Context(), o)
		var b *Blocked
		if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
			t.Fatalf("deploy to a 17 server with the clients of %d and older: err %v, outcome %s; want blocked", newest.Major, err, res.Outcome)
		}
		for _, want := range []string{"PostgreSQL 17", strconv.Itoa(newest.Major) + " (" + newest.Dir + ")", "nothing was changed"} {
			if !strings.Contains(res.Reason, want) {
				t.Errorf("reason %q does not say %q", res.Reason, want)
			}
		}
		for _, want := range []string{"postgresql-client-17", "snapshot.pg_bin", "snapshot.kind: command"} {
			if !strings.Contains(res.Hint, want) {
				t.Errorf("hint %q does not say %q", res.Hint, want)
			}
		}
		tg.nothingChanged(t, res, before)
		neverInMaintenance(t, res, progress)
	})
}

// TestDeploySnapshotClientMissingBeforeMaintenance: a snapshot.pg_bin without pg_dump, pg_restore and
// psql blocks the deploy in its preflight, before it records a run or turns maintenance mode on: the
// application never went into maintenance mode for a deploy that could not start. Before, the client was
// looked for only when the snapshot was taken, after maintenance mode had gone on (and off again).
func TestDeploySnapshotClientMissingBeforeMaintenance(t *testing.T) {
	t.Parallel()
	for _, beforeMaintenance := range []bool{false, true} {
		t.Run("before_maintenance="+strconv.FormatBool(beforeMaintenance), func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			o := tg.options(t, folder(t, goodMigrations), "run-nobin")
			o.Config.Snapshot.BeforeMaintenance = beforeMaintenance
			o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: t.TempDir(), Bin: t.TempDir(), ExcludeSchemas: []string{"schemagate"}}
			var progress []string
			o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
			res, err := Run(t.Context(), o)
			var b *Blocked
			if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
				t.Fatalf("deploy with a snapshot.pg_bin holding no pg_dump: err %v, outcome %s; want blocked", err, res.Outcome)
			}
			for _, want := range []string{"pg_dump", "nothing was changed"} {
				if !strings.Contains(res.Reason, want) {
					t.Errorf("reason %q does not say %q", res.Reason, want)
				}
			}
			if !strings.Contains(res.Hint, "snapshot.pg_bin") {
				t.Errorf("hint %q does not say snapshot.pg_bin", res.Hint)
			}
			if got := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_runs"); got != "0" {
				t.Errorf("%s runs recorded, want none: the deploy should stop before recording its run", got)
			}
			if after := tg.checksums(t); after != before {
				t.Error("database changed")
			}
			neverInMaintenance(t, res, progress)
		})
	}
}

// neverInMaintenance fails t unless the deploy whose result and progress these are never turned
// maintenance mode on.
func neverInMaintenance(t *testing.T, res *Result, progress []string) {
	t.Helper()
	if res.Maintenance != nil {
		t.Errorf("maintenance mode was switched for a deploy that could not start: %+v", *res.Maintenance)
	}
	for _, msg := range progress {
		if strings.Contains(msg, "maintenance mode on") {
			t.Errorf("progress says %q for a deploy that could not start", msg)
		}
	}
}
