package lint

import (
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestCompositeAttributeTypeMatchesServer: PostgreSQL refuses ALTER TYPE … ALTER ATTRIBUTE … TYPE of a
// composite type a table column uses, directly or as an array ("cannot alter type … because column …
// uses it"), CASCADE or not: when the state knows such a column the finding is dangerous, the deploy
// stopping there; of a type no known column uses it is not.
func TestCompositeAttributeTypeMatchesServer(t *testing.T) {
	schema := "CREATE TYPE addr AS (zip text, street text);\nCREATE TABLE t (id int, ad addr);\nINSERT INTO t VALUES (1, ROW('1', 'x'));\n" +
		"CREATE TYPE tags AS (x int);\nCREATE TABLE t2 (id int, tg tags[]);\nCREATE TYPE spare AS (x int);\n"
	const fails = "fails: column t.ad is of type addr"
	tests := []struct {
		serverCase
		dangerous bool
	}{
		{serverCase{name: "column of the type", schema: schema, src: "ALTER TYPE addr ALTER ATTRIBUTE zip TYPE varchar(5);", fails: true,
			rule: "change-column-type-coercible", msg: fails}, true},
		{serverCase{name: "CASCADE", schema: schema, src: "ALTER TYPE addr ALTER ATTRIBUTE zip TYPE varchar(5) CASCADE;", fails: true,
			rule: "change-column-type-coercible", msg: fails}, true},
		{serverCase{name: "array column of the type", schema: schema, src: "ALTER TYPE tags ALTER ATTRIBUTE x TYPE bigint;", fails: true,
			rule: "change-column-type-coercible", msg: "fails: column t2.tg is of type tags"}, true},
		{serverCase{name: "type no column uses", schema: schema, src: "ALTER TYPE spare ALTER ATTRIBUTE x TYPE bigint;"}, false},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, conn)
			f := find(AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema}), "change-column-type-coercible")
			if got := f != nil && f.Risk == Dangerous && f.Lock == "— (ERROR)"; got != tt.dangerous {
				t.Errorf("change-column-type-coercible: %+v, want dangerous fails %v", f, tt.dangerous)
			}
		})
	}
}
