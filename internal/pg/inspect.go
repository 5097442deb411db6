package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/schema"
)

// Querier runs queries on a connection or in a transaction; *pgx.Conn and pgx.Tx satisfy it.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

var (
	_ Querier = (*pgx.Conn)(nil)
	_ Querier = (pgx.Tx)(nil)
)

// Inspect reads the catalog of the database q is connected to, leaving out the system schemas,
// objects that belong to extensions, and what schema.DefaultIgnore lists; of the built-in objects and
// the extensions' it reads the privileges that differ from their initial ones (see
// builtInPrivilegesSQL).
func Inspect(ctx context.Context, q Querier) (*schema.Catalog, error) {
	return InspectIgnoring(ctx, q, schema.DefaultIgnore)
}

// InspectIgnoring is Inspect with an explicit ignore list. It takes one round trip: the whole catalog
// comes back as a single JSON document.
func InspectIgnoring(ctx context.Context, q Querier, ig schema.Ignore) (*schema.Catalog, error) {
	var path string
	doc, err := readCatalog(ctx, q, &path, true, nil, nil, nil, "")
	if err != nil {
		return nil, err
	}
	return doc.catalog().Filter(ig), nil
}

// catalogDoc is the decoded JSON document of an inspection query (see inspectTemplate).
type catalogDoc struct {
	Schemas     []*schema.Schema     `json:"schemas"`
	Tables      []*schema.Table      `json:"tables"`
	Sequences   []*schema.Sequence   `json:"sequences"`
	Views       []*schema.View       `json:"views"`
	Functions   []*schema.Function   `json:"functions"`
	Enums       []*schema.Enum       `json:"enums"`
	Domains     []*schema.Domain     `json:"domains"`
	Composites  []*schema.Composite  `json:"composites"`
	ShellTypes  []*schema.ShellType  `json:"shell_types"`
	Extensions  []*schema.Extension  `json:"extensions"`
	Constraints []*schema.Constraint `json:"constraints"`
	Indexes     []*schema.Index      `json:"indexes"`
	Triggers    []*schema.Trigger    `json:"triggers"`
	Policies    []*schema.Policy     `json:"policies"`
	// TSConfigs and TSDicts are whole reads only: any change to them has the probe ask for one.
	TSConfigs []*schema.TextSearchConfig `json:"text_search_configurations"`
	TSDicts   []*tsDictRow               `json:"text_search_dictionaries"`
	// EventTriggers, Publications, foreign-data wrappers, servers, user mappings and casts are read
	// whole, by partial reads too.
	EventTriggers       []*schema.EventTrigger       `json:"event_triggers"`
	Publications        []*schema.Publication        `json:"publications"`
	ForeignDataWrappers []*schema.ForeignDataWrapper `json:"foreign_data_wrappers"`
	ForeignServers      []*schema.ForeignServer      `json:"foreign_servers"`
	UserMappings        []*schema.UserMapping        `json:"user_mappings"`
	Casts               []*schema.Cast               `json:"casts"`
	// Operators, operator families and classes, text search parsers and templates are read whole, by
	// partial reads too.
	Operators           []*schema.Operator           `json:"operators"`
	OperatorFamilies    []*schema.OperatorFamily     `json:"operator_families"`
	OperatorClasses     []*schema.OperatorClass      `json:"operator_classes"`
	TextSearchParsers   []*schema.TextSearchParser   `json:"text_search_parsers"`
	TextSearchTemplates []*schema.TextSearchTemplate `json:"text_search_templates"`
	// Access methods, procedural languages, conversions and transforms are read whole, by partial reads
	// too.
	AccessMethods []*schema.AccessMethod `json:"access_methods"`
	Languages     []*schema.Language     `json:"languages"`
	Conversions   []*schema.Conversion   `json:"conversions"`
	Transforms    []*schema.Transform    `json:"transforms"`
	// Roles and Memberships are whole reads only: any change to them has the probe ask for one.
	Roles       []*schema.Role       `json:"roles"`
	Memberships []*schema.Membership `json:"memberships"`
	// DefaultPrivileges are the database-wide default privileges, one line each (see
	// schema.Catalog.DefaultPrivileges): whole reads only, as roles.
	DefaultPrivileges []string `json:"database_default_privileges"`
	// DatabaseSettings are the database's own settings (see schema.Catalog.DatabaseSettings): whole
	// reads only, as roles.
	DatabaseSettings []string `json:"database_settings"`
	// Database is the database's owner, comment, connection limit, IS_TEMPLATE and ALLOW_CONNECTIONS
	// (one, see schema.Catalog.DatabaseOwner), DatabasePrivileges the privileges on it and on configuration
	// parameters (see databasePrivilegesSQL): whole reads only, as roles.
	Database []struct {
		Owner           string `json:"owner"`
		Comment         string `json:"comment"`
		ConnectionLimit string `json:"connection_limit"`
		IsTemplate      bool   `json:"is_template"`
		AllowConn       bool   `json:"allow_connections"`
	} `json:"database"`
	DatabasePrivileges []*schema.BuiltInPrivilege `json:"database_privileges"`
	// BuiltInPrivileges are the privileges on built-in objects and extensions' objects that differ
	// from their initial ones (see builtInPrivilegesSQL): whole reads only, as roles.
	BuiltInPrivileges []*schema.BuiltInPrivilege `json:"built_in_privileges"`
	Comments          []comment                  `json:"comments"`
	// User is the role the catalog was read as.
	User string `json:"user"`
	// Relations maps the OID of every relation the document covers to its qualified name.
	Relations []struct {
		OID  uint32 `json:"oid"`
		Name string `json:"name"`
	} `json:"relations"`
	// State is where the session stood (whole reads only).
	State state `json:"state"`
	// Dirty lists the owners a partial read covered: relations, functions and types (see inspectTemplate).
	Dirty struct {
		Rels  []uint32 `json:"rels"`
		Procs []uint32 `json:"procs"`
		Types []uint32 `json:"types"`
	} `json:"dirty"`
}

// readCatalog reads the whole catalog when full, otherwise only the objects that own, or depend on, the
// seed objects (classes[i], objects[i]) and the functions named like them (see inspectTemplate).
// path is the search path reads run under (see queryWithInput); a token starts the session's change log
// afresh under it (see Inspector.TrackChanges).
func readCatalog(ctx context.Context, q Querier, path *string, full bool, classes, objects []uint32, known []knownRelation, token string) (*catalogDoc, error) {
	return readCatalogAs(ctx, q, path, full, false, classes, objects, known, token)
}

// readCatalogAs is readCatalog; lean has a partial read leave out the sections every partial read
// otherwise has whole (leanSections).
func readCatalogAs(ctx context.Context, q Querier, path *string, full, lean bool, classes, objects []uint32, known []knownRelation, token string) (*catalogDoc, error) {
	query := fullInspectSQL
	input := map[string]any{}
	if token != "" {
		input["token"] = token
	}
	if !full {
		seeds := make([][2]uint32, len(classes))
		for i := range classes {
			seeds[i] = [2]uint32{classes[i], objects[i]}
		}
		input["seeds"] = seeds
		if known == nil {
			known = []knownRelation{}
		}
		input["known"] = known
		query = partialInspectSQL
		if lean {
			query = leanInspectSQL
		}
	}
	b, err := queryWithInput(ctx, q, path, input, query)
	if err != nil {
		return nil, fmt.Errorf("inspect catalog: %w", err)
	}
	var doc catalogDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("decode catalog: %w", err)
	}
	return &doc, nil
}

// queryWithInput runs one of the inspection queries, which return one JSON document, and hands it
// its input in the session setting schemagate.inspect, both in one round trip. The queries themselves
// take no parameters, so the server plans each once per session and keeps the plan (planning them costs
// more than running them). It also turns JIT compilation off for the session, and leaves it off: the
// planner's cost estimates for these catalog queries pass the JIT thresholds on larger schemas, and
// compiling them takes up to a second where running them takes milliseconds (on a throwaway database the
// same holds for the migrations' own statements, which JIT changes nothing of but their speed).
//
// The query runs under the search path a new session has (search_path's reset value), and the
// migration's is put back after it: deparsed names (format_type, pg_get_viewdef, defaults) are qualified
// or not by the search path, so a migration that sets it (pg_dump's output empties it) would otherwise
// read as changing every object outside the path. *path holds that search path once known: reading it
// from pg_settings costs about a millisecond, more than most incremental reads. That path, and the fixed
// time zone and output styles (sessionSettings), are set for the transaction alone, as spareTimeout sets
// its own: see pinInputSQL.
func queryWithInput(ctx context.Context, q Querier, path *string, input any, query string) ([]byte, error) {
	in, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	if err := prepareSpared(ctx, q, readStatements()...); err != nil {
		return nil, err
	}
	batch := &pgx.Batch{}
	// First, alone and quick, spareTimeout: no statement_timeout of the migration's cancels the read.
	batch.Queue(spareTimeout)
	batch.Queue(pinInputSQL, string(in), *path)
	batch.Queue(query)
	batch.Queue(unpinSQL)
	res := q.SendBatch(ctx, batch)
	defer res.Close()
	if _, err := res.Exec(); err != nil {
		return nil, spareCanceled(err)
	}
	var pinned string
	if err := res.QueryRow().Scan(&pinned); err != nil {
		return nil, spareCanceled(err)
	}
	// The first row's first column (EXPLAIN, which Warm runs this way, returns more rows: drained).
	rows, err := res.Query()
	if err != nil {
		return nil, err
	}
	var out []byte
	for rows.Next() {
		if out == nil {
			if err := rows.Scan(&out); err != nil {
				rows.Close()
				return nil, err
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, pgx.ErrNoRows
	}
	if _, err := res.Exec(); err != nil {
		return nil, err
	}
	*path = pinned
	return out, res.Close()
}

// spareTimeout turns statement_timeout off for what follows it in the same batch, keeping the value in
// force for restoreTimeout to put back: a migration that sets a short one (SET LOCAL statement_timeout =
// '20ms') has it for its own statements, not for the catalog reads and lock traces the rehearsal runs
// between and after them on its session, which it would cancel (a read takes longer as the schema
// grows). Each statement of a batch gets the timeout in force when it starts, so spareTimeout runs as a
// statement of its own, before the ones it spares. Both set it for the transaction alone (is_local), so
// what the migration's transaction ends with is what it would have been: a SET LOCAL of the migration's
// still ends with the transaction, and a batch outside one ends its own at its end. (The copies it
// keeps are schemagate's own settings, schemagate.*, set for the session: no statement of a migration
// reads them.)
//
// It also sets search_path, for the transaction alone as well, to pg_catalog then pg_temp, keeping the
// one in force for restoreTimeout (which ends unpinSQL too) to put back: what follows it names the
// system catalogs and calls their functions and operators unqualified, and the migration's session
// finds its temporary relations and types first when its search path does not list pg_temp (CREATE
// TEMP TABLE pg_class ... AS SELECT ... WHERE relname <> 'i' would hide an index from the read), and its
// schemas before pg_catalog when it lists them first (SET search_path = public, pg_catalog, then a
// public.pg_class or a public.quote_ident(text)). Its own calls are qualified: it runs under the
// migration's path.
const spareTimeout = `SELECT pg_catalog.set_config('schemagate.statement_timeout', pg_catalog.current_setting('statement_timeout'), false),
  pg_catalog.set_config('statement_timeout', '0', true),
  pg_catalog.set_config('schemagate.search_path', pg_catalog.current_setting('search_path'), false),
  pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)`

// ErrSpareCanceled is a catalog read or lock trace in a migration's transaction canceled by the
// statement_timeout the migration set (SET LOCAL statement_timeout = '1ms') in the one statement of the
// read's that runs under it, spareTimeout: a machine busy enough to hold the server's process longer than
// the limit cancels it, as it would cancel the migration's own statements.
var ErrSpareCanceled = errors.New("the migration's statement_timeout canceled the statement that sets it aside for schemagate's catalog read " +
	"(a statement that short outlasts it only on a busy machine, where the migration's own statements would be canceled too): " +
	"raise the migration's statement_timeout, or run the check again")

// spareCanceled is err, the error of spareTimeout or of the statement that follows it, wrapped in
// ErrSpareCanceled when it is a cancellation (57014): spareTimeout runs under the migration's limit, and
// a limit that runs out after spareTimeout's last check for interrupts is reported at the next statement's
// first check (the cancel stays pending), as "due to statement timeout" or, when spareTimeout's own timer
// replaced a pending one of the migration's statement before it, "due to user request". The statements
// after that one run without the limit: a cancellation of theirs is not the migration's, and stays as it is.
func spareCanceled(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		return err
	}
	return fmt.Errorf("%w: %w", ErrSpareCanceled, err)
}

// restoreTimeout is the SQL expression that puts back the statement_timeout and the search_path
// spareTimeout kept.
const restoreTimeout = `set_config('statement_timeout', current_setting('schemagate.statement_timeout'), true),
  set_config('search_path', current_setting('schemagate.search_path'), true)`

// restoreSQL is restoreTimeout as a statement of its own.
const restoreSQL = "SELECT " + restoreTimeout

// pinInputSQL is what queryWithInput runs before its query: in this order, it saves the settings in
// force (sessionSettings), pins them, then sets the search path (spareTimeout, before it, saved the one in
// force). unpinSQL, run after the query, puts them back; an input with a token starts the session's change
// log afresh under it (see Inspector.TrackChanges).
//
// Both pin and put back for the transaction alone (set_config's is_local), as spareTimeout and
// restoreTimeout do: the read runs in a transaction, the migration's or the implicit one of its batch,
// which ends at the batch's Sync, so what it pinned ends with it. Set for the session, the value put
// back would become the session's: inside a migration's transaction after SET LOCAL search_path = other
// or SET LOCAL TIME ZONE 'Asia/Tokyo', the setting in force is the local one, which then outlived the
// migration's COMMIT, and the session's later statements created their tables in other and read their
// timestamps in Tokyo's zone. Put back locally, the value in force is the migration's until its
// transaction ends, and then what it would be without the read: the session's value from before the
// transaction after a SET LOCAL, the value a SET in the transaction gave (a SET followed by a local
// setting keeps the SET's value at COMMIT), and no change at all after a ROLLBACK. Of the settings a
// migration sees, only jit is set for the session, off, as it is meant to stay (see queryWithInput).
//
// The reads' search path is $2, or the reset value's schemas between pg_catalog and pg_temp (readPath):
// pg_catalog comes first, where a new session has it when its path does not list it, so that what a
// migration puts in a schema before it (ALTER DATABASE ... SET search_path = public, pg_catalog, then a
// public.pg_class) does not take the place of what the reads name; and pg_temp last, so that its
// temporary relations and types do not either (CREATE TEMP TABLE pg_index ...). Neither changes the
// deparsed text of an object but one named like a system catalog's, or hidden by a temporary one of its
// name: the session's own path would find those first.
var pinInputSQL = `SELECT set_config('search_path', CASE WHEN $2 <> '' THEN $2 ELSE ` + readPath + ` END, true)
FROM (SELECT ` + pinSettings + `, saved.* FROM (SELECT set_config('schemagate.inspect', $1, false), set_config('jit', 'off', false),
  set_config('schemagate.session', json_build_array(` + pinnedSettings + `)::text, false) OFFSET 0) saved OFFSET 0) pinned`

// readPath is the search path the reads run under: search_path's reset value, without the pg_temp it
// may list, between pg_catalog and pg_temp.
const readPath = `(SELECT 'pg_catalog, ' || coalesce(nullif(btrim(regexp_replace(reset_val, '(^|,)\s*"?pg_temp(_[0-9]+)?"?\s*(?=,|$)', '', 'g'), ', '), '') || ', ', '') || 'pg_temp'
  FROM pg_settings WHERE name = 'search_path')`

// unpinSQL puts back, for the transaction, the settings pinInputSQL pinned, and (restoreTimeout) the
// search path and statement_timeout spareTimeout set aside.
var unpinSQL = `SELECT ` + restoreSettings + `,
  CASE WHEN current_setting('schemagate.inspect')::jsonb ? 'token'
    THEN set_config('` + changeLog + `', (current_setting('schemagate.inspect')::jsonb->>'token') || '|', false) END,
  ` + restoreTimeout

// readStatements are the statements of the catalog reads that run behind spareTimeout (see
// prepareSpared): those queryWithInput runs around its query, and its queries (a function: init
// completes some of them).
func readStatements() []string {
	return []string{spareTimeout, pinInputSQL, unpinSQL, fullInspectSQL, partialInspectSQL, leanInspectSQL, probeSQL, loggedProbeSQL}
}

// prepareSpared prepares on q's session those of sqls it has not prepared yet, each named by its text as
// Warm names its queries, so that a batch finds them prepared and only binds and runs them. A statement
// a batch has not prepared is parsed in a first round trip of its own, before the batch's spareTimeout
// runs: under a migration's statement_timeout, which canceled the parse of a large read after SET LOCAL
// statement_timeout = '1ms' every time. Called before the migration's first statement (the first read
// or trace of a session comes before it), it parses them under no limit of the migration's; after that,
// each call costs a lookup per statement and no round trip (pgx.Conn.Prepare). A Querier that is
// neither a connection nor a transaction prepares nothing.
//
// The statements name the system catalogs unqualified (see spareTimeout), and the server parses them
// under the session's search path: one that finds a migration's relation first (SET search_path =
// public, pg_catalog, then a view public.pg_class) may fail the parse, a column missing. The statements
// are then prepared again under pg_catalog's path, outside a transaction block (the first read or trace
// of a session comes before the migration's first statement). One that parsed under the session's path
// is parsed again under the batch's when it runs: the server does so whenever the search path differs
// from the one a statement was parsed under.
func prepareSpared(ctx context.Context, q Querier, sqls ...string) error {
	var conn *pgx.Conn
	switch c := q.(type) {
	case *pgx.Conn:
		conn = c
	case pgx.Tx:
		conn = c.Conn()
	default:
		return nil
	}
	err := prepareAll(ctx, conn, sqls)
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) || conn.PgConn().TxStatus() != 'I' {
		return err
	}
	if _, err := conn.Exec(ctx, safePathSQL); err != nil {
		return fmt.Errorf("set the search path to prepare the catalog reads: %w", err)
	}
	err = prepareAll(ctx, conn, sqls)
	if _, rerr := conn.Exec(ctx, restorePathSQL); rerr != nil && err == nil {
		err = fmt.Errorf("put the search path back after preparing the catalog reads: %w", rerr)
	}
	return err
}

// prepareSafe is prepareSpared for a Tracer, which prepares its statements before a migration's first
// statement, but may do so in the transaction block the migration runs in: a failed parse would end it.
// There the statements are prepared under pg_catalog's path, set for the transaction by spareTimeout
// and put back after (two round trips a script; the reads' statements are prepared by the session's
// first read, outside any block).
//
// Once they are all prepared on the session (see notePrepared), it costs no round trip: a Tracer's
// reads call it for every statement they trace.
func prepareSafe(ctx context.Context, conn *pgx.Conn, sqls ...string) error {
	if allPrepared(conn, sqls) {
		return nil
	}
	if conn.PgConn().TxStatus() == 'I' {
		return prepareSpared(ctx, conn, sqls...)
	}
	if _, err := conn.Exec(ctx, spareTimeout); err != nil {
		return spareCanceled(err)
	}
	if err := prepareAll(ctx, conn, sqls); err != nil {
		return err
	}
	_, err := conn.Exec(ctx, restoreSQL)
	return err
}

// safePathSQL and restorePathSQL set the session's search path to pg_catalog's and put it back, for
// prepareSpared outside a transaction block.
const (
	safePathSQL = `SELECT pg_catalog.set_config('schemagate.prepare_path', pg_catalog.current_setting('search_path'), false),
  pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)`
	restorePathSQL = `SELECT pg_catalog.set_config('search_path', pg_catalog.current_setting('schemagate.prepare_path'), false)`
)

// prepareAll prepares sqls on conn, each named by its text; those prepared already cost no round trip.
func prepareAll(ctx context.Context, conn *pgx.Conn, sqls []string) error {
	for _, sql := range sqls {
		if _, err := conn.Prepare(ctx, sql, sql); err != nil {
			return err
		}
	}
	notePrepared(conn, sqls)
	return nil
}

// preparedKey names, in the connection's CustomData, the set of statements prepareAll prepared on it:
// pgx keeps its own list but does not show it, and prepareSafe needs to know, without a round trip,
// that it has nothing to prepare. forgetPrepared empties it with pgx's.
const preparedKey = "schemagate.prepared"

// notePrepared adds sqls to conn's set of prepared statements.
func notePrepared(conn *pgx.Conn, sqls []string) {
	data := conn.PgConn().CustomData()
	set, _ := data[preparedKey].(map[string]bool)
	if set == nil {
		set = map[string]bool{}
		data[preparedKey] = set
	}
	for _, sql := range sqls {
		set[sql] = true
	}
}

// allPrepared tells whether prepareAll prepared every one of sqls on conn since pgx last forgot them.
func allPrepared(conn *pgx.Conn, sqls []string) bool {
	set, _ := conn.PgConn().CustomData()[preparedKey].(map[string]bool)
	for _, sql := range sqls {
		if !set[sql] {
			return false
		}
	}
	return true
}

// sessionSettings are the settings besides search_path by which deparsed text differs: a migration that
// sets the time zone (SET TIME ZONE 'Asia/Tokyo') would otherwise have the objects read after it print
// their timestamptz defaults in another zone than the objects read before it. Reads run under fixed
// values, each of which reads back as the same value; the migration's own are put back after, both for
// the transaction alone (see pinInputSQL).
var sessionSettings = [][2]string{{"TimeZone", "UTC"}, {"DateStyle", "ISO, MDY"}, {"IntervalStyle", "postgres"},
	{"extra_float_digits", "1"}, {"bytea_output", "hex"}, {"standard_conforming_strings", "on"}}

// pinnedSettings, pinSettings and restoreSettings are the SQL that saves, pins and restores them.
var pinnedSettings, pinSettings, restoreSettings = func() (string, string, string) {
	var save, pin, restore []string
	for i, s := range sessionSettings {
		save = append(save, fmt.Sprintf("current_setting('%s')", s[0]))
		pin = append(pin, fmt.Sprintf("set_config('%s', '%s', true)", s[0], s[1]))
		restore = append(restore, fmt.Sprintf("set_config('%s', current_setting('schemagate.session')::json->>%d, true)", s[0], i))
	}
	return strings.Join(save, ", "), strings.Join(pin, ", "), strings.Join(restore, ", ")
}()

// catalog builds the (unfiltered) catalog of the document, comments attached.
func (raw *catalogDoc) catalog() *schema.Catalog {
	c := schema.NewCatalog()
	c.User = raw.User
	for _, x := range raw.Schemas {
		c.Schemas[x.Name] = x
	}
	for _, x := range raw.Tables {
		c.Tables[schema.Key(x.Schema, x.Name)] = x
		for _, col := range x.Columns {
			// The name PostgreSQL gives is left out, so that a column made an identity again (or a table
			// re-created) reads as before; what is left of the sequence's own is kept.
			if s := col.IdentitySequence; s != nil && s.Name == schema.IdentitySequenceName(x.Name, col.Name) {
				if s.Name = ""; *s == (schema.IdentitySequence{}) {
					col.IdentitySequence = nil
				}
			}
		}
	}
	for _, x := range raw.Sequences {
		c.Sequences[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.Views {
		c.Views[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.Functions {
		x.Definition = sortedSetClauses(x.Definition)
		c.Functions[x.Signature()] = x
	}
	for _, x := range raw.Enums {
		c.Enums[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.Domains {
		c.Domains[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.Composites {
		c.Composites[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.ShellTypes {
		c.ShellTypes[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.Extensions {
		c.Extensions[x.Name] = x
	}
	for _, x := range raw.Constraints {
		// The validated state is its own property: keep the definition the same either way.
		x.Definition = strings.TrimSuffix(x.Definition, " NOT VALID")
		c.Constraints[schema.Key(x.Schema, x.Table, x.Name)] = x
	}
	for _, x := range raw.Indexes {
		c.Indexes[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.Triggers {
		c.Triggers[schema.Key(x.Schema, x.Table, x.Name)] = x
	}
	for _, x := range raw.Policies {
		c.Policies[schema.Key(x.Schema, x.Table, x.Name)] = x
	}
	for _, x := range raw.TSConfigs {
		c.TextSearchConfigs[schema.Key(x.Schema, x.Name)] = x
	}
	for _, r := range raw.TSDicts {
		x := &r.TextSearchDictionary
		x.Options = dictOptions(r.InitOptions)
		c.TextSearchDictionaries[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.EventTriggers {
		c.EventTriggers[x.Name] = x
	}
	for _, x := range raw.Publications {
		for _, t := range x.Tables {
			slices.Sort(t.Columns) // as Go orders names (the query's name order is the same bytewise one)
		}
		c.Publications[x.Name] = x
	}
	for _, x := range raw.ForeignDataWrappers {
		c.ForeignDataWrappers[x.Name] = x
	}
	for _, x := range raw.ForeignServers {
		c.ForeignServers[x.Name] = x
	}
	for _, x := range raw.UserMappings {
		c.UserMappings[x.Key()] = x
	}
	for _, x := range raw.Casts {
		c.Casts[x.Key()] = x
	}
	for _, x := range raw.Operators {
		c.Operators[x.Key()] = x
	}
	for _, x := range raw.OperatorFamilies {
		c.OperatorFamilies[x.Key()] = x
	}
	for _, x := range raw.OperatorClasses {
		c.OperatorClasses[x.Key()] = x
	}
	c.SortMembers()
	for _, x := range raw.TextSearchParsers {
		c.TextSearchParsers[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.TextSearchTemplates {
		c.TextSearchTemplates[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.AccessMethods {
		c.AccessMethods[x.Name] = x
	}
	for _, x := range raw.Languages {
		c.Languages[x.Name] = x
	}
	for _, x := range raw.Conversions {
		c.Conversions[schema.Key(x.Schema, x.Name)] = x
	}
	for _, x := range raw.Transforms {
		c.Transforms[x.Key()] = x
	}
	for _, x := range raw.Roles {
		c.Roles[x.Name] = x
	}
	for _, x := range raw.Memberships {
		c.Memberships[x.Key()] = x
	}
	for _, x := range raw.BuiltInPrivileges {
		c.BuiltInPrivileges[x.Key()] = x
	}
	for _, x := range raw.DatabasePrivileges {
		c.BuiltInPrivileges[x.Key()] = x
	}
	for _, d := range raw.Database {
		c.DatabaseOwner, c.DatabaseComment, c.DatabaseConnectionLimit = d.Owner, d.Comment, d.ConnectionLimit
		c.DatabaseIsTemplate, c.DatabaseConnectionsDisallowed = d.IsTemplate, !d.AllowConn
	}
	// Sorted here, bytewise, not by the database's collation: the same entries read the same on every server.
	slices.Sort(raw.DefaultPrivileges)
	c.DefaultPrivileges = strings.Join(raw.DefaultPrivileges, "\n")
	if len(raw.DatabaseSettings) > 0 {
		c.DatabaseSettings = slices.Sorted(slices.Values(raw.DatabaseSettings))
	}
	setComments(c, raw.Comments)
	return c
}

// sortedSetClauses puts the SET clauses of a function's definition (pg_get_functiondef prints one per
// line, " SET name TO value", in the order of proconfig, which is the order they were set) in name
// order, as Config has them: a function whose search_path was reset and set again has them in another
// order, and is the same function. Only the header is touched, the lines before the body.
func sortedSetClauses(def string) string {
	lines := strings.Split(def, "\n")
	start := -1
	for i := 1; i < len(lines) && strings.HasPrefix(lines[i], " "); i++ {
		if !strings.HasPrefix(lines[i], " SET ") {
			continue
		}
		if start < 0 {
			start = i
		}
		end := i + 1
		if end == len(lines) || !strings.HasPrefix(lines[end], " SET ") {
			if end-start > 1 {
				slices.Sort(lines[start:end])
				return strings.Join(lines, "\n")
			}
			return def
		}
	}
	return def
}

// tsDictRow is a text search dictionary as the inspection query reads it, with its options as
// pg_ts_dict.dictinitoption holds them.
type tsDictRow struct {
	schema.TextSearchDictionary
	InitOptions string `json:"init_options"`
}

// dictOptions splits a dictionary's options as PostgreSQL writes them ("name = 'value', name = 1": each
// quote inside a value doubled, so quotes pair up) into its items, in name order.
func dictOptions(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			quoted = !quoted
		case !quoted && strings.HasPrefix(s[i:], ", "):
			out = append(out, s[start:i])
			start = i + 2
			i++
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	slices.Sort(out)
	return out
}

// comment is a row of pg_description; comments are read in one go and matched by OID, which is much
// cheaper than calling obj_description for every object.
type comment struct {
	Class string `json:"class"`
	OID   uint32 `json:"oid"`
	Sub   int    `json:"sub"`
	Text  string `json:"text"`
}

func setComments(c *schema.Catalog, comments []comment) {
	if len(comments) == 0 {
		return
	}
	byOID := map[string]map[uint32]*string{}
	add := func(class string, oid uint32, p *string) {
		if byOID[class] == nil {
			byOID[class] = map[uint32]*string{}
		}
		byOID[class][oid] = p
	}
	columns := map[uint32]*schema.Table{}
	for _, x := range c.Schemas {
		add("pg_namespace", x.OID, &x.Comment)
	}
	for _, x := range c.Tables {
		add("pg_class", x.OID, &x.Comment)
		columns[x.OID] = x
	}
	for _, x := range c.Sequences {
		add("pg_class", x.OID, &x.Comment)
	}
	for _, x := range c.Views {
		add("pg_class", x.OID, &x.Comment)
	}
	for _, x := range c.Indexes {
		add("pg_class", x.OID, &x.Comment)
	}
	for _, x := range c.Functions {
		add("pg_proc", x.OID, &x.Comment)
	}
	for _, x := range c.Enums {
		add("pg_type", x.OID, &x.Comment)
	}
	for _, x := range c.Domains {
		add("pg_type", x.OID, &x.Comment)
	}
	for _, x := range c.Composites {
		add("pg_type", x.OID, &x.Comment)
	}
	for _, x := range c.ShellTypes {
		add("pg_type", x.OID, &x.Comment)
	}
	for _, x := range c.Extensions {
		add("pg_extension", x.OID, &x.Comment)
	}
	for _, x := range c.Constraints {
		add("pg_constraint", x.OID, &x.Comment)
	}
	for _, x := range c.Triggers {
		add("pg_trigger", x.OID, &x.Comment)
	}
	for _, x := range c.TextSearchConfigs {
		add("pg_ts_config", x.OID, &x.Comment)
	}
	for _, x := range c.TextSearchDictionaries {
		add("pg_ts_dict", x.OID, &x.Comment)
	}
	for _, d := range comments {
		if d.Sub > 0 {
			if t := columns[d.OID]; t != nil {
				for _, col := range t.Columns {
					if col.Num == d.Sub {
						col.Comment = d.Text
					}
				}
			}
			continue
		}
		if p := byOID[d.Class][d.OID]; p != nil {
			*p = d.Text
		}
	}
}

// keySQL is the SQL expression of the catalog key of the names that exprs give (see schema.Key): each
// name as it is, unless it holds a dot, a double quote or an opening parenthesis, then double-quoted,
// quotes doubled.
func keySQL(exprs ...string) string {
	parts := make([]string, len(exprs))
	for i, x := range exprs {
		parts[i] = "CASE WHEN strpos(" + x + ", '.') + strpos(" + x + `, '"') + strpos(` + x + ", '(') = 0 THEN " + x +
			`::text ELSE '"' || replace(` + x + `, '"', '""') || '"' END`
	}
	return strings.Join(parts, " || '.' || ")
}

// closureCTEs compute the owners of a partial read: own(kind, oid) with kind r (relation), p (function)
// or t (type). Dependents are followed from every seed; of the unmoved relations only the views (their
// rewrite rules) are: those the input lists under "known" ([[OID, "schema.name", [[attnum, "column"],
// ...]], ...], as the mark saw them) that still have that qualified name and every listed column under
// the same number and name. What depends on a relation quotes it by those names only, and a change that
// also alters a dependent (a rebuilt foreign key, an index, a dropped view) writes or locks the dependent
// itself, so it is a seed of its own. Views are the exception: pg_get_viewdef prints a table's whole
// current column list where the view gives the table column aliases (FROM t x(p), or a column renamed
// since the view was made), so a column added to the table changes the view's text.
var closureCTEs = `RECURSIVE input(classid, objid) AS (
  SELECT (e->>0)::oid, (e->>1)::oid FROM jsonb_array_elements(current_setting('schemagate.inspect', true)::jsonb -> 'seeds') e
),
seed(classid, objid) AS (
  SELECT classid, objid FROM input
  UNION
  SELECT 'pg_proc'::regclass, p.oid FROM input s JOIN pg_proc sp ON sp.oid = s.objid JOIN pg_proc p ON p.proname = sp.proname
  WHERE s.classid = 'pg_proc'::regclass
),
known(oid, name, cols) AS (
  SELECT (e->>0)::oid, e->>1, e->2 FROM jsonb_array_elements(current_setting('schemagate.inspect', true)::jsonb -> 'known') e
),
unmoved(oid) AS (
  SELECT k.oid FROM known k CROSS JOIN LATERAL (SELECT c.relname, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = k.oid OFFSET 0) c
  WHERE ` + keySQL("c.nspname", "c.relname") + ` = k.name
    AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(k.cols) a WHERE NOT EXISTS (SELECT 1 FROM pg_attribute x
        WHERE x.attrelid = k.oid AND x.attnum = (a->>0)::int2 AND NOT x.attisdropped AND x.attname = a->>1))
),
dep(classid, objid) AS (
  SELECT classid, objid FROM seed
  UNION
  SELECT x.classid, x.objid FROM dep CROSS JOIN LATERAL (SELECT d.classid, d.objid FROM pg_depend d
      WHERE d.refclassid = dep.classid AND d.refobjid = dep.objid
        AND (d.classid = 'pg_rewrite'::regclass
          OR NOT (dep.classid = 'pg_class'::regclass AND dep.objid IN (SELECT oid FROM unmoved))) OFFSET 0) x
),
own(kind, oid) AS (
  SELECT DISTINCT m.kind, m.oid FROM dep CROSS JOIN LATERAL (
    SELECT 'r', dep.objid WHERE dep.classid = 'pg_class'::regclass
    UNION ALL SELECT 'r', i.indrelid FROM pg_index i WHERE dep.classid = 'pg_class'::regclass AND i.indexrelid = dep.objid
    -- an identity column's sequence: its options are part of the column
    UNION ALL SELECT 'r', d.refobjid FROM pg_depend d WHERE dep.classid = 'pg_class'::regclass AND d.classid = 'pg_class'::regclass
      AND d.objid = dep.objid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i'
    UNION ALL SELECT 'r', rw.ev_class FROM pg_rewrite rw WHERE dep.classid = 'pg_rewrite'::regclass AND rw.oid = dep.objid
    UNION ALL SELECT 'r', ad.adrelid FROM pg_attrdef ad WHERE dep.classid = 'pg_attrdef'::regclass AND ad.oid = dep.objid
    UNION ALL SELECT 'r', co.conrelid FROM pg_constraint co WHERE dep.classid = 'pg_constraint'::regclass AND co.oid = dep.objid AND co.conrelid <> 0
    UNION ALL SELECT 't', co.contypid FROM pg_constraint co WHERE dep.classid = 'pg_constraint'::regclass AND co.oid = dep.objid AND co.contypid <> 0
    UNION ALL SELECT 'r', tg.tgrelid FROM pg_trigger tg WHERE dep.classid = 'pg_trigger'::regclass AND tg.oid = dep.objid
    UNION ALL SELECT 'r', po.polrelid FROM pg_policy po WHERE dep.classid = 'pg_policy'::regclass AND po.oid = dep.objid
    UNION ALL SELECT 'p', dep.objid WHERE dep.classid = 'pg_proc'::regclass
    UNION ALL SELECT 't', dep.objid WHERE dep.classid = 'pg_type'::regclass
    UNION ALL SELECT 'r', ty.typrelid FROM pg_type ty WHERE dep.classid = 'pg_type'::regclass AND ty.oid = dep.objid AND ty.typrelid <> 0
    -- a composite type's attributes and their comments are rows of its relation (relkind c)
    UNION ALL SELECT 't', cc.reltype FROM pg_class cc WHERE dep.classid = 'pg_class'::regclass AND cc.oid = dep.objid AND cc.relkind = 'c'
    OFFSET 0) m(kind, oid)
),
`

// inspectTemplate builds the catalog as one JSON document. User namespaces exclude the system ones and
// temporary ones; objects an extension owns (pg_depend deptype 'e') are left out, probed by index, and
// listed on their extension instead (whole reads only).
//
// fullInspectSQL reads everything. partialInspectSQL reads the owners (relation, function, type) of the
// seed objects in the session setting schemagate.inspect ({"seeds": [[class OID, object OID], ...]})
// and of everything that depends on them in pg_depend, transitively, and the functions that share a
// name with a seed function (an overload changes how calls deparse). It reports those owners under
// "dirty", and reads every event trigger, publication, foreign-data wrapper, server, user mapping, cast,
// operator, operator family and class, and text search parser and template. It does not read schemas, extensions and
// text search configurations and dictionaries, roles and memberships, the database-wide default
// privileges, nor the privileges on built-in objects and extensions' objects: a change to one of them,
// or to what they show (collations, default privileges, roles, mappings), has the probe ask for a full
// read (see probeSQL and stateSQL), so a partial read keeps the mark's.
var (
	fullInspectSQL = strings.NewReplacer(
		"{{INDEXDEF}}", indexDefSQL,
		"{{CLOSURE}}", "",
		"{{REL_FROM}}", "pg_class c",
		"{{PROC_FROM}}", "pg_proc p",
		"{{TYPE_FROM}}", "pg_type t",
		"{{COMMENT_FROM}}", "pg_description d",
		"{{DIRTY}}", "'{}'::json",
		// The session's transaction state, for the mark a whole read starts (see Inspector).
		"{{STATE}}", ",\n'state', json_build_object("+stateSQL+",\n'shadowed', "+shadowedSQL(false)+")",
	).Replace(inspectTemplate)
	partialInspectSQL = withoutSections(strings.NewReplacer(
		"{{INDEXDEF}}", indexDefSQL,
		"{{CLOSURE}}", closureCTEs,
		"{{REL_FROM}}", "(SELECT oid FROM own WHERE kind = 'r') o CROSS JOIN LATERAL (SELECT * FROM pg_class c WHERE c.oid = o.oid OFFSET 0) c",
		"{{PROC_FROM}}", "(SELECT oid FROM own WHERE kind = 'p') o CROSS JOIN LATERAL (SELECT * FROM pg_proc p WHERE p.oid = o.oid OFFSET 0) p",
		"{{TYPE_FROM}}", "(SELECT oid FROM own WHERE kind = 't') o CROSS JOIN LATERAL (SELECT * FROM pg_type t WHERE t.oid = o.oid OFFSET 0) t",
		"{{COMMENT_FROM}}", `(SELECT oid FROM own
      UNION SELECT x.oid FROM own CROSS JOIN LATERAL (SELECT co.oid FROM pg_constraint co
          WHERE own.kind = 'r' AND co.conrelid = own.oid OFFSET 0) x
      UNION SELECT x.oid FROM own CROSS JOIN LATERAL (SELECT co.oid FROM pg_constraint co
          WHERE own.kind = 't' AND co.contypid = own.oid OFFSET 0) x
      UNION SELECT x.oid FROM own CROSS JOIN LATERAL (SELECT tg.oid FROM pg_trigger tg
          WHERE own.kind = 'r' AND tg.tgrelid = own.oid OFFSET 0) x
      UNION SELECT x.oid FROM own CROSS JOIN LATERAL (SELECT i.indexrelid AS oid FROM pg_index i
          WHERE own.kind = 'r' AND i.indrelid = own.oid OFFSET 0) x
      UNION SELECT x.oid FROM own CROSS JOIN LATERAL (SELECT po.oid FROM pg_policy po
          WHERE own.kind = 'r' AND po.polrelid = own.oid OFFSET 0) x
      UNION SELECT x.oid FROM own CROSS JOIN LATERAL (SELECT rw.oid FROM pg_rewrite rw
          WHERE own.kind = 'r' AND rw.ev_class = own.oid OFFSET 0) x) o
    CROSS JOIN LATERAL (SELECT * FROM pg_description d WHERE d.objoid = o.oid OFFSET 0) d`,
		"{{STATE}}", "",
		"{{DIRTY}}", `json_build_object(
    'rels', (SELECT coalesce(json_agg(oid::int8), '[]') FROM own WHERE kind = 'r'),
    'procs', (SELECT coalesce(json_agg(oid::int8), '[]') FROM own WHERE kind = 'p'),
    'types', (SELECT coalesce(json_agg(oid::int8), '[]') FROM own WHERE kind = 't'))`,
	).Replace(inspectTemplate), "schemas", "extensions", "text_search_dictionaries", "text_search_configurations", "roles", "memberships",
		"database_default_privileges", "database_settings", "database", "database_privileges", "built_in_privileges")
)

// opMembersSQL selects the members (json objects m, see schema.OpMember) of the operator family whose OID
// is the expression family: those that depend on an operator class (exists EXISTS, with the condition
// class on the dependency d) or not (NOT EXISTS). Of a built-in family (builtIn), only those a user
// added: user OIDs, and an operator or function no extension made (an extension that adds members to
// a built-in family adds its own operators and functions; the member rows themselves record no
// extension).
func opMembersSQL(family, exists, class string, builtIn bool) string {
	amop, amproc := "", ""
	if builtIn {
		amop = ` AND ao.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x
          WHERE x.classid = 'pg_operator'::regclass AND x.objid = ao.amopopr AND x.deptype = 'e')`
		amproc = ` AND ap.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x
          WHERE x.classid = 'pg_proc'::regclass AND x.objid = ap.amproc AND x.deptype = 'e')`
	}
	return `SELECT json_build_object('kind', 'OPERATOR', 'number', ao.amopstrategy, 'left', format_type(ao.amoplefttype, NULL),
          'right', format_type(ao.amoprighttype, NULL), 'object', ao.amopopr::regoperator::text,
          'sort_family', (SELECT ` + keySQL("sn.nspname", "sf.opfname") + ` FROM pg_opfamily sf JOIN pg_namespace sn ON sn.oid = sf.opfnamespace
            WHERE sf.oid = ao.amopsortfamily)) AS m
        FROM pg_amop ao WHERE ao.amopfamily = ` + family + amop + ` AND ` + exists + ` (SELECT 1 FROM pg_depend d
          WHERE d.classid = 'pg_amop'::regclass AND d.objid = ao.oid AND d.refclassid = 'pg_opclass'::regclass` + class + `)
        UNION ALL SELECT json_build_object('kind', 'FUNCTION', 'number', ap.amprocnum, 'left', format_type(ap.amproclefttype, NULL),
          'right', format_type(ap.amprocrighttype, NULL), 'object', ap.amproc::regprocedure::text)
        FROM pg_amproc ap WHERE ap.amprocfamily = ` + family + amproc + ` AND ` + exists + ` (SELECT 1 FROM pg_depend d
          WHERE d.classid = 'pg_amproc'::regclass AND d.objid = ap.oid AND d.refclassid = 'pg_opclass'::regclass` + class + `)`
}

// indexDefSQL is an index's definition (pg_get_indexdef) with its WITH (...) options in name order:
// PostgreSQL keeps them in the order they were set, so an index whose fillfactor was reset and set again
// prints them in another order, and is the same index. The options are printed as pg_get_indexdef
// prints them (flatten_reloptions: the name quoted as an identifier, the value as is when it reads as
// an identifier, else as a literal) to find the clause; where that text is not found, the definition
// stays as PostgreSQL prints it.
const indexDefSQL = `CASE WHEN cardinality(ic.reloptions) > 1 THEN (SELECT replace(pg_get_indexdef(i.indexrelid),
      ' WITH (' || string_agg(o.p, ', ' ORDER BY o.n) || ')', ' WITH (' || string_agg(o.p, ', ' ORDER BY o.p) || ')')
    FROM (SELECT u.n, quote_ident(split_part(u.opt, '=', 1)) || '=' || CASE WHEN quote_ident(v.v) = v.v THEN v.v
        ELSE '''' || replace(v.v, '''', '''''') || '''' END AS p
      FROM unnest(ic.reloptions) WITH ORDINALITY u(opt, n) CROSS JOIN LATERAL (SELECT substr(u.opt, strpos(u.opt, '=') + 1) AS v) v) o)
  ELSE pg_get_indexdef(i.indexrelid) END`

// triggerDefSQL is a trigger's definition (pg_get_triggerdef) with the columns of UPDATE OF in name
// order: PostgreSQL keeps them in the order the CREATE TRIGGER gave, and UPDATE OF a, b fires as UPDATE
// OF b, a does. Where the list is not found as pg_get_triggerdef prints it (names quoted as identifiers,
// joined by ", "), the definition stays as PostgreSQL prints it.
const triggerDefSQL = `CASE WHEN cardinality(tg.tgattr::int2[]) > 1 THEN coalesce((SELECT overlay(d.def PLACING ' UPDATE OF ' || x.sorted
        FROM strpos(d.def, ' UPDATE OF ' || x.given) FOR length(' UPDATE OF ' || x.given))
      FROM (SELECT pg_get_triggerdef(tg.oid) AS def) d,
        (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.n) AS given, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attname) AS sorted
          FROM unnest(tg.tgattr::int2[]) WITH ORDINALITY u(k, n) JOIN pg_attribute a ON a.attrelid = tg.tgrelid AND a.attnum = u.k) x
      WHERE strpos(d.def, ' UPDATE OF ' || x.given) > 0), pg_get_triggerdef(tg.oid))
  ELSE pg_get_triggerdef(tg.oid) END`

// The partial read's owners are few: whether an extension owns each is probed by index (OFFSET 0 keeps
// the probe a subquery). Joined instead, the generic plan, which expects many owners, reads all of
// pg_depend on every read (a millisecond at 9,000 rows).
func init() {
	partialInspectSQL = strings.ReplaceAll(partialInspectSQL, "AND e.deptype = 'e')", "AND e.deptype = 'e' OFFSET 0)")
	leanInspectSQL = withoutSections(partialInspectSQL, leanSections...)
}

// leanSections are the sections a partial read has whole, as a whole read does: their text quotes names
// of types, functions, operators and tables that a rename changes without writing their rows. None of
// their objects can appear, go or change without a whole read (the probe asks for one when their rows
// or comments are written, and fingerprints user mappings). So while a mark has none of them, a partial
// read from it leaves them out (leanInspectSQL): planning and starting a query with fifteen fewer
// sections costs less, on every read of the many schemas that have none.
var leanSections = []string{"event_triggers", "publications", "foreign_data_wrappers", "foreign_servers", "user_mappings", "casts",
	"operators", "operator_families", "operator_classes", "text_search_parsers", "text_search_templates",
	"access_methods", "languages", "conversions", "transforms"}

// leanInspectSQL is partialInspectSQL without the leanSections.
var leanInspectSQL string

// noneOfLeanSections tells whether c has no object of the leanSections' kinds.
func noneOfLeanSections(c *schema.Catalog) bool {
	return len(c.EventTriggers) == 0 && len(c.Publications) == 0 && len(c.ForeignDataWrappers) == 0 && len(c.ForeignServers) == 0 &&
		len(c.UserMappings) == 0 && len(c.Casts) == 0 && len(c.Operators) == 0 && len(c.OperatorFamilies) == 0 &&
		len(c.OperatorClasses) == 0 && len(c.TextSearchParsers) == 0 && len(c.TextSearchTemplates) == 0 &&
		len(c.AccessMethods) == 0 && len(c.Languages) == 0 && len(c.Conversions) == 0 && len(c.Transforms) == 0
}

// withoutSections replaces the named sections of an inspection query with empty lists.
func withoutSections(q string, names ...string) string {
	for _, name := range names {
		start := strings.Index(q, "\n'"+name+"', (SELECT ")
		if start < 0 {
			panic("inspection query has no section " + name)
		}
		end := strings.Index(q[start+1:], "\n'")
		if end < 0 {
			panic("inspection query section " + name + " has no end")
		}
		q = q[:start] + "\n'" + name + "', '[]'::json," + q[start+1+end:]
	}
	return q
}

// extensionDepsSQL is the names of the extensions the object (catalog class, OID expression oid) is
// marked as depending on (ALTER ... DEPENDS ON EXTENSION, pg_depend deptype 'x'), sorted and joined by
// ", ": a DROP EXTENSION drops it with them. NULL for none.
//
// Few databases have such a mark, and the look-up runs for every view, function, index and trigger
// read: it runs only where the database has one (see anyRowSQL), which an index finds at once.
func extensionDepsSQL(class, oid string) string {
	return `CASE WHEN ` + anyRowSQL(`pg_depend x WHERE x.refclassid = 'pg_extension'::regclass AND x.deptype = 'x'`) + `
      THEN (SELECT string_agg(e.extname, ', ' ORDER BY e.extname) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = '` + class + `'::regclass AND d.objid = ` + oid + ` AND d.objsubid = 0
          AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'x') END`
}

// anyRowSQL is the SQL expression that tells whether the query from (FROM ... WHERE ...) has a row.
// It refers to no row of the query around it, so the plan evaluates it once per read, before the
// first row (an InitPlan), and a CASE on it skips the look-ups per object where the database has none
// of what they look for.
func anyRowSQL(from string) string {
	return `(SELECT EXISTS (SELECT 1 FROM ` + from + `))`
}

// tablespaceSQL is the name of the tablespace whose OID the expression oid is (pg_class.reltablespace),
// NULL for the database's default: PostgreSQL stores 0 for it, whether a statement named it (SET
// TABLESPACE pg_default) or not, and for a partitioned table may store its OID.
func tablespaceSQL(oid string) string {
	return `CASE WHEN ` + oid + ` NOT IN (0, (SELECT db.dattablespace FROM pg_database db WHERE db.datname = current_database()))
      THEN (SELECT ts.spcname FROM pg_tablespace ts WHERE ts.oid = ` + oid + `) END`
}

// statisticsSQL reads the extended statistics on the relation r (tables' and materialized views'), as
// json_build_object arguments: their definitions, a statistics target set (ALTER STATISTICS ... SET
// STATISTICS) following its object's, and their owners and comments (a relation read again reads them
// again, see probeSQL). The look-ups run only where the database has a statistics object (see
// anyRowSQL).
var statisticsSQL = `'statistics', CASE WHEN ` + anyStatistics + ` THEN (SELECT coalesce(string_agg(pg_get_statisticsobjdef(se.oid)
          || CASE WHEN se.stxstattarget >= 0 THEN E';\nALTER STATISTICS ' || quote_ident(sn.nspname) || '.' || quote_ident(se.stxname)
            || ' SET STATISTICS ' || se.stxstattarget ELSE '' END, E'\n' ORDER BY se.stxname), '')
        FROM pg_statistic_ext se JOIN pg_namespace sn ON sn.oid = se.stxnamespace WHERE se.stxrelid = r.oid) ELSE '' END,
    'statistics_notes', CASE WHEN ` + anyStatistics + ` THEN (SELECT json_object_agg(` + keySQL("sn.nspname", "se.stxname") + `, json_strip_nulls(json_build_object(
          'owner', pg_get_userbyid(se.stxowner),
          'comment', (SELECT d.description FROM pg_description d
            WHERE d.objoid = se.oid AND d.classoid = 'pg_statistic_ext'::regclass AND d.objsubid = 0))))
        FROM pg_statistic_ext se JOIN pg_namespace sn ON sn.oid = se.stxnamespace WHERE se.stxrelid = r.oid) END`

var anyStatistics = anyRowSQL(`pg_statistic_ext`)

// rulesSQL reads the rules of the relation r (tables' and views'; _RETURN, a view's definition, left
// out): their definitions, states and comments, as json_build_object arguments. The look-ups run only
// where a relation of the database has such a rule (see anyRowSQL), which is rare: every view has its
// _RETURN rule, which the index on (ev_class, rulename) passes over.
var rulesSQL = `'rules', CASE WHEN ` + anyRule + ` THEN (SELECT coalesce(string_agg(pg_get_ruledef(rw.oid), E'\n' ORDER BY rw.rulename), '') FROM pg_rewrite rw
        WHERE rw.ev_class = r.oid AND rw.rulename <> '_RETURN') ELSE '' END,
    'rule_states', CASE WHEN ` + anyRule + ` THEN (SELECT json_object_agg(rw.rulename, CASE rw.ev_enabled WHEN 'D' THEN 'disabled' WHEN 'A' THEN 'enabled always'
          ELSE 'enabled replica' END) FROM pg_rewrite rw
        WHERE rw.ev_class = r.oid AND rw.rulename <> '_RETURN' AND rw.ev_enabled <> 'O') END,
    'rule_comments', CASE WHEN ` + anyRule + ` THEN (SELECT json_object_agg(rw.rulename, d.description) FROM pg_rewrite rw
        JOIN pg_description d ON d.objoid = rw.oid AND d.classoid = 'pg_rewrite'::regclass AND d.objsubid = 0
        WHERE rw.ev_class = r.oid AND rw.rulename <> '_RETURN') END`

var anyRule = anyRowSQL(`pg_rewrite x WHERE x.ev_class >= 16384 AND x.rulename <> '_RETURN'`)

var inspectTemplate = `
WITH {{CLOSURE}}ns AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e' OFFSET 0)
),
rel AS (
  SELECT c.oid, c.relname, c.relkind, c.relispartition, c.relpersistence, c.relrowsecurity, c.relpartbound,
         c.relforcerowsecurity, c.relowner, c.relacl, c.reloptions, c.relreplident, c.reltoastrelid, c.relispopulated, c.reloftype, c.relam, c.reltablespace, ns.nspname
  FROM {{REL_FROM}} JOIN ns ON ns.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
),
cols AS (
  SELECT a.attrelid, json_strip_nulls(json_agg(json_build_object(
        'num', a.attnum, 'name', a.attname, 'inherited', NOT a.attislocal, 'inherit_count', a.attinhcount,
        'type', format_type(a.atttypid, a.atttypmod),
        'not_null', a.attnotnull,
        'default', CASE WHEN a.attgenerated = '' THEN coalesce(pg_get_expr(ad.adbin, ad.adrelid), '') ELSE '' END,
        'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' ELSE '' END,
        'generated', CASE WHEN a.attgenerated <> '' THEN coalesce(pg_get_expr(ad.adbin, ad.adrelid), '') ELSE '' END,
        'collation', CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname)
                ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
            ELSE '' END,
        'storage', CASE WHEN a.attstorage <> t.typstorage THEN CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'
            WHEN 'm' THEN 'main' ELSE 'extended' END ELSE '' END,
        'statistics', CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::text ELSE '' END,
        'privileges', CASE WHEN a.attacl IS NULL THEN '' ELSE (SELECT coalesce(string_agg(x::text, ',' ORDER BY x::text), '') FROM unnest(a.attacl) x) END,
        -- the options ALTER COLUMN SET (...) takes; some builds keep their own entries there (pg_attver=...)
        'options', nullif(array_to_string(ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE o LIKE 'n\_distinct%' ORDER BY 1), ', '), ''),
        'compression', CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
        -- a foreign table column's options (ALTER FOREIGN TABLE ... ALTER COLUMN ... OPTIONS)
        'foreign_options', CASE WHEN cardinality(a.attfdwoptions) > 0 THEN to_json(ARRAY(SELECT o FROM unnest(a.attfdwoptions) o ORDER BY 1)) END,
        -- the identity sequence's options that differ from the defaults GENERATED ... AS IDENTITY gives
        -- (the defaults of the sequence's data type, which identity_sequence has when not the column's)
        'identity_options', CASE WHEN a.attidentity <> '' THEN (SELECT nullif(concat_ws(' ',
              CASE WHEN s.seqstart <> CASE WHEN s.seqincrement > 0 THEN s.seqmin ELSE s.seqmax END THEN 'START WITH ' || s.seqstart END,
              CASE WHEN s.seqincrement <> 1 THEN 'INCREMENT BY ' || s.seqincrement END,
              CASE WHEN s.seqmin <> CASE WHEN s.seqincrement > 0 THEN 1 ELSE -m.hi - 1 END THEN 'MINVALUE ' || s.seqmin END,
              CASE WHEN s.seqmax <> CASE WHEN s.seqincrement > 0 THEN m.hi ELSE -1 END THEN 'MAXVALUE ' || s.seqmax END,
              CASE WHEN s.seqcache <> 1 THEN 'CACHE ' || s.seqcache END,
              CASE WHEN s.seqcycle THEN 'CYCLE' END), '')
            FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
            CROSS JOIN LATERAL (SELECT CASE s.seqtypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647
                ELSE 9223372036854775807 END::int8 AS hi) m
            WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
              AND d.classid = 'pg_class'::regclass AND d.deptype = 'i' LIMIT 1) END,
        -- the identity sequence's name (kept only when it is not the one PostgreSQL gives, see
        -- catalog), its privileges when they are not the owner's defaults, its comment, whether it is
        -- unlogged (ALTER SEQUENCE ... SET UNLOGGED) and its data type when not the column's (ALTER
        -- SEQUENCE ... AS, which GENERATED ... AS IDENTITY (AS ...) refuses)
        'identity_sequence', CASE WHEN a.attidentity <> '' THEN (SELECT json_build_object('name', sc.relname,
              'unlogged', CASE WHEN sc.relpersistence = 'u' THEN true END,
              'type', (SELECT format_type(s.seqtypid, NULL) FROM pg_sequence s WHERE s.seqrelid = sc.oid AND s.seqtypid <> a.atttypid),
              'privileges', CASE WHEN sc.relacl IS NOT NULL THEN nullif(
                  (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(sc.relacl) x),
                  (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(acldefault('s', sc.relowner)) x)) END,
              'comment', (SELECT sd.description FROM pg_description sd
                WHERE sd.objoid = sc.oid AND sd.classoid = 'pg_class'::regclass AND sd.objsubid = 0))
            FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid
            WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
              AND d.classid = 'pg_class'::regclass AND d.deptype = 'i' LIMIT 1) END
        ) ORDER BY a.attnum)) AS columns
  FROM pg_attribute a JOIN rel r ON r.oid = a.attrelid AND r.relkind IN ('r', 'p', 'f') JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped
  GROUP BY a.attrelid
)
SELECT json_build_object(
'schemas', (SELECT coalesce(json_agg(json_build_object(
    'oid', ns.oid::int8, 'name', ns.nspname,
    'owner', pg_get_userbyid(ns.nspowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(ns.nspacl, acldefault('n', ns.nspowner))) a),
    'default_privileges', (SELECT coalesce(string_agg(pg_get_userbyid(d.defaclrole) || ': ' || CASE d.defaclobjtype
          WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' ELSE 'schemas' END
          || ': ' || (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(d.defaclacl) a), E'\n' ORDER BY 1), '')
        FROM pg_default_acl d WHERE d.defaclnamespace = ns.oid),
    'collations', (SELECT coalesce(string_agg(quote_ident(co.collname) || ': '
          || CASE co.collprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'default' END || ' locale '
          -- the ICU locale's column is colliculocale on 15 and 16, colllocale from 17 (the builtin provider's too, 17's)
          || coalesce(nullif(co.collcollate, ''), to_jsonb(co)->>'colliculocale', to_jsonb(co)->>'colllocale', '')
          || CASE WHEN co.collctype IS DISTINCT FROM co.collcollate AND co.collctype <> '' THEN ' ctype ' || co.collctype ELSE '' END
          || coalesce(' rules ' || (to_jsonb(co)->>'collicurules'), '')
          || CASE WHEN NOT co.collisdeterministic THEN ', nondeterministic' ELSE '' END, E'\n' ORDER BY co.collname), '')
        FROM pg_collation co WHERE co.collnamespace = ns.oid),
    'collation_notes', (SELECT json_object_agg(co.collname, json_strip_nulls(json_build_object('owner', pg_get_userbyid(co.collowner),
          'comment', (SELECT d.description FROM pg_description d
            WHERE d.objoid = co.oid AND d.classoid = 'pg_collation'::regclass AND d.objsubid = 0))))
        FROM pg_collation co WHERE co.collnamespace = ns.oid))), '[]') FROM ns),
'tables', (SELECT coalesce(json_agg(json_build_object(
    'oid', r.oid::int8, 'schema', r.nspname, 'name', r.relname,
    'partitioned', r.relkind = 'p',
    'partition_key', CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) ELSE '' END,
    'partition_of', coalesce((SELECT ` + keySQL("pn.nspname", "pc.relname") + ` FROM pg_inherits i
        JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE i.inhrelid = r.oid AND r.relispartition), ''),
    'partition_bound', coalesce(pg_get_expr(r.relpartbound, r.oid), ''),
    'inherits', (SELECT coalesce(json_agg(` + keySQL("pn.nspname", "pc.relname") + ` ORDER BY i.inhseqno), '[]') FROM pg_inherits i
        JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE i.inhrelid = r.oid AND NOT r.relispartition),
    'of_type', CASE WHEN r.reloftype <> 0 THEN format_type(r.reloftype, NULL) ELSE '' END,
    'server', coalesce((SELECT fs.srvname FROM pg_foreign_table ft JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
        WHERE r.relkind = 'f' AND ft.ftrelid = r.oid), ''),
    'foreign_options', (SELECT to_json(ARRAY(SELECT o FROM unnest(ft.ftoptions) o ORDER BY 1)) FROM pg_foreign_table ft
        WHERE r.relkind = 'f' AND ft.ftrelid = r.oid AND cardinality(ft.ftoptions) > 0),
    'unlogged', r.relpersistence = 'u',
    -- heap (OID 2), and none (a partitioned or foreign table), are left out
    'access_method', CASE WHEN r.relam NOT IN (0, 2) THEN (SELECT am.amname FROM pg_am am WHERE am.oid = r.relam) END,
    'tablespace', ` + tablespaceSQL("r.reltablespace") + `,
    'row_security', r.relrowsecurity, 'force_row_security', r.relforcerowsecurity,
    'owner', pg_get_userbyid(r.relowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(r.relacl, acldefault('r', r.relowner))) a),
    'options', coalesce(array_to_string(ARRAY(SELECT unnest(r.reloptions) ORDER BY 1)
        || ARRAY(SELECT 'toast.' || o FROM pg_class tc CROSS JOIN LATERAL unnest(tc.reloptions) o
            WHERE r.reltoastrelid <> 0 AND tc.oid = r.reltoastrelid ORDER BY 1), ', '), ''),
    'replica_identity', CASE WHEN r.relkind = 'f' THEN '' ELSE CASE r.relreplident WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full'
        WHEN 'i' THEN 'index ' || coalesce((SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE i.indrelid = r.oid AND i.indisreplident), '') ELSE '' END END,
    ` + rulesSQL + `,
    -- internal triggers (foreign keys, deferred unique constraints) and partitions' clones not plainly enabled
    'internal_triggers', (SELECT string_agg(x, ', ' ORDER BY x) FROM (SELECT DISTINCT
          CASE WHEN tg.tgisinternal AND tg.tgconstraint <> 0
            THEN 'constraint ' || quote_ident((SELECT co.conname FROM pg_constraint co WHERE co.oid = tg.tgconstraint))
            ELSE quote_ident(tg.tgname) || ' (cloned)' END
          || ': ' || CASE tg.tgenabled WHEN 'D' THEN 'disabled' WHEN 'A' THEN 'enabled always' ELSE 'enabled replica' END AS x
        FROM pg_trigger tg WHERE tg.tgrelid = r.oid AND tg.tgenabled <> 'O' AND (tg.tgisinternal OR tg.tgparentid <> 0)) x),
    ` + statisticsSQL + `,
    'columns', coalesce(cols.columns, '[]')
  ) ORDER BY r.nspname, r.relname), '[]') FROM rel r LEFT JOIN cols ON cols.attrelid = r.oid WHERE r.relkind IN ('r', 'p', 'f')),
'sequences', (SELECT coalesce(json_agg(json_build_object(
    'oid', r.oid::int8, 'schema', r.nspname, 'name', r.relname,
    'type', format_type(s.seqtypid, NULL), 'start', s.seqstart, 'increment', s.seqincrement,
    'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle,
    'unlogged', r.relpersistence = 'u',
    'owned_by', coalesce((SELECT ` + keySQL("tn.nspname", "tc.relname", "ta.attname") + ` FROM pg_depend d
        JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
        JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
          AND d.deptype = 'a' AND d.refobjsubid > 0 LIMIT 1), ''),
    'owner', pg_get_userbyid(r.relowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(r.relacl, acldefault('s', r.relowner))) a))), '[]')
  FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
  WHERE r.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
      AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i')),
'views', (SELECT coalesce(json_agg(json_build_object(
    'oid', r.oid::int8, 'schema', r.nspname, 'name', r.relname, 'materialized', r.relkind = 'm',
    'definition', pg_get_viewdef(r.oid),
    'columns', (SELECT coalesce(json_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum), '[]')
        FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped),
    'depends_on', (SELECT coalesce(json_agg(DISTINCT ` + keySQL("dn.nspname", "dc.relname") + `), '[]')
        FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
        JOIN pg_class dc ON dc.oid = d.refobjid AND d.refclassid = 'pg_class'::regclass
        JOIN pg_namespace dn ON dn.oid = dc.relnamespace
        WHERE rw.ev_class = r.oid AND dc.oid <> r.oid AND dc.relkind IN ('r', 'p', 'v', 'm', 'f')),
    'owner', pg_get_userbyid(r.relowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(r.relacl, acldefault('r', r.relowner))) a),
    -- a materialized view's TOAST table's options too (toast.autovacuum_enabled...), as a table's
    'options', coalesce(array_to_string(ARRAY(SELECT unnest(r.reloptions) ORDER BY 1)
        || ARRAY(SELECT 'toast.' || o FROM pg_class tc CROSS JOIN LATERAL unnest(tc.reloptions) o
            WHERE r.reltoastrelid <> 0 AND tc.oid = r.reltoastrelid ORDER BY 1), ', '), ''),
    'no_data', r.relkind = 'm' AND NOT r.relispopulated,
    -- a view's rules besides _RETURN (its definition), as a table's
    ` + rulesSQL + `,
    'access_method', CASE WHEN r.relam NOT IN (0, 2) THEN (SELECT am.amname FROM pg_am am WHERE am.oid = r.relam) END,
    'tablespace', ` + tablespaceSQL("r.reltablespace") + `,
    'extensions', ` + extensionDepsSQL("pg_class", "r.oid") + `,
    'column_details', (SELECT json_strip_nulls(json_agg(json_build_object('name', a.attname,
          'default', pg_get_expr(ad.adbin, ad.adrelid), 'comment', cd.description,
          'statistics', CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::text END,
          'privileges', CASE WHEN a.attacl IS NOT NULL THEN (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(a.attacl) x) END,
          -- a materialized view's column storage, compression and options, as a table column's
          'storage', CASE WHEN a.attstorage <> ty.typstorage THEN CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'
            WHEN 'm' THEN 'main' ELSE 'extended' END END,
          'compression', CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
          'options', nullif(array_to_string(ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE o LIKE 'n\_distinct%' ORDER BY 1), ', '), ''))
          ORDER BY a.attnum))
        FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        LEFT JOIN pg_description cd ON cd.objoid = a.attrelid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum
        WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped),
    -- a materialized view's extended statistics, as a table's
    ` + statisticsSQL + `)), '[]')
  FROM rel r WHERE r.relkind IN ('v', 'm')),
'functions', (SELECT coalesce(json_agg(json_build_object(
    'oid', p.oid::int8, 'schema', ns.nspname, 'name', p.proname,
    'args', pg_get_function_identity_arguments(p.oid), 'kind', p.prokind,
    'result', coalesce(pg_get_function_result(p.oid), ''),
    'definition', CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_get_functiondef(p.oid)
      ELSE coalesce((SELECT 'CREATE OR REPLACE AGGREGATE ' || quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '('
          || coalesce(nullif(pg_get_function_arguments(p.oid), ''), '*') || ') (SFUNC = ' || ag.aggtransfn::regproc
          || ', STYPE = ' || format_type(ag.aggtranstype, NULL)
          || CASE WHEN ag.aggtransspace <> 0 THEN ', SSPACE = ' || ag.aggtransspace ELSE '' END
          || CASE WHEN ag.aggfinalfn <> 0 THEN ', FINALFUNC = ' || ag.aggfinalfn::regproc ELSE '' END
          || CASE WHEN ag.aggfinalextra THEN ', FINALFUNC_EXTRA' ELSE '' END
          || CASE WHEN ag.aggfinalfn <> 0 AND ag.aggfinalmodify <> CASE ag.aggkind WHEN 'n' THEN 'r' ELSE 'w' END
              THEN ', FINALFUNC_MODIFY = ' || CASE ag.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END ELSE '' END
          || CASE WHEN ag.aggcombinefn <> 0 THEN ', COMBINEFUNC = ' || ag.aggcombinefn::regproc ELSE '' END
          || CASE WHEN ag.aggserialfn <> 0 THEN ', SERIALFUNC = ' || ag.aggserialfn::regproc ELSE '' END
          || CASE WHEN ag.aggdeserialfn <> 0 THEN ', DESERIALFUNC = ' || ag.aggdeserialfn::regproc ELSE '' END
          || coalesce(', INITCOND = ' || quote_literal(ag.agginitval), '')
          || CASE WHEN ag.aggmtransfn <> 0 THEN ', MSFUNC = ' || ag.aggmtransfn::regproc || ', MINVFUNC = ' || ag.aggminvtransfn::regproc
              || ', MSTYPE = ' || format_type(ag.aggmtranstype, NULL) ELSE '' END
          || CASE WHEN ag.aggmtransspace <> 0 THEN ', MSSPACE = ' || ag.aggmtransspace ELSE '' END
          || CASE WHEN ag.aggmfinalfn <> 0 THEN ', MFINALFUNC = ' || ag.aggmfinalfn::regproc ELSE '' END
          || CASE WHEN ag.aggmfinalextra THEN ', MFINALFUNC_EXTRA' ELSE '' END
          || CASE WHEN ag.aggmfinalfn <> 0 AND ag.aggmfinalmodify <> CASE ag.aggkind WHEN 'n' THEN 'r' ELSE 'w' END
              THEN ', MFINALFUNC_MODIFY = ' || CASE ag.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END ELSE '' END
          || coalesce(', MINITCOND = ' || quote_literal(ag.aggminitval), '')
          || CASE WHEN ag.aggsortop <> 0 THEN ', SORTOP = ' || ag.aggsortop::regoper ELSE '' END
          || CASE WHEN ag.aggkind = 'h' THEN ', HYPOTHETICAL' ELSE '' END || ')'
        FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid), '') END,
    'arg_types', oidvectortypes(p.proargtypes),
    'volatility', CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END,
    'strict', p.proisstrict, 'security_definer', p.prosecdef, 'leakproof', p.proleakproof,
    'parallel', CASE p.proparallel WHEN 's' THEN 'PARALLEL SAFE' WHEN 'r' THEN 'PARALLEL RESTRICTED' ELSE 'PARALLEL UNSAFE' END,
    'cost', p.procost::text, 'rows', p.prorows::text, 'config', array_to_string(ARRAY(SELECT unnest(p.proconfig) ORDER BY 1), E'\n'),
    'support', CASE WHEN p.prosupport <> 0 THEN p.prosupport::regproc::text END,
    'extensions', ` + extensionDepsSQL("pg_proc", "p.oid") + `,
    -- a range type's (and its multirange's) constructors stand for the type
    'range', (SELECT json_build_object('oid', rt.oid::int8, 'schema', rn.nspname, 'name', rt.typname,
          'definition', 'SUBTYPE = ' || format_type(rg.rngsubtype, NULL)
            || CASE WHEN NOT (SELECT oc.opcdefault FROM pg_opclass oc WHERE oc.oid = rg.rngsubopc)
                THEN ', SUBTYPE_OPCLASS = ' || (SELECT quote_ident(oc.opcname) FROM pg_opclass oc WHERE oc.oid = rg.rngsubopc) ELSE '' END
            || CASE WHEN rg.rngcollation <> 0 AND rg.rngcollation <> (SELECT st.typcollation FROM pg_type st WHERE st.oid = rg.rngsubtype)
                THEN ', COLLATION = ' || (SELECT quote_ident(co.collname) FROM pg_collation co WHERE co.oid = rg.rngcollation) ELSE '' END
            || CASE WHEN rg.rngcanonical <> 0 THEN ', CANONICAL = ' || rg.rngcanonical::regproc ELSE '' END
            || CASE WHEN rg.rngsubdiff <> 0 THEN ', SUBTYPE_DIFF = ' || rg.rngsubdiff::regproc ELSE '' END
            || coalesce(', MULTIRANGE_TYPE_NAME = ' || (SELECT quote_ident(mt.typname) FROM pg_type mt WHERE mt.oid = rg.rngmultitypid), ''),
          'comment', (SELECT td.description FROM pg_description td WHERE td.objoid = rt.oid AND td.classoid = 'pg_type'::regclass AND td.objsubid = 0),
          'owner', pg_get_userbyid(rt.typowner),
          'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(rt.typacl, acldefault('T', rt.typowner))) a))
        FROM pg_depend d JOIN pg_range rg ON rg.rngtypid = d.refobjid OR rg.rngmultitypid = d.refobjid
        JOIN pg_type rt ON rt.oid = rg.rngtypid JOIN pg_namespace rn ON rn.oid = rt.typnamespace
        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_type'::regclass AND d.deptype = 'i' LIMIT 1),
    'depends_on', (SELECT coalesce(json_agg(DISTINCT ` + keySQL("rn.nspname", "rp.proname") + ` || '(' || pg_get_function_identity_arguments(rp.oid) || ')'), '[]')
        FROM pg_depend d JOIN pg_proc rp ON rp.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = rp.pronamespace
        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_proc'::regclass
          AND rp.oid <> p.oid AND rn.nspname NOT IN ('pg_catalog', 'information_schema')),
    'owner', pg_get_userbyid(p.proowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a))), '[]')
  FROM {{PROC_FROM}} JOIN ns ON ns.oid = p.pronamespace
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')),
'enums', (SELECT coalesce(json_agg(json_build_object(
    'oid', t.oid::int8, 'schema', ns.nspname, 'name', t.typname,
    'values', (SELECT coalesce(json_agg(e.enumlabel ORDER BY e.enumsortorder), '[]') FROM pg_enum e WHERE e.enumtypid = t.oid),
    'value_oids', (SELECT coalesce(json_agg(e.oid::int8 ORDER BY e.enumsortorder), '[]') FROM pg_enum e WHERE e.enumtypid = t.oid),
    'owner', pg_get_userbyid(t.typowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(t.typacl, acldefault('T', t.typowner))) a))), '[]')
  FROM {{TYPE_FROM}} JOIN ns ON ns.oid = t.typnamespace
  WHERE t.typtype = 'e' AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')),
'domains', (SELECT coalesce(json_agg(json_build_object(
    'oid', t.oid::int8, 'schema', ns.nspname, 'name', t.typname,
    'base_type', format_type(t.typbasetype, t.typtypmod),
    'default', coalesce(t.typdefault, ''), 'not_null', t.typnotnull,
    'collation', CASE WHEN t.typcollation <> bt.typcollation AND t.typcollation <> 0
        THEN (SELECT quote_ident(co.collname) FROM pg_collation co WHERE co.oid = t.typcollation) ELSE '' END,
    'constraints', (SELECT coalesce(json_object_agg(c.conname, pg_get_constraintdef(c.oid)), '{}')
        FROM pg_constraint c WHERE c.contypid = t.oid),
    'constraint_comments', (SELECT json_object_agg(c.conname, d.description) FROM pg_constraint c
        JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_constraint'::regclass AND d.objsubid = 0
        WHERE c.contypid = t.oid),
    'owner', pg_get_userbyid(t.typowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(t.typacl, acldefault('T', t.typowner))) a))), '[]')
  FROM {{TYPE_FROM}} JOIN ns ON ns.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype
  WHERE t.typtype = 'd' AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')),
'composites', (SELECT coalesce(json_agg(json_build_object(
    'oid', t.oid::int8, 'schema', ns.nspname, 'name', t.typname,
    'attributes', (SELECT coalesce(json_agg(json_strip_nulls(json_build_object('num', a.attnum, 'name', a.attname,
          'type', format_type(a.atttypid, a.atttypmod),
          'collation', CASE WHEN a.attcollation <> at.typcollation AND a.attcollation <> 0
            THEN (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname)
                ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
          'comment', (SELECT cd.description FROM pg_description cd WHERE cd.objoid = a.attrelid
              AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum))) ORDER BY a.attnum), '[]')
        FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped),
    'owner', pg_get_userbyid(t.typowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(t.typacl, acldefault('T', t.typowner))) a))), '[]')
  FROM {{TYPE_FROM}} JOIN ns ON ns.oid = t.typnamespace
  WHERE t.typtype = 'c' AND (SELECT rc.relkind FROM pg_class rc WHERE rc.oid = t.typrelid) = 'c'
    AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')),
-- shell types (CREATE TYPE name alone), read as the other types: a change to one writes or locks its row
'shell_types', (SELECT coalesce(json_agg(json_build_object(
    'oid', t.oid::int8, 'schema', ns.nspname, 'name', t.typname, 'owner', pg_get_userbyid(t.typowner))), '[]')
  FROM {{TYPE_FROM}} JOIN ns ON ns.oid = t.typnamespace
  WHERE t.typtype = 'p' AND NOT t.typisdefined AND t.oid >= 16384
    AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')),
-- an extension's members (whole reads only, as the section: see probeSQL), found by index from the
-- extension's side; the objects themselves are left out of the other sections
'extensions', (SELECT coalesce(json_agg(json_build_object(
    'oid', e.oid::int8, 'name', e.extname, 'version', e.extversion, 'schema', en.nspname,
    'members', (SELECT json_agg(json_build_object('object', m.object, 'class', m.classid::int8, 'oid', m.objid::int8)
        ORDER BY m.object COLLATE "C")
      FROM (SELECT io.type || ' ' || io.identity AS object, d.classid, d.objid
        FROM pg_depend d CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) io
        WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e') m))), '[]')
  FROM pg_extension e JOIN pg_namespace en ON en.oid = e.extnamespace),
'text_search_dictionaries', (SELECT coalesce(json_agg(json_build_object(
    'oid', d.oid::int8, 'schema', ns.nspname, 'name', d.dictname,
    'template', (SELECT CASE WHEN pg_ts_template_is_visible(tm.oid) THEN quote_ident(tm.tmplname)
          ELSE quote_ident(tn.nspname) || '.' || quote_ident(tm.tmplname) END
        FROM pg_ts_template tm JOIN pg_namespace tn ON tn.oid = tm.tmplnamespace WHERE tm.oid = d.dicttemplate),
    'init_options', coalesce(d.dictinitoption, ''),
    'owner', pg_get_userbyid(d.dictowner))), '[]')
  FROM pg_ts_dict d JOIN ns ON ns.oid = d.dictnamespace
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_ts_dict'::regclass AND e.objid = d.oid AND e.deptype = 'e')),
'text_search_configurations', (SELECT coalesce(json_agg(json_build_object(
    'oid', cfg.oid::int8, 'schema', ns.nspname, 'name', cfg.cfgname,
    'parser', (SELECT CASE WHEN pg_ts_parser_is_visible(pr.oid) THEN quote_ident(pr.prsname)
          ELSE quote_ident(pn.nspname) || '.' || quote_ident(pr.prsname) END
        FROM pg_ts_parser pr JOIN pg_namespace pn ON pn.oid = pr.prsnamespace WHERE pr.oid = cfg.cfgparser),
    -- each token type (by the parser's alias for it) with its dictionaries, in the order they are consulted
    'mappings', (SELECT json_object_agg(m.alias, m.dicts) FROM (SELECT tt.alias, json_agg(mp.mapdict::regdictionary::text ORDER BY mp.mapseqno) AS dicts
        FROM pg_ts_config_map mp JOIN ts_token_type(cfg.cfgparser) tt ON tt.tokid = mp.maptokentype
        WHERE mp.mapcfg = cfg.oid GROUP BY tt.alias) m),
    'owner', pg_get_userbyid(cfg.cfgowner))), '[]')
  FROM pg_ts_config cfg JOIN ns ON ns.oid = cfg.cfgnamespace
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_ts_config'::regclass AND e.objid = cfg.oid AND e.deptype = 'e')),
'constraints', (SELECT coalesce(json_agg(json_build_object(
    'oid', c.oid::int8, 'schema', r.nspname, 'table', r.relname, 'name', c.conname, 'type', c.contype,
    'definition', pg_get_constraintdef(c.oid), 'validated', c.convalidated,
    'deferrable', c.condeferrable, 'deferred', c.condeferred,
    'references', coalesce((SELECT ` + keySQL("fn.nspname", "fc.relname") + ` FROM pg_class fc
        JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE fc.oid = c.confrelid), ''),
    'inherited', NOT c.conislocal OR c.conparentid <> 0, 'inherit_count', c.coninhcount)), '[]')
  FROM pg_constraint c JOIN rel r ON r.oid = c.conrelid),
'indexes', (SELECT coalesce(json_agg(json_build_object(
    'oid', i.indexrelid::int8, 'schema', r.nspname, 'table', r.relname, 'name', ic.relname,
    'definition', {{INDEXDEF}}, 'valid', i.indisvalid,
    'unique', i.indisunique, 'primary', i.indisprimary,
    'constraint', coalesce((SELECT c.conname FROM pg_constraint c WHERE c.conindid = i.indexrelid
        AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x') LIMIT 1), ''),
    'inherited', EXISTS (SELECT 1 FROM pg_inherits ih WHERE ih.inhrelid = i.indexrelid),
    'clustered', i.indisclustered,
    'tablespace', ` + tablespaceSQL("ic.reltablespace") + `,
    'extensions', ` + extensionDepsSQL("pg_class", "i.indexrelid") + `,
    'statistics', (SELECT string_agg(a.attnum || ': ' || a.attstattarget, ', ' ORDER BY a.attnum) FROM pg_attribute a
        WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0))), '[]')
  FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid),
'triggers', (SELECT coalesce(json_agg(json_build_object(
    'oid', tg.oid::int8, 'schema', r.nspname, 'table', r.relname, 'name', tg.tgname,
    'definition', ` + triggerDefSQL + `, 'enabled', tg.tgenabled,
    'function', (SELECT ` + keySQL("fn.nspname", "p.proname") + ` || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p JOIN pg_namespace fn ON fn.oid = p.pronamespace WHERE p.oid = tg.tgfoid),
    'extensions', ` + extensionDepsSQL("pg_trigger", "tg.oid") + `)), '[]')
  FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid WHERE NOT tg.tgisinternal AND tg.tgparentid = 0),
'policies', (SELECT coalesce(json_agg(json_build_object(
    'oid', p.oid::int8, 'schema', r.nspname, 'table', r.relname, 'name', p.polname,
    'command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
        WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
    'permissive', p.polpermissive,
    -- in name order: TO a, b and TO b, a are the same policy
    'roles', (SELECT string_agg(x.name, ', ' ORDER BY x.name) FROM (SELECT CASE WHEN ro = 0 THEN 'public'
        ELSE quote_ident(pg_get_userbyid(ro)) END AS name FROM unnest(p.polroles) ro) x),
    'using', coalesce(pg_get_expr(p.polqual, p.polrelid), ''),
    'with_check', coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = p.oid AND d.classoid = 'pg_policy'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_policy p JOIN rel r ON r.oid = p.polrelid),
-- every read, partial ones too (there are few): a trigger function renamed or moved changes their text
'event_triggers', (SELECT coalesce(json_agg(json_build_object(
    'oid', e.oid::int8, 'name', e.evtname, 'event', e.evtevent,
    'tags', (SELECT json_agg(t ORDER BY t) FROM unnest(e.evttags) t),
    'function', e.evtfoid::regproc::text, 'enabled', e.evtenabled, 'owner', pg_get_userbyid(e.evtowner),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = e.oid AND d.classoid = 'pg_event_trigger'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_event_trigger e
  -- schemagate's own change log (see TrackChanges) calls functions in pg_catalog, which no user trigger does
  WHERE (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = e.evtfoid) <> 'pg_catalog'::regnamespace
    AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_event_trigger'::regclass AND x.objid = e.oid AND x.deptype = 'e')),
-- every read, partial ones too (there are few): they quote the names of tables and columns, whose
-- renames do not touch them; any change to one has the probe ask for a whole read (see probeSQL)
'publications', (SELECT coalesce(json_agg(json_build_object(
    'oid', p.oid::int8, 'name', p.pubname, 'all_tables', p.puballtables,
    'publish', (SELECT coalesce(json_agg(o.op ORDER BY o.n), '[]')
        FROM (VALUES (1, 'insert', p.pubinsert), (2, 'update', p.pubupdate), (3, 'delete', p.pubdelete),
          (4, 'truncate', p.pubtruncate)) o(n, op, published) WHERE o.published),
    'via_root', p.pubviaroot,
    -- each table with its column list (by name: a set of columns) and row filter (PostgreSQL 15 and later)
    'tables', (SELECT json_object_agg(` + keySQL("rn.nspname", "rc.relname") + `, json_strip_nulls(json_build_object(
          'columns', (SELECT json_agg(a.attname ORDER BY a.attname) FROM pg_attribute a
              WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs::int2[])),
          'where', pg_get_expr(pr.prqual, pr.prrelid))))
        FROM pg_publication_rel pr JOIN pg_class rc ON rc.oid = pr.prrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE pr.prpubid = p.oid),
    'schemas', (SELECT json_agg(n.nspname ORDER BY n.nspname) FROM pg_publication_namespace pn
        JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = p.oid),
    'owner', pg_get_userbyid(p.pubowner),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = p.oid AND d.classoid = 'pg_publication'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_publication p),
-- every read, partial ones too (there are few): a cast quotes its types and function, a wrapper its
-- functions, whose renames do not touch them; any change to one of these has the probe ask for a whole
-- read (see probeSQL)
'foreign_data_wrappers', (SELECT coalesce(json_agg(json_build_object(
    'oid', w.oid::int8, 'name', w.fdwname,
    'handler', CASE WHEN w.fdwhandler <> 0 THEN w.fdwhandler::regproc::text END,
    'validator', CASE WHEN w.fdwvalidator <> 0 THEN w.fdwvalidator::regproc::text END,
    'options', (SELECT json_agg(o ORDER BY o) FROM unnest(w.fdwoptions) o),
    'owner', pg_get_userbyid(w.fdwowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(w.fdwacl, acldefault('F', w.fdwowner))) a),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = w.oid AND d.classoid = 'pg_foreign_data_wrapper'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_foreign_data_wrapper w
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_foreign_data_wrapper'::regclass AND x.objid = w.oid AND x.deptype = 'e')),
'foreign_servers', (SELECT coalesce(json_agg(json_build_object(
    'oid', s.oid::int8, 'name', s.srvname, 'wrapper', (SELECT w.fdwname FROM pg_foreign_data_wrapper w WHERE w.oid = s.srvfdw),
    'type', s.srvtype, 'version', s.srvversion,
    'options', (SELECT json_agg(o ORDER BY o) FROM unnest(s.srvoptions) o),
    'owner', pg_get_userbyid(s.srvowner), 'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(s.srvacl, acldefault('S', s.srvowner))) a),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = s.oid AND d.classoid = 'pg_foreign_server'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_foreign_server s
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_foreign_server'::regclass AND x.objid = s.oid AND x.deptype = 'e')),
-- the options as pg_user_mappings shows them to the role reading (to the mapped role, the server's owner
-- and superusers; none to others)
'user_mappings', (SELECT coalesce(json_agg(json_build_object(
    'user', m.usename, 'server', m.srvname,
    'options', (SELECT json_agg(o ORDER BY o) FROM unnest(m.umoptions) o))), '[]')
  FROM pg_user_mappings m),
'casts', (SELECT coalesce(json_agg(json_build_object(
    'oid', c.oid::int8, 'source', format_type(c.castsource, NULL), 'target', format_type(c.casttarget, NULL),
    'function', CASE WHEN c.castfunc <> 0 THEN c.castfunc::regprocedure::text END,
    'context', CASE c.castcontext WHEN 'e' THEN 'explicit' WHEN 'a' THEN 'assignment' ELSE 'implicit' END,
    'method', CASE c.castmethod WHEN 'f' THEN 'function' WHEN 'i' THEN 'inout' ELSE 'binary' END,
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = c.oid AND d.classoid = 'pg_cast'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_cast c
  -- an extension's, and those a range type makes to its multirange type (part of the type: internal)
  WHERE c.oid >= 16384
    AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_cast'::regclass AND x.objid = c.oid AND x.deptype IN ('e', 'i'))),
-- every read, partial ones too (there are few, found by OID): an operator quotes its types and functions,
-- a family or class its operators, functions and types, a parser or template its functions, whose
-- renames leave their rows alone; any change to one of these has the probe ask for a whole read (see
-- probeSQL)
'operators', (SELECT coalesce(json_agg(json_build_object(
    'oid', o.oid::int8, 'schema', ns.nspname, 'name', o.oprname,
    'left', CASE WHEN o.oprleft <> 0 THEN format_type(o.oprleft, NULL) END,
    'right', format_type(o.oprright, NULL),
    'result', CASE WHEN o.oprresult <> 0 THEN format_type(o.oprresult, NULL) END,
    'function', CASE WHEN o.oprcode <> 0 THEN o.oprcode::regprocedure::text END,
    -- a link to an operator dropped since dangles (PostgreSQL unsets only those linked back): written
    -- without the OID, which the same steps give another each time
    'commutator', CASE WHEN o.oprcom <> 0 THEN coalesce((SELECT c.oid::regoperator::text FROM pg_operator c WHERE c.oid = o.oprcom),
      '` + schema.DroppedOperator + `') END,
    'negator', CASE WHEN o.oprnegate <> 0 THEN coalesce((SELECT c.oid::regoperator::text FROM pg_operator c WHERE c.oid = o.oprnegate),
      '` + schema.DroppedOperator + `') END,
    'restrict', CASE WHEN o.oprrest <> 0 THEN o.oprrest::regproc::text END,
    'join', CASE WHEN o.oprjoin <> 0 THEN o.oprjoin::regproc::text END,
    'hashes', o.oprcanhash, 'merges', o.oprcanmerge, 'owner', pg_get_userbyid(o.oprowner),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = o.oid AND d.classoid = 'pg_operator'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
  WHERE o.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_operator'::regclass AND x.objid = o.oid AND x.deptype = 'e')),
-- a family's members are those loose in it (ALTER OPERATOR FAMILY ... ADD), a class's those that depend on it;
-- a built-in family is read for the members users added to it (user OIDs: found by index), and only those
'operator_families', (SELECT coalesce(json_agg(f.f), '[]') FROM (SELECT json_build_object(
    'oid', f.oid::int8, 'schema', ns.nspname, 'name', f.opfname, 'method', am.amname,
    'members', (SELECT json_agg(m.m) FROM (` + opMembersSQL("f.oid", "NOT EXISTS", "", false) + `) m),
    'owner', pg_get_userbyid(f.opfowner),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = f.oid AND d.classoid = 'pg_opfamily'::regclass AND d.objsubid = 0)) AS f
  FROM pg_opfamily f JOIN ns ON ns.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
  WHERE f.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_opfamily'::regclass AND x.objid = f.oid AND x.deptype = 'e')
  UNION ALL SELECT json_build_object('oid', f.oid::int8, 'schema', n.nspname, 'name', f.opfname, 'method', am.amname, 'builtin', true,
      'members', um.members)
  FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
    CROSS JOIN LATERAL (SELECT json_agg(m.m) AS members FROM (` + opMembersSQL("f.oid", "NOT EXISTS", "", true) + `) m) um
  WHERE f.oid < 16384 AND f.oid IN (SELECT ao.amopfamily FROM pg_amop ao WHERE ao.oid >= 16384
      UNION SELECT ap.amprocfamily FROM pg_amproc ap WHERE ap.oid >= 16384)
    AND um.members IS NOT NULL) f),
'operator_classes', (SELECT coalesce(json_agg(json_build_object(
    'oid', c.oid::int8, 'schema', ns.nspname, 'name', c.opcname, 'method', am.amname,
    'type', format_type(c.opcintype, NULL), 'storage', CASE WHEN c.opckeytype <> 0 THEN format_type(c.opckeytype, NULL) END,
    'default', c.opcdefault,
    'family', (SELECT ` + keySQL("fn.nspname", "f.opfname") + ` FROM pg_opfamily f JOIN pg_namespace fn ON fn.oid = f.opfnamespace WHERE f.oid = c.opcfamily),
    'members', (SELECT json_agg(m.m) FROM (` + opMembersSQL("c.opcfamily", "EXISTS", " AND d.refobjid = c.oid", false) + `) m),
    'owner', pg_get_userbyid(c.opcowner),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = c.oid AND d.classoid = 'pg_opclass'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_opclass c JOIN ns ON ns.oid = c.opcnamespace JOIN pg_am am ON am.oid = c.opcmethod
  WHERE c.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_opclass'::regclass AND x.objid = c.oid AND x.deptype = 'e')),
'text_search_parsers', (SELECT coalesce(json_agg(json_build_object(
    'oid', p.oid::int8, 'schema', ns.nspname, 'name', p.prsname,
    'start', p.prsstart::regproc::text, 'gettoken', p.prstoken::regproc::text, 'end', p.prsend::regproc::text,
    'lextypes', p.prslextype::regproc::text, 'headline', CASE WHEN p.prsheadline <> 0 THEN p.prsheadline::regproc::text END,
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = p.oid AND d.classoid = 'pg_ts_parser'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_ts_parser p JOIN ns ON ns.oid = p.prsnamespace
  WHERE p.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_ts_parser'::regclass AND x.objid = p.oid AND x.deptype = 'e')),
'text_search_templates', (SELECT coalesce(json_agg(json_build_object(
    'oid', t.oid::int8, 'schema', ns.nspname, 'name', t.tmplname,
    'init', CASE WHEN t.tmplinit <> 0 THEN t.tmplinit::regproc::text END, 'lexize', t.tmpllexize::regproc::text,
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = t.oid AND d.classoid = 'pg_ts_template'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_ts_template t JOIN ns ON ns.oid = t.tmplnamespace
  WHERE t.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_ts_template'::regclass AND x.objid = t.oid AND x.deptype = 'e')),
-- every read, partial ones too, as the operators above: access methods, languages, conversions and
-- transforms quote their functions (and a transform its type), whose renames leave their rows alone;
-- the built-in ones and an extension's are left out
'access_methods', (SELECT coalesce(json_agg(json_build_object(
    'oid', a.oid::int8, 'name', a.amname, 'type', CASE a.amtype WHEN 't' THEN 'TABLE' ELSE 'INDEX' END,
    'handler', a.amhandler::regproc::text,
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = a.oid AND d.classoid = 'pg_am'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_am a
  WHERE a.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_am'::regclass AND x.objid = a.oid AND x.deptype = 'e')),
'languages', (SELECT coalesce(json_agg(json_build_object(
    'oid', l.oid::int8, 'name', l.lanname, 'trusted', l.lanpltrusted,
    'handler', CASE WHEN l.lanplcallfoid <> 0 THEN l.lanplcallfoid::regproc::text END,
    'inline', CASE WHEN l.laninline <> 0 THEN l.laninline::regproc::text END,
    'validator', CASE WHEN l.lanvalidator <> 0 THEN l.lanvalidator::regproc::text END,
    'owner', pg_get_userbyid(l.lanowner),
    'privileges', (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(coalesce(l.lanacl, acldefault('l', l.lanowner))) a),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = l.oid AND d.classoid = 'pg_language'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_language l
  WHERE l.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_language'::regclass AND x.objid = l.oid AND x.deptype = 'e')),
'conversions', (SELECT coalesce(json_agg(json_build_object(
    'oid', c.oid::int8, 'schema', ns.nspname, 'name', c.conname,
    'source', pg_encoding_to_char(c.conforencoding), 'destination', pg_encoding_to_char(c.contoencoding),
    'function', c.conproc::regproc::text, 'default', c.condefault, 'owner', pg_get_userbyid(c.conowner),
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = c.oid AND d.classoid = 'pg_conversion'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_conversion c JOIN ns ON ns.oid = c.connamespace
  WHERE c.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_conversion'::regclass AND x.objid = c.oid AND x.deptype = 'e')),
'transforms', (SELECT coalesce(json_agg(json_build_object(
    'oid', t.oid::int8, 'type', format_type(t.trftype, NULL), 'language', (SELECT l.lanname FROM pg_language l WHERE l.oid = t.trflang),
    'from_sql', CASE WHEN t.trffromsql <> 0 THEN t.trffromsql::regprocedure::text END,
    'to_sql', CASE WHEN t.trftosql <> 0 THEN t.trftosql::regprocedure::text END,
    'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = t.oid AND d.classoid = 'pg_transform'::regclass AND d.objsubid = 0))), '[]')
  FROM pg_transform t
  WHERE t.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_transform'::regclass AND x.objid = t.oid AND x.deptype = 'e')),
-- whole reads only (a partial read keeps the mark's: any change to them changes the probe's roles
-- fingerprint, see stateSQL): the server's roles but the predefined pg_* ones, whether each has a
-- password only when a superuser reads (pg_authid is theirs alone; read through query_to_xml, which
-- only runs when asked, as the query itself may not name pg_authid), and the memberships of those roles
-- (on PostgreSQL 16 and later, one per grantor, with their INHERIT and SET options, columns 15 lacks:
-- read from the row as JSON; before 16 a member has one membership in a role, whoever granted it)
'roles', (SELECT coalesce(json_agg(json_build_object(
    'oid', r.oid::int8, 'name', r.rolname, 'superuser', r.rolsuper, 'createdb', r.rolcreatedb, 'createrole', r.rolcreaterole,
    'inherit', r.rolinherit, 'login', r.rolcanlogin, 'replication', r.rolreplication, 'bypassrls', r.rolbypassrls,
    'connection_limit', r.rolconnlimit, 'valid_until', r.rolvaliduntil::text,
    'password', CASE WHEN pw.oids IS NOT NULL THEN CASE WHEN r.oid = ANY (pw.oids) THEN 'set' ELSE 'none' END END,
    'settings', (SELECT json_agg(x ORDER BY x) FROM pg_db_role_setting s, unnest(s.setconfig) x WHERE s.setrole = r.oid AND s.setdatabase = 0),
    'database_settings', (SELECT json_agg(x ORDER BY x) FROM pg_db_role_setting s, unnest(s.setconfig) x
      WHERE s.setrole = r.oid AND s.setdatabase = (SELECT db.oid FROM pg_database db WHERE db.datname = current_database())),
    'comment', (SELECT d.description FROM pg_shdescription d WHERE d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass))), '[]')
  FROM pg_roles r CROSS JOIN (SELECT CASE WHEN current_setting('is_superuser') = 'on'
      THEN coalesce((SELECT array_agg(x::text::oid) FROM unnest(xpath('/table/row/o/text()',
        query_to_xml('SELECT oid AS o FROM pg_catalog.pg_authid WHERE rolpassword IS NOT NULL', false, false, ''))) x), '{}') END AS oids) pw
  WHERE r.rolname NOT LIKE 'pg\_%'),
'memberships', (SELECT coalesce(json_agg(json_build_object(
    'role', m.role, 'member', m.member, 'grantor', m.grantor, 'role_oid', m.roleid::int8, 'member_oid', m.memberid::int8,
    'grantor_oid', m.grantorid, 'admin', m.admin, 'inherit', m.inh, 'set', m.set)), '[]')
  FROM (SELECT g.rolname AS role, u.rolname AS member, a.roleid, a.member AS memberid,
      CASE WHEN to_jsonb(a) ? 'inherit_option' THEN pg_get_userbyid(a.grantor) END AS grantor,
      CASE WHEN to_jsonb(a) ? 'inherit_option' THEN a.grantor::int8 END AS grantorid, bool_or(a.admin_option) AS admin,
      bool_or((to_jsonb(a)->>'inherit_option')::bool)::text AS inh, bool_or((to_jsonb(a)->>'set_option')::bool)::text AS set
    FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles u ON u.oid = a.member
    WHERE u.rolname NOT LIKE 'pg\_%'
    GROUP BY 1, 2, 3, 4, 5, 6) m),
-- whole reads only (a partial read keeps the mark's: any change to pg_default_acl changes the probe's
-- defacl fingerprint, see stateSQL): the database-wide default privileges (ALTER DEFAULT PRIVILEGES
-- without IN SCHEMA), one line per role and kind of object, each the whole ACL that replaces the
-- built-in defaults (large objects from PostgreSQL 18)
'database_default_privileges', (SELECT coalesce(json_agg(pg_get_userbyid(d.defaclrole) || ': ' || CASE d.defaclobjtype
      WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
      WHEN 'L' THEN 'large objects' ELSE d.defaclobjtype::text END
      || ': ' || (SELECT coalesce(string_agg(a::text, ',' ORDER BY a::text), '') FROM unnest(d.defaclacl) a)), '[]')
  FROM pg_default_acl d WHERE d.defaclnamespace = 0),
-- whole reads only (a partial read keeps the mark's: any change to them changes the probe's roles
-- fingerprint, see stateSQL): the database's own settings (ALTER DATABASE ... SET), not its name's
'database_settings', (SELECT coalesce(json_agg(x), '[]') FROM pg_db_role_setting s, unnest(s.setconfig) x
  WHERE s.setrole = 0 AND s.setdatabase = (SELECT db.oid FROM pg_database db WHERE db.datname = current_database())),
-- whole reads only (a partial read keeps the mark's: any change to them changes the probe's roles
-- fingerprint, see stateSQL): the database's owner, comment (not the url provider's mark, see
-- urlMarkPrefix in internal/sandbox), connection limit, IS_TEMPLATE and ALLOW_CONNECTIONS, in one object
'database', (SELECT coalesce(json_agg(json_build_object('owner', pg_get_userbyid(d.datdba), 'comment', ` + databaseCommentSQL + `,
    'connection_limit', nullif(d.datconnlimit, -1)::text, 'is_template', d.datistemplate, 'allow_connections', d.datallowconn)), '[]')
  FROM pg_database d WHERE d.datname = current_database()),
-- whole reads only, as the database's settings (see databasePrivilegesSQL)
'database_privileges', ` + databasePrivilegesSQL + `,
-- whole reads only (see builtInPrivilegesSQL and probeSQL)
'built_in_privileges', ` + builtInPrivilegesSQL + `,
'comments', (SELECT coalesce(json_agg(json_build_object(
    'class', d.classoid::regclass::text, 'oid', d.objoid::int8, 'sub', d.objsubid, 'text', d.description)), '[]')
  FROM {{COMMENT_FROM}}
  WHERE d.classoid IN ('pg_namespace'::regclass, 'pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass,
      'pg_extension'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_ts_config'::regclass, 'pg_ts_dict'::regclass)
    AND (d.objoid >= 16384 OR d.classoid = 'pg_namespace'::regclass)),
'relations', (SELECT coalesce(json_agg(json_build_object('oid', r.oid::int8, 'name', ` + keySQL("r.nspname", "r.relname") + `)), '[]') FROM rel r),
'dirty', {{DIRTY}}{{STATE}},
'user', current_user
)::text`
