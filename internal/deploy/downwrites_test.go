package deploy

import (
	"html"
	"strings"
	"testing"
)

// TestDeployDownsRefusedAfterOtherSessionsWrote: migration 1 (with a down) creates table events, or adds
// column orders.tracking; while migration 2 runs another session inserts into events, or sets tracking,
// and commits; migration 2 fails. The downs dropped the table or the column, the other session's write
// with it, and the run said rolled back (exit 3), nothing lost. The downs are now checked first, as a
// restore is: the tables whose rows or columns the downs destroy got other sessions' writes, so neither
// the downs run nor the snapshot is restored; the database is left as it is, the run fails (exit 1) and
// says which tables and why. The run's own writes (1_a's insert) do not count, nor another session's
// write to a table the downs leave alone or only alter without destroying data (a constraint dropped):
// the downs then roll back as before.
func TestDeployDownsRefusedAfterOtherSessionsWrote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, up, down string
		write          string // what another session commits while migration 2 runs
		table          string // the table the refusal names; "" when the downs must run
		check          string // true after the deploy when the write is still there
	}{
		{name: "insert into a created table", up: "CREATE TABLE events (id int, payload text);\nINSERT INTO events VALUES (0, 'the run''s own');",
			down: "DROP TABLE events;", write: "INSERT INTO events VALUES (1, 'paid')", table: "public.events",
			check: "SELECT (count(*) = 1)::text FROM events WHERE payload = 'paid'"},
		{name: "update of an added column", up: "ALTER TABLE orders ADD COLUMN tracking text;", down: "ALTER TABLE orders DROP COLUMN tracking;",
			write: "UPDATE orders SET tracking = 'X1' WHERE id = 17", table: "public.orders",
			check: "SELECT (tracking = 'X1')::text FROM orders WHERE id = 17"},
		{name: "own writes only", up: "CREATE TABLE events (id int, payload text);\nINSERT INTO events VALUES (0, 'the run''s own');",
			down: "DROP TABLE events;"},
		{name: "write to a table the downs only alter", up: "ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0);",
			down: "ALTER TABLE orders DROP CONSTRAINT total_positive;", write: "UPDATE orders SET note = 'paid' WHERE id = 17"},
		{name: "write to a table the downs leave alone", up: "CREATE TABLE events (id int, payload text);", down: "DROP TABLE events;",
			write: "UPDATE accounts SET name = 'renamed' WHERE id = 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			o := tg.options(t, folder(t, map[string]string{
				"1_a.up.sql":   tc.up,
				"1_a.down.sql": tc.down,
				"2_b.up.sql":   "CREATE TABLE b (id int);\nSELECT 1/0;",
				"2_b.down.sql": "DROP TABLE b;",
			}), "run-downwrites")
			tg.writeAt(t, &o, "applying 2/2", tc.write) // committed after the snapshot, before the failure
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			rb := res.Rollback
			if tc.table == "" {
				if res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != "down" || !rb.OK {
					t.Fatalf("outcome %s, rollback %+v; want the downs to roll back", res.Outcome, rb)
				}
				if got, want := tg.historyOf(t), "1:rolled-back 2:failed"; got != want {
					t.Errorf("history %q, want %q", got, want)
				}
				return
			}
			if res.Outcome != OutcomeFailed || rb == nil || rb.OK || !strings.Contains(rb.Error, "the down migrations were not run") ||
				!strings.Contains(rb.Error, "other sessions wrote to "+tc.table+" since the snapshot") {
				t.Fatalf("outcome %s, rollback %+v; want the downs refused for the other session's write to %s", res.Outcome, rb, tc.table)
			}
			if tg.value(t, tc.check) != "true" {
				t.Error("the other session's committed write is gone")
			}
			if got, want := tg.historyOf(t), "1:applied 2:failed"; got != want {
				t.Errorf("history %q, want %q", got, want)
			}
			if !strings.Contains(res.Hint, "1_a still applied") || !strings.Contains(strings.Join(res.Notes, "\n"), "NOT ROLLED BACK") {
				t.Errorf("hint %q, notes %q; want them to say what was not rolled back", res.Hint, res.Notes)
			}
			// No down ran: the report's Rollback line said "down in 5ms: FAILED: ...", as if a down had
			// run and failed. It says that the downs were not run, refused, and why.
			wantRollbackNotRun(t, res, "not run: the down migrations were refused (1 transaction of other sessions wrote to "+tc.table+" since the snapshot")
		})
	}
}

// wantRollbackNotRun checks that the text and Markdown reports' Rollback line starts with want, and does
// not call the rollback FAILED.
func wantRollbackNotRun(t *testing.T, res *Result, want string) {
	t.Helper()
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ what, out, start string }{
		{"text", b.String(), "Rollback:              "},
		{"Markdown", res.Markdown(), "| Rollback | "},
	} {
		_, line, ok := strings.Cut(r.out, r.start)
		line, _, _ = strings.Cut(line, "\n")
		line = html.UnescapeString(strings.ReplaceAll(line, "\\", "")) // the Markdown escapes punctuation, and quotes as &quot;
		if !ok || !strings.HasPrefix(line, want) || strings.Contains(line, "FAILED") {
			t.Errorf("%s report's Rollback line %q, want it to start %q, without FAILED", r.what, line, want)
		}
	}
}
