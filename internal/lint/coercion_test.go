package lint

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestBinaryCastsMatchServer: binaryCasts holds exactly the server's binary-coercible casts (pg_cast
// with castmethod 'b'), so that the table cannot drift from PostgreSQL's.
func TestBinaryCastsMatchServer(t *testing.T) {
	conn := pgtest.Conn(t)
	rows, err := conn.Query(t.Context(), `SELECT s.typname, d.typname FROM pg_cast c
		JOIN pg_type s ON s.oid = c.castsource JOIN pg_type d ON d.oid = c.casttarget
		WHERE c.castmethod = 'b' AND c.castsource <> c.casttarget`)
	if err != nil {
		t.Fatal(err)
	}
	server := map[[2]string]bool{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			t.Fatal(err)
		}
		server[[2]string{from, to}] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for k := range server {
		if !binaryCasts[k] {
			t.Errorf("the server's binary-coercible cast %s -> %s is missing from binaryCasts", k[0], k[1])
		}
	}
	for k := range binaryCasts {
		if !server[k] {
			t.Errorf("binaryCasts has %s -> %s, which the server does not cast binary-coercibly", k[0], k[1])
		}
	}
}

// TestExtensionCastsMatchServer: extensionCasts holds exactly the binary-coercible casts that creating
// each extension it names adds to the server.
func TestExtensionCastsMatchServer(t *testing.T) {
	conn := pgtest.Conn(t)
	if _, err := conn.Exec(t.Context(), "CREATE EXTENSION citext"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(t.Context(), `SELECT s.typname, d.typname FROM pg_cast c
		JOIN pg_type s ON s.oid = c.castsource JOIN pg_type d ON d.oid = c.casttarget
		WHERE c.castmethod = 'b' AND c.castsource <> c.casttarget
		AND EXISTS (SELECT FROM pg_depend WHERE classid = 'pg_cast'::regclass AND objid = c.oid AND deptype = 'e')`)
	if err != nil {
		t.Fatal(err)
	}
	server, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var k [2]string
		return k, r.Scan(&k[0], &k[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range server {
		if !extensionCasts[k] {
			t.Errorf("citext's binary-coercible cast %s -> %s is missing from extensionCasts", k[0], k[1])
		}
	}
	for k := range extensionCasts {
		if !slices.Contains(server, k) {
			t.Errorf("extensionCasts has %s -> %s, which creating citext does not add", k[0], k[1])
		}
	}
}

// TestTypeChangeMatchesServer runs each type change on the server, on an empty table with and without
// an index on the column, and checks that the static analysis names what the server did: a new
// relfilenode for the table (change-column-type-rewrite), for the index alone
// (change-column-collation-index-rebuild), or for neither (change-column-type-coercible). It covers
// every binary-coercible cast, citext's included, and the type modifiers around them.
func TestTypeChangeMatchesServer(t *testing.T) {
	changes := [][2]string{
		{"bit(8)", "varbit"}, {"bit(8)", "varbit(8)"}, {"bit(8)", "varbit(16)"}, {"varbit(8)", "bit(8)"},
		{"varbit(8)", "varbit(16)"}, {"varbit", "varbit(16)"}, {"bit(8)", "bit(8)"},
		{"integer", "oid"}, {"oid", "integer"}, {"integer", "bigint"}, {"integer", "regclass"}, {"regclass", "integer"},
		{"varchar(20)", "text"}, {"text", "varchar"}, {"text", "varchar(10)"}, {"varchar(10)", "varchar(20)"},
		{"text", "char(10)"}, {"varchar(10)", "bpchar"}, {"char(10)", "text"}, {"xml", "varchar(10)"},
		{"cidr", "inet"}, {"numeric(10,2)", "numeric(12,2)"}, {"serial", "integer"}, {"bigserial", "bigint"}, {"serial", "oid"},
		{"timestamp", "timestamptz"}, {"timestamptz", "timestamp"},
		// The timestamp <-> timestamptz cast yields no precision: to one below 6 every row is rounded.
		{"timestamp(3)", "timestamptz(3)"}, {"timestamptz(3)", "timestamp(3)"}, {"timestamp", "timestamptz(3)"},
		{"timestamp(3)", "timestamptz"}, {"timestamp(6)", "timestamptz(6)"}, {"timestamp", "timestamptz(6)"},
		{"timestamp(3)", "timestamptz(6)"}, {"timestamp(3)", "timestamptz(4)"}, {"timestamptz", "timestamp(0)"},
		{"timestamp", "timestamp(6)"}, {"timestamp(6)", "timestamp(3)"}, {"timestamp(3)", "timestamp(3)"},
		{"time", "time(6)"}, {"time(6)", "time(3)"}, {"timetz(3)", "timetz(6)"}, {"time(3)", "timetz(3)"},
		{"interval(3)", "interval(6)"}, {"interval(6)", "interval(3)"}, {"interval", "interval(3)"}, {"interval", "interval(6)"},
		{"interval(3)", "interval"}, {"interval day", "interval"}, {"interval", "interval day"}, {"interval month", "interval year"},
		{"interval year", "interval month"}, {"interval(3)", "interval day to second(3)"}, {"interval day to second(6)", "interval day to second(3)"},
		{"interval hour", "interval minute to second(2)"}, {"interval day to minute", "interval hour"},
		// citext (an extension's type, known by name) indexes with its own operator class.
		{"text", "citext"}, {"varchar(10)", "citext"}, {"text", "public.citext"}, {"char(10)", "citext"}, {"name", "citext"},
		{"citext", "text"}, {"public.citext", "varchar"}, {"citext", "varchar(10)"}, {"citext", "bpchar"}, {"citext", "char(10)"},
	}
	for _, casts := range []map[[2]string]bool{binaryCasts, extensionCasts} {
		changes = append(changes, slices.SortedFunc(maps.Keys(casts), func(a, b [2]string) int {
			return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
		})...)
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, "CREATE EXTENSION citext"); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		for _, indexed := range []bool{false, true} {
			name := fmt.Sprintf("%s to %s", c[0], c[1])
			if indexed {
				name += ", indexed"
			}
			t.Run(name, func(t *testing.T) {
				schema := fmt.Sprintf("CREATE TABLE m (c %s);\n", c[0])
				if indexed {
					schema += "CREATE INDEX m_c_idx ON m (c);\n"
				}
				// The rehearsal's TimeZone, and the one under which timestamp and timestamptz are binary-coercible.
				src := fmt.Sprintf("SET TIME ZONE 'UTC';\nALTER TABLE m ALTER COLUMN c TYPE %s;\n", c[1])
				want, ok := serverTypeChange(ctx, t, conn, schema, src)
				if !ok {
					t.Logf("%s cannot be indexed", c[0])
					return
				}
				var got []string
				for _, f := range AnalyzeScript(script(src), true, Config{Schema: schema}) {
					switch f.Rule {
					case "change-column-type-rewrite", "change-column-collation-index-rebuild", "change-column-type-coercible":
						got = append(got, f.Rule+": "+f.Message)
					}
				}
				if len(got) != 1 || !strings.HasPrefix(got[0], want+":") {
					t.Errorf("static analysis %q, want %s (what the server did)", got, want)
				}
			})
		}
	}
}

// TestTimeZoneChangePrecisionMatchesServer: outside UTC, a change between timestamp and timestamptz to a
// precision below 6 rewrites the table as it does under UTC, so the finding does not offer UTC as the
// way out, nor does the rehearsal's (UTC) trace count as a zone's luck; to precision 6 or none it does.
func TestTimeZoneChangePrecisionMatchesServer(t *testing.T) {
	tests := []struct {
		name, from, to string
		zoneDependent  bool
	}{
		{"to timestamptz(3)", "timestamp", "timestamptz(3)", false},
		{"to timestamp(3)", "timestamptz(3)", "timestamp(3)", false},
		{"to timestamptz(6)", "timestamp(3)", "timestamptz(6)", true},
		{"to timestamptz", "timestamp(3)", "timestamptz", true},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := fmt.Sprintf("CREATE TABLE m (c %s);\n", tt.from)
			src := fmt.Sprintf("SET TIME ZONE 'America/New_York';\nALTER TABLE m ALTER COLUMN c TYPE %s;\n", tt.to)
			if want, _ := serverTypeChange(t.Context(), t, conn, schema, src); want != "change-column-type-rewrite" {
				t.Fatalf("the server: %s, want a rewrite", want)
			}
			f := find(AnalyzeScript(script(src), true, Config{Schema: schema}), "change-column-type-rewrite")
			if f == nil {
				t.Fatal("no change-column-type-rewrite")
			}
			if says := strings.Contains(f.Message, "unless the session's TimeZone is UTC"); f.timeZoneDependent != tt.zoneDependent || says != tt.zoneDependent || (f.Suggestion == utcSuggestion) != tt.zoneDependent {
				t.Errorf("%q (suggestion %q, zone-dependent %v), want zone-dependent %v", f.Message, f.Suggestion, f.timeZoneDependent, tt.zoneDependent)
			}
			// With the old type unknown, only a target a zone can spare a rewrite says so.
			f = find(AnalyzeScript(script(src), true, Config{}), "change-column-type-coercible")
			if f == nil || strings.Contains(f.Message, "TimeZone") != tt.zoneDependent || f.timeZoneDependent != tt.zoneDependent {
				t.Errorf("old type unknown: %+v, want one zone-dependent %v", f, tt.zoneDependent)
			}
		})
	}
}

// TestDomainTypeChangeMatchesServer: a change to a domain without constraints over the column's type
// (or a type it is binary-coercible to) keeps the table (ATColumnChangeRequiresRewrite looks through
// the CoerceToDomain of a domain without constraints); to a constrained domain, or over another base
// type, it rewrites it (measured on 15).
func TestDomainTypeChangeMatchesServer(t *testing.T) {
	domains := "CREATE DOMAIN posint AS int;\nCREATE DOMAIN posint_c AS int CHECK (VALUE > 0);\nCREATE DOMAIN bigd AS bigint;\n" +
		"CREATE DOMAIN over_posint AS posint;\nCREATE DOMAIN name20 AS varchar(20);\nCREATE DOMAIN name5 AS varchar(5);\n"
	changes := [][2]string{{"int", "posint"}, {"int", "posint_c"}, {"int", "bigd"}, {"int", "over_posint"}, {"int", "posint[]"},
		{"varchar(10)", "name20"}, {"varchar(10)", "name5"}, {"text", "name20"}}
	conn := pgtest.Conn(t)
	for _, c := range changes {
		t.Run(c[0]+" to "+c[1], func(t *testing.T) {
			schema := domains + fmt.Sprintf("CREATE TABLE m (c %s);\n", c[0])
			src := fmt.Sprintf("ALTER TABLE m ALTER COLUMN c TYPE %s;\n", c[1])
			if c[1] == "posint[]" {
				src = "ALTER TABLE m ALTER COLUMN c TYPE posint[] USING ARRAY[c];\n"
			}
			want, _ := serverTypeChange(t.Context(), t, conn, schema, src)
			var got []string
			for _, f := range AnalyzeScript(script(src), true, Config{Schema: schema}) {
				if strings.HasPrefix(f.Rule, "change-column-") {
					got = append(got, f.Rule+": "+f.Message)
				}
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], want+":") {
				t.Errorf("static analysis %q, want %s (what the server did)", got, want)
			}
		})
	}
}

// serverTypeChange runs schema and then src in a transaction it rolls back, and names the rule for what
// the server did (see TestTypeChangeMatchesServer); false when the schema does not apply (a type
// without an operator class for an index).
func serverTypeChange(ctx context.Context, t *testing.T, conn *pgx.Conn, schema, src string) (string, bool) {
	t.Helper()
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
	if _, err := conn.Exec(ctx, "SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, schema); err != nil {
		if _, err := conn.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		return "", false
	}
	const filenodes = `SELECT pg_relation_filenode('m')::int8, coalesce(pg_relation_filenode(to_regclass('m_c_idx')), 0)::int8`
	var table, index, table2, index2 int64
	if err := conn.QueryRow(ctx, filenodes).Scan(&table, &index); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, src); err != nil {
		t.Fatalf("on the server: %v", err)
	}
	if err := conn.QueryRow(ctx, filenodes).Scan(&table2, &index2); err != nil {
		t.Fatal(err)
	}
	switch {
	case table2 != table:
		return "change-column-type-rewrite", true
	case index2 != index:
		return "change-column-collation-index-rebuild", true
	}
	return "change-column-type-coercible", true
}

// TestTypeChangeMessages: a type change's finding shows both types with their modifiers, an interval's
// fields and precision spelled as format_type spells them, and the collation the change sets.
func TestTypeChangeMessages(t *testing.T) {
	tests := []struct {
		name, from, to, index, says string
		formatType                  string // the new type as the server's format_type spells it, for an interval
	}{
		{"interval precision", "interval(3)", "interval(6)", "", "m.c: interval(3) -> interval(6) is binary-coercible", "interval(6)"},
		{"interval fields", "interval day to second(3)", "interval day to second(6)", "", "m.c: interval day to second(3) -> interval day to second(6) is binary-coercible", "interval day to second(6)"},
		{"interval range", "interval year", "interval year to month", "", "m.c: interval year -> interval year to month is binary-coercible", "interval year to month"},
		{"interval second", "interval", "interval second(2)", "", "changes type to interval second(2)", "interval second(2)"},
		{"collation", "text", `text COLLATE "C"`, "", `m.c: text -> text COLLATE "C" is binary-coercible`, ""},
		{"collation, indexed", "varchar(10)", `varchar(20) COLLATE "C"`, "CREATE INDEX m_c_idx ON m (c);\n", `m.c: varchar(10) -> varchar(20) COLLATE "C" changes collation`, ""},
		{"collation, rewrite", "integer", `text COLLATE "C"`, "", `changes type to text COLLATE "C"`, ""},
		{"operator class, indexed", "timestamp(3)", "timestamptz", "CREATE INDEX m_c_idx ON m (c);\n", "m.c: timestamp(3) -> timestamptz is binary-coercible", ""},
		{"expression index", "varchar(10)", "varchar(20)", "CREATE INDEX m_c_idx ON m (lower(c));\n", "m.c: varchar(10) -> varchar(20) is binary-coercible", ""},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := fmt.Sprintf("CREATE TABLE m (c %s);\n", tt.from) + tt.index
			src := fmt.Sprintf("SET TIME ZONE 'UTC';\nALTER TABLE m ALTER COLUMN c TYPE %s;\n", tt.to)
			var got []string
			for _, f := range AnalyzeScript(script(src), true, Config{Schema: schema}) {
				if strings.HasPrefix(f.Rule, "change-column-") {
					got = append(got, f.Message)
				}
			}
			if len(got) != 1 || !strings.Contains(got[0], tt.says) {
				t.Errorf("%q, want one saying %q", got, tt.says)
			}
			if tt.formatType == "" {
				return
			}
			// The new type as the server spells it: the message must spell it so.
			ctx := t.Context()
			if _, err := conn.Exec(ctx, fmt.Sprintf("BEGIN; CREATE TEMP TABLE f (c %s)", tt.to)); err != nil {
				t.Fatal(err)
			}
			defer conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			var spelled string
			if err := conn.QueryRow(ctx, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'f'::regclass AND attname = 'c'").Scan(&spelled); err != nil {
				t.Fatal(err)
			}
			if spelled != tt.formatType || !strings.Contains(tt.says, spelled) {
				t.Errorf("the server spells %s %q, want %q as the message does", tt.to, spelled, tt.formatType)
			}
		})
	}
}
