package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/snapshot"
)

// writeWatch marks the moment of the snapshot, so that a live rollback can tell whether sessions other than
// the deploy's own wrote to the application's tables since: a snapshot restore would silently drop their
// writes. It holds, on a connection of its own, a REPEATABLE READ transaction that does nothing (it takes
// no table lock) but keep the snapshot of that moment, exported, so that the row versions others deleted
// or updated since stay readable (vacuum keeps them for it); next and xip are the transaction ids the
// snapshot does not see (taken later, or under way then).
type writeWatch struct {
	conn *pgx.Conn
	snap string
	next int64
	xip  []int64
}

// watchWrites starts the watch: right before the snapshot is taken (or, when the snapshot comes before
// maintenance mode, once maintenance mode is on: the writes before that are write detection's of
// protect). A watch that cannot start leaves d.watchErr, and the live restore is then refused.
func (d *deployer) watchWrites(ctx context.Context) {
	if d.o.Snapshotter == nil {
		return
	}
	w, err := startWatch(ctx, d.o.URL)
	if err != nil {
		d.watchErr = err.Error()
		d.note("could not mark the moment of the snapshot (%v): an automatic snapshot restore is refused, as it could not tell whether it would lose other sessions' writes", err)
		return
	}
	d.watch = w
}

func startWatch(ctx context.Context, url string) (*writeWatch, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "schemagate deploy"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	w := &writeWatch{conn: conn}
	// Its transaction stays open, idle, for the whole deploy (keepSessionSQL).
	if _, err := conn.Exec(ctx, keepSessionSQL); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("set up the session: %w", err)
	}
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mark the snapshot: %w", err)
	}
	err = conn.QueryRow(ctx, `SELECT pg_export_snapshot(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
		array(SELECT x::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) x)`).Scan(&w.snap, &w.next, &w.xip)
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mark the snapshot: %w", err)
	}
	return w, nil
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
	// xids counts the transactions; tables names up to five of the tables they wrote.
	xids   int
	tables []string
	// err is set when the check itself failed: the restore is refused all the same.
	err error
}

func (e *foreignWritesError) Error() string {
	if e.err != nil {
		return "whether other sessions wrote to the database since the snapshot could not be checked (" + e.err.Error() + "), and restoring it could lose their writes"
	}
	return fmt.Sprintf("%d transaction%s of other sessions wrote to %s since the snapshot, and restoring it would lose their writes",
		e.xids, plural(e.xids), strings.Join(e.tables, ", "))
}

func (e *foreignWritesError) Unwrap() error { return e.err }

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
// or downs (ownXIDs). Transaction ids are the server's, but rows are the database's: writes to other
// databases of the server, and schemagate's own history, do not count. It scans every table twice, once
// in the snapshot's view and once now. A write by the deploy's own migrations that the deploy cannot
// attribute to itself (a statement of a migration that runs outside a transaction, a subtransaction)
// counts as another session's: the check errs on the side of refusing the restore.
func (d *deployer) foreignWrites(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if d.watch == nil {
		if d.watchErr != "" {
			return &foreignWritesError{err: errors.New(d.watchErr)}
		}
		return nil
	}
	w := d.watch
	conn, err := pgx.Connect(ctx, d.o.URL)
	if err != nil {
		return &foreignWritesError{err: err}
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, lockTimeoutSQL(d.env.DeployLockTimeout())); err != nil {
		return &foreignWritesError{err: err}
	}
	var now int64
	if err := conn.QueryRow(ctx, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&now); err != nil {
		return &foreignWritesError{err: err}
	}
	rows, err := conn.Query(ctx, `SELECT c.oid, format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND `+fmt.Sprintf(userSchemas, quoteLit(d.hist.schema))+` ORDER BY 2`)
	if err != nil {
		return &foreignWritesError{err: err}
	}
	tables := map[uint32]string{}
	if _, err := collectNames(rows, tables); err != nil {
		return &foreignWritesError{err: err}
	}
	own := map[int64]bool{}
	for _, x := range d.ownXIDs {
		own[x%(1<<32)] = true
	}
	// A 32-bit xid x is one the snapshot did not see when it lies in [next, now) modulo 2^32, or in xip.
	xip32 := make([]int64, len(w.xip))
	for i, x := range w.xip {
		xip32[i] = x % (1 << 32)
	}
	after := func(col string) string {
		return fmt.Sprintf(`(((%[1]s::text::bigint - $1) %% 4294967296 + 4294967296) %% 4294967296 < $2 OR %[1]s::text::bigint = ANY ($3::bigint[]))`, col)
	}
	foreign := map[int64]bool{}
	var wrote []string
	scan := func(table, col string, committed bool) error {
		q := fmt.Sprintf("SELECT DISTINCT %s::text::bigint FROM ONLY %s WHERE %s::text::bigint <> 0 AND %s", col, table, col, after(col))
		rows, err := conn.Query(ctx, q, w.next%(1<<32), now-w.next, xip32)
		if err != nil {
			return err
		}
		xs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		found := false
		for _, x := range xs {
			if own[x] || foreign[x] {
				found = found || foreign[x]
				continue
			}
			if !committed {
				// An xmax: a delete that rolled back leaves it too. The full id, for pg_xact_status.
				full := w.next + ((x-w.next%(1<<32))%(1<<32)+(1<<32))%(1<<32)
				for _, f := range w.xip {
					if f%(1<<32) == x {
						full = f
					}
				}
				var status *string
				if err := conn.QueryRow(ctx, "SELECT pg_xact_status($1::text::xid8)", fmt.Sprint(full)).Scan(&status); err != nil {
					return err
				}
				if status != nil && *status == "aborted" {
					continue
				}
			}
			foreign[x], found = true, true
		}
		if found && len(wrote) < 5 && !slices.Contains(wrote, table) {
			wrote = append(wrote, table)
		}
		return nil
	}
	// Now: inserts and the new versions of updates.
	for _, t := range sortedNames(tables) {
		if err := scan(t, "xmin", true); err != nil {
			return &foreignWritesError{err: fmt.Errorf("read %s: %w", t, err)}
		}
	}
	// In the snapshot's view: deletes and the old versions of updates.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return &foreignWritesError{err: err}
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLit(w.snap)); err != nil {
		return &foreignWritesError{err: fmt.Errorf("read the snapshot's view: %w", err)}
	}
	for _, t := range sortedNames(tables) {
		if err := scan(t, "xmax", false); err != nil {
			return &foreignWritesError{err: fmt.Errorf("read %s as the snapshot saw it: %w", t, err)}
		}
	}
	if len(foreign) == 0 {
		return nil
	}
	return &foreignWritesError{xids: len(foreign), tables: wrote}
}

func sortedNames(m map[uint32]string) []string {
	out := make([]string, 0, len(m))
	for _, n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
