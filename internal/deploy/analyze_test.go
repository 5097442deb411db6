package deploy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

func TestDownLosesData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		up, down string
		want     string // substring of the reason; "" for no loss
	}{
		{"drops what up created", "CREATE TABLE t (id int);", "DROP TABLE t;", ""},
		{"drops a column up added", "ALTER TABLE users ADD COLUMN nick text;", "ALTER TABLE users DROP COLUMN nick;", ""},
		{"drops a pre-existing column", "ALTER TABLE users RENAME COLUMN name TO full_name;", "ALTER TABLE users DROP COLUMN full_name;\nALTER TABLE users ADD COLUMN name text;", "drops column users.full_name"},
		{"drops a pre-existing table", "ALTER TABLE old RENAME TO legacy;", "DROP TABLE legacy;", "drops table legacy"},
		{"drops a table up may have found", "CREATE TABLE IF NOT EXISTS t (id int);", "DROP TABLE t;", "drops table t"},
		{"drops a table up created under a name it renamed away", "ALTER TABLE t RENAME TO t_old;\nCREATE TABLE t (id int);", "DROP TABLE t;\nALTER TABLE t_old RENAME TO t;", "drops table t"},
		{"deletes what up inserted", "INSERT INTO roles VALUES ('admin');", "DELETE FROM roles WHERE name = 'admin';", ""},
		{"truncates a pre-existing table", "UPDATE users SET active = true;", "TRUNCATE users;", "empties users"},
		// Emptying a table the up only filled takes the rows that were there before the up too.
		{"truncates a table the up filled", "INSERT INTO roles VALUES ('admin');", "TRUNCATE roles;", "1_x.down.sql:1 empties roles, which neither its up nor an earlier migration of the run created"},
		{"deletes every row of a table the up filled", "INSERT INTO roles VALUES ('admin');", "SELECT 1;\nDELETE FROM roles;", "1_x.down.sql:2 empties roles"},
		{"deletes every row in a WITH clause", "INSERT INTO roles VALUES ('admin');", "WITH d AS (DELETE FROM roles RETURNING *) SELECT count(*) FROM d;", "empties roles"},
		{"deletes every row of a table the up renamed and filled", "ALTER TABLE items RENAME TO goods;\nINSERT INTO goods VALUES (1);", "DELETE FROM goods;", "empties goods"},
		{"truncates a table the up created and filled", "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);", "TRUNCATE t;\nDELETE FROM t;\nDROP TABLE t;", ""},
		{"deletes rows of a table the up did not fill", "SELECT 1;", "DELETE FROM roles WHERE name = 'x';", "1_x.down.sql:1 deletes rows of roles, which its up did not fill"},
		{"merge deletes rows of a table the up did not fill", "SELECT 1;", "MERGE INTO roles r USING gone g ON r.name = g.name WHEN MATCHED THEN DELETE;", "1_x.down.sql:1 deletes rows of roles, which its up did not fill"},
		{"merge deletes rows the up inserted", "INSERT INTO roles VALUES ('admin');", "MERGE INTO roles r USING (VALUES ('admin')) g(name) ON r.name = g.name WHEN MATCHED THEN DELETE;", ""},
		{"schema-qualified create and drop", "CREATE TABLE app.t (id int);", "DROP TABLE app.t;", ""},
		// the up's own SET search_path decides where its unqualified names are
		{"created where the up's search path says", "SET search_path = audit;\nCREATE TABLE t (id int);", "DROP TABLE audit.t;", ""},
		{"created elsewhere than the down drops", "SET search_path = audit, public;\nCREATE TABLE users (id int);", "DROP TABLE users;", "drops table users"},
		{"pg_dump's set_config", "SELECT pg_catalog.set_config('search_path', 'audit', false);\nCREATE TABLE t (id int);", "DROP TABLE audit.t;", ""},
		{"search path reset", "SET search_path = audit;\nRESET search_path;\nCREATE TABLE t (id int);", "DROP TABLE t;", ""},
		// a function's set_config runs when it is called, not when it is created
		{"set_config in a BEGIN ATOMIC body", "CREATE FUNCTION f() RETURNS text LANGUAGE sql BEGIN ATOMIC SELECT set_config('search_path', 'audit', true); END;\nCREATE TABLE t (id int);", "DROP TABLE t;", ""},
		// Schemas dropped with CASCADE, column type changes, DO blocks and called code (the last review's
		// "left alone").
		{"drops a schema up created", "CREATE SCHEMA audit;\nCREATE TABLE audit.log (id int);", "DROP SCHEMA audit CASCADE;", ""},
		{"drops a pre-existing schema", "CREATE TABLE audit.log (id int);", "SELECT 1;\nDROP SCHEMA audit CASCADE;", "1_x.down.sql:2 drops schema audit with CASCADE"},
		{"drops a schema up may have found", "CREATE SCHEMA IF NOT EXISTS audit;", "DROP SCHEMA audit CASCADE;", "drops schema audit"},
		{"drops an empty schema", "SELECT 1;", "DROP SCHEMA audit;", ""},
		{"narrows back what up widened", "ALTER TABLE items ALTER COLUMN n TYPE bigint;", "ALTER TABLE items ALTER COLUMN n TYPE int;", ""},
		{"narrows back varchar", "ALTER TABLE items ALTER COLUMN s TYPE text;", "ALTER TABLE items ALTER COLUMN s TYPE varchar(20);", ""},
		{"widens back what up narrowed", "ALTER TABLE items ALTER COLUMN at TYPE date;", "ALTER TABLE items ALTER COLUMN at TYPE timestamptz;", ""},
		{"narrows what up did not change", "ALTER TABLE items ADD COLUMN x int;", "ALTER TABLE items DROP COLUMN x;\nALTER TABLE items ALTER COLUMN n TYPE int;", "1_x.down.sql:2 changes the type of column items.n to integer, which its up did not change"},
		{"narrows back to a type up may have widened from", "ALTER TABLE items ALTER COLUMN n TYPE bigint;", "ALTER TABLE items ALTER COLUMN n TYPE smallint;", ""},
		{"narrows other than back", "ALTER TABLE items ALTER COLUMN n TYPE text;", "ALTER TABLE items ALTER COLUMN n TYPE numeric(5,2);", "from text to numeric(5,2)"},
		{"narrows with USING", "ALTER TABLE items ALTER COLUMN n TYPE bigint;", "ALTER TABLE items ALTER COLUMN n TYPE int USING n::int;", "to integer with USING"},
		{"changes the type of a column up added", "ALTER TABLE items ADD COLUMN x bigint;", "ALTER TABLE items ALTER COLUMN x TYPE int USING 0;\nALTER TABLE items DROP COLUMN x;", ""},
		{"DO block", "CREATE TABLE t (id int);", "DO $$ BEGIN DROP TABLE t; END $$;", `1_x.down.sql:1 runs a DO block that holds "DROP TABLE"`},
		{"DO block that destroys nothing", "CREATE TABLE t (id int);", "DO $$ BEGIN PERFORM 1; END $$;\nDROP TABLE t;", ""},
		{"calls a function that deletes", "CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS 'DELETE FROM items';",
			"SELECT purge();\nDROP FUNCTION purge();", `1_x.down.sql:1 calls purge, whose code (1_x.up.sql:1) holds "DELETE FROM"`},
		// DROP OWNED and types, domains and extensions dropped with CASCADE (the last review's "left alone").
		{"drops what a role owns", "SELECT 1;", "DROP OWNED BY app_owner;", "1_x.down.sql:1 drops every object role app_owner owns (DROP OWNED)"},
		{"drops what a role the up created owns", "CREATE ROLE reader;\nGRANT SELECT ON items TO reader;", "DROP OWNED BY reader;\nDROP ROLE reader;", ""},
		{"drops what a role the up created and gave a table owns", "CREATE ROLE owner2;\nALTER TABLE items OWNER TO owner2;", "DROP OWNED BY owner2 CASCADE;", "drops every object role owner2 owns"},
		{"drops a type the up did not create", "ALTER TABLE items ADD COLUMN x int;", "ALTER TABLE items DROP COLUMN x;\nDROP TYPE mood CASCADE;", "1_x.down.sql:2 drops type mood with CASCADE, which its up did not create"},
		{"drops a type the up created", "CREATE TYPE app.mood AS ENUM ('ok');\nALTER TABLE items ADD COLUMN m app.mood;", "DROP TYPE app.mood CASCADE;", ""},
		{"drops a domain the up created, unqualified", "CREATE DOMAIN pct AS int;", "DROP DOMAIN public.pct CASCADE;", ""},
		{"drops a domain without CASCADE", "SELECT 1;", "DROP DOMAIN pct;", ""},
		{"drops an extension the up did not create", "CREATE EXTENSION IF NOT EXISTS citext;", "DROP EXTENSION citext CASCADE;", "drops extension citext with CASCADE"},
		{"drops an extension the up created", "CREATE EXTENSION citext;", "DROP EXTENSION citext CASCADE;", ""},
		// The down names what the up renamed by its new name.
		{"narrows back a column the up renamed and widened", "ALTER TABLE items RENAME COLUMN n TO qty;\nALTER TABLE items ALTER COLUMN qty TYPE bigint;",
			"ALTER TABLE items ALTER COLUMN qty TYPE int;\nALTER TABLE items RENAME COLUMN qty TO n;", ""},
		{"narrows a column the up renamed", "ALTER TABLE items RENAME COLUMN n TO qty;", "ALTER TABLE items ALTER COLUMN qty TYPE int;", "1_x.down.sql:1 changes the type of column items.qty to integer, which its up did not change"},
		{"drops a column the up added and renamed", "ALTER TABLE items ADD COLUMN tmp int;\nALTER TABLE items RENAME COLUMN tmp TO extra;", "ALTER TABLE items DROP COLUMN extra;", ""},
		{"drops a table the up created and renamed", "CREATE TABLE t (id int);\nALTER TABLE t RENAME TO u;", "DROP TABLE u;", ""},
		{"empties a table the up renamed and filled", "ALTER TABLE items RENAME TO goods;\nINSERT INTO goods VALUES (1);", "DELETE FROM goods WHERE id = 1;", ""},
		{"DO block calls a function that deletes", "CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS 'DELETE FROM items';",
			"DO $$ BEGIN PERFORM purge(); END $$;\nDROP FUNCTION purge();", `1_x.down.sql:1 calls purge, whose code (1_x.up.sql:1) holds "DELETE FROM"`},
		{"drops a table the up created in place of one it renamed", "ALTER TABLE items RENAME TO items_old;\nCREATE TABLE items (id int);", "DROP TABLE items;", "drops table items, which its up did not create"},
		// Emptying a table the up created reaches the tables the up tied to it: by a foreign key, as a
		// partition or as a child by inheritance.
		{"truncates with CASCADE a table the up created and referenced", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags;",
			"TRUNCATE tags CASCADE;\nALTER TABLE old_items DROP COLUMN tag_id;\nDROP TABLE tags;", "1_x.down.sql:1 empties tags with CASCADE, which also empties old_items (it references tags), a table from before the run"},
		{"truncates without CASCADE a table the up referenced", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags;",
			"TRUNCATE tags;\nALTER TABLE old_items DROP COLUMN tag_id;\nDROP TABLE tags;", ""},
		{"drops the referencing column before the TRUNCATE CASCADE", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags;",
			"ALTER TABLE old_items DROP COLUMN tag_id;\nTRUNCATE tags CASCADE;\nDROP TABLE tags;", ""},
		{"drops the foreign key before the TRUNCATE CASCADE", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD CONSTRAINT items_tag_fk FOREIGN KEY (tag_id) REFERENCES tags;",
			"ALTER TABLE old_items DROP CONSTRAINT items_tag_fk;\nTRUNCATE tags CASCADE;", ""},
		{"drops the foreign key by the name PostgreSQL gave it", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD FOREIGN KEY (tag_id) REFERENCES tags;",
			"ALTER TABLE old_items DROP CONSTRAINT old_items_tag_id_fkey;\nTRUNCATE tags CASCADE;", ""},
		{"drops another foreign key before the TRUNCATE CASCADE", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD FOREIGN KEY (tag_id) REFERENCES tags;",
			"ALTER TABLE old_items DROP CONSTRAINT other_fk;\nTRUNCATE tags CASCADE;", "1_x.down.sql:2 empties tags with CASCADE, which also empties old_items"},
		{"truncates with CASCADE through a table the up created", "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);\nALTER TABLE old_items ADD COLUMN b_id int REFERENCES b;",
			"TRUNCATE a CASCADE;", "empties a with CASCADE, which also empties old_items (it references b), a table from before the run"},
		{"truncates with CASCADE what only new tables reference", "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);\nALTER TABLE old_items ADD COLUMN a_id int;",
			"TRUNCATE a CASCADE;\nDROP TABLE b, a;", ""},
		{"deletes from a table the up created, ON DELETE CASCADE", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags ON DELETE CASCADE;",
			"DELETE FROM tags;\nALTER TABLE old_items DROP COLUMN tag_id;\nDROP TABLE tags;", "1_x.down.sql:1 empties tags, which also deletes rows of old_items (its foreign key to tags is ON DELETE CASCADE), a table from before the run"},
		{"deletes some rows of a table the up created, ON DELETE CASCADE", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags ON DELETE CASCADE;",
			"DELETE FROM tags WHERE id > 1;", "1_x.down.sql:1 deletes rows of tags, which also deletes rows of old_items"},
		{"deletes in a WITH clause, ON DELETE CASCADE", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags ON DELETE CASCADE;",
			"WITH d AS (DELETE FROM tags RETURNING 1) SELECT count(*) FROM d;", "1_x.down.sql:1 empties tags, which also deletes rows of old_items"},
		{"deletes what a column the up added references, ON DELETE SET NULL", "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags ON DELETE SET NULL;",
			"DELETE FROM tags;\nALTER TABLE old_items DROP COLUMN tag_id;\nDROP TABLE tags;", ""},
		{"deletes what a column from before references, ON DELETE SET NULL", "CREATE TABLE categories (id int PRIMARY KEY);\nALTER TABLE old_items ADD CONSTRAINT c_fk FOREIGN KEY (category_id) REFERENCES categories ON DELETE SET NULL;",
			"DELETE FROM categories;\nALTER TABLE old_items DROP CONSTRAINT c_fk;\nDROP TABLE categories;",
			"1_x.down.sql:1 empties categories, which also overwrites old_items.category_id (its foreign key to categories is ON DELETE SET NULL), a column from before the run"},
		{"deletes what a column from before references, ON DELETE SET DEFAULT", "CREATE TABLE categories (id int PRIMARY KEY);\nALTER TABLE old_items ADD FOREIGN KEY (category_id) REFERENCES categories ON DELETE SET DEFAULT;",
			"DELETE FROM categories;", "ON DELETE SET DEFAULT), a column from before the run"},
		{"deletes what a foreign key without action references", "CREATE TABLE categories (id int PRIMARY KEY);\nALTER TABLE old_items ADD FOREIGN KEY (category_id) REFERENCES categories;",
			"DELETE FROM categories;", ""},
		{"empties a partitioned table the up created and attached a table to", "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\nALTER TABLE events ATTACH PARTITION old_events FOR VALUES FROM ('2020-01-01') TO ('2030-01-01');",
			"TRUNCATE events;\nALTER TABLE events DETACH PARTITION old_events;\nDROP TABLE events;", "1_x.down.sql:1 empties events, which also empties old_events (a partition of events), a table from before the run"},
		{"deletes from a partitioned table the up created and attached a table to", "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\nALTER TABLE events ATTACH PARTITION old_events FOR VALUES FROM ('2020-01-01') TO ('2030-01-01');",
			"DELETE FROM events WHERE at > now();", "1_x.down.sql:1 deletes rows of events, which also deletes rows of old_events (a partition of events), a table from before the run"},
		{"detaches before it deletes", "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\nALTER TABLE events ATTACH PARTITION old_events FOR VALUES FROM ('2020-01-01') TO ('2030-01-01');",
			"ALTER TABLE events DETACH PARTITION old_events;\nDELETE FROM events;\nDROP TABLE events;", ""},
		// DELETE FROM ONLY a partitioned table deletes nothing, TRUNCATE ONLY one fails (PostgreSQL 15).
		{"deletes from only a partitioned table", "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\nALTER TABLE events ATTACH PARTITION old_events FOR VALUES FROM ('2020-01-01') TO ('2030-01-01');",
			"DELETE FROM ONLY events;\nTRUNCATE ONLY events;", ""},
		{"empties a partition of a partition the up attached", "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\nCREATE TABLE events_old PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2030-01-01') PARTITION BY RANGE (at);\n" +
			"ALTER TABLE events_old ATTACH PARTITION old_events FOR VALUES FROM ('2020-01-01') TO ('2025-01-01');",
			"TRUNCATE events;", "empties events, which also empties old_events (a partition of events_old), a table from before the run"},
		{"empties an inheritance parent the up created", "CREATE TABLE base (id int);\nALTER TABLE old_notes INHERIT base;",
			"DELETE FROM base;\nALTER TABLE old_notes NO INHERIT base;\nDROP TABLE base;", "1_x.down.sql:1 empties base, which also empties old_notes (a child of base by inheritance), a table from before the run"},
		{"truncates an inheritance parent the up created", "CREATE TABLE base (id int);\nALTER TABLE old_notes INHERIT base;", "TRUNCATE base;", "1_x.down.sql:1 empties base, which also empties old_notes"},
		{"empties only an inheritance parent", "CREATE TABLE base (id int);\nALTER TABLE old_notes INHERIT base;",
			"DELETE FROM ONLY base;\nTRUNCATE ONLY base;\nALTER TABLE old_notes NO INHERIT base;\nDROP TABLE base;", ""},
		{"takes the child out before it empties", "CREATE TABLE base (id int);\nALTER TABLE old_notes INHERIT base;",
			"ALTER TABLE old_notes NO INHERIT base;\nTRUNCATE base;\nDROP TABLE base;", ""},
		{"empties a new child of a table from before", "CREATE TABLE notes_2 () INHERITS (old_notes);", "TRUNCATE notes_2;\nDROP TABLE notes_2;", ""},
		{"empties a table the up referenced from a table it renamed", "ALTER TABLE items RENAME TO goods;\nCREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE goods ADD COLUMN tag_id int REFERENCES tags;",
			"TRUNCATE tags CASCADE;", "1_x.down.sql:1 empties tags with CASCADE, which also empties items (it references tags)"},
		{"a DO block may tie tables", "CREATE TABLE tags (id int PRIMARY KEY);\nDO $$ BEGIN EXECUTE 'ALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags'; END $$;",
			"TRUNCATE tags CASCADE;\nDROP TABLE tags;", `1_x.down.sql:1 empties tags with CASCADE, and the DO block at 1_x.up.sql:2 (its text holds "REFERENCES") may have tied tables from before the run to it`},
		{"ties tables where the up's search path says", "SET search_path = app;\nCREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags;",
			"TRUNCATE app.tags CASCADE;", "1_x.down.sql:1 empties app.tags with CASCADE, which also empties app.old_items (it references app.tags), a table from before the run"},
		{"ties tables where pg_dump's set_config says", "SELECT pg_catalog.set_config('search_path', 'app', false);\nCREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags;",
			"TRUNCATE app.tags CASCADE;", "1_x.down.sql:1 empties app.tags with CASCADE, which also empties app.old_items (it references app.tags)"},
		{"a DO block that ties nothing", "CREATE TABLE tags (id int PRIMARY KEY);\nDO $$ BEGIN RAISE NOTICE 'created'; END $$;", "TRUNCATE tags CASCADE;\nDROP TABLE tags;", ""},
		// Names holding a dot are catalog keys (schema.Key), cut where SQL cuts them, not at their last dot.
		{"drops table b of schema a, where the up created public.\"a.b\"", `CREATE TABLE "a.b" (id int);`, "DROP TABLE a.b;", "1_x.down.sql:1 drops table a.b, which its up did not create"},
		{"drops the table \"a.b\" the up created", `CREATE TABLE "a.b" (id int);`, `DROP TABLE public."a.b";`, ""},
		{"drops the table the up created in schema \"x.y\"", `CREATE TABLE "x.y".t (id int);`, `DROP TABLE "x.y".t;`, ""},
		{"drops table y.t, where the up created one in schema \"x.y\"", `CREATE TABLE "x.y".t (id int);`, `DROP TABLE y.t;`, "drops table y.t, which its up did not create"},
		{"drops a column \"c.d\" the up added", `ALTER TABLE items ADD COLUMN "c.d" int;`, `ALTER TABLE public.items DROP COLUMN "c.d";`, ""},
		{"empties \"a.b\"", "SELECT 1;", `TRUNCATE "a.b";`, `1_x.down.sql:1 empties "a.b", which neither its up nor an earlier migration of the run created`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := folderB(t, map[string]string{"1_x.up.sql": tc.up, "1_x.down.sql": tc.down})
			got := downLosesData(set.Migrations[0], nil, "", folderCode(set.Migrations), nil)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("downLosesData = %q, want %q", got, tc.want)
			}
			if tc.want != "" && !strings.Contains(got, "1_x.down.sql:") {
				t.Errorf("reason %q is not positioned", got)
			}
		})
	}
}

// TestDownLosesDataEarlier: a down that empties a table an earlier migration of the run created loses
// nothing that was there before the run; deployed alone (the table was there), it does.
func TestDownLosesDataEarlier(t *testing.T) {
	t.Parallel()
	set := folderB(t, map[string]string{
		"1_c.up.sql": "CREATE TABLE customers (id int);", "1_c.down.sql": "DROP TABLE customers;",
		"2_f.up.sql": "INSERT INTO customers VALUES (1);", "2_f.down.sql": "DELETE FROM customers;",
		"3_r.up.sql": "ALTER TABLE customers RENAME TO clients;\nINSERT INTO clients VALUES (2);", "3_r.down.sql": "TRUNCATE clients;\nALTER TABLE clients RENAME TO customers;",
	})
	m := set.Migrations
	if got := downLosesData(m[1], m[:1], "", nil, nil); got != "" {
		t.Errorf("after the migration that created it: %q", got)
	}
	if got := downLosesData(m[2], m[:2], "", nil, nil); got != "" {
		t.Errorf("renamed, after the migration that created it: %q", got)
	}
	if got := downLosesData(m[1], nil, "", nil, nil); !strings.Contains(got, "2_f.down.sql:1 empties customers") {
		t.Errorf("deployed alone: %q, want it to empty customers", got)
	}
}

// TestDownLosesDataReach: what emptying a table reaches through what an earlier migration of the run
// tied to it, and through the foreign keys the database had before the run (readCascades, "references"):
// a partition the run creates has those of its parents.
func TestDownLosesDataReach(t *testing.T) {
	t.Parallel()
	refs := func(v string) map[string]string { return map[string]string{"references public.events": v} }
	tests := []struct {
		name     string
		earlier  string // up of a migration the run applies before
		up, down string
		cascades map[string]string
		want     string
	}{
		{name: "an earlier migration referenced the table", earlier: "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags;",
			up: "INSERT INTO tags VALUES (1);", down: "TRUNCATE tags CASCADE;", want: "2_x.down.sql:1 empties tags with CASCADE, which also empties old_items (it references tags), a table from before the run"},
		{name: "an earlier migration created the table, the up referenced it", earlier: "CREATE TABLE tags (id int PRIMARY KEY);",
			up: "ALTER TABLE old_items ADD COLUMN tag_id int REFERENCES tags ON DELETE CASCADE;", down: "DELETE FROM tags;\nALTER TABLE old_items DROP COLUMN tag_id;", want: "2_x.down.sql:1 empties tags, which also deletes rows of old_items"},
		{name: "a new partition of a table the database references", up: "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
			down: "TRUNCATE events_2027 CASCADE;\nDROP TABLE events_2027;", cascades: refs("public.event_tags\ta\tevent_id\napp.audit\tc\tevent_id"),
			want: "1_x.down.sql:1 empties events_2027 with CASCADE, which also empties event_tags (it references events), a table from before the run"},
		{name: "a new partition of a table the database does not reference", up: "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
			down: "TRUNCATE events_2027 CASCADE;\nDROP TABLE events_2027;", cascades: refs("")},
		{name: "a new partition of a table whose references were not read", up: "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
			down: "TRUNCATE events_2027 CASCADE;", want: "1_x.down.sql:1 empties events_2027 with CASCADE, which also empties the rows of the tables whose foreign keys reference events, a table from before the run, and which those are was not read from the database before the run"},
		{name: "a new partition detached before the TRUNCATE ... CASCADE", up: "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
			down: "ALTER TABLE events DETACH PARTITION events_2027;\nTRUNCATE events_2027 CASCADE;\nDROP TABLE events_2027;"},
		{name: "a new partition, truncated without CASCADE", up: "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
			down: "TRUNCATE events_2027;\nDELETE FROM events_2027;\nDROP TABLE events_2027;"},
		{name: "a table attached to a new partitioned table attached to one the database references", earlier: "CREATE TABLE events_2027 (id int, at date) PARTITION BY RANGE (at);",
			up:   "CREATE TABLE events_q1 (id int, at date);\nALTER TABLE events_2027 ATTACH PARTITION events_q1 FOR VALUES FROM ('2027-01-01') TO ('2027-04-01');\nALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
			down: "TRUNCATE events_q1 CASCADE;", cascades: refs("public.event_tags\ta\tevent_id"), want: "2_x.down.sql:1 empties events_q1 with CASCADE, which also empties event_tags (it references events)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, earlier, code := judged(t, tc.earlier, tc.up, tc.down)
			got := downLosesData(m, earlier, "", code, tc.cascades)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("downLosesData = %q, want %q", got, tc.want)
			}
		})
	}
	// The database is asked about the tables from before the run whose foreign keys a check reaches.
	set := folderB(t, map[string]string{
		"1_p.up.sql": "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');", "1_p.down.sql": "TRUNCATE events_2027 CASCADE;",
		"2_d.up.sql": "DELETE FROM app.items WHERE old;\nTRUNCATE tmp;", "2_d.down.sql": "DELETE FROM tmp;",
	})
	if got := strings.Join(factsNeeded(set.Migrations, ""), " "); got != "public.events app.items" {
		t.Errorf("factsNeeded = %q, want the partitioned parent and the table the up deletes from", got)
	}
}

func TestAnalyzeEffects(t *testing.T) {
	t.Parallel()
	set := folderB(t, map[string]string{"1_x.up.sql": `
CREATE TABLE a (id int);
INSERT INTO b SELECT * FROM c;
ALTER TABLE d VALIDATE CONSTRAINT d_fk;
COPY e FROM STDIN;
1
\.
UPDATE f SET x = (SELECT max(y) FROM g);`})
	e := analyze(set.Migrations[0].Up)
	for _, tb := range []string{"a", "b", "c", "d", "f", "g"} {
		if !e.Tables[tb] {
			t.Errorf("table %s not seen (tables %v)", tb, e.Tables)
		}
	}
	if !e.Rows["b"] || e.Rows["c"] || e.Rows["f"] {
		t.Errorf("row changers %v, want b (and e)", e.Rows)
	}
	if !e.Validates["d.d_fk"] || !e.Created["a"] || e.Opaque {
		t.Errorf("effects %+v", e)
	}
	if !analyze(folderB(t, map[string]string{"1_y.up.sql": "DO $$ BEGIN NULL; END $$;"}).Migrations[0].Up).Opaque {
		t.Error("DO block not opaque")
	}
	// A data-modifying WITH clause writes its table as the statement alone would: verification must not
	// take the rows it moves for rows lost.
	w := analyze(folderB(t, map[string]string{"1_w.up.sql": "WITH d AS (DELETE FROM h RETURNING *), u AS (UPDATE k SET v = 1 RETURNING *) INSERT INTO a SELECT * FROM d;"}).Migrations[0].Up)
	if !w.Rows["h"] || !w.Rows["a"] || !w.Updated["k"]["v"] {
		t.Errorf("rows %v, updated %v; want h and a, and k.v", w.Rows, w.Updated)
	}
}

// TestUpLosesDataUnknownCode: a call of a function whose code the database could not show counts as
// one that may destroy data.
func TestUpLosesDataUnknownCode(t *testing.T) {
	t.Parallel()
	set := folderB(t, map[string]string{"1_x.up.sql": "SELECT archive_old(30);", "1_x.down.sql": "SELECT 1;"})
	m := set.Migrations[0]
	if got := upLosesData(m, nil, "", map[string][]codeDef{"archive_old": {{place: "function archive_old(integer)"}}}, nil); got != "" {
		t.Errorf("a function that destroys nothing: %q", got)
	}
	got := upLosesData(m, nil, "", map[string][]codeDef{"archive_old": {{unknown: true}}}, nil)
	if want := "1_x.up.sql:1 calls archive_old, whose code cannot be read"; !strings.Contains(got, want) {
		t.Errorf("upLosesData = %q, want %q", got, want)
	}
	// Called from a DO block too.
	set = folderB(t, map[string]string{"1_x.up.sql": "SELECT 1;\nDO $$ BEGIN PERFORM archive_old(30); END $$;", "1_x.down.sql": "SELECT 1;"})
	got = upLosesData(set.Migrations[0], nil, "", map[string][]codeDef{"archive_old": {{unknown: true}}}, nil)
	if want := "1_x.up.sql:2 calls archive_old, whose code cannot be read"; !strings.Contains(got, want) {
		t.Errorf("upLosesData = %q, want %q", got, want)
	}
	// Called from a function's body, which the folder or the database defines.
	set = folderB(t, map[string]string{"1_x.up.sql": "SELECT run_jobs();", "1_x.down.sql": "SELECT 1;"})
	got = upLosesData(set.Migrations[0], nil, "", map[string][]codeDef{
		"run_jobs": {{place: "function run_jobs()", calls: []string{"now", "app.archive_old"}}}, "now": {{place: "function now()"}}, "archive_old": {{unknown: true}}}, nil)
	if want := "1_x.up.sql:1 calls run_jobs, which calls app.archive_old, whose code cannot be read (neither the migration folder nor the database defines it): it may destroy"; !strings.Contains(got, want) {
		t.Errorf("upLosesData = %q, want %q", got, want)
	}
	// Followed to maxCallDepth: a deeper chain counts as code that cannot be read.
	chain := func(n int) map[string][]codeDef {
		code := map[string][]codeDef{}
		for i := 1; i < n; i++ {
			code[fmt.Sprintf("f%d", i)] = []codeDef{{place: fmt.Sprintf("function f%d()", i), calls: []string{fmt.Sprintf("f%d", i+1)}}}
		}
		code[fmt.Sprintf("f%d", n)] = []codeDef{{place: fmt.Sprintf("function f%d()", n)}}
		return code
	}
	set = folderB(t, map[string]string{"1_x.up.sql": "SELECT f1();", "1_x.down.sql": "SELECT 1;"})
	if got := upLosesData(set.Migrations[0], nil, "", chain(maxCallDepth), nil); got != "" {
		t.Errorf("a chain of %d harmless functions: %q", maxCallDepth, got)
	}
	got = upLosesData(set.Migrations[0], nil, "", chain(maxCallDepth+1), nil)
	if want := fmt.Sprintf(", which calls f%d, whose calls nest more than %d deep and are not followed: it may destroy", maxCallDepth, maxCallDepth); !strings.Contains(got, want) {
		t.Errorf("upLosesData = %q, want %q", got, want)
	}
}

// TestBodyCalls: the functions a function's body calls, by its language, as a migration or
// pg_get_functiondef writes its definition.
func TestBodyCalls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ sql, want string }{
		{"CREATE FUNCTION a() RETURNS int LANGUAGE sql AS 'SELECT b(1) + app.c()'", "app.c b"},
		{"CREATE OR REPLACE FUNCTION public.a()\n RETURNS void\n LANGUAGE plpgsql\nAS $function$ DECLARE n int; BEGIN n := b(); CALL p(); END $function$\n", "b p"},
		{"CREATE FUNCTION a() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT b(); END", "b"},
		{"CREATE FUNCTION a(numeric(12,2)) RETURNS int RETURN b($1)", "b"},
		{"CREATE PROCEDURE a() AS $$ CALL b() $$ LANGUAGE sql", "b"},
		{"CREATE FUNCTION a() RETURNS int LANGUAGE sql AS 'SELECT b( FROM'", "b"},
		{"CREATE FUNCTION a() RETURNS int LANGUAGE c AS 'lib', 'a'", ""},
		{"CREATE FUNCTION a(x int DEFAULT b()) RETURNS int LANGUAGE sql AS 'SELECT x'", "b"},
		{"CREATE FUNCTION a(x int DEFAULT b(), y int DEFAULT 1) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN c(x); END $$", "b c"},
		{"CREATE FUNCTION a(x int = b()) RETURNS int LANGUAGE c AS 'lib', 'a'", "b"},
		{"CREATE FUNCTION a() RETURNS void LANGUAGE sql AS $$ CREATE FUNCTION z() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT b(); END; SELECT c() $$", "c"},
		{"CREATE FUNCTION a() RETURNS int LANGUAGE plpython3u AS 'return plpy.execute(\"SELECT b()\")'", ""},
	} {
		if got := strings.Join(bodyCalls(tc.sql), " "); got != tc.want {
			t.Errorf("bodyCalls(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// TestOpaqueBody: a function in a procedural language other than SQL and PL/pgSQL whose body runs SQL,
// as a migration or pg_get_functiondef writes it, cannot be followed.
func TestOpaqueBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ sql, want string }{
		{"CREATE FUNCTION a() RETURNS int LANGUAGE plpython3u AS 'return plpy.execute(\"SELECT b()\")[0][\"b\"]'", "is in plpython3u and runs SQL (plpy.execute)"},
		{"CREATE OR REPLACE FUNCTION public.a()\n RETURNS void\n LANGUAGE plpython3u\nAS $function$\nplan = plpy . prepare(\"SELECT \" + fn + \"()\")\n$function$\n", "runs SQL (plpy.prepare)"},
		{"CREATE FUNCTION a() RETURNS void LANGUAGE plperl AS $$ spi_exec_query('SELECT b()'); $$", "is in plperl and runs SQL (spi_exec_query)"},
		{"CREATE FUNCTION a() RETURNS void LANGUAGE plv8 AS $$ plv8.execute('SELECT b()'); $$", "is in plv8 and runs SQL (execute)"},
		{"CREATE FUNCTION a(x int) RETURNS int LANGUAGE plpython3u AS 'return x * 2'", ""},
		{"CREATE FUNCTION a() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SELECT b()'; END $$", ""},
		{"CREATE FUNCTION a() RETURNS int LANGUAGE sql AS 'SELECT b()'", ""},
		{"CREATE FUNCTION a() RETURNS int LANGUAGE c AS 'lib', 'execute'", ""},
	} {
		if got := opaqueBody(tc.sql); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("opaqueBody(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// TestDoCalls: the functions a DO block calls, read from its PL/pgSQL, wherever it calls them; names
// written before a parenthesis where its code does not parse.
func TestDoCalls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ sql, want string }{
		{"DO $$ BEGIN PERFORM purge_old(); END $$", "purge_old"},
		{"DO $$ DECLARE n int; r record; BEGIN n := app.f(1) + 2; CALL p(3); EXECUTE 'SELECT wipe()'; EXECUTE format('x %I', n); " +
			"IF g(n) > 0 THEN RAISE NOTICE '%', h(); END IF; FOR r IN SELECT k() AS a LOOP NULL; END LOOP; END $$", "app.f format g h k p wipe"},
		{"DO $$ BEGIN INSERT INTO t SELECT z(); EXECUTE 'SELECT ' || quote_ident(fn) || '()'; END $$", "quote_ident z"},
		{"DO $$ DECLARE a int[]; BEGIN a[1] := f(); END $$", "f"},
		{"DO $$ BEGIN PERFORM 1; END $$", ""},
		// creating a function calls nothing of its body
		{"DO $$ BEGIN CREATE FUNCTION w() RETURNS int LANGUAGE sql AS 'SELECT wipe()'; PERFORM x(); END $$", "x"},
		{"DO $$ BEGIN EXECUTE 'CREATE FUNCTION w() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT wipe(); END'; END $$", ""},
		{"DO $$ BEGIN PERFORM purge(; END $$", "purge"}, // does not parse
	} {
		if got := strings.Join(doCalls(tc.sql), " "); got != tc.want {
			t.Errorf("doCalls(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// TestDestroyingCode: what code run from text holds that destroys data, as upLosesData counts it for
// plain statements; words apart, quoted or concatenated too. What only looks alike does not count.
func TestDestroyingCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"BEGIN DROP TABLE old_items; END", "DROP TABLE"},
		{"BEGIN DROP SCHEMA legacy CASCADE; END", "DROP SCHEMA"},
		{"BEGIN ALTER TABLE items DROP COLUMN note; END", "DROP COLUMN"},
		{"BEGIN ALTER TABLE items DROP CONSTRAINT c, DROP note; END", "DROP note"},
		{"BEGIN EXECUTE 'drop ' || 'table ' || t; END", "drop ' || 'table"},
		{"BEGIN TRUNCATE items; END", "TRUNCATE"},
		{"BEGIN DELETE FROM items WHERE old; END", "DELETE FROM"},
		{"BEGIN UPDATE items\n SET n = 0; END", "UPDATE items SET"},
		{"BEGIN EXECUTE format('UPDATE %I SET n = 0', t); END", "UPDATE %I SET"},
		{"BEGIN INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET n = 1; END", "UPDATE SET"},
		{"BEGIN PERFORM 1 FROM items FOR UPDATE; SET LOCAL x = 1; END", ""},
		{"BEGIN PERFORM 1 FROM items FOR NO KEY UPDATE; END", ""},
		{"BEGIN ALTER TABLE o ADD FOREIGN KEY (a) REFERENCES a ON UPDATE SET NULL ON DELETE CASCADE; END", ""},
		{"BEGIN CREATE TRIGGER t BEFORE UPDATE OR DELETE OR TRUNCATE ON items EXECUTE FUNCTION f(); END", ""},
		{"BEGIN ALTER TABLE items ALTER COLUMN n DROP NOT NULL, DROP CONSTRAINT c; DROP INDEX i; DROP VIEW v; END", ""},
		{"BEGIN INSERT INTO items VALUES (1); END", ""},
	} {
		if got := destroyingCode(tc.text); got != tc.want {
			t.Errorf("destroyingCode(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestPlanDrift(t *testing.T) {
	t.Parallel()
	set := folderB(t, map[string]string{"1_a.up.sql": "SELECT 1;", "2_b.up.sql": "SELECT 2;", "3_c.up.sql": "SELECT 3;"})
	sum := func(v string) string { return set.Find(v).Checksum }
	up := func(v string) string { return set.Find(v).UpChecksum() }
	stmts := func(v string) string { return set.Find(v).StatementsChecksum() }
	tests := []struct {
		name    string
		history []appliedRow
		pending string
		drift   string
		changed string
	}{
		{"fresh", nil, "1 2 3", "", ""},
		{"one applied", []appliedRow{{Version: "1", Checksum: sum("1"), Status: StatusApplied}}, "2 3", "", ""},
		{"rolled back is pending", []appliedRow{{Version: "1", Checksum: sum("1"), Status: StatusRolledBack}}, "1 2 3", "", ""},
		{"changed, history without the up's checksum", []appliedRow{{Version: "1", Checksum: "x", Status: StatusApplied}}, "2 3", "cannot tell a changed down", ""},
		{"up changed", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: "y", Status: StatusApplied}}, "2 3", "its up script differs", ""},
		{"only comments changed in the up", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: "y", StatementsChecksum: stmts("1"), Status: StatusApplied}}, "2 3", "", "but not the statements its up runs"},
		{"up changed, history without the statements' checksum", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: "y", Status: StatusApplied}}, "2 3", "cannot tell an edit of its comments from one of its statements", ""},
		{"up statements changed", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: "y", StatementsChecksum: stmts("2"), Status: StatusApplied}}, "2 3", "its up script differs (checksum", ""},
		{"only the down changed", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: up("1"), Status: StatusApplied}}, "2 3", "", "down or verify script of applied migration 1_a changed"},
		{"one down changed, another up", []appliedRow{{Version: "1", Checksum: "x", UpChecksum: up("1"), Status: StatusApplied}, {Version: "2", Checksum: "x", UpChecksum: up("1"), Status: StatusApplied}}, "3", "2_b (2_b.up.sql) changed", "1_a"},
		{"missing", []appliedRow{{Version: "0", Name: "gone", Checksum: "x", Status: StatusApplied}}, "1 2 3", "missing from the migration folder", ""},
		{"gap", []appliedRow{{Version: "2", Checksum: sum("2"), Status: StatusApplied}}, "3", "sorts before applied", ""},
	}
	for _, tc := range tests {
		pending, drift, changed := plan(set, tc.history)
		var vs []string
		for _, m := range pending {
			vs = append(vs, m.Version)
		}
		if strings.Join(vs, " ") != tc.pending {
			t.Errorf("%s: pending %v, want %s", tc.name, vs, tc.pending)
		}
		if got := strings.Join(drift, "; "); (tc.drift == "") != (got == "") || !strings.Contains(got, tc.drift) {
			t.Errorf("%s: drift %q, want %q", tc.name, got, tc.drift)
		}
		if got := strings.Join(changed, "; "); (tc.changed == "") != (got == "") || !strings.Contains(got, tc.changed) {
			t.Errorf("%s: changed %q, want %q", tc.name, got, tc.changed)
		}
	}
}

// TestUpLosesData: what an up destroyed that its down does not bring back, which a rollback takes from
// the snapshot (tester A's F3: an up that dropped a column, undone by a down that only added it again).
func TestUpLosesData(t *testing.T) {
	t.Parallel()
	// The database has no foreign key to items: the rows a DELETE of it takes take no others with them.
	noRefs := map[string]string{"references public.items": ""}
	tests := []struct {
		name     string
		earlier  string // up of a migration applied before, in the same run
		up, down string
		want     string            // substring of the reason; "" for no loss
		cascades map[string]string // what readCascades found
	}{
		{name: "drops a column, down adds it empty", up: "ALTER TABLE items DROP COLUMN note;", down: "ALTER TABLE items ADD COLUMN note text;", want: "1_x.up.sql:1 drops column items.note"},
		{name: "drops a column, down writes it back", up: "CREATE TABLE keep AS SELECT id, note FROM items;\nALTER TABLE items DROP COLUMN note;",
			down: "ALTER TABLE items ADD COLUMN note text;\nUPDATE items i SET note = k.note FROM keep k WHERE k.id = i.id;\nDROP TABLE keep;"},
		{name: "drops a table, down creates it empty", up: "DROP TABLE items;", down: "CREATE TABLE items (id int);", want: "drops table items"},
		{name: "drops a materialized view", up: "DROP MATERIALIZED VIEW totals;", down: "CREATE MATERIALIZED VIEW totals AS SELECT 1;"},
		{name: "truncates", up: "TRUNCATE items;", down: "SELECT 1;", want: "empties items"},
		{name: "deletes, down inserts back", up: "INSERT INTO archive SELECT * FROM items WHERE old;\nDELETE FROM items WHERE old;", down: "INSERT INTO items SELECT * FROM archive;", cascades: noRefs},
		{name: "deletes", up: "DELETE FROM items WHERE id > 10;", down: "SELECT 1;", want: "deletes rows of items"},
		{name: "overwrites a column", up: "UPDATE app_settings SET value = 'broken';", down: "SELECT 1;", want: "overwrites app_settings.value"},
		// A MERGE's actions update and delete as the statements alone do (they counted as rows written).
		{name: "merge updates", up: "MERGE INTO app_settings a USING src s ON a.key = s.key WHEN MATCHED THEN UPDATE SET value = s.value WHEN NOT MATCHED THEN INSERT VALUES (s.key, s.value);", down: "DELETE FROM app_settings WHERE key IN (SELECT key FROM src);",
			want: "1_x.up.sql:1 overwrites app_settings.value"},
		{name: "merge deletes", up: "MERGE INTO items i USING gone g ON i.id = g.id WHEN MATCHED THEN DELETE;", down: "SELECT 1;", want: "1_x.up.sql:1 deletes rows of items"},
		{name: "merge deletes, down merges rows back", up: "CREATE TABLE keep AS SELECT * FROM items;\nMERGE INTO items i USING gone g ON i.id = g.id WHEN MATCHED THEN DELETE;",
			down: "MERGE INTO items i USING keep k ON i.id = k.id WHEN NOT MATCHED THEN INSERT VALUES (k.id);\nDROP TABLE keep;", cascades: noRefs},
		{name: "merge deletes, down only merges updates", up: "MERGE INTO items i USING gone g ON i.id = g.id WHEN MATCHED THEN DELETE;",
			down: "MERGE INTO items i USING gone g ON i.id = g.id WHEN MATCHED THEN UPDATE SET n = 0;", want: "1_x.up.sql:1 deletes rows of items"},
		{name: "upsert", up: "INSERT INTO app_settings VALUES ('mode', 'x') ON CONFLICT (key) DO UPDATE SET value = excluded.value;", down: "DELETE FROM app_settings WHERE key = 'mode';",
			want: "1_x.up.sql:1 overwrites app_settings.value"},
		{name: "insert that does nothing on conflict", up: "INSERT INTO app_settings VALUES ('mode', 'x') ON CONFLICT DO NOTHING;", down: "DELETE FROM app_settings WHERE key = 'mode';"},
		{name: "merge inserts", up: "MERGE INTO items i USING fresh f ON i.id = f.id WHEN NOT MATCHED THEN INSERT VALUES (f.id);", down: "DELETE FROM items WHERE id IN (SELECT id FROM fresh);"},
		{name: "overwrites, down writes back", up: "UPDATE accounts SET balance = balance * 2;", down: "UPDATE accounts SET balance = balance / 2;"},
		{name: "backfills a column it adds", up: "ALTER TABLE items ADD COLUMN n int;\nUPDATE items SET n = id;", down: "ALTER TABLE items DROP COLUMN n;"},
		{name: "backfills a column an earlier migration added", earlier: "ALTER TABLE items ADD COLUMN n int;", up: "UPDATE items SET n = id;", down: "SELECT 1;"},
		{name: "fills and drops its own table", up: "CREATE TABLE tmp (id int);\nINSERT INTO tmp VALUES (1);\nDELETE FROM tmp;\nDROP TABLE tmp;", down: "SELECT 1;"},
		{name: "schema-qualified", up: "ALTER TABLE app.items DROP COLUMN note;", down: "ALTER TABLE app.items ADD COLUMN note text;", want: "drops column app.items.note"},
		// What the parse tree does not show: DO blocks and the functions an up calls (the review's
		// "left alone": a DROP COLUMN inside a DO block was rolled back by a down that only added it back).
		{name: "drops a column in a DO block", up: "DO $$ BEGIN ALTER TABLE items DROP COLUMN note; END $$;", down: "ALTER TABLE items ADD COLUMN note text;",
			want: `1_x.up.sql:1 runs a DO block that holds "DROP COLUMN"`},
		{name: "drops a column in dynamic SQL", up: "SELECT 1;\nDO $$ BEGIN EXECUTE 'ALTER TABLE items ' || 'DROP note'; END $$;", down: "ALTER TABLE items ADD COLUMN note text;",
			want: `1_x.up.sql:2 runs a DO block that holds "DROP note"`},
		{name: "a DO block that destroys nothing", up: "DO $$ BEGIN PERFORM id FROM items FOR UPDATE; ALTER TABLE items ALTER COLUMN n DROP DEFAULT; END $$;", down: "SELECT 1;"},
		{name: "calls a function it creates", up: "CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS 'DELETE FROM items';\nSELECT purge();", down: "SELECT 1;",
			want: `1_x.up.sql:2 calls purge, whose code (1_x.up.sql:1) holds "DELETE FROM"`},
		{name: "calls a procedure an earlier migration created", earlier: "CREATE PROCEDURE app.wipe() LANGUAGE plpgsql AS $$ BEGIN TRUNCATE items; END $$;",
			up: "CALL app.wipe();", down: "SELECT 1;", want: `2_x.up.sql:1 calls app.wipe, whose code (1_e.up.sql:1) holds "TRUNCATE"`},
		{name: "calls a function that destroys nothing", up: "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\nSELECT f(), now();", down: "SELECT 1;"},
		// Data-modifying WITH clauses write as the statements they hold.
		{name: "overwrites in a WITH clause", up: "WITH u AS (UPDATE app_settings SET value = 'x' RETURNING key) SELECT count(*) FROM u;", down: "SELECT 1;",
			want: "1_x.up.sql:1 overwrites app_settings.value"},
		{name: "deletes in a WITH clause", up: "WITH d AS (DELETE FROM items WHERE old RETURNING *) INSERT INTO archive SELECT * FROM d;", down: "SELECT 1;",
			want: "deletes rows of items"},
		{name: "a WITH clause a function only defines", up: "CREATE FUNCTION f() RETURNS bigint LANGUAGE sql BEGIN ATOMIC WITH d AS (DELETE FROM items RETURNING 1) SELECT count(*) FROM d; END;",
			down: "DROP FUNCTION f();"},
		{name: "deletes in a WITH clause, down inserts back in one", up: "WITH d AS (DELETE FROM items WHERE old RETURNING *) INSERT INTO archive SELECT * FROM d;",
			down: "WITH r AS (INSERT INTO items SELECT * FROM archive RETURNING 1) SELECT count(*) FROM r;", cascades: noRefs},
		// Schemas dropped with CASCADE and column type changes (the last review's "left alone").
		{name: "drops a schema with CASCADE", up: "SELECT 1;\nDROP SCHEMA legacy CASCADE;", down: "CREATE SCHEMA legacy;\nCREATE TABLE legacy.t (id int);\nINSERT INTO legacy.t VALUES (1);",
			want: "1_x.up.sql:2 drops schema legacy with CASCADE"},
		{name: "drops an empty schema", up: "DROP SCHEMA legacy;", down: "CREATE SCHEMA legacy;"},
		{name: "drops a schema it created", up: "CREATE SCHEMA tmp;\nCREATE TABLE tmp.t (id int);\nDROP SCHEMA tmp CASCADE;", down: "SELECT 1;"},
		{name: "drops a schema an earlier migration created", earlier: "CREATE SCHEMA tmp;", up: "DROP SCHEMA tmp CASCADE;", down: "CREATE SCHEMA tmp;"},
		{name: "narrows timestamptz to date", up: "ALTER TABLE items ALTER COLUMN at TYPE date;", down: "ALTER TABLE items ALTER COLUMN at TYPE timestamptz;",
			want: "1_x.up.sql:1 changes the type of items.at from timestamptz to date, which is not a widening"},
		{name: "narrows numeric to integer", up: "ALTER TABLE items ALTER COLUMN price SET DATA TYPE integer;", down: "ALTER TABLE items ALTER COLUMN price TYPE numeric(12,2);",
			want: "from numeric(12,2) to integer"},
		{name: "truncates text with USING", up: "ALTER TABLE items ALTER COLUMN note TYPE varchar(10) USING left(note, 10);", down: "ALTER TABLE items ALTER COLUMN note TYPE text;",
			want: "changes the type of items.note to varchar(10) with USING"},
		{name: "widens with USING", up: "ALTER TABLE items ALTER COLUMN n TYPE bigint USING n::bigint;", down: "ALTER TABLE items ALTER COLUMN n TYPE int;",
			want: "with USING"},
		{name: "changes a type the down does not change back", up: "ALTER TABLE items ALTER COLUMN n TYPE bigint;", down: "SELECT 1;",
			want: "changes the type of items.n to bigint, and the down of 1_x does not change it back"},
		{name: "widens int to bigint", up: "ALTER TABLE items ALTER COLUMN n TYPE bigint;", down: "ALTER TABLE items ALTER COLUMN n TYPE int;"},
		{name: "widens varchar to text", up: "ALTER TABLE items ALTER COLUMN s TYPE text;", down: "ALTER TABLE items ALTER COLUMN s TYPE varchar(20);"},
		{name: "widens twice", up: "ALTER TABLE items ALTER COLUMN n TYPE int, ALTER COLUMN p TYPE numeric(14,4);\nALTER TABLE items ALTER COLUMN n TYPE numeric;",
			down: "ALTER TABLE items ALTER COLUMN n TYPE smallint, ALTER COLUMN p TYPE numeric(12,2);"},
		{name: "widens, then narrows", up: "ALTER TABLE items ALTER COLUMN n TYPE bigint;\nALTER TABLE items ALTER COLUMN n TYPE int;", down: "ALTER TABLE items ALTER COLUMN n TYPE smallint;",
			want: "1_x.up.sql:2 changes the type of items.n from bigint to integer"},
		{name: "changes the type of a column it added", up: "ALTER TABLE items ADD COLUMN x bigint;\nALTER TABLE items ALTER COLUMN x TYPE int USING 0;", down: "ALTER TABLE items DROP COLUMN x;"},
		{name: "changes the type in a table an earlier migration created", earlier: "CREATE TABLE t (n bigint);", up: "ALTER TABLE t ALTER COLUMN n TYPE int;", down: "SELECT 1;"},
		// DROP OWNED and types, domains and extensions dropped with CASCADE (the last review's "left
		// alone": the downs brought the shape back without the data).
		{name: "drops what a role owns", up: "SELECT 1;\nDROP OWNED BY legacy_app;", down: "SELECT 1;", want: "1_x.up.sql:2 drops every object role legacy_app owns (DROP OWNED)"},
		{name: "drops what a role owns with CASCADE", up: "DROP OWNED BY a, b CASCADE;", down: "SELECT 1;", want: "role a, b owns"},
		{name: "drops what a role it created owns", up: "CREATE ROLE tmp_reader;\nGRANT SELECT ON items TO tmp_reader;\nDROP OWNED BY tmp_reader;\nDROP ROLE tmp_reader;", down: "SELECT 1;"},
		{name: "drops what a role it created and gave a table owns", up: "CREATE ROLE tmp_owner;\nALTER TABLE items OWNER TO tmp_owner;\nDROP OWNED BY tmp_owner;", down: "SELECT 1;",
			want: "1_x.up.sql:3 drops every object role tmp_owner owns"},
		{name: "drops what a role an earlier migration created owns", earlier: "CREATE ROLE tmp_reader;", up: "DROP OWNED BY tmp_reader;", down: "SELECT 1;"},
		{name: "drops a type that columns use", up: "DROP TYPE mood CASCADE;", down: "CREATE TYPE mood AS ENUM ('ok');", cascades: map[string]string{"type mood": "column mood of table items"},
			want: "1_x.up.sql:1 drops type mood with CASCADE, and with it column mood of table items"},
		{name: "drops a type no column uses", up: "DROP TYPE mood CASCADE;", down: "CREATE TYPE mood AS ENUM ('ok');", cascades: map[string]string{"type mood": ""}},
		{name: "drops a type not read", up: "DROP TYPE app.mood CASCADE;", down: "CREATE TYPE app.mood AS ENUM ('ok');",
			want: "drops type app.mood with CASCADE, which drops the columns that use it with their data, and what it would drop was not read"},
		{name: "drops a type without CASCADE", up: "DROP TYPE mood;", down: "CREATE TYPE mood AS ENUM ('ok');"},
		{name: "drops a type it created", up: "CREATE TYPE tmp AS ENUM ('a');\nALTER TABLE items ADD COLUMN t tmp;\nDROP TYPE tmp CASCADE;", down: "SELECT 1;"},
		{name: "drops a type an earlier migration created", earlier: "CREATE TYPE app.tmp AS (a int);", up: "DROP TYPE app.tmp CASCADE;", down: "SELECT 1;"},
		{name: "drops and creates a type again", up: "DROP TYPE mood CASCADE;\nCREATE TYPE mood AS ENUM ('ok');", down: "SELECT 1;",
			cascades: map[string]string{"type mood": "column mood of table items"}, want: "1_x.up.sql:1 drops type mood with CASCADE"},
		{name: "drops a domain", up: "DROP DOMAIN IF EXISTS pct CASCADE;", down: "SELECT 1;", cascades: map[string]string{"domain pct": "column p of table items"},
			want: "drops domain pct with CASCADE, and with it column p of table items"},
		{name: "drops a domain it created", up: "CREATE DOMAIN pct AS int;\nDROP DOMAIN pct CASCADE;", down: "SELECT 1;"},
		{name: "drops an extension", up: "DROP EXTENSION citext CASCADE;", down: "CREATE EXTENSION citext;", cascades: map[string]string{"extension citext": "column label of table items"},
			want: "drops extension citext with CASCADE, and with it column label of table items"},
		{name: "drops an extension it may have found", up: "CREATE EXTENSION IF NOT EXISTS citext;\nDROP EXTENSION citext CASCADE;", down: "SELECT 1;",
			want: "drops extension citext with CASCADE"},
		{name: "drops an extension it created", up: "CREATE EXTENSION citext;\nDROP EXTENSION citext CASCADE;", down: "SELECT 1;"},
		// Renamed tables and columns are judged as what was there before the up (the last review's "left
		// alone").
		{name: "renames a column, then narrows it", up: "ALTER TABLE items RENAME COLUMN price TO amount;\nALTER TABLE items ALTER COLUMN amount TYPE integer;",
			down: "ALTER TABLE items ALTER COLUMN amount TYPE numeric(12,2);\nALTER TABLE items RENAME COLUMN amount TO price;",
			want: "1_x.up.sql:2 changes the type of items.price from numeric(12,2) to integer, which is not a widening"},
		{name: "renames a column, then widens it", up: "ALTER TABLE items RENAME COLUMN n TO qty;\nALTER TABLE items ALTER COLUMN qty TYPE bigint;",
			down: "ALTER TABLE items RENAME COLUMN qty TO n;\nALTER TABLE items ALTER COLUMN n TYPE int;"},
		{name: "renames a column twice, then narrows it", up: "ALTER TABLE items RENAME COLUMN n TO m;\nALTER TABLE items RENAME COLUMN m TO k;\nALTER TABLE items ALTER COLUMN k TYPE smallint;",
			down: "ALTER TABLE items ALTER COLUMN k TYPE int;\nALTER TABLE items RENAME COLUMN k TO n;", want: "1_x.up.sql:3 changes the type of items.n from integer to smallint"},
		{name: "renames a table, then drops a column", up: "ALTER TABLE items RENAME TO goods;\nALTER TABLE goods DROP COLUMN note;",
			down: "ALTER TABLE goods ADD COLUMN note text;\nALTER TABLE goods RENAME TO items;", want: "1_x.up.sql:2 drops column items.note"},
		{name: "renames a table and a column, then narrows it", up: "ALTER TABLE items RENAME TO goods;\nALTER TABLE goods RENAME COLUMN price TO amount;\nALTER TABLE goods ALTER COLUMN amount TYPE int;",
			down: "ALTER TABLE goods ALTER COLUMN amount TYPE numeric(12,2);", want: "1_x.up.sql:3 changes the type of items.price from numeric(12,2) to integer"},
		{name: "moves a table, then empties it", up: "ALTER TABLE items SET SCHEMA archive;\nTRUNCATE archive.items;", down: "ALTER TABLE archive.items SET SCHEMA public;",
			want: "1_x.up.sql:2 empties items"},
		{name: "renames a table, deletes, down inserts back", up: "ALTER TABLE items RENAME TO goods;\nDELETE FROM goods WHERE old;",
			down: "INSERT INTO goods SELECT * FROM archive;\nALTER TABLE goods RENAME TO items;", cascades: noRefs},
		// The functions a DO block calls (the last review's "left alone": only the DO block's own text was
		// searched).
		{name: "a DO block calls a function it creates", up: "CREATE FUNCTION purge_old() RETURNS void LANGUAGE sql AS 'DELETE FROM items WHERE old';\nDO $$ BEGIN PERFORM purge_old(); END $$;",
			down: "DROP FUNCTION purge_old();", want: `1_x.up.sql:2 calls purge_old, whose code (1_x.up.sql:1) holds "DELETE FROM"`},
		{name: "a DO block assigns what a function returns", up: "CREATE FUNCTION app.wipe(int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN TRUNCATE items; RETURN 0; END $$;\nDO $$ DECLARE n int; BEGIN n := app.wipe(1) + 1; END $$;",
			down: "SELECT 1;", want: `1_x.up.sql:2 calls app.wipe, whose code (1_x.up.sql:1) holds "TRUNCATE"`},
		{name: "a DO block calls a procedure in an IF", earlier: "CREATE PROCEDURE reset() LANGUAGE sql AS $$ UPDATE app_settings SET value = 'x' $$;",
			up: "DO $$ BEGIN IF now() > '2000-01-01' THEN CALL reset(); END IF; END $$;", down: "SELECT 1;", want: `2_x.up.sql:1 calls reset, whose code (1_e.up.sql:1) holds "UPDATE app_settings SET"`},
		{name: "a DO block EXECUTEs a constant that calls", up: "CREATE FUNCTION purge_old() RETURNS void LANGUAGE sql AS 'DELETE FROM items WHERE old';\nDO $$ BEGIN EXECUTE 'SELECT purge_old()'; END $$;",
			down: "SELECT 1;", want: "1_x.up.sql:2 calls purge_old"},
		{name: "a DO block loops over what a function returns", up: "CREATE FUNCTION purge_old() RETURNS SETOF int LANGUAGE sql AS 'DELETE FROM items RETURNING id';\nDO $$ DECLARE r record; BEGIN FOR r IN SELECT * FROM purge_old() LOOP NULL; END LOOP; END $$;",
			down: "SELECT 1;", want: "1_x.up.sql:2 calls purge_old"},
		{name: "a DO block calls a function that destroys nothing", up: "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\nDO $$ BEGIN PERFORM f(), now(); RAISE NOTICE '%', format('%s', f()); END $$;", down: "SELECT 1;"},
		{name: "drops a column, then adds one of its name", up: "ALTER TABLE items DROP COLUMN note;\nALTER TABLE items ADD COLUMN note text;", down: "SELECT 1;",
			want: "1_x.up.sql:1 drops column items.note"},
		{name: "drops a column an earlier migration added", earlier: "ALTER TABLE items ADD COLUMN tmp int;", up: "ALTER TABLE items DROP COLUMN tmp;", down: "SELECT 1;"},
		{name: "renames a column it added, then drops it", up: "ALTER TABLE items ADD COLUMN tmp int;\nALTER TABLE items RENAME COLUMN tmp TO tmp2;\nALTER TABLE items DROP COLUMN tmp2;", down: "SELECT 1;"},
		{name: "renames a table an earlier migration created, then narrows", earlier: "CREATE TABLE t (n bigint);", up: "ALTER TABLE t RENAME TO u;\nALTER TABLE u ALTER COLUMN n TYPE int;", down: "SELECT 1;"},
		{name: "a table an earlier migration created and renamed", earlier: "CREATE TABLE t (n bigint);\nALTER TABLE t RENAME TO u;", up: "DROP TABLE u;", down: "SELECT 1;"},
		{name: "swaps in a new table", up: "CREATE TABLE items_new (id int);\nALTER TABLE items RENAME TO items_old;\nALTER TABLE items_new RENAME TO items;\nDROP TABLE items_old;",
			down: "SELECT 1;", want: "1_x.up.sql:4 drops table items,"},
		{name: "renames a table away, creates one of its name, drops the renamed", up: "ALTER TABLE items RENAME TO items_old;\nCREATE TABLE items (id int);\nDROP TABLE items_old;",
			down: "SELECT 1;", want: "1_x.up.sql:3 drops table items,"},
		{name: "renames a column away, adds one of its name, drops the renamed", up: "ALTER TABLE items RENAME COLUMN note TO old_note;\nALTER TABLE items ADD COLUMN note text;\nALTER TABLE items DROP COLUMN old_note;",
			down: "SELECT 1;", want: "1_x.up.sql:3 drops column items.note"},
		// Calls are followed from function body to function body (the last review's follow-up: only the
		// functions a migration calls itself were looked into).
		{name: "a DO block calls a function that calls one that deletes", up: "CREATE FUNCTION b() RETURNS void LANGUAGE sql AS 'DELETE FROM items';\n" +
			"CREATE FUNCTION a() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM b(); END $$;\nDO $$ BEGIN PERFORM a(); END $$;", down: "SELECT 1;",
			want: `1_x.up.sql:3 calls a, which calls b, whose code (1_x.up.sql:1) holds "DELETE FROM", which may destroy`},
		{name: "calls through three functions", earlier: "CREATE FUNCTION app.c() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'TRUNCATE items'; END $$;",
			up: "CREATE FUNCTION b() RETURNS int LANGUAGE sql AS 'SELECT app.c(); SELECT 1';\nCREATE PROCEDURE a() LANGUAGE sql AS $$ SELECT b() $$;\nCALL a();", down: "SELECT 1;",
			want: `2_x.up.sql:3 calls a, which calls b, which calls app.c, whose code (1_e.up.sql:1) holds "TRUNCATE"`},
		// Creating a function runs nothing of its BEGIN ATOMIC body: its calls count when it is called.
		{name: "creates a BEGIN ATOMIC function it does not call", earlier: "CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS 'DELETE FROM items';",
			up: "CREATE FUNCTION nightly() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT purge(); END;", down: "DROP FUNCTION nightly();"},
		{name: "calls a BEGIN ATOMIC function", earlier: "CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS 'DELETE FROM items';",
			up: "CREATE FUNCTION nightly() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT purge(); END;\nSELECT nightly();", down: "DROP FUNCTION nightly();",
			want: `2_x.up.sql:2 calls nightly, which calls purge, whose code (1_e.up.sql:1) holds "DELETE FROM"`},
		{name: "creates a function whose parameter's default calls", earlier: "CREATE FUNCTION purge() RETURNS int LANGUAGE sql AS 'DELETE FROM items RETURNING 1';",
			up: "CREATE FUNCTION nightly(n int DEFAULT purge()) RETURNS int LANGUAGE sql RETURN n;", down: "DROP FUNCTION nightly(int);"},
		{name: "calls a function whose parameter's default calls", earlier: "CREATE FUNCTION purge() RETURNS int LANGUAGE sql AS 'DELETE FROM items RETURNING 1';",
			up: "CREATE FUNCTION nightly(n int DEFAULT purge()) RETURNS int LANGUAGE sql RETURN n;\nSELECT nightly();", down: "DROP FUNCTION nightly(int);",
			want: `2_x.up.sql:2 calls nightly, which calls purge, whose code (1_e.up.sql:1) holds "DELETE FROM"`},
		// A body in another procedural language that runs SQL cannot be followed: what it calls is unknown.
		{name: "calls a PL/Python function that runs SQL", up: "CREATE FUNCTION py() RETURNS void LANGUAGE plpython3u AS $$ plpy.execute(\"SELECT purge()\") $$;\nSELECT py();", down: "DROP FUNCTION py();",
			want: "1_x.up.sql:2 calls py, whose code (1_x.up.sql:1) is in plpython3u and runs SQL (plpy.execute), whose calls are not followed: it may destroy"},
		{name: "calls a PL/Python function that runs no SQL", up: "CREATE FUNCTION py(a int) RETURNS int LANGUAGE plpython3u AS 'return a + 1';\nSELECT py(1);", down: "DROP FUNCTION py(int);"},
		{name: "creates a PL/Python function that runs SQL", up: "CREATE FUNCTION py() RETURNS void LANGUAGE plpython3u AS $$ plpy.execute(\"SELECT purge()\") $$;", down: "DROP FUNCTION py();"},
		{name: "functions that call each other and destroy nothing", up: "CREATE FUNCTION a(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN CASE WHEN n > 0 THEN b(n - 1) ELSE 0 END; END $$;\n" +
			"CREATE FUNCTION b(n int) RETURNS int LANGUAGE sql AS 'SELECT a(n) + c()';\nCREATE FUNCTION c() RETURNS int LANGUAGE sql AS 'SELECT 1';\nSELECT a(3);", down: "SELECT 1;"},
		// What counts is whether the object was there before the run when the drop happens, not whether
		// the script creates one of its name somewhere (the last review's follow-up).
		{name: "drops a schema with CASCADE, then creates it", up: "DROP SCHEMA legacy CASCADE;\nCREATE SCHEMA legacy;", down: "SELECT 1;",
			want: "1_x.up.sql:1 drops schema legacy with CASCADE"},
		{name: "drops a schema an earlier migration dropped and created", earlier: "DROP SCHEMA legacy CASCADE;\nCREATE SCHEMA legacy;", up: "DROP SCHEMA legacy CASCADE;", down: "SELECT 1;"},
		{name: "drops a schema it created, twice", up: "CREATE SCHEMA tmp;\nDROP SCHEMA tmp CASCADE;\nCREATE SCHEMA tmp;\nDROP SCHEMA tmp CASCADE;", down: "SELECT 1;"},
		{name: "drops a schema an earlier migration created and dropped", earlier: "CREATE SCHEMA legacy;\nDROP SCHEMA legacy;", up: "DROP SCHEMA legacy CASCADE;", down: "SELECT 1;",
			want: "2_x.up.sql:1 drops schema legacy with CASCADE"},
		{name: "drops a table, then creates it", up: "DROP TABLE items;\nCREATE TABLE items (id int);", down: "SELECT 1;", want: "1_x.up.sql:1 drops table items,"},
		{name: "empties a table, drops it, then creates it", up: "TRUNCATE items;\nDROP TABLE items;\nCREATE TABLE items (id int);\nINSERT INTO items VALUES (1);", down: "SELECT 1;",
			want: "1_x.up.sql:1 empties items"},
		{name: "drops a table it created, creates it again, drops it", up: "CREATE TABLE tmp (id int);\nDROP TABLE tmp;\nCREATE TABLE tmp AS SELECT 1 AS id;\nDELETE FROM tmp;\nDROP TABLE tmp;", down: "SELECT 1;"},
		{name: "drops a table an earlier migration dropped and created", earlier: "DROP TABLE items;\nCREATE TABLE items (id int);", up: "ALTER TABLE items DROP COLUMN id;\nDROP TABLE items;", down: "SELECT 1;"},
		{name: "drops a table it may have found", up: "CREATE TABLE IF NOT EXISTS items (id int);\nDROP TABLE items;", down: "SELECT 1;", want: "1_x.up.sql:2 drops table items,"},
		{name: "drops a column of a table an earlier migration may have found", earlier: "CREATE TABLE IF NOT EXISTS items (id int, note text);", up: "ALTER TABLE items DROP COLUMN note;", down: "SELECT 1;",
			want: "2_x.up.sql:1 drops column items.note"},
		{name: "drops a table in a schema it dropped and created", up: "DROP SCHEMA app CASCADE;\nCREATE SCHEMA app;\nCREATE TABLE app.t (id int);\nDROP TABLE app.t;", down: "SELECT 1;",
			want: "1_x.up.sql:1 drops schema app with CASCADE"},
		{name: "drops a type an earlier migration dropped and created", earlier: "DROP TYPE mood CASCADE;\nCREATE TYPE mood AS ENUM ('ok');", up: "DROP TYPE mood CASCADE;", down: "SELECT 1;",
			cascades: map[string]string{"type mood": "column mood of table items"}},
		{name: "drops an extension, then creates it", up: "DROP EXTENSION citext CASCADE;\nCREATE EXTENSION citext;", down: "SELECT 1;",
			cascades: map[string]string{"extension citext": "column label of table items"}, want: "1_x.up.sql:1 drops extension citext with CASCADE"},
		// Emptying a table, also one the run created, reaches what is tied to it (links): the run's
		// foreign keys, partitions and children, and the database's foreign keys.
		{name: "truncates with CASCADE a table it created and referenced", up: "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE items ADD COLUMN tag_id int REFERENCES tags;\nTRUNCATE tags CASCADE;",
			down: "ALTER TABLE items DROP COLUMN tag_id;\nDROP TABLE tags;",
			want: "1_x.up.sql:3 empties tags with CASCADE, which also empties items (it references tags), a table from before the run, and the down of 1_x does not put its rows back"},
		{name: "truncates with CASCADE a table an earlier migration created and referenced", earlier: "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE items ADD COLUMN tag_id int REFERENCES tags;",
			up: "TRUNCATE tags CASCADE;", down: "SELECT 1;", want: "2_x.up.sql:1 empties tags with CASCADE, which also empties items (it references tags)"},
		{name: "truncates a table it created and referenced, without CASCADE", up: "CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE items ADD COLUMN tag_id int REFERENCES tags;\nTRUNCATE tags;",
			down: "ALTER TABLE items DROP COLUMN tag_id;\nDROP TABLE tags;"},
		{name: "empties a partitioned table it attached a table to", up: "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\nALTER TABLE events ATTACH PARTITION old_events FOR VALUES FROM ('2020-01-01') TO ('2030-01-01');\nDELETE FROM events;",
			down: "ALTER TABLE events DETACH PARTITION old_events;\nDROP TABLE events;", want: "1_x.up.sql:3 empties events, which also empties old_events (a partition of events), a table from before the run"},
		{name: "truncates with CASCADE and puts back a table the database references", up: "CREATE TABLE keep AS SELECT * FROM items;\nTRUNCATE items CASCADE;", down: "INSERT INTO items SELECT * FROM keep;\nDROP TABLE keep;",
			cascades: map[string]string{"references public.items": "public.orders\ta\titem_id"},
			want:     "1_x.up.sql:2 empties items with CASCADE, which also empties orders (it references items), a table from before the run, and the down of 1_x does not put its rows back"},
		{name: "truncates with CASCADE and puts back a table the database does not reference", up: "CREATE TABLE keep AS SELECT * FROM items;\nTRUNCATE items CASCADE;", down: "INSERT INTO items SELECT * FROM keep;\nDROP TABLE keep;",
			cascades: noRefs},
		{name: "truncates with CASCADE and puts back both tables", up: "CREATE TABLE keep AS SELECT * FROM items;\nCREATE TABLE keep_o AS SELECT * FROM orders;\nTRUNCATE items CASCADE;",
			down: "INSERT INTO items SELECT * FROM keep;\nINSERT INTO orders SELECT * FROM keep_o;", cascades: map[string]string{"references public.items": "public.orders\ta\titem_id"}},
		{name: "truncates with CASCADE a table whose references were not read", up: "CREATE TABLE keep AS SELECT * FROM items;\nTRUNCATE items CASCADE;", down: "INSERT INTO items SELECT * FROM keep;",
			want: "1_x.up.sql:2 empties items with CASCADE, which also empties the rows of the tables whose foreign keys reference items, a table from before the run, and which those are was not read from the database before the run: the down of 1_x may not bring them back"},
		{name: "deletes rows the database's foreign keys cascade to", up: "CREATE TABLE keep AS SELECT * FROM items WHERE old;\nDELETE FROM items WHERE old;", down: "INSERT INTO items SELECT * FROM keep;",
			cascades: map[string]string{"references public.items": "public.orders\tc\titem_id"},
			want:     "1_x.up.sql:2 deletes rows of items, which also deletes rows of orders (its foreign key to items is ON DELETE CASCADE), a table from before the run, and the down of 1_x does not put its rows back"},
		{name: "deletes rows the database's foreign keys set to null", up: "CREATE TABLE keep AS SELECT * FROM items WHERE old;\nDELETE FROM items WHERE old;", down: "INSERT INTO items SELECT * FROM keep;",
			cascades: map[string]string{"references public.items": "public.orders\tn\titem_id"},
			want:     "1_x.up.sql:2 deletes rows of items, which also overwrites orders.item_id (its foreign key to items is ON DELETE SET NULL), a column from before the run, and the down of 1_x does not write their values again"},
		{name: "deletes rows the database's foreign keys set to null, down writes them back", up: "CREATE TABLE keep AS SELECT * FROM items WHERE old;\nDELETE FROM items WHERE old;",
			down:     "INSERT INTO items SELECT * FROM keep;\nUPDATE orders o SET item_id = k.id FROM keep k WHERE o.ref = k.ref;",
			cascades: map[string]string{"references public.items": "public.orders\tn\titem_id"}},
		// Names holding a dot are catalog keys (schema.Key), cut where SQL cuts them, not at their last dot.
		{name: "deletes rows of \"a.b\"", up: `DELETE FROM "a.b" WHERE id > 10;`, down: "SELECT 1;", want: `1_x.up.sql:1 deletes rows of "a.b"`},
		{name: "overwrites a column \"c.d\", down writes it back", up: `UPDATE items SET "c.d" = 0;`, down: `UPDATE items SET "c.d" = 1;`},
		{name: "overwrites a column of \"a.b\", down writes it back", up: `UPDATE "a.b" SET n = 0;`, down: `UPDATE public."a.b" SET n = 1;`},
		{name: "overwrites a column of \"a.b\"", up: `UPDATE "a.b" SET n = 0;`, down: `UPDATE a.b SET n = 1;`, want: `1_x.up.sql:1 overwrites "a.b".n`},
		{name: "backfills a column \"c.d\" it adds", up: `ALTER TABLE items ADD COLUMN "c.d" int;` + "\n" + `UPDATE public.items SET "c.d" = id;`, down: `ALTER TABLE items DROP COLUMN "c.d";`},
		{name: "deletes rows the database's foreign keys restrict", up: "CREATE TABLE keep AS SELECT * FROM items WHERE old;\nDELETE FROM items WHERE old;", down: "INSERT INTO items SELECT * FROM keep;",
			cascades: map[string]string{"references public.items": "public.orders\ta\titem_id\npublic.lines\tr\titem_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, earlier, code := judged(t, tc.earlier, tc.up, tc.down)
			got := upLosesData(m, earlier, "", code, tc.cascades)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("upLosesData = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWidens: the column type changes that keep every value (and so lose nothing when the down changes
// the type back); everything else counts as lossy.
func TestWidens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to string
		want     bool
	}{
		{"smallint", "int", true}, {"int", "bigint", true}, {"smallint", "bigint", true}, {"bigint", "int", false}, {"int", "smallint", false},
		{"int", "numeric", true}, {"int", "numeric(10)", true}, {"int", "numeric(12,2)", true}, {"int", "numeric(11,2)", false}, {"bigint", "numeric(19,0)", true},
		{"bigint", "numeric(18)", false}, {"numeric", "int", false}, {"numeric(12,2)", "integer", false}, {"int", "real", false}, {"int", "text", false},
		{"real", "double precision", true}, {"double precision", "real", false},
		{"numeric(12,2)", "numeric(14,4)", true}, {"numeric(12,2)", "numeric", true}, {"numeric(12,2)", "numeric(12,4)", false},
		{"numeric(12,2)", "numeric(12,0)", false}, {"numeric", "numeric(30,10)", false}, {"numeric(5)", "numeric(7,2)", true},
		{"varchar(10)", "varchar(20)", true}, {"varchar(10)", "text", true}, {"varchar(10)", "varchar", true}, {"varchar(20)", "varchar(10)", false},
		{"text", "varchar(10)", false}, {"text", "varchar", true}, {"varchar", "text", true}, {"varchar", "varchar(10)", false},
		{"char(5)", "text", false}, {"char(5)", "char(10)", false}, {"varbit(3)", "varbit(5)", true},
		{"date", "timestamp", true}, {"date", "timestamptz", true}, {"timestamptz", "date", false}, {"timestamp", "timestamptz", false},
		{"timestamptz", "timestamp", false}, {"timestamp(0)", "timestamp(3)", true}, {"timestamp(3)", "timestamp(0)", false},
		{"timestamp(3)", "timestamp", true}, {"timestamp", "timestamp(3)", false}, {"time", "time(6)", true},
		{"int[]", "bigint[]", true}, {"int[]", "bigint", false}, {"int", "int", true}, {"app.money", "app.money", true}, {"app.money", "numeric", false},
		{"uuid", "text", false}, {"boolean", "int", false},
	} {
		typeIn := func(sql string) colType {
			set := folderB(t, map[string]string{"1_x.up.sql": "ALTER TABLE t ALTER COLUMN c TYPE " + sql + ";"})
			return analyze(set.Migrations[0].Up).Losses[0].typ
		}
		from, to := typeIn(tc.from), typeIn(tc.to)
		if got := widens(from, to); got != tc.want {
			t.Errorf("widens(%s (%s), %s (%s)) = %v, want %v", tc.from, from, tc.to, to, got, tc.want)
		}
	}
}

// judged is the migration a loss check judges (up and down), after an earlier one of the same run when
// earlier is not "", and what is known of the functions they call.
func judged(t *testing.T, earlier, up, down string) (*migrate.Migration, []*migrate.Migration, map[string][]codeDef) {
	t.Helper()
	files := map[string]string{"1_x.up.sql": up, "1_x.down.sql": down}
	if earlier != "" {
		files = map[string]string{"1_e.up.sql": earlier, "1_e.down.sql": "SELECT 1;", "2_x.up.sql": up, "2_x.down.sql": down}
	}
	migs := folderB(t, files).Migrations
	return migs[len(migs)-1], migs[:len(migs)-1], folderCode(migs)
}
