package lint

import (
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestRenamedColumnFindingsMatchServer: after RENAME COLUMN, what the state knows of the column under its
// old name is known under the new one: the indexes that have it (as a key, in an expression), the
// partition key, the views that use it, the sequence it owns; and in the table's inheritance children
// too, which PostgreSQL renames with it. Left under the old name, each made a finding wrong: an index
// rebuild or a failing statement missed, a scan or a failure reported that does not happen. Each case
// runs on the server, which says what the statement does.
func TestRenamedColumnFindingsMatchServer(t *testing.T) {
	tests := []serverCase{
		{name: "index key, collation change",
			schema: "CREATE TABLE m (x text, d int);\nCREATE INDEX m_x ON m (x);\nALTER TABLE m RENAME COLUMN x TO b;\n",
			src:    `ALTER TABLE m ALTER COLUMN b TYPE text COLLATE "C";`, rebuilds: "m_x",
			rule: "change-column-collation-index-rebuild", msg: "its indexes are rebuilt"},
		{name: "expression index, coercible type change",
			schema: "CREATE TABLE m (x varchar(10), d int);\nCREATE INDEX m_lower ON m (lower(x));\nALTER TABLE m RENAME COLUMN x TO b;\n",
			src:    "ALTER TABLE m ALTER COLUMN b TYPE varchar(20);", rebuilds: "m_lower",
			rule: "change-column-collation-index-rebuild", msg: "m_lower uses the column in an expression"},
		{name: "index key, foreign key",
			schema: "CREATE TABLE r (id int PRIMARY KEY);\nCREATE TABLE m (x int, d int);\nCREATE INDEX m_x ON m (x);\nALTER TABLE m RENAME COLUMN x TO b;\n",
			src:    "ALTER TABLE m ADD CONSTRAINT m_b_fkey FOREIGN KEY (b) REFERENCES r;",
			probe: `SELECT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
				WHERE i.indrelid = 'm'::regclass AND a.attname = 'b')`,
			rule: "add-foreign-key", not: "fk-missing-index"},
		{name: "index columns, primary key using index",
			schema: "CREATE TABLE m (x int NOT NULL, d int);\nCREATE UNIQUE INDEX m_x ON m (x);\nALTER TABLE m RENAME COLUMN x TO b;\n",
			src:    "ALTER TABLE m ADD CONSTRAINT m_pk PRIMARY KEY USING INDEX m_x;", noScan: "m",
			rule: "constraint-using-index", msg: "no build or scan", not: "constraint-using-index-nullable"},
		{name: "index columns, replica identity",
			schema: "CREATE TABLE m (x int, d int);\nCREATE UNIQUE INDEX m_x ON m (x);\nALTER TABLE m RENAME COLUMN x TO b;\n",
			src:    "ALTER TABLE m REPLICA IDENTITY USING INDEX m_x;", fails: true,
			rule: "replica-identity", msg: "REPLICA IDENTITY USING INDEX m_x fails"},
		{name: "partition key, attach proven by a CHECK",
			schema: "CREATE TABLE p (x int, v int) PARTITION BY RANGE (x);\nALTER TABLE p RENAME COLUMN x TO b;\n" +
				"CREATE TABLE p1 (b int NOT NULL, v int, CONSTRAINT bound CHECK (b >= 1 AND b < 10));\nINSERT INTO p1 VALUES (1, 1);\n",
			src: "ALTER TABLE p ATTACH PARTITION p1 FOR VALUES FROM (1) TO (10);", noScan: "p1",
			not: "attach-partition-scan"},
		{name: "view, drop column",
			schema: "CREATE TABLE m (x int, d int);\nCREATE VIEW v AS SELECT x FROM m;\nALTER TABLE m RENAME COLUMN x TO b;\n",
			src:    "ALTER TABLE m DROP COLUMN b;", fails: true,
			rule: "drop-column", msg: "DROP COLUMN m.b fails: view v uses it"},
		{name: "view, type change",
			schema: "CREATE TABLE m (x int, d int);\nCREATE VIEW v AS SELECT x FROM m;\nALTER TABLE m RENAME COLUMN x TO b;\n",
			src:    "ALTER TABLE m ALTER COLUMN b TYPE bigint;", fails: true,
			rule: "change-column-type-rewrite", msg: "it fails: v uses the column"},
		{name: "view, the old name's new column",
			schema: "CREATE TABLE m (x int, d int);\nCREATE VIEW v AS SELECT x FROM m;\nALTER TABLE m RENAME COLUMN x TO b;\nALTER TABLE m ADD COLUMN x int;\n",
			src:    "ALTER TABLE m DROP COLUMN x;",
			rule:   "drop-column", msg: "DROP COLUMN m.x: running code"},
		{name: "owned sequence, the old name's column dropped",
			schema: "CREATE SCHEMA s2;\nCREATE TABLE m (x serial, d int);\nALTER TABLE m RENAME COLUMN x TO b;\nALTER TABLE m ADD COLUMN x int;\nALTER TABLE m DROP COLUMN x;\n",
			src:    "ALTER SEQUENCE m_x_seq SET SCHEMA s2;", fails: true,
			rule: "move-or-rename-schema", msg: "fails: the sequence is owned by column m.b"},
		{name: "owned sequence, dropped with the renamed column",
			schema: "CREATE SCHEMA s2;\nCREATE TABLE m (x serial, d int);\nALTER TABLE m RENAME COLUMN x TO b;\nALTER TABLE m DROP COLUMN b;\n",
			src:    "ALTER SEQUENCE IF EXISTS m_x_seq SET SCHEMA s2;",
			probe:  "SELECT to_regclass('m_x_seq') IS NULL AND to_regclass('s2.m_x_seq') IS NULL",
			rule:   "move-or-rename-schema", msg: "no sequence m_x_seq exists"},
		{name: "inheritance child's CHECK",
			schema: "CREATE TABLE parent (x int, d int);\nCREATE TABLE child (CONSTRAINT k CHECK (x IS NOT NULL AND x > 0)) INHERITS (parent);\n" +
				"INSERT INTO child VALUES (1, 1);\nALTER TABLE parent RENAME COLUMN x TO b;\n",
			src: "ALTER TABLE child ALTER COLUMN b SET NOT NULL;", noScan: "child",
			rule: "set-not-null-proven", msg: "the validated CHECK k"},
		{name: "inheritance child's index",
			schema: "CREATE TABLE r (id int PRIMARY KEY);\nCREATE TABLE parent (x int, d int);\nCREATE TABLE child () INHERITS (parent);\n" +
				"CREATE INDEX child_x ON child (x);\nALTER TABLE parent RENAME COLUMN x TO b;\n",
			src: "ALTER TABLE child ADD CONSTRAINT child_b_fkey FOREIGN KEY (b) REFERENCES r;",
			probe: `SELECT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
				WHERE i.indrelid = 'child'::regclass AND a.attname = 'b')`,
			rule: "add-foreign-key", not: "fk-missing-index"},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, conn) })
	}
}
