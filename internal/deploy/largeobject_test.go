package deploy

import (
	"context"
	"fmt"
	neturl "net/url"
	"strings"
	"testing"
)

// TestDeployRestoreRefusedAfterOtherSessionsWroteLargeObjects: a migration without a down is applied,
// another session writes a large object (changes one with lo_put, creates one with lo_from_bytea,
// unlinks one) and commits, and a later migration fails. The restore's clear step unlinks every large
// object and loads the snapshot's: it put the old content back and dropped the new object, and the run
// said rolled back, the database as it was (exit 3), without a word. The watch now reads the large
// objects as it reads tables: the restore is refused, naming them, and the writes stay. The run's own
// large objects (1_a's) do not count: without another session's write the restore goes through.
func TestDeployRestoreRefusedAfterOtherSessionsWroteLargeObjects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		write string // what another session commits while the deploy runs; "" for nothing
		oids  string // the large objects the refusal names
		check string // true after the deploy when the write is still there
	}{
		{name: "lo_put", write: "SELECT lo_put(424242, 0, 'AFTER!')", oids: "large object 424242 ",
			check: "SELECT (convert_from(lo_get(424242), 'UTF8') = 'AFTER!')::text"},
		{name: "lo_from_bytea", write: "SELECT lo_from_bytea(434343, 'new document')", oids: "large object 434343 ",
			check: "SELECT (count(*) = 1)::text FROM pg_largeobject_metadata WHERE oid = 434343"},
		{name: "lo_unlink", write: "SELECT lo_unlink(424242)", oids: "large object 424242 ",
			check: "SELECT (count(*) = 0)::text FROM pg_largeobject_metadata WHERE oid = 424242"},
		{name: "both", write: "SELECT lo_put(424242, 0, 'AFTER!'); SELECT lo_from_bytea(434343, 'new document')", oids: "large objects 424242, 434343 ",
			check: "SELECT (convert_from(lo_get(424242), 'UTF8') = 'AFTER!' AND EXISTS (SELECT FROM pg_largeobject_metadata WHERE oid = 434343))::text"},
		{name: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "SELECT lo_from_bytea(424242, 'before')")
			o := tg.options(t, folder(t, map[string]string{
				// No down: only the snapshot undoes it. Its large object is the run's own write.
				"1_a.up.sql":   "CREATE TABLE lo_docs (id int, doc oid);\nINSERT INTO lo_docs VALUES (1, lo_from_bytea(515151, 'the run''s own'));",
				"2_b.up.sql":   "CREATE TABLE lo_b (id int);\nSELECT 1/0;",
				"2_b.down.sql": "DROP TABLE lo_b;",
			}), "run-lo")
			tg.writeAt(t, &o, "applying 2/2", tc.write) // committed after the snapshot, before the failure
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			rb := res.Rollback
			if tc.write == "" {
				if res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != "snapshot" || !rb.OK {
					t.Fatalf("outcome %s, rollback %+v; want the snapshot restored", res.Outcome, rb)
				}
				if got := tg.value(t, "SELECT string_agg(oid::text || '=' || convert_from(lo_get(oid), 'UTF8'), ',' ORDER BY oid) FROM pg_largeobject_metadata"); got != "424242=before" {
					t.Errorf("large objects after the restore: %s, want 424242=before", got)
				}
				return
			}
			if res.Outcome != OutcomeFailed || rb == nil || rb.OK || !strings.Contains(rb.Error, "the snapshot was not restored") ||
				!strings.Contains(rb.Error, tc.oids) || strings.Contains(rb.Error, "515151") {
				t.Fatalf("outcome %s, rollback %+v; want the restore refused for the other session's large-object write, naming %s (not the run's own 515151)", res.Outcome, rb, tc.oids)
			}
			if tg.value(t, tc.check) != "true" {
				t.Error("the other session's committed large-object write is gone")
			}
			if got, want := tg.historyOf(t), "1:applied 2:failed"; got != want {
				t.Errorf("history %q, want %q", got, want)
			}
			if !strings.Contains(strings.Join(res.Notes, "\n"), "NOT ROLLED BACK") {
				t.Errorf("notes %q; want them to say what was not rolled back", res.Notes)
			}
		})
	}
}

// TestLargeObjectWritesWithoutReadingPgLargeobject: a deploy user that is not a superuser may not read
// pg_largeobject, whose page versions tell a changed large object; the watch then compares each large
// object's content as the mark saw it and now. lo_put on an object, and a new object, are found; with no
// write, nothing is.
func TestLargeObjectWritesWithoutReadingPgLargeobject(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	role := "lo_reader_" + tg.value(t, "SELECT md5(current_database())")[:12]
	tg.exec(t, "CREATE ROLE "+role+" LOGIN PASSWORD 'lo-reader'")
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = tg.conn.Exec(ctx, "DROP OWNED BY "+role)
		_, _ = tg.conn.Exec(ctx, "DROP ROLE "+role)
	})
	tg.exec(t, "SELECT lo_from_bytea(424242, 'before'); GRANT SELECT ON LARGE OBJECT 424242 TO "+role+
		"; GRANT USAGE ON SCHEMA public TO "+role)
	u, err := neturl.Parse(tg.url)
	if err != nil {
		t.Fatal(err)
	}
	u.User = neturl.UserPassword(role, "lo-reader")
	url := u.String()
	w, err := startWatch(t.Context(), url, "", "schemagate")
	if err != nil {
		t.Fatal(err)
	}
	defer w.close(t.Context())
	found := func() []uint32 {
		t.Helper()
		conn, err := checkConn(t.Context(), url, "SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		var pages bool
		if err := conn.QueryRow(t.Context(), "SELECT has_table_privilege('pg_catalog.pg_largeobject', 'SELECT')").Scan(&pages); err != nil || pages {
			t.Fatalf("the role may read pg_largeobject (%v, %v): the test needs one that may not", pages, err)
		}
		s, err := w.scanner(t.Context(), conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.largeObjects(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s.los
	}
	if got := found(); len(got) != 0 {
		t.Errorf("large objects written before any write: %v", got)
	}
	tg.exec(t, "SELECT lo_put(424242, 0, 'AFTER!'); SELECT lo_from_bytea(434343, 'new'); GRANT SELECT ON LARGE OBJECT 434343 TO "+role)
	if got := fmt.Sprint(found()); got != "[424242 434343]" {
		t.Errorf("large objects written: %s, want [424242 434343]", got)
	}
}

// TestDeployRestoresLargeObjectsAnUpDestroys: an up that unlinks or overwrites large objects (lo_unlink,
// lo_put, lowrite, lo_truncate, lo_truncate64, in a query, a DO block or a function it calls) and a
// later migration that fails: the built-in functions counted as destroying nothing, so the downs ran,
// the run said rolled back by down (the database as it was) and the documents were gone. They now count
// as destroying data: the snapshot is restored, and the documents are back. Reading them (lo_get)
// destroys nothing: the downs roll that back.
func TestDeployRestoresLargeObjectsAnUpDestroys(t *testing.T) {
	t.Parallel()
	const write = "131072" // INV_WRITE
	for _, tc := range []struct {
		name, up string
		method   string // the rollback's
	}{
		{name: "lo_unlink", up: "SELECT lo_unlink(oid) FROM pg_largeobject_metadata;", method: "snapshot"},
		{name: "lo_put", up: `SELECT lo_put(doc, 0, '\x00000000'::bytea) FROM invoices WHERE doc IS NOT NULL;`, method: "snapshot"},
		{name: "lowrite", up: "SELECT lowrite(lo_open(doc, " + write + "), 'XXXX') FROM invoices;", method: "snapshot"},
		{name: "lo_truncate", up: "SELECT lo_truncate(lo_open(doc, " + write + "), 0) FROM invoices;", method: "snapshot"},
		{name: "lo_truncate64", up: "SELECT pg_catalog.lo_truncate64(lo_open(doc, " + write + "), 1) FROM invoices;", method: "snapshot"},
		{name: "do block", up: "DO $$BEGIN PERFORM lo_unlink(doc) FROM invoices; END$$;", method: "snapshot"},
		{name: "function", up: "CREATE FUNCTION drop_docs() RETURNS void LANGUAGE sql AS $$SELECT lo_unlink(doc) FROM invoices$$;\nSELECT drop_docs();",
			method: "snapshot"},
		{name: "delete from pg_largeobject", up: "DELETE FROM pg_largeobject WHERE loid IN (SELECT doc FROM invoices);", method: "snapshot"},
		{name: "lo_get", up: "SELECT lo_get(doc) FROM invoices;", method: "down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE TABLE invoices (id int PRIMARY KEY, doc oid);\n"+
				"INSERT INTO invoices SELECT g, lo_from_bytea(0, convert_to('invoice ' || g, 'UTF8')) FROM generate_series(1, 3) g;")
			const docs = "SELECT string_agg(i.id || '=' || coalesce((SELECT md5(lo_get(i.doc)) FROM pg_largeobject_metadata m WHERE m.oid = i.doc), 'gone'), ',' ORDER BY i.id) FROM invoices i"
			before := tg.value(t, docs)
			res, err := Run(t.Context(), tg.options(t, folder(t, map[string]string{
				"1_x.up.sql":      tc.up,
				"1_x.down.sql":    "DROP FUNCTION IF EXISTS drop_docs();",
				"2_fail.up.sql":   "CREATE TABLE lo_b (id int);\nSELECT 1/0;",
				"2_fail.down.sql": "DROP TABLE lo_b;",
			}), "run-lo-up"))
			if err == nil || res.Outcome != OutcomeRolledBack || res.Rollback == nil || !res.Rollback.OK || res.Rollback.Method != tc.method {
				t.Fatalf("deploy: %v, outcome %s, rollback %+v; want rolled back by %s", err, res.Outcome, res.Rollback, tc.method)
			}
			if tc.method == "snapshot" && !strings.Contains(res.Rollback.Why, "1_x.up.sql:") {
				t.Errorf("rollback's why %q; want it to name the up's statement", res.Rollback.Why)
			}
			if got := tg.value(t, docs); got != before {
				t.Errorf("large objects after the rollback: %s, want %s", got, before)
			}
		})
	}
}
