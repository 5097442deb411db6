package rehearse

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/schema"
)

// roundtrip proves that m's down takes the catalog back to before, and that its up then takes it to
// after again. The database is left in its after-up state whatever happens: transactional migrations run
// down and re-up inside one transaction that is rolled back; non-transactional ones run on the database
// while a copy taken before (CREATE DATABASE ... TEMPLATE) stands ready to replace it.
func (r *run) roundtrip(ctx context.Context, m *migrate.Migration, rm *report.Migration, before, after *pg.Mark) error {
	rt := &report.Roundtrip{Status: report.RoundtripOK, Problems: []string{}}
	rm.Roundtrip = rt
	r.columnOrder = nil
	defer func() {
		if len(r.columnOrder) > 0 {
			rm.Findings = append(rm.Findings, columnOrderFinding(m, r.columnOrder))
		}
	}()
	if m.Down.Empty() {
		rt.Status = report.RoundtripNoDown
		return nil
	}
	if m.NoTransaction || m.Down.NoTransaction {
		return r.roundtripWithCopy(ctx, m, rt, before, after)
	}
	if r.inst.AdminURL != "" && (pg.ChangesNewSessions(m.Down) || r.inst.ServerVersion >= 170000 && loginTriggerStatement(m.Down) != nil) {
		// A down that changes the settings of its role or database (ALTER ROLE … RESET search_path)
		// changes what the re-up, in a session of its own, starts with: in the one transaction of the
		// round trip no new session sees that, so it runs as a non-transactional one does, each script
		// in its own transaction and session, on the database with a copy standing by. So does a down
		// that may create or enable a login event trigger, which only a new session can try.
		return r.roundtripWithCopy(ctx, m, rt, before, after)
	}
	if err := r.begin(ctx); err != nil {
		return fmt.Errorf("begin round trip: %w", err)
	}
	defer rollbackTx(ctx, r.conn)
	return r.downUp(ctx, m, rt, before, after, true)
}

// downUp runs the down, compares, runs the up again, compares, each script from a fresh session. Statement errors are reported in rt. inTx
// says the caller holds one transaction around it all, so its catalog reads can be incremental: every
// change since after is the transaction's own, and its locks are still held.
func (r *run) downUp(ctx context.Context, m *migrate.Migration, rt *report.Roundtrip, before, after *pg.Mark, inTx bool) error {
	from := after
	var hook *pg.StatementHook // in autocommit, what the scripts made stays: recorded at once
	if !inTx {
		from, hook = nil, r.roleHook(m.Down, m.Up)
	}
	done := r.apply()
	r.announce("down", m.Down)
	err := r.applyScript(ctx, m.Down, inTx, pg.ApplyOptions{Fresh: true, ResetSQL: r.insp.ResetSQL(), Progress: r.progress("down", m.Down), Running: r.during("down", m.Down), Hook: hook})
	if err == nil && inTx {
		err = settleTx(ctx, r.conn, m.Down)
	}
	if err == nil && inTx && (anyDeferred(before.Catalog()) || anyDeferred(after.Catalog())) {
		if err := restoreDeferred(ctx, r.conn); err != nil {
			done()
			return fmt.Errorf("restore deferred constraints before the re-up: %w", err)
		}
	}
	done()
	if err != nil {
		if out := r.ranOut(err); out != nil {
			return out
		}
		if isToolError(ctx, err) {
			return err
		}
		rt.Status = report.RoundtripFailed
		rt.Error = r.sqlError(err, "down")
		addFailure(rt, fmt.Sprintf("the down fails: %s", rt.Error.Message), rt.Error)
		return nil
	}
	if !inTx {
		// A login event trigger the down made that refuses new sessions fails the round trip; the
		// caller puts the database's copy back, which the up's session was let into.
		if e, err := r.loginRefused(ctx, m.Down, "down", "the down's"); err != nil || e != nil {
			if err != nil {
				return err
			}
			rt.Status, rt.Error = report.RoundtripFailed, e
			addFailure(rt, e.Message, e)
			return nil
		}
		// In autocommit the re-up, like the down days after the up, runs in a session of its own: with
		// what the down did to the settings of its role or database. (In one transaction no other
		// session sees them: the re-up starts from what the up left.)
		if _, err := r.renew(ctx, m.Down); err != nil {
			return err
		}
	}
	afterDown, err := r.insp.Since(ctx, r.conn, from, nil, r.writesCatalog(m.Down, from))
	if err != nil {
		return fmt.Errorf("inspect catalog after down: %w", err)
	}
	if d := schema.Compare(before.Catalog(), afterDown.Catalog()); !d.Empty() {
		if order := splitColumnOrder(d); order != nil {
			r.columnOrder = append(r.columnOrder, schema.Describe(order, schema.DownPhrasing)...)
		}
		if !d.Empty() {
			rt.Status = report.RoundtripFailed
			addProblems(rt, m, schema.DescribeChanges(d, schema.DownPhrasing), true)
		}
	}
	// The comparison matches by name: a down that drops the table or column the up set aside, or
	// drops and adds a column again, gives back one of the same name and shape, empty.
	if lost := schema.Identity(before.Catalog(), after.Catalog(), afterDown.Catalog()); len(lost) > 0 {
		rt.Status = report.RoundtripFailed
		addProblems(rt, m, lost, true)
	}
	done = r.apply()
	r.announce("re-up", m.Up)
	err = r.applyScript(ctx, m.Up, inTx, pg.ApplyOptions{Fresh: true, ResetSQL: r.insp.ResetSQL(), Progress: r.progress("re-up", m.Up), Running: r.during("re-up", m.Up), Hook: hook})
	if err == nil && inTx {
		err = settleTx(ctx, r.conn, m.Up)
	}
	done()
	if err != nil {
		if out := r.ranOut(err); out != nil {
			return out
		}
		if isToolError(ctx, err) {
			return err
		}
		rt.Status = report.RoundtripFailed
		rt.Error = r.sqlError(err, "re-up")
		addFailure(rt, fmt.Sprintf("the up fails when run again after the down: %s", rt.Error.Message), rt.Error)
		return nil
	}
	if !inTx {
		afterDown = nil
		// The up was let in after its first run; after the down it may not be (its trigger's function
		// reads what the down changed).
		if e, err := r.loginRefused(ctx, m.Up, "re-up", "the up's"); err != nil || e != nil {
			if err != nil {
				return err
			}
			rt.Status, rt.Error = report.RoundtripFailed, e
			addFailure(rt, "run again after the down, "+e.Message, e)
			return nil
		}
		if _, err := r.renew(ctx, m.Up); err != nil { // for the migrations after it
			return err
		}
	}
	afterReUp, err := r.insp.Since(ctx, r.conn, afterDown, nil, r.writesCatalog(m.Up, afterDown))
	if err != nil {
		return fmt.Errorf("inspect catalog after re-up: %w", err)
	}
	if d := schema.Compare(after.Catalog(), afterReUp.Catalog()); !d.Empty() {
		if order := splitColumnOrder(d); order != nil {
			r.columnOrder = append(r.columnOrder, schema.Describe(order, schema.ReUpPhrasing)...)
		}
		if !d.Empty() {
			rt.Status = report.RoundtripFailed
			addProblems(rt, m, schema.DescribeChanges(d, schema.ReUpPhrasing), false)
		}
	}
	return nil
}

// splitColumnOrder takes the columns' changes of position out of d and returns them (nil when there
// are none). A down that adds back a column the up dropped from the middle of a table puts it last: the
// schema is the same but for the order of its columns, which is what the canonical down of a DROP
// COLUMN does in every tool. That is no failed round trip, but what SELECT *, INSERT without a column
// list and COPY see changes: a caution finding (column-order) says so.
func splitColumnOrder(d *schema.Diff) *schema.Diff {
	var order *schema.Diff
	kept := d.Changed[:0:0]
	for _, c := range d.Changed {
		if c.Kind == "column" {
			var pos, rest []schema.PropertyChange
			for _, p := range c.Properties {
				if p.Property == "position" {
					pos = append(pos, p)
				} else {
					rest = append(rest, p)
				}
			}
			if len(pos) > 0 {
				if order == nil {
					order = &schema.Diff{}
				}
				oc := c
				oc.Properties = pos
				order.Changed = append(order.Changed, oc)
				if len(rest) == 0 {
					continue
				}
				c.Properties = rest
			}
		}
		kept = append(kept, c)
	}
	d.Changed = kept
	return order
}

// columnOrderFinding is the column-order finding of migration m, at its down script, for what moved.
func columnOrderFinding(m *migrate.Migration, moved []string) lint.Finding {
	f := lint.Finding{Rule: "column-order", Risk: lint.Caution, File: m.Down.File, Line: 1, Column: 1, Source: "dynamic",
		Message: "the round trip changes the order of columns (" + strings.Join(moved, "; ") +
			"): SELECT *, INSERT without a column list and COPY without one see them in another order"}
	if r, ok := lint.Lookup("column-order"); ok {
		f.Suggestion, f.URL = r.Suggestion, r.URL()
	}
	return f
}

// applyScript runs s for downUp: inside the caller's transaction (inTx), or, on a database with a copy
// standing by, as its tool runs it: a script its tool wraps in a transaction (sql-migrate and dbmate
// mark each direction apart, so a transactional down can belong to a non-transactional up) in a
// transaction of its own, where a statement that refuses one fails as it does under the tool.
func (r *run) applyScript(ctx context.Context, s *migrate.Script, inTx bool, opts pg.ApplyOptions) error {
	opts.Join = true
	if inTx || s.NoTransaction {
		return pg.ApplyScript(ctx, r.conn, s, opts)
	}
	return pg.ApplyMigration(ctx, r.conn, &migrate.Migration{}, s, opts)
}

// anyDeferred tells whether the catalog has a constraint declared INITIALLY DEFERRED, which the re-up
// must find deferred again (see restoreDeferred); the down restores the catalog before the up and the
// re-up goes to the one after it, so those two say. Most have none, and need no query for it.
func anyDeferred(c *schema.Catalog) bool {
	for _, x := range c.Constraints {
		if x.Deferred {
			return true
		}
	}
	return false
}

// roundtripWithCopy handles non-transactional migrations: it copies the database first and swaps the
// copy back in when the round trip fails, so the run goes on from the after-up state.
func (r *run) roundtripWithCopy(ctx context.Context, m *migrate.Migration, rt *report.Roundtrip, before, after *pg.Mark) error {
	if r.inst.AdminURL == "" {
		rt.Status = report.RoundtripSkipped
		rt.Problems = append(rt.Problems, "non-transactional migration: the round trip needs a server where schemagate may copy databases")
		return nil
	}
	work, err := r.database(ctx)
	if err != nil {
		return err
	}
	backup := work + sandbox.CopySuffix
	admin, err := adminConn(ctx, r.inst.AdminURL, work)
	if err != nil {
		return fmt.Errorf("connect for round-trip copy: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	// The copy and the swap run without the watchdog, under the sentinel's eye (see sentinel): a
	// stop there names them.
	step, _ := r.step.Load().(string)
	defer r.step.Store(step)
	r.step.Store(step + " (copying its database for the round trip)")
	r.copied = true
	r.close(ctx) // CREATE DATABASE ... TEMPLATE needs the source without sessions
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(backup)+" TEMPLATE "+ident(work)); err != nil {
		return fmt.Errorf("copy database before round trip: %w", err)
	}
	// CREATE DATABASE does not copy the comment, which for the url provider is the mark by which a
	// later run drops the copy should this one die (see sandbox.CopySuffix).
	if err := copyComment(ctx, admin, work, backup); err != nil {
		_, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+ident(backup))
		return fmt.Errorf("mark the database's copy before round trip: %w", err)
	}
	// Nor the settings given to the database or to a role in it (pg_db_role_setting, keyed by the
	// database's oid): a copy put in its place without them would run the next migrations without the
	// search path an earlier one gave it. The copy takes them as they are after the up.
	if err := copySettings(ctx, admin, work, backup); err != nil {
		_, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+ident(backup))
		return fmt.Errorf("give the database's copy its settings before round trip: %w", err)
	}
	// Nor its owner, connection limit, IS_TEMPLATE, ALLOW_CONNECTIONS and privileges (GRANT ... ON
	// DATABASE), which the round trip compares: the copy takes them as they are after the up.
	if err := copyDatabaseState(ctx, admin, work, backup); err != nil {
		_, _ = admin.Exec(context.WithoutCancel(ctx), "ALTER DATABASE "+ident(backup)+" IS_TEMPLATE false")
		_, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+ident(backup))
		return fmt.Errorf("give the database's copy its owner and privileges before round trip: %w", err)
	}
	if err := r.connect(ctx); err != nil {
		return err
	}
	r.step.Store(step)
	if err := r.downUp(ctx, m, rt, before, after, false); err != nil {
		return err
	}
	r.recordRoles(ctx, reportedStop(rt.Error), m.Down, m.Up) // in autocommit: what they made stays
	if rt.Status == report.RoundtripOK {
		// The copy took IS_TEMPLATE from the database, and a template database cannot be dropped.
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(backup)+" IS_TEMPLATE false"); err != nil {
			return err
		}
		_, err := admin.Exec(ctx, "DROP DATABASE "+ident(backup))
		return err
	}
	// Put the copy back: the database is in its after-up state again.
	r.step.Store(step + " (putting back its database's copy after the round trip)")
	r.close(ctx)
	// The database's comment as it is now: the url provider's mark may have changed since the copy
	// (the roles the round trip's migrations created), and goes with the copy in its place.
	if err := copyComment(ctx, admin, work, backup); err != nil {
		return fmt.Errorf("restore database after failed round trip: mark the copy: %w", err)
	}
	// A template database cannot be dropped: a down that left IS_TEMPLATE true on it (the round trip
	// failed for that) would keep the copy from its place.
	for _, q := range []string{
		"ALTER DATABASE " + ident(work) + " IS_TEMPLATE false",
		"DROP DATABASE " + ident(work) + " WITH (FORCE)",
		"ALTER DATABASE " + ident(backup) + " RENAME TO " + ident(work),
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			return fmt.Errorf("restore database after failed round trip: %w", err)
		}
	}
	return r.connect(ctx)
}

// copyComment gives database to the comment database from has, when it has one.
func copyComment(ctx context.Context, admin *pgx.Conn, from, to string) error {
	var q *string
	err := admin.QueryRow(ctx, `SELECT format('COMMENT ON DATABASE %I IS %L', $2::text, shobj_description(oid, 'pg_database'))
		FROM pg_catalog.pg_database WHERE datname = $1 AND shobj_description(oid, 'pg_database') IS NOT NULL`, from, to).Scan(&q)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = admin.Exec(ctx, *q)
	return err
}

// copySettings gives database to the settings database from has, its own (ALTER DATABASE … SET) and
// those of a role in it (ALTER ROLE … IN DATABASE … SET), re-issued as pg_dump writes them out.
func copySettings(ctx context.Context, admin *pgx.Conn, from, to string) error {
	rows, err := admin.Query(ctx, `SELECT r.rolname, c.setting
		FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
		LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
		CROSS JOIN LATERAL unnest(s.setconfig) WITH ORDINALITY AS c(setting, n)
		WHERE d.datname = $1 ORDER BY s.setrole, c.n`, from)
	if err != nil {
		return err
	}
	var qs []string
	for rows.Next() {
		var role *string
		var setting string
		if err := rows.Scan(&role, &setting); err != nil {
			return err
		}
		q := "ALTER DATABASE " + ident(to)
		if role != nil {
			q = "ALTER ROLE " + ident(*role) + " IN DATABASE " + ident(to)
		}
		name, value, _ := strings.Cut(setting, "=")
		qs = append(qs, q+" SET "+schema.SettingSQL(name, value))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, q := range qs {
		if _, err := admin.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// copyDatabaseState gives database to the owner, connection limit, IS_TEMPLATE, ALLOW_CONNECTIONS and
// privileges database from has, where they differ: its ACL is re-issued whole, one GRANT per privilege of one grantee (as the owner's,
// whoever granted it), after PUBLIC's and the owner's defaults are revoked.
func copyDatabaseState(ctx context.Context, admin *pgx.Conn, from, to string) error {
	rows, err := admin.Query(ctx, `SELECT x.q FROM pg_catalog.pg_database f, pg_catalog.pg_database t, LATERAL (
		SELECT 1 AS n, format('ALTER DATABASE %I OWNER TO %I', t.datname, pg_catalog.pg_get_userbyid(f.datdba)) AS q WHERE f.datdba <> t.datdba
		UNION ALL SELECT 2, format('ALTER DATABASE %I CONNECTION LIMIT %s', t.datname, f.datconnlimit) WHERE f.datconnlimit <> t.datconnlimit
		UNION ALL SELECT 2, format('ALTER DATABASE %I IS_TEMPLATE %s', t.datname, f.datistemplate::text) WHERE f.datistemplate <> t.datistemplate
		UNION ALL SELECT 2, format('ALTER DATABASE %I ALLOW_CONNECTIONS %s', t.datname, f.datallowconn::text) WHERE f.datallowconn <> t.datallowconn
		UNION ALL SELECT 3, format('REVOKE ALL ON DATABASE %I FROM PUBLIC, %I', t.datname, pg_catalog.pg_get_userbyid(f.datdba))
		  WHERE f.datacl IS NOT NULL
		UNION ALL SELECT 4, format('GRANT %s ON DATABASE %I TO %s%s', a.privilege_type, t.datname,
		    CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,
		    CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
		  FROM pg_catalog.aclexplode(f.datacl) a WHERE f.datacl IS NOT NULL) x
		WHERE f.datname = $1 AND t.datname = $2 ORDER BY x.n`, from, to)
	if err != nil {
		return err
	}
	qs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, q := range qs {
		if _, err := admin.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// adminConn connects to url for copying, dropping and renaming database work, which it must not be
// connected to itself: when url names work (the local provider's rehearsal runs in database postgres),
// it connects to template1 instead.
func adminConn(ctx context.Context, url, work string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if cfg.Database == work {
		cfg.Database = "template1"
	}
	return pgx.ConnectConfig(ctx, pg.OwnSession(cfg))
}

// database is the rehearsal's database, asked of its connection once per run: the watchdog watches
// its statements, and a round trip copies it.
func (r *run) database(ctx context.Context) (string, error) {
	if r.db == "" {
		db, err := currentDatabase(ctx, r.conn)
		if err != nil {
			return "", err
		}
		r.db = db
	}
	return r.db, nil
}

func currentDatabase(ctx context.Context, c *pgx.Conn) (string, error) {
	var db string
	err := c.QueryRow(ctx, "SELECT pg_catalog.current_database()").Scan(&db)
	return db, err
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

// generateDown writes a rollback script from the schema diff and proves it in the database (up, generated
// down, compare with the before-catalog, up again, compare with the after-catalog) before offering it.
// A script is not verified when the up did what the catalog comparison does not see (see uncovered): the
// script does not undo it, and the proof cannot tell.
func (r *run) generateDown(ctx context.Context, m *migrate.Migration, rm *report.Migration, before, after *pg.Mark) error {
	// A statement the folder's tool would cut (goose and sql-migrate end one at every line that ends
	// with ';', a function body's too) is written inside the lines that keep it whole.
	format := r.opts.Set.Format
	opts := schema.DownOptions{Block: func(stmt string) (string, string) { return migrate.StatementBlock(format, stmt) }, ServerVersion: r.inst.ServerVersion}
	// sqitch runs a revert script with psql in autocommit, as it runs the deploy script: without a
	// BEGIN … COMMIT of its own (which sqitch's templates write in every script), a step that fails
	// leaves the steps before it done, a schema half reverted. The revert of a deploy that runs in a
	// transaction is wrapped so (its indexes built without CONCURRENTLY); one whose deploy psql runs
	// outside a transaction (CREATE INDEX CONCURRENTLY) follows it.
	wrap := format == migrate.FormatSqitch && !m.NoTransaction
	opts.InTransaction = wrap
	afterCat, err := r.schemasRenamedBack(ctx, before.Catalog(), after.Catalog(), &opts)
	if err != nil {
		return err
	}
	ds := schema.GenerateDownWith(before.Catalog(), afterCat, opts)
	if ds.NoTransaction && !concurrentDownRuns(format, m, ds) {
		opts.InTransaction = true
		ds = schema.GenerateDownWith(before.Catalog(), afterCat, opts)
	}
	if wrap && strings.TrimSpace(ds.SQL) != "" {
		ds.SQL = "BEGIN;\n\n" + strings.TrimRight(ds.SQL, "\n") + "\n\nCOMMIT;\n"
	}
	gd := &report.GeneratedDown{SQL: ds.SQL, DataLoss: ds.DataLoss, Warnings: ds.Warnings, NoTransaction: ds.NoTransaction}
	rm.GeneratedDown = gd
	db, err := r.database(ctx)
	if err != nil {
		return err
	}
	outside := uncovered(m.Up, r.opts.Dir, db)
	gd.Problems = append(gd.Problems, outside...)
	if strings.TrimSpace(ds.SQL) == "" {
		// An empty down leaves the catalog as the up left it: it is proven as any other when that is
		// the catalog before the up. The generator writes nothing for a change it cannot express (a
		// view column's default, a column's n_distinct, before it learnt them): the comparison still
		// sees it, and the down is not verified, saying what stays.
		left := schema.DescribeChanges(schema.Compare(before.Catalog(), after.Catalog()), schema.DownPhrasing)
		for _, s := range left {
			gd.Problems = append(gd.Problems, s.Text)
		}
		if len(outside) == 0 && len(left) == 0 {
			gd.Note = "nothing to undo: the migration changes no schema object"
		}
		gd.Verified = len(ds.Warnings) == 0 && len(outside) == 0 && len(left) == 0
		return nil
	}
	// What is proven is what the tool sends: the down as its reader reads it (goose and sql-migrate read
	// it line by line, and sql-migrate leaves out the lines that start with "-- ", a body's too). What
	// the reader finds wrong (a statement the tool would cut) leaves it unverified.
	down, err := migrate.ReadDown(format, m.Version+".generated.down.sql", ds.SQL)
	if err != nil {
		why := fmt.Sprintf("as %s reads it, the generated down is not what was written: %s", format, strings.ReplaceAll(err.Error(), "\n", "; "))
		outside = append(outside, why)
		gd.Problems = append(gd.Problems, why)
	}
	down.NoTransaction = down.NoTransaction || ds.NoTransaction
	gm := &migrate.Migration{Version: m.Version, Name: m.Name, Up: m.Up, Down: down, NoTransaction: m.NoTransaction}
	rt := &report.Roundtrip{Status: report.RoundtripOK, Problems: []string{}}
	if gm.NoTransaction || gm.Down.NoTransaction {
		err = r.roundtripWithCopy(ctx, gm, rt, before, after)
	} else {
		if err := r.begin(ctx); err != nil {
			return err
		}
		err = r.downUp(ctx, gm, rt, before, after, true)
		rollbackTx(ctx, r.conn)
	}
	r.columnOrder = nil // the generated down's own warnings say what it leaves in another order
	if err != nil {
		return err
	}
	if rt.Error != nil && len(rt.Problems) > 0 {
		// downUp stops at a failed statement, so its last problem is that failure: the generated down's
		// problems are all that its readers (check's text, rollback-script, deploy) see of it, so they
		// say it whole, as PostgreSQL did.
		rt.Problems[len(rt.Problems)-1] += errorParticulars(rt.Error)
	}
	gd.Verified = rt.Status == report.RoundtripOK && len(outside) == 0
	gd.Problems = append(gd.Problems, rt.Problems...)
	gd.Error = rt.Error
	return nil
}

// schemasRenamedBack gives a down the schemas the up renamed to rename back first (see
// schema.DownOptions.SchemaRenames), and returns the catalog as it is once they are: read in a
// transaction that renames them and is rolled back. Where that cannot be (an event trigger the up added
// would fire on the renames, which the down drops before them; the renames or the read fail, for want
// of a privilege), it returns after and leaves opts as they were: the down moves each object back.
func (r *run) schemasRenamedBack(ctx context.Context, before, after *schema.Catalog, opts *schema.DownOptions) (*schema.Catalog, error) {
	renames := schema.SchemaRenamesBack(before, after)
	if len(renames) == 0 || r.insp.Mode == pg.InspectLog || r.conn.PgConn().TxStatus() != 'I' {
		// (The change log's marks are settings of the session, which a rolled-back read would undo; a
		// block left open is no place to begin one that is rolled back.)
		return after, nil
	}
	for k, t := range after.EventTriggers {
		if !reflect.DeepEqual(t, before.EventTriggers[k]) {
			return after, nil
		}
	}
	renamed, err := func() (*schema.Catalog, error) {
		if err := r.begin(ctx); err != nil {
			return nil, err
		}
		defer rollbackTx(context.WithoutCancel(ctx), r.conn)
		for _, rn := range renames {
			if _, err := r.conn.Exec(ctx, "ALTER SCHEMA "+ident(rn.From)+" RENAME TO "+ident(rn.To)); err != nil {
				return nil, err
			}
		}
		m, err := r.insp.Inspect(ctx, r.conn)
		if err != nil {
			return nil, err
		}
		return m.Catalog(), nil
	}()
	if err != nil {
		if isToolError(ctx, err) {
			return nil, fmt.Errorf("read the catalog with the schemas the up renamed renamed back: %w", err)
		}
		r.opts.Logger.Debug("the generated down moves the objects of renamed schemas one by one", "reason", err)
		return after, nil
	}
	opts.SchemaRenames = renames
	return renamed, nil
}

// errorParticulars is " (DETAIL: ...; HINT: ...)" for an error that has a detail or a hint, on one
// line: a detail that lists dependent objects one per line lists them with semicolons.
func errorParticulars(e *report.SQLError) string {
	var parts []string
	if d := oneLine(e.Detail); d != "" {
		parts = append(parts, "DETAIL: "+d)
	}
	if h := oneLine(e.Hint); h != "" {
		parts = append(parts, "HINT: "+h)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func oneLine(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// concurrentDownRuns tells whether the folder's tool can run the generated down ds of m, which has steps
// that refuse a transaction block (CREATE INDEX CONCURRENTLY), as the rehearsal proves it, in the place
// the down goes: psql (sqitch, plain folders) runs its statements one by one; sql-migrate too, under a
// Down already marked notransaction; goose and Atlas only in a file marked to run outside a
// transaction; golang-migrate sends the whole down as one query, which runs as one transaction block
// unless it is a single statement (with x-multi-statement it sends each statement alone), and so does dbmate under a down already marked transaction:false;
// Flyway runs a script outside a transaction only when every statement needs that. Otherwise the down
// builds its indexes without CONCURRENTLY (a down pasted under a plain Down would fail).
func concurrentDownRuns(format migrate.Format, m *migrate.Migration, ds *schema.DownScript) bool {
	var steps, outside int
	for _, st := range ds.Steps {
		if st.SQL != "" {
			steps++
			if st.NoTransaction {
				outside++
			}
		}
	}
	downOutside := m.Down != nil && m.Down.NoTransaction
	switch format {
	case migrate.FormatSqitch, migrate.FormatPlain:
		return true
	case migrate.FormatSQLMigrate:
		return downOutside
	case migrate.FormatGoose, migrate.FormatAtlas:
		return m.NoTransaction
	case migrate.FormatGolangMigrate:
		return steps == 1 || m.PerStatement
	case migrate.FormatDbmate:
		return downOutside && steps == 1
	case migrate.FormatFlyway:
		return outside == steps
	}
	return false
}
