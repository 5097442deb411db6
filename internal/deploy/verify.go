package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// baseline is the state of the database before the migrations, to verify against.
type baseline struct {
	// counts are exact row counts of the tables the migrations name (all tables when one is opaque), by oid.
	counts map[uint32]tableCount
	// invalid are the indexes already INVALID before.
	invalid map[string]bool
	// fks are the foreign key constraint oids that existed before.
	fks map[uint32]bool
	// catalog is the shape of the user schemas, one line per object.
	catalog []string
	// checksOK tells, by index into verify.checks, which user checks passed before the migrations: a
	// rollback must leave them passing (nil: not run).
	checksOK []bool
	// seqScope is what the check that sequences are not behind their columns reads (the run's scripts'
	// relations and sequences), seqsBehind those of its sequences that were behind already (by name).
	seqScope   seqScope
	seqsBehind map[string]bool
	// tablesBefore are the tables there before the run (by OID, read with seqsBehind): a sequence behind
	// a table the run created is a warning, not a failed check (sequencesAhead).
	tablesBefore map[uint32]bool
	// snap is the snapshot the counts were taken in: the transactions it did not see wrote what others
	// wrote since (see foreignRows).
	snap txSnapshot
}

// txSnapshot is what a snapshot did not see: the transactions from xmax on, and those in xip (full ids).
type txSnapshot struct {
	xmax int64
	xip  []int64
}

type tableCount struct {
	name string
	rows int64
}

// userSchemas filters out system schemas and schemagate's own.
const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%%' AND n.nspname NOT LIKE 'pg\_temp%%' AND n.nspname <> %s`

// takeBaseline counts the rows of the tables named in eff (or all tables when eff is opaque).
// Its queries wait at most lockWait for a lock (another session's ACCESS EXCLUSIVE on a table).
func takeBaseline(ctx context.Context, conn *pgx.Conn, historySchema string, eff *effects, countRows bool, lockWait time.Duration) (*baseline, error) {
	b := &baseline{counts: map[uint32]tableCount{}, invalid: map[string]bool{}, fks: map[uint32]bool{}}
	restore, err := boundLocks(ctx, conn, lockWait)
	if err != nil {
		return nil, err
	}
	defer restore()
	if b.catalog, err = catalog(ctx, conn, historySchema); err != nil {
		return nil, err
	}
	inv, err := invalidIndexes(ctx, conn)
	if err != nil {
		return nil, err
	}
	for _, i := range inv {
		b.invalid[i] = true
	}
	rows, err := conn.Query(ctx, "SELECT oid FROM pg_constraint WHERE contype = 'f'")
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	fks, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	for _, o := range fks {
		b.fks[o] = true
	}
	if !countRows {
		return b, nil
	}
	if eff != nil && !eff.Opaque {
		why, err := hiddenEffects(ctx, conn, eff)
		if err != nil {
			return nil, err
		}
		if why != "" {
			// Rows may change anywhere: count every table, as for a DO block.
			opaque := *eff
			opaque.Opaque = true
			eff = &opaque
		}
	}
	tables, err := tablesOf(ctx, conn, historySchema, eff)
	if err != nil {
		return nil, err
	}
	// The counts are taken in one snapshot, whose transaction ids are kept: the rows that other sessions
	// write from then on (maintenance mode may not stop every writer) are told from the migrations' own
	// when the counts are checked (see foreignRows).
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return nil, fmt.Errorf("count rows: %w", err)
	}
	defer func() {
		if conn.PgConn().TxStatus() != 'I' && !conn.IsClosed() {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if err := conn.QueryRow(ctx, `SELECT pg_snapshot_xmax(s)::text::bigint, ARRAY(SELECT pg_snapshot_xip(s)::text::bigint)
		FROM pg_current_snapshot() s`).Scan(&b.snap.xmax, &b.snap.xip); err != nil {
		return nil, fmt.Errorf("count rows: read the snapshot: %w", err)
	}
	for oid, name := range tables {
		n, err := tableRows(ctx, conn, name)
		if err != nil {
			// The transaction is aborted: out of it first, to ask who holds the lock waited for.
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			return nil, fmt.Errorf("count rows of %s: %w", name, lockWaitError(ctx, conn, err, name))
		}
		b.counts[oid] = tableCount{name: name, rows: n}
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("count rows: %w", err)
	}
	return b, nil
}

// hiddenEffects says why the migrations may change rows of tables they do not name: they call a function
// that is not built in (or that they create), or they write to a table that has triggers. "" when not.
func hiddenEffects(ctx context.Context, conn *pgx.Conn, eff *effects) (string, error) {
	for f := range eff.Funcs {
		if eff.CreatedFuncs[f] {
			return "calls " + f + ", which it creates", nil
		}
	}
	funcs := make([]string, 0, len(eff.Funcs))
	for f := range eff.Funcs {
		funcs = append(funcs, f)
	}
	written := make([]string, 0, len(eff.Rows)+len(eff.Updated))
	for t := range eff.Rows {
		written = append(written, regName(t))
	}
	for t := range eff.Updated {
		written = append(written, regName(t))
	}
	var why string
	err := conn.QueryRow(ctx, `
		SELECT coalesce(
		  (SELECT 'calls ' || p.oid::regprocedure::text FROM pg_proc p JOIN unnest($1::text[]) f(name)
		     ON p.proname = regexp_replace(f.name, '^.*\.', '')
		    AND (f.name NOT LIKE '%.%' OR p.pronamespace::regnamespace::text = split_part(f.name, '.', 1))
		    AND p.pronamespace <> 'pg_catalog'::regnamespace LIMIT 1),
		  (SELECT 'writes to ' || t.tgrelid::regclass::text || ', which has trigger ' || t.tgname FROM pg_trigger t
		    WHERE NOT t.tgisinternal AND t.tgrelid = ANY (SELECT to_regclass(x) FROM unnest($2::text[]) x) LIMIT 1),
		  '')`, funcs, written).Scan(&why)
	if err != nil {
		return "", fmt.Errorf("look up called functions: %w", err)
	}
	return why, nil
}

// rowCount counts a table's rows: its own for a table (its inheritance children are counted on their
// own), every partition's for a partitioned table, which holds none itself.
func rowCount(ctx context.Context, conn *pgx.Conn, name string) (int64, error) {
	n, err := tableRows(ctx, conn, name)
	if err != nil {
		return 0, fmt.Errorf("count rows of %s: %w", name, lockWaitError(ctx, conn, err, name))
	}
	return n, nil
}

// tableRows is rowCount without the names of the sessions a lock timeout waited for.
func tableRows(ctx context.Context, conn *pgx.Conn, name string) (int64, error) {
	from, err := rowsOf(ctx, conn, name)
	if err != nil {
		return 0, err
	}
	var n int64
	err = conn.QueryRow(ctx, "SELECT count(*) FROM "+from).Scan(&n)
	return n, err
}

// rowsOf is what rowCount reads of table name: ONLY name, or the whole of a partitioned table.
func rowsOf(ctx context.Context, conn *pgx.Conn, name string) (string, error) {
	var kind string
	if err := conn.QueryRow(ctx, "SELECT relkind::text FROM pg_class WHERE oid = $1::regclass", name).Scan(&kind); err != nil {
		return "", err
	}
	if kind == "p" {
		return name, nil
	}
	return "ONLY " + name, nil
}

// tablesOf resolves the tables named in eff to oids (every user table when eff is opaque or nil), with
// the tables they reach: those whose foreign keys reference them (ON DELETE CASCADE and TRUNCATE ...
// CASCADE empty them), their partitions and inheritance children, and the tables they are a partition of.
func tablesOf(ctx context.Context, conn *pgx.Conn, historySchema string, eff *effects) (map[uint32]string, error) {
	out := map[uint32]string{}
	q := fmt.Sprintf(`SELECT c.oid, format('%%I.%%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND `+userSchemas, quoteLit(historySchema))
	if eff != nil && !eff.Opaque {
		names := make([]string, 0, len(eff.Tables))
		for t := range eff.Tables {
			names = append(names, regName(t))
		}
		q = `WITH RECURSIVE edge(src, dst) AS (
		       SELECT confrelid, conrelid FROM pg_constraint WHERE contype = 'f'
		       UNION ALL SELECT inhparent, inhrelid FROM pg_inherits
		       UNION ALL SELECT inhrelid, inhparent FROM pg_inherits),
		     reach(oid) AS (
		       SELECT to_regclass(x)::oid FROM unnest($1::text[]) x WHERE to_regclass(x) IS NOT NULL
		       UNION SELECT e.dst FROM edge e JOIN reach r ON e.src = r.oid)
		     ` + q + ` AND c.oid IN (SELECT oid FROM reach)`
		rows, err := conn.Query(ctx, q, names)
		if err != nil {
			return nil, fmt.Errorf("resolve tables: %w", err)
		}
		return collectNames(rows, out)
	}
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return collectNames(rows, out)
}

func collectNames(rows pgx.Rows, out map[uint32]string) (map[uint32]string, error) {
	defer rows.Close()
	for rows.Next() {
		var oid uint32
		var name string
		if err := rows.Scan(&oid, &name); err != nil {
			return nil, err
		}
		out[oid] = name
	}
	return out, rows.Err()
}

func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func invalidIndexes(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid ORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("list invalid indexes: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// catalog lists the user schemas' objects and their definitions, sorted. Sequence positions are left
// out: nextval is not transactional, so a rolled-back insert moves them.
func catalog(ctx context.Context, conn *pgx.Conn, historySchema string) ([]string, error) {
	us := fmt.Sprintf(userSchemas, quoteLit(historySchema))
	q := fmt.Sprintf(`
SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE %[1]s
UNION ALL
SELECT format('relation %%I.%%I %%s', n.nspname, c.relname, c.relkind) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE %[1]s
UNION ALL
SELECT format('column %%s.%%I %%s%%s%%s', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','p','v','m','f') AND %[1]s
UNION ALL
SELECT format('constraint %%s %%I %%s%%s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid), CASE WHEN c.convalidated THEN '' ELSE ' not valid' END)
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE %[1]s
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE %[1]s
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE %[1]s
UNION ALL
SELECT format('trigger %%s %%I', t.tgrelid::regclass, t.tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND %[1]s
UNION ALL
SELECT format('type %%I.%%I %%s', n.nspname, t.typname, t.typtype) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype IN ('e','d','r') AND %[1]s
UNION ALL
SELECT 'extension ' || extname FROM pg_extension
ORDER BY 1`, us)
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", lockWaitError(ctx, conn, err, ""))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", lockWaitError(ctx, conn, err, ""))
	}
	return out, nil
}

// verifier runs the checks after applying (phase "apply") or after rolling back (phase "rollback").
type verifier struct {
	conn          *pgx.Conn
	historySchema string
	cfg           config.Verify
	// lockWait bounds each check's wait for a lock (0: config.DefaultLockTimeout).
	lockWait time.Duration
	// own are the transaction ids of the run's migrations and downs (full ids, see deployer.ownXIDs); a
	// row another transaction wrote since the baseline is another session's (see foreignRows).
	own []int64
	// restored is set once a snapshot restore has put the tables back: their rows are all new then, and
	// the counts must equal the baseline's.
	restored bool
	// note adds a note to the run's report (deployer.note).
	note func(format string, args ...any)
}

func (d *deployer) verifier() *verifier {
	return &verifier{conn: d.conn, historySchema: d.hist.schema, cfg: d.env.Verify, lockWait: d.hist.lockTimeout, own: d.ownXIDs, note: d.note}
}

// bound gives the checks' queries a bounded wait for locks; the returned function lifts it.
func (v *verifier) bound(ctx context.Context) func() {
	restore, err := boundLocks(ctx, v.conn, v.lockWait)
	if err != nil {
		return func() {}
	}
	return restore
}

// afterApply checks the database after the migrations: row counts of tables they name but do not fill or
// empty, no new INVALID index, validated constraints validated, foreign keys hold, user checks. (A sqitch
// change's verify script runs right after the change, as sqitch deploy --verify runs it: see
// deployer.verifyChange.)
func (v *verifier) afterApply(ctx context.Context, b *baseline, migs []*migrate.Migration) []Check {
	const phase = "apply"
	defer v.bound(ctx)()
	eff := newEffects()
	for _, m := range migs {
		e := analyze(m.Up)
		merge(eff, e)
	}
	var out []Check
	if b != nil && len(b.counts) > 0 {
		out = append(out, v.rowCounts(ctx, b, eff, phase))
	}
	out = append(out, v.invalidIndexes(ctx, b, phase))
	if len(eff.Validates) > 0 {
		out = append(out, v.validated(ctx, eff, phase))
	}
	if enabled(v.cfg.ForeignKeys) {
		out = append(out, v.foreignKeys(ctx, b, eff, phase))
	}
	if b != nil && (b.seqScope.all || len(b.seqScope.names) > 0) {
		out = append(out, v.sequencesAhead(ctx, b, phase))
	}
	out = append(out, v.userChecks(ctx, phase, nil)...)
	return out
}

// afterRollback checks the database is back to the baseline: same catalog, same row counts, no new
// INVALID index, and the user checks that passed before the migrations pass again (a data change that
// a down does not undo fails one). Those that did not pass before describe the new schema: left out.
func (v *verifier) afterRollback(ctx context.Context, b *baseline) []Check {
	const phase = "rollback"
	defer v.bound(ctx)()
	var out []Check
	now, err := catalog(ctx, v.conn, v.historySchema)
	c := Check{Name: "schema as before", OK: err == nil, Phase: phase}
	if err != nil {
		c.Message = err.Error()
	} else if diff := diffLines(b.catalog, now); diff != "" {
		c.OK, c.Message = false, diff
	}
	out = append(out, c)
	if len(b.counts) > 0 {
		out = append(out, v.rowCounts(ctx, b, newEffects(), phase))
	}
	out = append(out, v.invalidIndexes(ctx, b, phase))
	if b.seqScope.all || len(b.seqScope.names) > 0 {
		out = append(out, v.sequencesAhead(ctx, b, phase))
	}
	if slices.Contains(b.checksOK, true) {
		out = append(out, v.userChecks(ctx, phase, b.checksOK)...)
	}
	return out
}

// checksBefore runs the user checks before the migrations and tells which pass, by index, for
// baseline.checksOK. Nothing is reported: a check that fails now describes the new schema.
func (v *verifier) checksBefore(ctx context.Context) []bool {
	if len(v.cfg.Checks) == 0 {
		return nil
	}
	defer v.bound(ctx)()
	ok := make([]bool, len(v.cfg.Checks))
	for i, c := range v.userChecks(ctx, "before", nil) {
		ok[i] = c.OK
	}
	return ok
}

func merge(dst, e *effects) {
	for k := range e.Tables {
		dst.Tables[k] = true
	}
	for k := range e.Rows {
		dst.Rows[k] = true
	}
	for rel, cols := range e.Updated {
		if dst.Updated[rel] == nil {
			dst.Updated[rel] = map[string]bool{}
		}
		for c := range cols {
			dst.Updated[rel][c] = true
		}
	}
	for k := range e.Validates {
		dst.Validates[k] = true
	}
	for k := range e.Created {
		dst.Created[k] = true
	}
	for k := range e.Funcs {
		dst.Funcs[k] = true
	}
	for k := range e.CreatedFuncs {
		dst.CreatedFuncs[k] = true
	}
	dst.Opaque = dst.Opaque || e.Opaque
}

func enabled(b *bool) bool { return b == nil || *b }

func (v *verifier) rowCounts(ctx context.Context, b *baseline, eff *effects, phase string) Check {
	c := Check{Name: "row counts unchanged", OK: true, Phase: phase}
	// Tables the migrations fill or empty may change; resolve their names now (they may be new).
	changes := map[uint32]bool{}
	if len(eff.Rows) > 0 || len(eff.Updated) > 0 {
		names := make([]string, 0, len(eff.Rows))
		for n := range eff.Rows {
			names = append(names, regName(n))
		}
		updated := make([]string, 0, len(eff.Updated))
		for n := range eff.Updated {
			updated = append(updated, regName(n))
		}
		// A partition's rows are its parent's too, and the other way round. A write through a view reaches
		// the relations its query reads (an updatable view's base table, or what its INSTEAD OF trigger
		// writes, usually the same), and a write (an UPDATE too) to a relation with rules reaches the
		// relations the rules' actions name: the rewriter turns the statement into writes to them.
		rows, err := v.conn.Query(ctx, `WITH RECURSIVE rule(src, dst) AS (
			  SELECT r.ev_class, d.refobjid FROM pg_rewrite r
			    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
			   WHERE d.refobjid <> r.ev_class AND (r.ev_type <> '1' OR (SELECT relkind FROM pg_class WHERE oid = r.ev_class) = 'v')),
			edge(src, dst) AS (SELECT inhparent, inhrelid FROM pg_inherits UNION ALL SELECT src, dst FROM rule),
			t(oid) AS (
			  SELECT to_regclass(x)::oid FROM unnest($1::text[]) x WHERE to_regclass(x) IS NOT NULL
			  UNION SELECT r.dst FROM unnest($2::text[]) x JOIN pg_rewrite w ON w.ev_class = to_regclass(x) AND w.ev_type <> '1'
			          JOIN rule r ON r.src = w.ev_class
			  UNION SELECT e.dst FROM edge e JOIN t ON e.src = t.oid)
			SELECT oid FROM t UNION SELECT a.relid::oid FROM t, pg_partition_ancestors(t.oid) a`, names, updated)
		if err == nil {
			oids, _ := pgx.CollectRows(rows, pgx.RowTo[uint32])
			for _, o := range oids {
				changes[o] = true
			}
		}
	}
	var bad, unjudged []string
	skipped := 0
	for oid, tc := range b.counts {
		if changes[oid] {
			skipped++
			continue
		}
		// By oid (a rename keeps it); after a snapshot restore the tables are new, so by name.
		// The table's name, qualified, and as the report shows it: with its schema unless that is public.
		var found, shown *string
		err := v.conn.QueryRow(ctx, `SELECT format('%I.%I', n.nspname, c.relname),
			       CASE WHEN n.nspname = 'public' THEN format('%I', c.relname) ELSE format('%I.%I', n.nspname, c.relname) END
			  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE c.oid = coalesce((SELECT oid FROM pg_class WHERE oid = $1), to_regclass($2))`, oid, tc.name).Scan(&found, &shown)
		if err == nil && found == nil {
			err = pgx.ErrNoRows
		}
		if err == pgx.ErrNoRows {
			// Gone (dropped, or dropped and created again under the same name).
			if phase == "rollback" {
				bad = append(bad, tc.name+" is missing")
			}
			continue
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", tc.name, err))
			continue
		}
		name := *found
		n, err := rowCount(ctx, v.conn, name)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if n == tc.rows {
			continue
		}
		diff := fmt.Sprintf("%s has %d rows, had %d", *shown, n, tc.rows)
		if v.restored {
			bad = append(bad, diff)
			continue
		}
		rows, xacts, err := v.foreignRows(ctx, b, name)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s (whether other sessions wrote to it could not be read: %v)", diff, err))
		case rows == 0:
			bad = append(bad, diff)
		case n-tc.rows > rows:
			// More rows than other sessions wrote: the rest are the migrations' (or their subtransactions').
			bad = append(bad, fmt.Sprintf("%s; other sessions wrote %d row%s to it since, which does not account for it", diff, rows, plural(int(rows))))
		default:
			// Their inserts, and the new versions of their updates, are there to see, not their deletes:
			// what the migrations did to the table cannot be told apart.
			unjudged = append(unjudged, fmt.Sprintf("%s (%d row%s written by %d transaction%s of other sessions since)", diff, rows, plural(int(rows)), xacts, plural(int(xacts))))
		}
	}
	slices.Sort(bad)
	slices.Sort(unjudged)
	if len(bad) > 0 {
		c.OK, c.Message = false, strings.Join(bad, "; ")
	} else {
		c.Message = fmt.Sprintf("%d tables checked", len(b.counts)-skipped-len(unjudged))
	}
	if len(unjudged) > 0 {
		c.Message += "; not judged, as other sessions wrote to them meanwhile: " + strings.Join(unjudged, "; ")
	}
	return c
}

// foreignRows counts the rows of table name (as rowCount reads it) that transactions the baseline's
// snapshot did not see wrote, other than the run's own, and those transactions: other sessions' inserts,
// and the new versions of their updates, since the baseline. A subtransaction of a migration (a
// SAVEPOINT, a PL/pgSQL block with EXCEPTION) has an id of its own, and counts as another session's.
func (v *verifier) foreignRows(ctx context.Context, b *baseline, name string) (rows, xacts int64, err error) {
	from, err := rowsOf(ctx, v.conn, name)
	if err != nil {
		return 0, 0, err
	}
	var now int64
	if err := v.conn.QueryRow(ctx, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&now); err != nil {
		return 0, 0, err
	}
	// xmin is a 32-bit id: the snapshot's ids are compared modulo 2^32 (see unseen).
	own := make([]int64, len(v.own))
	for i, x := range v.own {
		own[i] = x % (1 << 32)
	}
	xip := make([]int64, len(b.snap.xip))
	for i, x := range b.snap.xip {
		xip[i] = x % (1 << 32)
	}
	q := fmt.Sprintf("SELECT count(*), count(DISTINCT xmin::text) FROM %s WHERE xmin::text::bigint <> ALL ($4::bigint[]) AND %s", from, unseen("xmin"))
	err = v.conn.QueryRow(ctx, q, b.snap.xmax%(1<<32), now-b.snap.xmax, xip, own).Scan(&rows, &xacts)
	return rows, xacts, err
}

func (v *verifier) invalidIndexes(ctx context.Context, b *baseline, phase string) Check {
	c := Check{Name: "no invalid index", OK: true, Phase: phase}
	inv, err := invalidIndexes(ctx, v.conn)
	if err != nil {
		return Check{Name: c.Name, Phase: phase, Message: err.Error()}
	}
	var bad []string
	for _, i := range inv {
		if b == nil || !b.invalid[i] {
			bad = append(bad, i)
		}
	}
	if len(bad) > 0 {
		c.OK, c.Message = false, "INVALID: "+strings.Join(bad, ", ")+" (a failed CREATE INDEX CONCURRENTLY leaves one)"
	}
	return c
}

func (v *verifier) validated(ctx context.Context, eff *effects, phase string) Check {
	c := Check{Name: "constraints validated", OK: true, Phase: phase}
	var bad []string
	for rc := range eff.Validates {
		rel, name := cutColKey(rc)
		var ok bool
		err := v.conn.QueryRow(ctx, "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2", regName(rel), name).Scan(&ok)
		if err == pgx.ErrNoRows {
			continue // dropped later in the run
		}
		switch {
		case err != nil:
			// Not an answer about the constraint (a lost connection, a lock wait): say so, not NOT VALID.
			bad = append(bad, fmt.Sprintf("could not read whether %s on %s is validated: %v", name, rel, err))
		case !ok:
			bad = append(bad, fmt.Sprintf("%s on %s is still NOT VALID", name, rel))
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		c.OK, c.Message = false, strings.Join(bad, "; ")
	}
	return c
}

// foreignKeys checks that the validated foreign keys that the migrations could have broken hold (no child
// row without its parent): new ones, those whose child or parent table had rows inserted or deleted, and
// those whose key columns were updated. Schema changes alone cannot break a foreign key, and checking one
// costs a scan of its child table.
func (v *verifier) foreignKeys(ctx context.Context, b *baseline, eff *effects, phase string) Check {
	c := Check{Name: "foreign keys hold", OK: true, Phase: phase}
	names := make([]string, 0, len(eff.Rows))
	for t := range eff.Rows {
		names = append(names, regName(t))
	}
	var updRel, updCol []string
	for rel, cols := range eff.Updated {
		for col := range cols {
			updRel, updCol = append(updRel, regName(rel)), append(updCol, col)
		}
	}
	known := []uint32{}
	if b != nil {
		for o := range b.fks {
			known = append(known, o)
		}
	}
	rows, err := v.conn.Query(ctx, `
		WITH fk AS (
		  SELECT c.oid, c.conname, c.conrelid, c.confrelid,
		         array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
		                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
		         array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
		                JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS pcols
		    FROM pg_constraint c WHERE c.contype = 'f' AND c.convalidated
		     -- a key that references a partitioned table has a copy for each of its partitions on the
		     -- same child table, which no row of another partition satisfies: the key itself is checked
		     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.oid = c.conparentid AND k.conrelid = c.conrelid))
		SELECT oid, conname, conrelid::regclass::text, confrelid::regclass::text,
		       array(SELECT format('%I', x) FROM unnest(cols) x), array(SELECT format('%I', x) FROM unnest(pcols) x),
		       (SELECT relkind = 'p' FROM pg_class WHERE oid = confrelid)
		  FROM fk
		 WHERE $2 OR NOT oid = ANY ($3::oid[])
		    OR conrelid = ANY (SELECT to_regclass(x) FROM unnest($1::text[]) x)
		    OR confrelid = ANY (SELECT to_regclass(x) FROM unnest($1::text[]) x)
		    OR EXISTS (SELECT 1 FROM unnest($4::text[], $5::text[]) u(rel, col)
		                WHERE (to_regclass(u.rel) = conrelid AND u.col = ANY (cols))
		                   OR (to_regclass(u.rel) = confrelid AND u.col = ANY (pcols)))`,
		names, eff.Opaque, known, updRel, updCol)
	if err != nil {
		return Check{Name: c.Name, Phase: phase, Message: err.Error()}
	}
	type fk struct {
		oid             uint32
		name, child, pt string
		cols, pcols     []string
		partitioned     bool // the parent table is partitioned: its rows are its partitions'
	}
	var fks []fk
	for rows.Next() {
		var f fk
		if err := rows.Scan(&f.oid, &f.name, &f.child, &f.pt, &f.cols, &f.pcols, &f.partitioned); err != nil {
			rows.Close()
			return Check{Name: c.Name, Phase: phase, Message: err.Error()}
		}
		fks = append(fks, f)
	}
	rows.Close()
	var bad []string
	for _, f := range fks {
		var notNull, join []string
		for i := range f.cols {
			notNull = append(notNull, "c."+f.cols[i]+" IS NOT NULL")
			join = append(join, "p."+f.pcols[i]+" = c."+f.cols[i])
		}
		// ONLY: a key holds for its table's own rows, and is a parent's row only (inheritance children
		// have neither); a partitioned table has no rows of its own (its partitions have copies of a key
		// it holds, each checked), but a key that references one is satisfied by any of its partitions.
		parent := "ONLY " + f.pt
		if f.partitioned {
			parent = f.pt
		}
		q := fmt.Sprintf("SELECT count(*) FROM ONLY %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)",
			f.child, strings.Join(notNull, " AND "), parent, strings.Join(join, " AND "))
		var n int64
		if err := v.conn.QueryRow(ctx, q).Scan(&n); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", f.name, err))
		} else if n > 0 {
			bad = append(bad, fmt.Sprintf("%s on %s: %d rows without a parent in %s", f.name, f.child, n, f.pt))
		}
	}
	if len(bad) > 0 {
		c.OK, c.Message = false, strings.Join(bad, "; ")
	} else {
		c.Message = fmt.Sprintf("%d foreign keys checked", len(fks))
	}
	return c
}

// userChecks runs the user checks (verify.checks); only, when not nil, picks them by index.
func (v *verifier) userChecks(ctx context.Context, phase string, only []bool) []Check {
	var out []Check
	for i, uc := range v.cfg.Checks {
		if only != nil && (i >= len(only) || !only[i]) {
			continue
		}
		name := uc.Name
		if name == "" {
			name = fmt.Sprintf("check %d", i+1)
		}
		c := Check{Name: name, Phase: phase}
		got, err := readOnlyQuery(ctx, v.conn, uc.SQL)
		switch {
		case err != nil:
			c.Message = fmt.Sprintf("check %q: %v", name, err)
		case uc.Rows == nil:
			c.OK = len(got) == 1 && len(got[0]) == 1 && (got[0][0] == "true" || got[0][0] == "t")
			if !c.OK {
				c.Message = fmt.Sprintf("want one row holding true, got %v", got)
			}
		default:
			c.OK = fmt.Sprint(got) == fmt.Sprint(uc.Rows)
			if !c.OK {
				c.Message = fmt.Sprintf("want rows %v, got %v", uc.Rows, got)
			}
		}
		out = append(out, c)
	}
	return out
}

// readOnlyQuery runs a user check's sql (queryText) in a READ ONLY transaction that is always rolled
// back, as sqitch verify scripts are: a check reads, and one that writes (a data-modifying WITH, a
// function that writes) fails instead of changing the database the deploy verifies. SQL that ends or
// opens a transaction itself is refused before it runs, since it would run what follows outside that
// transaction.
func readOnlyQuery(ctx context.Context, conn *pgx.Conn, sql string) ([][]string, error) {
	for _, st := range sqlparse.Parse(sql) {
		if st.Node != nil && st.Node.GetTransactionStmt() != nil {
			return nil, fmt.Errorf("its SQL may not control the transaction (%s): checks run in a read-only transaction that is rolled back", strings.TrimSpace(st.SQL))
		}
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The check is the user's SQL: it reads under the search path the session started with, as the
	// migrations ran, not the one the deploy's own queries run under (see deployer.connect), until the
	// rollback.
	if _, err := conn.Exec(ctx, pg.UnpinCatalogPathSQL); err != nil {
		return nil, err
	}
	rows, err := queryText(ctx, conn, sql)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlstateReadOnlyTransaction {
		return nil, fmt.Errorf("it tried to write, and checks may only read (they run in a read-only transaction that is rolled back): %w", err)
	}
	return rows, err
}

// sqlstateReadOnlyTransaction is read_only_sql_transaction: a write in a READ ONLY transaction.
const sqlstateReadOnlyTransaction = "25006"

// queryText runs sql and returns its rows as text.
func queryText(ctx context.Context, conn *pgx.Conn, sql string) ([][]string, error) {
	res, err := conn.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, nil
	}
	out := [][]string{}
	for _, r := range res[len(res)-1].Rows {
		row := make([]string, len(r))
		for i, v := range r {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// sqitchVerify runs the sqitch verify script of m in a transaction that is rolled back; an error fails
// it. The error comes back too, positioned in the script (a *pg.StatementError), for the change's result.
func (v *verifier) sqitchVerify(ctx context.Context, m *migrate.Migration, phase string) (Check, error) {
	c := Check{Name: "verify " + m.Verify.File, Phase: phase, OK: true}
	defer v.bound(ctx)()
	tx, err := v.conn.Begin(ctx)
	if err != nil {
		return Check{Name: c.Name, Phase: phase, Message: err.Error()}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Under the session's own search path, as a user check (see readOnlyQuery).
	if _, err := v.conn.Exec(ctx, pg.UnpinCatalogPathSQL); err != nil {
		return Check{Name: c.Name, Phase: phase, Message: err.Error()}, err
	}
	// Discarded: the script's own ROLLBACK, which ends sqitch's verify template (BEGIN; ... ROLLBACK;),
	// is the end this transaction gets anyway, as in the rehearsal; without it that ROLLBACK failed the
	// verification and rolled the deploy back.
	if err := pg.ApplyScript(ctx, v.conn, m.Verify, pg.ApplyOptions{Discarded: true}); err != nil {
		c.OK, c.Message = false, err.Error()
		return c, err
	}
	return c, nil
}

// diffLines describes what differs between two sorted lists.
func diffLines(before, after []string) string {
	b, a := map[string]bool{}, map[string]bool{}
	for _, l := range before {
		b[l] = true
	}
	for _, l := range after {
		a[l] = true
	}
	var msgs []string
	for _, l := range before {
		if !a[l] {
			msgs = append(msgs, "missing: "+l)
		}
	}
	for _, l := range after {
		if !b[l] {
			msgs = append(msgs, "extra: "+l)
		}
	}
	if len(msgs) > 10 {
		msgs = append(msgs[:10], fmt.Sprintf("and %d more", len(msgs)-10))
	}
	return strings.Join(msgs, "; ")
}

// boundLocks sets the session's lock_timeout to wait (config.DefaultLockTimeout when 0) for the deploy's
// own queries (the baseline, the checks), which must not wait for ever on a table another session locked;
// the returned function puts the session's setting back.
func boundLocks(ctx context.Context, conn *pgx.Conn, wait time.Duration) (func(), error) {
	if wait <= 0 {
		wait = config.DefaultLockTimeout
	}
	var was string
	if err := conn.QueryRow(ctx, "SELECT pg_catalog.current_setting('lock_timeout'), pg_catalog.set_config('lock_timeout', $1, false)",
		fmt.Sprintf("%dms", wait.Milliseconds())).Scan(&was, new(string)); err != nil {
		return nil, fmt.Errorf("set lock_timeout: %w", err)
	}
	return func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_catalog.set_config('lock_timeout', $1, false)", was)
	}, nil
}

// lockWaitError adds to a lock timeout who holds the lock it waited for: the sessions holding an ACCESS
// EXCLUSIVE lock on rel (on any relation when rel is ""), as lockHolders describes them.
func lockWaitError(ctx context.Context, conn *pgx.Conn, err error, rel string) error {
	if !isLockTimeout(err) || conn.IsClosed() {
		return err
	}
	var tables []string
	if rel != "" {
		tables = []string{rel}
	}
	holders := lockHolders(ctx, conn, "AccessShareLock", tables...)
	if len(holders) == 0 {
		return err
	}
	return fmt.Errorf("%w: %s", err, strings.Join(holders, "; "))
}

// baselineBlocked is the failure to take the baseline, before any migration ran: the run is blocked, as
// when the snapshot fails (maintenance mode goes off again on the way out).
func baselineBlocked(err error) error {
	b := &Blocked{Reason: fmt.Sprintf("take the baseline the verification compares with: %v; nothing was changed", err),
		Hint: "fix the problem, then deploy again"}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlstateLockNotAvailable {
		b.Hint = "another session holds a lock on a table the migrations touch: wait for it to end (or end it), then deploy again; lock_timeout bounds the wait"
	}
	return b
}

// regName is a relation's key (relKey) as to_regclass reads it: a key leaves a name with a space or
// capitals unquoted ("order items", Orders), which SQL reads as no name, or another relation's.
func regName(key string) string { return pgx.Identifier(schema.SplitKey(key)).Sanitize() }
