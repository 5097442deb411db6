package lint

import (
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestAutoIndexNameIfExists: DROP INDEX IF EXISTS of a name PostgreSQL cannot have chosen for an index
// of a table (ChooseIndexName: table, columns, pkey/key/excl/idx and a number) does nothing when the
// history names no such index, however the name starts; one it may have chosen may exist. An index
// PostgreSQL may have named for a table the migration creates is on a new table: its DROP locks nothing
// that existed before.
func TestAutoIndexNameIfExists(t *testing.T) {
	t.Parallel()
	const metrics = "CREATE TABLE metrics (key text PRIMARY KEY, v int);\n"
	tests := []struct {
		name    string
		history []string
		src     string
		want    []ruleWant
	}{
		{"named after a table of the migration", []string{},
			metrics + "DROP INDEX IF EXISTS metrics_flow_id;\nCREATE INDEX IF NOT EXISTS metrics_flow_id ON metrics (v);\n",
			[]ruleWant{{"drop-index-blocking", "safe", "no index metrics_flow_id exists after the earlier migrations: the statement does nothing"},
				{"missing-lock-timeout", "", ""}, {"missing-statement-timeout", "", ""}, {"statement-after-access-exclusive", "", ""}}},
		{"named after an earlier table", []string{metrics + "CREATE INDEX ON metrics (v);\n"}, "DROP INDEX IF EXISTS metrics_flow_id;\n",
			[]ruleWant{{"drop-index-blocking", "safe", "no index metrics_flow_id exists"}, {"missing-lock-timeout", "", ""}}},
		{"the primary key's name", []string{metrics}, "DROP INDEX IF EXISTS metrics_pkey;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}, {"missing-lock-timeout", "dangerous", ""}}},
		{"a label, but not of the table's indexes", []string{metrics}, "DROP INDEX IF EXISTS metrics_v_idx;\n",
			[]ruleWant{{"drop-index-blocking", "safe", "no index metrics_v_idx exists"}}},
		{"a number after the label", []string{"CREATE TABLE t (a int);\nCREATE INDEX ON t (a);\nCREATE INDEX ON t (a);\n"}, "DROP INDEX IF EXISTS t_a_idx1;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}}},
		{"an expression's name", []string{"CREATE TABLE t (a text);\nCREATE INDEX ON t (lower(a));\n"}, "DROP INDEX IF EXISTS t_expr_idx;\nDROP INDEX IF EXISTS t_lower_idx;\n",
			[]ruleWant{{"drop-index-blocking", "safe", "no index t_expr_idx exists"}, {"missing-lock-timeout", "dangerous", ""}}},
		{"a column's UNIQUE", []string{"CREATE TABLE t (a int UNIQUE, b int);\n"}, "DROP INDEX IF EXISTS t_b_key;\n",
			[]ruleWant{{"drop-index-blocking", "safe", "no index t_b_key exists"}}},
		{"a table's UNIQUE", []string{"CREATE TABLE t (a int, b int);\nALTER TABLE t ADD UNIQUE (a, b);\n"}, "DROP INDEX IF EXISTS t_a_b_key;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}}},
		{"its table renamed", []string{"CREATE TABLE t (a int);\nCREATE INDEX ON t (a);\nALTER TABLE t RENAME TO u;\n"}, "DROP INDEX IF EXISTS t_a_idx;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}}},
		{"its table renamed and dropped", []string{"CREATE TABLE t (a int);\nCREATE INDEX ON t (a);\nALTER TABLE t RENAME TO u;\nDROP TABLE u;\n"}, "DROP INDEX IF EXISTS t_a_idx;\n",
			[]ruleWant{{"drop-index-blocking", "safe", "no index t_a_idx exists"}}},
		// The partition's copies of its parent's indexes: the state does not follow which, any label may be.
		{"a partition's index", []string{"CREATE TABLE p (x int) PARTITION BY RANGE (x);\nCREATE INDEX ON p (x);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10);\n"},
			"DROP INDEX IF EXISTS p1_flow_id;\nDROP INDEX IF EXISTS p1_y_idx;\n",
			[]ruleWant{{"drop-index-blocking", "safe", "no index p1_flow_id exists"}, {"missing-lock-timeout", "dangerous", ""}}},
		{"an index of a table the migration creates", []string{},
			metrics + "CREATE INDEX ON metrics (v);\nDROP INDEX IF EXISTS metrics_v_idx;\nSELECT 1;\n",
			[]ruleWant{{"drop-index-blocking", "", ""}, {"missing-lock-timeout", "", ""}, {"statement-after-access-exclusive", "", ""}}},
		{"an index of a table an earlier migration created", []string{metrics + "CREATE INDEX ON metrics (v);\n"},
			"DROP INDEX IF EXISTS metrics_v_idx;\nSELECT 1;\n",
			[]ruleWant{{"drop-index-blocking", "caution", "takes ACCESS EXCLUSIVE"}, {"statement-after-access-exclusive", "dangerous", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantRules(t, analyzeAfter(tt.history, tt.src), tt.want)
		})
	}
}

// TestAutoIndexNamesMatchServer: the names the state says PostgreSQL may have chosen for an index are
// those it chooses (truncated to 63 bytes at a character boundary, expressions as expr, INCLUDE columns,
// a number when the name is taken), and the names it says PostgreSQL cannot have chosen do not exist.
func TestAutoIndexNamesMatchServer(t *testing.T) {
	const long = "events_of_the_kestra_orchestrator_with_a_very_long_table_name"
	const wide = "x" + "éééééééééééééééééééééééééééééé" // 61 bytes: the cut falls inside a character
	exists := func(name string) string { return "SELECT to_regclass('" + name + "') IS NOT NULL" }
	absent := func(name string) string { return "SELECT to_regclass('" + name + "') IS NULL" }
	const locks, nothing = "takes ACCESS EXCLUSIVE", "the statement does nothing"
	tests := []serverCase{
		{name: "named after the table", schema: "CREATE TABLE metrics (key text PRIMARY KEY, v int);\nCREATE INDEX ON metrics (v);\n",
			src: "DROP INDEX IF EXISTS metrics_flow_id;", probe: absent("metrics_flow_id"), rule: "drop-index-blocking", msg: nothing},
		{name: "a long table's primary key", schema: "CREATE TABLE " + long + " (id int PRIMARY KEY);\n",
			src: "DROP INDEX IF EXISTS " + long[:58] + "_pkey;", fails: true, probe: exists(long[:58] + "_pkey"), rule: "drop-index-blocking", msg: locks},
		{name: "a long table's index", schema: "CREATE TABLE " + long + " (flow_id int);\nCREATE INDEX ON " + long + " (flow_id);\n",
			src: "DROP INDEX IF EXISTS " + long[:51] + "_flow_id_idx;", rule: "drop-index-blocking", msg: locks},
		{name: "a long table's index, both names cut",
			schema: "CREATE TABLE " + long + " (namespace_flow_id_execution_id_state_current int);\nCREATE INDEX ON " + long + " (namespace_flow_id_execution_id_state_current);\n",
			src:    "DROP INDEX IF EXISTS events_of_the_kestra_orchestr_namespace_flow_id_execution_i_idx;", rule: "drop-index-blocking", msg: locks},
		{name: "a long table's index, another cut", schema: "CREATE TABLE " + long + " (flow_id int);\nCREATE INDEX ON " + long + " (flow_id);\n",
			src: "DROP INDEX IF EXISTS " + long[:50] + "_flow_id_idx;", probe: absent(long[:50] + "_flow_id_idx"), rule: "drop-index-blocking", msg: nothing},
		{name: "cut at a character boundary", schema: "CREATE TABLE " + wide + " (id int PRIMARY KEY);\n",
			src: "DROP INDEX IF EXISTS " + wide[:57] + "_pkey;", fails: true, probe: exists(wide[:57] + "_pkey"), rule: "drop-index-blocking", msg: locks},
		{name: "cut at a character boundary, another name", schema: "CREATE TABLE " + wide + " (id int PRIMARY KEY);\n",
			src: "DROP INDEX IF EXISTS " + wide[:57] + "_key;", probe: absent(wide[:57] + "_key"), rule: "drop-index-blocking", msg: nothing},
		{name: "expressions", schema: "CREATE TABLE t (a text, b text);\nCREATE INDEX ON t (lower(a), (a || b), (b || a), (a::int), (('x'::text || b)::varchar));\n",
			src: "DROP INDEX IF EXISTS t_expr_idx;", probe: exists("t_lower_expr_expr1_a_varchar_idx"), rule: "drop-index-blocking", msg: nothing},
		{name: "expressions, dropped", schema: "CREATE TABLE t (a text, b text);\nCREATE INDEX ON t (lower(a), (a || b), (b || a), (a::int), (('x'::text || b)::varchar));\n",
			src: "DROP INDEX IF EXISTS t_lower_expr_expr1_a_varchar_idx;", rule: "drop-index-blocking", msg: locks},
		{name: "INCLUDE", schema: "CREATE TABLE t (a int, b int);\nCREATE UNIQUE INDEX ON t (a) INCLUDE (b);\n",
			src: "DROP INDEX IF EXISTS t_a_idx;", probe: exists("t_a_b_idx"), rule: "drop-index-blocking", msg: nothing},
		{name: "EXCLUDE", schema: "CREATE TABLE t (a int, EXCLUDE USING btree (a WITH =));\n",
			src: "DROP INDEX IF EXISTS t_a_idx;", probe: exists("t_a_excl"), rule: "drop-index-blocking", msg: nothing},
		{name: "a number", schema: "CREATE TABLE t (a int);\nCREATE INDEX ON t (a);\nCREATE INDEX ON t (a);\n",
			src: "DROP INDEX IF EXISTS t_a_idx1;", rule: "drop-index-blocking", msg: locks},
		{name: "a column's UNIQUE", schema: "CREATE TABLE t (a int UNIQUE, b int);\n",
			src: "DROP INDEX IF EXISTS t_b_key;", probe: exists("t_a_key"), rule: "drop-index-blocking", msg: nothing},
		{name: "LIKE … INCLUDING INDEXES", schema: "CREATE TABLE s (a int PRIMARY KEY, b int UNIQUE);\nCREATE TABLE c (LIKE s INCLUDING INDEXES);\n",
			src: "DROP INDEX IF EXISTS c_b_key;", fails: true, rule: "drop-index-blocking", msg: locks},
		{name: "LIKE … INCLUDING INDEXES, no label", schema: "CREATE TABLE s (a int PRIMARY KEY, b int UNIQUE);\nCREATE TABLE c (LIKE s INCLUDING INDEXES);\n",
			src: "DROP INDEX IF EXISTS c_b;", probe: exists("c_pkey"), rule: "drop-index-blocking", msg: nothing},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, conn) })
	}
}
