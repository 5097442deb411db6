package pg

import (
	"context"
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

// traceCounts are the transaction's updates and deletes of pg_attribute, pg_index and pg_namespace
// rows (pg_stat_get_xact_tuples_updated and _deleted, which count every write of the session's
// transaction and never go down in it, a rolled-back subtransaction's included): while one stays the
// same, no column was renamed or dropped (which changes a fast default's name or takes it away with no
// update of the table's pg_class row), no index changed validity, no schema was renamed.
type traceCounts [3]int64

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
	// Plain lists the locked ordinary tables named as the INSERT the read was for (traceInput.target)
	// that nothing of their own runs code or reaches other relations by data on an INSERT: no user
	// trigger, rule or row security, no foreign key to a partitioned table.
	Plain   []uint32     `json:"plain"`
	Counts  *traceCounts `json:"counts"`  // nil: not known (a full read, another transaction's)
	LockIDs []int64      `json:"locks"`   // see lockCode
	Missing []traceItem  `json:"missing"` // columns with a fast default (atthasmissing)
	Invalid []traceItem  `json:"invalid"` // invalid indexes
	Locks   []traceLock  `json:"-"`
	byOID   map[uint32]traceRel
	// others are the relations left out of the trace that the state knows where they were (Other).
	others map[uint32]string
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
// indexes against 2 s untraced; 5 min for 600 tables, 1,919 statements, against 15 s). lockedTraceQuery
// takes, in settings (see traceInput), the relations the state before knew locked, with where their
// pg_class and pg_index rows were, and reads again only those:
//   - newly locked, or whose pg_class row moved (an update: rename, rewrite, new column, first rule or
//     trigger, row security): a TID scan of pg_class for each finds the rows still where they were
//     (one scan with ctid = ANY(array) is planned, in the session's generic plan, as a sequential
//     scan testing each row against the whole array: quadratic again);
//   - tables whose scan counter changed (pg_stat_get_xact_numscans, read for all of them, returned when
//     it differs), which only their counter is taken from;
//   - no longer locked (ROLLBACK TO SAVEPOINT released the lock and undid what was done under it);
//   - with a fast default, when pg_attribute rows were updated or deleted (traceCounts): RENAME and DROP
//     COLUMN leave the pg_class row where it was; an index, when pg_index rows were updated and its own
//     moved (validity: ALTER INDEX … ATTACH PARTITION); all of them when a schema was renamed.
//
// Whether an INSERT's target is plain (nextRun) is read for that INSERT's target only (traceInput.target):
// a second trigger on a table that has one, a foreign key or a trigger dropped, leave its row where it
// was. The session's lock list is still read whole after every statement, one number a lock (lockCode).
const traceTemplate = `WITH lks AS MATERIALIZED (
  SELECT l.locktype, l.relation, l.classid, l.objid, l.mode, l.granted FROM pg_locks l
  WHERE l.pid = pg_backend_pid() AND l.locktype IN ('relation', 'object') AND (l.relation IS NULL OR l.relation >= 16384)
),
lk AS MATERIALIZED (SELECT DISTINCT relation AS oid FROM lks WHERE locktype = 'relation'),
cnt AS MATERIALIZED (SELECT ARRAY[
    pg_stat_get_xact_tuples_updated('pg_catalog.pg_attribute'::regclass) + pg_stat_get_xact_tuples_deleted('pg_catalog.pg_attribute'::regclass),
    pg_stat_get_xact_tuples_updated('pg_catalog.pg_index'::regclass) + pg_stat_get_xact_tuples_deleted('pg_catalog.pg_index'::regclass),
    pg_stat_get_xact_tuples_updated('pg_catalog.pg_namespace'::regclass) + pg_stat_get_xact_tuples_deleted('pg_catalog.pg_namespace'::regclass)] AS n),{{TODO}}
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
 'locks', COALESCE((SELECT json_agg(` + lockCode + `) FROM lks l WHERE l.granted), '[]'),
 'missing', COALESCE((SELECT json_agg(json_build_object('rel', c.oid::bigint, 'name', quote_ident(c.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname)))
   FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid
   WHERE c.relkind IN ('r', 'p') AND a.atthasmissing AND NOT a.attisdropped AND a.attnum > 0), '[]'),
 'invalid', COALESCE((SELECT json_agg(json_build_object('rel', c.oid::bigint, 'name', quote_ident(c.nspname) || '.' || quote_ident(c.relname), 'kind', c.relkind))
   FROM rel c JOIN pg_index i ON i.indexrelid = c.oid
   WHERE c.relkind IN ('i', 'I') AND NOT i.indisvalid), '[]'),
 {{OUT}})`

var (
	fullTraceQuery = strings.NewReplacer("{{REL}}", "pg_class c", "{{TODO}}", "",
		"{{OUT}}", `'counts', NULL`).Replace(traceTemplate)
	lockedTraceQuery = strings.NewReplacer("{{REL}}", "todo CROSS JOIN LATERAL (SELECT *, ctid FROM pg_class c WHERE c.oid = todo.oid OFFSET 0) c",
		"{{TODO}}", `
flag AS MATERIALIZED (
  SELECT c.n[1] IS DISTINCT FROM i.n[1] AS att, c.n[2] IS DISTINCT FROM i.n[2] AS idx, c.n[3] IS DISTINCT FROM i.n[3] AS nsp
  FROM cnt c, (SELECT nullif(current_setting('schemagate.trace_counts', true), '')::int8[] AS n) i
),
known AS MATERIALIZED (
  SELECT k.oid, k.tid, k.itid, k.scans FROM unnest(current_setting('schemagate.trace_oid')::oid[], current_setting('schemagate.trace_tid')::tid[],
    current_setting('schemagate.trace_itid')::tid[], current_setting('schemagate.trace_scans')::int8[]) k(oid, tid, itid, scans)
),
kept AS MATERIALIZED (
  SELECT k.* FROM known k CROSS JOIN LATERAL (SELECT c.oid FROM pg_class c WHERE c.ctid = k.tid OFFSET 0) s WHERE s.oid = k.oid
),
todo AS MATERIALIZED (
  SELECT lk.oid FROM lk WHERE lk.oid NOT IN (SELECT oid FROM kept) OR (SELECT nsp FROM flag)
  UNION
  SELECT k.oid FROM known k WHERE k.oid NOT IN (SELECT oid FROM lk)
  UNION
  SELECT k.oid FROM kept k WHERE (SELECT att FROM flag) AND k.oid = ANY(current_setting('schemagate.trace_missing')::oid[])
  UNION
  SELECT k.oid FROM kept k WHERE (SELECT idx FROM flag) AND k.itid <> '(0,0)'
    AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.ctid = k.itid AND i.indexrelid = k.oid)
),`,
		"{{OUT}}", `'counts', (SELECT to_json(n) FROM cnt),
 'gone', COALESCE((SELECT json_agg(t.oid::bigint) FROM todo t WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.oid)), '[]'),
 'other', COALESCE((SELECT json_agg(json_build_object('oid', c.oid::bigint, 'ctid', c.ctid::text))
   FROM todo t JOIN pg_class c ON c.oid = t.oid WHERE t.oid NOT IN (SELECT oid FROM rel)), '[]'),
 'scans', COALESCE((SELECT json_agg(json_build_array(k.oid::bigint, s.n)) FROM kept k
   CROSS JOIN LATERAL (SELECT pg_stat_get_xact_numscans(k.oid) AS n) s WHERE k.scans >= 0 AND s.n <> k.scans), '[]'),
 'plain', COALESCE((SELECT json_agg(c.oid::bigint) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relname = current_setting('schemagate.trace_target', true) AND c.oid IN (SELECT oid FROM lk)
     AND (current_setting('schemagate.trace_target_nsp', true) = '' OR n.nspname = current_setting('schemagate.trace_target_nsp', true))
     AND c.relkind = 'r' AND NOT c.relhasrules AND NOT c.relrowsecurity
     AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
     AND NOT EXISTS (SELECT 1 FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
       WHERE k.conrelid = c.oid AND k.contype = 'f' AND r.relkind = 'p')), '[]')`).Replace(traceTemplate)
	// scanCountsQuery reads the scan counters of the session's transaction that are not zero: with a
	// carried-over state, they are all a new transaction needs to know (the counters are per
	// transaction, the rest of the state is catalog rows, which reads and rolled-back round trips leave
	// as they were).
	scanCountsQuery = `SELECT COALESCE(json_agg(json_build_array(c.oid::bigint, s.n)), '[]') FROM pg_class c
  CROSS JOIN LATERAL (SELECT pg_stat_get_xact_numscans(c.oid) AS n) s
  WHERE c.oid >= 16384 AND c.relkind IN ('r', 'm', 't', 'p') AND s.n > 0`
)

// traceInput is lockedTraceQuery's input, as settings of the transaction (see readSpared): the
// relations the state before knew locked (oid, tid), where their pg_index rows were (itid, "(0,0)" for
// a relation that is no index), their scan counters (scans, -1 for a relation that is no table), the
// relations with a fast default (missing), the traceCounts then (counts, "" when not known), and the
// table an INSERT of literal rows named (target, and its schema when the INSERT names one).
type traceInput struct {
	oid, tid, itid, scans, missing, counts, target, targetNsp string
}

func readTraceState(ctx context.Context, conn *pgx.Conn) (*traceState, error) {
	return readTrace(ctx, conn, fullTraceQuery)
}

func readTrace(ctx context.Context, conn *pgx.Conn, query string) (*traceState, error) {
	var raw []byte
	if err := conn.QueryRow(ctx, query).Scan(&raw); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	return decodeTrace(raw)
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
	batch.Queue(spareTimeout)
	batch.Queue(traceInputSQL,
		orEmpty(in.oid), orEmpty(in.tid), orEmpty(in.itid), orEmpty(in.scans), orEmpty(in.missing), in.counts, in.target, in.targetNsp)
	batch.Queue(query)
	batch.Queue("SELECT " + restoreTimeout)
	res := conn.SendBatch(ctx, batch)
	defer res.Close()
	var raw []byte
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
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
	return decodeTrace(raw)
}

// traceInputSQL puts readSpared's input in settings of the transaction.
const traceInputSQL = `SELECT set_config('schemagate.trace_oid', $1, true), set_config('schemagate.trace_tid', $2, true),
  set_config('schemagate.trace_itid', $3, true), set_config('schemagate.trace_scans', $4, true),
  set_config('schemagate.trace_missing', $5, true), set_config('schemagate.trace_counts', $6, true),
  set_config('schemagate.trace_target', $7, true), set_config('schemagate.trace_target_nsp', $8, true)`

// traceStatements are the statements readSpared runs, prepared when a Tracer starts (see prepareSpared).
func traceStatements() []string {
	return []string{spareTimeout, traceInputSQL, fullTraceQuery, lockedTraceQuery, "SELECT " + restoreTimeout}
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
	st.Locks = make([]traceLock, len(st.LockIDs))
	for i, n := range st.LockIDs {
		st.Locks[i] = decodeLock(n)
	}
	st.LockIDs = nil
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
	if err := prepareSpared(ctx, conn, traceStatements()...); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	var st *traceState
	if from == nil || from.st == nil {
		var err error
		if st, err = readTraceState(ctx, conn); err != nil {
			return nil, err
		}
	} else {
		var raw []byte
		if err := conn.QueryRow(ctx, scanCountsQuery).Scan(&raw); err != nil {
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
		st = &traceState{Missing: prev.Missing, Invalid: prev.Invalid, byOID: make(map[uint32]traceRel, len(prev.byOID)), others: prev.others}
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
	ev.File, ev.Line, ev.Column = t.file, stmt.Pos.Line, stmt.Pos.Column
	ev.IfNotExists = indexIfNotExists(stmt)
	ev.DurationMS = float64(d.Microseconds()) / 1000
	t.Evidence = append(t.Evidence, ev)
	t.prev = cur
	t.repeat = nextRun(t.repeat, shape, cur, set(locked.Plain), ev)
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
// after it and the evidence of what changed since the state before, checked against a read of every
// relation in Verify mode.
func (t *Tracer) read(ctx context.Context, in traceInput) (locked, cur *traceState, ev lint.Evidence, err error) {
	if locked, err = readLocked(ctx, t.conn, in); err != nil {
		return nil, nil, ev, err
	}
	cur = mergeTrace(t.prev, locked)
	ev = diffTrace(t.prev, cur, t.preexisting)
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
	before := t.prevFull
	if before == nil {
		before = t.prev
	}
	if want := diffTrace(before, full, t.preexisting); !reflect.DeepEqual(ev, want) {
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
	locked := make(map[uint32]bool, len(full.Locks))
	for _, l := range full.Locks {
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
	locks := func(l []traceLock) []traceLock {
		return slices.SortedFunc(slices.Values(l), func(a, b traceLock) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	}
	if a, b := locks(cur.Locks), locks(full.Locks); !slices.Equal(a, b) {
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
// plain table (traceState.Plain) it takes the same locks as the INSERT of that shape before it, and scans
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
// evidence ev, the state being cur. The run holds while its target is a plain table that the statement
// holds a RowExclusiveLock on (the one its name finds, unqualified: a single such table), and becomes
// steady when a second INSERT of its shape took nothing new.
func nextRun(run *insertRun, shape *insertShape, cur *traceState, plain map[uint32]bool, ev lint.Evidence) *insertRun {
	if shape == nil || !plainTarget(shape, cur, plain) {
		return nil
	}
	if run != nil && run.shape == *shape {
		quiet := len(ev.Locks) == 0 && len(ev.Rewritten) == 0 && len(ev.Scanned) == 0 && len(ev.FastDefault) == 0 &&
			len(ev.InvalidIndexes) == 0 && ev.Err == ""
		return &insertRun{shape: *shape, steady: quiet}
	}
	return &insertRun{shape: *shape}
}

// plainTarget tells whether the table an INSERT of shape wrote is plain (in plain, read for that
// INSERT: see traceState.Plain), found among the tables the transaction holds a RowExclusiveLock on by
// its name (and schema, when the statement names one).
func plainTarget(shape *insertShape, cur *traceState, plain map[uint32]bool) bool {
	var found []traceRel
	seen := map[uint32]bool{}
	for _, l := range cur.Locks {
		if l.Locktype != "relation" || l.OID == 0 || l.Mode != "RowExclusiveLock" || seen[l.OID] {
			continue
		}
		seen[l.OID] = true
		r, ok := cur.byOID[l.OID]
		if ok && r.Table == shape.table && (shape.schema == "" || r.Schema == shape.schema) && r.Kind != "i" && r.Kind != "I" {
			found = append(found, r)
		}
	}
	return len(found) == 1 && plain[found[0].OID]
}

// mergeTrace is prev with the relations locked (and read) in locked brought up to date: their rows,
// columns and indexes replaced, or removed when the relation is gone. Locks come from locked.
// knownLocked is lockedTraceQuery's input: the relations st held locks on, with where their catalog
// rows were, their scan counters, those with a fast default, and st's traceCounts.
func (st *traceState) knownLocked() traceInput {
	var oid, tid, itid, scans, missing []byte
	seen := map[uint32]bool{}
	add := func(o uint32, ctid, ictid string, scan int64) {
		if len(oid) > 0 {
			oid, tid, itid, scans = append(oid, ','), append(tid, ','), append(itid, ','), append(scans, ',')
		}
		oid = strconv.AppendUint(oid, uint64(o), 10)
		tid = strconv.AppendQuote(tid, ctid)
		if ictid == "" {
			ictid = "(0,0)"
		}
		itid = strconv.AppendQuote(itid, ictid)
		scans = strconv.AppendInt(scans, scan, 10)
	}
	for _, l := range st.Locks {
		if l.Locktype != "relation" || l.OID == 0 || seen[l.OID] {
			continue
		}
		seen[l.OID] = true
		if r, ok := st.byOID[l.OID]; ok {
			scan := int64(-1)
			if r.Kind == "r" || r.Kind == "m" || r.Kind == "t" || r.Kind == "p" {
				scan = r.SeqScan
			}
			add(r.OID, r.CTID, r.IndexCTID, scan)
		} else if ctid, ok := st.others[l.OID]; ok {
			add(l.OID, ctid, "", -1)
		}
	}
	for _, m := range st.Missing {
		if seen[m.Rel] {
			if len(missing) > 0 {
				missing = append(missing, ',')
			}
			missing = strconv.AppendUint(missing, uint64(m.Rel), 10)
		}
	}
	array := func(b []byte) string { return "{" + string(b) + "}" }
	in := traceInput{oid: array(oid), tid: array(tid), itid: array(itid), scans: array(scans), missing: array(missing)}
	if st.Counts != nil {
		in.counts = fmt.Sprintf("{%d,%d,%d}", st.Counts[0], st.Counts[1], st.Counts[2])
	}
	return in
}

// mergeTrace is the state after a statement: prev, with the relations locked read again (locked.Rels)
// replaced, those dropped (locked.Gone) taken out, the scan counters that changed (locked.Scans) and
// the locked ones that lockedTraceQuery found unchanged kept.
func mergeTrace(prev, locked *traceState) *traceState {
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
	cur := &traceState{Locks: locked.Locks, Counts: locked.Counts, byOID: maps.Clone(prev.byOID), others: maps.Clone(prev.others)}
	if cur.byOID == nil {
		cur.byOID = map[uint32]traceRel{}
	}
	if cur.others == nil {
		cur.others = map[uint32]string{}
	}
	for oid := range covered {
		delete(cur.byOID, oid)
		delete(cur.others, oid)
	}
	for _, sc := range locked.Scans {
		if r, ok := cur.byOID[uint32(sc[0])]; ok {
			r.SeqScan = sc[1]
			cur.byOID[r.OID] = r
		}
	}
	for _, r := range locked.Rels {
		cur.byOID[r.OID] = r
	}
	for _, o := range locked.Other {
		cur.others[o.OID] = o.CTID
	}
	keep := func(prev, now []traceItem) []traceItem {
		var out []traceItem
		for _, x := range prev {
			if !covered[x.Rel] {
				out = append(out, x)
			}
		}
		return append(out, now...)
	}
	cur.Missing = keep(prev.Missing, locked.Missing)
	cur.Invalid = keep(prev.Invalid, locked.Invalid)
	return cur
}

func diffTrace(before, after *traceState, preexisting map[uint32]bool) lint.Evidence {
	var ev lint.Evidence
	held := make(map[traceLock]bool, len(before.Locks))
	for _, l := range before.Locks {
		held[l] = true
	}
	seen := map[traceLock]bool{}
	for _, l := range after.Locks {
		if held[l] || seen[l] || l.Locktype != "relation" || l.OID == 0 {
			continue
		}
		seen[l] = true
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
	sort.Slice(ev.Locks, func(i, j int) bool {
		if ev.Locks[i].Relation != ev.Locks[j].Relation {
			return ev.Locks[i].Relation < ev.Locks[j].Relation
		}
		return ev.Locks[i].Mode < ev.Locks[j].Mode
	})
	for _, r := range after.byOID {
		b, ok := before.byOID[r.OID]
		if !ok {
			continue
		}
		// A sequence gets a new relfilenode from ALTER SEQUENCE … RESTART, INCREMENT, CACHE and the like: one
		// row written again, no rewrite of anything that costs.
		if b.Filenode != nil && r.Filenode != nil && *b.Filenode != *r.Filenode && preexisting[r.OID] && r.Kind != "S" {
			ev.Rewritten = append(ev.Rewritten, r.Name)
		}
		if r.SeqScan > b.SeqScan && (r.Kind == "r" || r.Kind == "m" || r.Kind == "t" || r.Kind == "p") && preexisting[r.OID] {
			ev.Scanned = append(ev.Scanned, r.Name)
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
	// The relations come in pg_locks order, which changes from run to run: report them by name.
	for _, names := range [][]string{ev.Rewritten, ev.Scanned, ev.FastDefault, ev.InvalidIndexes, ev.InvalidPartitioned, ev.ClearedIndexes} {
		slices.Sort(names)
	}
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
	if err := prepareSpared(ctx, run, traceStatements()...); err != nil {
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
		cur := mergeTrace(t.prev, locked)
		return diffTrace(t.prev, cur, t.preexisting), cur, nil
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
	for _, l := range t.prev.Locks {
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
