package lint

import (
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestReplaceViewMatchesServer: PostgreSQL refuses a CREATE OR REPLACE VIEW that drops, renames or
// reorders the view's columns ("cannot drop columns from view", "cannot change name of view column"):
// when the state knows the view's columns (from its CREATE VIEW, after ALTER VIEW … RENAME COLUMN),
// replace-or-drop-view is dangerous, the deploy stopping there; a replacement that only adds columns at
// the end stays caution.
func TestReplaceViewMatchesServer(t *testing.T) {
	schema := "CREATE TABLE t (id int PRIMARY KEY, a integer);\nCREATE VIEW v AS SELECT id, a FROM t;\nCREATE VIEW v2 (x, y) AS SELECT id, a FROM t;\n"
	tests := []struct {
		serverCase
		risk Risk
	}{
		{serverCase{name: "drops a column", schema: schema, src: "CREATE OR REPLACE VIEW v AS SELECT id FROM t;", fails: true,
			rule: "replace-or-drop-view", msg: "fails: it drops column a"}, Dangerous},
		{serverCase{name: "renames a column", schema: schema, src: "CREATE OR REPLACE VIEW v AS SELECT id, a AS aa FROM t;", fails: true,
			rule: "replace-or-drop-view", msg: "cannot change name of view column"}, Dangerous},
		{serverCase{name: "reorders columns", schema: schema, src: "CREATE OR REPLACE VIEW v AS SELECT a, id FROM t;", fails: true,
			rule: "replace-or-drop-view", msg: "column 1 is a, where the view has id"}, Dangerous},
		{serverCase{name: "column list renamed", schema: schema, src: "CREATE OR REPLACE VIEW v2 AS SELECT id, a FROM t;", fails: true,
			rule: "replace-or-drop-view", msg: "column 1 is id, where the view has x"}, Dangerous},
		{serverCase{name: "view of the same change", schema: schema, src: "CREATE VIEW w AS SELECT id, a FROM t;\nCREATE OR REPLACE VIEW w AS SELECT id FROM t;", fails: true,
			rule: "replace-or-drop-view", msg: "fails: it drops column a"}, Dangerous},
		{serverCase{name: "adds a column at the end", schema: schema, src: "CREATE OR REPLACE VIEW v AS SELECT id, a, 1 AS b FROM t;",
			rule: "replace-or-drop-view", msg: "readers of removed or renamed columns break"}, Caution},
		{serverCase{name: "same names by alias", schema: schema, src: "CREATE OR REPLACE VIEW v2 AS SELECT id AS x, a + 1 AS y FROM t;",
			rule: "replace-or-drop-view", msg: "readers of removed or renamed columns break"}, Caution},
		{serverCase{name: "after RENAME COLUMN", schema: schema, src: "ALTER VIEW v RENAME COLUMN a TO aa;\nCREATE OR REPLACE VIEW v AS SELECT id, a AS aa FROM t;",
			rule: "replace-or-drop-view", msg: "readers of removed or renamed columns break"}, Caution},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, conn)
			f := find(AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema}), tt.rule)
			if f == nil || f.Risk != tt.risk {
				t.Fatalf("%s: %+v, want %s", tt.rule, f, tt.risk)
			}
			if want := tt.risk == Dangerous; (f.Lock == "— (ERROR)") != want {
				t.Errorf("%s: lock %q, want the ERROR lock %v", tt.rule, f.Lock, want)
			}
		})
	}
}
