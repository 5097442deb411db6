package pg_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pg"
)

// TestConcurrentStatementsLocksSeenEveryTime: a CONCURRENTLY statement on a small table is over in
// half a millisecond, and commits (letting its locks go) inside itself; the polls missed its locks
// nearly every time (19 of 20 runs of CREATE INDEX CONCURRENTLY IF NOT EXISTS on a table of no rows
// showed none). Each statement here runs 10 times and must show the locks it takes on the relations it
// names every time: SHARE UPDATE EXCLUSIVE on the table of CREATE INDEX, REINDEX and DROP INDEX
// CONCURRENTLY, and for DETACH PARTITION … CONCURRENTLY SHARE UPDATE EXCLUSIVE on both tables and the
// ACCESS EXCLUSIVE its second transaction takes on the partition, which a read of the partition
// queues behind (measured on 15).
func TestConcurrentStatementsLocksSeenEveryTime(t *testing.T) {
	ctx := t.Context()
	c := sessions(t, 2)
	run, observe := c[0], c[1]
	if _, err := run.Exec(ctx, `CREATE TABLE users (id bigint PRIMARY KEY, email text, age int);
CREATE INDEX users_email_idx ON users (email);
CREATE TABLE events (id bigint, ts timestamptz NOT NULL, payload text) PARTITION BY RANGE (ts)`); err != nil {
		t.Fatal(err)
	}
	const runs = 10
	for i := range runs {
		if _, err := run.Exec(ctx, fmt.Sprintf("CREATE TABLE events_%d PARTITION OF events FOR VALUES FROM ('%d-01-01') TO ('%d-01-01')", i, 2000+i, 2001+i)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		sql  string // %d: the run
		want []string
	}{
		{"CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx%d ON users (age)", []string{"public.users ShareUpdateExclusiveLock"}},
		{"REINDEX INDEX CONCURRENTLY users_email_idx", []string{"public.users ShareUpdateExclusiveLock"}},
		{"DROP INDEX CONCURRENTLY users_age_idx%d", []string{"public.users ShareUpdateExclusiveLock"}},
		{"ALTER TABLE events DETACH PARTITION events_%d CONCURRENTLY", []string{"public.events ShareUpdateExclusiveLock",
			"public.events_%d AccessExclusiveLock", "public.events_%d ShareUpdateExclusiveLock"}},
	}
	for i := range runs {
		tr, err := pg.NewConcurrentTracer(ctx, run, observe, "m.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			sql := strings.ReplaceAll(tt.sql, "%d", fmt.Sprint(i))
			s := script(sql)
			if err := tr.Exec(ctx, &s.Statements[0]); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			ev := tr.Evidence[len(tr.Evidence)-1]
			var got []string
			for _, l := range ev.Locks {
				got = append(got, l.Relation+" "+l.Mode)
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "%d", fmt.Sprint(i)); !slices.Contains(got, w) {
					t.Errorf("run %d: %s: locks %q, want %s among them", i, sql, got, w)
				}
			}
		}
	}
}
