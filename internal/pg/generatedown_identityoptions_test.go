package pg_test

import (
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestGenerateDownIdentityOptions: the round trip compares an identity sequence's options (START,
// INCREMENT, MINVALUE, MAXVALUE, CACHE, CYCLE: Column.IdentityOptions), but a generated down gave none
// back, so the down of an up that ran ALTER TABLE ... ALTER COLUMN ... SET INCREMENT BY 5, or ALTER
// SEQUENCE on the identity's sequence, left them and was not verified. Each now sets them back in one
// ALTER TABLE ... ALTER COLUMN, exactly as written here, and the round trip is exact (the re-up too):
// options the up set or took off, a sign of the increment turned (whose defaults of MINVALUE, MAXVALUE
// and START turn with it), and a column or sequence whose data type the up changed as well, whose
// bounds ALTER ... TYPE and ALTER SEQUENCE ... AS move back by themselves when they were the type's.
func TestGenerateDownIdentityOptions(t *testing.T) {
	const table = `CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, v text)`
	for _, tc := range []struct {
		name, setup, up string
		want            []string
	}{
		{name: "increment", up: `ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 5`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 1`}},
		{name: "maxvalue", up: `ALTER TABLE t ALTER COLUMN id SET MAXVALUE 1000`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET NO MAXVALUE`}},
		{name: "start, cache and cycle", up: `ALTER TABLE t ALTER COLUMN id SET START 100 SET CACHE 5 SET CYCLE`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET START WITH 1 SET CACHE 1 SET NO CYCLE`}},
		{name: "alter sequence", up: `ALTER SEQUENCE t_id_seq INCREMENT BY 5 MINVALUE 10 START 10 RESTART`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 1 SET NO MINVALUE SET START WITH 1`}},
		{name: "options taken off", setup: `ALTER TABLE t ALTER COLUMN id SET MAXVALUE 1000 SET CYCLE SET CACHE 20`,
			up:   `ALTER TABLE t ALTER COLUMN id SET NO MAXVALUE SET NO CYCLE SET CACHE 1`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET MAXVALUE 1000 SET CACHE 20 SET CYCLE`}},
		{name: "descending", up: `ALTER TABLE t ALTER COLUMN id SET INCREMENT BY -1`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 1`}},
		{name: "descending made ascending", setup: `ALTER TABLE t ALTER COLUMN id SET INCREMENT BY -2 SET NO MINVALUE SET NO MAXVALUE SET START -1 RESTART`,
			up:   `ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 1 SET MINVALUE -5000 SET START -5000`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET INCREMENT BY -2 SET NO MINVALUE SET START WITH -1`}},
		{name: "column type too", up: `ALTER TABLE t ALTER COLUMN id TYPE bigint; ALTER TABLE t ALTER COLUMN id SET MAXVALUE 5000000000`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET NO MAXVALUE`, `ALTER TABLE t ALTER COLUMN id TYPE integer`}},
		{name: "sequence type too", up: `ALTER SEQUENCE t_id_seq AS smallint INCREMENT BY 2`,
			want: []string{`ALTER SEQUENCE t_id_seq AS integer`, `ALTER TABLE t ALTER COLUMN id SET INCREMENT BY 1`}},
		{name: "sequence widened by the up", up: `ALTER SEQUENCE t_id_seq AS bigint MAXVALUE 5000000000`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET NO MAXVALUE`, `ALTER SEQUENCE t_id_seq AS integer`}},
		{name: "identity added again with others", setup: `ALTER TABLE t ALTER COLUMN id SET CACHE 10`,
			up:   `ALTER TABLE t ALTER COLUMN id DROP IDENTITY; ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (MAXVALUE 1000)`,
			want: []string{`ALTER TABLE t ALTER COLUMN id SET NO MAXVALUE SET CACHE 10`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			exec(t, conn, table+"; INSERT INTO t (v) VALUES ('a'); "+tc.setup)
			r := runRoundTrip(t, conn, tc.up)
			t.Logf("generated down:\n%s", r.down.SQL)
			wantDownSteps(t, r, tc.want)
		})
	}
}
