package rehearse_test

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestSequenceLockInADoBlock: ALTER SEQUENCE takes SHARE ROW EXCLUSIVE on the sequence, which every
// nextval() waits behind. Run by a DO block, which no rule reads, the trace is all that sees it; by
// name, the static analysis knows it and nothing more is said; the ROW EXCLUSIVE an INSERT takes to draw
// a default says nothing of risk.
func TestSequenceLockInADoBlock(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_t.up.sql": "CREATE TABLE t (id bigserial PRIMARY KEY, v text);", "1_t.down.sql": "DROP TABLE t;",
		"2_do.up.sql":      "SET lock_timeout = '1s';\nDO $$ BEGIN EXECUTE 'ALTER SEQUENCE t_id_seq RESTART WITH 100'; END $$;\n",
		"2_do.down.sql":    "SET lock_timeout = '1s';\nDO $$ BEGIN EXECUTE 'ALTER SEQUENCE t_id_seq RESTART WITH 1'; END $$;\n",
		"3_plain.up.sql":   "SET lock_timeout = '1s';\nALTER SEQUENCE t_id_seq INCREMENT BY 2;\n",
		"3_plain.down.sql": "SET lock_timeout = '1s';\nALTER SEQUENCE t_id_seq INCREMENT BY 1;\n",
		"4_rows.up.sql":    "INSERT INTO t (v) VALUES ('x');\n", "4_rows.down.sql": "DELETE FROM t WHERE v = 'x';\n",
	})
	rep, err := rehearse.Run(t.Context(), rehearse.Options{Set: set, Provider: provider(t)})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{}
	for _, m := range rep.Migrations {
		for _, f := range m.Findings {
			if f.Rule == "unexplained-exclusive-lock" {
				found[m.Version] = append(found[m.Version], f.Message)
			}
		}
	}
	do := strings.Join(found["2"], "\n")
	if !strings.Contains(do, "SHARE ROW EXCLUSIVE on sequence public.t_id_seq") || !strings.Contains(do, "nextval()") {
		t.Errorf("migration 2: unexplained-exclusive-lock %q, want one naming SHARE ROW EXCLUSIVE on sequence public.t_id_seq and what waits", found["2"])
	}
	if len(found["3"]) > 0 || len(found["4"]) > 0 {
		t.Errorf("unexplained-exclusive-lock on a plain ALTER SEQUENCE %q or an INSERT %q, want none", found["3"], found["4"])
	}
}
