package lint

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestAfterAccessExclusiveLocksOnServer checks on PostgreSQL the locks afterAE reasons about: after
// the first statement of the transaction (src's first), the locks the transaction holds, and after the
// follow-up, which relations it locks that the first did not, or rewrites (a new relfilenode), or
// whether, under a short lock_timeout, it fails to get a lock a blocker's open transaction holds
// (55P03). A follow-up that locks another pre-existing relation, waits for a row, or rewrites a
// relation is no cheap one.
func TestAfterAccessExclusiveLocksOnServer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, schema, first string
		locks               map[string]string // relation -> the strongest lock the first statement holds on it
		then                string
		alsoLocks           []string // relations the follow-up locks that the first statement did not
		rewrites            string   // a relation the follow-up rewrites
		blocker             string   // run first in another session's transaction, open till the end
	}{
		{name: "ATTACH PARTITION locks the partition, not the partitioned table",
			schema: "CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2024 (at date NOT NULL);\n",
			first:  "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
			locks:  map[string]string{"events": "ShareUpdateExclusiveLock", "events_2024": "AccessExclusiveLock"},
			then:   "ALTER TABLE events ADD COLUMN note text", alsoLocks: []string{"events"}},
		{name: "DROP COLUMN of a foreign key's column locks the referenced table",
			schema: "CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);\n",
			first:  "ALTER TABLE orders ADD COLUMN y int", locks: map[string]string{"orders": "AccessExclusiveLock"},
			then: "ALTER TABLE orders DROP COLUMN customer_id", alsoLocks: []string{"customers"}},
		{name: "DROP COLUMN of another column",
			schema: "CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers, note text);\n",
			first:  "ALTER TABLE orders ADD COLUMN y int", locks: map[string]string{"orders": "AccessExclusiveLock"},
			then: "ALTER TABLE orders DROP COLUMN note"},
		{name: "DROP CONSTRAINT of a CHECK locks nothing more",
			schema: "CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers, note text, CONSTRAINT note_nn CHECK (note IS NOT NULL));\nINSERT INTO orders VALUES (5, NULL, 'x');\n",
			first:  "ALTER TABLE orders ALTER COLUMN note SET NOT NULL", locks: map[string]string{"orders": "AccessExclusiveLock"},
			then: "ALTER TABLE orders DROP CONSTRAINT note_nn"},
		{name: "ADD COLUMN serial rewrites the table",
			schema: "CREATE TABLE orders (id bigint PRIMARY KEY);\nINSERT INTO orders VALUES (5);\n",
			first:  "ALTER TABLE orders ADD COLUMN y int", locks: map[string]string{"orders": "AccessExclusiveLock"},
			then: "ALTER TABLE orders ADD COLUMN n bigserial", rewrites: "orders"},
		{name: "ADD COLUMN of a domain with a sequence DEFAULT rewrites the table",
			schema: "CREATE TABLE orders (id bigint PRIMARY KEY);\nINSERT INTO orders VALUES (5);\nCREATE SEQUENCE tickets;\nCREATE DOMAIN ticket_no AS bigint DEFAULT nextval('tickets');\n",
			first:  "ALTER TABLE orders ADD COLUMN y int", locks: map[string]string{"orders": "AccessExclusiveLock"},
			then: "ALTER TABLE orders ADD COLUMN n ticket_no", rewrites: "orders"},
		{name: "UPDATE of a column with a foreign key waits for the referenced row",
			schema:  "CREATE TABLE customers (id bigint PRIMARY KEY);\nINSERT INTO customers VALUES (1);\nCREATE TABLE orders (id bigint PRIMARY KEY);\nINSERT INTO orders VALUES (5);\n",
			blocker: "SELECT id FROM customers WHERE id = 1 FOR UPDATE",
			first:   "ALTER TABLE orders ADD COLUMN buyer_id bigint REFERENCES customers (id)", locks: map[string]string{"orders": "AccessExclusiveLock"},
			then: "UPDATE orders SET buyer_id = 1 WHERE id = 5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := pgtest.URL(t)
			ctx := t.Context()
			connect := func() *pgx.Conn {
				c, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				t.Cleanup(func() { c.Close(ctx) })
				return c
			}
			conn := connect()
			if _, err := conn.Exec(ctx, tt.schema); err != nil {
				t.Fatalf("schema: %v", err)
			}
			if tt.blocker != "" {
				other, err := connect().Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer other.Rollback(ctx) //nolint:errcheck // ends the blocker's transaction
				if _, err := other.Exec(ctx, tt.blocker); err != nil {
					t.Fatalf("%s: %v", tt.blocker, err)
				}
			}
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx) //nolint:errcheck // the test ends the transaction either way
			held := func() map[string]string {
				rows, err := tx.Query(ctx, `SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
					WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relkind IN ('r', 'p')`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				order := []string{"AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}
				got := map[string]string{}
				for rows.Next() {
					var rel, mode string
					if err := rows.Scan(&rel, &mode); err != nil {
						t.Fatal(err)
					}
					if slices.Index(order, mode) > slices.Index(order, got[rel]) {
						got[rel] = mode
					}
				}
				return got
			}
			node := func(rel string) (n uint32) {
				if rel != "" {
					if err := tx.QueryRow(ctx, "SELECT relfilenode FROM pg_class WHERE relname = $1", rel).Scan(&n); err != nil {
						t.Fatal(err)
					}
				}
				return n
			}
			if _, err := tx.Exec(ctx, tt.first); err != nil {
				t.Fatalf("%s: %v", tt.first, err)
			}
			before := held()
			for rel, mode := range tt.locks {
				if before[rel] != mode {
					t.Errorf("after %s, %s is locked %q, want %q (all: %v)", tt.first, rel, before[rel], mode, before)
				}
			}
			file := node(tt.rewrites)
			if tt.blocker != "" {
				if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '1s'"); err != nil {
					t.Fatal(err)
				}
				var pe *pgconn.PgError
				if _, err := tx.Exec(ctx, tt.then); !errors.As(err, &pe) || pe.Code != "55P03" {
					t.Errorf("%s while another session runs %s: %v, want it to wait for a lock (55P03)", tt.then, tt.blocker, err)
				}
				return
			}
			if _, err := tx.Exec(ctx, tt.then); err != nil {
				t.Fatalf("%s: %v", tt.then, err)
			}
			var also []string
			for rel, mode := range held() {
				if before[rel] != "AccessExclusiveLock" && before[rel] != mode {
					also = append(also, rel)
				}
			}
			if slices.Sort(also); !slices.Equal(also, tt.alsoLocks) {
				t.Errorf("%s locks %v that %s did not hold ACCESS EXCLUSIVE, want %v (before: %v)", tt.then, also, tt.first, tt.alsoLocks, slices.Sorted(maps.Keys(before)))
			}
			if tt.rewrites != "" && node(tt.rewrites) == file {
				t.Errorf("%s did not rewrite %s", tt.then, tt.rewrites)
			}
		})
	}
}

// TestDropColumnAfterAccessExclusiveNeedsTheHistory: without the history, lint cannot tell whether a
// foreign key uses the column a DROP COLUMN drops, so the DROP is no cheap follow-up.
func TestDropColumnAfterAccessExclusiveNeedsTheHistory(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nALTER TABLE orders ADD COLUMN y int;\nALTER TABLE orders DROP COLUMN customer_id;\n"
	f := find(AnalyzeScript(script(src), true, Config{}), "statement-after-access-exclusive")
	if f == nil || f.Risk != Dangerous {
		t.Errorf("statement-after-access-exclusive %v, want dangerous", f)
	}
}

// TestDropCheckAfterAccessExclusive: the end of the NOT NULL recipe, DROP CONSTRAINT of the CHECK that
// proved SET NOT NULL, in the same transaction, holds the ACCESS EXCLUSIVE little longer (caution, see
// TestAfterAccessExclusiveLocksOnServer), and multiple-alter-same-table does not ask to fold VALIDATE
// or that DROP into the SET NOT NULL's ALTER TABLE, where PostgreSQL would validate under ACCESS
// EXCLUSIVE or drop the CHECK first and scan. A CASCADE, a foreign key's drop (it locks the referenced
// table) or a CHECK the table's partitions have too (their copies go with it) stay dangerous.
func TestDropCheckAfterAccessExclusive(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE customers (id bigint PRIMARY KEY);\n" +
		"CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint CONSTRAINT orders_customer_fk REFERENCES customers, note text);\n" +
		"ALTER TABLE orders ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\n" +
		"CREATE TABLE events (id bigint, at date, CONSTRAINT at_nn CHECK (at IS NOT NULL)) PARTITION BY RANGE (at);\n" +
		"CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
	const head = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\n"
	for _, tt := range []struct {
		name, src string
		want      Risk
	}{
		{"the recipe's drop", "ALTER TABLE orders VALIDATE CONSTRAINT note_nn;\nALTER TABLE orders ALTER COLUMN note SET NOT NULL;\nALTER TABLE orders DROP CONSTRAINT note_nn;\n", Caution},
		{"cascade", "ALTER TABLE orders VALIDATE CONSTRAINT note_nn;\nALTER TABLE orders ALTER COLUMN note SET NOT NULL;\nALTER TABLE orders DROP CONSTRAINT note_nn CASCADE;\n", Dangerous},
		{"a foreign key", "ALTER TABLE orders ALTER COLUMN id SET NOT NULL;\nALTER TABLE orders DROP CONSTRAINT orders_customer_fk;\n", Dangerous},
		{"a CHECK the partitions have", "ALTER TABLE events ALTER COLUMN at SET NOT NULL;\nALTER TABLE events DROP CONSTRAINT at_nn;\n", Dangerous},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := AnalyzeScript(script(head+tt.src), true, Config{Schema: schema})
			f := find(fs, "statement-after-access-exclusive")
			if f == nil || f.Risk != tt.want {
				t.Errorf("statement-after-access-exclusive %v, want %v (all: %v)", f, tt.want, rulesOf(fs))
			}
			if tt.want == Caution {
				if m := find(fs, "multiple-alter-same-table"); m != nil {
					t.Errorf("multiple-alter-same-table at line %d: %s; VALIDATE and the DROP of the proving CHECK belong in statements of their own", m.Line, m.Message)
				}
				if find(fs, "set-not-null-proven") == nil {
					t.Errorf("no set-not-null-proven (all: %v)", rulesOf(fs))
				}
			}
		})
	}
}
