package deploy

import (
	"strings"
	"testing"
)

func TestDownLosesData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		up, down string
		want     string // substring of the reason; "" for no loss
	}{
		{"drops what up created", "CREATE TABLE t (id int);", "DROP TABLE t;", ""},
		{"drops a column up added", "ALTER TABLE users ADD COLUMN nick text;", "ALTER TABLE users DROP COLUMN nick;", ""},
		{"drops a pre-existing column", "ALTER TABLE users RENAME COLUMN name TO full_name;", "ALTER TABLE users DROP COLUMN full_name;\nALTER TABLE users ADD COLUMN name text;", "drops column users.full_name"},
		{"drops a pre-existing table", "ALTER TABLE old RENAME TO legacy;", "DROP TABLE legacy;", "drops table legacy"},
		{"deletes what up inserted", "INSERT INTO roles VALUES ('admin');", "DELETE FROM roles WHERE name = 'admin';", ""},
		{"truncates a pre-existing table", "UPDATE users SET active = true;", "TRUNCATE users;", "empties users"},
		{"schema-qualified create and drop", "CREATE TABLE app.t (id int);", "DROP TABLE app.t;", ""},
		// the up's own SET search_path decides where its unqualified names are
		{"created where the up's search path says", "SET search_path = audit;\nCREATE TABLE t (id int);", "DROP TABLE audit.t;", ""},
		{"created elsewhere than the down drops", "SET search_path = audit, public;\nCREATE TABLE users (id int);", "DROP TABLE users;", "drops table users"},
		{"pg_dump's set_config", "SELECT pg_catalog.set_config('search_path', 'audit', false);\nCREATE TABLE t (id int);", "DROP TABLE audit.t;", ""},
		{"search path reset", "SET search_path = audit;\nRESET search_path;\nCREATE TABLE t (id int);", "DROP TABLE t;", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := folderB(t, map[string]string{"1_x.up.sql": tc.up, "1_x.down.sql": tc.down})
			got := downLosesData(set.Migrations[0], "")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("downLosesData = %q, want %q", got, tc.want)
			}
			if tc.want != "" && !strings.Contains(got, "1_x.down.sql:") {
				t.Errorf("reason %q is not positioned", got)
			}
		})
	}
}

func TestAnalyzeEffects(t *testing.T) {
	t.Parallel()
	set := folderB(t, map[string]string{"1_x.up.sql": `
CREATE TABLE a (id int);
INSERT INTO b SELECT * FROM c;
ALTER TABLE d VALIDATE CONSTRAINT d_fk;
COPY e FROM STDIN;
1
\.
UPDATE f SET x = (SELECT max(y) FROM g);`})
	e := analyze(set.Migrations[0].Up)
	for _, tb := range []string{"a", "b", "c", "d", "f", "g"} {
		if !e.Tables[tb] {
			t.Errorf("table %s not seen (tables %v)", tb, e.Tables)
		}
	}
	if !e.Rows["b"] || e.Rows["c"] || e.Rows["f"] {
		t.Errorf("row changers %v, want b (and e)", e.Rows)
	}
	if !e.Validates["d.d_fk"] || !e.Created["a"] || e.Opaque {
		t.Errorf("effects %+v", e)
	}
	if !analyze(folderB(t, map[string]string{"1_y.up.sql": "DO $$ BEGIN NULL; END $$;"}).Migrations[0].Up).Opaque {
		t.Error("DO block not opaque")
	}
}

func TestPlanDrift(t *testing.T) {
	t.Parallel()
	set := folderB(t, map[string]string{"1_a.up.sql": "SELECT 1;", "2_b.up.sql": "SELECT 2;", "3_c.up.sql": "SELECT 3;"})
	sum := func(v string) string { return set.Find(v).Checksum }
	up := func(v string) string { return set.Find(v).UpChecksum() }
	tests := []struct {
		name    string
		history []appliedRow
		pending string
		drift   string
		changed string
	}{
		{"fresh", nil, "1 2 3", "", ""},
		{"one applied", []appliedRow{{Version: "1", Checksum: sum("1"), Status: StatusApplied}}, "2 3", "", ""},
		{"rolled back is pending", []appliedRow{{Version: "1", Checksum: sum("1"), Status: StatusRolledBack}}, "1 2 3", "", ""},
		{"changed, history without the up's checksum", []appliedRow{{Version: "1", Checksum: "x", Status: StatusApplied}}, "2 3", "cannot tell a changed down", ""},
		{"up changed", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: "y", Status: StatusApplied}}, "2 3", "its up script differs", ""},
		{"only the down changed", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: up("1"), Status: StatusApplied}}, "2 3", "", "down or verify script of applied migration 1_a changed"},
		{"one down changed, another up", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: up("1"), Status: StatusApplied}, {Version: "2", Checksum: "x", UpChecksum: up("1"), Status: StatusApplied}}, "3", "2_b (2_b.up.sql) changed", "1_a"},
		{"missing", []appliedRow{{Version: "0", Name: "gone", Checksum: "x", Status: StatusApplied}}, "1 2 3", "missing from the migration folder", ""},
		{"gap", []appliedRow{{Version: "2", Checksum: sum("2"), Status: StatusApplied}}, "3", "sorts before applied", ""},
	}
	for _, tc := range tests {
		pending, drift, changed := plan(set, tc.history)
		var vs []string
		for _, m := range pending {
			vs = append(vs, m.Version)
		}
		if strings.Join(vs, " ") != tc.pending {
			t.Errorf("%s: pending %v, want %s", tc.name, vs, tc.pending)
		}
		if got := strings.Join(drift, "; "); (tc.drift == "") != (got == "") || !strings.Contains(got, tc.drift) {
			t.Errorf("%s: drift %q, want %q", tc.name, got, tc.drift)
		}
		if got := strings.Join(changed, "; "); (tc.changed == "") != (got == "") || !strings.Contains(got, tc.changed) {
			t.Errorf("%s: changed %q, want %q", tc.name, got, tc.changed)
		}
	}
}

// TestUpLosesData: what an up destroyed that its down does not bring back, which a rollback takes from
// the snapshot (tester A's F3: an up that dropped a column, undone by a down that only added it again).
func TestUpLosesData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		earlier  string // up of a migration applied before, in the same run
		up, down string
		want     string // substring of the reason; "" for no loss
	}{
		{name: "drops a column, down adds it empty", up: "ALTER TABLE items DROP COLUMN note;", down: "ALTER TABLE items ADD COLUMN note text;", want: "1_x.up.sql:1 drops column items.note"},
		{name: "drops a column, down writes it back", up: "CREATE TABLE keep AS SELECT id, note FROM items;\nALTER TABLE items DROP COLUMN note;",
			down: "ALTER TABLE items ADD COLUMN note text;\nUPDATE items i SET note = k.note FROM keep k WHERE k.id = i.id;\nDROP TABLE keep;"},
		{name: "drops a table, down creates it empty", up: "DROP TABLE items;", down: "CREATE TABLE items (id int);", want: "drops table items"},
		{name: "drops a materialized view", up: "DROP MATERIALIZED VIEW totals;", down: "CREATE MATERIALIZED VIEW totals AS SELECT 1;"},
		{name: "truncates", up: "TRUNCATE items;", down: "SELECT 1;", want: "empties items"},
		{name: "deletes, down inserts back", up: "INSERT INTO archive SELECT * FROM items WHERE old;\nDELETE FROM items WHERE old;", down: "INSERT INTO items SELECT * FROM archive;"},
		{name: "deletes", up: "DELETE FROM items WHERE id > 10;", down: "SELECT 1;", want: "deletes rows of items"},
		{name: "overwrites a column", up: "UPDATE app_settings SET value = 'broken';", down: "SELECT 1;", want: "overwrites app_settings.value"},
		{name: "overwrites, down writes back", up: "UPDATE accounts SET balance = balance * 2;", down: "UPDATE accounts SET balance = balance / 2;"},
		{name: "backfills a column it adds", up: "ALTER TABLE items ADD COLUMN n int;\nUPDATE items SET n = id;", down: "ALTER TABLE items DROP COLUMN n;"},
		{name: "backfills a column an earlier migration added", earlier: "ALTER TABLE items ADD COLUMN n int;", up: "UPDATE items SET n = id;", down: "SELECT 1;"},
		{name: "fills and drops its own table", up: "CREATE TABLE tmp (id int);\nINSERT INTO tmp VALUES (1);\nDELETE FROM tmp;\nDROP TABLE tmp;", down: "SELECT 1;"},
		{name: "schema-qualified", up: "ALTER TABLE app.items DROP COLUMN note;", down: "ALTER TABLE app.items ADD COLUMN note text;", want: "drops column app.items.note"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"1_x.up.sql": tc.up, "1_x.down.sql": tc.down}
			if tc.earlier != "" {
				files = map[string]string{"1_e.up.sql": tc.earlier, "1_e.down.sql": "SELECT 1;", "2_x.up.sql": tc.up, "2_x.down.sql": tc.down}
			}
			set := folderB(t, files)
			migs := set.Migrations
			got := upLosesData(migs[len(migs)-1], migs[:len(migs)-1], "")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("upLosesData = %q, want %q", got, tc.want)
			}
		})
	}
}
