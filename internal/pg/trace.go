package pg

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// Tracer records, statement by statement, what a migration does inside its transaction: the locks it
// takes (also on relations it drops), relations it rewrites (new filenode), tables it reads in full
// (pg_stat_xact_user_tables), columns added with a fast default (atthasmissing) and indexes left INVALID.
// One catalog query runs between statements: the state after one statement is the state before the next.
type Tracer struct {
	conn *pgx.Conn
	file string
	prev *traceState
	// Preexisting holds relation OIDs that existed before the migration began.
	preexisting map[uint32]bool
	Evidence    []lint.Evidence
	// Repeated counts the statements recorded without a read (see repeatedInsert); NoRepeat turns that off.
	Repeated int
	NoRepeat bool
	// repeat is the INSERT that the next statement may repeat.
	repeat *insertRun
	// Verify reads every relation again after each traced statement and fails on a difference with
	// what the incremental read (lockedTraceQuery) made of the state (tests).
	Verify   bool
	prevFull *traceState
}

type traceRel struct {
	OID      uint32 `json:"oid"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Filenode *int64 `json:"filenode"`
	SeqScan  int64  `json:"seq_scan"`
	// Schema and Table are the name's parts, unquoted.
	Schema string `json:"nsp"`
	Table  string `json:"rel"`
	// CTID and IndexCTID are where the relation's pg_class row and, for an index, its pg_index row
	// were: an update of either (a rename, a rewrite, a change of validity) moves it (see lockedTraceQuery).
	CTID      string `json:"ctid"`
	IndexCTID string `json:"ictid"`
}

// traceLock is a lock the session holds: on a relation (OID) or on an object (ClassID, ObjID). Zero
// is no OID.
type traceLock struct {
	Locktype string
	OID      uint32
	ClassID  uint32
	ObjID    uint32
	Mode     string
}

// lockModes are the lock modes by the code the trace queries give them (see lockCode).
var lockModes = [...]string{"", "AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
	"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock", "SIReadLock"}

// decodeLock is the lock a trace query wrote as one number (see lockCode).
func decodeLock(n int64) traceLock {
	mode := "unknown"
	if c := n & 15; c > 0 && int(c) < len(lockModes) {
		mode = lockModes[c]
	}
	if n>>62&1 == 1 {
		return traceLock{Locktype: "object", ClassID: uint32(n >> 36 & (1<<26 - 1)), ObjID: uint32(n >> 4 & (1<<32 - 1)), Mode: mode}
	}
	return traceLock{Locktype: "relation", OID: uint32(n >> 4 & (1<<32 - 1)), Mode: mode}
}

// traceCounts are the transaction's updates and deletes of pg_attribute, pg_index, pg_namespace and
// pg_class rows, then its updates of pg_depend rows (pg_stat_get_xact_tuples_updated and _deleted,
// which count every write of the session's transaction and never go down in it, a rolled-back
// subtransaction's included): while one stays the same, no column was renamed or dropped (which
// changes a fast default's name or takes it away with no update of the table's pg_class row), no
// index changed validity, no schema was renamed, no relation's pg_class row moved, no relation moved
// to another schema (see lockedTraceQuery).
type traceCounts [5]int64

type traceState struct {
	Rels []traceRel `json:"rels"`
	// Gone lists the relations lockedTraceQuery found locked, to be read again, and dropped.
	Gone []uint32 `json:"gone"`
	// Other lists the locked relations read again that the trace leaves out (TOAST tables, composite
	// types, system relations), with where their pg_class row was, so that the next read skips them.
	Other []struct {
		OID  uint32 `json:"oid"`
		CTID string `json:"ctid"`
	} `json:"other"`
	// Scans are the scan counters of tables read again for them only: [oid, count].
	Scans [][2]int64 `json:"scans"`
	// Targets lists the relations an INSERT the read was for could have written (traceInput.target):
	// those of its name (and schema, when it names one) that the transaction holds a RowExclusiveLock
	// on, as [oid, plain], plain 1 for an ordinary table that nothing of its own runs code or reaches
	// other relations by data on an INSERT: no user trigger, rule or row security, no foreign key to a
	// partitioned table.
	Targets [][2]int64   `json:"targets"`
	Counts  *traceCounts `json:"counts"` // nil: not known (a full read, another transaction's)
	// Nsps are where every pg_namespace row was: a schema renamed moves its row, and the next read
	// reads every relation of a schema whose row is no longer where it was (see lockedTraceQuery). nil
	// from a read that did not look (no pg_namespace row written since the state before): as before.
	Nsps []string `json:"nsps"`
	// LockIDs are every lock the session holds (fullTraceQuery); Added and Removed, those it took and
	// let go of since the state lockedTraceQuery was given (see lockCode).
	LockIDs []int64     `json:"locks"`
	Added   []int64     `json:"added"`
	Removed []int64     `json:"removed"`
	Missing []traceItem `json:"missing"` // columns with a fast default (atthasmissing)
	Invalid []traceItem `json:"invalid"` // invalid indexes
	// held are the locks the session holds, by lockCode.
	held  map[int64]bool
	byOID map[uint32]traceRel
	// others are the relations left out of the trace that the state knows where they were (Other).
	others map[uint32]string
	// mark is what the read that made the state left in schemagate.trace_mark ("" when not known).
	mark string
	// in is lockedTraceQuery's input for the state, kept from read to read (see knownLocked).
	in *knownInput
}

// traceItem is a column or index of relation Rel; Kind is an index's relkind (i, or I for a
// partitioned index).
type traceItem struct {
	Rel  uint32 `json:"rel"`
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

// lockCode writes a lock of pg_locks l as one number, so that the list of a transaction's thousands
// of locks costs little to build, send and read after every statement: the mode's index in lockModes
// in the low 4 bits, then the relation's OID, or, with bit 62 set, the object's objid and (from bit
// 36) its classid, a catalog's OID.
const lockCode = `((CASE WHEN l.locktype = 'relation' THEN l.relation::int8 << 4 ELSE (1::int8 << 62) | (l.classid::int8 << 36) | (l.objid::int8 << 4) END)
     | CASE l.mode WHEN 'AccessShareLock' THEN 1 WHEN 'RowShareLock' THEN 2 WHEN 'RowExclusiveLock' THEN 3 WHEN 'ShareUpdateExclusiveLock' THEN 4
       WHEN 'ShareLock' THEN 5 WHEN 'ShareRowExclusiveLock' THEN 6 WHEN 'ExclusiveLock' THEN 7 WHEN 'AccessExclusiveLock' THEN 8 WHEN 'SIReadLock' THEN 9 ELSE 0 END)`

// traceTemplate reads the trace state. The session's locks are read once (lks); {{REL}} is the
// relations read: all of them in fullTraceQuery, in lockedTraceQuery only some of those the session
// holds a lock on, the only ones a statement can have changed (a rewrite, a scan, a new column or index
// all lock their relation until the transaction ends).
//
// A transaction keeps its locks to its end, so a baseline of a thousand tables holds thousands by its
// last statement, and reading each after every statement made the trace quadratic (25 s for 800
// indexes against 2 s untraced; 5 min for 600 tables, 1,919 statements, against 15 s; then 86 s for
// 2,000 ADD COLUMNs, one table each, against 1 s, when every held relation's row was still looked up
// and every lock sent back after each statement). lockedTraceQuery takes, in settings (see
// traceInput), the locks the state before knew (trace_locks) and the relations it knew locked, with
// where their pg_class and pg_index rows were, and sends back only what changed:
//   - the locks taken since (added) and let go of (removed: ROLLBACK TO SAVEPOINT, an exception block);
//     none were let go of when the locks held now are as many as those known and those added;
//   - the relations locked in a new mode, read (again);
//   - the relations known locked whose pg_class row moved (an update: rename, rewrite, new column,
//     first rule or trigger, row security), read again. They are looked for only when pg_class rows
//     were updated or deleted since (traceCounts), by one TID scan of the rows known (ctid = ANY(array),
//     which a TID scan serves; one scan per relation, as a lateral join, cost 10 µs a relation);
//   - tables whose scan counter changed (pg_stat_get_xact_numscans, read for all of them, returned when
//     it differs), which only their counter is taken from;
//   - no longer locked, read again (ROLLBACK TO SAVEPOINT released the lock and undid what was done
//     under it: a relation dropped there is back), when locks were let go of;
//   - with a fast default, when pg_attribute rows were updated or deleted (traceCounts): RENAME and DROP
//     COLUMN leave the pg_class row where it was; an index, when pg_index rows were updated and its own
//     moved (validity: ALTER INDEX … ATTACH PARTITION);
//   - every relation of a schema whose pg_namespace row is no longer where the state before saw it
//     (trace_nsp), looked for when pg_namespace rows were updated or deleted (traceCounts): ALTER
//     SCHEMA … RENAME changes the name of each relation in it, but moves no pg_class row and locks
//     only the schema, so the relations the transaction holds no lock on kept their old names (the
//     trace then named a later statement's lock on b.t_pkey a.t_pkey). An owner or a grant changed
//     moves the row too: the schema's relations are read again for nothing, a rare statement's cost;
//   - the indexes of every relation read again, when pg_depend rows were updated (traceCounts): ALTER
//     TABLE … SET SCHEMA moves the table's indexes along with it, and their pg_class rows, but locks
//     none of them (it updates the table's dependency on its schema; an ADD COLUMN updates none).
//
// The counters never go down, so what a rolled-back subtransaction undid (a row back where it was)
// leaves them as they were: every read leaves a mark in a setting local to the (sub)transaction
// (schemagate.trace_mark), which its rollback takes back, and a read that does not find the mark the
// state before left reads every locked relation again (one dropped under a lock taken before the
// savepoint is back) and looks at everything those counters spare.
//
// The relations to read again (todo) are looked up in pg_class one at a time (a lateral subquery with
// OFFSET 0), whatever the planner guesses of how many there are: with a schema's relations among them
// it guessed hundreds, and looked the dropped ones up by hashing all of pg_class, 1 ms a statement
// 1,000 tables into a migration (BenchmarkTraceAddColumns).
//
// Which relations an INSERT's target names, and whether it is plain (nextRun), is read for that
// INSERT's target only (traceInput.target): a second trigger on a table that has one, a foreign key or
// a trigger dropped, leave its row where it was.
const traceTemplate = `WITH lks AS MATERIALIZED (
  SELECT DISTINCT ` + lockCode + ` AS code FROM pg_locks l
  WHERE l.pid = pg_backend_pid() AND l.granted AND l.locktype IN ('relation', 'object') AND (l.relation IS NULL OR l.relation >= 16384)
),
cnt AS MATERIALIZED (SELECT ARRAY[
    pg_stat_get_xact_tuples_updated('pg_catalog.pg_attribute'::regclass) + pg_stat_get_xact_tuples_deleted('pg_catalog.pg_attribute'::regclass),
    pg_stat_get_xact_tuples_updated('pg_catalog.pg_index'::regclass) + pg_stat_get_xact_tuples_deleted('pg_catalog.pg_index'::regclass),
    pg_stat_get_xact_tuples_updated('pg_catalog.pg_namespace'::regclass) + pg_stat_get_xact_tuples_deleted('pg_catalog.pg_namespace'::regclass),
    pg_stat_get_xact_tuples_updated('pg_catalog.pg_class'::regclass) + pg_stat_get_xact_tuples_deleted('pg_catalog.pg_class'::regclass),
    pg_stat_get_xact_tuples_updated('pg_catalog.pg_depend'::regclass)] AS n),{{TODO}}
rel AS MATERIALIZED (
  SELECT c.oid, c.relname, c.relkind, c.relfilenode, n.nspname, c.ctid::text AS ctid
  FROM {{REL}} JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid >= 16384 AND c.relkind IN ('r','i','m','p','I','S','t','v','f') AND n.nspname NOT IN ('pg_catalog','information_schema')
    AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'
)
SELECT json_build_object(
 'rels', COALESCE((SELECT json_agg(json_build_object('oid', c.oid::bigint, 'name', quote_ident(c.nspname) || '.' || quote_ident(c.relname),
     'kind', c.relkind, 'filenode', nullif(c.relfilenode, 0)::bigint,
     'seq_scan', CASE WHEN c.relkind IN ('r', 'm', 't', 'p') THEN pg_stat_get_xact_numscans(c.oid) ELSE 0 END,
     'nsp', c.nspname, 'rel', c.relname, 'ctid', c.ctid,
     'ictid', CASE WHEN c.relkind IN ('i', 'I') THEN (SELECT i.ctid::text FROM pg_index i WHERE i.indexrelid = c.oid) END))
   FROM rel c), '[]'),
 'missing', COALESCE((SELECT json_agg(json_build_object('rel', c.oid::bigint, 'name', quote_ident(c.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname)))
   FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid
   WHERE c.relkind IN ('r', 'p') AND a.atthasmissing AND NOT a.attisdropped AND a.attnum > 0), '[]'),
 'invalid', COALESCE((SELECT json_agg(json_build_object('rel', c.oid::bigint, 'name', quote_ident(c.nspname) || '.' || quote_ident(c.relname), 'kind', c.relkind))
   FROM rel c JOIN pg_index i ON i.indexrelid = c.oid
   WHERE c.relkind IN ('i', 'I') AND NOT i.indisvalid), '[]'),
 {{OUT}})`

var (
	fullTraceQuery = strings.NewReplacer("{{REL}}", "pg_class c", "{{TODO}}", "",
		"{{OUT}}", `'locks', COALESCE((SELECT json_agg(code) FROM lks), '[]'), 'counts', NULL,
 'nsps', (SELECT json_agg(n.ctid::text) FROM pg_namespace n)`).Replace(traceTemplate)
	lockedTraceQuery = strings.NewReplacer("{{REL}}", "todo CROSS JOIN LATERAL (SELECT *, ctid FROM pg_class c WHERE c.oid = todo.oid OFFSET 0) c",
		"{{TODO}}", `
flag AS MATERIALIZED (
  SELECT i.r OR c.n[1] IS DISTINCT FROM i.n[1] AS att, i.r OR c.n[2] IS DISTINCT FROM i.n[2] AS idx,
    i.r OR c.n[3] IS DISTINCT FROM i.n[3] AS nsp, i.r OR c.n[4] IS DISTINCT FROM i.n[4] AS cls,
    i.r OR c.n[5] IS DISTINCT FROM i.n[5] AS dep, i.r AS rb
  FROM cnt c, (SELECT nullif(current_setting('schemagate.trace_counts', true), '')::int8[] AS n,
    current_setting('schemagate.trace_expect') = '' OR current_setting('schemagate.trace_mark', true) IS DISTINCT FROM current_setting('schemagate.trace_expect') AS r) i
),
kk AS MATERIALIZED (SELECT k.code FROM unnest(current_setting('schemagate.trace_locks')::int8[]) k(code)),
added AS MATERIALIZED (SELECT code FROM lks EXCEPT SELECT code FROM kk),
gate AS MATERIALIZED (SELECT (SELECT count(*) FROM lks) <> (SELECT count(*) FROM kk) + (SELECT count(*) FROM added) AS let_go),
removed AS MATERIALIZED (
  SELECT code FROM kk WHERE (SELECT let_go FROM gate)
  EXCEPT
  SELECT code FROM lks WHERE (SELECT let_go FROM gate)
),
nspmoved AS MATERIALIZED (
  SELECT n.oid FROM pg_namespace n
  WHERE (SELECT nsp FROM flag) AND n.oid > 0 AND n.ctid <> ALL(current_setting('schemagate.trace_nsp')::tid[])
),
known AS MATERIALIZED (
  SELECT k.oid, k.scans FROM unnest(current_setting('schemagate.trace_oid')::oid[], current_setting('schemagate.trace_scans')::int8[]) k(oid, scans)
),
touched AS MATERIALIZED (
  SELECT (code >> 4)::oid AS oid FROM added WHERE code < (1::int8 << 62)
  UNION
  SELECT oid FROM known WHERE (SELECT nsp FROM flag)
  UNION
  SELECT c.oid FROM pg_class c WHERE EXISTS (SELECT 1 FROM nspmoved) AND c.relnamespace IN (SELECT oid FROM nspmoved)
  UNION
  (SELECT oid FROM known WHERE (SELECT cls FROM flag)
   EXCEPT
   SELECT c.oid FROM pg_class c WHERE (SELECT cls FROM flag) AND c.ctid = ANY(current_setting('schemagate.trace_tid')::tid[]))
  UNION
  (SELECT (code >> 4)::oid FROM removed WHERE code < (1::int8 << 62)
   EXCEPT
   SELECT (code >> 4)::oid FROM lks WHERE code < (1::int8 << 62) AND EXISTS (SELECT 1 FROM removed))
  UNION
  SELECT (code >> 4)::oid FROM lks WHERE (SELECT rb FROM flag) AND code < (1::int8 << 62)
  UNION
  (SELECT oid FROM known WHERE (SELECT att FROM flag)
   INTERSECT
   SELECT unnest(current_setting('schemagate.trace_missing')::oid[]) WHERE (SELECT att FROM flag))
  UNION
  SELECT k.oid FROM unnest(current_setting('schemagate.trace_oid')::oid[], current_setting('schemagate.trace_itid')::tid[]) k(oid, itid)
  WHERE (SELECT idx FROM flag) AND k.itid <> '(0,0)' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.ctid = k.itid AND i.indexrelid = k.oid)
),
todo AS MATERIALIZED (
  SELECT oid FROM touched
  UNION
  SELECT i.indexrelid FROM touched t JOIN pg_index i ON i.indrelid = t.oid WHERE (SELECT dep FROM flag)
),`,
		"{{OUT}}", `'counts', (SELECT to_json(n) FROM cnt),
 'nsps', (SELECT json_agg(n.ctid::text) FROM pg_namespace n WHERE (SELECT nsp FROM flag) AND n.oid > 0),
 'added', COALESCE((SELECT json_agg(code) FROM added), '[]'),
 'removed', COALESCE((SELECT json_agg(code) FROM removed), '[]'),
 'gone', COALESCE((SELECT json_agg(t.oid::bigint) FROM todo t
   LEFT JOIN LATERAL (SELECT c.oid FROM pg_class c WHERE c.oid = t.oid OFFSET 0) c ON true WHERE c.oid IS NULL), '[]'),
 'other', COALESCE((SELECT json_agg(json_build_object('oid', c.oid::bigint, 'ctid', c.ctid::text))
   FROM (SELECT oid FROM todo EXCEPT SELECT oid FROM rel) t CROSS JOIN LATERAL (SELECT c.oid, c.ctid FROM pg_class c WHERE c.oid = t.oid OFFSET 0) c), '[]'),
 'scans', COALESCE((SELECT json_agg(json_build_array(k.oid::bigint, pg_stat_get_xact_numscans(k.oid))) FROM known k
   WHERE k.scans >= 0 AND pg_stat_get_xact_numscans(k.oid) <> k.scans), '[]'),
 'targets', COALESCE((SELECT json_agg(json_build_array(c.oid::bigint, CASE WHEN c.relkind = 'r' AND NOT c.relhasrules AND NOT c.relrowsecurity
       AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
         WHERE k.conrelid = c.oid AND k.contype = 'f' AND r.relkind = 'p') THEN 1 ELSE 0 END))
   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relname = current_setting('schemagate.trace_target', true) AND (c.oid::int8 << 4 | 3) IN (SELECT code FROM lks)
     AND (current_setting('schemagate.trace_target_nsp', true) = '' OR n.nspname = current_setting('schemagate.trace_target_nsp', true))
     AND c.oid >= 16384 AND c.relkind IN ('r','m','p','S','t','v','f') AND n.nspname NOT IN ('pg_catalog','information_schema')
     AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'), '[]')`).Replace(traceTemplate)
	// scanCountsQuery reads the scan counters of the session's transaction that are not zero: with a
	// carried-over state, they are all a new transaction needs to know (the counters are per
	// transaction, the rest of the state is catalog rows, which reads and rolled-back round trips leave
	// as they were).
	scanCountsQuery = `SELECT COALESCE(json_agg(json_build_array(c.oid::bigint, s.n)), '[]') FROM pg_class c
  CROSS JOIN LATERAL (SELECT pg_stat_get_xact_numscans(c.oid) AS n) s
  WHERE c.oid >= 16384 AND c.relkind IN ('r', 'm', 't', 'p') AND s.n > 0`
)

// traceInput is lockedTraceQuery's input, as settings of the transaction (see readSpared): the locks
// the state before held (locks, lockCode), the relations it knew locked (oid, tid), where their
// pg_index rows were (itid, "(0,0)" for a relation that is no index), their scan counters (scans, -1
// for a relation that is no table), the relations with a fast default (missing), the traceCounts then
// (counts, "" when not known), the mark the read before left (expect, "" when not known), the
// table an INSERT of literal rows named (target, and its schema when the INSERT names one) and where
// the pg_namespace rows were (nsp).
type traceInput struct {
	locks, oid, tid, itid, scans, missing, counts, expect, target, targetNsp, nsp string
}

func readTraceState(ctx context.Context, conn *pgx.Conn) (*traceState, error) {
	return readTrace(ctx, conn, fullTraceQuery)
}

func readTrace(ctx context.Context, conn *pgx.Conn, query string) (*traceState, error) {
	raw, err := querySafe(ctx, conn, query)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	return decodeTrace(raw)
}

// querySafe runs query, which takes no parameters and returns one value, behind spareTimeout, which
// sets the search path it names the system catalogs under, and puts the session's back after it.
func querySafe(ctx context.Context, conn *pgx.Conn, query string) ([]byte, error) {
	if err := prepareSafe(ctx, conn, spareTimeout, query, restoreSQL); err != nil {
		return nil, err
	}
	batch := &pgx.Batch{}
	batch.Queue(spareTimeout)
	batch.Queue(query)
	batch.Queue(restoreSQL)
	res := conn.SendBatch(ctx, batch)
	defer res.Close()
	if _, err := res.Exec(); err != nil {
		return nil, spareCanceled(err)
	}
	var raw []byte
	if err := res.QueryRow().Scan(&raw); err != nil {
		return nil, spareCanceled(err)
	}
	if _, err := res.Exec(); err != nil {
		return nil, err
	}
	return raw, res.Close()
}

// readLocked runs lockedTraceQuery with in, in one round trip.
func readLocked(ctx context.Context, conn *pgx.Conn, in traceInput) (*traceState, error) {
	return readSpared(ctx, conn, lockedTraceQuery, in)
}

// readSpared runs a trace query on the migration's own connection, inside its transaction, with in
// in settings of the transaction (schemagate.trace_*), without the migration's statement_timeout. The
// input goes in settings rather than as parameters, so that the query has none and is planned once
// per session, as the other trace queries are (with a parameter the server may plan it again on any run).
func readSpared(ctx context.Context, conn *pgx.Conn, query string, in traceInput) (*traceState, error) {
	batch := &pgx.Batch{}
	// The migration's statement_timeout is not the trace's (see spareTimeout). spareTimeout goes first,
	// so that it is the trace's one statement to run under it: the input's went before it, and under a
	// short one (1 ms) on a busy machine was canceled now and then, failing the migration at "trace".
	// The statements are prepared (see prepareSpared) when the Tracer starts.
	// A read must not take a mark another read left, on any connection (a trace state goes on across
	// sessions), for its own: each is random.
	mark := rand.Text()
	batch.Queue(spareTimeout)
	seqscan := ""
	if query == lockedTraceQuery {
		seqscan = traceSeqScan
	}
	batch.Queue(traceInputSQL, orEmpty(in.oid), orEmpty(in.tid), orEmpty(in.itid), orEmpty(in.scans), orEmpty(in.missing),
		in.counts, in.target, in.targetNsp, orEmpty(in.locks), in.expect, mark, seqscan, orEmpty(in.nsp))
	batch.Queue(query)
	batch.Queue(traceRestoreSQL)
	res := conn.SendBatch(ctx, batch)
	defer res.Close()
	var raw []byte
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("trace: %w", spareCanceled(err))
	}
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("trace: %w", spareCanceled(err))
	}
	if err := res.QueryRow().Scan(&raw); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if err := res.Close(); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	st, err := decodeTrace(raw)
	if err != nil {
		return nil, err
	}
	st.mark = mark
	return st, nil
}

// traceInputSQL puts readSpared's input in settings of the transaction, with the mark the read leaves
// once it is done (trace_next; see traceRestoreSQL).
const traceInputSQL = `SELECT set_config('schemagate.trace_oid', $1, true), set_config('schemagate.trace_tid', $2, true),
  set_config('schemagate.trace_itid', $3, true), set_config('schemagate.trace_scans', $4, true),
  set_config('schemagate.trace_missing', $5, true), set_config('schemagate.trace_counts', $6, true),
  set_config('schemagate.trace_target', $7, true), set_config('schemagate.trace_target_nsp', $8, true),
  set_config('schemagate.trace_locks', $9, true), set_config('schemagate.trace_expect', $10, true),
  set_config('schemagate.trace_next', $11, true), set_config('schemagate.trace_nsp', $13, true),
  set_config('schemagate.enable_seqscan', current_setting('enable_seqscan'), false),
  set_config('enable_seqscan', CASE WHEN $12 = '' THEN current_setting('enable_seqscan') ELSE $12 END, true)`

// traceSeqScan is enable_seqscan while lockedTraceQuery runs (traceInputSQL's last input; put back by
// traceRestoreSQL), so that the plan the session keeps for it looks the rows of the relations known
// locked up by one TID scan: made while pg_class was small (a migration's first read, or Warm during
// the replay), the plan scanned all of pg_class instead, testing each row against the whole array,
// 30 ms a statement 100 ADD COLUMNs into a migration. The query's other scans read a few rows an
// index finds. Its reads of pg_namespace go by its OID index too (n.oid > 0): a sequential scan, priced as
// disabled, pushed the plan's cost past jit_above_cost, and compiling it took 50-100 ms a statement
// where the session has JIT on.
const traceSeqScan = "off"

// traceRestoreSQL runs after a trace query: it puts the migration's statement_timeout and
// enable_seqscan back and leaves the read's mark, local to the (sub)transaction, which a rollback of it
// takes back.
const traceRestoreSQL = "SELECT " + restoreTimeout + ", set_config('enable_seqscan', current_setting('schemagate.enable_seqscan'), true), " +
	"set_config('schemagate.trace_mark', current_setting('schemagate.trace_next'), true)"

// traceStatements are the statements readSpared runs, prepared when a Tracer starts (see prepareSpared).
func traceStatements() []string {
	return []string{spareTimeout, traceInputSQL, fullTraceQuery, lockedTraceQuery, traceRestoreSQL, scanCountsQuery, restoreSQL}
}

// tids is the text of an array of the TIDs ctids.
func tids(ctids []string) string {
	b := []byte{'{'}
	for i, c := range ctids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, c)
	}
	return string(append(b, '}'))
}

// orEmpty is an array's text, or the empty array's.
func orEmpty(a string) string {
	if a == "" {
		return "{}"
	}
	return a
}

func decodeTrace(raw []byte) (*traceState, error) {
	st := &traceState{}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("trace: decode: %w", err)
	}
	if st.LockIDs != nil {
		st.held = make(map[int64]bool, len(st.LockIDs))
		for _, n := range st.LockIDs {
			st.held[n] = true
		}
		st.LockIDs = nil
	}
	st.index()
	return st, nil
}

func (st *traceState) index() {
	st.byOID = make(map[uint32]traceRel, len(st.Rels))
	for _, r := range st.Rels {
		st.byOID[r.OID] = r
	}
}

// TraceState is what a Tracer saw after a migration's last statement: its relations, fast-default
// columns and invalid indexes. A later migration's Tracer can start from it (NewTracerFrom) instead
// of reading every relation again, as long as nothing but reads and rolled-back transactions ran in
// between.
type TraceState struct{ st *traceState }

// State returns the state after the last traced statement.
func (t *Tracer) State() *TraceState { return &TraceState{st: t.prev} }

// NewTracer starts tracing on conn (inside the migration's transaction, before its first statement).
func NewTracer(ctx context.Context, conn *pgx.Conn, file string) (*Tracer, error) {
	return NewTracerFrom(ctx, conn, file, nil)
}

// NewTracerFrom is NewTracer starting from the state an earlier Tracer ended with (nil: read it all).
// Between the two, the database must have seen only reads and transactions that were rolled back, so
// its relations, file nodes, fast defaults and index validity are the ones the state describes; only
// the per-transaction scan counters are read again.
func NewTracerFrom(ctx context.Context, conn *pgx.Conn, file string, from *TraceState) (*Tracer, error) {
	// Before the migration's first statement, so that no statement_timeout it sets cancels their parse.
	if err := prepareSafe(ctx, conn, traceStatements()...); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	var st *traceState
	if from == nil || from.st == nil {
		var err error
		if st, err = readTraceState(ctx, conn); err != nil {
			return nil, err
		}
	} else {
		raw, err := querySafe(ctx, conn, scanCountsQuery)
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		var counts [][2]int64
		if err := json.Unmarshal(raw, &counts); err != nil {
			return nil, fmt.Errorf("trace: decode: %w", err)
		}
		scans := make(map[uint32]int64, len(counts))
		for _, c := range counts {
			scans[uint32(c[0])] = c[1]
		}
		prev := from.st
		// The traceCounts are the transaction's: a new one's are not known.
		st = &traceState{Missing: prev.Missing, Invalid: prev.Invalid, Nsps: prev.Nsps, byOID: make(map[uint32]traceRel, len(prev.byOID)), others: prev.others}
		for _, r := range prev.byOID {
			r.SeqScan = scans[r.OID]
			st.byOID[r.OID] = r
		}
	}
	pre := make(map[uint32]bool, len(st.byOID))
	for oid := range st.byOID {
		pre[oid] = true
	}
	t := &Tracer{conn: conn, file: file, prev: st, preexisting: pre, Verify: TraceVerifyFromEnv()}
	if t.Verify && from != nil && from.st != nil {
		// The state carried over must be what a read of every relation finds now.
		if err := t.verifyState(ctx, st); err != nil {
			return nil, fmt.Errorf("%w (the state carried over from the migration before)", err)
		}
	}
	return t, nil
}

// TraceVerifyFromEnv tells whether SCHEMAGATE_TRACE=verify asks every Tracer to check its incremental
// reads against reads of every relation (see Tracer.Verify): the test suites run that way (pgtest.Main),
// as they run SCHEMAGATE_INSPECT=verify for catalog reads.
func TraceVerifyFromEnv() bool { return os.Getenv("SCHEMAGATE_TRACE") == "verify" }

// Quiet tells whether After would record st without a read: an INSERT of literal rows that repeats a
// steady run (see repeatedInsert). Such statements may run together (ApplyOptions.Quiet).
func (t *Tracer) Quiet(st *sqlparse.Statement) bool {
	shape := repeatedInsert(st)
	return shape != nil && !t.NoRepeat && t.repeat != nil && t.repeat.steady && *shape == t.repeat.shape
}

// After records the evidence of the statement that just ran. It reads only the relations the
// transaction has locked and keeps the rest from the state before. A run of INSERTs of the same shape
// is read until it is steady, then recorded without a read (see repeatedInsert).
func (t *Tracer) After(ctx context.Context, _ int, stmt *sqlparse.Statement, d time.Duration) error {
	if t.Quiet(stmt) {
		t.Repeated++
		t.Evidence = append(t.Evidence, lint.Evidence{File: t.file, Line: stmt.Pos.Line, Column: stmt.Pos.Column,
			DurationMS: float64(d.Microseconds()) / 1000})
		return nil
	}
	shape := repeatedInsert(stmt)
	in := t.prev.knownLocked()
	if shape != nil {
		in.target, in.targetNsp = shape.table, shape.schema
	}
	locked, cur, ev, err := t.read(ctx, in)
	if err != nil {
		return err
	}
	if kind, _ := transactionKind(stmt); kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO {
		// ROLLBACK TO SAVEPOINT puts back what was done since the savepoint: the filenodes a rewrite
		// there replaced, the fast defaults it took away. That is an undo, not a change of its own:
		// the rewrite is the statement's that did it.
		ev.Rewritten, ev.FastDefault = nil, nil
	}
	ev.File, ev.Line, ev.Column = t.file, stmt.Pos.Line, stmt.Pos.Column
	ev.IfNotExists = indexIfNotExists(stmt)
	ev.DurationMS = float64(d.Microseconds()) / 1000
	t.Evidence = append(t.Evidence, ev)
	t.prev = cur
	t.repeat = nextRun(t.repeat, shape, plainTarget(locked.Targets), ev)
	return nil
}

// Settled records what the transaction's deferred work did when it ran (SET CONSTRAINTS ALL IMMEDIATE
// before the commit: deferred foreign-key checks and constraint triggers, which may lock, scan, rewrite
// or drop) as part of the last statement's evidence, where an error of that work is reported too: a
// deferred trigger that drops a table takes its ACCESS EXCLUSIVE lock there. It also keeps State, which
// the next migration starts from, what the commit leaves.
func (t *Tracer) Settled(ctx context.Context) error {
	if len(t.Evidence) == 0 {
		return nil
	}
	_, cur, ev, err := t.read(ctx, t.prev.knownLocked())
	if err != nil {
		return fmt.Errorf("%w (after the deferred work)", err)
	}
	last := &t.Evidence[len(t.Evidence)-1]
	last.Locks = append(last.Locks, ev.Locks...)
	last.Rewritten = append(last.Rewritten, ev.Rewritten...)
	last.Scanned = append(last.Scanned, ev.Scanned...)
	last.FastDefault = append(last.FastDefault, ev.FastDefault...)
	last.InvalidIndexes = append(last.InvalidIndexes, ev.InvalidIndexes...)
	last.InvalidPartitioned = append(last.InvalidPartitioned, ev.InvalidPartitioned...)
	last.ClearedIndexes = append(last.ClearedIndexes, ev.ClearedIndexes...)
	t.prev, t.repeat = cur, nil
	return nil
}

// read reads again the relations in says (see lockedTraceQuery) and returns what it read, the state
// after it (which takes the state before's place: see advanceTrace) and the evidence of what changed since
// the state before, checked against a read of every relation in Verify mode.
func (t *Tracer) read(ctx context.Context, in traceInput) (locked, cur *traceState, ev lint.Evidence, err error) {
	if locked, err = readLocked(ctx, t.conn, in); err != nil {
		return nil, nil, ev, err
	}
	if t.Verify && t.prevFull == nil {
		t.prevFull = t.prev.clone() // advanceTrace takes t.prev's maps over
	}
	cur, ev = advanceTrace(t.prev, locked, t.preexisting)
	if t.Verify {
		err = t.verify(ctx, cur, ev)
	}
	return locked, cur, ev, err
}

// verify checks cur, the state an incremental read made, against a read of every relation, and ev, the
// evidence drawn from it, against the evidence the full reads give.
func (t *Tracer) verify(ctx context.Context, cur *traceState, ev lint.Evidence) error {
	full, err := t.readFull(ctx, cur)
	if err != nil {
		return err
	}
	if want := diffTrace(t.prevFull, full, t.preexisting); !reflect.DeepEqual(ev, want) {
		return fmt.Errorf("trace: verify: evidence: incremental %+v, full read %+v", ev, want)
	}
	t.prevFull = full
	return nil
}

// verifyState checks cur against a read of every relation.
func (t *Tracer) verifyState(ctx context.Context, cur *traceState) error {
	_, err := t.readFull(ctx, cur)
	return err
}

// readFull reads every relation and fails on a difference with cur.
func (t *Tracer) readFull(ctx context.Context, cur *traceState) (*traceState, error) {
	full, err := readSpared(ctx, t.conn, fullTraceQuery, traceInput{})
	if err != nil {
		return nil, err
	}
	return full, sameTraceState(cur, full)
}

// sameTraceState fails with what differs between cur, an incremental read's state, and full.
func sameTraceState(cur, full *traceState) error {
	diff := func(what string, a, b any) error {
		return fmt.Errorf("trace: verify: %s: incremental %+v, full read %+v", what, a, b)
	}
	// Where a relation's pg_class and pg_index rows are matters only while the transaction holds a lock
	// on it (the next read looks there for the rows of the relations it knew locked, and reads anew
	// those it newly locks): a GRANT, which locks nothing, moves the row of its table unseen.
	locked := make(map[uint32]bool, len(full.held))
	for _, l := range full.locks() {
		if l.Locktype == "relation" {
			locked[l.OID] = true
		}
	}
	show := func(r traceRel) string {
		fn := "none"
		if r.Filenode != nil {
			fn = fmt.Sprint(*r.Filenode)
		}
		return fmt.Sprintf("%s (%s, filenode %s, %d scans, row at %s, index row at %q)", r.Name, r.Kind, fn, r.SeqScan, r.CTID, r.IndexCTID)
	}
	for oid, r := range full.byOID {
		got, ok := cur.byOID[oid]
		if !ok {
			return diff(fmt.Sprint("relation ", oid), "none", show(r))
		}
		if !locked[oid] {
			got.CTID, got.IndexCTID = r.CTID, r.IndexCTID
		}
		if !reflect.DeepEqual(got, r) {
			return diff(fmt.Sprint("relation ", oid), show(got), show(r))
		}
	}
	for oid, r := range cur.byOID {
		if _, ok := full.byOID[oid]; !ok {
			return diff(fmt.Sprint("relation ", oid), show(r), "none")
		}
	}
	sorted := func(items []traceItem) []traceItem {
		return slices.SortedFunc(slices.Values(items), func(a, b traceItem) int {
			return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
		})
	}
	if a, b := sorted(cur.Missing), sorted(full.Missing); !slices.Equal(a, b) {
		return diff("fast defaults", a, b)
	}
	if a, b := sorted(cur.Invalid), sorted(full.Invalid); !slices.Equal(a, b) {
		return diff("invalid indexes", a, b)
	}
	if a, b := cur.locks(), full.locks(); !slices.Equal(a, b) {
		return diff("locks", a, b)
	}
	return nil
}

// SameInserts tells whether a and b are INSERTs of literal rows of one shape (the target as written and
// the column list): statements a trace may summarize as a run.
func SameInserts(a, b *sqlparse.Statement) bool {
	x, y := repeatedInsert(a), repeatedInsert(b)
	return x != nil && y != nil && *x == *y
}

// insertShape is what two INSERT statements must share to take the same locks: the target as written,
// and the column list.
type insertShape struct{ schema, table, columns string }

// insertRun is a run of traced INSERTs of one shape into a plain table; steady once one of them took
// nothing new.
type insertRun struct {
	shape  insertShape
	steady bool
}

// repeatedInsert is the shape of an INSERT whose rows are only constants (VALUES of literals, casts of
// literals, negative numbers): nothing in it runs code of its own or reads another relation, so into a
// plain table (traceState.Targets) it takes the same locks as the INSERT of that shape before it, and scans
// and rewrites nothing. A seed migration of thousands of such INSERTs is then traced at its first ones,
// not after each (a read costs about half a millisecond). nil for any other statement.
func repeatedInsert(st *sqlparse.Statement) *insertShape {
	if st == nil || st.Node == nil {
		return nil
	}
	ins := st.Node.GetInsertStmt()
	if ins == nil || ins.WithClause != nil || ins.OnConflictClause != nil || ins.Relation == nil || ins.SelectStmt == nil {
		return nil
	}
	sel := ins.SelectStmt.GetSelectStmt()
	if sel == nil || len(sel.ValuesLists) == 0 || sel.WithClause != nil {
		return nil
	}
	for _, row := range sel.ValuesLists {
		list := row.GetList()
		if list == nil {
			return nil
		}
		for _, v := range list.Items {
			if !literal(v) {
				return nil
			}
		}
	}
	var cols []string
	for _, c := range ins.Cols {
		rt := c.GetResTarget()
		if rt == nil || len(rt.Indirection) > 0 {
			return nil
		}
		cols = append(cols, rt.Name)
	}
	return &insertShape{schema: ins.Relation.Schemaname, table: ins.Relation.Relname, columns: strings.Join(cols, "\x00")}
}

// literal tells whether n is a constant: a literal, a cast of one, or a negative number.
func literal(n *pg_query.Node) bool {
	switch {
	case n == nil:
		return false
	case n.GetAConst() != nil:
		return true
	case n.GetTypeCast() != nil:
		return literal(n.GetTypeCast().Arg)
	case n.GetAExpr() != nil:
		e := n.GetAExpr()
		if e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || e.Lexpr != nil || len(e.Name) != 1 || e.Name[0].GetString_().GetSval() != "-" {
			return false
		}
		return literal(e.Rexpr)
	}
	return false
}

// nextRun is the run of INSERTs after a traced statement of shape (nil: not such an INSERT) with
// evidence ev, plain telling whether its target is a plain table (plainTarget). The run holds while
// it is, and becomes steady when a second INSERT of its shape took nothing new.
func nextRun(run *insertRun, shape *insertShape, plain bool, ev lint.Evidence) *insertRun {
	if shape == nil || !plain {
		return nil
	}
	if run != nil && run.shape == *shape {
		quiet := len(ev.Locks) == 0 && len(ev.Rewritten) == 0 && len(ev.Scanned) == 0 && len(ev.FastDefault) == 0 &&
			len(ev.InvalidIndexes) == 0 && ev.Err == ""
		return &insertRun{shape: *shape, steady: quiet}
	}
	return &insertRun{shape: *shape}
}

// plainTarget tells whether the table an INSERT wrote is plain: the one relation its name (and schema,
// when the statement names one) finds among those the transaction holds a RowExclusiveLock on
// (targets, read for that INSERT: see traceState.Targets) is a plain table.
func plainTarget(targets [][2]int64) bool {
	return len(targets) == 1 && targets[0][1] == 1
}

// locks are the locks st holds, in order.
func (st *traceState) locks() []traceLock {
	codes := slices.Sorted(maps.Keys(st.held))
	out := make([]traceLock, len(codes))
	for i, n := range codes {
		out[i] = decodeLock(n)
	}
	return out
}

// clone is a copy of st that shares nothing advanceTrace changes.
func (st *traceState) clone() *traceState {
	c := *st
	c.held, c.byOID, c.others, c.in = maps.Clone(st.held), maps.Clone(st.byOID), maps.Clone(st.others), nil
	return &c
}

// knownInput is lockedTraceQuery's input for a state (see traceInput), kept as it is built: the
// arrays' elements, without braces, and the relations they list. A statement usually only adds to
// what the transaction holds, so the next state's input is this one with what it added (see advanceTrace),
// not built again from every lock held, which cost as much as the read once thousands were.
type knownInput struct {
	locks, oid, tid, itid, scans, missing []byte
	rels                                  map[uint32]bool
}

// addLock adds a held lock to in.
func (in *knownInput) addLock(code int64) {
	if len(in.locks) > 0 {
		in.locks = append(in.locks, ',')
	}
	in.locks = strconv.AppendInt(in.locks, code, 10)
}

// addRelation adds to in the relation oid, held, if st knows it (a relation read, or one the trace
// leaves out), with where its rows were and its scan counter, and its fast defaults.
func (in *knownInput) addRelation(st *traceState, oid uint32) {
	if in.rels[oid] {
		return
	}
	var ctid, ictid string
	scan := int64(-1)
	if r, ok := st.byOID[oid]; ok {
		ctid, ictid = r.CTID, r.IndexCTID
		if r.Kind == "r" || r.Kind == "m" || r.Kind == "t" || r.Kind == "p" {
			scan = r.SeqScan
		}
	} else if c, ok := st.others[oid]; ok {
		ctid = c
	} else {
		return
	}
	in.rels[oid] = true
	if len(in.oid) > 0 {
		in.oid, in.tid, in.itid, in.scans = append(in.oid, ','), append(in.tid, ','), append(in.itid, ','), append(in.scans, ',')
	}
	in.oid = strconv.AppendUint(in.oid, uint64(oid), 10)
	in.tid = strconv.AppendQuote(in.tid, ctid)
	if ictid == "" {
		ictid = "(0,0)"
	}
	in.itid = strconv.AppendQuote(in.itid, ictid)
	in.scans = strconv.AppendInt(in.scans, scan, 10)
}

// addMissing adds to in the fast defaults items lists of relations in lists.
func (in *knownInput) addMissing(items []traceItem) {
	for _, m := range items {
		if in.rels[m.Rel] {
			if len(in.missing) > 0 {
				in.missing = append(in.missing, ',')
			}
			in.missing = strconv.AppendUint(in.missing, uint64(m.Rel), 10)
		}
	}
}

// buildInput is st's knownInput, built from every lock it holds.
func (st *traceState) buildInput() *knownInput {
	in := &knownInput{rels: map[uint32]bool{}}
	for code := range st.held {
		in.addLock(code)
		if l := decodeLock(code); l.Locktype == "relation" && l.OID != 0 {
			in.addRelation(st, l.OID)
		}
	}
	in.addMissing(st.Missing)
	return in
}

// knownLocked is lockedTraceQuery's input: the locks st held, the relations it held locks on, with
// where their catalog rows were, their scan counters, those with a fast default, st's traceCounts and
// the mark its read left.
func (st *traceState) knownLocked() traceInput {
	if st.in == nil {
		st.in = st.buildInput()
	}
	array := func(b []byte) string { return "{" + string(b) + "}" }
	in := traceInput{locks: array(st.in.locks), oid: array(st.in.oid), tid: array(st.in.tid), itid: array(st.in.itid),
		scans: array(st.in.scans), missing: array(st.in.missing), expect: st.mark, nsp: tids(st.Nsps)}
	if st.Counts != nil {
		in.counts = fmt.Sprintf("{%d,%d,%d,%d,%d}", st.Counts[0], st.Counts[1], st.Counts[2], st.Counts[3], st.Counts[4])
	}
	return in
}

// advanceTrace is the state after a statement and the statement's evidence, given prev, the state before
// it, and locked, what lockedTraceQuery read with prev's input: prev with the locks taken and let go
// of, the relations read again (locked.Rels) replaced, those dropped (locked.Gone) taken out, the scan
// counters that changed (locked.Scans). It costs what changed, not what the transaction holds: the new
// state takes prev's maps over and changes them (prev is not to be used again), and the evidence is
// drawn from the relations that changed only, as diffTrace draws it from all of them.
func advanceTrace(prev, locked *traceState, preexisting map[uint32]bool) (*traceState, lint.Evidence) {
	covered := map[uint32]bool{}
	for _, r := range locked.Rels {
		covered[r.OID] = true
	}
	for _, oid := range locked.Gone {
		covered[oid] = true
	}
	for _, o := range locked.Other {
		covered[o.OID] = true
	}
	cur := &traceState{Counts: locked.Counts, Nsps: locked.Nsps, mark: locked.mark, held: prev.held, byOID: prev.byOID, others: prev.others, in: prev.in}
	if cur.Nsps == nil {
		cur.Nsps = prev.Nsps
	}
	prev.held, prev.byOID, prev.others, prev.in = nil, nil, nil, nil
	if cur.held == nil {
		cur.held = map[int64]bool{}
	}
	if cur.byOID == nil {
		cur.byOID = map[uint32]traceRel{}
	}
	if cur.others == nil {
		cur.others = map[uint32]string{}
	}
	// was holds what the relations that change were before.
	was := make(map[uint32]traceRel, len(covered)+len(locked.Scans))
	// rebuild: a relation the input lists changed, or a lock was let go of: the input is built again.
	rebuild := cur.in == nil || len(locked.Removed) > 0
	newly := map[uint32]bool{}
	for _, n := range locked.Added {
		if l := decodeLock(n); l.Locktype == "relation" {
			newly[l.OID] = true
		}
	}
	otherWas := map[uint32]string{}
	for oid := range covered {
		if r, ok := cur.byOID[oid]; ok {
			was[oid] = r
		}
		otherWas[oid] = cur.others[oid]
		// Read again though locked in no new mode (its row moved, back after a rollback…): built again.
		rebuild = rebuild || !newly[oid]
		delete(cur.byOID, oid)
		delete(cur.others, oid)
	}
	for _, sc := range locked.Scans {
		if r, ok := cur.byOID[uint32(sc[0])]; ok {
			if _, seen := was[r.OID]; !seen {
				was[r.OID] = r
			}
			r.SeqScan = sc[1]
			cur.byOID[r.OID] = r
			rebuild = rebuild || cur.in.rels[r.OID]
		}
	}
	for _, r := range locked.Rels {
		cur.byOID[r.OID] = r
	}
	for _, o := range locked.Other {
		cur.others[o.OID] = o.CTID
	}
	// A relation the input lists, read again (locked in a new mode, or its row moved), is built
	// again when what the input says of it changed.
	for oid := range covered {
		if !rebuild && cur.in.rels[oid] {
			b, r := was[oid], cur.byOID[oid]
			rebuild = cur.others[oid] != otherWas[oid] || b.CTID != r.CTID || b.IndexCTID != r.IndexCTID || b.SeqScan != r.SeqScan ||
				slices.ContainsFunc(locked.Missing, func(m traceItem) bool { return m.Rel == oid }) ||
				slices.ContainsFunc(prev.Missing, func(m traceItem) bool { return m.Rel == oid })
		}
	}
	for _, n := range locked.Removed {
		delete(cur.held, n)
	}
	for _, n := range locked.Added {
		cur.held[n] = true
	}

	// Fast defaults and invalid indexes change only on relations read again.
	kept := func(prev []traceItem) (out, gone []traceItem) {
		for _, x := range prev {
			if covered[x.Rel] {
				gone = append(gone, x)
			} else {
				out = append(out, x)
			}
		}
		return out, gone
	}
	missing, oldMissing := kept(prev.Missing)
	invalid, oldInvalid := kept(prev.Invalid)
	cur.Missing, cur.Invalid = append(missing, locked.Missing...), append(invalid, locked.Invalid...)

	if rebuild {
		cur.in = nil // built again when asked (knownLocked)
	} else {
		for _, n := range locked.Added {
			cur.in.addLock(n)
			if l := decodeLock(n); l.Locktype == "relation" && l.OID != 0 {
				cur.in.addRelation(cur, l.OID)
			}
		}
		cur.in.addMissing(locked.Missing)
	}

	var ev lint.Evidence
	for _, n := range locked.Added {
		l := decodeLock(n)
		if l.Locktype != "relation" || l.OID == 0 {
			continue
		}
		rel, ok := cur.byOID[l.OID]
		dropped := false
		if !ok {
			rel, ok = was[l.OID]
			dropped = true
		}
		if !ok || sequenceNoise(rel.Kind, l.Mode) {
			continue // a relation created and dropped within the statement, or a sequence's use
		}
		ev.Locks = append(ev.Locks, lint.LockEvidence{Relation: rel.Name, Mode: l.Mode, Dropped: dropped, Preexisting: preexisting[l.OID], Kind: rel.Kind})
	}
	sortLocks(ev.Locks)
	for oid, b := range was {
		if r, ok := cur.byOID[oid]; ok {
			ev.Rewritten, ev.Scanned = changedRelation(b, r, preexisting, ev.Rewritten, ev.Scanned)
		}
	}
	for _, m := range locked.Missing {
		if !slices.Contains(oldMissing, m) {
			ev.FastDefault = append(ev.FastDefault, m.Name)
		}
	}
	for _, m := range locked.Invalid {
		if !slices.Contains(oldInvalid, m) {
			ev.InvalidIndexes = append(ev.InvalidIndexes, m.Name)
			if m.Kind == "I" {
				ev.InvalidPartitioned = append(ev.InvalidPartitioned, m.Name)
			}
		}
	}
	ev.ClearedIndexes = clearedIndexes(&traceState{Invalid: oldInvalid}, &traceState{Invalid: locked.Invalid})
	sortEvidence(&ev)
	return cur, ev
}

// sortLocks puts the locks of evidence in order of relation and mode, then the relation dropped first:
// a rewrite that builds a primary key again locks the old and the new one, both of its name, and the
// order of the two must not be the order the server listed them in.
func sortLocks(locks []lint.LockEvidence) {
	sort.Slice(locks, func(i, j int) bool {
		a, b := locks[i], locks[j]
		if a.Relation != b.Relation {
			return a.Relation < b.Relation
		}
		if a.Mode != b.Mode {
			return a.Mode < b.Mode
		}
		if a.Dropped != b.Dropped {
			return a.Dropped
		}
		if a.Preexisting != b.Preexisting {
			return a.Preexisting
		}
		return a.Kind < b.Kind
	})
}

// sortEvidence puts the relations of ev in order of name: they come in pg_locks order, or a map's,
// which change from run to run.
func sortEvidence(ev *lint.Evidence) {
	for _, names := range [][]string{ev.Rewritten, ev.Scanned, ev.FastDefault, ev.InvalidIndexes, ev.InvalidPartitioned, ev.ClearedIndexes} {
		slices.Sort(names)
	}
}

// changedRelation adds r to rewritten when it has a new filenode since b and to scanned when it was
// scanned since, r being a relation that existed before the migration.
func changedRelation(b, r traceRel, preexisting map[uint32]bool, rewritten, scanned []string) ([]string, []string) {
	// A sequence gets a new relfilenode from ALTER SEQUENCE … RESTART, INCREMENT, CACHE and the like: one
	// row written again, no rewrite of anything that costs.
	if b.Filenode != nil && r.Filenode != nil && *b.Filenode != *r.Filenode && preexisting[r.OID] && r.Kind != "S" {
		rewritten = append(rewritten, r.Name)
	}
	if r.SeqScan > b.SeqScan && (r.Kind == "r" || r.Kind == "m" || r.Kind == "t" || r.Kind == "p") && preexisting[r.OID] {
		scanned = append(scanned, r.Name)
	}
	return rewritten, scanned
}

// diffTrace is the evidence of what changed between two states, both read whole (fullTraceQuery), or
// one of them: it goes through every lock and relation (see advanceTrace for a statement's own).
func diffTrace(before, after *traceState, preexisting map[uint32]bool) lint.Evidence {
	var ev lint.Evidence
	for _, n := range slices.Sorted(maps.Keys(after.held)) {
		l := decodeLock(n)
		if before.held[n] || l.Locktype != "relation" || l.OID == 0 {
			continue
		}
		rel, ok := after.byOID[l.OID]
		dropped := false
		if !ok {
			rel, ok = before.byOID[l.OID]
			dropped = true
		}
		if !ok {
			continue // a relation created and dropped within the statement
		}
		if sequenceNoise(rel.Kind, l.Mode) {
			continue
		}
		ev.Locks = append(ev.Locks, lint.LockEvidence{Relation: rel.Name, Mode: l.Mode, Dropped: dropped, Preexisting: preexisting[l.OID], Kind: rel.Kind})
	}
	sortLocks(ev.Locks)
	for _, r := range after.byOID {
		if b, ok := before.byOID[r.OID]; ok {
			ev.Rewritten, ev.Scanned = changedRelation(b, r, preexisting, ev.Rewritten, ev.Scanned)
		}
	}
	for _, m := range after.Missing {
		if !slices.Contains(before.Missing, m) {
			ev.FastDefault = append(ev.FastDefault, m.Name)
		}
	}
	for _, m := range after.Invalid {
		if !slices.Contains(before.Invalid, m) {
			ev.InvalidIndexes = append(ev.InvalidIndexes, m.Name)
			if m.Kind == "I" {
				ev.InvalidPartitioned = append(ev.InvalidPartitioned, m.Name)
			}
		}
	}
	ev.ClearedIndexes = clearedIndexes(before, after)
	sortEvidence(&ev)
	return ev
}

// clearedIndexes lists the indexes INVALID in before that are not in after: made valid (ALTER INDEX …
// ATTACH PARTITION of the last partition's index validates the partitioned index) or dropped. They are
// matched by OID, so a rename is not taken for one.
func clearedIndexes(before, after *traceState) []string {
	var out []string
	for _, m := range before.Invalid {
		if !slices.ContainsFunc(after.Invalid, func(x traceItem) bool { return x.Rel == m.Rel }) {
			out = append(out, m.Name)
		}
	}
	return out
}

// sequenceNoise tells whether a lock is one every use of a sequence takes (ROW EXCLUSIVE: nextval,
// setval and currval, an INSERT drawing a column default), which says nothing of risk, or one no nextval
// waits behind (COMMENT ON SEQUENCE's SHARE UPDATE EXCLUSIVE). What ALTER SEQUENCE takes (SHARE ROW
// EXCLUSIVE: every nextval waits behind it) and stronger (RENAME, SET UNLOGGED, TRUNCATE … RESTART
// IDENTITY: ACCESS EXCLUSIVE) is kept, so that one run by a DO block or a function, which no rule reads,
// is still seen (measured on 15 from pg_locks).
func sequenceNoise(kind, mode string) bool {
	if kind != "S" {
		return false
	}
	switch mode {
	case "AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock":
		return true
	}
	return false
}

// ConcurrentTracer traces statements that run outside a transaction (CREATE INDEX CONCURRENTLY and
// friends): each runs in autocommit on the migration's connection while a second connection polls
// pg_locks for that backend, and compares relations and indexes before and after. A CONCURRENTLY
// statement waits for the polls where it locks a relation it names (see concurrentgate.go), so those
// locks are seen every time; what else a statement run in autocommit locks is seen when a poll comes
// while it holds it.
//
// Such a script may open transaction blocks of its own (BEGIN … COMMIT, psql style). The observer
// cannot see what a statement inside one changed (its catalog rows are uncommitted, and the scan
// counters are the transaction's own), so inside a block the state is read on the run connection, idle
// between statements, as Tracer does (see Exec).
type ConcurrentTracer struct {
	run, observe *pgx.Conn
	file         string
	pid          uint32
	prev         *traceState
	preexisting  map[uint32]bool
	Evidence     []lint.Evidence
	// PollEvery is the lock polling interval (default 2 ms). For the first BusyPoll of a statement
	// (default 20 ms) the locks are polled back to back: on a throwaway database most statements take
	// a few milliseconds, and a 2 ms period missed the locks of an index built in 2.2.
	PollEvery, BusyPoll time.Duration
}

// NewConcurrentTracer starts tracing statements run on run, observed from observe.
func NewConcurrentTracer(ctx context.Context, run, observe *pgx.Conn, file string) (*ConcurrentTracer, error) {
	// Before the migration's first statement, so that no statement_timeout it sets cancels their parse.
	if err := prepareSafe(ctx, run, traceStatements()...); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	st, err := readTraceState(ctx, observe)
	if err != nil {
		return nil, err
	}
	pre := make(map[uint32]bool, len(st.byOID))
	for oid := range st.byOID {
		pre[oid] = true
	}
	return &ConcurrentTracer{run: run, observe: observe, file: file, pid: run.PgConn().PID(), prev: st, preexisting: pre, PollEvery: 2 * time.Millisecond, BusyPoll: 20 * time.Millisecond}, nil
}

// pollWait is how long to wait before the next poll, elapsed into the statement.
func (t *ConcurrentTracer) pollWait(elapsed time.Duration) time.Duration {
	if elapsed < t.BusyPoll {
		return 0
	}
	return t.PollEvery
}

// Exec runs one statement on the run connection while polling its locks; it returns the statement's
// own error (nil when it succeeded) after recording its evidence.
func (t *ConcurrentTracer) Exec(ctx context.Context, stmt *sqlparse.Statement) error {
	seen := map[string]lint.LockEvidence{}
	oids := map[string]uint32{}
	// Relations the observer cannot see yet (the index being built) are left out: they are new.
	const pollSQL = `SELECT c.oid::int8, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind::text, l.mode
		FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE l.pid = $1 AND l.locktype = 'relation' AND l.relation >= 16384`
	poll := func(record bool) error {
		rows, err := t.observe.Query(ctx, pollSQL, t.pid)
		if err != nil {
			return fmt.Errorf("trace: poll locks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var oid int64
			var rel, kind, mode string
			if err := rows.Scan(&oid, &rel, &kind, &mode); err != nil {
				return fmt.Errorf("trace: poll locks: %w", err)
			}
			if record && !sequenceNoise(kind, mode) {
				seen[rel+"|"+mode] = lint.LockEvidence{Relation: rel, Mode: mode, Kind: kind}
				oids[rel] = uint32(oid)
			}
		}
		return rows.Err()
	}
	// One poll before the statement starts prepares the query on the observer's session, so that the
	// first real poll comes within a fraction of a millisecond.
	if err := poll(false); err != nil {
		return err
	}
	// A CONCURRENTLY statement is over too soon for the polls: it waits at gates (see concurrentgate.go).
	gates := t.openGates(ctx, stmt)
	defer closeGates(gates)
	// release lets the statement past the gates it waits at, once a poll has seen the lock it waits for
	// (it stays in pg_locks, not granted, until a gate lets it go).
	release := func() error {
		blocking, err := t.blockingGates(ctx, gates)
		if err != nil || len(blocking) == 0 {
			return err
		}
		if err := poll(true); err != nil {
			return err
		}
		for _, g := range blocking {
			if err := g.step(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	before := t.run.PgConn().TxStatus()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- ExecStatement(ctx, t.run, stmt) }()
	var execErr error
	for polling := true; polling; {
		select {
		case execErr = <-done:
			polling = false
		case <-time.After(t.pollWait(time.Since(start))):
		}
		err := poll(true)
		if err == nil && polling && len(gates) > 0 {
			err = release()
		}
		if err != nil {
			if polling {
				closeGates(gates) // the statement may wait at one
				<-done
			}
			return err
		}
	}
	d := time.Since(start)
	ev, cur, err := t.evidence(ctx, stmt, before, t.run.PgConn().TxStatus(), seen, oids)
	if err != nil {
		return err
	}
	ev.File, ev.Line, ev.Column = t.file, stmt.Pos.Line, stmt.Pos.Column
	ev.IfNotExists = indexIfNotExists(stmt)
	ev.DurationMS = float64(d.Microseconds()) / 1000
	if execErr != nil {
		ev.Err = execErr.Error()
	}
	t.Evidence = append(t.Evidence, ev)
	t.prev = cur
	return execErr
}

// evidence is what stmt did, and the state after it, given the run connection's transaction status
// before and after it ('I' idle, 'T' in a transaction block, 'E' in a failed one) and the locks polled
// while it ran.
func (t *ConcurrentTracer) evidence(ctx context.Context, stmt *sqlparse.Statement, before, after byte, seen map[string]lint.LockEvidence, oids map[string]uint32) (lint.Evidence, *traceState, error) {
	kind, chain := transactionKind(stmt)
	switch {
	case after == 'E':
		// The statement failed inside a block, which answers nothing but ROLLBACK now, and whose
		// changes are undone: the state stays as before it, only the locks it waited for or took are
		// known.
		return lint.Evidence{Locks: t.newLocks(seen, oids, t.prev)}, t.prev, nil
	case after == 'T' && before != 'I' && !chain && (before == 'E' || kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO):
		// ROLLBACK TO SAVEPOINT undid part of the block and released the locks taken since: what it
		// undid is no change of its own, and relations no longer locked may be other than the state
		// before says, so all of them are read again.
		cur, err := readSpared(ctx, t.run, fullTraceQuery, traceInput{})
		if err != nil {
			return lint.Evidence{}, nil, err
		}
		return lint.Evidence{Locks: t.newLocks(seen, oids, cur)}, cur, nil
	case after == 'T' && !(before != 'I' && chain):
		// Inside the script's own transaction block, only the run connection sees the statement's
		// rewrites (its new filenodes are not committed) and scans (pg_stat_get_xact_numscans counts the
		// transaction's own): read there, as Tracer does. The block keeps its locks to its end, so they
		// are read there too, with the relations the block created, which the observer cannot see.
		locked, err := readSpared(ctx, t.run, lockedTraceQuery, t.prev.knownLocked())
		if err != nil {
			return lint.Evidence{}, nil, err
		}
		cur, ev := advanceTrace(t.prev, locked, t.preexisting)
		return ev, cur, nil
	}
	cur, err := readTraceState(ctx, t.observe)
	if err != nil {
		return lint.Evidence{}, nil, err
	}
	if before != 'I' {
		// The statement ended a block (COMMIT, ROLLBACK, COMMIT of a failed one, or either AND CHAIN,
		// whose new block starts with nothing uncommitted). What the block changed was recorded at the
		// statements that changed it, read inside it; the state before this one is that of the block's
		// last statement, which a rollback undoes (filenodes back as they were) and whose scan counters
		// were the block's: a diff would blame the end of the block for the block's rewrites. An index
		// the block left INVALID that a rollback took away is gone, though.
		return lint.Evidence{Locks: t.newLocks(seen, oids, cur), ClearedIndexes: clearedIndexes(t.prev, cur)}, cur, nil
	}
	ev := diffTrace(t.prev, cur, t.preexisting)
	ev.Locks = polledLocks(seen, oids, t.prev, cur, t.preexisting)
	ev.Concurrent = true
	return ev, cur, nil
}

// indexIfNotExists tells whether stmt is a CREATE INDEX … IF NOT EXISTS, which invalid-index judges a
// retry of by (lint.Evidence.IfNotExists): it is read here, where the statement is, as a file with no
// static finding gives the evidence no facts of its statements.
func indexIfNotExists(stmt *sqlparse.Statement) bool {
	ix := stmt.Node.GetIndexStmt()
	return ix != nil && ix.IfNotExists
}

// transactionKind is the kind of stmt when it is transaction control (-1 otherwise), and whether it
// is COMMIT or ROLLBACK AND CHAIN.
func transactionKind(stmt *sqlparse.Statement) (pg_query.TransactionStmtKind, bool) {
	if stmt == nil || stmt.Node == nil || stmt.Node.GetTransactionStmt() == nil {
		return -1, false
	}
	ts := stmt.Node.GetTransactionStmt()
	chain := ts.Chain && (ts.Kind == pg_query.TransactionStmtKind_TRANS_STMT_COMMIT || ts.Kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK)
	return ts.Kind, chain
}

// newLocks is polledLocks without those the run connection's transaction held before the statement
// (t.prev.Locks, read on it inside the block): a poll sees every lock the block holds, not only the
// statement's.
func (t *ConcurrentTracer) newLocks(seen map[string]lint.LockEvidence, oids map[string]uint32, after *traceState) []lint.LockEvidence {
	held := map[string]bool{}
	for _, l := range t.prev.locks() {
		if l.Locktype == "relation" && l.OID != 0 {
			held[fmt.Sprint(l.OID, "|", l.Mode)] = true
		}
	}
	var out []lint.LockEvidence
	for _, l := range polledLocks(seen, oids, t.prev, after, t.preexisting) {
		if !held[fmt.Sprint(oids[l.Relation], "|", l.Mode)] {
			out = append(out, l)
		}
	}
	return out
}

// polledLocks is the evidence of the locks a poll saw (seen, keyed by relation and mode, with each
// relation's OID in oids), between the states before and after the statement. DROP INDEX
// CONCURRENTLY takes ACCESS EXCLUSIVE on the index it then drops: a lock on a relation gone when the
// statement ends is the drop's, as in a transaction's trace.
func polledLocks(seen map[string]lint.LockEvidence, oids map[string]uint32, before, after *traceState, preexisting map[uint32]bool) []lint.LockEvidence {
	out := make([]lint.LockEvidence, 0, len(seen))
	for _, l := range seen {
		oid := oids[l.Relation]
		l.Preexisting = preexisting[oid]
		_, was := before.byOID[oid]
		_, is := after.byOID[oid]
		l.Dropped = was && !is
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Relation+out[i].Mode < out[j].Relation+out[j].Mode
	})
	return out
}
