package lint

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestCheckNamesMatchServer: the CHECK constraints the state follows, statically, are those PostgreSQL
// has after the same statements, under the same names (the one given, else the one ChooseConstraintName
// picks), validated or not, over the same columns, declared by the table or inherited from how many
// parents (conislocal, coninhcount). Each case runs on the server, whose pg_constraint is the expected
// answer; server names one name it must have chosen, so that a case that no longer tests what it says
// fails.
func TestCheckNamesMatchServer(t *testing.T) {
	long := strings.Repeat("é", 31) // 62 bytes: any generated name from it is cut
	tests := []struct {
		name, schema string
		server       string // a name the server must choose
	}{
		// makeObjectName cuts with pg_mbcliplen, never inside a character.
		{"multibyte table, column check", fmt.Sprintf("CREATE TABLE %q (qty int CHECK (qty > 0));", long),
			strings.Repeat("é", 26) + "_qty_check"},
		{"multibyte table, table check", fmt.Sprintf("CREATE TABLE %q (a int, b int, CHECK (a < b));", long),
			strings.Repeat("é", 28) + "_check"},
		{"multibyte column", fmt.Sprintf("CREATE TABLE t (%q int CHECK (%[1]q > 0));", long),
			"t_" + strings.Repeat("é", 27) + "_check"},
		{"multibyte, numbered", fmt.Sprintf("CREATE TABLE %q (a int, b int, CHECK (a < b), CHECK (a > b - 10), CHECK (b > 0 AND a > 0));", long),
			strings.Repeat("é", 28) + "_check2"},
		{"multibyte column, numbered", fmt.Sprintf("CREATE TABLE t (%q int CHECK (%[1]q > 0) CHECK (%[1]q < 10));", long),
			"t_" + strings.Repeat("é", 27) + "_check1"},
		// ChooseConstraintName looks for the name among every constraint of the schema.
		{"another table's check", "CREATE TABLE orders_qty (a int, b int, CHECK (a < b));\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check1"},
		{"another table's named check", "CREATE TABLE items (a int CONSTRAINT orders_qty_check CHECK (a > 0));\nCREATE TABLE orders (qty int);\nALTER TABLE orders ADD CHECK (qty > 0);",
			"orders_qty_check1"},
		{"another schema's check", "CREATE SCHEMA s2;\nCREATE TABLE s2.orders_qty (a int, b int, CHECK (a < b));\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check"},
		{"in another schema, that schema's checks", "CREATE SCHEMA s2;\nCREATE TABLE s2.orders_qty (a int, b int, CHECK (a < b));\nCREATE TABLE orders_qty (a int, b int, CHECK (a < b));\nCREATE TABLE s2.orders (qty int CHECK (qty > 0));",
			"orders_qty_check1"},
		{"the other table dropped", "CREATE TABLE orders_qty (a int, b int, CHECK (a < b));\nDROP TABLE orders_qty;\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check"},
		{"the other table moved", "CREATE SCHEMA s2;\nCREATE TABLE orders_qty (a int, b int, CHECK (a < b));\nALTER TABLE orders_qty SET SCHEMA s2;\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check"},
		{"the other check dropped", "CREATE TABLE orders_qty (a int, b int, CHECK (a < b));\nALTER TABLE orders_qty DROP CONSTRAINT orders_qty_check;\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check"},
		{"names differing in case", "CREATE TABLE \"Orders\" (qty int);\nCREATE TABLE orders (qty int CHECK (qty > 0));\nALTER TABLE \"Orders\" ADD CHECK (qty > 0);",
			"Orders_qty_check"},
		// CREATE TABLE marks its CHECKs valid, NOT VALID ones too: the table is empty.
		{"not valid in CREATE TABLE", "CREATE TABLE m (a int, CONSTRAINT k CHECK (a > 0) NOT VALID, CHECK (a < 10) NOT VALID);",
			"m_a_check"},
		// It looks among the constraints of every kind, a domain's too (PostgreSQL 15 gives a domain's NOT
		// NULL no pg_constraint row), not among the indexes.
		{"a unique constraint's name", "CREATE TABLE items (a int CONSTRAINT orders_qty_check UNIQUE);\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check1"},
		{"a primary key's name", "CREATE TABLE items (b int, CONSTRAINT orders_qty_check PRIMARY KEY (b));\nCREATE TABLE orders (qty int);\nALTER TABLE orders ADD CHECK (qty > 0);",
			"orders_qty_check1"},
		{"a foreign key's name", "CREATE TABLE r (id int PRIMARY KEY);\nCREATE TABLE items (x int CONSTRAINT orders_qty_check REFERENCES r, y int);\n" +
			"ALTER TABLE items ADD CONSTRAINT orders_qty_check1 FOREIGN KEY (y) REFERENCES r;\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check2"},
		{"an exclusion constraint's name", "CREATE TABLE ex (r int4range, p int, CONSTRAINT orders_qty_check EXCLUDE USING gist (r WITH &&));\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check1"},
		{"a constraint named after its index", "CREATE TABLE items (a int, b int);\nCREATE UNIQUE INDEX orders_qty_check ON items (a);\nCREATE UNIQUE INDEX bi ON items (b);\n" +
			"ALTER TABLE items ADD UNIQUE USING INDEX orders_qty_check;\nALTER TABLE items ADD CONSTRAINT orders_qty_check1 UNIQUE USING INDEX bi;\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check2"},
		{"an index's name", "CREATE TABLE items (a int);\nCREATE UNIQUE INDEX orders_qty_check ON items (a);\nCREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check"},
		{"a domain's checks", "CREATE DOMAIN orders_qty AS int CHECK (VALUE > 0) CHECK (VALUE < 100);\nCREATE DOMAIN d AS int CONSTRAINT orders_qty_check2 CHECK (VALUE > 0);\n" +
			"CREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check3"},
		{"a domain's added check", "CREATE DOMAIN orders_qty AS int;\nALTER DOMAIN orders_qty ADD CHECK (VALUE > 0);\nALTER DOMAIN orders_qty ADD CONSTRAINT orders_qty_check1 CHECK (VALUE < 100);\n" +
			"CREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check2"},
		{"a domain's not null, another schema's domain", "CREATE SCHEMA s2;\nCREATE DOMAIN d AS int CONSTRAINT orders_qty_check NOT NULL;\nCREATE DOMAIN s2.orders_qty AS int CHECK (VALUE > 0);\n" +
			"CREATE TABLE orders (qty int CHECK (qty > 0));",
			"orders_qty_check"},
		// Their names leave with them: dropped, with their column or table, renamed, moved.
		{"constraints dropped", "CREATE TABLE items (a int CONSTRAINT orders_qty_check UNIQUE, b int CONSTRAINT orders_qty_check1 PRIMARY KEY, c int CONSTRAINT orders_qty_check2 UNIQUE);\n" +
			"ALTER TABLE items DROP CONSTRAINT orders_qty_check;\nALTER TABLE items DROP COLUMN c;\nCREATE TABLE orders (qty int CHECK (qty > 0) CHECK (qty < 100) CHECK (qty <> 7));",
			"orders_qty_check3"},
		{"constraints dropped with their tables", "CREATE TABLE r (id int PRIMARY KEY);\nCREATE TABLE items (a int CONSTRAINT orders_qty_check UNIQUE);\n" +
			"CREATE TABLE fk (x int CONSTRAINT orders_qty_check1 REFERENCES r);\nCREATE TABLE items2 (a int CONSTRAINT orders_qty_check2 UNIQUE);\n" +
			"DROP TABLE items;\nDROP TABLE r CASCADE;\nCREATE TABLE orders (qty int CHECK (qty > 0) CHECK (qty < 100) CHECK (qty <> 7));",
			"orders_qty_check3"},
		{"constraints renamed", "CREATE TABLE items (a int CONSTRAINT orders_qty_check UNIQUE, b int CONSTRAINT u UNIQUE, c int CONSTRAINT v UNIQUE);\n" +
			"ALTER TABLE items RENAME CONSTRAINT orders_qty_check TO w;\nALTER TABLE items RENAME CONSTRAINT u TO orders_qty_check1;\nALTER INDEX v RENAME TO orders_qty_check2;\n" +
			"CREATE TABLE orders (qty int CHECK (qty > 0) CHECK (qty < 100));",
			"orders_qty_check3"},
		{"renamed column's constraint dropped with it", "CREATE TABLE items (a int CONSTRAINT orders_qty_check UNIQUE, b int CONSTRAINT orders_qty_check1 UNIQUE);\n" +
			"ALTER TABLE items RENAME COLUMN a TO x;\nALTER TABLE items DROP COLUMN x;\nCREATE TABLE orders (qty int CHECK (qty > 0) CHECK (qty < 100));",
			"orders_qty_check2"},
		{"domains' checks dropped, renamed, moved", "CREATE SCHEMA s2;\nCREATE DOMAIN d AS int CONSTRAINT orders_qty_check CHECK (VALUE > 0) CONSTRAINT x CHECK (VALUE < 100);\n" +
			"ALTER DOMAIN d DROP CONSTRAINT orders_qty_check;\nALTER DOMAIN d RENAME CONSTRAINT x TO orders_qty_check1;\n" +
			"CREATE DOMAIN d2 AS int CONSTRAINT orders_qty_check2 CHECK (VALUE > 0);\nALTER DOMAIN d2 SET SCHEMA s2;\n" +
			"CREATE DOMAIN d3 AS int CONSTRAINT orders_qty_check3 CHECK (VALUE > 0);\nALTER DOMAIN d3 RENAME TO d4;\n" +
			"CREATE DOMAIN d5 AS int CONSTRAINT orders_qty_check4 CHECK (VALUE > 0);\nDROP DOMAIN d5;\n" +
			"CREATE TABLE orders (qty int CHECK (qty > 0) CHECK (qty < 100) CHECK (qty <> 7));",
			"orders_qty_check4"},
		// LIKE … INCLUDING CONSTRAINTS copies the CHECKs under their names, valid (the table is empty).
		{"like including constraints", "CREATE TABLE src (c int CHECK (c > 0), d int);\nALTER TABLE src ADD CHECK (c < d) NOT VALID;\nCREATE TABLE m (LIKE src INCLUDING CONSTRAINTS, CHECK (d > 0));",
			"m_d_check"},
		{"like including all", "CREATE TABLE src (c int CONSTRAINT k CHECK (c > 0));\nCREATE TABLE m (LIKE src INCLUDING ALL);",
			"k"},
		{"like excluding constraints", "CREATE TABLE src (c int CHECK (c > 0));\nCREATE TABLE m (LIKE src INCLUDING ALL EXCLUDING CONSTRAINTS);",
			"src_c_check"},
		{"like without constraints", "CREATE TABLE src (c int CHECK (c > 0));\nCREATE TABLE m (LIKE src);\nALTER TABLE m ADD CHECK (c > 0);",
			"m_c_check"},
		// RENAME COLUMN keeps the CHECK's name; the CHECK now uses the new name.
		{"renamed column", "CREATE TABLE m (x int CHECK (x > 0), d int, CHECK (x < d));\nALTER TABLE m RENAME COLUMN x TO c;\nALTER TABLE m ADD CHECK (c < 100);",
			"m_c_check"},
		{"renamed column, named after the old", "CREATE TABLE m (x int CHECK (x > 0));\nALTER TABLE m RENAME COLUMN x TO c;\nALTER TABLE m ADD COLUMN x int CHECK (x > 1);",
			"m_x_check1"},
		// RENAME CONSTRAINT: the CHECK goes by its new name, and its old one is free again.
		{"renamed check, its name free", "CREATE TABLE orders (qty int CHECK (qty > 0));\nALTER TABLE orders RENAME CONSTRAINT orders_qty_check TO qty_positive;\nALTER TABLE orders ADD CHECK (qty < 100);",
			"orders_qty_check"},
		{"renamed to a generated name", "CREATE TABLE orders (qty int CONSTRAINT k CHECK (qty > 0));\nALTER TABLE orders RENAME CONSTRAINT k TO orders_qty_check;\nALTER TABLE orders ADD CHECK (qty < 100);",
			"orders_qty_check1"},
		// A partition has its partitioned table's CHECKs, which follow the table's ADD, RENAME, DROP and
		// VALIDATE; attached, it must have them already; detached, it keeps them.
		{"partitions", "CREATE TABLE p (qty int, b int, CHECK (qty > 0)) PARTITION BY RANGE (qty);\nALTER TABLE p ADD CONSTRAINT nv CHECK (b > 0) NOT VALID;\n" +
			"CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10);\nCREATE TABLE p2 (qty int, b int, CONSTRAINT p_qty_check CHECK (qty > 0), CONSTRAINT nv CHECK (b > 0));\n" +
			"ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (10) TO (20);\nALTER TABLE p ADD CHECK (b < 100);\nALTER TABLE p1 ADD CHECK (qty < 5);\n" +
			"CREATE TABLE p4 PARTITION OF p (CONSTRAINT own CHECK (b <> 7)) FOR VALUES FROM (30) TO (40);",
			"p1_qty_check"},
		{"partitions follow their table", "CREATE TABLE p (qty int, b int, CHECK (qty > 0)) PARTITION BY RANGE (qty);\nALTER TABLE p ADD CONSTRAINT nv CHECK (b > 0) NOT VALID;\n" +
			"CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10);\nCREATE TABLE p2 (qty int, b int, CONSTRAINT p_qty_check CHECK (qty > 0), CONSTRAINT nv CHECK (b > 0));\n" +
			"ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (10) TO (20);\nALTER TABLE p ADD CHECK (b < 100);\nALTER TABLE p1 ADD CHECK (qty < 5);\n" +
			"ALTER TABLE p RENAME CONSTRAINT p_qty_check TO pos;\nALTER TABLE p DROP CONSTRAINT nv;\nALTER TABLE p DETACH PARTITION p2;\nALTER TABLE p DROP CONSTRAINT p_b_check;",
			"pos"},
		{"partitions, not valid then validated", "CREATE TABLE p (qty int, b int) PARTITION BY RANGE (qty);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10);\n" +
			"CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);\nALTER TABLE p ADD CHECK (b > 0) NOT VALID;\nALTER TABLE p ADD CHECK (qty > 0) NOT VALID;\nALTER TABLE p VALIDATE CONSTRAINT p_qty_check;",
			"p_b_check"},
		// Inheritance children (INHERITS, ALTER TABLE … INHERIT) get their parents' CHECKs as partitions
		// do, but for those NO INHERIT, and merge them with their own of the same name and expression.
		{"inheritance", "CREATE TABLE parent (a int, b int, CONSTRAINT pk CHECK (a > 0), CONSTRAINT ni CHECK (b > 0) NO INHERIT);\n" +
			"ALTER TABLE parent ADD CONSTRAINT nv CHECK (a < 100) NOT VALID;\nCREATE TABLE child (c int) INHERITS (parent);\n" +
			"CREATE TABLE child2 (a int, CONSTRAINT pk CHECK (a > 0)) INHERITS (parent);\nALTER TABLE parent ADD CHECK (b < 50);",
			"parent_b_check"},
		{"inheritance, not valid then validated", "CREATE TABLE parent (a int, b int);\nCREATE TABLE child (c int) INHERITS (parent);\n" +
			"CREATE TABLE grandchild () INHERITS (child);\nALTER TABLE parent ADD CONSTRAINT k CHECK (a IS NOT NULL) NOT VALID;\n" +
			"ALTER TABLE parent ADD CHECK (b > 0) NOT VALID;\nALTER TABLE parent VALIDATE CONSTRAINT k;",
			"parent_b_check"},
		{"inheritance, merged and dropped", "CREATE TABLE parent (a int, b int);\nCREATE TABLE child (c int) INHERITS (parent);\n" +
			"CREATE TABLE child2 (a int, CONSTRAINT k CHECK (a IS NOT NULL)) INHERITS (parent);\n" +
			"ALTER TABLE parent ADD CONSTRAINT k CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE parent ADD CONSTRAINT v CHECK (b > 0);\n" +
			"ALTER TABLE parent DROP CONSTRAINT k;\nALTER TABLE ONLY parent DROP CONSTRAINT v;\nALTER TABLE child ADD CHECK (c > 0);",
			"child_c_check"},
		{"inheritance, inherit and no inherit", "CREATE TABLE parent (a int, b int, CONSTRAINT k CHECK (a IS NOT NULL), CHECK (b > 0));\n" +
			"CREATE TABLE child () INHERITS (parent);\nCREATE TABLE loose (a int, b int, CONSTRAINT k CHECK (a IS NOT NULL), CONSTRAINT parent_b_check CHECK (b > 0));\n" +
			"ALTER TABLE loose INHERIT parent;\nALTER TABLE child NO INHERIT parent;\nALTER TABLE parent DROP CONSTRAINT k;",
			"parent_b_check"},
		{"multiple inheritance", "CREATE TABLE parent (a int, b int, CONSTRAINT k CHECK (a IS NOT NULL), CHECK (b > 0));\n" +
			"CREATE TABLE p2 (a int, CONSTRAINT k CHECK (a IS NOT NULL));\nCREATE TABLE multi () INHERITS (parent, p2);\n" +
			"ALTER TABLE parent DROP CONSTRAINT k;",
			"parent_b_check"},
		{"inheritance from two sides", "CREATE TABLE top (a int);\nCREATE TABLE l () INHERITS (top);\nCREATE TABLE r () INHERITS (top);\n" +
			"CREATE TABLE bottom () INHERITS (l, r);\nALTER TABLE top ADD CONSTRAINT k CHECK (a > 0);\nALTER TABLE top ADD CHECK (a < 10);",
			"top_a_check"},
		{"inheritance, renamed column and check", "CREATE TABLE parent (a int CHECK (a > 0));\nCREATE TABLE child () INHERITS (parent);\n" +
			"CREATE TABLE grandchild () INHERITS (child);\nALTER TABLE parent RENAME COLUMN a TO x;\n" +
			"ALTER TABLE parent RENAME CONSTRAINT parent_a_check TO pos;\nALTER TABLE grandchild ADD CHECK (x < 10);",
			"grandchild_x_check"},
		{"inheritance, dropped column", "CREATE TABLE par (a int, b int, CONSTRAINT k CHECK (a > 0), CONSTRAINT kb CHECK (b > 0));\n" +
			"CREATE TABLE ch () INHERITS (par);\nCREATE TABLE ch2 (a int, CONSTRAINT own CHECK (a < 100)) INHERITS (par);\n" +
			"CREATE TABLE ch3 (a int, b int, CONSTRAINT k CHECK (a > 0), CONSTRAINT kb CHECK (b > 0));\nALTER TABLE ch3 INHERIT par;\n" +
			"CREATE TABLE gch () INHERITS (ch);\nCREATE TABLE p (a int, b int, CONSTRAINT k CHECK (a > 0)) PARTITION BY RANGE (b);\n" +
			"CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10);\nCREATE TABLE p2 (a int, b int, CONSTRAINT k CHECK (a > 0), CONSTRAINT own CHECK (a < 100));\n" +
			"ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (10) TO (20);\nALTER TABLE par DROP COLUMN a;\nALTER TABLE p DROP COLUMN a;\nALTER TABLE ch ADD CHECK (b < 10);",
			"ch_b_check"},
		{"like a no inherit check", "CREATE TABLE src (a int CHECK (a > 0) NO INHERIT);\nCREATE TABLE lk (LIKE src INCLUDING CONSTRAINTS);\nCREATE TABLE ch () INHERITS (lk);",
			"src_a_check"},
		{"inheritance child in another schema", "CREATE SCHEMA s2;\nCREATE TABLE parent (a int CHECK (a > 0));\n" +
			"CREATE TABLE s2.child () INHERITS (parent);\nCREATE TABLE s2.parent (a int CHECK (a > 0));",
			"parent_a_check1"},
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	var encoding string
	if err := conn.QueryRow(ctx, "SHOW server_encoding").Scan(&encoding); err != nil {
		t.Fatal(err)
	}
	if encoding != "UTF8" {
		t.Fatalf("server_encoding %s: the multibyte cases need UTF8", encoding)
	}
	// Each table's CHECKs: "schema.table name valid|not-valid (columns) local|inherited from n".
	const checks = `SELECT n.nspname || '.' || c.relname, k.conname::text, k.convalidated,
		coalesce((SELECT array_agg(a.attname::text) FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)), '{}'),
		k.conislocal, k.coninhcount, k.connoinherit
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'c' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inRolledBackTx(t, conn, tt.schema)
			rows, err := conn.Query(ctx, checks)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			chosen := false
			for rows.Next() {
				var rel, name string
				var valid, local, noInherit bool
				var cols []string
				var parents int
				if err := rows.Scan(&rel, &name, &valid, &cols, &local, &parents, &noInherit); err != nil {
					t.Fatal(err)
				}
				want = append(want, checkRow(rel, name, valid, cols)+checkOrigin(local, parents, noInherit))
				chosen = chosen || name == tt.server
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !chosen {
				t.Fatalf("the server chose no %q (%q): the case is wrong", tt.server, want)
			}
			st := loadSchema(Config{Schema: tt.schema})
			var got []string
			for key, tb := range st.tables {
				for _, ck := range tb.checks {
					got = append(got, checkRow(key, ck.name, ck.validated, ck.cols)+checkOrigin(ck.local, ck.parents, ck.noInherit))
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("CHECKs\n got %q\nwant %q (the server's)", got, want)
			}
		})
	}
}

// checkRow describes a CHECK of table rel for TestCheckNamesMatchServer.
func checkRow(rel, name string, valid bool, cols []string) string {
	set := map[string]bool{}
	for _, c := range cols {
		set[c] = true
	}
	v := "valid"
	if !valid {
		v = "not valid"
	}
	return fmt.Sprintf("%s %s %s (%s)", rel, name, v, strings.Join(slices.Sorted(maps.Keys(set)), ","))
}

// checkOrigin says where a table has a CHECK from, for TestCheckNamesMatchServer: declared (local), from
// how many parents, and whether the tables below get it.
func checkOrigin(local bool, parents int, noInherit bool) string {
	var out string
	switch {
	case parents == 0:
		out = " local"
	case local:
		out = fmt.Sprintf(" local, inherited from %d", parents)
	default:
		out = fmt.Sprintf(" inherited from %d", parents)
	}
	if noInherit {
		out += ", no inherit"
	}
	return out
}

// TestPartitionCyclesEnd: ALTER TABLE t ATTACH PARTITION t, or two tables attached to each other, is
// refused by PostgreSQL, but the static state records it as written. What follows a table's partitions
// (RENAME COLUMN, ADD, VALIDATE, RENAME and DROP of a CHECK) recursed through them for ever: a pull
// request's migration crashed lint and check with a stack overflow. Each partition is now visited once.
func TestPartitionCyclesEnd(t *testing.T) {
	for name, attach := range map[string]string{
		"itself":        "ALTER TABLE t ATTACH PARTITION t FOR VALUES FROM (1) TO (2);\n",
		"each other":    "ALTER TABLE t ATTACH PARTITION u FOR VALUES FROM (1) TO (2);\nALTER TABLE u ATTACH PARTITION t FOR VALUES FROM (1) TO (2);\n",
		"a longer loop": "ALTER TABLE t ATTACH PARTITION u FOR VALUES FROM (1) TO (2);\nALTER TABLE u ATTACH PARTITION v FOR VALUES FROM (1) TO (2);\nALTER TABLE v ATTACH PARTITION t FOR VALUES FROM (1) TO (2);\n",
		"inheritance":   "ALTER TABLE t INHERIT u;\nALTER TABLE u INHERIT t;\n",
		"both":          "ALTER TABLE t ATTACH PARTITION u FOR VALUES FROM (1) TO (2);\nALTER TABLE u INHERIT t;\n",
	} {
		t.Run(name, func(t *testing.T) {
			schema := "CREATE TABLE t (a int) PARTITION BY RANGE (a);\nCREATE TABLE u (a int) PARTITION BY RANGE (a);\nCREATE TABLE v (a int) PARTITION BY RANGE (a);\n" + attach +
				"ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t ADD CONSTRAINT k CHECK (b > 0) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT k;\n" +
				"ALTER TABLE t RENAME CONSTRAINT k TO k2;\nALTER TABLE t ADD CONSTRAINT gone CHECK (b < 10);\nALTER TABLE t DROP CONSTRAINT gone;\n"
			st := loadSchema(Config{Schema: schema})
			tb := st.tables["public.t"]
			if tb == nil {
				t.Fatal("table t unknown")
			}
			var got []string
			for _, ck := range tb.checks {
				got = append(got, checkRow("public.t", ck.name, ck.validated, ck.cols))
			}
			if want := []string{checkRow("public.t", "k2", true, []string{"b"})}; !slices.Equal(got, want) {
				t.Errorf("t's CHECKs %q, want %q", got, want)
			}
			if tb.cols["b"] == nil || tb.cols["a"] != nil {
				t.Errorf("t's column a is not b after the rename")
			}
		})
	}
}

// inRolledBackTx opens a transaction on conn that is rolled back when the (sub)test ends, and runs
// schema in it: each case of the tests that compare the state with the server starts from its own schema.
func inRolledBackTx(t *testing.T, conn *pgx.Conn, schema string) {
	t.Helper()
	ctx := t.Context()
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "ROLLBACK") })
	if _, err := conn.Exec(ctx, schema); err != nil {
		t.Fatal(err)
	}
}
