package deploy

import (
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
	} {
		got := statementLocks(tc.sql, 0)
		// The names of WITH clauses read as tables too (to_regclass finds none): only tables are checked.
		for _, w := range strings.Fields(tc.want) {
			rel, mode, _ := strings.Cut(w, "=")
			key := pgx.Identifier(strings.Split(rel, ".")).Sanitize()
			if got[key].mode != mode {
				t.Errorf("%s: %s takes %q, want %s (all: %v)", tc.name, rel, got[key].mode, mode, got)
			}
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
