package lint

import (
	"maps"
	"slices"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// notOnServer are the names of volatileFuncs and stableFuncs that the test server's pg_proc may lack,
// each with why: functions of other PostgreSQL versions or of extensions not installed, and words the
// parser turns into calls of other functions.
var notOnServer = map[string]string{
	"uuidv4": "PostgreSQL 18", "uuidv7": "PostgreSQL 18", "random_normal": "PostgreSQL 16",
	"uuid_generate_v7": "the pg_uuidv7 extension",
	"uuid_generate_v1": "the uuid-ossp extension", "uuid_generate_v1mc": "the uuid-ossp extension", "uuid_generate_v4": "the uuid-ossp extension",
	"gen_random_bytes": "the pgcrypto extension",
	"trim":             "TRIM(…) is parsed as btrim, ltrim or rtrim",
}

// TestFuncVolatilityMatchesServer: every function volatileFuncs names is volatile in the server's
// pg_proc (provolatile 'v', every overload), and none stableFuncs names is, so that the lists cannot
// drift from PostgreSQL's: txid_current() and pg_current_xact_id() are stable, and a DEFAULT calling
// them is a fast default, not a rewrite. The extensions the lists know are installed first when the
// server has them.
func TestFuncVolatilityMatchesServer(t *testing.T) {
	conn := pgtest.Conn(t)
	ctx := t.Context()
	for _, ext := range []string{"uuid-ossp", "pgcrypto"} {
		if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS "`+ext+`"`); err != nil {
			t.Logf("extension %s: %v", ext, err)
		}
	}
	names := slices.Sorted(maps.Keys(volatileFuncs))
	names = append(names, slices.Sorted(maps.Keys(stableFuncs))...)
	rows, err := conn.Query(ctx, `SELECT proname::text, array_agg(DISTINCT provolatile::text ORDER BY provolatile::text)
		FROM pg_proc WHERE proname = ANY($1) GROUP BY proname`, names)
	if err != nil {
		t.Fatal(err)
	}
	server := map[string][]string{}
	for rows.Next() {
		var name string
		var kinds []string
		if err := rows.Scan(&name, &kinds); err != nil {
			t.Fatal(err)
		}
		server[name] = kinds
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		kinds, ok := server[name]
		switch {
		case !ok && notOnServer[name] != "":
			t.Logf("%s is not in the server's pg_proc (%s)", name, notOnServer[name])
		case !ok:
			t.Errorf("%s is not in the server's pg_proc: no function to judge the volatility of", name)
		case volatileFuncs[name] && !slices.Equal(kinds, []string{"v"}):
			t.Errorf("volatileFuncs has %s, whose provolatile on the server is %v, not only 'v'", name, kinds)
		case stableFuncs[name] && slices.Contains(kinds, "v"):
			t.Errorf("stableFuncs has %s, which the server has volatile (provolatile %v)", name, kinds)
		}
		if volatileFuncs[name] && stableFuncs[name] {
			t.Errorf("%s is in both volatileFuncs and stableFuncs", name)
		}
	}
}
