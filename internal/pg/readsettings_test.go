package pg_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// settingsProbe is what a migration's statements see of the settings the catalog reads set aside and
// pin: the settings themselves, the schema an unqualified CREATE TABLE lands in, and literals printed
// and read under them (a timestamptz stored in a timestamp column takes the session's zone's time). jit is left out: the reads turn it off for the session, on purpose (see
// queryWithInput).
const settingsProbe = `SELECT current_setting('search_path'), current_schema(), current_setting('TimeZone'),
  current_setting('DateStyle'), current_setting('IntervalStyle'), current_setting('extra_float_digits'),
  current_setting('bytea_output'), current_setting('standard_conforming_strings'),
  current_setting('statement_timeout'), current_setting('enable_seqscan'),
  '2024-06-01 12:00:00+00'::timestamptz::text, '2024-06-01 12:00:00+00'::timestamptz::timestamp::text,
  '1 day 02:03:04'::interval::text, 0.1::float8::text, '\x01ff'::bytea::text`

func settingsOf(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	out := make([]string, 15)
	dest := make([]any, len(out))
	for i := range out {
		dest[i] = &out[i]
	}
	// Parsed and planned anew each time: a plan kept from under other settings keeps the literals as
	// they were read then, and the casts it folded.
	if err := conn.QueryRow(context.Background(), settingsProbe, pgx.QueryExecModeSimpleProtocol).Scan(dest...); err != nil {
		t.Fatalf("read the session's settings: %v", err)
	}
	return out
}

// execEach runs sql's statements one by one, as psql and the migration tools send them: a multi-statement
// query would make one transaction of them, where a SET LOCAL outside a block would last to its end.
func execEach(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	for _, st := range sqlparse.Parse(sql) {
		exec(t, conn, st.SQL)
	}
}

// TestReadsLeaveTheMigrationsSettings: the catalog reads, the lock reads and the lock traces that run
// on a migration's session, inside its transaction, set aside and pin the settings that change what they
// read (search_path, TimeZone, DateStyle...), and put back the migration's values after them. They
// put them back for the transaction alone: a migration's SET LOCAL search_path = other or SET LOCAL
// TIME ZONE 'Asia/Tokyo' ends with its COMMIT as it does without the reads, where the reads used to put
// the local value back as the session's, which then kept it (the later statements of the session created
// their tables in other, read timestamps in Tokyo's zone). A SET of the migration's, in the transaction
// or outside one, still lasts the session. Each case runs the same SQL on a session without reads, whose
// settings the read session must have, in the transaction after the reads and after its end.
func TestReadsLeaveTheMigrationsSettings(t *testing.T) {
	cases := []struct {
		name string
		// before runs outside a transaction block on both sessions, after the first read.
		before string
		// tx runs in a transaction block (without one when noTx), traced on the read session, which
		// then reads its locks and the catalog, incrementally and whole; after follows the reads.
		tx, after string
		end       string // COMMIT or ROLLBACK
		noTx      bool
	}{{
		name: "SET LOCAL search_path",
		tx:   "SET LOCAL search_path = other; CREATE TABLE a (id int)",
		end:  "COMMIT",
	}, {
		name: "SET LOCAL time zone and output styles",
		tx: `SET LOCAL TIME ZONE 'Asia/Tokyo'; SET LOCAL DateStyle = 'SQL, DMY'; SET LOCAL IntervalStyle = 'sql_standard';
SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'escape'; SET LOCAL statement_timeout = '1min';
CREATE TABLE a (at timestamptz DEFAULT '2024-06-01 12:00:00', d interval DEFAULT '1 day')`,
		end: "COMMIT",
	}, {
		name:   "SET LOCAL over the session's SET",
		before: "SET TIME ZONE 'America/New_York'; SET search_path = other, public; SET DateStyle = 'German'",
		tx:     "SET LOCAL TIME ZONE 'Asia/Tokyo'; SET LOCAL search_path = public; SET LOCAL DateStyle = 'SQL, DMY'; CREATE TABLE a (id int)",
		end:    "COMMIT",
	}, {
		name: "SET in the transaction lasts the session",
		tx:   "SET TIME ZONE 'Asia/Tokyo'; SET search_path = other, public; SET DateStyle = 'SQL, DMY'; CREATE TABLE a (id int)",
		end:  "COMMIT",
	}, {
		name: "SET then SET LOCAL in the transaction",
		tx: `SET TIME ZONE 'Asia/Tokyo'; SET LOCAL TIME ZONE 'Europe/Paris'; SET search_path = other;
SET LOCAL search_path = public; CREATE TABLE a (id int)`,
		end: "COMMIT",
	}, {
		name:  "SET after the reads",
		tx:    "SET LOCAL TIME ZONE 'Asia/Tokyo'; SET LOCAL search_path = other; CREATE TABLE a (id int)",
		after: "SET TIME ZONE 'Europe/Paris'; SET search_path = other, public",
		end:   "COMMIT",
	}, {
		name: "rolled back",
		tx:   "SET TIME ZONE 'Asia/Tokyo'; SET LOCAL search_path = other; CREATE TABLE a (id int)",
		end:  "ROLLBACK",
	}, {
		name:  "SET LOCAL in a savepoint released",
		tx:    "SAVEPOINT s; SET LOCAL TIME ZONE 'Asia/Tokyo'; SET LOCAL search_path = other; CREATE TABLE a (id int)",
		after: "RELEASE SAVEPOINT s",
		end:   "COMMIT",
	}, {
		name:  "SET in a savepoint rolled back to",
		tx:    "SAVEPOINT s; SET TIME ZONE 'Asia/Tokyo'; SET search_path = other; CREATE TABLE a (id int)",
		after: "ROLLBACK TO SAVEPOINT s",
		end:   "COMMIT",
	}, {
		name: "outside a transaction",
		tx:   "SET TIME ZONE 'Asia/Tokyo'; SET search_path = other, public; SET LOCAL DateStyle = 'SQL, DMY'; CREATE TABLE a (id int)",
		noTx: true,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// The read session and a plain one, each on a database of its own with a schema other.
			conns := make([]*pgx.Conn, 2)
			for i := range conns {
				conns[i] = pgtest.Conn(t)
				exec(t, conns[i], "CREATE SCHEMA other")
			}
			conn, plain := conns[0], conns[1]
			same := func(when string) {
				t.Helper()
				if got, want := settingsOf(t, conn), settingsOf(t, plain); !slices.Equal(got, want) {
					t.Errorf("%s: the read session has %q, want the plain session's %q", when, got, want)
				}
			}
			in := &pg.Inspector{Ignore: schema.DefaultIgnore}
			mark, err := in.Inspect(ctx, conn) // the session's first read, outside a transaction block
			if err != nil {
				t.Fatal(err)
			}
			var tr *pg.Tracer
			for _, c2 := range conns {
				execEach(t, c2, c.before)
				if !c.noTx {
					exec(t, c2, "BEGIN")
				}
			}
			opts := pg.ApplyOptions{}
			if !c.noTx {
				if tr, err = pg.NewTracer(ctx, conn, "m.sql"); err != nil {
					t.Fatal(err)
				}
				opts.After, opts.Quiet = tr.After, tr.Quiet
			}
			if err := pg.ApplyScript(ctx, conn, script(c.tx), opts); err != nil {
				t.Fatal(err)
			}
			execEach(t, plain, c.tx)
			var locks []pg.Lock
			if c.noTx {
				mark = nil
			} else if locks, err = in.Locks(ctx, conn); err != nil {
				t.Fatal(err)
			}
			if _, err := in.Since(ctx, conn, mark, locks, pg.Ran{}); err != nil {
				t.Fatal(err)
			}
			if _, err := in.Inspect(ctx, conn); err != nil {
				t.Fatal(err)
			}
			same("after the reads")
			if c.after != "" {
				for _, c2 := range conns {
					execEach(t, c2, c.after)
				}
				same("after " + c.after)
			}
			if c.end != "" {
				for _, c2 := range conns {
					exec(t, c2, c.end)
				}
				same("after " + c.end)
			}
		})
	}
}
