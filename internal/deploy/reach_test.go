package deploy

import (
	"strings"
	"sync"
	"testing"

	"github.com/schemagate/schemagate/internal/snapshot"
)

// TestDeployDownThatEmptiesAReachedTableRestoresSnapshot: a down that empties a table the run created
// counted as safe (the table held no row before the run), and the rollback ran it, although the
// emptying reached tables from before the run: TRUNCATE ... CASCADE empties the tables whose foreign
// keys reference it (also those a new partition has of its parents, which the database had before the
// run), a DELETE those whose foreign keys cascade, and both the partitions and children the run
// attached. The rollback now restores the snapshot, and the rows of those tables survive; a down that
// unties them first still runs.
func TestDeployDownThatEmptiesAReachedTableRestoresSnapshot(t *testing.T) {
	t.Parallel()
	const partitioned = `CREATE TABLE events (id int PRIMARY KEY, at int) PARTITION BY RANGE (id);
		CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100);
		INSERT INTO events SELECT g, g FROM generate_series(1, 50) g;
		CREATE TABLE event_notes (event_id int REFERENCES events, note text);
		INSERT INTO event_notes SELECT g, 'n' || g FROM generate_series(1, 50) g;
		CREATE TABLE old_events (id int NOT NULL, at int);
		INSERT INTO old_events SELECT g, g FROM generate_series(1, 40) g;
		CREATE TABLE "a.events" (id int PRIMARY KEY) PARTITION BY RANGE (id);
		CREATE TABLE "a.events_1" PARTITION OF "a.events" FOR VALUES FROM (0) TO (100);
		INSERT INTO "a.events" SELECT g FROM generate_series(1, 50) g;
		CREATE TABLE "a.notes" (event_id int REFERENCES "a.events", note text);
		INSERT INTO "a.notes" SELECT g, 'n' || g FROM generate_series(1, 50) g;`
	tests := []struct {
		name     string
		up, down string
		method   string
		why      string
	}{
		{name: "TRUNCATE ... CASCADE of a table the up referenced",
			up:     "CREATE TABLE tags (id int PRIMARY KEY);\nINSERT INTO tags VALUES (1);\nALTER TABLE orders ADD COLUMN tag_id int REFERENCES tags;",
			down:   "TRUNCATE tags CASCADE;\nALTER TABLE orders DROP COLUMN tag_id;\nDROP TABLE tags;",
			method: "snapshot", why: "the down of 5_x would lose data: 5_x.down.sql:1 empties tags with CASCADE, which also empties orders (it references tags), a table from before the run"},
		{name: "the referencing column dropped first",
			up:     "CREATE TABLE tags (id int PRIMARY KEY);\nINSERT INTO tags VALUES (1);\nALTER TABLE orders ADD COLUMN tag_id int REFERENCES tags;",
			down:   "ALTER TABLE orders DROP COLUMN tag_id;\nTRUNCATE tags CASCADE;\nDROP TABLE tags;",
			method: "down"},
		{name: "DELETE of a table an ON DELETE CASCADE key references",
			up:     "CREATE TABLE tags (id int PRIMARY KEY);\nINSERT INTO tags VALUES (1);\nALTER TABLE orders ADD COLUMN tag_id int DEFAULT 1 REFERENCES tags ON DELETE CASCADE;",
			down:   "DELETE FROM tags;\nALTER TABLE orders DROP COLUMN tag_id;\nDROP TABLE tags;",
			method: "snapshot", why: "5_x.down.sql:1 empties tags, which also deletes rows of orders (its foreign key to tags is ON DELETE CASCADE), a table from before the run"},
		{name: "TRUNCATE ... CASCADE of a new partition of a table the database references",
			up:     "CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (100) TO (200);\nINSERT INTO events VALUES (150, 1);",
			down:   "TRUNCATE events_2 CASCADE;\nALTER TABLE events DETACH PARTITION events_2;\nDROP TABLE events_2;",
			method: "snapshot", why: "5_x.down.sql:1 empties events_2 with CASCADE, which also empties event_notes (it references events), a table from before the run"},
		// A name holding a dot is read from the database as a whole: "a.events", not table events of schema a.
		{name: "TRUNCATE ... CASCADE of a new partition of a table with a dot in its name",
			up:     `CREATE TABLE "a.events_2" PARTITION OF "a.events" FOR VALUES FROM (100) TO (200);` + "\n" + `INSERT INTO "a.events" VALUES (150);`,
			down:   `TRUNCATE "a.events_2" CASCADE;` + "\n" + `ALTER TABLE "a.events" DETACH PARTITION "a.events_2";` + "\n" + `DROP TABLE "a.events_2";`,
			method: "snapshot", why: `5_x.down.sql:1 empties "a.events_2" with CASCADE, which also empties "a.notes" (it references "a.events"), a table from before the run`},
		{name: "a new partition detached before the TRUNCATE ... CASCADE",
			up:     "CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (100) TO (200);\nINSERT INTO events VALUES (150, 1);",
			down:   "ALTER TABLE events DETACH PARTITION events_2;\nTRUNCATE events_2 CASCADE;\nDROP TABLE events_2;",
			method: "down"},
		{name: "a partition detached before the DELETE",
			up:     "CREATE TABLE all_events (id int NOT NULL, at int) PARTITION BY RANGE (id);\nALTER TABLE all_events ATTACH PARTITION old_events FOR VALUES FROM (0) TO (100);",
			down:   "ALTER TABLE all_events DETACH PARTITION old_events;\nDELETE FROM all_events;\nDROP TABLE all_events;",
			method: "down"},
		{name: "DELETE of a partitioned table the up attached a table to",
			up:     "CREATE TABLE all_events (id int NOT NULL, at int) PARTITION BY RANGE (id);\nALTER TABLE all_events ATTACH PARTITION old_events FOR VALUES FROM (0) TO (100);",
			down:   "DELETE FROM all_events;\nALTER TABLE all_events DETACH PARTITION old_events;\nDROP TABLE all_events;",
			method: "snapshot", why: "5_x.down.sql:1 empties all_events, which also empties old_events (a partition of all_events), a table from before the run"},
		{name: "TRUNCATE of an inheritance parent the up gave a child",
			up:     "CREATE TABLE base (id int NOT NULL, at int);\nALTER TABLE old_events INHERIT base;",
			down:   "TRUNCATE base;\nALTER TABLE old_events NO INHERIT base;\nDROP TABLE base;",
			method: "snapshot", why: "5_x.down.sql:1 empties base, which also empties old_events (a child of base by inheritance), a table from before the run"},
		{name: "DELETE FROM ONLY an inheritance parent",
			up:     "CREATE TABLE base (id int NOT NULL, at int);\nALTER TABLE old_events INHERIT base;",
			down:   "DELETE FROM ONLY base;\nALTER TABLE old_events NO INHERIT base;\nDROP TABLE base;",
			method: "down"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, partitioned)
			rows := func() string {
				return tg.value(t, `SELECT (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM event_notes) || ' ' || (SELECT count(*) FROM old_events) || ' ' || (SELECT count(*) FROM "a.notes") || ' ' ||
					(SELECT md5(string_agg(o::text, '|' ORDER BY o.id)) FROM orders o)`)
			}
			before, sums := rows(), tg.checksums(t)
			set := folder(t, map[string]string{
				"5_x.up.sql": tc.up, "5_x.down.sql": tc.down,
				"6_fail.up.sql": "SELECT 1 / 0;", "6_fail.down.sql": "SELECT 1;",
			})
			res, err := Run(t.Context(), tg.options(t, set, "run-reach"))
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			rb := res.Rollback
			if res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != tc.method || !rb.OK || !strings.Contains(rb.Why, tc.why) {
				t.Fatalf("outcome %s, rollback %+v; want rolled back by %s because %q", res.Outcome, rb, tc.method, tc.why)
			}
			// The rows of the tables from before the run are all there.
			if after := rows(); after != before {
				t.Errorf("rows of orders, event_notes, old_events, \"a.notes\": %s before, %s after the rollback", before, after)
			}
			if after := tg.checksums(t); after != sums {
				t.Errorf("database differs after rollback:\n%s\n---\n%s", sums, after)
			}
			want := map[string]string{"down": "5:rolled-back 6:failed", "snapshot": "5:restored 6:failed"}[tc.method]
			if got := tg.historyOf(t); got != want {
				t.Errorf("history %q, want %q", got, want)
			}
		})
	}
}

// TestDeployKeepsTheForeignKeysReadBeforeTheRun: what readCascades read of the foreign keys that reference
// a table from before the run is kept in the run's row (before_run), for the --recover of a run that
// dies: by then a partition the up created has its parents' keys, and its drop would take them.
func TestDeployKeepsTheForeignKeysReadBeforeTheRun(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, `CREATE TABLE events (id int PRIMARY KEY) PARTITION BY RANGE (id);
		CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100);
		CREATE TABLE event_notes (event_id int REFERENCES events ON DELETE SET NULL, note text);`)
	set := folder(t, map[string]string{
		"5_x.up.sql": "CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (100) TO (200);", "5_x.down.sql": "TRUNCATE events_2 CASCADE;\nDROP TABLE events_2;",
		"6_x.up.sql": "DELETE FROM events_1 WHERE id > 90;", "6_x.down.sql": "SELECT 1;",
	})
	if _, err := Run(t.Context(), tg.options(t, set, "run-refs")); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	got := tg.value(t, `SELECT before_run->'cascades'->>'references public.events' || '|' || (before_run->'cascades'->>'references public.events_1')
		FROM schemagate.schemagate_runs WHERE run_id = 'run-refs'`)
	// events_1 has the keys of its parent events.
	if want := "public.event_notes\tn\tevent_id|public.event_notes\tn\tevent_id"; got != want {
		t.Errorf("before_run keeps %q, want %q", got, want)
	}
}

// TestDeployRecoverJudgesReachAsBeforeTheDeadRun: the --recover of a run that died judges what its downs
// reach by the foreign keys the dead run read before its first migration (before_run): the down of a
// migration that created a partition of a table other tables reference would empty them, and the
// recovery restores the snapshot instead, naming the table; the rows survive.
func TestDeployRecoverJudgesReachAsBeforeTheDeadRun(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, `CREATE TABLE events (id int PRIMARY KEY, at int) PARTITION BY RANGE (id);
		CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100);
		INSERT INTO events SELECT g, g FROM generate_series(1, 50) g;
		CREATE TABLE event_notes (event_id int REFERENCES events, note text);
		INSERT INTO event_notes SELECT g, 'n' || g FROM generate_series(1, 50) g;`)
	const (
		up   = "CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (100) TO (200);"
		down = "TRUNCATE events_2 CASCADE;\nALTER TABLE events DETACH PARTITION events_2;\nDROP TABLE events_2;"
	)
	dir, snaps := t.TempDir(), t.TempDir()
	writeFolder(t, dir, map[string]string{"1_x.up.sql": up, "1_x.down.sql": down, "2_sleep.up.sql": "SELECT pg_sleep(60);", "2_sleep.down.sql": "SELECT 1;"})
	startAndKill(t, tg.url, dir, []string{"SCHEMAGATE_TEST_SNAPDIR=" + snaps})
	if got := tg.historyOf(t); got != "1:applied 2:running" {
		t.Fatalf("history after the kill %q: the test proves nothing", got)
	}
	// The deploy after the recovery fails, so that its own rollback leaves the database as the recovery
	// left it.
	o := tg.options(t, folder(t, map[string]string{"1_x.up.sql": up, "1_x.down.sql": down, "2_sleep.up.sql": "SELECT 2;", "2_sleep.down.sql": "SELECT 1;",
		"3_fail.up.sql": "SELECT 1 / 0;", "3_fail.down.sql": "SELECT 1;"}), "run-recover")
	o.Snapshotter = &snapshot.PGDump{URL: tg.url, Dir: snaps, ExcludeSchemas: []string{"schemagate"}}
	o.Recover = true
	var mu sync.Mutex
	var said []string
	o.Progress = func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		said = append(said, msg)
	}
	res, err := Run(t.Context(), o)
	if err == nil {
		t.Fatal("the deploy after the recovery succeeded; its last migration divides by zero")
	}
	mu.Lock()
	progress := strings.Join(said, "\n")
	mu.Unlock()
	progress, _, _ = strings.Cut(progress, "\nmaintenance mode on") // what the recovery said, before the deploy that follows it
	want := "the down of 1_x would lose data: 1_x.down.sql:1 empties events_2 with CASCADE, which also empties event_notes (it references events), a table from before the run"
	if res.Recovered == nil || res.Recovered.Method != "snapshot" || !strings.Contains(progress, want) {
		t.Fatalf("recovery %+v, progress:\n%s\nwant the snapshot restored because %q", res.Recovered, progress, want)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM event_notes"); got != "50" {
		t.Errorf("event_notes has %s rows after the recovery, had 50", got)
	}
}
