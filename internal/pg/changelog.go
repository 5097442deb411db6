package pg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The change log (SCHEMAGATE_INSPECT=log; not the default).
//
// The probe of an incremental read (probeSQL) finds the catalog rows written since the mark by their
// xmin, which no index covers: it walks the user range of every catalog, a cost that grows with the
// schema (about 3 ms at 400 tables) and is paid three times per migration, for a change of one column.
// On a server where the rehearsal is a superuser (its own throwaway server), TrackChanges installs event
// triggers that write what each DDL command created, altered or dropped (classid:objid, from
// pg_event_trigger_ddl_commands and pg_event_trigger_dropped_objects) to a setting of the session,
// changeLog. Each read starts the log afresh under a token that its Mark keeps; the next read takes
// the log's entries as its seeds (loggedProbeSQL) instead of scanning, when the log still starts with the
// mark's token. The setting is transactional as the catalog is: a rolled-back transaction or savepoint
// takes its entries back with its changes, and puts back the token of the mark the catalog returned to.
//
// The locks the session holds and the captured ones still count as before (drops, and what a command
// changes beside its own object, lock it). The log cannot vouch, and the read falls back to the scan,
// when it does not start with the mark's token (another session, a reconnect, a read that did not start
// it), when it overflowed (a migration of thousands of DDL commands), when an entry names no object (a
// command that reports none), or when the event triggers were changed since the mark. It asks for a
// whole read after GRANT, REVOKE and DROP OWNED (privileges of objects it does not name, columns' too),
// and when catalog rows were written between DDL commands (REASSIGN OWNED, pg_import_system_collations,
// an UPDATE of pg_attribute in a function), which the triggers tell by the session's count of catalog
// writes (see catalogWrites). Schema, extension and other shared-vocabulary changes are whole reads either
// way.
//
// Each migration starts from a reset session (ResetSession), which would clear the log: ResetSQL resets
// the session and keeps it.
//
// Measured on a 500-migration round trip, that last check makes the triggers cost about what the cheaper
// reads save, so the scan stays the default; the log catches two changes the scan misses (a catalog
// UPDATE or a column GRANT inside an existing function).

// changeLog is the session setting the event triggers write: "token|" then " classid:objid" entries; a
// trailing " !" says it overflowed, " *" that the next read must be whole.
const changeLog = "schemagate.ddl"

// changeLogLimit is how long the log grows (about a thousand entries) before it gives up: appending to a
// setting copies it, so a migration of many thousands of statements would pay quadratically.
const changeLogLimit = 16000

// writesLog is the session setting that holds how many catalog rows the session had written when the
// transaction began (BeginSQL) or the last DDL command ended: "<transaction_timestamp()>/<count>" (see
// catalogWrites).
const writesLog = "schemagate.ddl_writes"

// loggedCatalogs are the system catalogs whose rows make up what the reads cover, with their OIDs, which
// PostgreSQL fixes in its catalog headers (TestLoggedCatalogOIDs checks them on the server): written as
// numbers, the count costs no name lookups in a query parsed each time (BeginSQL).
var loggedCatalogs = map[string]uint32{"pg_class": 1259, "pg_attribute": 1249, "pg_attrdef": 2604, "pg_constraint": 2606,
	"pg_index": 2610, "pg_trigger": 2620, "pg_policy": 3256, "pg_rewrite": 2618, "pg_proc": 1255, "pg_type": 1247,
	"pg_enum": 3501, "pg_range": 3541, "pg_aggregate": 2600, "pg_namespace": 2615, "pg_description": 2609,
	"pg_collation": 3456, "pg_sequence": 2224, "pg_inherits": 2611, "pg_partitioned_table": 3350,
	"pg_statistic_ext": 3381, "pg_extension": 3079, "pg_default_acl": 826,
	"pg_ts_config": 3602, "pg_ts_config_map": 3603, "pg_ts_dict": 3600,
	"pg_publication": 6104, "pg_publication_rel": 6106, "pg_publication_namespace": 6237}

// catalogWrites is an expression: the rows of loggedCatalogs the session has inserted, updated or deleted
// and not yet reported to the statistics system. The server reports them only when the session is idle
// outside a transaction block, so inside one the count only grows: by what the DDL commands write, and by
// any other write, which is what the log must not miss. (A rolled-back savepoint's writes stay counted
// while the setting goes back: the read is then whole, which is safe.)
var catalogWrites = func() string {
	oids := make([]string, 0, len(loggedCatalogs))
	for _, oid := range loggedCatalogs {
		oids = append(oids, strconv.Itoa(int(oid)))
	}
	slices.Sort(oids)
	return `(SELECT coalesce(sum(pg_stat_get_xact_tuples_inserted(c) + pg_stat_get_xact_tuples_updated(c)
    + pg_stat_get_xact_tuples_deleted(c)), 0)::int8 FROM unnest('{` + strings.Join(oids, ",") + `}'::oid[]) c)`
}()

// expectedWrites is an expression: what catalogWrites should be if nothing but logged DDL commands wrote
// the catalogs since the transaction began: the count noted then or when the last command ended; NULL
// when nothing was noted in this transaction (one BeginSQL did not start).
var expectedWrites = `(SELECT CASE WHEN split_part(w, '/', 1) = transaction_timestamp()::text THEN split_part(w, '/', 2)::int8 END
    FROM (SELECT coalesce(current_setting('` + writesLog + `', true), '') AS w) w)`

// unloggedWritesSQL is a row of locksSQL's shape when the transaction wrote catalogs outside the DDL
// commands the log saw (REASSIGN OWNED, pg_import_system_collations, an UPDATE of pg_attribute in a
// function): the class 0 is no seed, so the read is whole. Nothing where no log is kept, and there the
// count is not taken (CASE decides first): every Locks and probe query carries it.
var unloggedWritesSQL = `SELECT 0::oid, 0::oid, 'catalog rows written outside a DDL command'
WHERE CASE WHEN coalesce(current_setting('` + writesLog + `', true), '') = '' THEN false
  ELSE ` + catalogWrites + ` <> ` + expectedWrites + ` END`

// trackChangesSQL installs the log: functions in pg_catalog, which the catalog reads leave out, and event
// triggers enabled ALWAYS, which fire under session_replication_role = replica too. Besides the objects,
// the log takes a mark that sends the next read to a whole read (" *") when a command changed privileges
// it does not name (GRANT, REVOKE, DROP OWNED: column privileges too), or when catalog rows were written
// between two DDL commands; " 0:0", which sends it to the scan, when a command reported no object.
//
// The functions run in the migration's session, whose search path may put a schema of the migration's
// before pg_catalog (SET search_path = public, pg_catalog, then a public.strpos(text, text)): they run
// under pg_catalog's own (SET search_path), the reset function, which must leave the search path it
// resets, with its calls and operators qualified instead.
var trackChangesSQL = `
CREATE OR REPLACE FUNCTION pg_catalog.schemagate_log_start() RETURNS event_trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  v text := current_setting('` + changeLog + `', true);
BEGIN
  IF v IS NULL OR strpos(v, '|') = 0 OR right(v, 1) IN ('!', '*') THEN
    RETURN;
  END IF;
  IF ` + catalogWrites + ` <> ` + expectedWrites + ` THEN -- NULL, not true, without a note of this transaction
    PERFORM set_config('` + changeLog + `', v || ' *', false);
  END IF;
END $f$;
` + resetFunction + logFunction("schemagate_log_ddl", `  SELECT string_agg(' ' || coalesce(classid::int8, 0) || ':' || coalesce(objid::int8, 0), ''), count(*) INTO e, n
    FROM pg_event_trigger_ddl_commands();
  -- A DROP reports its objects to schemagate_log_drop. GRANT and REVOKE name no object, and with DROP
  -- OWNED may change column privileges, which no scan finds: a whole read. A command that reports no
  -- object (CREATE ... IF NOT EXISTS of an existing one) may have changed something all the same: the scan.
  IF tg_tag IN ('GRANT', 'REVOKE', 'DROP OWNED') THEN
    e := ' *';
  ELSIF n = 0 AND tg_tag NOT LIKE 'DROP %' THEN
    e := coalesce(e, '') || ' 0:0';
  END IF;`) + logFunction("schemagate_log_drop", `  SELECT string_agg(' ' || classid::int8 || ':' || objid::int8, '') INTO e FROM pg_event_trigger_dropped_objects();`) + `
DO $d$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'schemagate_log_start') THEN
    CREATE EVENT TRIGGER schemagate_log_start ON ddl_command_start EXECUTE PROCEDURE pg_catalog.schemagate_log_start();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'schemagate_log_ddl') THEN
    CREATE EVENT TRIGGER schemagate_log_ddl ON ddl_command_end EXECUTE PROCEDURE pg_catalog.schemagate_log_ddl();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'schemagate_log_drop') THEN
    CREATE EVENT TRIGGER schemagate_log_drop ON sql_drop EXECUTE PROCEDURE pg_catalog.schemagate_log_drop();
  END IF;
  ALTER EVENT TRIGGER schemagate_log_start ENABLE ALWAYS;
  ALTER EVENT TRIGGER schemagate_log_ddl ENABLE ALWAYS;
  ALTER EVENT TRIGGER schemagate_log_drop ENABLE ALWAYS;
END $d$`

// logFunction is an event trigger function that notes the session's catalog writes so far (see
// writesLog) and appends to the log what body puts in e, unless the log has given up; past
// changeLogLimit it gives up (" !").
func logFunction(name, body string) string {
	return `CREATE OR REPLACE FUNCTION pg_catalog.` + name + `() RETURNS event_trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  v text := current_setting('` + changeLog + `', true);
  e text;
  n int;
BEGIN
  IF v IS NULL OR strpos(v, '|') = 0 THEN
    RETURN;
  END IF;
  PERFORM set_config('` + writesLog + `', transaction_timestamp()::text || '/' || ` + catalogWrites + `, false);
  IF right(v, 1) IN ('!', '*') THEN
    RETURN;
  END IF;
` + body + `
  IF length(v) + length(coalesce(e, '')) > ` + strconv.Itoa(changeLogLimit) + ` THEN
    e := ' !';
  END IF;
  PERFORM set_config('` + changeLog + `', v || coalesce(e, ''), false);
END $f$;
`
}

// TrackChanges has the session's later reads find what changed in the change log where they can (see
// changeLog), when the session's role is a superuser: the rehearsal's throwaway server. It installs event
// triggers in the database, so it is only for a database that is thrown away. Elsewhere it does nothing,
// and reads scan the catalogs as before. Call it before the first read; after it, reset sessions with
// ResetSQL.
func (in *Inspector) TrackChanges(ctx context.Context, conn *pgx.Conn) error {
	if in.Mode == InspectFull {
		return nil
	}
	var super bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user").Scan(&super); err != nil {
		return fmt.Errorf("install the change log: %w", err)
	}
	if !super {
		return nil
	}
	if err := execSimple(ctx, conn, trackChangesSQL); err != nil {
		return fmt.Errorf("install the change log: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	in.tracking, in.nonce = true, hex.EncodeToString(b)
	return nil
}

// ResetSQL is ResetSession for the sessions an Inspector reads: once TrackChanges has installed the
// change log, one that keeps it (pg_catalog.schemagate_reset, a function: its plan is kept, where a DO
// block is compiled again each time, which cost half a millisecond). Every read notes whether the function
// is still there (state.Tracked): a migration that drops it (DROP OWNED BY the rehearsal's role would)
// ends the log, and resets go back to ResetSession.
func (in *Inspector) ResetSQL() string {
	if in.tracking {
		return "SELECT pg_catalog.schemagate_reset()"
	}
	return ResetSession
}

// resetFunction is ResetSession, keeping the log and the count of catalog writes. Its types, calls and
// operators are pg_catalog's by name: it runs under the migration's search path, and RESET ALL sets a new
// session's, which a migration may have put a schema of its own in front of (see trackChangesSQL). A SET
// clause would put the path RESET ALL resets back as the function returns.
var resetFunction = `CREATE OR REPLACE FUNCTION pg_catalog.schemagate_reset() RETURNS void LANGUAGE plpgsql AS $r$
DECLARE
  v pg_catalog.text := pg_catalog.current_setting('` + changeLog + `', true);
  w pg_catalog.text := pg_catalog.current_setting('` + writesLog + `', true);
BEGIN
  ` + strings.ReplaceAll(ResetSession, "; ", ";\n  ") + `;
  IF v OPERATOR(pg_catalog.<>) '' THEN
    PERFORM pg_catalog.set_config('` + changeLog + `', v, false);
  END IF;
  IF w OPERATOR(pg_catalog.<>) '' THEN
    PERFORM pg_catalog.set_config('` + writesLog + `', w, false);
  END IF;
END $r$;
` + `CREATE OR REPLACE FUNCTION pg_catalog.schemagate_begin() RETURNS void LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp AS $b$
BEGIN
  PERFORM set_config('` + writesLog + `', transaction_timestamp()::text || '/' || ` + catalogWrites + `, false);
END $b$;
`

// keepTracking ends the change log when a read found its reset function gone (see ResetSQL).
func (in *Inspector) keepTracking(st state) {
	if in.tracking && !st.Tracked {
		in.tracking = false
	}
}

// BeginSQL starts a transaction; once TrackChanges has installed the change log, it also notes how many
// catalog rows the session has written, which the log's triggers and the reads in the transaction
// compare with (see catalogWrites), by a function of the log's, which runs under pg_catalog's search path
// (see trackChangesSQL). Send it as a simple query.
func (in *Inspector) BeginSQL() string {
	if in.tracking {
		return "BEGIN; SELECT pg_catalog.schemagate_begin()"
	}
	return "BEGIN"
}

// newToken names the next mark in the change log; "" when there is none.
func (in *Inspector) newToken() string {
	if !in.tracking {
		return ""
	}
	in.seq++
	return in.nonce + "." + strconv.Itoa(in.seq)
}

// loggedProbeSQL is probeSQL with the seeds taken from the change log instead of a scan of the catalogs.
// Its input adds the mark's token ("mark"); it returns "fallback" when the log cannot vouch for what
// changed since the mark (see changeLog), and then nothing else counts.
var loggedProbeSQL = `
WITH input AS (SELECT current_setting('schemagate.inspect', true)::jsonb AS j),
h AS (SELECT (j->>'horizon')::xid AS h FROM input),
log AS (SELECT coalesce(current_setting('` + changeLog + `', true), '') AS v),
entries AS MATERIALIZED (
  SELECT split_part(e, ':', 1)::oid AS classid, split_part(e, ':', 2)::oid AS objid
  FROM log, unnest(string_to_array(substr(log.v, strpos(log.v, '|') + 1), ' ')) e WHERE e NOT IN ('', '!', '*')
),
fallback(reason) AS (
  SELECT 'log' FROM log, input WHERE split_part(log.v, '|', 1) <> (input.j->>'mark') OR strpos(log.v, '|') = 0 OR right(log.v, 1) = '!'
  UNION ALL SELECT 'unnamed change' FROM entries WHERE classid = 0
  UNION ALL SELECT 'event triggers' WHERE (SELECT count(*) FROM pg_event_trigger e
      WHERE e.evtname IN ('schemagate_log_start', 'schemagate_log_ddl', 'schemagate_log_drop') AND e.evtenabled = 'A') <> 3
  UNION ALL SELECT 'event triggers changed' FROM pg_event_trigger e, h WHERE age(e.xmin) <= age(h.h)
  -- PostgreSQL 17 lets a superuser turn event triggers off for the session
  UNION ALL SELECT 'event triggers off' WHERE current_setting('event_triggers', true) = 'off'
),
locks(classid, objid, mode) AS (
  SELECT (e->>0)::oid, (e->>1)::oid, e->>2 FROM input, jsonb_array_elements(j->'locks') e
  UNION ALL ` + locksSQL + `
),
-- the relations the logged commands made or changed, with their indexes (ALTER TABLE … ADD UNIQUE makes one
-- that it does not name)
new_class AS MATERIALIZED (SELECT x.oid, x.relname, x.relnamespace FROM pg_class x
  WHERE x.oid IN (SELECT objid FROM entries WHERE classid = 'pg_class'::regclass
    UNION SELECT i.indexrelid FROM pg_index i WHERE i.indrelid IN (SELECT objid FROM entries WHERE classid = 'pg_class'::regclass))),
new_proc AS MATERIALIZED (SELECT x.oid, x.proname, x.pronamespace FROM pg_proc x
  WHERE x.oid IN (SELECT objid FROM entries WHERE classid = 'pg_proc'::regclass)),
logged_type AS MATERIALIZED (
  SELECT objid AS oid FROM entries WHERE classid = 'pg_type'::regclass
  UNION SELECT c.reltype FROM pg_class c WHERE c.oid IN (SELECT oid FROM new_class) AND c.reltype <> 0
),
-- the types the logged commands made or changed, with the row types of their relations and the array types
new_type AS MATERIALIZED (SELECT x.oid, x.typname, x.typnamespace FROM pg_type x
  WHERE x.oid IN (SELECT oid FROM logged_type UNION SELECT t.typarray FROM pg_type t WHERE t.oid IN (SELECT oid FROM logged_type))),
chg(classid, objid) AS (
  SELECT e.classid, e.objid FROM entries e WHERE e.classid IN (` + seedClasses + `)
  UNION ALL SELECT 'pg_class'::regclass, x.stxrelid FROM entries e JOIN pg_statistic_ext x ON x.oid = e.objid
    WHERE e.classid = 'pg_statistic_ext'::regclass
  UNION ALL SELECT l.classid, l.objid FROM locks l WHERE l.classid IN (` + seedClasses + `)
),
full_reasons(reason) AS (
  SELECT 'privileges or catalog rows changed beside the logged commands' FROM log WHERE strpos(log.v, ' *') > 0
  UNION ALL SELECT DISTINCT 'change to ' || e.classid::regclass::text FROM entries e
    WHERE e.classid <> 0 AND e.classid NOT IN (` + seedClasses + `, 'pg_statistic_ext'::regclass)
  UNION ALL SELECT 'dropped statistics object' FROM entries e
    WHERE e.classid = 'pg_statistic_ext'::regclass AND NOT EXISTS (SELECT 1 FROM pg_statistic_ext x WHERE x.oid = e.objid)
` + tablespaceReasons + "\n" + newObjectReasons + `
)
SELECT json_build_object(` + stateSQL + `,
'fallback', EXISTS (SELECT 1 FROM fallback),
'shadowed', ` + shadowedSQL(true) + `,
'full', (SELECT coalesce(json_agg(DISTINCT reason), '[]') FROM full_reasons),
'seeds', (SELECT coalesce(json_agg(DISTINCT jsonb_build_array(classid::int8, objid::int8)), '[]') FROM chg WHERE objid <> 0)
)::text`
