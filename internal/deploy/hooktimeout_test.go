package deploy

import (
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/snapshot"
)

// TestDeploySnapshotHookSparedTheServersTimeouts: a role that the server gives a short
// idle_in_transaction_session_timeout (here in the deploy's database only) ended the session of a
// snapshot hook that stays in a transaction while it works (its psql running a shell command in between,
// as a hook's pg_dump holds its snapshot's transaction), and the snapshot failed, while the deploy's own
// sessions turn that timeout off. The hooks' sessions now get, in PGOPTIONS, the timeouts that end a
// session turned off, in front of the PGOPTIONS the hook has (its search_path stays).
func TestDeploySnapshotHookSparedTheServersTimeouts(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, "CREATE TABLE seen (v text)")
	db := tg.value(t, "SELECT current_database()")
	tg.exec(t, "ALTER ROLE CURRENT_USER IN DATABASE "+db+" SET idle_in_transaction_session_timeout = '200ms'")
	o := tg.options(t, folder(t, goodMigrations), "run-hook-timeouts")
	o.Snapshotter = &snapshot.Command{
		Take: `psql -X -q -v ON_ERROR_STOP=1 -d "$URL" -c "BEGIN" -c "\! sleep 1" ` +
			`-c "INSERT INTO public.seen SELECT current_setting('idle_in_transaction_session_timeout') || ' ' || current_setting('statement_timeout') || ' ' || current_setting('search_path')" ` +
			`-c "COMMIT" && echo snap-1`,
		Restore: "echo cannot restore >&2; exit 1",
		Env:     []string{"URL=" + tg.url, "PGOPTIONS=-c search_path=hook"},
		Timeout: time.Minute,
	}
	res, err := runBounded(t, o)
	if err != nil || res.Outcome != OutcomeDeployed {
		t.Fatalf("err %v, outcome %s; want deployed, the hook's snapshot taken", err, res.Outcome)
	}
	if got, want := tg.value(t, "SELECT string_agg(v, ',') FROM seen"), "0 0 hook"; got != want {
		t.Errorf("the snapshot hook's session had idle_in_transaction_session_timeout, statement_timeout and search_path %q, want %q", got, want)
	}
}
