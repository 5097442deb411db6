package deploy

import (
	"errors"
	"strings"
	"testing"
)

// TestDeployRestoresWithExtensionsOfAnotherOwner: the deploy role is not a superuser and owns the
// application's tables, and a superuser created the extensions (as on managed PostgreSQL). A migration
// without a down damages data and the next fails, so the rollback restores the snapshot. The restorable
// check used to block the deploy, as the dump's COMMENT ON EXTENSION takes the privileges of the
// extension's owner, although the restore keeps the extension and the deploy role could not have changed
// its comment. The restore now leaves out the comments that are still the snapshot's, and:
//   - with hstore an admin created and commented on, the database and the comment are the snapshot's;
//   - with hstore the deploy role created, whose comment the migration changed, and pg_trgm an admin
//     created, the comment of hstore comes back;
//   - with an hstore function whose grants an admin changed (REVOKE EXECUTE ... FROM PUBLIC), which the
//     dump grants and revokes again as its owner, the deploy is still blocked, naming the function.
func TestDeployRestoresWithExtensionsOfAnotherOwner(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, admin, setup, up, want string
		blocked                      string // what the reason names, when the deploy is blocked
	}{
		{name: "extension of an admin",
			admin: "CREATE EXTENSION hstore; COMMENT ON EXTENSION hstore IS 'key/value pairs, kept by the platform team';",
			want:  "hstore key/value pairs, kept by the platform team"},
		{name: "extension of the deploy role whose comment the migration changed",
			admin: "CREATE EXTENSION pg_trgm;",
			setup: "CREATE EXTENSION hstore; COMMENT ON EXTENSION hstore IS 'ours';",
			up:    "COMMENT ON EXTENSION hstore IS 'changed by the migration';",
			want:  "hstore ours,pg_trgm text similarity measurement and index searching based on trigrams"},
		{name: "grants an admin changed on a function of the extension",
			admin:   "CREATE EXTENSION hstore; REVOKE EXECUTE ON FUNCTION hstore_version_diag(hstore) FROM PUBLIC;",
			blocked: "function hstore_version_diag(hstore) (owner "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// app_cache goes to the deploy role: the extensions are all it does not own.
			tg, dep, _ := newTargetAsOwnerWith(t, "ALTER TABLE app_cache OWNER TO %dep;\n"+tc.admin)
			tg.exec(t, tc.setup+`
				CREATE TABLE kv (k int PRIMARY KEY, h hstore);
				INSERT INTO kv SELECT g, hstore('n', g::text) FROM generate_series(1, 50) g;`)
			const comments = "SELECT string_agg(extname || ' ' || coalesce(obj_description(oid, 'pg_extension'), '-'), ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'"
			const kv = "SELECT md5(string_agg(k || ' ' || h::text, '|' ORDER BY k)) FROM kv"
			before, beforeKV := tg.checksums(t), tg.value(t, kv)
			o := tg.options(t, folder(t, map[string]string{
				// No down: only the snapshot undoes it.
				"1_a.up.sql":   "UPDATE orders SET total = 0;\nUPDATE kv SET h = h || hstore('x', '1');\n" + tc.up,
				"2_b.up.sql":   "SELECT 1/0;",
				"2_b.down.sql": "SELECT 1;",
			}), "run-extcomment")
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			if tc.blocked != "" {
				var b *Blocked
				if !errors.As(err, &b) || res.Outcome != OutcomeBlocked {
					t.Fatalf("deploy: %v, outcome %s; want blocked", err, res.Outcome)
				}
				if !strings.Contains(b.Reason, tc.blocked) || !strings.Contains(b.Reason, "role "+dep) {
					t.Errorf("reason %q does not name %q", b.Reason, tc.blocked)
				}
				if after := tg.checksums(t); after != before {
					t.Errorf("database differs:\n%s\n---\n%s", before, after)
				}
				return
			}
			if rb := res.Rollback; res.Outcome != OutcomeRolledBack || rb == nil || rb.Method != "snapshot" || !rb.OK {
				t.Fatalf("deploy: %v, outcome %s, rollback %+v, notes %q: want the snapshot restored", err, res.Outcome, rb, res.Notes)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("after the rollback:\n%s\nwant\n%s", after, before)
			}
			if got := tg.value(t, kv); got != beforeKV {
				t.Errorf("kv %s after the rollback, want %s", got, beforeKV)
			}
			if got := tg.value(t, comments); got != tc.want {
				t.Errorf("extensions' comments %q after the rollback, want %q", got, tc.want)
			}
		})
	}
}
