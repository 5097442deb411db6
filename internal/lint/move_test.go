package lint

import (
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
			rule: "drop-column", msg: "DROP COLUMN n.x fails: v uses it"},
		{name: "view, table moved to another schema",
			schema: "CREATE SCHEMA s2;\n" + view + "ALTER TABLE m SET SCHEMA s2;\n",
			src:    "ALTER TABLE s2.m ALTER COLUMN x TYPE bigint;", fails: true,
			rule: "change-column-type-rewrite", msg: "it fails: v uses the column"},
		{name: "view renamed",
			schema: view + "ALTER VIEW v RENAME TO w;\n",
			src:    "ALTER TABLE m DROP COLUMN x;", fails: true,
			rule: "drop-column", msg: "DROP COLUMN m.x fails: w uses it"},
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
