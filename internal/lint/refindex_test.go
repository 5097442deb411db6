package lint

import (
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestRefIndexesAnswerAsScans runs random histories of the statements that make, rename, move and drop
// what the reverse indexes follow (owned sequences, named indexes, views, expression indexes, foreign
// keys) and checks, after each statement, that every index lists exactly what a scan of the whole state
// finds, for every key the state knows.
func TestRefIndexesAnswerAsScans(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(2))
	pick := func(xs ...string) string { return xs[rng.Intn(len(xs))] }
	rel := func() string {
		name := pick("t1", "t2", "t3", "t4", "v1", "v2", "s1", "t1_id_seq", "t2_id_seq", "ix1", "ix2")
		if rng.Intn(3) == 0 {
			return pick("app.", "other.") + name
		}
		return name
	}
	col := func() string { return pick("id", "a", "b", "ref") }
	statement := func() string {
		switch rng.Intn(23) {
		case 0, 1:
			return fmt.Sprintf("CREATE TABLE %s (id %s PRIMARY KEY, a int, b text, ref int REFERENCES %s)", rel(), pick("serial", "bigserial", "int GENERATED ALWAYS AS IDENTITY", "int"), rel())
		case 2:
			return fmt.Sprintf("CREATE INDEX %s ON %s (%s)", pick("ix1", "ix2", "ix3"), rel(), pick("a", "lower(b)", "(a + 1)", "b) WHERE (a > 0"))
		case 3:
			return fmt.Sprintf("CREATE VIEW %s AS SELECT x.a, y.b FROM %s x JOIN %s y ON x.id = y.id", pick("v1", "v2", "app.v1"), rel(), rel())
		case 4:
			return fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS SELECT a, b FROM %s", pick("v1", "v2", "app.m1"), rel())
		case 5:
			return fmt.Sprintf("ALTER TABLE %s RENAME TO %s", rel(), pick("t1", "t2", "t3", "t5", "v1", "ix1", "s1"))
		case 6:
			return fmt.Sprintf("ALTER %s %s SET SCHEMA %s", pick("TABLE", "VIEW", "SEQUENCE"), rel(), pick("app", "other", "public"))
		case 7:
			return fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", rel(), col(), col())
		case 8:
			return fmt.Sprintf("DROP %s %s%s", pick("TABLE", "VIEW", "INDEX", "SEQUENCE", "MATERIALIZED VIEW"), rel(), pick("", " CASCADE"))
		case 9:
			return fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", rel(), col())
		case 10:
			return fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s", rel(), pick("fk1", "fk2"), col(), rel())
		case 11:
			return fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", rel(), pick("fk1", "fk2", "t1_pkey"))
		case 12:
			return fmt.Sprintf("CREATE SEQUENCE %s OWNED BY %s.%s", pick("s1", "s2", "app.s1"), rel(), col())
		case 13:
			return fmt.Sprintf("ALTER SEQUENCE %s OWNED BY %s", rel(), pick("NONE", "t1.a", "app.t2.id"))
		case 14:
			return fmt.Sprintf("ALTER INDEX %s RENAME TO %s", pick(rel(), "t1_pkey", "app.t2_pkey", "uq1"), pick("ix1", "ix2", "ix4", "uq2"))
		case 15:
			return fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s)", rel(), pick("uq1", "uq2", "fk1"), col())
		case 16:
			return fmt.Sprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", rel(), pick("fk1", "uq1", "t1_pkey"), pick("fk2", "uq2", "ix1"))
		case 17:
			return fmt.Sprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES IN (%d)", rel(), rel(), rng.Intn(9))
		case 18:
			return fmt.Sprintf("CREATE TABLE %s (c int) INHERITS (%s, %s)", rel(), rel(), rel())
		case 19:
			return fmt.Sprintf("ALTER TABLE %s %sINHERIT %s", rel(), pick("", "NO "), rel())
		case 20:
			return fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s %s", rel(), rel(), pick("DEFAULT", "FOR VALUES IN (1)"))
		case 21:
			return fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s", rel(), rel())
		default:
			return fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP IDENTITY IF EXISTS", rel(), col())
		}
	}
	scans := func(s *state) map[string]map[string][]string {
		out := map[string]map[string][]string{"owned": {}, "indexes": {}, "views": {}, "expr": {}, "refs": {}, "constraints": {}, "children": {}}
		for part, parent := range s.partOf {
			out["children"][parent] = append(out["children"][parent], part)
		}
		for child, parents := range s.inherits {
			for _, parent := range parents {
				if !slices.Contains(out["children"][parent], child) {
					out["children"][parent] = append(out["children"][parent], child)
				}
			}
		}
		for seq, owner := range s.owned {
			tk, _ := splitOwner(owner)
			out["owned"][tk] = append(out["owned"][tk], seq)
		}
		for ix, tk := range s.indexTable {
			out["indexes"][tk] = append(out["indexes"][tk], ix)
		}
		for v, used := range s.viewCols {
			for tk := range used {
				out["views"][tk] = append(out["views"][tk], v)
			}
		}
		for tk, tb := range s.tables {
			for ix := range tb.exprIndexes {
				out["expr"][ix] = append(out["expr"][ix], tk)
			}
			for name, kc := range tb.constraints {
				if kc.ref != "" && !slices.Contains(out["refs"][kc.ref], tk) {
					out["refs"][kc.ref] = append(out["refs"][kc.ref], tk)
				}
				k := constraintKey(keySchema(tk), name)
				out["constraints"][k] = append(out["constraints"][k], tk)
			}
		}
		for _, m := range out {
			for k := range m {
				slices.Sort(m[k])
			}
		}
		return out
	}
	checked := 0
	for history := 0; history < 200; history++ {
		s := newState()
		var sqls []string
		for i := 0; i < 40; i++ {
			sql := statement()
			sqls = append(sqls, sql)
			for _, st := range sqlparse.Parse(sql) {
				if st.Err != nil {
					t.Fatalf("%s: %v", sql, st.Err)
				}
				s.learnStatement(&st, rng.Intn(2) == 0)
			}
			want := scans(s)
			keys := map[string]bool{}
			for _, m := range want {
				for k, vs := range m {
					keys[k] = true
					for _, v := range vs {
						keys[v] = true
					}
				}
			}
			for k := range s.exists {
				keys[k] = true
			}
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				got := map[string][]string{
					"owned": s.ownedSeqs(k), "indexes": s.indexesOn(k), "views": s.viewsOf(k),
					"expr": s.exprIndexTables(k), "refs": s.referencing(k), "children": s.children(k),
				}
				if sch, name, ok := strings.Cut(k, "\x00"); ok {
					got = map[string][]string{"constraints": s.constraintTables(sch, name)}
				}
				for kind, g := range got {
					if !slices.Equal(g, want[kind][k]) {
						t.Fatalf("after\n%s\nthe %s index says %q for %s, a scan %q", sqlsText(sqls), kind, g, k, want[kind][k])
					}
					checked++
				}
			}
		}
	}
	if checked < 10000 {
		t.Fatalf("only %d lookups checked: the histories build too little", checked)
	}
}

func sqlsText(sqls []string) string {
	out := ""
	for _, s := range sqls {
		out += s + ";\n"
	}
	return out
}
