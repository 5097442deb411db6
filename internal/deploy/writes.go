package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/schema"
	"github.com/schemagate/schemagate/internal/snapshot"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// writeWatch marks the moment of the snapshot, so that a live rollback can tell whether sessions other than
// the deploy's own wrote to the application's tables since: a snapshot restore would silently drop their
// writes. It holds, on a connection of its own, a REPEATABLE READ transaction that does nothing (it takes
// no table lock) but keep the snapshot of that moment, exported, so that the row versions others deleted
// or updated since stay readable (vacuum keeps them for it); next and xip are the transaction ids the
// snapshot does not see (taken later, or under way then).
//
// A statement that waits for every transaction with an older snapshot (CREATE INDEX CONCURRENTLY,
// REINDEX CONCURRENTLY) would wait for that transaction for ever: around it the watch pauses (see pause
// and resume), and the transaction then marks the moment the statement ended instead, with what other
// sessions wrote before it carried over in found, wrote and changed.
type writeWatch struct {
	conn *pgx.Conn
	snap string
	next int64
	xip  []int64
	// started is the server's start time (pg_postmaster_start_time) at the first mark: a server that
	// restarted since has ended the session holding snap (see restarted).
	started string
	// found are the transactions of other sessions (32-bit ids) that pauses found writing, and wrote the
	// tables they wrote (up to five); changed the tables whose rows other sessions deleted or updated
	// while the watch was paused (which transactions did is not known then).
	found   map[int64]bool
	wrote   []string
	changed []string
	// paused is set between pause and resume.
	paused *pauseMark
	// Rows are not all there is to see. tables are the application's tables at the first mark (name and
	// relfilenode: a TRUNCATE or a rewrite gives a table a new one, and leaves no row version behind),
	// seqs its sequences then (nextval is not transactional); checked the tables that a script of the
	// run was about to drop, truncate or rewrite, and that beforeScript read for other sessions' writes
	// first; runText the lower-case text of every script the run ran (see unaccounted).
	tables  map[uint32]relState
	seqs    map[uint32]relState
	checked map[uint32]bool
	runText strings.Builder
	// gone are the tables of those that another session had already truncated, rewritten or dropped then.
	gone []string
	// los are the large objects (oids) that other sessions created, changed or unlinked, as far as the
	// checks so far found (see writeScanner.largeObjects).
	los []uint32
}

// relState is a table's or a sequence's state at the first mark: its qualified name, its bare name (lower
// case), and its relfilenode (a table) or last value (a sequence; -1 before its first nextval or when the
// deploy may not read it).
// under are a table's schema and name and those of the tables it inherits from or is a partition of, at
// any depth (schema.name, each part quoted as format's %I quotes it, see splitQualified): altering, truncating or dropping those reaches it too; refs those its
// foreign keys reference, at any depth: a TRUNCATE ... CASCADE of those reaches it.
type relState struct {
	name, rel   string
	val         int64
	under, refs []string
}

// pauseMark is what pause read, in a snapshot of its own taken before it ended the watch's transaction:
// that snapshot's transaction ids (as writeWatch's next and xip), and the rows each table had in it.
type pauseMark struct {
	next   int64
	xip    []int64
	counts map[string]int64
}

// watchWrites starts the watch: right before the snapshot is taken (or, when the snapshot comes before
// maintenance mode, once maintenance mode is on: the writes before that are write detection's of
// protect). A watch that cannot start leaves d.watchErr, and the live restore is then refused.
func (d *deployer) watchWrites(ctx context.Context) {
	if d.o.Snapshotter == nil {
		return
	}
	w, err := startWatch(ctx, d.o.URL, d.checkSession(), d.hist.schema)
	if err != nil {
		d.watchErr = err.Error()
		d.note("could not mark the moment of the snapshot (%v): an automatic snapshot restore is refused, as it could not tell whether it would lose other sessions' writes", err)
		return
	}
	d.watch = w
}

func startWatch(ctx context.Context, url, session, historySchema string) (*writeWatch, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "schemagate deploy"
	// Its reads name the tables qualified, and pg_catalog's relations and functions unqualified, under
	// pg_catalog's search path (see pg.OwnSession).
	conn, err := pgx.ConnectConfig(ctx, pg.OwnSession(cfg))
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	w := &writeWatch{conn: conn, found: map[int64]bool{}, checked: map[uint32]bool{}}
	// Its transaction stays open, idle, for the whole deploy (keepSessionSQL), holding a snapshot and
	// the locks of what it read: should the deploy's host die, the server must end it soon (keepaliveSQL).
	if _, err := conn.Exec(ctx, keepSessionSQL+"; "+keepaliveSQL); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("set up the session: %w", err)
	}
	if _, err := w.mark(ctx); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	// Reading a sequence locks it until the transaction ends: the sequences are read on a connection of
	// their own, right after the mark (and before the dump reads them).
	if w.tables, _, err = relStates(ctx, conn, historySchema, "r"); err == nil {
		var sc *pgx.Conn
		if sc, err = checkConn(ctx, url, session); err == nil {
			_, w.seqs, err = relStates(ctx, sc, historySchema, "S")
			sc.Close(context.WithoutCancel(ctx))
		}
	}
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mark the snapshot: %w", err)
	}
	return w, nil
}

// relStates reads the application's tables (kinds holding "r") and sequences ("S"), see writeWatch.tables
// and seqs. Reading a sequence takes a lock on it until the transaction ends.
func relStates(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, historySchema, kinds string) (tables, seqs map[uint32]relState, err error) {
	rows, err := q.Query(ctx, `SELECT c.oid, c.relkind = 'S', format('%I.%I', n.nspname, c.relname), lower(c.relname),
			CASE WHEN c.relkind = 'r' THEN c.relfilenode::bigint
				WHEN has_sequence_privilege(c.oid, 'SELECT, USAGE') THEN coalesce(pg_sequence_last_value(c.oid), -1) ELSE -1 END,
			CASE WHEN c.relkind = 'r' THEN array(WITH RECURSIVE up(oid) AS (SELECT c.oid UNION SELECT i.inhparent FROM pg_inherits i JOIN up ON i.inhrelid = up.oid)
				SELECT format('%I.%I', pn.nspname, p.relname) FROM up JOIN pg_class p ON p.oid = up.oid JOIN pg_namespace pn ON pn.oid = p.relnamespace) END,
			CASE WHEN c.relkind = 'r' THEN array(WITH RECURSIVE fk(oid) AS (SELECT c.oid UNION SELECT co.confrelid FROM pg_constraint co JOIN fk ON co.conrelid = fk.oid WHERE co.contype = 'f')
				SELECT format('%I.%I', pn.nspname, p.relname) FROM fk JOIN pg_class p ON p.oid = fk.oid JOIN pg_namespace pn ON pn.oid = p.relnamespace) END
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE strpos($1, c.relkind::text) > 0 AND `+fmt.Sprintf(userSchemas, quoteLit(historySchema)), kinds)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	tables, seqs = map[uint32]relState{}, map[uint32]relState{}
	for rows.Next() {
		var oid uint32
		var seq bool
		var r relState
		if err := rows.Scan(&oid, &seq, &r.name, &r.rel, &r.val, &r.under, &r.refs); err != nil {
			return nil, nil, err
		}
		if seq {
			seqs[oid] = r
		} else {
			tables[oid] = r
		}
	}
	return tables, seqs, rows.Err()
}

// splitQualified reads a qualified name as format('%I.%I', schema, name) writes it back into its schema
// and name: cut at the first dot would mistake a."b.c" for "a.b".c.
func splitQualified(q string) (sch, name string) {
	parts := schema.SplitKey(q) // SQL's quoting reads as a catalog key's
	if len(parts) < 2 {
		return "", parts[0]
	}
	return parts[0], parts[len(parts)-1]
}

// beforeScript, before each script of the run (ups and downs), keeps its text and reads the tables that
// existed at the first mark and that it drops, truncates or may rewrite (rewrites) for other sessions'
// writes so far, as foreignWrites would: once a table is dropped, truncated or rewritten by the run, the
// row versions that showed those writes are gone. A read that fails ends the watch (a live restore is then
// refused). Writes that reach such a table between this read and the statement are not seen.
func (d *deployer) beforeScript(ctx context.Context, s *migrate.Script) {
	w := d.watch
	if w == nil {
		return
	}
	w.runText.WriteString(strings.ToLower(s.SQL))
	w.runText.WriteString("\n")
	var oids []uint32
	for _, o := range w.rewrites(s) {
		if !w.checked[o] {
			oids = append(oids, o)
		}
	}
	if len(oids) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	d.progress("%s drops, truncates or may rewrite tables that other sessions could write: reading them for such writes first", s.File)
	if err := w.prescan(ctx, d.o.URL, d.checkSession(), d.ownXIDs, oids); err != nil {
		d.endWatch(ctx, fmt.Errorf("before %s: %w", s.File, err))
	}
}

// rewrites are the tables of w.tables that script s drops (DROP TABLE, DROP SCHEMA; every table for DROP
// OWNED, DROP EXTENSION and DROP TYPE or DOMAIN ... CASCADE, whose tables the parse tree does not name), truncates, alters
// (ALTER TABLE: it may rewrite the table) or rewrites (CLUSTER, VACUUM FULL), by name: a name without a
// schema matches the tables of every schema with that name. For a DO block or a CALL, the tables whose
// name its text holds.
func (w *writeWatch) rewrites(s *migrate.Script) []uint32 {
	var out []uint32
	cascade := false // a TRUNCATE ... CASCADE
	add := func(schema, rel string) {
		match := func(u string) bool {
			sch, r := splitQualified(u)
			return (rel == "" || r == rel) && (schema == "" || sch == schema)
		}
		for o, t := range w.tables {
			if slices.ContainsFunc(t.under, match) || cascade && slices.ContainsFunc(t.refs, match) {
				out = append(out, o)
			}
		}
	}
	rv := func(r *pg_query.RangeVar) {
		if r != nil {
			add(r.Schemaname, r.Relname)
		}
	}
	for _, st := range s.Statements {
		if st.Node == nil {
			continue
		}
		switch n := st.Node.Node.(type) {
		case *pg_query.Node_DropStmt:
			for _, o := range n.DropStmt.Objects {
				switch n.DropStmt.RemoveType {
				case pg_query.ObjectType_OBJECT_TABLE:
					var parts []string
					for _, it := range o.GetList().GetItems() {
						parts = append(parts, it.GetString_().GetSval())
					}
					if len(parts) == 1 {
						add("", parts[0])
					} else if len(parts) > 1 {
						add(parts[len(parts)-2], parts[len(parts)-1])
					}
				case pg_query.ObjectType_OBJECT_SCHEMA:
					if sch := o.GetString_().GetSval(); sch != "" {
						add(sch, "")
					}
				}
			}
			// An extension's tables go with it, and typed tables (CREATE TABLE ... OF) with their type:
			// which those are the parse tree does not say.
			if n.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_EXTENSION ||
				n.DropStmt.Behavior == pg_query.DropBehavior_DROP_CASCADE && droppedKinds[n.DropStmt.RemoveType] != "" {
				add("", "")
			}
		case *pg_query.Node_DropOwnedStmt:
			add("", "") // every table the roles own
		case *pg_query.Node_TruncateStmt:
			cascade = n.TruncateStmt.Behavior == pg_query.DropBehavior_DROP_CASCADE
			for _, r := range n.TruncateStmt.Relations {
				rv(r.GetRangeVar())
			}
			cascade = false
		case *pg_query.Node_AlterTableStmt:
			rv(n.AlterTableStmt.Relation)
		case *pg_query.Node_ClusterStmt:
			if n.ClusterStmt.Relation == nil {
				add("", "")
			}
			rv(n.ClusterStmt.Relation)
		case *pg_query.Node_VacuumStmt:
			full := false
			for _, o := range n.VacuumStmt.Options {
				if de := o.GetDefElem(); de != nil && strings.EqualFold(de.Defname, "full") {
					full = true
				}
			}
			if !full {
				continue
			}
			if len(n.VacuumStmt.Rels) == 0 {
				add("", "")
			}
			for _, r := range n.VacuumStmt.Rels {
				rv(r.GetVacuumRelation().GetRelation())
			}
		case *pg_query.Node_DoStmt, *pg_query.Node_CallStmt:
			text := strings.ToLower(st.SQL)
			for o, t := range w.tables {
				if namedIn(text, t.rel) {
					out = append(out, o)
				}
			}
		}
	}
	return out
}

// namedIn tells whether text holds name as a word (lower case both).
func namedIn(text, name string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		word := func(b byte) bool {
			return b == '_' || b == '$' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
		}
		if (j == 0 || !word(text[j-1])) && (end == len(text) || !word(text[end])) {
			return true
		}
		i = j + 1
	}
}

// prescan reads the tables oids (those that still exist) for other sessions' writes so far, as
// foreignWrites does, keeps what it finds, and marks them checked.
func (w *writeWatch) prescan(ctx context.Context, url, session string, own []int64, oids []uint32) error {
	conn, err := checkConn(ctx, url, session)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT c.oid, format('%I.%I', n.nspname, c.relname), c.relfilenode::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY ($1::oid[]) ORDER BY 2`, oids)
	if err != nil {
		return err
	}
	var tables []string
	seen := map[uint32]bool{}
	for rows.Next() {
		var o uint32
		var t string
		var node int64
		if err := rows.Scan(&o, &t, &node); err != nil {
			return err
		}
		tables, seen[o] = append(tables, t), true
		if node != w.tables[o].val {
			w.gone = append(w.gone, t)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range oids {
		if !seen[o] {
			w.gone = append(w.gone, w.tables[o].name+" (dropped)")
		}
	}
	s, err := w.scanner(ctx, conn, own)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if err := s.scan(ctx, conn, t, "xmin", true); err != nil {
			return fmt.Errorf("read %s: %w", t, err)
		}
	}
	if w.paused == nil {
		if err := s.deleted(ctx, tables); err != nil {
			return err
		}
	}
	w.keep(s)
	for _, o := range oids {
		w.checked[o] = true
	}
	return nil
}

// unaccounted compares the application's tables and sequences with the first mark's: a table that is
// gone or has a new relfilenode (another session dropped, truncated or rewrote it), when no script of
// the run was about to (beforeScript), and a sequence whose last value changed, when the run's scripts
// name neither it nor a table that owns it or whose column default or identity uses it (the run's own
// inserts advance those).
func (w *writeWatch) unaccounted(ctx context.Context, conn *pgx.Conn, historySchema string) (tables, seqs []string, err error) {
	nowTables, nowSeqs, err := relStates(ctx, conn, historySchema, "rS")
	if err != nil {
		return nil, nil, err
	}
	for o, t := range w.tables {
		if w.checked[o] {
			continue
		}
		if now, ok := nowTables[o]; !ok {
			tables = append(tables, t.name+" (dropped)")
		} else if now.val != t.val {
			tables = append(tables, now.name)
		}
	}
	tables = append(tables, w.gone...)
	text := w.runText.String()
	for o, sq := range w.seqs {
		now, ok := nowSeqs[o]
		if !ok || now.val == sq.val || namedIn(text, sq.rel) {
			continue
		}
		rows, err := conn.Query(ctx, `SELECT lower(c.relname) FROM pg_depend d JOIN pg_class c ON c.oid = d.refobjid
				WHERE d.classid = 'pg_class'::regclass AND d.objid = $1 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
			UNION SELECT lower(c.relname) FROM pg_depend d JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
				JOIN pg_class c ON c.oid = ad.adrelid
				WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = $1`, o)
		if err != nil {
			return nil, nil, err
		}
		users, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, nil, err
		}
		if !slices.ContainsFunc(users, func(u string) bool { return namedIn(text, u) }) {
			seqs = append(seqs, now.name)
		}
	}
	slices.Sort(tables)
	slices.Sort(seqs)
	return tables, seqs, nil
}

// mark opens the watch's transaction and exports its snapshot; the first mark also records the
// transaction ids that snapshot does not see. It returns that snapshot's xmax.
func (w *writeWatch) mark(ctx context.Context) (int64, error) {
	if _, err := w.conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return 0, fmt.Errorf("mark the snapshot: %w", err)
	}
	var next int64
	var xip []int64
	err := w.conn.QueryRow(ctx, `SELECT pg_export_snapshot(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
		array(SELECT x::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) x)`).Scan(&w.snap, &next, &xip)
	if err != nil {
		return 0, fmt.Errorf("mark the snapshot: %w", err)
	}
	if w.next == 0 {
		w.next, w.xip = next, xip
		if err := w.conn.QueryRow(ctx, "SELECT pg_postmaster_start_time()::text").Scan(&w.started); err != nil {
			return 0, fmt.Errorf("mark the snapshot: %w", err)
		}
	}
	return next, nil
}

// errServerRestarted is the write check's after a server restart since the mark.
var errServerRestarted = errors.New("the server restarted since the snapshot, which ended the session that kept the snapshot's view: other sessions' writes since the snapshot cannot be ruled out (a delete leaves no row to find)")

// restarted tells whether the server (conn's) restarted since the first mark. The transaction ids of
// the mark (next, xip) stay valid across it: a row whose xmin the mark did not see is still another
// session's insert or update (or the run's own); but the view of the moment, which the deletes are
// read in, went with the session that exported it.
func (w *writeWatch) restarted(ctx context.Context, conn *pgx.Conn) (bool, error) {
	var now string
	if err := conn.QueryRow(ctx, "SELECT pg_postmaster_start_time()::text").Scan(&now); err != nil {
		return false, err
	}
	return w.started != "" && now != w.started, nil
}

// waitsForOlderSnapshots tells a statement that waits for every transaction of the database whose snapshot
// is older than its own: CREATE INDEX CONCURRENTLY and REINDEX ... CONCURRENTLY (DROP INDEX and DETACH
// PARTITION ... CONCURRENTLY wait only for the sessions that hold a lock on the table).
func waitsForOlderSnapshots(n *pg_query.Node) bool {
	if n == nil {
		return false
	}
	if ix := n.GetIndexStmt(); ix != nil {
		return ix.Concurrent
	}
	return sqlparse.ReindexesConcurrently(n)
}

// unwatch pauses the watch before the statement at place (file:line), which waits for every older
// snapshot (waitsForOlderSnapshots), and returns what resumes it once the statement is over. A pause or
// resume that fails ends the watch, and a live restore is then refused (d.watchErr).
func (d *deployer) unwatch(ctx context.Context, place string) (rewatch func()) {
	if d.watch == nil {
		return func() {}
	}
	ctx = context.WithoutCancel(ctx)
	d.progress("%s waits for every older snapshot: reading the tables for other sessions' writes, then ending the transaction that marks the snapshot's moment until it is over", place)
	if err := d.watch.pause(ctx, d.o.URL, d.checkSession(), d.hist.schema, d.ownXIDs); err != nil {
		d.endWatch(ctx, fmt.Errorf("before %s: %w", place, err))
		return func() {}
	}
	return func() {
		if d.watch == nil {
			return
		}
		if err := d.watch.resume(ctx, d.o.URL, d.checkSession()); err != nil {
			d.endWatch(ctx, fmt.Errorf("after %s: %w", place, err))
		}
	}
}

// endWatch gives up the watch after err: a live restore is then refused, as it cannot tell whether it
// would lose other sessions' writes.
func (d *deployer) endWatch(ctx context.Context, err error) {
	d.watch.close(ctx)
	d.watch = nil
	d.watchErr = "the moment of the snapshot could not be followed: " + err.Error()
	d.note("%s: an automatic snapshot restore is refused, as it could not tell whether it would lose other sessions' writes", d.watchErr)
}

// checkSession is the SQL that sets up a session of the write check: lock waits bounded as the deploy's,
// and none of the server's timeouts that end a session (keepSessionSQL): a check reads the snapshot's
// view of every table, which may outlast a transaction_timeout the server gives the deploy's role.
func (d *deployer) checkSession() string {
	return lockTimeoutSQL(d.hist.lockTimeout) + "; " + keepSessionSQL
}

// checkConnAgain is checkConn for the checks before a rollback: it tries for reconnectWait, as the deploy
// connects again after it lost its connection (a restarting server).
func (d *deployer) checkConnAgain(ctx context.Context) (*pgx.Conn, error) {
	deadline := d.clock.Now().Add(reconnectWait)
	for {
		conn, err := checkConn(ctx, d.o.URL, d.checkSession())
		if err == nil || ctx.Err() != nil || !d.clock.Now().Before(deadline) {
			return conn, err
		}
		<-d.clock.After(reconnectEvery)
	}
}

// checkConn connects a session for the write check.
func checkConn(ctx context.Context, url, session string) (*pgx.Conn, error) {
	// Under pg_catalog's search path, as the watch's session (see startWatch).
	conn, err := pg.ConnectOwn(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, session); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	return conn, nil
}

// appTables lists the application's tables: every table but those of the history schema and the system's.
func appTables(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, historySchema string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT c.oid, format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND `+fmt.Sprintf(userSchemas, quoteLit(historySchema))+` ORDER BY 2`)
	if err != nil {
		return nil, err
	}
	tables := map[uint32]string{}
	if _, err := collectNames(rows, tables); err != nil {
		return nil, err
	}
	return sortedNames(tables), nil
}

// pause ends the watch's transaction, so that a statement that waits for older snapshots can run, without
// losing track of other sessions' writes: it first takes a snapshot of its own and counts each table's
// rows in it, then reads, as the watch's snapshot saw them, the rows that other sessions deleted or
// updated since (as foreignWrites does, own being the deploy's transactions), keeping what it finds. A
// row that another session deletes or updates once the watch's transaction has ended is missing from
// those counts at resume: the rows a snapshot sees whose insert an earlier one saw only ever decrease.
func (w *writeWatch) pause(ctx context.Context, url, session, historySchema string, own []int64) error {
	conn, err := checkConn(ctx, url, session)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	p := &pauseMark{counts: map[string]int64{}}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := tx.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
		array(SELECT x::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) x)`).Scan(&p.next, &p.xip); err != nil {
		return err
	}
	tables, err := appTables(ctx, tx, historySchema)
	if err != nil {
		return err
	}
	for _, t := range tables {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM ONLY "+t).Scan(&n); err != nil {
			return fmt.Errorf("count the rows of %s: %w", t, err)
		}
		p.counts[t] = n
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	s, err := w.scanner(ctx, conn, own)
	if err != nil {
		return err
	}
	if err := s.deleted(ctx, tables); err != nil {
		return err
	}
	if err := s.largeObjects(ctx); err != nil {
		return err
	}
	w.keep(s)
	if _, err := w.conn.Exec(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("end the transaction that marks the snapshot: %w", err)
	}
	w.snap, w.paused = "", p
	return nil
}

// resume marks the moment again, after the statement pause made way for, and compares the rows of each
// table that pause counted, as the new mark sees them, leaving out those inserted since pause's snapshot:
// fewer means that another session deleted or updated some meanwhile.
func (w *writeWatch) resume(ctx context.Context, url, session string) error {
	p := w.paused
	if p == nil {
		return nil
	}
	upper, err := w.mark(ctx)
	if err != nil {
		return err
	}
	w.paused = nil
	conn, err := checkConn(ctx, url, session)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLit(w.snap)); err != nil {
		return fmt.Errorf("read the new mark's view: %w", err)
	}
	xip := make([]int64, len(p.xip))
	for i, x := range p.xip {
		xip[i] = x % (1 << 32)
	}
	tables := make([]string, 0, len(p.counts))
	for t := range p.counts {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		var n int64
		q := fmt.Sprintf("SELECT count(*) FROM ONLY %s WHERE NOT %s", t, unseen("xmin"))
		if err := tx.QueryRow(ctx, q, p.next%(1<<32), upper-p.next, xip).Scan(&n); err != nil {
			return fmt.Errorf("count the rows of %s: %w", t, err)
		}
		if n < p.counts[t] && !slices.Contains(w.changed, t) {
			w.changed = append(w.changed, t)
		}
	}
	return nil
}

// unseen is the condition that the 32-bit transaction id in col is one a snapshot did not see: it lies in
// [$1, $1+$2) modulo 2^32 ($1 the snapshot's xmax, $1+$2 a later one), or in $3 (its xip).
func unseen(col string) string {
	return fmt.Sprintf(`(((%[1]s::text::bigint - $1) %% 4294967296 + 4294967296) %% 4294967296 < $2 OR %[1]s::text::bigint = ANY ($3::bigint[]))`, col)
}

// writeScanner reads the application's tables for row versions that transactions the watch's first mark
// did not see wrote, other than own.
type writeScanner struct {
	conn    *pgx.Conn
	w       *writeWatch
	own     map[int64]bool
	now     int64
	xip32   []int64
	foreign map[int64]bool
	wrote   []string
	// los are the large objects other sessions wrote (see largeObjects).
	los []uint32
}

func (w *writeWatch) scanner(ctx context.Context, conn *pgx.Conn, own []int64) (*writeScanner, error) {
	s := &writeScanner{conn: conn, w: w, own: map[int64]bool{}, foreign: map[int64]bool{}}
	for _, x := range own {
		s.own[x%(1<<32)] = true
	}
	for x := range w.found {
		s.foreign[x] = true
	}
	s.wrote = append(s.wrote, w.wrote...)
	s.los = slices.Clone(w.los)
	if err := conn.QueryRow(ctx, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&s.now); err != nil {
		return nil, err
	}
	// A 32-bit xid x is one the snapshot did not see when it lies in [next, now) modulo 2^32, or in xip.
	s.xip32 = make([]int64, len(w.xip))
	for i, x := range w.xip {
		s.xip32[i] = x % (1 << 32)
	}
	return s, nil
}

// keep carries what s found over to the watch.
func (w *writeWatch) keep(s *writeScanner) {
	maps.Copy(w.found, s.foreign)
	w.wrote = s.wrote
	w.los = s.los
}

// scan reads col (xmin or xmax) of table; committed tells an xmin (its transaction committed, or the row
// would not be seen), where an xmax's may have rolled back.
func (s *writeScanner) scan(ctx context.Context, x interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
}, table, col string, committed bool) error {
	w := s.w
	q := fmt.Sprintf("SELECT DISTINCT %s::text::bigint FROM ONLY %s WHERE %s::text::bigint <> 0 AND %s", col, table, col, unseen(col))
	rows, err := x.Query(ctx, q, w.next%(1<<32), s.now-w.next, s.xip32)
	if err != nil {
		return err
	}
	xs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	found := false
	for _, id := range xs {
		if s.own[id] || s.foreign[id] {
			found = found || s.foreign[id]
			continue
		}
		if !committed {
			// An xmax: a delete that rolled back leaves it too.
			if aborted, err := s.aborted(ctx, x, id); err != nil || aborted {
				if err != nil {
					return err
				}
				continue
			}
		}
		s.foreign[id], found = true, true
	}
	if found && len(s.wrote) < 5 && !slices.Contains(s.wrote, table) {
		s.wrote = append(s.wrote, table)
	}
	return nil
}

// aborted tells whether the transaction of the 32-bit id id (an xmax the mark did not see) rolled back.
func (s *writeScanner) aborted(ctx context.Context, x interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id int64) (bool, error) {
	w := s.w
	// The full id, for pg_xact_status.
	full := w.next + ((id-w.next%(1<<32))%(1<<32)+(1<<32))%(1<<32)
	for _, f := range w.xip {
		if f%(1<<32) == id {
			full = f
		}
	}
	var status *string
	if err := x.QueryRow(ctx, "SELECT pg_xact_status($1::text::xid8)", fmt.Sprint(full)).Scan(&status); err != nil {
		return false, err
	}
	return status != nil && *status == "aborted", nil
}

// largeObjects reads the large objects for other sessions' writes since the mark, keeping the oids of
// those written in s.los: a snapshot restore unlinks every large object and loads the snapshot's, so it
// would undo them. Large objects are rows of pg_largeobject_metadata (one per object: lo_create,
// lo_from_bytea, lo_import insert it, lo_unlink deletes it, ALTER LARGE OBJECT and GRANT update it) and
// pg_largeobject (their pages: lo_put, lo_write and lo_truncate insert, update or delete them); both are
// read as tables are, now for row versions that transactions the mark did not see wrote (xmin), and as
// the mark saw them for those such transactions deleted or replaced (xmax), the deploy's own transactions
// left out. pg_largeobject is readable only by superusers (and pg_read_all_data): without that right the
// content of every large object is compared instead, as the mark saw it and now (md5 of lo_get), and a
// change counts as another session's even when a migration of the run made it, as the check cannot tell.
func (s *writeScanner) largeObjects(ctx context.Context) error {
	conn := s.conn
	var pages bool
	if err := conn.QueryRow(ctx, "SELECT has_table_privilege('pg_catalog.pg_largeobject', 'SELECT')").Scan(&pages); err != nil {
		return err
	}
	found := map[uint32]bool{}
	for _, o := range s.los {
		found[o] = true
	}
	// Now: objects created, pages written.
	if err := s.loScan(ctx, conn, "pg_catalog.pg_largeobject_metadata", "oid", "xmin", found); err != nil {
		return err
	}
	if pages {
		if err := s.loScan(ctx, conn, "pg_catalog.pg_largeobject", "loid", "xmin", found); err != nil {
			return err
		}
	}
	var now map[uint32]string
	if !pages {
		var err error
		if now, err = loContent(ctx, conn); err != nil {
			return err
		}
	}
	// As the mark saw them: objects unlinked, pages overwritten or removed.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLit(s.w.snap)); err != nil {
		return fmt.Errorf("read the snapshot's view: %w", err)
	}
	if err := s.loScan(ctx, tx, "pg_catalog.pg_largeobject_metadata", "oid", "xmax", found); err != nil {
		return err
	}
	if pages {
		if err := s.loScan(ctx, tx, "pg_catalog.pg_largeobject", "loid", "xmax", found); err != nil {
			return err
		}
	} else {
		then, err := loContent(ctx, tx)
		if err != nil {
			return err
		}
		for o, sum := range then {
			if n, ok := now[o]; !ok || n != sum {
				found[o] = true
			}
		}
		for o := range now {
			if _, ok := then[o]; !ok {
				found[o] = true
			}
		}
	}
	s.los = slices.Sorted(maps.Keys(found))
	return nil
}

// loScan reads col (xmin or xmax) of the large-object catalog table, whose column obj is the object's
// oid, adding to found the objects of the row versions that other sessions' transactions wrote.
func (s *writeScanner) loScan(ctx context.Context, x interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
}, table, obj, col string, found map[uint32]bool) error {
	w := s.w
	q := fmt.Sprintf("SELECT DISTINCT %s::bigint, %s::text::bigint FROM %s WHERE %s::text::bigint <> 0 AND %s", obj, col, table, col, unseen(col))
	rows, err := x.Query(ctx, q, w.next%(1<<32), s.now-w.next, s.xip32)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	type write struct{ obj, xid int64 }
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (write, error) {
		var v write
		return v, r.Scan(&v.obj, &v.xid)
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	for _, v := range ws {
		if s.own[v.xid] || found[uint32(v.obj)] {
			continue
		}
		if col == "xmax" && !s.foreign[v.xid] {
			if aborted, err := s.aborted(ctx, x, v.xid); err != nil {
				return err
			} else if aborted {
				continue
			}
		}
		found[uint32(v.obj)] = true
	}
	return nil
}

// loContent is the md5 of every large object's content, as q's snapshot sees them.
func loContent(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[uint32]string, error) {
	rows, err := q.Query(ctx, "SELECT oid, md5(lo_get(oid)) FROM pg_catalog.pg_largeobject_metadata")
	if err != nil {
		return nil, fmt.Errorf("read the large objects: %w", err)
	}
	out := map[uint32]string{}
	for rows.Next() {
		var o uint32
		var sum string
		if err := rows.Scan(&o, &sum); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the large objects: %w", err)
		}
		out[o] = sum
	}
	return out, rows.Err()
}

// deleted reads tables as the watch's mark saw them, for deletes and the old versions of updates.
func (s *writeScanner) deleted(ctx context.Context, tables []string) error {
	tx, err := s.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLit(s.w.snap)); err != nil {
		return fmt.Errorf("read the snapshot's view: %w", err)
	}
	for _, t := range tables {
		if err := s.scan(ctx, tx, t, "xmax", false); err != nil {
			return fmt.Errorf("read %s as the snapshot saw it: %w", t, err)
		}
	}
	return nil
}

// close ends the watch's transaction and connection.
func (w *writeWatch) close(ctx context.Context) {
	if w != nil && w.conn != nil {
		w.conn.Close(context.WithoutCancel(ctx))
	}
}

// foreignWritesError is a snapshot restore that was not tried: other sessions wrote to the application's
// tables since the snapshot, and restoring it would have dropped their writes.
type foreignWritesError struct {
	// xids counts the transactions; tables names up to five of the tables they wrote. unknown is set
	// when some of the writes were seen only as rows that went missing (see writeWatch.resume): there
	// were more transactions than xids then.
	xids    int
	tables  []string
	unknown bool
	// rewritten are tables that other sessions truncated, rewrote or dropped, sequences those they advanced
	// (see writeWatch.unaccounted).
	rewritten, sequences []string
	// largeObjects are the large objects (oids) that other sessions created, changed or unlinked.
	largeObjects []uint32
	// downs is set when what was refused is the down migrations (see downWrites), which would drop the
	// tables or columns those writes went to, not the restore.
	downs bool
	// err is set when the check itself failed: the restore is refused all the same.
	err error
}

func (e *foreignWritesError) Error() string {
	if e.err != nil {
		if e.downs {
			return "whether other sessions wrote to the tables the down migrations drop or alter since the snapshot could not be checked (" + e.err.Error() + "), and the downs could drop their writes"
		}
		return "whether other sessions wrote to the database since the snapshot could not be checked (" + e.err.Error() + "), and restoring it could lose their writes"
	}
	var parts []string
	switch {
	case e.unknown:
		n := max(e.xids, 1)
		parts = append(parts, fmt.Sprintf("at least %d transaction%s of other sessions wrote to %s", n, plural(n), strings.Join(e.tables, ", ")))
	case e.xids > 0:
		parts = append(parts, fmt.Sprintf("%d transaction%s of other sessions wrote to %s", e.xids, plural(e.xids), strings.Join(e.tables, ", ")))
	}
	if len(e.rewritten) > 0 {
		parts = append(parts, fmt.Sprintf("other sessions truncated, rewrote or dropped %s (which leaves no row to see)", strings.Join(e.rewritten, ", ")))
	}
	if len(e.sequences) > 0 {
		parts = append(parts, fmt.Sprintf("other sessions advanced the sequence%s %s (a restore would hand out the same numbers again)",
			plural(len(e.sequences)), strings.Join(e.sequences, ", ")))
	}
	if n := len(e.largeObjects); n > 0 {
		oids := make([]string, 0, min(n, 10))
		for _, o := range e.largeObjects[:min(n, 10)] {
			oids = append(oids, fmt.Sprint(o))
		}
		more := ""
		if n > 10 {
			more = fmt.Sprintf(" and %d more", n-10)
		}
		parts = append(parts, fmt.Sprintf("other sessions created, changed or unlinked the large object%s %s%s (a restore unlinks every large object and loads the snapshot's)",
			plural(n), strings.Join(oids, ", "), more))
	}
	if e.downs {
		return strings.Join(parts, "; ") + " since the snapshot, tables whose rows or columns the downs destroy (they drop, truncate, delete from or update them, or drop or change a column of them): the downs would destroy those writes"
	}
	return strings.Join(parts, "; ") + " since the snapshot, and restoring it would lose their writes"
}

// guardRestore returns restore, refusing to run it (a *foreignWritesError) when sessions other than the
// deploy's own wrote to the application's tables since the snapshot (see foreignWrites).
func (d *deployer) guardRestore(restore snapshot.RestoreFunc) snapshot.RestoreFunc {
	if restore == nil {
		return nil
	}
	return func(ctx context.Context) error {
		if err := d.foreignWrites(ctx); err != nil {
			return err
		}
		return restore(ctx)
	}
}

// foreignWrites looks for writes of other sessions to the application's tables since the snapshot: a row
// version whose xmin is a transaction the snapshot did not see (an insert, the new version of an update),
// or a row version the snapshot saw whose xmax is such a transaction that committed or is under way (a
// delete, the old version of an update), when that transaction is not one of the deploy's own migrations
// or downs (ownXIDs: the transaction of a transactional migration, and that of each statement of a
// non-transactional one that may write rows, see applier.own). Transaction ids are the server's, but rows
// are the database's: writes to other databases of the server, and schemagate's own history, do not
// count. It scans every table twice, once in the view of the watch's mark and once now, and adds what
// the watch's pauses found. A write by the deploy's own migrations that the deploy cannot attribute to
// itself (a CALL, or a DO block that commits, outside a transaction; a subtransaction) counts as another
// session's: the check errs on the side of refusing the restore.
func (d *deployer) foreignWrites(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if d.watch == nil {
		if d.watchErr != "" {
			return &foreignWritesError{err: errors.New(d.watchErr)}
		}
		return nil
	}
	w := d.watch
	conn, err := d.checkConnAgain(ctx)
	if err != nil {
		return &foreignWritesError{err: err}
	}
	defer conn.Close(ctx)
	// A restore brings back what other sessions deleted since the snapshot, which only the view of the
	// moment shows: after a restart, that view is gone, and no restore is safe.
	if restarted, err := w.restarted(ctx, conn); err != nil || restarted {
		if err == nil {
			err = errServerRestarted
		}
		return &foreignWritesError{err: err}
	}
	tables, err := appTables(ctx, conn, d.hist.schema)
	if err != nil {
		return &foreignWritesError{err: err}
	}
	s, err := w.scanner(ctx, conn, d.ownXIDs)
	if err != nil {
		return &foreignWritesError{err: err}
	}
	// Now: inserts and the new versions of updates.
	for _, t := range tables {
		if err := s.scan(ctx, conn, t, "xmin", true); err != nil {
			return &foreignWritesError{err: fmt.Errorf("read %s: %w", t, err)}
		}
	}
	// In the snapshot's view: deletes and the old versions of updates.
	if err := s.deleted(ctx, tables); err != nil {
		return &foreignWritesError{err: err}
	}
	// Large objects: the restore unlinks them all and loads the snapshot's.
	if err := s.largeObjects(ctx); err != nil {
		return &foreignWritesError{err: err}
	}
	wrote := s.wrote
	for _, t := range w.changed {
		if len(wrote) < 5 && !slices.Contains(wrote, t) {
			wrote = append(wrote, t)
		}
	}
	rewritten, seqs, err := w.unaccounted(ctx, conn, d.hist.schema)
	if err != nil {
		return &foreignWritesError{err: err}
	}
	if len(s.foreign) == 0 && len(w.changed) == 0 && len(rewritten) == 0 && len(seqs) == 0 && len(s.los) == 0 {
		return nil
	}
	return &foreignWritesError{xids: len(s.foreign), tables: wrote, unknown: len(w.changed) > 0, rewritten: rewritten, sequences: seqs, largeObjects: s.los}
}

func sortedNames(m map[uint32]string) []string {
	out := make([]string, 0, len(m))
	for _, n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// undoneTables are the application's tables, now, whose rows or values the downs of migs destroy, as
// downLosesData reads them (analyze's losses): those they drop, truncate, delete from or update, or drop
// or change the type of a column of, a partition or inheritance child of such a table included; and, as
// rewrites finds them, every table for DROP SCHEMA, DROP OWNED, DROP EXTENSION and DROP TYPE or DOMAIN
// ... CASCADE, and for a DO block or a CALL the tables whose name its text holds. A down that only
// alters a table otherwise (a constraint, an index, a storage parameter) destroys nothing there. By name,
// qualified, sorted.
func undoneTables(ctx context.Context, conn *pgx.Conn, historySchema, searchPath string, migs []*migrate.Migration) ([]string, error) {
	now, _, err := relStates(ctx, conn, historySchema, "r")
	if err != nil {
		return nil, err
	}
	tw := &writeWatch{tables: now}
	q := qualifier(searchPath)
	oids := map[uint32]bool{}
	for _, m := range migs {
		if m.Down == nil {
			continue
		}
		for _, l := range analyze(m.Down).Losses {
			switch l.what {
			case "table", "column", "truncate", "delete", "update", "type":
				if l.matview {
					continue
				}
				parts := schema.SplitKey(q(l.relation))
				sch, rel := parts[0], parts[len(parts)-1]
				for o, t := range now {
					if slices.ContainsFunc(t.under, func(u string) bool {
						us, ur := splitQualified(u)
						return us == sch && ur == rel
					}) {
						oids[o] = true
					}
				}
			}
		}
		// What the losses do not name: the tables DROP SCHEMA, DROP OWNED, a DROP ... CASCADE, a
		// TRUNCATE ... CASCADE, a DO block or a CALL reach. rewrites' ALTER TABLE, CLUSTER and VACUUM
		// FULL destroy nothing the losses do not name.
		down := *m.Down
		down.Statements = nil
		for _, st := range m.Down.Statements {
			switch st.Node.GetNode().(type) {
			case *pg_query.Node_AlterTableStmt, *pg_query.Node_ClusterStmt, *pg_query.Node_VacuumStmt:
				continue
			}
			down.Statements = append(down.Statements, st)
		}
		for _, o := range tw.rewrites(&down) {
			oids[o] = true
		}
	}
	names := make([]string, 0, len(oids))
	for o := range oids {
		names = append(names, now[o].name)
	}
	slices.Sort(names)
	return names, nil
}

// downWrites looks, before the downs of migs run, for writes of other sessions since the mark to the
// tables whose rows or values those downs destroy (undoneTables: a table the run created and its down
// drops, a column it added): the downs would destroy those writes with them. It reads them as foreignWrites
// reads every table (the deploy's own transactions do not count), and adds what the watch found before
// (the reads before a script that rewrote such a table, and its pauses). It returns nil when there is
// none, or when the run marked no moment (no snapshot: there is nothing to compare with); the error
// naming the tables when there are, or saying why the check could not be made.
func (d *deployer) downWrites(ctx context.Context, migs []*migrate.Migration) *foreignWritesError {
	ctx = context.WithoutCancel(ctx)
	w := d.watch
	if len(migs) == 0 || w == nil && d.watchErr == "" {
		return nil
	}
	conn, err := d.checkConnAgain(ctx)
	if err != nil {
		return &foreignWritesError{err: err, downs: true}
	}
	defer conn.Close(ctx)
	tables, err := undoneTables(ctx, conn, d.hist.schema, d.o.Set.SearchPath, migs)
	if err != nil {
		return &foreignWritesError{err: err, downs: true}
	}
	if len(tables) == 0 {
		return nil
	}
	if w == nil {
		return &foreignWritesError{err: errors.New(d.watchErr), downs: true}
	}
	s, err := w.scanner(ctx, conn, d.ownXIDs)
	if err != nil {
		return &foreignWritesError{err: err, downs: true}
	}
	// What the scans below find, not what the watch found in other tables.
	s.foreign, s.wrote = map[int64]bool{}, nil
	for _, t := range tables {
		if err := s.scan(ctx, conn, t, "xmin", true); err != nil {
			return &foreignWritesError{err: fmt.Errorf("read %s: %w", t, err), downs: true}
		}
	}
	// A delete the downs do not lose (they drop or empty what they undo; it is the old version of an
	// update that the new one, found by its xmin above, stands for): after a restart, which ended the
	// session keeping the view of the moment, the downs need no view of it.
	restarted, err := w.restarted(ctx, conn)
	if err != nil {
		return &foreignWritesError{err: err, downs: true}
	}
	if w.paused == nil && !restarted {
		if err := s.deleted(ctx, tables); err != nil {
			return &foreignWritesError{err: err, downs: true}
		}
	}
	wrote, unknown := s.wrote, false
	for _, t := range append(slices.Clone(w.wrote), w.changed...) {
		if slices.Contains(tables, t) && !slices.Contains(wrote, t) && len(wrote) < 5 {
			wrote = append(wrote, t)
			unknown = true
		}
	}
	if len(wrote) == 0 {
		return nil
	}
	return &foreignWritesError{xids: len(s.foreign), tables: wrote, unknown: unknown, downs: true}
}
