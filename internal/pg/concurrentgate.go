package pg

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// A CONCURRENTLY statement (CREATE INDEX, DROP INDEX, REINDEX, DETACH PARTITION) commits inside itself
// and lets its locks go at each of its internal commits, so on a small table it is over, and its locks
// gone, in half a millisecond: the observer's polls missed them nearly every time (19 of 20 CREATE INDEX
// CONCURRENTLY on a table of no rows, the lock on the partition of every DETACH … CONCURRENTLY). To see
// them every time, the tracer holds the doors: a gate, a connection of its own for each relation the
// statement names, holds ACCESS EXCLUSIVE on it (ACCESS SHARE under a savepoint), so that the statement
// waits where it locks that relation. A lock asked for is in pg_locks until it is granted, so the
// observer sees it there; then the gate lets go of the ACCESS EXCLUSIVE and keeps ACCESS SHARE, which
// makes the statement wait again where it asks for ACCESS EXCLUSIVE later (DETACH's second transaction,
// DROP INDEX's), or where it waits for the transactions that lock the table (DETACH waits for those of
// the partitioned table), after which the gate lets go of everything. The statement only waits for the
// tracer, a few milliseconds each time; PostgreSQL counts them toward its lock_timeout, so a statement
// under a lock_timeout or statement_timeout shorter than gateMinTimeout is not gated (its locks are
// polled as before).
//
// Indexes cannot be locked by LOCK TABLE: a statement that names one is gated on its table.

// gateMinTimeout is the shortest lock_timeout or statement_timeout under which a statement is gated.
const gateMinTimeout = 500 * time.Millisecond

// gate is a connection holding locks on one relation in a transaction, level 2 (ACCESS EXCLUSIVE and
// ACCESS SHARE), 1 (ACCESS SHARE) or 0 (none, closed).
type gate struct {
	conn  *pgx.Conn
	rel   string // the relation, quoted and schema-qualified
	level int
}

// gatedRelations are the relations a CONCURRENTLY statement names, as written (an index stands for
// its table, which gatesFor finds), nil for any other statement.
func gatedRelations(stmt *sqlparse.Statement) []*pg_query.RangeVar {
	if stmt == nil || stmt.Node == nil {
		return nil
	}
	n := stmt.Node
	switch {
	case n.GetIndexStmt() != nil && n.GetIndexStmt().Concurrent:
		return []*pg_query.RangeVar{n.GetIndexStmt().Relation}
	case n.GetDropStmt() != nil && n.GetDropStmt().Concurrent && n.GetDropStmt().RemoveType == pg_query.ObjectType_OBJECT_INDEX:
		var out []*pg_query.RangeVar
		for _, o := range n.GetDropStmt().Objects {
			if rv := listRangeVar(o.GetList().GetItems()); rv != nil {
				out = append(out, rv)
			}
		}
		return out
	case n.GetReindexStmt() != nil && sqlparse.OptionBool(n.GetReindexStmt().Params, "concurrently", false):
		r := n.GetReindexStmt()
		if r.Kind == pg_query.ReindexObjectType_REINDEX_OBJECT_INDEX || r.Kind == pg_query.ReindexObjectType_REINDEX_OBJECT_TABLE {
			return []*pg_query.RangeVar{r.Relation}
		}
	case n.GetAlterTableStmt() != nil:
		a := n.GetAlterTableStmt()
		for _, c := range a.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd.GetSubtype() == pg_query.AlterTableType_AT_DetachPartition && cmd.GetDef().GetPartitionCmd().GetConcurrent() {
				return []*pg_query.RangeVar{a.Relation, cmd.GetDef().GetPartitionCmd().GetName()}
			}
		}
	}
	return nil
}

// listRangeVar is the relation a DROP's name list (schema, name) stands for.
func listRangeVar(items []*pg_query.Node) *pg_query.RangeVar {
	var parts []string
	for _, it := range items {
		parts = append(parts, it.GetString_().GetSval())
	}
	switch len(parts) {
	case 1:
		return &pg_query.RangeVar{Relname: parts[0]}
	case 2:
		return &pg_query.RangeVar{Schemaname: parts[0], Relname: parts[1]}
	}
	return nil
}

// gateLookupSQL finds, on the run connection (its search path resolves the names as the statement
// will), each relation the statement names, the table of an index, as a quoted, schema-qualified name,
// and the session's lock_timeout and statement_timeout in milliseconds.
//
// It runs in the migration's session, under its search path, which the names must be looked up under:
// what it names and calls is pg_catalog's by name, so that no relation, type, function or operator of the
// migration's (a temporary pg_class, a public.quote_ident(text) before pg_catalog) stands in for it.
const gateLookupSQL = `SELECT COALESCE(pg_catalog.array_agg(DISTINCT pg_catalog.concat(pg_catalog.quote_ident(n.nspname), '.', pg_catalog.quote_ident(c.relname)))
    FILTER (WHERE c.oid IS NOT NULL), '{}'),
  (SELECT setting::pg_catalog.int8 FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'lock_timeout'),
  (SELECT setting::pg_catalog.int8 FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'statement_timeout')
FROM pg_catalog.unnest($1::pg_catalog.text[]) AS w(name)
  LEFT JOIN pg_catalog.pg_index i ON i.indexrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(w.name)
  LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) COALESCE(i.indrelid, pg_catalog.to_regclass(w.name))
    AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog."char"[])
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace`

// openGates opens a gate on each relation stmt names when it is a CONCURRENTLY statement (see
// gatedRelations) run outside a transaction block, under no timeout shorter than gateMinTimeout. The
// gates only make the trace surer: a relation a gate cannot lock within a second (no privilege, a lock
// of another session), or that no connection can be opened for, is left ungated, its locks polled as
// before, and so are all when the relations cannot be looked up.
func (t *ConcurrentTracer) openGates(ctx context.Context, stmt *sqlparse.Statement) []*gate {
	rvs := gatedRelations(stmt)
	if len(rvs) == 0 || t.run.PgConn().TxStatus() != 'I' {
		return nil
	}
	var names []string
	for _, rv := range rvs {
		if rv == nil {
			continue
		}
		name := pgQuoteIdent(rv.Relname)
		if rv.Schemaname != "" {
			name = pgQuoteIdent(rv.Schemaname) + "." + name
		}
		names = append(names, name)
	}
	var rels []string
	var lockTimeout, statementTimeout int64
	if err := t.run.QueryRow(ctx, gateLookupSQL, names).Scan(&rels, &lockTimeout, &statementTimeout); err != nil {
		return nil
	}
	short := func(ms int64) bool { return ms > 0 && time.Duration(ms)*time.Millisecond < gateMinTimeout }
	if short(lockTimeout) || short(statementTimeout) {
		return nil
	}
	slices.Sort(rels)
	var gates []*gate
	for _, rel := range rels {
		conn, err := pgx.ConnectConfig(ctx, t.observe.Config().Copy())
		if err != nil {
			continue
		}
		// ONLY: a partitioned table's lock would reach its partitions, which the statement may not lock.
		_, err = conn.Exec(ctx, "BEGIN; SET LOCAL lock_timeout = '1s'; LOCK TABLE ONLY "+rel+" IN ACCESS SHARE MODE; SAVEPOINT gate; LOCK TABLE ONLY "+rel+" IN ACCESS EXCLUSIVE MODE")
		if err != nil {
			conn.Close(context.Background())
			continue
		}
		gates = append(gates, &gate{conn: conn, rel: rel, level: 2})
	}
	return gates
}

// pgQuoteIdent quotes an identifier as quote_ident does, always.
func pgQuoteIdent(s string) string {
	return pgx.Identifier{s}.Sanitize()
}

// step lets go of the gate's stronger lock, or of all when it holds only ACCESS SHARE.
func (g *gate) step(ctx context.Context) error {
	var err error
	switch g.level {
	case 2:
		_, err = g.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT gate")
	case 1:
		_, err = g.conn.Exec(ctx, "COMMIT")
	}
	g.level--
	if err != nil {
		return fmt.Errorf("trace: release the gate on %s: %w", g.rel, err)
	}
	return nil
}

// closeGates ends the gates' transactions and connections.
func closeGates(gates []*gate) {
	for _, g := range gates {
		g.conn.Close(context.Background()) // ends the transaction, and its locks, with the session
	}
}

// blockingGates are the gates the run connection's backend waits for now.
func (t *ConcurrentTracer) blockingGates(ctx context.Context, gates []*gate) ([]*gate, error) {
	if !slices.ContainsFunc(gates, func(g *gate) bool { return g.level > 0 }) {
		return nil, nil // all open: no need to ask
	}
	var pids []uint32
	if err := t.observe.QueryRow(ctx, "SELECT pg_blocking_pids($1)", t.pid).Scan(&pids); err != nil {
		return nil, fmt.Errorf("trace: read what blocks the statement: %w", err)
	}
	var out []*gate
	for _, g := range gates {
		if g.level > 0 && slices.Contains(pids, g.conn.PgConn().PID()) {
			out = append(out, g)
		}
	}
	return out, nil
}
