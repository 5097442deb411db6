package lint

import (
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestRenamedTableFindingsMatchServer: after a table (or view) is renamed or moved to another schema,
// what the state knows of it is known under its new name: the views that use its columns, its partition
// key and whether a CHECK can prove a bound, its DEFAULT partition (and a DEFAULT partition's own new
// name), the indexes that move to the new schema with it. Left under the old name, each made a finding
// wrong: a failing statement or a scan missed, or a scan reported that does not happen.
func TestRenamedTableFindingsMatchServer(t *testing.T) {
	const view = "CREATE TABLE m (x int, d int);\nCREATE VIEW v AS SELECT x FROM m;\n"
	const parted = "CREATE TABLE p (x int, v int) PARTITION BY RANGE (x);\n"
	tests := []serverCase{
		{name: "view, table renamed",
			schema: view + "ALTER TABLE m RENAME TO n;\n",
			src:    "ALTER TABLE n DROP COLUMN x;", fails: true,
			rule: "drop-column", msg: "DROP COLUMN n.x fails: view v uses it"},
		{name: "view, table moved to another schema",
			schema: "CREATE SCHEMA s2;\n" + view + "ALTER TABLE m SET SCHEMA s2;\n",
			src:    "ALTER TABLE s2.m ALTER COLUMN x TYPE bigint;", fails: true,
			rule: "change-column-type-rewrite", msg: "it fails: v uses the column"},
		{name: "view renamed",
			schema: view + "ALTER VIEW v RENAME TO w;\n",
			src:    "ALTER TABLE m DROP COLUMN x;", fails: true,
			rule: "drop-column", msg: "DROP COLUMN m.x fails: view w uses it"},
		{name: "partitioned table renamed, ONLY",
			schema: parted + "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10);\nALTER TABLE p RENAME TO q;\n",
			src:    "ALTER TABLE ONLY q DROP COLUMN v;", fails: true,
			rule: "drop-column", msg: "ALTER TABLE ONLY q leaves out its partitions"},
		{name: "partitioned table renamed, attach proven by a CHECK",
			schema: parted + "ALTER TABLE p RENAME TO q;\n" +
				"CREATE TABLE p1 (x int NOT NULL, v int, CONSTRAINT bound CHECK (x >= 1 AND x < 10));\nINSERT INTO p1 VALUES (1, 1);\n",
			src: "ALTER TABLE q ATTACH PARTITION p1 FOR VALUES FROM (1) TO (10);", noScan: "p1",
			not: "attach-partition-scan"},
		{name: "partitioned table renamed, its DEFAULT partition",
			schema: parted + "CREATE TABLE pd PARTITION OF p DEFAULT;\nALTER TABLE p RENAME TO q;\n",
			src:    "CREATE TABLE p1 PARTITION OF q FOR VALUES FROM (1) TO (10);", scans: "pd",
			rule: "create-partition", msg: "scans its DEFAULT partition pd"},
		{name: "DEFAULT partition renamed",
			schema: parted + "CREATE TABLE pd PARTITION OF p DEFAULT;\nALTER TABLE pd RENAME TO pdef;\n" +
				"CREATE TABLE p1 (x int NOT NULL, v int, CONSTRAINT bound CHECK (x >= 1 AND x < 10));\n",
			src: "ALTER TABLE p ATTACH PARTITION p1 FOR VALUES FROM (1) TO (10);", scans: "pdef", noScan: "p1",
			rule: "attach-partition-scan", msg: "scans the DEFAULT partition pdef"},
		{name: "index moved to another schema with its table",
			schema: "CREATE SCHEMA s2;\nCREATE TABLE m (x int, d int);\nCREATE UNIQUE INDEX m_x ON m (x);\nALTER TABLE m SET SCHEMA s2;\n",
			src:    "ALTER TABLE s2.m REPLICA IDENTITY USING INDEX m_x;", fails: true,
			rule: "replica-identity", msg: "REPLICA IDENTITY USING INDEX m_x fails"},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, conn) })
	}
}

// TestRenamedDomainFindingsMatchServer: after a domain is renamed or moved to another schema, whether it
// is constrained, its DEFAULT and that the migration created it are known under its new name, and no
// longer under the old one; nor are they after the domain is dropped. Left under the old name, a rewrite
// was missed, or reported for a new domain of the old name that has no constraint or DEFAULT.
func TestRenamedDomainFindingsMatchServer(t *testing.T) {
	const table = "CREATE TABLE m (x int);\nINSERT INTO m VALUES (1);\n"
	const checked = table + "CREATE DOMAIN d AS int CHECK (VALUE > 0);\n"
	const volatile = table + "CREATE DOMAIN d AS timestamptz DEFAULT clock_timestamp();\n"
	tests := []serverCase{
		{name: "constrained, renamed",
			schema: checked + "ALTER DOMAIN d RENAME TO e;\n",
			src:    "ALTER TABLE m ADD COLUMN c e;", rebuilds: "m",
			rule: "add-column-constrained-domain", msg: "of constrained domain e"},
		{name: "constrained, moved to another schema",
			schema: "CREATE SCHEMA s2;\n" + checked + "ALTER DOMAIN d SET SCHEMA s2;\n",
			src:    "ALTER TABLE m ALTER COLUMN x TYPE s2.d;", rebuilds: "m",
			rule: "change-column-type-rewrite", msg: "changes to constrained domain d"},
		{name: "constrained, a new domain of the old name",
			schema: checked + "ALTER DOMAIN d RENAME TO e;\nCREATE DOMAIN d AS int;\n",
			src:    "ALTER TABLE m ADD COLUMN c d;", keeps: "m",
			not: "add-column-constrained-domain"},
		{name: "constrained, dropped and created again",
			schema: checked + "DROP DOMAIN d;\nCREATE DOMAIN d AS int;\n",
			src:    "ALTER TABLE m ADD COLUMN c d;", keeps: "m",
			not: "add-column-constrained-domain"},
		{name: "volatile DEFAULT, renamed",
			schema: volatile + "ALTER DOMAIN d RENAME TO e;\n",
			src:    "ALTER TABLE m ADD COLUMN c e;", rebuilds: "m",
			rule: "add-column-volatile-default", msg: "(the DEFAULT of its domain e)"},
		{name: "volatile DEFAULT, moved to another schema",
			schema: "CREATE SCHEMA s2;\n" + volatile + "ALTER DOMAIN d SET SCHEMA s2;\n",
			src:    "ALTER TABLE m ADD COLUMN c s2.d;", rebuilds: "m",
			rule: "add-column-volatile-default", msg: "(the DEFAULT of its domain d)"},
		{name: "volatile DEFAULT, a new domain of the old name",
			schema: volatile + "ALTER DOMAIN d RENAME TO e;\nCREATE DOMAIN d AS timestamptz;\n",
			src:    "ALTER TABLE m ADD COLUMN c d;", keeps: "m",
			not: "add-column-volatile-default"},
		{name: "volatile DEFAULT, dropped and created again",
			schema: volatile + "DROP DOMAIN d;\nCREATE DOMAIN d AS timestamptz;\n",
			src:    "ALTER TABLE m ADD COLUMN c d;", keeps: "m",
			not: "add-column-volatile-default"},
		{name: "created by the migration, renamed",
			schema: table,
			src:    "CREATE DOMAIN d AS int;\nALTER DOMAIN d RENAME TO e;\nALTER DOMAIN e ADD CONSTRAINT pos CHECK (VALUE > 0);",
			not:    "domain-constraint"},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, conn) })
	}
}

// TestDroppedTableFindingsMatchServer: a dropped table takes along its indexes, its partitions (and
// theirs, and their indexes), and what only DROP … CASCADE drops with it: its inheritance children and
// the views that use it. Left known, a later DROP … IF EXISTS of one of them was judged to lock and drop
// what no longer exists, and a view that no longer exists still refused a DROP COLUMN.
func TestDroppedTableFindingsMatchServer(t *testing.T) {
	const parted = "CREATE TABLE p (x int, v int) PARTITION BY RANGE (x);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10);\n"
	const view = "CREATE TABLE m (x int, d int);\nCREATE VIEW v AS SELECT x FROM m;\n"
	tests := []serverCase{
		{name: "its index",
			schema: "CREATE TABLE m (x int);\nCREATE INDEX m_x ON m (x);\nDROP TABLE m;\n",
			src:    "DROP INDEX IF EXISTS m_x;", probe: "SELECT to_regclass('m_x') IS NULL",
			rule: "drop-index-blocking", msg: "no index m_x exists after the earlier migrations"},
		{name: "its index, in the migration",
			schema: "CREATE TABLE m (x int);\nCREATE INDEX m_x ON m (x);\n",
			src:    "DROP TABLE m;\nDROP INDEX IF EXISTS m_x;", probe: "SELECT to_regclass('m_x') IS NULL",
			rule: "drop-index-blocking", msg: "no index m_x exists: an earlier statement of this migration drops it"},
		{name: "its partition's CHECK, a new table of its name",
			schema: "CREATE TABLE p (x int, v int) PARTITION BY RANGE (x);\n" +
				"CREATE TABLE p1 PARTITION OF p (CONSTRAINT k CHECK (v IS NOT NULL AND v > 0)) FOR VALUES FROM (1) TO (10);\n" +
				"DROP TABLE p;\nCREATE TABLE p1 (x int, v int);\nINSERT INTO p1 VALUES (1, 1);\n",
			src: "ALTER TABLE p1 ALTER COLUMN v SET NOT NULL;", scans: "p1",
			rule: "set-not-null", msg: "SET NOT NULL on p1.v scans the whole table"},
		// The index is not named after its table: a name PostgreSQL may have chosen for one of its
		// indexes may still exist (see absent).
		{name: "its partition's partition's index, in the migration",
			schema: "CREATE TABLE p (x int, v int) PARTITION BY RANGE (x);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10) PARTITION BY RANGE (x);\n" +
				"CREATE TABLE p11 PARTITION OF p1 FOR VALUES FROM (1) TO (5);\nCREATE INDEX x_of_p11 ON p11 (x);\n",
			src: "DROP TABLE p;\nDROP INDEX IF EXISTS x_of_p11;", probe: "SELECT to_regclass('x_of_p11') IS NULL",
			rule: "drop-index-blocking", msg: "no index x_of_p11 exists: an earlier statement of this migration drops it"},
		{name: "its DEFAULT partition",
			schema: "CREATE TABLE p (x int, v int) PARTITION BY RANGE (x);\nCREATE TABLE pd PARTITION OF p DEFAULT;\nDROP TABLE pd;\n" +
				"CREATE TABLE p1 (x int NOT NULL, v int, CONSTRAINT bound CHECK (x >= 1 AND x < 10));\n",
			src: "ALTER TABLE p ATTACH PARTITION p1 FOR VALUES FROM (1) TO (10);", noScan: "p1",
			not: "attach-partition-scan"},
		{name: "its inheritance child, CASCADE",
			schema: "CREATE TABLE parent (x int);\nCREATE TABLE child () INHERITS (parent);\nDROP TABLE parent CASCADE;\n",
			src:    "DROP TABLE IF EXISTS child;", probe: "SELECT to_regclass('child') IS NULL",
			rule: "drop-table", msg: "no table child exists after the earlier migrations"},
		{name: "its view, CASCADE",
			schema: view + "DROP TABLE m CASCADE;\n",
			src:    "DROP VIEW IF EXISTS v;", probe: "SELECT to_regclass('v') IS NULL",
			rule: "replace-or-drop-view", msg: "no view v exists after the earlier migrations"},
		{name: "its view, CASCADE, a new table of its name",
			schema: view + "DROP TABLE m CASCADE;\nCREATE TABLE m (x int, d int);\n",
			src:    "ALTER TABLE m DROP COLUMN x;",
			rule:   "drop-column", msg: "DROP COLUMN m.x: running code"},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, conn) })
	}
}

// TestDetachedDefaultPartitionMatchesServer: a partitioned table whose DEFAULT partition is detached has
// none, so a later ATTACH PARTITION scans no DEFAULT partition.
func TestDetachedDefaultPartitionMatchesServer(t *testing.T) {
	serverCase{name: "detached",
		schema: "CREATE TABLE p (x int, v int) PARTITION BY RANGE (x);\nCREATE TABLE pd PARTITION OF p DEFAULT;\nINSERT INTO pd VALUES (1, 1);\n" +
			"ALTER TABLE p DETACH PARTITION pd;\nCREATE TABLE p1 (x int NOT NULL, v int, CONSTRAINT bound CHECK (x >= 1 AND x < 10));\n",
		src: "ALTER TABLE p ATTACH PARTITION p1 FOR VALUES FROM (1) TO (10);", noScan: "pd",
		not: "attach-partition-scan"}.run(t, pgtest.Conn(t))
}

// TestConstraintUsingIndexFindingsMatchServer: ADD CONSTRAINT c … USING INDEX i renames index i to c
// (PostgreSQL's ATExecAddIndexConstraint): what the state knows of the index is known under c, and no
// index i exists any more.
func TestConstraintUsingIndexFindingsMatchServer(t *testing.T) {
	const table = "CREATE TABLE m (x int, d int);\nCREATE UNIQUE INDEX m_x ON m (x);\n"
	tests := []serverCase{
		{name: "the index's old name",
			schema: table + "ALTER TABLE m ADD CONSTRAINT m_u UNIQUE USING INDEX m_x;\n",
			src:    "DROP INDEX IF EXISTS m_x;", probe: "SELECT to_regclass('m_x') IS NULL",
			rule: "drop-index-blocking", msg: "no index m_x exists after the earlier migrations"},
		{name: "the index's columns under its new name",
			schema: table + "ALTER TABLE m ADD CONSTRAINT m_u UNIQUE USING INDEX m_x;\n",
			src:    "ALTER TABLE m REPLICA IDENTITY USING INDEX m_u;", fails: true,
			rule: "replica-identity", msg: "REPLICA IDENTITY USING INDEX m_u fails"},
		{name: "the constraint named as the index",
			schema: table + "ALTER TABLE m ADD CONSTRAINT m_x UNIQUE USING INDEX m_x;\n",
			src:    "ALTER TABLE m REPLICA IDENTITY USING INDEX m_x;", fails: true,
			rule: "replica-identity", msg: "REPLICA IDENTITY USING INDEX m_x fails"},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, conn) })
	}
}

// TestAttachDefaultPartitionCheckMatchesServer: ATTACH PARTITION spares the scan of the DEFAULT
// partition when a validated CHECK of it excludes a range covering the new bound (PostgreSQL 15:
// "updated partition constraint for default partition … is implied by existing constraints"), and
// scans it when the CHECK is NOT VALID or excludes another range. The attached table lacking the
// partitioned table's index gets it built under its lock, which the message says.
func TestAttachDefaultPartitionCheckMatchesServer(t *testing.T) {
	const parted = "CREATE TABLE pt (k int) PARTITION BY RANGE (k);\nCREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);\n" +
		"CREATE TABLE ptd PARTITION OF pt DEFAULT;\nCREATE INDEX pt_k_idx ON pt (k);\nINSERT INTO pt VALUES (1), (500);\n" +
		"CREATE TABLE pt2 (k int);\nALTER TABLE pt2 ADD CONSTRAINT b CHECK (k IS NOT NULL AND k >= 100 AND k < 200) NOT VALID;\nALTER TABLE pt2 VALIDATE CONSTRAINT b;\n"
	const attach = "ALTER TABLE pt ATTACH PARTITION pt2 FOR VALUES FROM (100) TO (200);"
	const validated = "ALTER TABLE ptd VALIDATE CONSTRAINT nb;\n"
	tests := []struct {
		serverCase
		risk Risk
	}{
		{serverCase{name: "DEFAULT's validated CHECK excludes the bound",
			schema: parted + "ALTER TABLE ptd ADD CONSTRAINT nb CHECK (NOT (k IS NOT NULL AND k >= 100 AND k < 200)) NOT VALID;\n" + validated,
			src:    attach, noScan: "ptd", probe: "SELECT array_agg(indexrelid::regclass::text) = '{pt2_k_idx}' FROM pg_index WHERE indrelid = 'pt2'::regclass",
			rule: "attach-partition-scan", msg: "builds the indexes of pt that pt2 lacks"}, Caution},
		{serverCase{name: "a wider range, BETWEEN, without IS NOT NULL",
			schema: parted + "ALTER TABLE ptd ADD CONSTRAINT nb CHECK (NOT (k BETWEEN 50 AND 300)) NOT VALID;\n" + validated,
			src:    attach, noScan: "ptd",
			rule: "attach-partition-scan", msg: "excludes the new bound, so it is not scanned"}, Caution},
		{serverCase{name: "the index exists on the attached table",
			schema: parted + "ALTER TABLE ptd ADD CONSTRAINT nb CHECK (NOT (k >= 100 AND k < 200)) NOT VALID;\n" + validated + "CREATE INDEX pt2_k ON pt2 (k);\n",
			src:    attach, noScan: "ptd", probe: "SELECT array_agg(indexrelid::regclass::text) = '{pt2_k}' FROM pg_index WHERE indrelid = 'pt2'::regclass",
			not: "attach-partition-scan"}, Safe},
		{serverCase{name: "NOT VALID",
			schema: parted + "ALTER TABLE ptd ADD CONSTRAINT nb CHECK (NOT (k IS NOT NULL AND k >= 100 AND k < 200)) NOT VALID;\n",
			src:    attach, scans: "ptd",
			rule: "attach-partition-scan", msg: "scans the DEFAULT partition ptd"}, Dangerous},
		{serverCase{name: "another range",
			schema: parted + "ALTER TABLE ptd ADD CONSTRAINT nb CHECK (NOT (k IS NOT NULL AND k >= 300 AND k < 400)) NOT VALID;\n" + validated,
			src:    attach, scans: "ptd",
			rule: "attach-partition-scan", msg: "scans the DEFAULT partition ptd"}, Dangerous},
		{serverCase{name: "a narrower range",
			schema: parted + "ALTER TABLE ptd ADD CONSTRAINT nb CHECK (NOT (k IS NOT NULL AND k >= 150 AND k < 200)) NOT VALID;\n" + validated,
			src:    attach, scans: "ptd",
			rule: "attach-partition-scan", msg: "scans the DEFAULT partition ptd"}, Dangerous},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, conn)
			fs := AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema})
			if f := find(fs, "attach-partition-scan"); f != nil && f.Risk != tt.risk {
				t.Errorf("attach-partition-scan is %v, want %v: %s", f.Risk, tt.risk, f.Message)
			}
			if f := find(fs, "missing-lock-timeout"); f == nil {
				t.Errorf("no missing-lock-timeout: the DEFAULT partition is locked ACCESS EXCLUSIVE (all: %v)", rulesOf(fs))
			}
		})
	}
}

// TestDetachWithDefaultPartitionMatchesServer: with a DEFAULT partition, DETACH PARTITION locks it too
// (ACCESS EXCLUSIVE, like the partitioned table and the partition), and DETACH PARTITION … CONCURRENTLY
// fails ("cannot detach partitions concurrently when a default partition exists"): lint names the
// DEFAULT partition, suggests no CONCURRENTLY, and reports the CONCURRENTLY form as failing.
func TestDetachWithDefaultPartitionMatchesServer(t *testing.T) {
	const schema = "CREATE TABLE pt (k int) PARTITION BY RANGE (k);\nCREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);\n" +
		"CREATE TABLE ptd PARTITION OF pt DEFAULT;\nCREATE INDEX pt_k_idx ON pt (k);\n"
	conn := pgtest.Conn(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, schema); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"ALTER TABLE pt DETACH PARTITION pt1 CONCURRENTLY;", "ALTER TABLE pt DETACH PARTITION ptd CONCURRENTLY;"} {
		_, err := conn.Exec(ctx, src)
		if err == nil || !strings.Contains(err.Error(), "cannot detach partitions concurrently when a default partition exists") {
			t.Fatalf("%s: %v, want the default partition refusal: the case is wrong", src, err)
		}
		fs := AnalyzeScript(script(src+"\n"), false, Config{Schema: schema})
		f := find(fs, "detach-partition-blocking")
		if f == nil || f.Risk != Dangerous || f.Lock != "— (ERROR)" || !strings.Contains(f.Message, "fails: pt has a DEFAULT partition ptd") {
			t.Errorf("%s: detach-partition-blocking %+v, want a failing one (all: %v)", src, f, rulesOf(fs))
		}
	}
	// The plain form, in a transaction: which relations it locks ACCESS EXCLUSIVE.
	const src = "ALTER TABLE pt DETACH PARTITION pt1;"
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, src); err != nil {
		t.Fatal(err)
	}
	var locked []string
	if err := tx.QueryRow(ctx, "SELECT array_agg(relation::regclass::text ORDER BY relation::regclass::text) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND mode = 'AccessExclusiveLock' AND relation::regclass::text IN ('pt', 'pt1', 'ptd')").Scan(&locked); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(locked, []string{"pt", "pt1", "ptd"}) {
		t.Fatalf("ACCESS EXCLUSIVE on %v, want pt, pt1 and ptd: the case is wrong", locked)
	}
	fs := AnalyzeScript(script(src+"\n"), true, Config{Schema: schema})
	f := find(fs, "detach-partition-blocking")
	if f == nil || !strings.Contains(f.Message, "its DEFAULT partition ptd") || strings.Contains(f.Suggestion, "DETACH PARTITION … CONCURRENTLY") {
		t.Errorf("detach-partition-blocking %+v, want one naming ptd and not suggesting CONCURRENTLY (all: %v)", f, rulesOf(fs))
	}
	// Without a DEFAULT partition CONCURRENTLY passes, and remains the suggestion.
	fs = AnalyzeScript(script("ALTER TABLE pt DETACH PARTITION pt1 CONCURRENTLY;\n"), false, Config{Schema: schema + "ALTER TABLE pt DETACH PARTITION ptd;\n"})
	if f := find(fs, "detach-partition-blocking"); f != nil {
		t.Errorf("detach-partition-blocking without a DEFAULT partition: %s", f.Message)
	}
}

// TestAttachIndexPartitionLockMatchesServer: ALTER INDEX … ATTACH PARTITION takes ACCESS EXCLUSIVE on
// the partition's index, so every query on the partition queues behind it: lint counts it for
// missing-lock-timeout, and check, seeing the lock in the rehearsal, finds it explained (no
// unexplained-exclusive-lock). On an index the migration created, no lock counts.
func TestAttachIndexPartitionLockMatchesServer(t *testing.T) {
	const schema = "CREATE TABLE pt (k int) PARTITION BY RANGE (k);\nCREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);\n" +
		"CREATE INDEX pt_k_idx ON ONLY pt (k);\nCREATE INDEX pt1_k_idx ON pt1 (k);\n"
	const src = "ALTER INDEX pt_k_idx ATTACH PARTITION pt1_k_idx;"
	conn := pgtest.Conn(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, schema); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, src); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, "SELECT 'public.' || c.relname, l.mode, c.relkind::text FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "+
		"WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relname IN ('pt', 'pt1', 'pt_k_idx', 'pt1_k_idx') ORDER BY 1, 2")
	if err != nil {
		t.Fatal(err)
	}
	var locks []LockEvidence
	modes := map[string]string{}
	for rows.Next() {
		var l LockEvidence
		if err := rows.Scan(&l.Relation, &l.Mode, &l.Kind); err != nil {
			t.Fatal(err)
		}
		l.Preexisting = true
		locks = append(locks, l)
		modes[l.Relation] = l.Mode
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if modes["public.pt1_k_idx"] != "AccessExclusiveLock" || modes["public.pt_k_idx"] != "ShareUpdateExclusiveLock" {
		t.Fatalf("locks %v, want ACCESS EXCLUSIVE on pt1_k_idx and SHARE UPDATE EXCLUSIVE on pt_k_idx: the case is wrong", modes)
	}
	static := AnalyzeScript(script(src+"\n"), true, Config{Schema: schema})
	if f := find(static, "missing-lock-timeout"); f == nil {
		t.Errorf("no missing-lock-timeout (all: %v)", rulesOf(static))
	}
	got := ApplyEvidence(static, []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: locks}})
	if f := find(got, "unexplained-exclusive-lock"); f != nil {
		t.Errorf("unexplained-exclusive-lock: %s", f.Message)
	}
	timed := AnalyzeScript(script("SET lock_timeout = '2s';\n"+src+"\n"), true, Config{Schema: schema})
	got = ApplyEvidence(timed, []Evidence{{File: "m.sql", Line: 2, Column: 1, Locks: locks}})
	if f := find(got, "unexplained-exclusive-lock"); f != nil {
		t.Errorf("with lock_timeout, unexplained-exclusive-lock: %s", f.Message)
	}
	if f := find(got, "missing-lock-timeout"); f != nil {
		t.Errorf("with lock_timeout, missing-lock-timeout: %s", f.Message)
	}
	// The partition's index created by the migration: no pre-existing relation is locked strongly.
	fresh := AnalyzeScript(script("CREATE INDEX CONCURRENTLY pt1_k2 ON pt1 (k);\nALTER INDEX pt_k_idx ATTACH PARTITION pt1_k2;\n"), false,
		Config{Schema: "CREATE TABLE pt (k int) PARTITION BY RANGE (k);\nCREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);\nCREATE INDEX pt_k_idx ON ONLY pt (k);\n"})
	if f := find(fresh, "missing-lock-timeout"); f != nil {
		t.Errorf("index created by the migration: %s", f.Message)
	}
}
