package lint

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestSetLoggedMatchesServer: SET LOGGED / SET UNLOGGED rewrites a table, but on a partitioned table
// (with or without ONLY) PostgreSQL up to 17 changes nothing, neither the parent nor its partitions, and
// takes ACCESS EXCLUSIVE on the parent alone; 18 refuses it. Each case runs on the server first, and the
// static analysis must say what it did.
func TestSetLoggedMatchesServer(t *testing.T) {
	const parts = "CREATE TABLE events (id bigint, ts int) PARTITION BY RANGE (ts);\n" +
		"CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100);\n" +
		"CREATE TABLE plain (id bigint PRIMARY KEY);\n"
	tests := []struct {
		name, src   string
		partitioned bool
	}{
		{"unlogged partitioned", "ALTER TABLE events SET UNLOGGED;", true},
		{"logged partitioned", "ALTER TABLE events SET LOGGED;", true},
		{"unlogged only partitioned", "ALTER TABLE ONLY events SET UNLOGGED;", true},
		{"unlogged plain", "ALTER TABLE plain SET UNLOGGED;", false},
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	// What a relation is: its persistence and its storage.
	const state = `SELECT string_agg(relname || ':' || relpersistence::text || ':' || relfilenode, ',' ORDER BY relname)
		FROM pg_class WHERE relname IN ('events', 'events_1', 'plain')`
	const locks = `SELECT string_agg(relation::regclass::text || ':' || mode, ',' ORDER BY relation::regclass::text, mode)
		FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation::regclass::text IN ('events', 'events_1', 'plain')`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := conn.Exec(ctx, parts); err != nil {
				t.Fatal(err)
			}
			defer conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS events, plain")
			// In a transaction of its own, so that pg_locks shows the statement's locks alone.
			if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
				t.Fatal(err)
			}
			defer conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			var before, after, locked string
			if err := conn.QueryRow(ctx, state).Scan(&before); err != nil {
				t.Fatal(err)
			}
			_, execErr := conn.Exec(ctx, tt.src)
			if execErr == nil {
				if err := conn.QueryRow(ctx, locks).Scan(&locked); err != nil {
					t.Fatal(err)
				}
				if err := conn.QueryRow(ctx, state).Scan(&after); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
			f := find(AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: parts, PGVersion: version}), "set-logged-unlogged")
			switch {
			case tt.partitioned && version >= 180000:
				if execErr == nil {
					t.Fatalf("PostgreSQL %d ran %s", version, tt.src)
				}
				if f == nil || f.Risk != Dangerous || f.Rewrite || !strings.Contains(f.Message, "fails") {
					t.Errorf("static analysis %+v, want dangerous: it fails", f)
				}
			case tt.partitioned:
				if execErr != nil || after != before || locked != "events:AccessExclusiveLock" {
					t.Fatalf("PostgreSQL %d: %v, %s then %s, locks %s; want nothing changed and ACCESS EXCLUSIVE on events alone", version, execErr, before, after, locked)
				}
				if f == nil || f.Risk != Caution || f.Rewrite || f.Scan || !strings.Contains(f.Message, "changes nothing") {
					t.Errorf("static analysis %+v, want caution: it changes nothing", f)
				}
			default:
				if execErr != nil || after == before {
					t.Fatalf("PostgreSQL %d: %v, %s then %s; want plain rewritten", version, execErr, before, after)
				}
				if f == nil || f.Risk != Dangerous || !f.Rewrite || !strings.Contains(f.Message, "rewrites plain") {
					t.Errorf("static analysis %+v, want dangerous: it rewrites plain", f)
				}
			}
		})
	}
}
