package deploy

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/migrate"
)

// Adopting a database another tool migrated.
//
// The first deploy of a database (schemagate_history has no rows) reads what the folder's own tool
// recorded as applied: golang-migrate's schema_migrations, goose's goose_db_version, dbmate's
// schema_migrations, Flyway's flyway_schema_history, sql-migrate's gorp_migrations, sqitch's
// sqitch.changes or Atlas's atlas_schema_revisions. Those migrations are recorded in schemagate_history
// as applied (by the run, with applied_by naming the source) and only the rest is deployed. The tool's
// table is left as it is: from then on schemagate_history is the record.
//
// Every later deploy reads the tool's table again (one query): a migration it records as applied that
// schemagate_history has no row of was applied by the tool after the import, and deploying it again
// would run it twice (an INSERT's rows doubled). The deploy blocks then, before it changes anything,
// unless told to record those migrations as imported too (Options.ImportToolApplied, deploy
// --import-tool-applied).
//
// What cannot be trusted blocks the deploy instead: a dirty golang-migrate version, a failed Flyway
// migration, a partly applied Atlas version, a table of that name that is not the tool's, an applied
// version the folder does not have (drift, as for schemagate's own history).

// Imported describes the history a deploy took over from another tool.
type Imported struct {
	Tool  string `json:"tool"`
	Table string `json:"table"`
	// Versions are the IDs of the migrations recorded as applied, in folder order.
	Versions []string `json:"versions"`
	rows     []importedRow
}

type importedRow struct {
	m  *migrate.Migration
	at *time.Time
}

// ImportNone turns the import off (environment setting import_history).
const ImportNone = "none"

// importSources names each format's tool and the table it keeps its history in.
var importSources = map[migrate.Format]struct{ tool, table string }{
	migrate.FormatGolangMigrate: {"golang-migrate", "schema_migrations"},
	migrate.FormatGoose:         {"goose", "goose_db_version"},
	migrate.FormatDbmate:        {"dbmate", "schema_migrations"},
	migrate.FormatFlyway:        {"Flyway", "flyway_schema_history"},
	migrate.FormatSQLMigrate:    {"sql-migrate", "gorp_migrations"},
	migrate.FormatSqitch:        {"sqitch", "sqitch.changes"},
	migrate.FormatAtlas:         {"Atlas", "atlas_schema_revisions.atlas_schema_revisions"},
}

// importer reads one tool's history table.
type importer struct {
	conn  *pgx.Conn
	set   *migrate.Set
	table string // as PostgreSQL prints it (quoted where needed), safe to put in a query
	res   *Imported
	drift []string
	notes []string
	done  map[*migrate.Migration]*time.Time
	// accept takes an applied version the folder lacks as pruned (import_missing: accept): a note, not
	// drift.
	accept bool
}

// ImportAccept is the import_missing setting that accepts applied versions the folder no longer has.
const ImportAccept = "accept"

// readImport reads the history the folder's tool left in the database. setting is the environment's
// import_history: "" or "auto" for the tool's usual table, "none", or a table name. It returns nil
// when there is nothing to import; drift lists applied versions the folder lacks, notes what the
// report should say. after says that schemagate_history has rows already: a table that is missing or
// not the tool's then means no more than that the tool never kept its history there, and is no block.
func readImport(ctx context.Context, conn *pgx.Conn, set *migrate.Set, setting, missing string, lockTimeout time.Duration, after bool) (res *Imported, drift, notes []string, err error) {
	src, known := importSources[set.Format]
	if setting == ImportNone || !known {
		return nil, nil, nil, nil
	}
	name, explicit := src.table, false
	if setting != "" && setting != "auto" {
		name, explicit = setting, true
	}
	var table *string
	if set.Format == migrate.FormatFlyway && !explicit {
		// Flyway keeps its table in its default schema (flyway.defaultSchema, else the first of
		// flyway.schemas), which need not be on the search path of this connection (a dry run's): look
		// there, then in public, and name it schema-qualified.
		var schemas []string
		if set.SearchPath != "" {
			schemas = append(schemas, unquoteIdent(set.SearchPath))
		}
		err := conn.QueryRow(ctx, `SELECT format('%I.%I', n.nspname, c.relname)
			  FROM unnest($1::text[] || ARRAY[current_schema()::text, 'public']) WITH ORDINALITY s(name, i)
			  JOIN pg_namespace n ON n.nspname = s.name
			  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'f')
			 ORDER BY s.i LIMIT 1`, schemas, name).Scan(&table)
		if err != nil && err != pgx.ErrNoRows {
			return nil, nil, nil, fmt.Errorf("look for %s's history table %s: %w", src.tool, name, err)
		}
	} else if err := conn.QueryRow(ctx, "SELECT to_regclass($1)::text", name).Scan(&table); err != nil {
		return nil, nil, nil, fmt.Errorf("look for %s's history table %s: %w", src.tool, name, err)
	}
	if table == nil {
		if explicit && !after {
			return nil, nil, nil, &Blocked{Reason: fmt.Sprintf("import_history names %s, which does not exist in the database", name),
				Hint: "name the table " + src.tool + " keeps its history in, or set import_history: none"}
		}
		return nil, nil, nil, nil
	}
	im := &importer{conn: conn, set: set, table: *table, res: &Imported{Tool: src.tool, Table: *table}, done: map[*migrate.Migration]*time.Time{}, accept: missing == ImportAccept}
	switch set.Format {
	case migrate.FormatGolangMigrate:
		err = im.golangMigrate(ctx)
	case migrate.FormatGoose:
		err = im.goose(ctx)
	case migrate.FormatDbmate:
		err = im.byVersion(ctx, "SELECT version::text, NULL::timestamptz FROM "+im.table+" ORDER BY version", exactVersion)
	case migrate.FormatFlyway:
		err = im.flyway(ctx)
	case migrate.FormatSQLMigrate:
		err = im.byVersion(ctx, "SELECT id, applied_at FROM "+im.table+" ORDER BY applied_at, id", fileName)
	case migrate.FormatSqitch:
		err = im.sqitch(ctx)
	case migrate.FormatAtlas:
		err = im.atlas(ctx)
	}
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "42703" || pe.Code == "42804" || pe.Code == "42883") {
			if after {
				return nil, nil, nil, nil
			}
			return nil, nil, nil, &Blocked{Reason: fmt.Sprintf("%s is not %s's history table: %s", im.table, src.tool, pe.Message),
				Hint: "name the right table in import_history, or set import_history: none"}
		}
		var b *Blocked
		if errors.As(err, &b) {
			return nil, nil, nil, err
		}
		if isLockTimeout(err) {
			return nil, nil, nil, lockWait(ctx, conn, err, lockTimeout, fmt.Sprintf("read %s's history in %s", src.tool, im.table), "AccessShareLock",
				[]string{im.table}, []string{im.table})
		}
		return nil, nil, nil, fmt.Errorf("read %s's history in %s: %w", src.tool, im.table, err)
	}
	for _, m := range set.Migrations {
		if at, ok := im.done[m]; ok {
			im.res.rows = append(im.res.rows, importedRow{m: m, at: at})
			im.res.Versions = append(im.res.Versions, m.ID())
		}
	}
	if len(im.res.rows) == 0 && len(im.drift) == 0 {
		return nil, nil, im.notes, nil
	}
	return im.res, im.drift, im.notes, nil
}

// appliedSince reads the folder's tool's history on a deploy after the first (latest, schemagate_history's
// rows, is not empty) and returns what the tool records as applied that schemagate_history has no row
// of, whatever its status: the tool applied it after schemagate took the database over. A migration
// schemagate rolled back keeps its row, so the tool's stale record of it (the import left the tool's
// table as it was) is no such migration. nil when there is none, or no table of the tool.
func appliedSince(ctx context.Context, conn *pgx.Conn, set *migrate.Set, setting string, lockTimeout time.Duration, latest []appliedRow) (*Imported, error) {
	im, _, _, err := readImport(ctx, conn, set, setting, ImportAccept, lockTimeout, true)
	if err != nil || im == nil {
		return nil, err
	}
	known, repeatables := map[string]bool{}, map[string]bool{}
	for _, r := range latest {
		known[r.Version] = true
		if r.Version == "" || strings.HasPrefix(r.Version, "R__") {
			repeatables[r.Name] = true // earlier releases recorded a repeatable migration under ""
		}
	}
	since := &Imported{Tool: im.Tool, Table: im.Table}
	for _, r := range im.rows {
		if known[r.m.Key()] || (r.m.Repeatable && repeatables[r.m.Name]) {
			continue
		}
		since.rows = append(since.rows, r)
		since.Versions = append(since.Versions, r.m.ID())
	}
	if len(since.rows) == 0 {
		return nil, nil
	}
	return since, nil
}

// appliedSinceBlocked is the block of a deploy that found migrations the tool applied after the import.
func appliedSinceBlocked(since *Imported) *Blocked {
	them := "it"
	if len(since.Versions) > 1 {
		them = "them"
	}
	return &Blocked{Reason: fmt.Sprintf("%s's %s records %s as applied, which schemagate_history does not: %s applied %s after schemagate took this database over, and the deploy would run %s again",
		since.Tool, since.Table, strings.Join(since.Versions, ", "), since.Tool, them, them),
		Hint: fmt.Sprintf("stop running %s against this database (schemagate_history is its record now); check that the database has what %s applied, "+
			"then deploy with --import-tool-applied, which records %s as imported from %s and deploys the rest; nothing was changed", since.Tool, since.Tool, them, since.Table)}
}

// applied records m as applied at at (nil: unknown).
func (im *importer) applied(m *migrate.Migration, at *time.Time) {
	im.done[m] = at
}

// record marks m, the folder's migration for an applied version, as applied at at; a nil m means the
// folder does not have the version.
func (im *importer) record(m *migrate.Migration, version string, at *time.Time) {
	if m == nil {
		im.missing(version)
		return
	}
	im.applied(m, at)
}

// missing records an applied version the folder does not have.
func (im *importer) missing(version string) {
	im.gone(fmt.Sprintf("version %s is applied (%s's %s) but missing from the migration folder", version, im.res.Tool, im.table))
}

// gone records what, applied, the folder no longer has: drift, or with import_missing: accept a note.
func (im *importer) gone(what string) {
	if im.accept {
		im.notes = append(im.notes, what+": taken as deleted on purpose (import_missing: accept), so not recorded in schemagate_history")
		return
	}
	im.drift = append(im.drift, what)
}

// missingHint is the hint of a first deploy blocked on applied versions the folder lacks: what the
// folder's tool does with them, that a wrong folder looks the same, and how to accept them.
func missingHint(format migrate.Format) string {
	tool := map[migrate.Format]string{
		migrate.FormatGoose:      "goose up goes on without them (it runs only the files goose_db_version lacks)",
		migrate.FormatDbmate:     "dbmate up goes on without them (it runs only the files schema_migrations lacks)",
		migrate.FormatFlyway:     "Flyway's validate fails on them too, unless ignoreMigrationPatterns has *:missing",
		migrate.FormatSQLMigrate: "sql-migrate up stops on them too (\"unknown migration in database\"), unless ignoreunknown is set",
		migrate.FormatSqitch:     "sqitch refuses a plan that lost a deployed change too",
	}[format]
	if tool != "" {
		tool += "; "
	}
	return tool + "check that the deploy reads the right folder (--dir, dir in schemagate.yml, the commit deployed): a wrong one looks the same; " +
		"if those migrations were deleted on purpose (old ones pruned), set import_missing: accept in the environment, which notes them and deploys the rest"
}

// match finds the folder's migration for a recorded version.
type match func(set *migrate.Set, version string) *migrate.Migration

func exactVersion(set *migrate.Set, version string) *migrate.Migration { return set.Find(version) }

func numericVersion(set *migrate.Set, version string) *migrate.Migration {
	for _, m := range set.Migrations {
		if migrate.CompareNumbers(m.Version, version) == 0 {
			return m
		}
	}
	return nil
}

func fileName(set *migrate.Set, id string) *migrate.Migration {
	for _, m := range set.Migrations {
		if m.Up != nil && path.Base(m.Up.File) == id {
			return m
		}
	}
	return nil
}

// byVersion imports the rows of query (version, applied at), one per applied migration.
func (im *importer) byVersion(ctx context.Context, query string, find match) error {
	rows, err := im.conn.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var at *time.Time
		if err := rows.Scan(&v, &at); err != nil {
			return err
		}
		im.record(find(im.set, v), v, at)
	}
	return rows.Err()
}

// golangMigrate reads schema_migrations (version bigint, dirty boolean): one row, the version the
// database is at; every migration up to it is applied.
func (im *importer) golangMigrate(ctx context.Context) error {
	var version int64
	var dirty bool
	err := im.conn.QueryRow(ctx, "SELECT version, dirty FROM "+im.table+" LIMIT 1").Scan(&version, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if dirty {
		return &Blocked{Reason: fmt.Sprintf("golang-migrate's %s marks version %d dirty: that migration failed part way", im.table, version),
			Hint: "repair the database by hand, run migrate force with the last version that applied completely, then deploy again"}
	}
	if version < 0 {
		return nil
	}
	v := fmt.Sprint(version)
	if numericVersion(im.set, v) == nil {
		im.drift = append(im.drift, fmt.Sprintf("golang-migrate's %s is at version %s, which the migration folder does not have", im.table, v))
		return nil
	}
	for _, m := range im.set.Migrations {
		if migrate.CompareNumbers(m.Version, v) <= 0 {
			im.applied(m, nil)
		}
	}
	return nil
}

// goose reads goose_db_version: a row per up and per down (is_applied false, in goose before v3); the
// latest row of a version says whether it is applied. Version 0 is goose's own first row.
func (im *importer) goose(ctx context.Context) error {
	return im.byVersion(ctx, `SELECT version_id::text, tstamp::timestamptz FROM (
		SELECT DISTINCT ON (version_id) version_id, is_applied, tstamp FROM `+im.table+` ORDER BY version_id, id DESC) x
		WHERE is_applied AND version_id > 0 ORDER BY version_id`, numericVersion)
}

// sqitch reads sqitch.changes: one row per deployed change of the plan's project, by name (a reworked
// change is deployed once per rework: the first that many changes of that name in the plan are applied).
func (im *importer) sqitch(ctx context.Context) error {
	// One registry may hold several projects' changes: read this plan's (all of them when it names none).
	rows, err := im.conn.Query(ctx, `SELECT change, count(*), max(committed_at) FROM `+im.table+`
		WHERE $1 = '' OR project = $1 GROUP BY change ORDER BY min(committed_at)`, im.set.Project)
	if err != nil {
		return err
	}
	type deployed struct {
		n  int64
		at *time.Time
	}
	byName := map[string]deployed{}
	var names []string
	for rows.Next() {
		var name string
		var d deployed
		if err := rows.Scan(&name, &d.n, &d.at); err != nil {
			rows.Close()
			return err
		}
		byName[name] = d
		names = append(names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	seen := map[string]int64{}
	for _, m := range im.set.Migrations {
		if d, ok := byName[m.Name]; ok && seen[m.Name] < d.n {
			seen[m.Name]++
			im.applied(m, d.at)
		}
	}
	for _, name := range names {
		if seen[name] < byName[name].n {
			im.gone(fmt.Sprintf("change %s is deployed (sqitch's %s) but missing from sqitch.plan", name, im.table))
		}
	}
	return nil
}

// atlas reads atlas_schema_revisions: a baseline revision (type bit 1) stands for every version up
// to it; others are applied when all their statements were (applied = total, no error).
func (im *importer) atlas(ctx context.Context) error {
	rows, err := im.conn.Query(ctx, `SELECT version, type, applied, total, coalesce(error, ''), executed_at FROM `+im.table+` ORDER BY version`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var version, errText string
		var typ, applied, total int64
		var at *time.Time
		if err := rows.Scan(&version, &typ, &applied, &total, &errText, &at); err != nil {
			return err
		}
		switch {
		case typ&1 != 0:
			for _, m := range im.set.Migrations {
				if migrate.CompareNumbers(m.Version, version) <= 0 {
					im.applied(m, nil)
				}
			}
			if numericVersion(im.set, version) == nil {
				im.missing(version)
			}
		case applied < total || errText != "":
			return &Blocked{Reason: fmt.Sprintf("Atlas's %s records version %s as partly applied (%d of %d statements)", im.table, version, applied, total),
				Hint: "finish or undo that migration by hand and record it with atlas migrate set, then deploy again"}
		default:
			im.record(numericVersion(im.set, version), version, at)
		}
	}
	return rows.Err()
}

// flyway reads flyway_schema_history in installed_rank order; the last row of a version decides. A
// baseline stands for every version up to it, an undo takes its version back, a failed row blocks.
// Checksums are compared with Flyway's own (see flywayChecksum): a repeatable migration whose file
// changed since is deployed again, as Flyway would; a changed versioned one is reported.
func (im *importer) flyway(ctx context.Context) error {
	rows, err := im.conn.Query(ctx, `SELECT installed_rank, coalesce(version, ''), description, type, checksum, success, installed_on::timestamptz
		FROM `+im.table+` ORDER BY installed_rank`)
	if err != nil {
		return err
	}
	defer rows.Close()
	type state struct {
		m        *migrate.Migration
		at       *time.Time
		checksum *int32
		applied  bool
	}
	var states []*state
	byMigration := map[*migrate.Migration]*state{}
	for rows.Next() {
		var rank int64
		var version, desc, typ string
		var checksum *int32
		var success bool
		var at *time.Time
		if err := rows.Scan(&rank, &version, &desc, &typ, &checksum, &success, &at); err != nil {
			return err
		}
		if typ == "SCHEMA" || typ == "DELETE" {
			continue
		}
		if !success {
			what := "V" + version
			if version == "" {
				what = "R__" + desc
			}
			return &Blocked{Reason: fmt.Sprintf("Flyway's %s records %s as failed (installed_rank %d)", im.table, what, rank),
				Hint: "repair the database by hand and run flyway repair, then deploy again"}
		}
		if strings.Contains(typ, "BASELINE") {
			for _, m := range im.set.Migrations {
				if !m.Repeatable && migrate.CompareFlywayVersions(m.Version, version) <= 0 {
					if s := byMigration[m]; s != nil {
						s.applied = true
					} else {
						s = &state{m: m, applied: true}
						byMigration[m], states = s, append(states, s)
					}
				}
			}
			continue
		}
		var m *migrate.Migration
		for _, c := range im.set.Migrations {
			// Flyway's description is the file's, underscores read as spaces.
			if (version == "" && c.Repeatable && strings.ReplaceAll(c.Name, "_", " ") == desc) || (version != "" && !c.Repeatable && migrate.CompareFlywayVersions(c.Version, version) == 0) {
				m = c
				break
			}
		}
		if m == nil {
			if !strings.HasPrefix(typ, "UNDO") && version != "" {
				im.missing(version)
			}
			continue
		}
		s := byMigration[m]
		if s == nil {
			s = &state{m: m}
			byMigration[m], states = s, append(states, s)
		}
		s.applied, s.at, s.checksum = !strings.HasPrefix(typ, "UNDO"), at, checksum
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range states {
		if !s.applied {
			continue
		}
		if s.checksum != nil && s.m.Up != nil && *s.checksum != flywayChecksum(flywaySource(s.m.Up)) {
			if s.m.Repeatable {
				im.notes = append(im.notes, fmt.Sprintf("repeatable migration %s changed since Flyway last applied it: it is deployed again", s.m.ID()))
				continue
			}
			im.notes = append(im.notes, fmt.Sprintf("migration %s differs from the file Flyway applied (checksum %d, recorded %d): imported as applied; check that the change was intended",
				s.m.ID(), flywayChecksum(flywaySource(s.m.Up)), *s.checksum))
		}
		im.applied(s.m, s.at)
	}
	return nil
}

// flywaySource is the text Flyway computes a script's checksum from: the file before placeholders.
func flywaySource(s *migrate.Script) string {
	if s.Source != "" {
		return s.Source
	}
	return s.SQL
}

// flywayChecksum is Flyway's script checksum (see migrate.FlywayChecksum).
func flywayChecksum(text string) int32 { return migrate.FlywayChecksum(text) }

// importedBy starts the applied_by of an imported row: such a row is the other tool's work, which no
// rollback or recovery of the importing run may undo.
const importedBy = "imported from "

// importRows records the imported migrations under this run, in one transaction.
func (h history) importRows(ctx context.Context, conn *pgx.Conn, o *Options, im *Imported) error {
	by := fmt.Sprintf(importedBy+"%s (%s)", im.Tool, im.Table)
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, r := range im.rows {
			_, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (run_id, version, name, checksum, up_checksum, statements_checksum, status, no_transaction, applied_at, applied_by, pr, commit)
				VALUES ($1, $2, $3, $4, $10, nullif($11, ''), 'applied', $5, $6, $7, $8, $9)`, h.table("schemagate_history")),
				o.RunID, r.m.Key(), r.m.Name, r.m.Checksum, r.m.NoTransaction, r.at, by, o.PR, o.Commit, r.m.UpChecksum(), r.m.StatementsChecksum())
			if err != nil {
				return h.fail(ctx, tx, err, "record imported migration "+r.m.ID(), "RowExclusiveLock", "schemagate_history")
			}
		}
		return nil
	})
	return explain(ctx, conn, err)
}

// unquoteIdent turns a quoted identifier ("app", as migrate.Set.SearchPath holds it) into the name.
func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}
