package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// history is schemagate's bookkeeping in the target database: one row per migration per run in
// schemagate_history, one row per run in schemagate_runs, and the visible lock row in schemagate_lock.
type history struct {
	schema string
	// lockTimeout bounds the wait of its statements for a lock (the deploy session's lock_timeout, see
	// lockTimeoutSQL); a *LockWaitError says how long they waited.
	lockTimeout time.Duration
	// keepStricter is set when no lock_timeout is configured: a lower one the server gives the deploy's
	// role (ALTER ROLE or ALTER DATABASE ... SET lock_timeout, the URL's options) is kept rather than
	// raised to the default (see sessionDefaults). lockFrom is then where the one kept comes from
	// (pg_settings.source), once the deploy lock's session has read it.
	keepStricter bool
	lockFrom     string
}

func (h history) table(name string) string { return ident(h.schema) + "." + name }

// fail describes the failure of step what: "<what>: <err>", or, when lock_timeout ended its wait for a
// lock of mode want on tables (of the history schema: "schemagate_history"), a *LockWaitError naming
// them and who holds them.
func (h history) fail(ctx context.Context, x execer, err error, what, want string, tables ...string) error {
	if !isLockTimeout(err) {
		return fmt.Errorf("%s: %w", what, err)
	}
	names, regs := make([]string, len(tables)), make([]string, len(tables))
	for i, t := range tables {
		names[i], regs[i] = h.schema+"."+t, h.table(t)
	}
	return lockWait(ctx, x, err, h.lockTimeout, what, want, names, regs)
}

// foreignSQL lists what the history schema ($1) holds besides schemagate's tables and what comes with
// them (their indexes, row types, sequences and TOAST tables).
const foreignSQL = `
SELECT kind || ' ' || name FROM (
  SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
           WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
     AND c.relname NOT IN ('schemagate_history', 'schemagate_runs', 'schemagate_lock', 'schemagate_history_id_seq', 'schemagate_run_xids')
  UNION ALL
  SELECT 'function', p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
  UNION ALL
  SELECT 'type', t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = $1 AND (t.typtype IN ('e', 'd', 'r', 'm')
     OR t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
) o ORDER BY 1 LIMIT 6`

// ensure checks the history schema holds nothing of the application's, then creates the schema and
// tables when missing (run only under the deploy lock). Snapshots leave that schema out and restores
// keep it as it is, so objects of the application there would be neither saved nor restored. created
// tells whether it created (or brought up to date) any of them: all of it in one transaction, so an
// error means it created nothing.
func (h history) ensure(ctx context.Context, conn *pgx.Conn) (created bool, err error) {
	rows, err := conn.Query(ctx, foreignSQL, h.schema)
	if err != nil {
		return false, fmt.Errorf("read the history schema %s: %w", h.schema, err)
	}
	foreign, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, fmt.Errorf("read the history schema %s: %w", h.schema, err)
	}
	if len(foreign) > 0 {
		if len(foreign) > 5 {
			foreign = append(foreign[:5], "…")
		}
		return false, &Blocked{Reason: fmt.Sprintf("the history schema %s holds objects that are not schemagate's: %s", h.schema, strings.Join(foreign, ", ")),
			Hint: "give schemagate a schema of its own (history_schema, default schemagate): snapshots leave it out and restores keep it as it is"}
	}
	// With everything in place (every deploy but the first, and the first after an upgrade), no DDL runs:
	// ALTER TABLE ... ADD COLUMN IF NOT EXISTS takes an ACCESS EXCLUSIVE lock on schemagate_history even
	// when the column is there, and so would wait for any session that merely reads it (a pg_dump).
	var complete bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL
		AND to_regclass($4) IS NOT NULL
		AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1)::oid AND attname = 'up_checksum' AND NOT attisdropped)
		AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1)::oid AND attname = 'statements_checksum' AND NOT attisdropped)
		AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1)::oid AND attname = 'statement' AND NOT attisdropped)
		AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($2)::oid AND attname = 'before_run' AND NOT attisdropped)
		AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($2)::oid AND attname = 'maintenance_since' AND NOT attisdropped)`,
		h.table("schemagate_history"), h.table("schemagate_runs"), h.table("schemagate_lock"), h.table("schemagate_history_version_idx")).Scan(&complete); err != nil {
		return false, fmt.Errorf("read the history schema %s: %w", h.schema, err)
	}
	if complete {
		return false, nil
	}
	sql := fmt.Sprintf(`
CREATE SCHEMA IF NOT EXISTS %[1]s;
CREATE TABLE IF NOT EXISTS %[1]s.schemagate_history (
  id             bigserial PRIMARY KEY,
  run_id         text NOT NULL,
  version        text NOT NULL,
  name           text NOT NULL,
  checksum       text NOT NULL,
  up_checksum    text,
  statements_checksum text,
  status         text NOT NULL,
  no_transaction boolean NOT NULL DEFAULT false,
  applied_at     timestamptz,
  applied_by     text,
  duration_ms    bigint,
  attempts       int,
  pr             text,
  commit         text,
  error          text,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  statement      int
);
-- up_checksum came in a later release: history written before has none (see plan).
ALTER TABLE %[1]s.schemagate_history ADD COLUMN IF NOT EXISTS up_checksum text;
-- statements_checksum too (see plan).
ALTER TABLE %[1]s.schemagate_history ADD COLUMN IF NOT EXISTS statements_checksum text;
-- statement too (see history.started).
ALTER TABLE %[1]s.schemagate_history ADD COLUMN IF NOT EXISTS statement int;
CREATE INDEX IF NOT EXISTS schemagate_history_version_idx ON %[1]s.schemagate_history (version, id);
CREATE TABLE IF NOT EXISTS %[1]s.schemagate_runs (
  run_id         text PRIMARY KEY,
  env            text NOT NULL,
  status         text NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  holder         text,
  commit         text,
  pr             text,
  job_url        text,
  backend_pid    int,
  maintenance_on boolean NOT NULL DEFAULT false,
  snapshot       jsonb,
  snapshot_safe  boolean NOT NULL DEFAULT false,
  window_broken  boolean NOT NULL DEFAULT false,
  break_reason   text,
  outcome        text,
  reason         text,
  result         jsonb,
  before_run     jsonb,
  maintenance_since timestamptz
);
-- before_run came in a later release (see beforeRun).
ALTER TABLE %[1]s.schemagate_runs ADD COLUMN IF NOT EXISTS before_run jsonb;
-- maintenance_since too: when the on action had turned maintenance mode on (maintenance_on is recorded
-- before it runs, so that a run that dies during it still has it turned off).
ALTER TABLE %[1]s.schemagate_runs ADD COLUMN IF NOT EXISTS maintenance_since timestamptz;
-- write_mark too: the transaction ids the snapshot's moment did not see (next, xip), for --recover to
-- tell the writes made since (see deadRun.Mark).
ALTER TABLE %[1]s.schemagate_runs ADD COLUMN IF NOT EXISTS write_mark jsonb;
-- The transaction ids of each run's migrations and downs, each recorded in its own transaction: the
-- writes --recover must not take for another session's (see recordOwnXID).
CREATE TABLE IF NOT EXISTS %[1]s.schemagate_run_xids (
  run_id text NOT NULL,
  xid    bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS schemagate_run_xids_run_idx ON %[1]s.schemagate_run_xids (run_id);
CREATE TABLE IF NOT EXISTS %[1]s.schemagate_lock (
  id          int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  holder      text,
  run_id      text,
  commit      text,
  job_url     text,
  since       timestamptz,
  backend_pid int
);`, ident(h.schema))
	if _, err := conn.PgConn().Exec(ctx, sql).ReadAll(); err != nil {
		return false, h.fail(ctx, conn, err, "create the history tables in schema "+h.schema, "AccessExclusiveLock",
			"schemagate_history", "schemagate_runs", "schemagate_lock")
	}
	return true, nil
}

// appliedRow is the latest history row of a version.
type appliedRow struct {
	Version  string
	Name     string
	Checksum string
	Status   string
	RunID    string
	// UpChecksum is the up script's checksum (Migration.UpChecksum); empty in rows written before
	// schemagate recorded it.
	UpChecksum string
	// StatementsChecksum is the checksum of what the up runs (Migration.StatementsChecksum); empty in
	// rows written before schemagate recorded it, and for an up that has none.
	StatementsChecksum string
}

// latest returns the latest row of every version, in first-applied order; nil when the tables are missing.
func (h history) latest(ctx context.Context, conn *pgx.Conn) ([]appliedRow, error) {
	rows, err := conn.Query(ctx, fmt.Sprintf(`
		SELECT version, name, checksum, status, run_id, up_checksum, statements_checksum FROM (
		  SELECT DISTINCT ON (version) version, name, checksum, status, run_id, up_checksum, statements_checksum, id,
		         min(id) OVER (PARTITION BY version) AS first
		    -- up_checksum and statements_checksum through to_jsonb: a table of an earlier release, read
		    -- before ensure adds them, has none
		    FROM (SELECT `+legacyVersion+` AS version, name, checksum, status, run_id, coalesce(to_jsonb(x)->>'up_checksum', '') AS up_checksum,
		      coalesce(to_jsonb(x)->>'statements_checksum', '') AS statements_checksum, id
		      FROM %s x) h
		    ORDER BY version, id DESC) t
		ORDER BY first`, h.table("schemagate_history")))
	if err != nil {
		if isUndefined(err) {
			return nil, nil
		}
		return nil, h.fail(ctx, conn, err, "read history", "AccessShareLock", "schemagate_history")
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[appliedRow])
	if err != nil {
		return nil, h.fail(ctx, conn, err, "read history", "AccessShareLock", "schemagate_history")
	}
	return out, nil
}

func isUndefined(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000")
}

// legacyVersion reads the version column (a migration's Key) with the rows of Flyway repeatable
// migrations that earlier releases recorded under an empty version keyed as Key keys them.
const legacyVersion = `CASE WHEN version = '' THEN 'R__' || name ELSE version END`

// rekey is a history version recorded under another key than the folder's migration has now.
type rekey struct {
	from, to, checksum string
}

// rekeyed reads history rows written under the keys of earlier releases, which keyed a sqitch change by
// its Version: a reworked change's instances moved (the applied "users" became "users@v1.0" and the new
// instance took "users"). A row whose key the folder holds with its checksum stays; one whose text is
// that of another instance of the same change, or of the migration whose Version its key is, is that
// migration. It rewrites latest in place and returns the renames that make history agree (see rename).
// sql-migrate migrations, which earlier releases keyed by Version too, are sqlMigrateRekeyed's.
func rekeyed(set *migrate.Set, latest []appliedRow) []rekey {
	if set.Format == migrate.FormatSQLMigrate {
		return sqlMigrateRekeyed(set, latest)
	}
	if set.Format != migrate.FormatSqitch {
		return nil
	}
	claimed, same := map[string]bool{}, map[int]bool{}
	for i, r := range latest {
		if m := set.Find(r.Version); m != nil && (r.Status != StatusApplied || m.ChecksumMatches(r.Checksum)) {
			claimed[r.Version], same[i] = true, true
		}
	}
	var out []rekey
	for i, r := range latest {
		if same[i] {
			continue
		}
		name, _, _ := strings.Cut(r.Version, "@")
		name, _, _ = strings.Cut(name, "#")
		var to *migrate.Migration
		for _, m := range set.Migrations {
			if m.Name != name || claimed[m.Key()] || !m.ChecksumMatches(r.Checksum) {
				continue
			}
			if to == nil || m.Version == r.Version {
				to = m
			}
		}
		if to == nil {
			continue
		}
		claimed[to.Key()] = true
		out = append(out, rekey{from: r.Version, to: to.Key(), checksum: r.Checksum})
		latest[i].Version = to.Key()
	}
	return out
}

// sqlMigrateRekeyed reads the history rows of sql-migrate migrations that earlier releases recorded
// under the migration's Version, before the key became its file name (what sql-migrate records,
// migrate.Migration.KeyedByFile): the leading number as written ("2", "002") for the first file of a
// number, the file name without .sql ("2_b") for a later one. A file of the same number that sorts first
// takes the number over, so the number does not tell which file a row is: among the files it can name
// that the history has not claimed, the one with the row's checksum is the migration, preferring the one
// whose Version the key is now; without a checksum match, the one whose Version the key is (an edit the
// plan then reports as drift, as before). Rows whose key no file of the folder can have had stay.
func sqlMigrateRekeyed(set *migrate.Set, latest []appliedRow) []rekey {
	claimed := map[string]bool{}
	for _, r := range latest {
		if set.Find(r.Version) != nil {
			claimed[r.Version] = true
		}
	}
	var out []rekey
	for i, r := range latest {
		if claimed[r.Version] {
			continue
		}
		var to, fallback *migrate.Migration
		for _, m := range set.Migrations {
			if claimed[m.Key()] || !sqlMigrateLegacyKey(m, r.Version) {
				continue
			}
			if m.ChecksumMatches(r.Checksum) && (to == nil || m.Version == r.Version) {
				to = m
			}
			if m.Version == r.Version {
				fallback = m
			}
		}
		if to == nil {
			to = fallback
		}
		if to == nil {
			continue
		}
		claimed[to.Key()] = true
		out = append(out, rekey{from: r.Version, to: to.Key(), checksum: r.Checksum})
		latest[i].Version = to.Key()
	}
	return out
}

// sqlMigrateLegacyKey tells whether an earlier release can have recorded sql-migrate migration m under
// key: its file name without .sql, or its leading number as written.
func sqlMigrateLegacyKey(m *migrate.Migration, key string) bool {
	if m.Up == nil || key == "" {
		return false
	}
	base := path.Base(m.Up.File)
	if key == strings.TrimSuffix(base, path.Ext(base)) {
		return true
	}
	digits := strings.TrimLeft(base, "0123456789")
	return len(digits) < len(base) && base[:len(base)-len(digits)] == key
}

// recordedMigration is the folder's migration a history row names by its key (version) and checksum:
// the migration with that key, else the one an earlier release recorded under it (see rekeyed); nil
// when there is none.
func recordedMigration(set *migrate.Set, version, checksum string) *migrate.Migration {
	if m := set.Find(version); m != nil {
		return m
	}
	if rk := rekeyed(set, []appliedRow{{Version: version, Checksum: checksum, Status: StatusApplied}}); len(rk) > 0 {
		return set.Find(rk[0].to)
	}
	return nil
}

// rekeyWhat says what rekeyed's renames record history under, for set's format.
func rekeyWhat(set *migrate.Set) string {
	if set.Format == migrate.FormatSQLMigrate {
		return "the file names sql-migrate records"
	}
	return "the keys of reworked sqitch changes"
}

// rename records history rows under the keys rekeyed found, in one statement (a rework swaps keys: the
// old "users" becomes "users#2" while "users@v1.0" becomes "users"). Only rows with the checksum that
// identified the migration move.
func (h history) rename(ctx context.Context, conn *pgx.Conn, rks []rekey) error {
	if len(rks) == 0 {
		return nil
	}
	var from, to, sums []string
	for _, r := range rks {
		from, to, sums = append(from, r.from), append(to, r.to), append(sums, r.checksum)
	}
	_, err := conn.Exec(ctx, fmt.Sprintf(`UPDATE %s h SET version = k.new FROM unnest($1::text[], $2::text[], $3::text[]) k(old, new, checksum)
		WHERE h.version = k.old AND h.checksum = k.checksum`, h.table("schemagate_history")), from, to, sums)
	if err != nil {
		return h.fail(ctx, conn, err, "record history under the folder's keys", "RowExclusiveLock", "schemagate_history")
	}
	return nil
}

// plan compares history with the folder: the pending migrations in order and every drift found.
// An applied migration whose up is as it was applied has not drifted when only its down or verify
// script changed, nor, for a folder whose tool records no checksum (migrate.ChecksumFree), when its up
// still runs the statements it ran (only comments or blank space changed: Migration.StatementsChecksum):
// plan lists those in changed, for a note (a rollback runs the down as it is now).
func plan(set *migrate.Set, latest []appliedRow) (pending []*migrate.Migration, drift, changed []string) {
	byVersion := map[string]appliedRow{}
	for _, r := range latest {
		byVersion[r.Version] = r
		if r.Status != StatusApplied {
			continue
		}
		m := set.Find(r.Version)
		switch {
		case m == nil:
			drift = append(drift, fmt.Sprintf("version %s (%s) is applied but missing from the migration folder", r.Version, r.Name))
		case m.Repeatable:
		case m.ChecksumMatches(r.Checksum):
		case m.UpChecksumMatches(r.UpChecksum) && set.Format == migrate.FormatFlyway:
			// A Flyway up's checksum is of the lines Flyway's own checksum reads (migrate.FlywayChecksum):
			// the up may have gained empty lines, which Flyway's validate takes for the same script too.
			changed = append(changed, fmt.Sprintf("applied migration %s changed since it was applied, but not its up script as Flyway's checksum reads it (empty lines and line endings aside; or only its undo script changed), so this is no drift, and a rollback runs the scripts as they are now", m.ID()))
		case m.UpChecksumMatches(r.UpChecksum):
			changed = append(changed, fmt.Sprintf("the down or verify script of applied migration %s changed since it was applied; its up did not, so this is no drift, and a rollback runs the scripts as they are now", m.ID()))
		case migrate.ChecksumFree(set.Format) && r.StatementsChecksum != "" && r.StatementsChecksum == m.StatementsChecksum():
			// Comments or blank space changed: every database runs the same statements, and the
			// folder's tool, which records no checksum, takes the file as it is.
			changed = append(changed, fmt.Sprintf("applied migration %s changed since it was applied, but not the statements its up runs (only comments or blank space; %s records no checksum of applied migrations), so this is no drift, and a rollback runs the scripts as they are now", m.ID(), set.Format))
		case r.Name != "" && r.Name != m.Name:
			// Another migration took the version: "m changed" would name one that was never applied.
			drift = append(drift, fmt.Sprintf("version %s was applied as %s; the folder has %s (%s) under that version instead (checksum %s, applied %s)",
				r.Version, r.Name, m.Name, fileOf(m), short(m.Checksum), short(r.Checksum)))
		case r.UpChecksum == "":
			drift = append(drift, fmt.Sprintf("migration %s (%s) changed after it was applied (checksum %s, applied %s; history from before schemagate recorded the up's own checksum cannot tell a changed down from a changed up)",
				m.ID(), fileOf(m), short(m.Checksum), short(r.Checksum)))
		case migrate.ChecksumFree(set.Format) && r.StatementsChecksum == "" && m.StatementsChecksum() != "":
			drift = append(drift, fmt.Sprintf("migration %s (%s) changed after it was applied: its up script differs (checksum %s, applied %s; history from before schemagate recorded the checksum of the statements the up runs cannot tell an edit of its comments from one of its statements)",
				m.ID(), fileOf(m), short(m.UpChecksum()), short(r.UpChecksum)))
		default:
			drift = append(drift, fmt.Sprintf("migration %s (%s) changed after it was applied: its up script differs (checksum %s, applied %s)",
				m.ID(), fileOf(m), short(m.UpChecksum()), short(r.UpChecksum)))
		}
	}
	lastApplied := -1
	for i, m := range set.Migrations {
		if r, ok := byVersion[m.Key()]; ok && r.Status == StatusApplied && !m.Repeatable {
			lastApplied = i
		}
	}
	for i, m := range set.Migrations {
		r, ok := byVersion[m.Key()]
		applied := ok && r.Status == StatusApplied
		if m.Repeatable {
			if !applied || !m.ChecksumMatches(r.Checksum) {
				pending = append(pending, m)
			}
			continue
		}
		if applied {
			continue
		}
		if i < lastApplied {
			drift = append(drift, fmt.Sprintf("migration %s is not applied but sorts before applied %s; rename it to sort last",
				m.ID(), set.Migrations[lastApplied].ID()))
			continue
		}
		pending = append(pending, m)
	}
	return pending, drift, changed
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// reportFile is the file of m as the report names it (see Options.Dir), or its id when it has none.
func (d *deployer) reportFile(m *migrate.Migration) string {
	if m.Up != nil {
		return d.o.file(m.Up.File)
	}
	return m.ID()
}

func fileOf(m *migrate.Migration) string {
	if m.Up != nil {
		return m.Up.File
	}
	return m.ID()
}

// deadRun is a run that never finished: its process died (this run holds the lock, so it is not running).
type deadRun struct {
	RunID         string
	Since         time.Time
	Holder        string
	BackendPID    int
	MaintenanceOn bool
	// MaintenanceSince is when the run's on action turned maintenance mode on, nil when the run did not
	// record it (it died before the action had completed, or was of an earlier release).
	MaintenanceSince *time.Time
	Snapshot         *snapshot.Info
	SnapshotSafe     bool
	Status           string
	// Mark is the write watch's first mark, recorded with the snapshot (nil for a run of an earlier
	// release): the transaction ids its moment did not see.
	Mark *writeMark
}

// writeMark is a write watch's first mark as a run records it: the snapshot's xmax (full id) and the
// ids under way then.
type writeMark struct {
	Next int64   `json:"next"`
	XIP  []int64 `json:"xip"`
}

// runUnrecorded is the status of a run that ended after restoring its snapshot but could not record
// the restore in schemagate_history, which still says applied for what the restore undid: like a run
// left running, it blocks the next deploy until --recover records the restore (see recordRestore).
const runUnrecorded = "restore-unrecorded"

// runHalfway is the status of a run that ended leaving a non-transactional migration half applied (its
// history row says half-applied): like a run left running, it blocks the next deploy until --recover
// records what a person did to that migration (see leftHalfway).
const runHalfway = "half-applied"

// unfinished returns the runs left running, those whose snapshot restore history does not record
// (runUnrecorded) and those with maintenance mode on, oldest first.
func (h history) unfinished(ctx context.Context, conn *pgx.Conn, self string) ([]deadRun, error) {
	// maintenance_since through to_jsonb: a table of an earlier release, read by a dry run (which does not
	// bring the tables up to date), has none.
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT run_id, started_at, coalesce(holder,''), coalesce(backend_pid,0),
		maintenance_on, (to_jsonb(x)->>'maintenance_since')::timestamptz, snapshot, snapshot_safe, status, to_jsonb(x)->'write_mark' FROM %s x
		WHERE (status IN ('running', $2, $3) OR maintenance_on) AND run_id <> $1 ORDER BY started_at`, h.table("schemagate_runs")), self, runUnrecorded, runHalfway)
	if err != nil {
		if isUndefined(err) { // never deployed to (a dry run does not create the tables)
			return nil, nil
		}
		return nil, h.fail(ctx, conn, err, "read unfinished runs", "AccessShareLock", "schemagate_runs")
	}
	defer rows.Close()
	var out []deadRun
	for rows.Next() {
		var d deadRun
		var snap, mark []byte
		if err := rows.Scan(&d.RunID, &d.Since, &d.Holder, &d.BackendPID, &d.MaintenanceOn, &d.MaintenanceSince, &snap, &d.SnapshotSafe, &d.Status, &mark); err != nil {
			return nil, fmt.Errorf("read unfinished runs: %w", err)
		}
		if len(mark) > 0 && string(mark) != "null" {
			d.Mark = &writeMark{}
			if err := json.Unmarshal(mark, d.Mark); err != nil {
				return nil, fmt.Errorf("read the write mark of run %s: %w", d.RunID, err)
			}
		}
		if len(snap) > 0 && string(snap) != "null" {
			d.Snapshot = &snapshot.Info{}
			if err := json.Unmarshal(snap, d.Snapshot); err != nil {
				return nil, fmt.Errorf("read snapshot of run %s: %w", d.RunID, err)
			}
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, h.fail(ctx, conn, err, "read unfinished runs", "AccessShareLock", "schemagate_runs")
	}
	return out, nil
}

// failedRuns returns the runs other than self that ended failed with a snapshot (outcome failed: the
// database needed a person, and the report may tell them to restore the snapshot by hand), oldest first;
// Since is when each ended. The retention keeps their snapshots (see pinner).
func (h history) failedRuns(ctx context.Context, conn *pgx.Conn, self string) ([]deadRun, error) {
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT run_id, coalesce(finished_at, started_at), snapshot FROM %s
		WHERE outcome = $2 AND snapshot IS NOT NULL AND snapshot <> 'null'::jsonb AND run_id <> $1 ORDER BY started_at`, h.table("schemagate_runs")), self, OutcomeFailed)
	if err != nil {
		if isUndefined(err) {
			return nil, nil
		}
		return nil, h.fail(ctx, conn, err, "read failed runs", "AccessShareLock", "schemagate_runs")
	}
	defer rows.Close()
	var out []deadRun
	for rows.Next() {
		var d deadRun
		var snap []byte
		if err := rows.Scan(&d.RunID, &d.Since, &snap); err != nil {
			return nil, fmt.Errorf("read failed runs: %w", err)
		}
		d.Snapshot = &snapshot.Info{}
		if err := json.Unmarshal(snap, d.Snapshot); err != nil {
			return nil, fmt.Errorf("read snapshot of run %s: %w", d.RunID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, h.fail(ctx, conn, err, "read failed runs", "AccessShareLock", "schemagate_runs")
	}
	return out, nil
}

// runRow is the row of this run in schemagate_runs.
type runRow struct {
	h    history
	conn *pgx.Conn
	id   string
	// restoreUnrecorded is set when the run restored its snapshot but could not record that in history
	// (an *unrecordedError): finish records the run as runUnrecorded, not finished, so that the next
	// deploy does not take history's "applied" at its word.
	restoreUnrecorded bool
	// halfway is set when the run leaves a migration half applied (see leftHalfway): finish records the
	// run as runHalfway.
	halfway bool
}

// startRun records the run as running, with before (JSON: see beforeRun), what it read of the database
// before its first migration, which its --recover judges by.
func (h history) startRun(ctx context.Context, conn *pgx.Conn, o *Options, brokeWindow bool, before []byte) (*runRow, error) {
	_, err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (run_id, env, status, holder, commit, pr, job_url, backend_pid, window_broken, break_reason, before_run)
		VALUES ($1, $2, 'running', $3, $4, $5, $6, pg_backend_pid(), $7, nullif($8, ''), $9::jsonb)`, h.table("schemagate_runs")),
		o.RunID, o.Env, o.Holder, o.Commit, o.PR, o.JobURL, brokeWindow, o.Reason, string(before))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return nil, runIDUsed(o.RunID)
	}
	if err != nil {
		return nil, h.fail(ctx, conn, err, "record the run", "RowExclusiveLock", "schemagate_runs")
	}
	return &runRow{h: h, conn: conn, id: o.RunID}, nil
}

// runIDUsed blocks a run whose id an earlier run has: history keys its records by it.
func runIDUsed(id string) *Blocked {
	return &Blocked{Reason: fmt.Sprintf("run id %s was used by an earlier run", id), Hint: "pass a new --run-id"}
}

// runUsed reports whether history has a run with id, which startRun would refuse (a dry run asks).
func (h history) runUsed(ctx context.Context, conn *pgx.Conn, id string) (bool, error) {
	var used bool
	err := conn.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT FROM %s WHERE run_id = $1)", h.table("schemagate_runs")), id).Scan(&used)
	if isUndefined(err) { // never deployed to (a dry run does not create the tables)
		return false, nil
	}
	if err != nil {
		return false, h.fail(ctx, conn, err, "read runs", "AccessShareLock", "schemagate_runs")
	}
	return used, nil
}

func (r *runRow) set(ctx context.Context, column string, value any) error {
	if b, ok := value.([]byte); ok {
		value = string(b) // JSON, which the simple protocol would send as bytea
	}
	_, err := r.conn.Exec(context.WithoutCancel(ctx), fmt.Sprintf("UPDATE %s SET %s = $2 WHERE run_id = $1",
		r.h.table("schemagate_runs"), column), pgx.QueryExecModeSimpleProtocol, r.id, value)
	if err != nil {
		return r.h.fail(ctx, r.conn, err, "record "+column+" of the run", "RowExclusiveLock", "schemagate_runs")
	}
	return nil
}

// ended tells how run runID ended, as its row says ("outcome failed at 2026-12-05T03:04:05Z"), or ""
// when it has not ended or cannot be read.
func (h *history) ended(ctx context.Context, conn *pgx.Conn, runID string) string {
	var outcome string
	var at time.Time
	err := conn.QueryRow(ctx, fmt.Sprintf("SELECT coalesce(outcome, status), finished_at FROM %s WHERE run_id = $1 AND finished_at IS NOT NULL",
		h.table("schemagate_runs")), runID).Scan(&outcome, &at)
	if err != nil {
		return ""
	}
	return "outcome " + outcome + " at " + at.UTC().Format(time.RFC3339)
}

func (r *runRow) finish(ctx context.Context, res *Result) error {
	js, _ := json.Marshal(res)
	status := r.endStatus()
	_, err := r.conn.Exec(context.WithoutCancel(ctx), fmt.Sprintf(`UPDATE %s SET status = $5, finished_at = now(),
		outcome = $2, reason = nullif($3, ''), result = $4 WHERE run_id = $1`, r.h.table("schemagate_runs")), pgx.QueryExecModeSimpleProtocol, r.id, res.Outcome, res.Reason, string(js), status)
	if err != nil {
		return r.h.fail(ctx, r.conn, err, "record the end of the run", "RowExclusiveLock", "schemagate_runs")
	}
	return nil
}

// endStatus is the status finish records: finished, or restore-unrecorded when a restore this run made
// could not be recorded (the next deploy must not take the run as finished).
func (r *runRow) endStatus() string {
	switch {
	case r.restoreUnrecorded:
		return runUnrecorded
	case r.halfway:
		return runHalfway
	}
	return "finished"
}

// beforeRun reads what run runID recorded before its first migration (see startRun); nil when it
// recorded nothing (an earlier release).
func (h history) beforeRun(ctx context.Context, conn *pgx.Conn, runID string) ([]byte, error) {
	var before []byte
	err := conn.QueryRow(ctx, fmt.Sprintf("SELECT before_run::text FROM %s WHERE run_id = $1", h.table("schemagate_runs")), runID).Scan(&before)
	if err != nil {
		return nil, h.fail(ctx, conn, err, "read what run "+runID+" read before its first migration", "AccessShareLock", "schemagate_runs")
	}
	return before, nil
}

// markRun sets the status (and maintenance flag) of another run.
func (h history) markRun(ctx context.Context, conn *pgx.Conn, runID, status string, maintenanceOn bool) error {
	_, err := conn.Exec(context.WithoutCancel(ctx), fmt.Sprintf(`UPDATE %s SET status = $2, maintenance_on = $3,
		finished_at = coalesce(finished_at, now()) WHERE run_id = $1`, h.table("schemagate_runs")), pgx.QueryExecModeSimpleProtocol, runID, status, maintenanceOn)
	if err != nil {
		return h.fail(ctx, conn, err, "record run "+runID+" as "+status, "RowExclusiveLock", "schemagate_runs")
	}
	return nil
}

// begin records a migration as running and returns its history row id.
func (h history) begin(ctx context.Context, conn *pgx.Conn, o *Options, m *migrate.Migration) (int64, error) {
	var id int64
	err := conn.QueryRow(ctx, fmt.Sprintf(`INSERT INTO %s (run_id, version, name, checksum, up_checksum, statements_checksum, status, no_transaction, applied_by, pr, commit)
		VALUES ($1, $2, $3, $4, $9, nullif($10, ''), 'running', $5, $6, $7, $8) RETURNING id`, h.table("schemagate_history")),
		o.RunID, m.Key(), m.Name, m.Checksum, m.NoTransaction, o.Holder, o.PR, o.Commit, m.UpChecksum(), m.StatementsChecksum()).Scan(&id)
	if err != nil {
		return 0, h.fail(ctx, conn, err, "record migration "+m.ID()+" as running", "RowExclusiveLock", "schemagate_history")
	}
	return id, nil
}

// started records that the non-transactional up of history row id, of migration label, starts its
// statement i (from 0): every statement before it has completed, and a run that dies leaves that in
// history for the person who must finish or undo the migration (see halfway). It runs on a connection
// of schemagate's own (the deploy lock's), so that neither a role nor a setting the migration's
// statements SET affects it, and only when that session is outside a transaction block.
func (h history) started(ctx context.Context, conn *pgx.Conn, id int64, label string, i int) error {
	_, err := conn.Exec(context.WithoutCancel(ctx), fmt.Sprintf(`UPDATE %s SET statement = $2 WHERE id = $1`, h.table("schemagate_history")),
		pgx.QueryExecModeSimpleProtocol, id, i)
	if err != nil {
		return h.fail(ctx, conn, err, "record the statement "+label+" runs", "RowExclusiveLock", "schemagate_history")
	}
	return nil
}

// halfApplied records history row id, of the non-transactional migration label, as half applied.
func (h history) halfApplied(ctx context.Context, conn *pgx.Conn, id int64, label string) error {
	_, err := conn.Exec(context.WithoutCancel(ctx), fmt.Sprintf(`UPDATE %s SET status = $2 WHERE id = $1`, h.table("schemagate_history")),
		pgx.QueryExecModeSimpleProtocol, id, StatusHalfApplied)
	if err != nil {
		return h.fail(ctx, conn, err, "record migration "+label+" as "+StatusHalfApplied, "RowExclusiveLock", "schemagate_history")
	}
	return nil
}

// execer is a connection or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// mark sets the status of history row id, of migration label; applied also stamps applied_at. An
// error text given is recorded; without one the row keeps the error it has (a failed migration the
// rollback then restored or rolled back still says why it failed), but for applied. It, and
// the other writes of history's bookkeeping, use no cached prepared statement: a statement that a signal
// cancelled, or a restore that recreated what one referred to, leaves the connection's cache out of step
// with the server ("prepared statement ... already exists"), and a record that then fails leaves history
// saying what the database does not hold.
func (h history) mark(ctx context.Context, x execer, id int64, label, status string, d time.Duration, attempts int, errText string) error {
	_, err := x.Exec(context.WithoutCancel(ctx), fmt.Sprintf(`UPDATE %s SET status = $2,
		applied_at = CASE WHEN $2 = 'applied' THEN now() ELSE applied_at END,
		duration_ms = coalesce($3, duration_ms), attempts = coalesce($4, attempts),
		error = CASE WHEN $5 <> '' THEN $5 WHEN $2 = 'applied' THEN NULL ELSE error END
		WHERE id = $1`, h.table("schemagate_history")), pgx.QueryExecModeSimpleProtocol, id, status, nullInt(d.Milliseconds()), nullInt(int64(attempts)), errText)
	if err != nil {
		return h.fail(ctx, x, err, "record migration "+label+" as "+status, "RowExclusiveLock", "schemagate_history")
	}
	return nil
}

// status reads the status of history row id, of migration label.
func (h history) status(ctx context.Context, conn *pgx.Conn, id int64, label string) (string, error) {
	var status string
	err := conn.QueryRow(ctx, fmt.Sprintf("SELECT status FROM %s WHERE id = $1", h.table("schemagate_history")), id).Scan(&status)
	if err != nil {
		return "", h.fail(ctx, conn, err, "read the history row of "+label, "AccessShareLock", "schemagate_history")
	}
	return status, nil
}

// settle records history row id, of migration label, as failed if it still says running and its
// migration ran in a transaction: that row commits with the migration, as applied, so one that still
// says running is of a transaction that did not commit. A row the migration's own transaction still
// holds (an old session's COMMIT under way) is waited for, at most lock_timeout, and then left alone
// unless it says running still.
func (h history) settle(ctx context.Context, conn *pgx.Conn, id int64, label string, d time.Duration, attempts int, errText string) error {
	_, err := conn.Exec(context.WithoutCancel(ctx), fmt.Sprintf(`UPDATE %s SET status = 'failed',
		duration_ms = coalesce($2, duration_ms), attempts = coalesce($3, attempts), error = coalesce(nullif($4, ''), error)
		WHERE id = $1 AND status = 'running' AND NOT no_transaction`, h.table("schemagate_history")),
		pgx.QueryExecModeSimpleProtocol, id, nullInt(d.Milliseconds()), nullInt(int64(attempts)), errText)
	if err != nil {
		return h.fail(ctx, conn, err, "record migration "+label+" as failed", "RowExclusiveLock", "schemagate_history")
	}
	return nil
}

func nullInt(n int64) *int64 {
	if n <= 0 {
		return nil
	}
	return &n
}

// runMigrations returns the history rows of a run that may have changed the database: applied ones,
// and non-transactional ones left running. Newest first.
func (h history) runMigrations(ctx context.Context, conn *pgx.Conn, runID string) ([]runMigration, error) {
	// Rows the run imported from another tool's history were applied by that tool, not by the run.
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT id, `+legacyVersion+`, status, no_transaction, checksum, coalesce(statement, -1) FROM %s
		WHERE run_id = $1 AND coalesce(applied_by, '') NOT LIKE $2 ORDER BY id DESC`, h.table("schemagate_history")), runID, importedBy+"%")
	if err != nil {
		return nil, h.fail(ctx, conn, err, "read migrations of run "+runID, "AccessShareLock", "schemagate_history")
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[runMigration])
	if err != nil {
		return nil, h.fail(ctx, conn, err, "read migrations of run "+runID, "AccessShareLock", "schemagate_history")
	}
	return out, nil
}

type runMigration struct {
	ID            int64
	Version       string
	Status        string
	NoTransaction bool
	Checksum      string
	// Statement is the statement of the non-transactional up that had started when the run last
	// recorded it (from 0; see history.started), -1 when none was recorded.
	Statement int
}
