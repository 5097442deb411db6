package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStatementLocks: the table locks a statement takes, as heldAfterTimeout looks for who held them. A
// data-modifying WITH clause (WITH u AS (UPDATE ...) SELECT ...) was taken for a read, so the holder of
// a lock that conflicts with its write but not with a read went unnamed (the last review's "left alone").
func TestStatementLocks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, sql string
		want      string // "table=mode" of each table it names
	}{
		{"select", "SELECT * FROM a JOIN b USING (id);", "a=AccessShareLock b=AccessShareLock"},
		{"update", "UPDATE a SET n = 1 FROM b WHERE a.id = b.id;", "a=RowExclusiveLock b=AccessShareLock"},
		{"select for update", "SELECT * FROM a FOR UPDATE;", "a=RowShareLock"},
		{"update in a WITH clause", "WITH u AS (UPDATE a SET n = 1 RETURNING id) SELECT count(*) FROM u JOIN b USING (id);", "a=RowExclusiveLock b=AccessShareLock"},
		{"delete in a WITH clause", "WITH d AS (DELETE FROM app.a WHERE old RETURNING *) SELECT * FROM d;", "app.a=RowExclusiveLock"},
		{"insert in a WITH clause", "WITH i AS (INSERT INTO a SELECT * FROM b RETURNING 1) SELECT count(*) FROM i;", "a=RowExclusiveLock b=AccessShareLock"},
		{"merge in a WITH clause", "WITH m AS (MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN DELETE RETURNING a.id) SELECT * FROM m;", "a=RowExclusiveLock b=AccessShareLock"},
		{"delete in the WITH clause of an insert", "WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d;", "a=RowExclusiveLock b=RowExclusiveLock"},
		{"read in a WITH clause", "WITH r AS (SELECT * FROM a) UPDATE b SET n = 1 FROM r;", "a=AccessShareLock b=RowExclusiveLock"},
		{"update in a WITH clause, for update", "WITH u AS (UPDATE a SET n = 1 RETURNING id) SELECT * FROM b FOR UPDATE;", "a=RowExclusiveLock b=RowShareLock"},
		{"truncate", "TRUNCATE a;", "a=AccessExclusiveLock"},
		// The names of WITH clauses are not tables (the last review's "left alone": they were listed, and
		// the holder of a lock on a table of the same name was named), where they are visible.
		{"a WITH clause's name", "WITH r AS (SELECT * FROM a) SELECT * FROM r JOIN b ON true;", "a=AccessShareLock b=AccessShareLock"},
		{"a WITH clause's name in a subquery", "WITH r AS (SELECT * FROM a) SELECT * FROM b WHERE id IN (SELECT id FROM r);", "a=AccessShareLock b=AccessShareLock"},
		{"a WITH clause shadows a table only unqualified", "WITH a AS (SELECT 1 AS id) SELECT * FROM a, public.a;", "public.a=AccessShareLock"},
		{"a WITH clause's name outside it", "SELECT * FROM (WITH u AS (SELECT 1) SELECT * FROM u) s JOIN u ON true;", "u=AccessShareLock"},
		{"an earlier query of the WITH clause", "WITH x AS (SELECT * FROM a), y AS (SELECT * FROM x) SELECT * FROM y;", "a=AccessShareLock"},
		{"a later query of the WITH clause", "WITH x AS (SELECT * FROM y), y AS (SELECT 1) SELECT * FROM x;", "y=AccessShareLock"},
		{"a recursive WITH clause", "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r, b;", "b=AccessShareLock"},
		{"the target of an update named like a WITH clause", "WITH a AS (SELECT 1 AS id) UPDATE a SET n = 1 FROM a AS src WHERE a.id = src.id;", "a=RowExclusiveLock"},
		{"a WITH clause in a union", "WITH r AS (SELECT * FROM a) SELECT * FROM r UNION SELECT * FROM b;", "a=AccessShareLock b=AccessShareLock"},
		{"a WITH clause in an insert", "WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d;", "a=RowExclusiveLock b=RowExclusiveLock"},
		{"a WITH clause in a merge's source", "WITH s AS (SELECT * FROM b) MERGE INTO a USING s ON a.id = s.id WHEN MATCHED THEN DELETE;", "a=RowExclusiveLock b=AccessShareLock"},
	} {
		got := statementLocks(tc.sql, 0)
		want := strings.Fields(tc.want)
		for _, w := range want {
			rel, mode, _ := strings.Cut(w, "=")
			key := pgx.Identifier(strings.Split(rel, ".")).Sanitize()
			if got[key].mode != mode {
				t.Errorf("%s: %s takes %q, want %s (all: %v)", tc.name, rel, got[key].mode, mode, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: locks %v, want only %s", tc.name, got, tc.want)
		}
	}
}

// TestDeployLockTimeoutOfAWithClauseNamesTheHolder: a migration whose data-modifying WITH clause gave up
// waiting for a table that another session holds in SHARE mode (which blocks writes, not reads) is
// reported with who held it.
func TestDeployLockTimeoutOfAWithClauseNamesTheHolder(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, map[string]string{
		"1_x.up.sql":   "WITH d AS (DELETE FROM orders WHERE id < 0 RETURNING id) SELECT count(*) FROM d;",
		"1_x.down.sql": "SELECT 1;",
	}), "run-cte-holder")
	o.Config.LockTimeout = 100 * time.Millisecond
	o.Config.RetryBackoff = 10 * time.Millisecond
	tg.holdLocks(t, "LOCK TABLE orders IN SHARE MODE", "reporting") // held for the whole run
	res, err := Run(t.Context(), o)
	if err == nil || res == nil {
		t.Fatalf("deploy: %v, %+v; want it to fail on the lock", err, res)
	}
	notes := strings.Join(res.Notes, "\n")
	if res.Outcome == OutcomeDeployed || !strings.Contains(notes, "1_x: the statement at 1_x.up.sql:1 gave up waiting for a lock: public.orders") ||
		!strings.Contains(notes, "reporting") {
		t.Errorf("outcome %s, notes:\n%s\nwant one naming the session that held orders", res.Outcome, notes)
	}
}

// TestHeldAfterTimeoutLeavesOutWithClauses: a WITH clause named like a table (audit) was looked up as
// that table, so a session that held a lock on the table, which the statement never waited for, was
// named as the holder (the last review's "left alone"). Only the session holding the table the
// statement writes is named.
func TestHeldAfterTimeoutLeavesOutWithClauses(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, "CREATE TABLE audit (id bigint)")
	tg.holdLocks(t, "LOCK TABLE audit IN ACCESS EXCLUSIVE MODE", "archiver")
	tg.holdLocks(t, "LOCK TABLE accounts IN SHARE MODE", "reporting")
	seen := heldAfterTimeout(t.Context(), tg.conn, errors.New("canceling statement due to lock timeout"),
		"WITH audit AS (SELECT 1::bigint AS id) UPDATE accounts SET name = name WHERE id IN (SELECT id FROM audit);", 0)
	holders := strings.Join(seen.holders, "\n")
	if seen.table != "public.accounts" || !strings.Contains(holders, "application reporting") || strings.Contains(holders, "archiver") {
		t.Errorf("table %q, holders:\n%s\nwant only the session that holds accounts", seen.table, holders)
	}
}

// TestRollbackStoppedByALockSaysItIsUnfinished: a rollback whose down (and then snapshot restore) gives
// up waiting for a lock another session holds leaves this run's earlier migration applied. The hint said
// "then deploy again to apply the rest", and a deploy run again keeps that migration and applies only
// the later ones: the release stays half rolled back (found by an SRE tester). The hint now says the
// rollback is unfinished, and how to finish it.
func TestRollbackStoppedByALockSaysItIsUnfinished(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, map[string]string{
		"1_w.up.sql":      "CREATE TABLE w_tab (id int);",
		"1_w.down.sql":    "DROP TABLE w_tab;",
		"2_fail.up.sql":   "SELECT pg_sleep(1.5);\nSELECT 1/0;",
		"2_fail.down.sql": "SELECT 1;",
	}), "run-rollback-lock")
	o.Config.LockTimeout = 100 * time.Millisecond
	o.Config.RetryBackoff = 10 * time.Millisecond
	one := 1
	o.Config.Retries = &one
	// Once 1_w has made w_tab, another session reads it and keeps its lock: the down cannot drop it, and
	// the snapshot restore cannot replace the tables.
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := Run(context.Background(), o)
		done <- result{res, err}
	}()
	for n := 0; n == 0; {
		if err := tg.conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_class WHERE relname = 'w_tab'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tg.holdLocks(t, "LOCK TABLE w_tab IN ACCESS SHARE MODE", "app")
	r := <-done
	if r.err == nil || r.res == nil {
		t.Fatalf("deploy: %v, %+v; want the rollback to stop on the lock", r.err, r.res)
	}
	if h := tg.historyOf(t); !strings.Contains(h, "1:applied") {
		t.Fatalf("history %s: want 1_w still applied (the case is wrong)", h)
	}
	hint := r.res.Hint
	if !strings.Contains(hint, "the rollback stopped half way") || !strings.Contains(hint, "finish the rollback by hand (the down of 1_w") ||
		!strings.Contains(hint, "a deploy run again would keep 1_w") || strings.Contains(hint, "deploy again to apply the rest") {
		t.Errorf("hint %q, want one saying the rollback is unfinished and how to finish it", hint)
	}
}
