package pg_test

import (
	"slices"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestGenerateDownAggregates: the catalog reads an aggregate's definition from pg_aggregate (its
// Definition, a CREATE OR REPLACE AGGREGATE) and compares it, but a generated down made no aggregate
// again: one the up dropped or replaced was an irreversible step ("aggregate ... cannot be re-created
// from the catalog: write its CREATE AGGREGATE by hand"), and the down was not verified. It now runs
// that definition, exactly as written here, with the aggregate's parallel safety (which pg_proc holds
// and the definition leaves out) and a sort operator regoper qualifies inside OPERATOR(...); after the
// functions it names when the up dropped them too (DROP FUNCTION ... CASCADE), after the operator it
// sorts by when the up dropped that, and before a view that uses it. An aggregate of no arguments is
// dropped and commented on as agg(*), which DROP AGGREGATE and COMMENT ON AGGREGATE take, and an
// aggregate's comment goes back with COMMENT ON AGGREGATE (COMMENT ON FUNCTION refuses one). Each round
// trip is exact, the re-up too.
func TestGenerateDownAggregates(t *testing.T) {
	const (
		mysum   = `CREATE AGGREGATE mysum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0')`
		support = `CREATE FUNCTION acc(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
			CREATE FUNCTION fin(int) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1::text';
			CREATE AGGREGATE agg(int) (SFUNC = acc, STYPE = int, FINALFUNC = fin, COMBINEFUNC = acc, INITCOND = '0', PARALLEL = SAFE);
			CREATE TABLE t (a int); CREATE VIEW v AS SELECT agg(a) AS s FROM t`
		sortop = `CREATE FUNCTION lt3(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 < $2';
			CREATE OPERATOR <<< (LEFTARG = int, RIGHTARG = int, FUNCTION = lt3);
			CREATE AGGREGATE mymin(int) (SFUNC = int4smaller, STYPE = int, SORTOP = <<<)`
	)
	for _, tc := range []struct {
		name, setup, up string
		want            []string
	}{
		{name: "dropped", setup: mysum, up: `DROP AGGREGATE mysum(int)`,
			want: []string{`CREATE OR REPLACE AGGREGATE public.mysum(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0')`}},
		{name: "replaced", setup: mysum, up: `CREATE OR REPLACE AGGREGATE mysum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '1')`,
			want: []string{`CREATE OR REPLACE AGGREGATE public.mysum(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0')`}},
		{name: "made parallel safe", setup: mysum, up: `CREATE OR REPLACE AGGREGATE mysum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0', PARALLEL = SAFE)`,
			want: []string{`CREATE OR REPLACE AGGREGATE public.mysum(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0')`}},
		{name: "no longer parallel safe", setup: support, up: `CREATE OR REPLACE AGGREGATE agg(int) (SFUNC = acc, STYPE = int, FINALFUNC = fin, COMBINEFUNC = acc, INITCOND = '0')`,
			want: []string{`CREATE OR REPLACE AGGREGATE public.agg(integer) (SFUNC = acc, STYPE = integer, FINALFUNC = fin, COMBINEFUNC = acc, INITCOND = '0', PARALLEL = SAFE)`}},
		{name: "created", up: mysum, want: []string{`DROP AGGREGATE mysum(integer)`}},
		{name: "of no arguments created", up: `CREATE AGGREGATE cnt(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0')`,
			want: []string{`DROP AGGREGATE cnt(*)`}},
		{name: "of no arguments dropped", setup: `CREATE AGGREGATE cnt(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0'); COMMENT ON AGGREGATE cnt(*) IS 'rows'`,
			up: `DROP AGGREGATE cnt(*)`,
			want: []string{`CREATE OR REPLACE AGGREGATE public.cnt(*) (SFUNC = int8inc, STYPE = bigint, INITCOND = '0')`,
				`COMMENT ON AGGREGATE cnt(*) IS 'rows'`}},
		{name: "comment", setup: mysum, up: `COMMENT ON AGGREGATE mysum(int) IS 'sum'`,
			want: []string{`COMMENT ON AGGREGATE mysum(integer) IS NULL`}},
		{name: "dropped with its functions", setup: support, up: `DROP FUNCTION acc(int, int) CASCADE; DROP FUNCTION fin(int) CASCADE`,
			want: []string{"SET check_function_bodies = off", "CREATE OR REPLACE FUNCTION public.acc(integer, integer)\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE\nAS $function$SELECT $1 + $2$function$",
				"CREATE OR REPLACE FUNCTION public.fin(integer)\n RETURNS text\n LANGUAGE sql\n IMMUTABLE\nAS $function$SELECT $1::text$function$",
				`CREATE OR REPLACE AGGREGATE public.agg(integer) (SFUNC = acc, STYPE = integer, FINALFUNC = fin, COMBINEFUNC = acc, INITCOND = '0', PARALLEL = SAFE)`,
				"CREATE VIEW v AS\nSELECT agg(t.a) AS s\n   FROM t", "RESET check_function_bodies"}},
		{name: "moving aggregate", setup: `CREATE AGGREGATE msum(int) (SFUNC = int4pl, STYPE = int, MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = int, MFINALFUNC = int4abs, MFINALFUNC_MODIFY = SHAREABLE)`,
			up:   `DROP AGGREGATE msum(int)`,
			want: []string{`CREATE OR REPLACE AGGREGATE public.msum(integer) (SFUNC = int4pl, STYPE = integer, MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = integer, MFINALFUNC = int4abs, MFINALFUNC_MODIFY = SHAREABLE)`}},
		{name: "built-in sort operator", setup: `CREATE AGGREGATE mymax(int) (SFUNC = int4larger, STYPE = int, SORTOP = >)`,
			up:   `DROP AGGREGATE mymax(int)`,
			want: []string{`CREATE OR REPLACE AGGREGATE public.mymax(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = OPERATOR(pg_catalog.>))`}},
		{name: "sort operator dropped with it", setup: sortop, up: `DROP OPERATOR <<< (int, int) CASCADE`,
			want: []string{`CREATE OPERATOR public.<<< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = lt3)`,
				`CREATE OR REPLACE AGGREGATE public.mymin(integer) (SFUNC = int4smaller, STYPE = integer, SORTOP = <<<)`}},
		{name: "ordered-set", setup: `CREATE AGGREGATE my_pct(float8 ORDER BY anyelement) (SFUNC = ordered_set_transition, STYPE = internal,
				FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA)`,
			up:   `DROP AGGREGATE my_pct(float8 ORDER BY anyelement)`,
			want: []string{`CREATE OR REPLACE AGGREGATE public.my_pct(double precision ORDER BY anyelement) (SFUNC = ordered_set_transition, STYPE = internal, FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			r := runRoundTrip(t, conn, tc.up)
			t.Logf("generated down:\n%s", r.down.SQL)
			wantDownSteps(t, r, tc.want)
		})
	}
}

// wantDownSteps wants r's generated down to be the statements want, step by step, and its round trip
// (the down, then the up again) exact.
func wantDownSteps(t *testing.T, r *roundTrip, want []string) {
	t.Helper()
	var got []string
	for _, st := range r.down.Steps {
		got = append(got, st.SQL)
	}
	if !slices.Equal(got, want) {
		t.Errorf("generated down\n%q\nwant\n%q", got, want)
	}
	if !r.down.Reversible() || !r.exact() {
		t.Errorf("round trip not exact (warnings %q):\ndown error: %v\nre-up error: %v\nafter down: %q\nafter re-up: %q",
			r.down.Warnings, r.downErr, r.reUpErr, r.downProblems, r.reUpProblems)
	}
}
