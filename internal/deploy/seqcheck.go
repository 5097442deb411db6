package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
)

// seqScope is what the check that sequences are not behind their columns reads: the sequences owned by
// the columns (serial, identity, OWNED BY) of the relations the run's ups and downs name, and the
// sequences they name (setval, pg_get_serial_sequence's table); every one when a script is opaque (a DO
// block, a CALL), whose relations the parse tree does not show.
type seqScope struct {
	names []string
	all   bool
}

// sequenceScope is the seqScope of migs.
func sequenceScope(migs []*migrate.Migration) seqScope {
	var sc seqScope
	seen := map[string]bool{}
	add := func(names map[string]bool) {
		for n := range names {
			if !seen[n] {
				seen[n] = true
				sc.names = append(sc.names, n)
			}
		}
	}
	for _, m := range migs {
		for _, s := range []*migrate.Script{m.Up, m.Down} {
			e := analyze(s)
			add(e.Tables)
			add(e.Sequences)
			sc.all = sc.all || e.Opaque
		}
	}
	slices.Sort(sc.names)
	return sc
}

// behindSeq is a sequence whose next value is one its column holds already, or would pass it: nextval
// would hand out a key that is there (next is what nextval returns next; edge the column's max, or its
// min for a sequence that counts down).
type behindSeq struct {
	seq, table, col string // as format's %I writes them
	tableOID        uint32
	inc             int64
	next, edge      string
}

// sequencesBehind reads, of the sequences sc names, those behind their columns, and how many it read.
// Sequences owned by a column of an integer type are read (a key taken from one); those the role may not
// read, or whose column it may not read, or in a schema it may not use, are left out.
func sequencesBehind(ctx context.Context, conn *pgx.Conn, historySchema string, sc seqScope) (behind []behindSeq, checked int, err error) {
	if !sc.all && len(sc.names) == 0 {
		return nil, 0, nil
	}
	names := make([]string, len(sc.names))
	for i, n := range sc.names {
		names[i] = regName(n)
	}
	rows, err := conn.Query(ctx, fmt.Sprintf(`
		SELECT format('%%I.%%I', sn.nspname, s.relname), format('%%I.%%I', n.nspname, t.relname), format('%%I', a.attname), t.oid, q.seqincrement
		  FROM pg_depend d
		  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		  JOIN pg_namespace sn ON sn.oid = s.relnamespace
		  JOIN pg_sequence q ON q.seqrelid = s.oid
		  JOIN pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p')
		  JOIN pg_namespace n ON n.oid = t.relnamespace
		  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
		 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
		   AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
		   -- CASE: the planner may test a qual before the join's relkind, and has_sequence_privilege
		   -- refuses a relation that is no sequence; the privileges on a relation do not reach it without
		   -- USAGE on its schema ("permission denied for schema")
		   AND CASE WHEN s.relkind = 'S' AND t.relkind IN ('r', 'p') THEN has_sequence_privilege(s.oid, 'SELECT') AND has_column_privilege(t.oid, a.attnum, 'SELECT')
		            AND has_schema_privilege(sn.oid, 'USAGE') AND has_schema_privilege(n.oid, 'USAGE') END
		   AND `+userSchemas+`
		   AND ($1 OR t.oid IN (SELECT to_regclass(x) FROM unnest($2::text[]) x) OR s.oid IN (SELECT to_regclass(x) FROM unnest($2::text[]) x))
		 ORDER BY 1, 2, 3`, quoteLit(historySchema)), sc.all, names)
	if err != nil {
		return nil, 0, fmt.Errorf("list the sequences of the run's tables: %w", err)
	}
	type owned struct {
		seq, table, col string
		oid             uint32
		inc             int64
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (owned, error) {
		var o owned
		return o, r.Scan(&o.seq, &o.table, &o.col, &o.oid, &o.inc)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list the sequences of the run's tables: %w", err)
	}
	for _, o := range list {
		edge := "max"
		if o.inc < 0 {
			edge = "min"
		}
		// numeric: last_value + increment may pass bigint's range.
		q := fmt.Sprintf(`SELECT x.n::text, coalesce(x.e::text, ''), coalesce(CASE WHEN %d > 0 THEN x.n <= x.e ELSE x.n >= x.e END, false)
			FROM (SELECT CASE WHEN is_called THEN last_value::numeric + %d ELSE last_value::numeric END AS n,
			             (SELECT %s(%s) FROM %s)::numeric AS e FROM %s) x`, o.inc, o.inc, edge, o.col, o.table, o.seq)
		var b behindSeq
		var bad bool
		if err := conn.QueryRow(ctx, q).Scan(&b.next, &b.edge, &bad); err != nil {
			return nil, 0, fmt.Errorf("read sequence %s and %s.%s: %w", o.seq, o.table, o.col, err)
		}
		if bad {
			b.seq, b.table, b.col, b.tableOID, b.inc = o.seq, o.table, o.col, o.oid, o.inc
			behind = append(behind, b)
		}
	}
	return behind, len(list), nil
}

// sequencesAhead checks that no sequence of the run's tables (b.seqScope) hands out a key its column
// holds: one that an up or a down set back (setval, RESTART), or made again from its start, or whose
// column got rows with keys past it (an INSERT with explicit ids), makes the application's next INSERT
// fail with a duplicate key. Those behind before the run (b.seqsBehind) are not the run's doing. One
// behind a table the run created (not in b.tablesBefore) is a note, not a failure: a lookup table's
// seed (CREATE TABLE statuses (id serial …); INSERT … (id, name) VALUES (1, …), (2, …)) leaves its
// sequence behind, which deployed before the check was there, and no row of the application's is
// there yet to lose; the note names the setval that fixes it.
func (v *verifier) sequencesAhead(ctx context.Context, b *baseline, phase string) Check {
	c := Check{Name: "sequences ahead of their columns", OK: true, Phase: phase}
	behind, checked, err := sequencesBehind(ctx, v.conn, v.historySchema, b.seqScope)
	if err != nil {
		return Check{Name: c.Name, Phase: phase, Message: err.Error()}
	}
	var bad, warned []string
	for _, s := range behind {
		if b.seqsBehind[s.seq] {
			continue
		}
		fn := "max"
		if s.inc < 0 {
			fn = "min"
		}
		msg := fmt.Sprintf("%s hands out %s next, and %s.%s holds %s already (SELECT setval(%s, %s(%s)) FROM %s puts it past them)",
			s.seq, s.next, s.table, s.col, s.edge, quoteLit(s.seq), fn, s.col, s.table)
		if b.tablesBefore != nil && !b.tablesBefore[s.tableOID] {
			warned = append(warned, s.seq)
			if v.note != nil {
				v.note("sequence of a table this run created behind its column: %s: the application's next INSERT would get a key that is there; add the setval to the migration", msg)
			}
			continue
		}
		bad = append(bad, msg)
	}
	switch {
	case len(bad) > 0:
		c.OK, c.Message = false, strings.Join(bad, "; ")+": the next INSERT would get a key that is there"
	case len(warned) > 0:
		c.Message = fmt.Sprintf("%d sequences checked; %s, of a table this run created, behind its column (see the notes)", checked, strings.Join(warned, ", "))
	default:
		c.Message = fmt.Sprintf("%d sequences checked", checked)
	}
	return c
}

// baseSequences reads, for the baseline, what the check that sequences are not behind their columns
// covers (the run's scripts, pending) and which of those sequences are behind already.
func (d *deployer) baseSequences(ctx context.Context, pending []*migrate.Migration) error {
	restore, err := boundLocks(ctx, d.conn, d.hist.lockTimeout)
	if err != nil {
		return err
	}
	defer restore()
	d.base.seqScope = sequenceScope(pending)
	behind, _, err := sequencesBehind(ctx, d.conn, d.hist.schema, d.base.seqScope)
	if err != nil {
		return err
	}
	d.base.seqsBehind = map[string]bool{}
	for _, s := range behind {
		d.base.seqsBehind[s.seq] = true
	}
	if !d.base.seqScope.all && len(d.base.seqScope.names) == 0 {
		return nil
	}
	rows, err := d.conn.Query(ctx, "SELECT oid FROM pg_class WHERE relkind IN ('r', 'p')")
	if err != nil {
		return fmt.Errorf("list the tables there before the run: %w", err)
	}
	oids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return fmt.Errorf("list the tables there before the run: %w", err)
	}
	d.base.tablesBefore = make(map[uint32]bool, len(oids))
	for _, o := range oids {
		d.base.tablesBefore[o] = true
	}
	return nil
}
