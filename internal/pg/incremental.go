package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/schema"
)

// Incremental inspection.
//
// A full Inspect deparses every object (pg_get_viewdef, pg_get_indexdef, column defaults...), which costs
// tens of milliseconds on a schema of a few hundred tables, and a rehearsal inspects three times per
// migration. An Inspector reads only what changed since a Mark:
//
//   - Catalog rows written since the mark carry a newer xmin: rows at or after the mark's horizon (the
//     next transaction ID then, or the mark's own transaction when it was taken inside one). The probe
//     reads the user range (OID >= 16384) of the catalogs objects are created in, by index.
//   - Deleted rows leave nothing to see, but every DROP locks what it drops until the transaction ends,
//     and every ALTER, COMMENT or CREATE INDEX locks its relation (which is how column and dependency
//     rows change): the probe reads the locks the session holds, and the caller hands over the locks of
//     a committed transaction (Locks, taken just before COMMIT).
//   - Objects whose deparsed text mentions a changed object (a view on a renamed table, a foreign key to
//     a renamed column) depend on it in pg_depend: the read covers the transitive dependents, and every
//     function that shares a name with a changed one (an overload changes how calls deparse). A table
//     or sequence that kept its qualified name and its columns' names is the exception: what depends
//     on it quotes nothing else of it, so of its dependents only its views are read again, whose text
//     can list all its columns (an ADD COLUMN re-reads the table and its views, not every foreign key
//     and function around it).
//   - Deferred triggers and constraint checks run before the locks are taken (the caller settles the
//     transaction first), and reads run under fixed settings whatever the session's time zone or
//     output styles (see sessionSettings).
//   - A dropped domain constraint leaves only its lock: the mark's domains are read again.
//   - Deparsed text qualifies a name only where the search path does not find it: with several schemas
//     after pg_catalog (Flyway's app, "$user", public), a new app.foo hides public.foo from what quotes
//     it, with no pg_depend link between them. The read vouches for such a path only while no name is
//     found in two of its schemas, at the mark and now (see stateSQL).
//
// Whatever this cannot vouch for falls back to a full read: a schema, extension, tablespace, text search
// configuration or dictionary (their mappings too), event trigger, publication (its tables and schemas
// too; every read has all the publications, whose text quotes table and column names), foreign-data
// wrapper, server or user mapping (every read has them all, and the casts, operators, operator families
// and classes, text search parsers and templates, access methods, languages, conversions and transforms,
// whose text quotes type and function names; while the mark has none of these, a partial read leaves
// them out: see leanSections), role, operator, operator family or class or a member of one, cast, text
// search parser or template, access method, language, conversion or transform (their comments too),
// collation (its owner and comment too) or other shared-vocabulary change; an extended statistics
// object's owner or comment (COMMENT and ALTER STATISTICS lock the object, and a comment removed leaves
// no row: a lock on a statistics object is a whole read); an object in pg_catalog or a temporary schema;
// GRANT or REVOKE on a built-in object or an extension's (see builtInPrivilegeReasons); an object that
// joins or leaves an extension (a lock on one that is an extension's member now or was at the mark);
// a search path that does not start with pg_catalog, that changed, or whose schemas after pg_catalog share a name
// (at the mark or now); a function that shares a name with a built-in one; catalog rows the migration
// wrote with DML (the caller passes Force); changes made outside a transaction whose locks were not
// captured (the caller passes no Mark).
//
// SCHEMAGATE_INSPECT=full turns incremental reads off; SCHEMAGATE_INSPECT=verify checks every
// incremental read against a full one and fails on any difference (the test suites run that way);
// SCHEMAGATE_INSPECT=log finds what changed in the change log (see TrackChanges).

// Mark is the catalog of a database at one inspection, and where the next incremental read starts.
type Mark struct {
	raw       *schema.Catalog   // unfiltered
	relations map[uint32]string // relation OID -> qualified name, for every relation the catalog covers
	horizon   uint32            // catalog rows with an xmin at or after it were written after the mark
	path      string            // search_path at the mark
	schemas   string            // the effective search path at the mark (current_schemas)
	pathOK    bool              // the search path at the mark let an incremental read start from it (see stateSQL)
	roles     string            // role names fingerprint at the mark
	defACL    string            // default privileges fingerprint at the mark
	mappings  string            // user mappings fingerprint at the mark
	filtered  *schema.Catalog
	ig        schema.Ignore
	// token names the mark in the session's change log (see TrackChanges): the log holds what changed
	// since the mark while it starts with this token. Empty when the session keeps no log.
	token string
	// Incremental tells whether the mark came from an incremental read (for tests and statistics).
	Incremental bool
}

// Catalog is the mark's catalog with the ignore list applied. Callers must not modify it.
func (m *Mark) Catalog() *schema.Catalog {
	if m.filtered == nil {
		m.filtered = copyCatalog(m.raw).Filter(m.ig)
	}
	return m.filtered
}

// Lock is a lock a transaction holds on a catalog object: a relation (Class is pg_class) or another
// database object.
type Lock struct {
	Class uint32
	OID   uint32
	Mode  string
}

// InspectMode says how an Inspector reads the catalog.
type InspectMode int

const (
	// InspectIncremental reads only what changed since the mark when that is sound.
	InspectIncremental InspectMode = iota
	// InspectFull always reads the whole catalog.
	InspectFull
	// InspectVerify reads incrementally and checks every result against a full read.
	InspectVerify
	// InspectLog reads incrementally, finding what changed in the change log where it can be kept (see
	// TrackChanges) instead of scanning the catalogs.
	InspectLog
)

// InspectModeFromEnv reads SCHEMAGATE_INSPECT (full, verify, log or incremental; empty means incremental).
func InspectModeFromEnv() (InspectMode, error) {
	switch v := os.Getenv("SCHEMAGATE_INSPECT"); v {
	case "", "incremental":
		return InspectIncremental, nil
	case "full":
		return InspectFull, nil
	case "verify":
		return InspectVerify, nil
	case "log":
		return InspectLog, nil
	default:
		return 0, fmt.Errorf("SCHEMAGATE_INSPECT=%q: want full, verify, log or incremental", v)
	}
}

// Inspector reads catalogs, incrementally where it can.
type Inspector struct {
	Ignore schema.Ignore
	Mode   InspectMode
	// Full and Partial count the reads of each kind; Owners counts the relations, functions and types
	// the partial reads covered.
	Full, Partial, Owners int
	// Logged counts the partial reads whose changes the session's change log named (see
	// TrackChanges), without a scan of the catalogs.
	Logged int
	// Lean counts the partial reads that left out the sections of kinds the mark has none of (see
	// leanSections).
	Lean int
	// path is the search path reads run under, once the first read has found it (see queryWithInput).
	path string
	// tracking tells that TrackChanges installed the change log; nonce and seq make the marks' tokens.
	tracking bool
	nonce    string
	seq      int
	// routines keeps what CallsUnseen found in each function definition, names the patterns that find
	// a function's name in a text.
	routines map[string]*routine
	names    map[string]*regexp.Regexp
	// lastFuncs and lastReach are the functions reachUnseen was last asked about and its answer.
	lastFuncs map[string]*schema.Function
	lastReach []*schema.Function
}

// NewInspector returns an Inspector with the default ignore list and the mode SCHEMAGATE_INSPECT asks for.
func NewInspector() (*Inspector, error) {
	mode, err := InspectModeFromEnv()
	if err != nil {
		return nil, err
	}
	return &Inspector{Ignore: schema.DefaultIgnore, Mode: mode}, nil
}

// Locks returns the locks the session's transaction holds that may stand for a catalog change: call it
// just before COMMIT and pass the result to Since.
//
// It runs in the migration's transaction, whose statement_timeout (SET LOCAL statement_timeout = '1ms')
// is the migration's, not the read's: spared as the catalog reads are (spareTimeout), or a short one
// cancels it whenever the machine is busy and fails the rehearsal as a tool error. The three statements
// go as one simple query, each timed on its own: a batch would first prepare the read, under the
// migration's timeout.
func (in *Inspector) Locks(ctx context.Context, conn *pgx.Conn) ([]Lock, error) {
	results, err := conn.PgConn().Exec(ctx, spareTimeout+";\n"+locksSQL+";\n"+restoreSQL).ReadAll()
	if err != nil {
		// The statement that failed: the one of the first result with an error, or the one after the
		// results when it failed before it had any (its RowDescription).
		failed := len(results)
		for i, r := range results {
			if r.Err != nil {
				failed = min(failed, i)
			}
		}
		if failed <= 1 { // spareTimeout or the read after it (see spareCanceled)
			err = spareCanceled(err)
		}
		return nil, fmt.Errorf("read locks: %w", err)
	}
	if len(results) != 3 {
		return nil, fmt.Errorf("read locks: %d results, want 3", len(results))
	}
	var out []Lock
	for _, row := range results[1].Rows {
		class, err1 := strconv.ParseUint(string(row[0]), 10, 32)
		oid, err2 := strconv.ParseUint(string(row[1]), 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("read locks: %w", err)
		}
		out = append(out, Lock{Class: uint32(class), OID: uint32(oid), Mode: string(row[2])})
	}
	return out, nil
}

// Inspect reads the whole catalog and marks it.
func (in *Inspector) Inspect(ctx context.Context, q Querier) (*Mark, error) {
	return in.inspect(ctx, q, in.newToken())
}

// inspect reads the whole catalog; a token starts the session's change log afresh under it.
func (in *Inspector) inspect(ctx context.Context, q Querier, token string) (*Mark, error) {
	in.Full++
	doc, err := readCatalog(ctx, q, &in.path, true, nil, nil, nil, token)
	if err != nil {
		return nil, err
	}
	st := doc.State
	in.keepTracking(st)
	m := &Mark{raw: doc.catalog(), relations: map[uint32]string{}, horizon: st.horizon(), path: st.Path, schemas: st.Schemas,
		pathOK: st.PathOK && !st.Shadowed, roles: st.Roles, defACL: st.DefACL, mappings: st.Mappings, ig: in.Ignore, token: token}
	for _, r := range doc.Relations {
		m.relations[r.OID] = r.Name
	}
	return m, nil
}

// Since reads the catalog as it is now, starting from mark: every change since the mark must have
// happened in the session's current transaction or in transactions whose locks were captured (held),
// made by SQL of which ran tells what the probe needs to know (Ran{BuiltIns: true} when the caller
// cannot tell).
// With a nil mark, ran.Unseen set or in full mode it reads the whole catalog.
func (in *Inspector) Since(ctx context.Context, q Querier, mark *Mark, held []Lock, ran Ran) (*Mark, error) {
	if mark == nil || ran.Unseen || in.Mode == InspectFull {
		return in.Inspect(ctx, q)
	}
	m, err := in.since(ctx, q, mark, held, ran.BuiltIns)
	if err != nil || m == nil {
		if err != nil {
			return nil, err
		}
		return in.Inspect(ctx, q)
	}
	if in.Mode == InspectVerify {
		full, err := in.inspect(ctx, q, "") // the log goes on from m
		if err != nil {
			return nil, err
		}
		in.Full--
		if !reflect.DeepEqual(full.raw, m.raw) || !maps.Equal(full.relations, m.relations) {
			return nil, fmt.Errorf("incremental catalog read differs from a full read: %s", catalogDifference(full.raw, m.raw))
		}
		if !reflect.DeepEqual(full.Catalog(), m.Catalog()) {
			return nil, fmt.Errorf("incremental catalog read differs from a full read once filtered: %s", catalogDifference(full.Catalog(), m.Catalog()))
		}
	}
	return m, nil
}

// Check reads the catalog whole and compares it with mark, which must describe the database as it is
// now. It returns "" when they agree, otherwise what differs.
func (in *Inspector) Check(ctx context.Context, q Querier, mark *Mark) (string, error) {
	full, err := in.Inspect(ctx, q)
	if err != nil {
		return "", err
	}
	if reflect.DeepEqual(full.Catalog(), mark.Catalog()) {
		return "", nil
	}
	return catalogDifference(full.Catalog(), mark.Catalog()), nil
}

// since is the incremental read; a nil Mark means it cannot vouch for the result. builtIns has the
// probe look for rows of built-in objects written since the mark (see builtInPrivilegeReasons).
func (in *Inspector) since(ctx context.Context, q Querier, mark *Mark, held []Lock, builtIns bool) (*Mark, error) {
	if !mark.pathOK {
		// A name the mark's text qualified may be visible now (a drop took away what hid it).
		return nil, nil
	}
	locks := make([][3]any, len(held))
	for i, l := range held {
		locks[i] = [3]any{l.Class, l.OID, l.Mode}
	}
	token := in.newToken()
	input := map[string]any{"horizon": mark.horizon, "locks": locks, "builtins": builtIns}
	if token != "" {
		input["token"] = token
	}
	var p struct {
		state
		Full     []string   `json:"full"`
		Seeds    [][2]int64 `json:"seeds"`
		Fallback bool       `json:"fallback"`
	}
	probe := func(query string) error {
		b, err := queryWithInput(ctx, q, &in.path, input, query)
		if err != nil {
			return fmt.Errorf("probe catalog changes: %w", err)
		}
		p.Fallback = false
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("decode catalog changes: %w", err)
		}
		return nil
	}
	logged := false
	if in.tracking && mark.token != "" {
		input["mark"] = mark.token
		if err := probe(loggedProbeSQL); err != nil {
			return nil, err
		}
		logged = !p.Fallback
		delete(input, "mark")
	}
	if !logged {
		if err := probe(probeSQL); err != nil {
			return nil, err
		}
	}
	in.keepTracking(p.state)
	if len(p.Full) > 0 || p.Path != mark.path || p.Schemas != mark.schemas || !p.PathOK || p.Shadowed || p.Roles != mark.roles || p.DefACL != mark.defACL ||
		p.Mappings != mark.mappings {
		return nil, nil
	}
	classes, seedOIDs := []uint32{}, []uint32{}
	for _, s := range p.Seeds {
		classes, seedOIDs = append(classes, uint32(s[0])), append(seedOIDs, uint32(s[1]))
	}
	if mark.extensionMember(classes, seedOIDs) {
		// ALTER EXTENSION ... DROP may have let it go: the extension's members changed (see newObjectReasons).
		return nil, nil
	}
	// A changed function's overloads count (see inspectTemplate): the query finds them by the current
	// name; those of a function that was dropped or renamed are found here by the name it had.
	var byOID map[uint32]*schema.Function
	var tableConstraints map[uint32]bool
	for i, c := range classes {
		if c == classProc {
			if byOID == nil {
				byOID = make(map[uint32]*schema.Function, len(mark.raw.Functions))
				for _, f := range mark.raw.Functions {
					byOID[f.OID] = f
				}
			}
			if f := byOID[seedOIDs[i]]; f != nil {
				for _, g := range mark.raw.Functions {
					if g.Name == f.Name && g.OID != f.OID {
						classes, seedOIDs = append(classes, classProc), append(seedOIDs, g.OID)
					}
				}
			}
		}
	}
	// A constraint seed the mark has no table constraint for may be a domain's: one that ALTER DOMAIN
	// ... DROP CONSTRAINT (or a DROP ... CASCADE) removed leaves only its lock, and the deleted row no
	// longer leads to its domain. The mark's domains are read again (there are few).
	for i, c := range classes {
		if c != classConstraint {
			continue
		}
		if tableConstraints == nil {
			tableConstraints = make(map[uint32]bool, len(mark.raw.Constraints))
			for _, x := range mark.raw.Constraints {
				tableConstraints[x.OID] = true
			}
		}
		if !tableConstraints[seedOIDs[i]] {
			for _, d := range mark.raw.Domains {
				classes, seedOIDs = append(classes, classType), append(seedOIDs, d.OID)
			}
			break
		}
	}
	m := &Mark{horizon: p.horizon(), path: p.Path, schemas: p.Schemas, pathOK: true, roles: p.Roles, defACL: p.DefACL, mappings: p.Mappings,
		ig: in.Ignore, Incremental: true, token: token}
	if logged {
		in.Logged++
	}
	if len(seedOIDs) == 0 {
		in.Partial++
		m.raw, m.relations, m.filtered = mark.raw, mark.relations, mark.Catalog()
		return m, nil
	}
	lean := noneOfLeanSections(mark.raw)
	doc, err := readCatalogAs(ctx, q, &in.path, false, lean, classes, seedOIDs, mark.known(classes, seedOIDs), token)
	if err != nil {
		return nil, err
	}
	if lean {
		in.Lean++
	}
	in.Partial++
	in.Owners += len(doc.Dirty.Rels) + len(doc.Dirty.Procs) + len(doc.Dirty.Types)
	part := doc.catalog()
	m.raw, m.relations = merge(mark.raw, mark.relations, doc, part)
	// The filtered catalog is merged the same way, so that it shares the untouched objects too.
	m.filtered, _ = merge(mark.Catalog(), mark.relations, doc, copyCatalog(part).Filter(in.Ignore))
	return m, nil
}

// classProc, classRelation, classType and classConstraint are the OIDs of pg_proc, pg_class, pg_type
// and pg_constraint.
const (
	classProc       = 1255
	classRelation   = 1259
	classType       = 1247
	classConstraint = 2606
)

// extensionMember tells whether one of the objects (classes[i], oids[i]) was an extension's member at
// the mark. The objects are a read's few seeds, the members may be thousands (PostGIS): the members are
// looked up among the seeds, with no map of them built on every read.
func (m *Mark) extensionMember(classes, oids []uint32) bool {
	if len(oids) == 0 || len(m.raw.Extensions) == 0 {
		return false
	}
	seeds := make(map[[2]uint32]bool, len(oids))
	for i := range oids {
		seeds[[2]uint32{classes[i], oids[i]}] = true
	}
	for _, e := range m.raw.Extensions {
		for _, x := range e.Members {
			if seeds[[2]uint32{x.Class, x.OID}] {
				return true
			}
		}
	}
	return false
}

// knownRelation is a relation as a mark saw it: [OID, "schema.name", [[attnum, "column"], ...]].
type knownRelation [3]any

// known lists the seed tables and sequences of the mark with their names and columns, for the partial
// read to tell which of them kept the names that their dependents quote (see closureCTEs). Other seeds
// (views, whose column names the mark does not keep apart from their types, and relations it has not
// seen) always have their dependents read.
func (m *Mark) known(classes, oids []uint32) []knownRelation {
	var out []knownRelation
	for i, c := range classes {
		if c != classRelation {
			continue
		}
		name, ok := m.relations[oids[i]]
		if !ok {
			continue
		}
		cols := [][2]any{}
		if t := m.raw.Tables[name]; t != nil && t.OID == oids[i] {
			for _, col := range t.Columns {
				cols = append(cols, [2]any{col.Num, col.Name})
			}
		} else if s := m.raw.Sequences[name]; s == nil || s.OID != oids[i] {
			continue
		}
		out = append(out, knownRelation{oids[i], name, cols})
	}
	return out
}

// merge replaces in a copy of base every object the partial document covered by those of part (the
// document's catalog, possibly filtered); relations names the relations of base.
func merge(base *schema.Catalog, relations map[uint32]string, doc *catalogDoc, part *schema.Catalog) (*schema.Catalog, map[uint32]string) {
	c := copyCatalog(base)
	rels := maps.Clone(relations)
	names := map[string]bool{} // qualified names of dirty relations, before and now
	dirty := map[uint32]bool{}
	for _, oid := range doc.Dirty.Rels {
		dirty[oid] = true
		if n, ok := rels[oid]; ok {
			names[n] = true
			delete(rels, oid)
		}
	}
	for _, r := range doc.Relations {
		names[r.Name] = true
		rels[r.OID] = r.Name
	}
	for k, x := range c.Tables {
		if dirty[x.OID] || names[k] {
			delete(c.Tables, k)
		}
	}
	for k, x := range c.Views {
		if dirty[x.OID] || names[k] {
			delete(c.Views, k)
		}
	}
	for k, x := range c.Sequences {
		if dirty[x.OID] || names[k] {
			delete(c.Sequences, k)
		}
	}
	for k, x := range c.Constraints {
		if names[x.QTable()] {
			delete(c.Constraints, k)
		}
	}
	for k, x := range c.Indexes {
		if dirty[x.OID] || names[x.QTable()] {
			delete(c.Indexes, k)
		}
	}
	for k, x := range c.Triggers {
		if names[x.QTable()] {
			delete(c.Triggers, k)
		}
	}
	for k, x := range c.Policies {
		if names[x.QTable()] {
			delete(c.Policies, k)
		}
	}
	procs := set(doc.Dirty.Procs)
	for k, x := range c.Functions {
		if procs[x.OID] {
			delete(c.Functions, k)
		}
	}
	types := set(doc.Dirty.Types)
	for k, x := range c.Enums {
		if types[x.OID] {
			delete(c.Enums, k)
		}
	}
	for k, x := range c.Domains {
		if types[x.OID] {
			delete(c.Domains, k)
		}
	}
	for k, x := range c.Composites {
		if types[x.OID] {
			delete(c.Composites, k)
		}
	}
	for k, x := range c.ShellTypes {
		if types[x.OID] {
			delete(c.ShellTypes, k)
		}
	}
	// A partial read leaves schemas, extensions, roles and memberships, the database-wide default
	// privileges, the database's settings, owner, comment, connection limit, IS_TEMPLATE and
	// ALLOW_CONNECTIONS and the privileges on built-in and extensions' objects, the database and
	// parameters out: they are the mark's (copied above; see partialInspectSQL).
	c.User = part.User
	maps.Copy(c.Tables, part.Tables)
	maps.Copy(c.Views, part.Views)
	maps.Copy(c.Sequences, part.Sequences)
	maps.Copy(c.Constraints, part.Constraints)
	maps.Copy(c.Indexes, part.Indexes)
	maps.Copy(c.Triggers, part.Triggers)
	maps.Copy(c.Policies, part.Policies)
	maps.Copy(c.Functions, part.Functions)
	maps.Copy(c.Enums, part.Enums)
	maps.Copy(c.Domains, part.Domains)
	maps.Copy(c.Composites, part.Composites)
	maps.Copy(c.ShellTypes, part.ShellTypes)
	// Every read has all the event triggers, publications, foreign-data wrappers, servers, user mappings
	// and casts (a lean one none, as the mark: see leanSections).
	c.EventTriggers = part.EventTriggers
	c.Publications = part.Publications
	c.ForeignDataWrappers = part.ForeignDataWrappers
	c.ForeignServers = part.ForeignServers
	c.UserMappings = part.UserMappings
	c.Casts = part.Casts
	// And all the operators, operator families and classes, text search parsers and templates.
	c.Operators = part.Operators
	c.OperatorFamilies = part.OperatorFamilies
	c.OperatorClasses = part.OperatorClasses
	c.TextSearchParsers = part.TextSearchParsers
	c.TextSearchTemplates = part.TextSearchTemplates
	// And all the access methods, languages, conversions and transforms.
	c.AccessMethods = part.AccessMethods
	c.Languages = part.Languages
	c.Conversions = part.Conversions
	c.Transforms = part.Transforms
	return c, rels
}

func set(oids []uint32) map[uint32]bool {
	m := make(map[uint32]bool, len(oids))
	for _, o := range oids {
		m[o] = true
	}
	return m
}

// copyCatalog copies the maps of c (the objects are shared: catalogs are not modified after a read).
func copyCatalog(c *schema.Catalog) *schema.Catalog {
	return &schema.Catalog{
		User:        c.User,
		Schemas:     maps.Clone(c.Schemas),
		Tables:      maps.Clone(c.Tables),
		Sequences:   maps.Clone(c.Sequences),
		Views:       maps.Clone(c.Views),
		Functions:   maps.Clone(c.Functions),
		Enums:       maps.Clone(c.Enums),
		Domains:     maps.Clone(c.Domains),
		Composites:  maps.Clone(c.Composites),
		ShellTypes:  maps.Clone(c.ShellTypes),
		Extensions:  maps.Clone(c.Extensions),
		Constraints: maps.Clone(c.Constraints),
		Indexes:     maps.Clone(c.Indexes),
		Triggers:    maps.Clone(c.Triggers),
		Policies:    maps.Clone(c.Policies),

		TextSearchConfigs:             maps.Clone(c.TextSearchConfigs),
		TextSearchDictionaries:        maps.Clone(c.TextSearchDictionaries),
		EventTriggers:                 maps.Clone(c.EventTriggers),
		Publications:                  maps.Clone(c.Publications),
		ForeignDataWrappers:           maps.Clone(c.ForeignDataWrappers),
		ForeignServers:                maps.Clone(c.ForeignServers),
		UserMappings:                  maps.Clone(c.UserMappings),
		Casts:                         maps.Clone(c.Casts),
		Operators:                     maps.Clone(c.Operators),
		OperatorFamilies:              maps.Clone(c.OperatorFamilies),
		OperatorClasses:               maps.Clone(c.OperatorClasses),
		TextSearchParsers:             maps.Clone(c.TextSearchParsers),
		TextSearchTemplates:           maps.Clone(c.TextSearchTemplates),
		AccessMethods:                 maps.Clone(c.AccessMethods),
		Languages:                     maps.Clone(c.Languages),
		Conversions:                   maps.Clone(c.Conversions),
		Transforms:                    maps.Clone(c.Transforms),
		Roles:                         maps.Clone(c.Roles),
		Memberships:                   maps.Clone(c.Memberships),
		DefaultPrivileges:             c.DefaultPrivileges,
		DatabaseSettings:              c.DatabaseSettings,
		DatabaseOwner:                 c.DatabaseOwner,
		DatabaseComment:               c.DatabaseComment,
		DatabaseConnectionLimit:       c.DatabaseConnectionLimit,
		DatabaseIsTemplate:            c.DatabaseIsTemplate,
		DatabaseConnectionsDisallowed: c.DatabaseConnectionsDisallowed,
		BuiltInPrivileges:             maps.Clone(c.BuiltInPrivileges),
	}
}

// catalogDifference names the first objects on which two catalogs differ.
func catalogDifference(want, got *schema.Catalog) string {
	var out []string
	if want.DefaultPrivileges != got.DefaultPrivileges {
		out = append(out, fmt.Sprintf("database-wide default privileges are %q, want %q", got.DefaultPrivileges, want.DefaultPrivileges))
	}
	if !slices.Equal(want.DatabaseSettings, got.DatabaseSettings) {
		out = append(out, fmt.Sprintf("the database's settings are %q, want %q", got.DatabaseSettings, want.DatabaseSettings))
	}
	if w, g := [3]string{want.DatabaseOwner, want.DatabaseComment, want.DatabaseConnectionLimit},
		[3]string{got.DatabaseOwner, got.DatabaseComment, got.DatabaseConnectionLimit}; w != g {
		out = append(out, fmt.Sprintf("the database's owner, comment and connection limit are %q, want %q", g, w))
	}
	if w, g := [2]bool{want.DatabaseIsTemplate, want.DatabaseConnectionsDisallowed},
		[2]bool{got.DatabaseIsTemplate, got.DatabaseConnectionsDisallowed}; w != g {
		out = append(out, fmt.Sprintf("the database's IS_TEMPLATE and connections disallowed are %v, want %v", g, w))
	}
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	var wm, gm map[string]map[string]json.RawMessage
	_ = json.Unmarshal(w, &wm)
	_ = json.Unmarshal(g, &gm)
	for kind, objs := range wm {
		for name, x := range objs {
			if y, ok := gm[kind][name]; !ok {
				out = append(out, fmt.Sprintf("%s %s missing", kind, name))
			} else if string(x) != string(y) {
				out = append(out, fmt.Sprintf("%s %s is %s, want %s", kind, name, y, x))
			}
		}
		for name := range gm[kind] {
			if _, ok := objs[name]; !ok {
				out = append(out, fmt.Sprintf("%s %s should not be there", kind, name))
			}
		}
	}
	// A kind want has none of is left out of its JSON (omitempty): what got has of it is extra.
	for kind, objs := range gm {
		if _, ok := wm[kind]; !ok {
			for name := range objs {
				out = append(out, fmt.Sprintf("%s %s should not be there", kind, name))
			}
		}
	}
	if len(out) == 0 {
		return "relation names differ"
	}
	slices.Sort(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("and %d more", len(out)-5))
	}
	return strings.Join(out, "; ")
}

// state is where the session stands: the transaction horizon and the search path.
type state struct {
	Next   int64  `json:"next"` // next transaction ID (32 bits)
	Top    int64  `json:"top"`  // the session's transaction ID, 0 when it has none
	Path   string `json:"path"`
	PathOK bool   `json:"path_ok"`
	// Shadowed tells whether a name is found in two schemas of the search path (see shadowedSQL).
	Shadowed bool `json:"shadowed"`
	// Schemas is the effective search path (current_schemas): the same setting finds other schemas
	// under another role ("$user").
	Schemas string `json:"schemas"`
	// Roles fingerprints the roles (policies and ACLs name them; the catalog has them, see
	// inspectTemplate) but the predefined ones, which cannot change: their rows in pg_roles (their
	// settings for every database too), their memberships, their settings for one database and their
	// comments, and this database's own settings (ALTER DATABASE ... SET; not another database's, which
	// other sessions make), owner, connection limit, IS_TEMPLATE, ALLOW_CONNECTIONS (which another
	// session may turn off), privileges and comment, and the privileges on configuration parameters
	// (pg_parameter_acl, PostgreSQL 15+, read through table_to_xml: see parameterACLRowsSQL). These shared catalogs' rows change without a lock the probe would see. Whether a role
	// has a password is pg_authid's alone, which only superusers read, through a query (query_to_xml)
	// that would cost a probe more than all the rest: a script that sets one has the catalog read whole
	// (see UnseenChanges).
	Roles string `json:"roles"`
	// DefACL fingerprints the default privileges (pg_default_acl), which change without a lock and
	// whose rows may go away without a trace.
	DefACL string `json:"defacl"`
	// Mappings fingerprints the user mappings as pg_user_mappings shows them (pg_user_mapping, whose
	// rows would tell what changed, is for superusers only).
	Mappings string `json:"mappings"`
	// Tracked tells that the change log's reset and begin functions are there (see Inspector.ResetSQL
	// and BeginSQL).
	Tracked bool `json:"tracked"`
}

// horizon is the oldest transaction ID a later change can carry: the session's own transaction when it
// has one (later statements of it write rows with its ID), otherwise the next one.
func (s state) horizon() uint32 {
	if s.Top != 0 {
		return uint32(s.Top)
	}
	return uint32(s.Next)
}

// stateSQL is the state as json_build_object arguments. path_ok holds when the session has no temporary
// schema (its tables shadow others, and come and go with no trace in the catalog), pg_catalog comes first
// in the effective search path, and, when several schemas follow it, none of them is a system one
// (information_schema's objects have OIDs below the user range, which shadowedSQL does not read).
//
// Deparsed text (pg_get_viewdef, format_type, pg_get_constraintdef, regclass and regproc output...)
// qualifies a name when the search path does not find that object under it. pg_catalog comes first and
// changes only with what the probe reads whole after, so an object in a later schema is hidden only by
// one of the same name in a schema between them. While no name is found in two of those schemas
// (shadowed is false), each of their objects is visible: the visibility of a name, and so the deparsed
// text of what uses it, changes only with the objects pg_depend links, as with a single schema. That
// must hold at the mark (Mark.pathOK) as well as now, on the same effective path (Schemas): a drop that
// uncovers a hidden name leaves a path where it holds, and the text of the mark quoted the name
// qualified.
const stateSQL = `
'next', txid_snapshot_xmax(txid_current_snapshot()) % 4294967296,
'top', coalesce(txid_current_if_assigned() % 4294967296, 0),
'path', current_setting('search_path'),
'schemas', current_schemas(true)::text,
'roles', (SELECT md5(string_agg(x.t, ',' ORDER BY x.t)) FROM (SELECT r::text AS t FROM pg_roles r WHERE r.oid >= 16384 OR r.oid = 10
    UNION ALL SELECT m::text FROM pg_auth_members m WHERE m.member >= 16384 OR m.member = 10
    UNION ALL SELECT s::text FROM pg_db_role_setting s WHERE s.setdatabase <> 0 AND s.setrole <> 0
    UNION ALL SELECT s.setconfig::text FROM pg_db_role_setting s
      WHERE s.setrole = 0 AND s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
    UNION ALL SELECT concat_ws(' ', d.datdba, d.datconnlimit, d.datistemplate, d.datallowconn, d.datacl::text, ` + databaseCommentSQL + `)
      FROM pg_database d WHERE d.datname = current_database()
    UNION ALL SELECT r::text FROM ` + parameterACLRowsSQL + ` r
    UNION ALL SELECT d.objoid::text || ':' || d.description FROM pg_shdescription d WHERE d.classoid = 'pg_authid'::regclass) x),
'defacl', (SELECT md5(coalesce(string_agg(oid::text || ' ' || defaclacl::text, ',' ORDER BY oid), '')) FROM pg_default_acl),
'mappings', (SELECT md5(coalesce(string_agg(m.umid::text || ' ' || m.srvname || ' ' || m.usename || ' ' || coalesce(m.umoptions::text, '-'),
    ',' ORDER BY m.umid), '')) FROM pg_user_mappings m),
'tracked', to_regprocedure('pg_catalog.schemagate_reset()') IS NOT NULL AND to_regprocedure('pg_catalog.schemagate_begin()') IS NOT NULL,
'path_ok', pg_my_temp_schema() = 0 AND coalesce((SELECT p.s[1] = 'pg_catalog' AND (cardinality(p.s) <= 2
      OR NOT EXISTS (SELECT 1 FROM unnest(p.s[2:]) u(s) WHERE u.s = 'information_schema' OR u.s LIKE 'pg\_%'))
    FROM (SELECT current_schemas(true) AS s) p), false)`

// nameSpaces are the catalogs of the objects that name lookup through the search path finds and
// deparsing names unqualified when it finds them: one name space for each *IsVisible function of
// PostgreSQL's namespace.c, relations and types in one (a table is both, and ruleutils.c asks
// RelationIsVisible or TypeIsVisible of the same name). Lookups that also match arguments (functions,
// operators), access methods (operator classes and families) or encodings (conversions, collations)
// are taken by name alone, which can only find a clash that is none: [space, catalog, name, schema].
var nameSpaces = [][4]string{
	{"relation or type", "pg_class", "relname", "relnamespace"},
	{"relation or type", "pg_type", "typname", "typnamespace"},
	{"function", "pg_proc", "proname", "pronamespace"},
	{"operator", "pg_operator", "oprname", "oprnamespace"},
	{"operator class", "pg_opclass", "opcname", "opcnamespace"},
	{"operator family", "pg_opfamily", "opfname", "opfnamespace"},
	{"collation", "pg_collation", "collname", "collnamespace"},
	{"conversion", "pg_conversion", "conname", "connamespace"},
	{"statistics", "pg_statistic_ext", "stxname", "stxnamespace"},
	{"text search configuration", "pg_ts_config", "cfgname", "cfgnamespace"},
	{"text search dictionary", "pg_ts_dict", "dictname", "dictnamespace"},
	{"text search parser", "pg_ts_parser", "prsname", "prsnamespace"},
	{"text search template", "pg_ts_template", "tmplname", "tmplnamespace"},
}

// shadowedSQL is an expression that tells whether a name of one of nameSpaces is found in two schemas
// of the effective search path after pg_catalog; false, and not computed, with one such schema at most.
// The objects of those schemas have user OIDs (see path_ok), which the OID indexes find without
// reading the built-in rows. A whole read (since false) looks at all of them. The probe looks only at
// the objects written since the mark (the probe's h: created, renamed or moved), and looks their names
// up by index: it starts from a mark where no name was found twice on the same path, so one of the two
// objects of a name now found twice has been written since.
func shadowedSQL(since bool) string {
	// The probe has already read the written rows of these (see probeSQL).
	probeWritten := map[string]string{"pg_class": "new_class", "pg_type": "new_type", "pg_proc": "new_proc"}
	var rows, names []string
	for _, n := range nameSpaces {
		space, catalog, name, ns := n[0], n[1], n[2], n[3]
		from := catalog + " x WHERE x.oid >= 16384"
		if w, ok := probeWritten[catalog]; ok && since {
			from = w + " x WHERE true"
		} else if since {
			from = catalog + " x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)"
		}
		rows = append(rows, fmt.Sprintf("SELECT '%s' AS space, x.%s AS name, x.%s AS ns FROM %s AND x.%s = ANY (u.ns)",
			space, name, ns, from, ns))
		names = append(names, fmt.Sprintf("SELECT 1 FROM %s y WHERE x.space = '%s' AND y.%s = x.name AND y.%s = ANY (u.ns) AND y.%s <> x.ns",
			catalog, space, name, ns, ns))
	}
	clash := "GROUP BY x.space, x.name HAVING min(x.ns) <> max(x.ns)"
	if since {
		clash = "WHERE EXISTS (" + strings.Join(names, "\n    UNION ALL ") + ")"
	}
	return `cardinality(current_schemas(true)) > 2 AND EXISTS (SELECT 1
  FROM (SELECT array_agg(n.oid) AS ns FROM pg_namespace n WHERE n.nspname = ANY ((current_schemas(true))[2:])) u
  CROSS JOIN LATERAL (` + strings.Join(rows, "\n    UNION ALL ") + `) x
  ` + clash + `)`
}

// locksSQL lists the locks of the session that may stand for a catalog change: relation locks of
// ShareUpdateExclusiveLock and up on user relations (every ALTER, DROP, COMMENT, CREATE INDEX or TRIGGER
// takes one), and object locks stronger than AccessShareLock (DROP and ALTER of functions, types,
// schemas...). Namespace locks in AccessShareLock mode are what every CREATE takes and say nothing.
// Where the change log is kept, a row of class 0 says the transaction wrote catalog rows outside the
// DDL commands it logged (see unloggedWritesSQL), which sends the read to a whole read.
var locksSQL = `
SELECT CASE WHEN l.locktype = 'relation' THEN 'pg_class'::regclass::oid ELSE l.classid END, coalesce(l.relation, l.objid), l.mode
FROM pg_locks l
WHERE l.pid = pg_backend_pid() AND l.granted
  AND ((l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.relation >= 16384
        AND l.mode IN ('ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'))
    OR (l.locktype = 'object' AND l.mode <> 'AccessShareLock'
        AND l.classid NOT IN ('pg_database'::regclass, 'pg_tablespace'::regclass)))
UNION ALL ` + unloggedWritesSQL

// seedClasses are the catalogs whose objects a partial read maps to their owners (see inspectTemplate).
const seedClasses = `'pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass, 'pg_constraint'::regclass,
  'pg_attrdef'::regclass, 'pg_rewrite'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass`

// newObjectReasons are the probes' reasons for a whole read that the relations, types and functions
// written since the mark give (new_class, new_type, new_proc), and the locks (locks): a name in a system
// or temporary schema, a function named like a built-in one, a lock on what no partial read covers, a
// lock on an extension's member. ALTER EXTENSION ... ADD writes the member's pg_depend row and locks the
// member, but neither writes nor locks the extension, whose members only whole reads have (see
// inspectTemplate): a locked object an extension owns now is one ADD may have given it (found by index,
// OFFSET 0 keeping each look-up a subquery). ALTER EXTENSION ... DROP leaves only the lock: the mark's
// members tell that one (see since).
var newObjectReasons = `  UNION ALL SELECT 'lock on a member of an extension' FROM locks l
    WHERE l.classid IN (` + seedClasses + `)
      AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = l.classid AND d.objid = l.objid AND d.deptype = 'e' OFFSET 0)
  UNION ALL SELECT 'relation in a system or temporary schema' FROM new_class x
    WHERE x.relnamespace <> 'pg_toast'::regnamespace
      AND (x.relnamespace = 'pg_catalog'::regnamespace OR x.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname LIKE 'pg\_temp\_%'))
  UNION ALL SELECT 'type in a system or temporary schema' FROM new_type x
    WHERE (x.typnamespace = 'pg_catalog'::regnamespace OR x.typnamespace IN (SELECT oid FROM pg_namespace WHERE nspname LIKE 'pg\_%temp\_%'))
  UNION ALL SELECT 'function ' || x.proname || ' shares a name with a built-in one or lives in a system schema' FROM new_proc x
    WHERE (x.pronamespace = 'pg_catalog'::regnamespace OR x.pronamespace IN (SELECT oid FROM pg_namespace WHERE nspname LIKE 'pg\_temp\_%')
        OR EXISTS (SELECT 1 FROM pg_proc b WHERE b.proname = x.proname AND b.oid < 16384))
  UNION ALL SELECT CASE WHEN l.classid = 0 THEN l.mode ELSE 'lock on ' || l.classid::regclass::text END FROM locks l
    WHERE l.classid NOT IN (` + seedClasses + `)`

// tablespaceReasons is the probes' reason for a whole read that a tablespace written since the mark
// gives: renamed, it changes the name the tables, materialized views and indexes in it read, and writes
// no row of theirs nor fires an event trigger (tablespaces are the server's). There are few: read whole.
const tablespaceReasons = `  UNION ALL SELECT 'tablespace ' || x.spcname FROM pg_tablespace x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)`

// probeSQL finds what changed since a mark. Its input is in the session setting schemagate.inspect:
// {"horizon": the mark's horizon, "locks": [[class OID, object OID, mode], ...] captured before a commit,
// "builtins": whether to look for rows of built-in objects written since the mark (see Ran)}.
// It returns the seeds of a partial read, or reasons to read the whole catalog, and the new state.
var probeSQL = `
WITH input AS (SELECT current_setting('schemagate.inspect', true)::jsonb AS j),
h AS (SELECT (j->>'horizon')::xid AS h FROM input),
builtins AS (SELECT coalesce((j->>'builtins')::bool, true) AS b FROM input),
locks(classid, objid, mode) AS (
  SELECT (e->>0)::oid, (e->>1)::oid, e->>2 FROM input, jsonb_array_elements(j->'locks') e
  UNION ALL ` + locksSQL + `
),
new_class AS MATERIALIZED (SELECT x.oid, x.relname, x.relnamespace FROM pg_class x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)),
new_proc AS MATERIALIZED (SELECT x.oid, x.proname, x.pronamespace FROM pg_proc x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)),
new_type AS MATERIALIZED (SELECT x.oid, x.typname, x.typnamespace FROM pg_type x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)),
chg(classid, objid) AS (
  SELECT 'pg_class'::regclass::oid, c.oid FROM new_class c
  UNION ALL SELECT 'pg_class'::regclass, x.adrelid FROM pg_attrdef x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_constraint'::regclass, x.oid FROM pg_constraint x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.indexrelid FROM pg_index x, h WHERE x.indexrelid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.tgrelid FROM pg_trigger x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.polrelid FROM pg_policy x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.ev_class FROM pg_rewrite x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.seqrelid FROM pg_sequence x, h WHERE x.seqrelid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.inhrelid FROM pg_inherits x, h WHERE x.inhrelid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.inhparent FROM pg_inherits x, h WHERE x.inhrelid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.partrelid FROM pg_partitioned_table x, h WHERE x.partrelid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_class'::regclass, x.stxrelid FROM pg_statistic_ext x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'pg_proc'::regclass, x.oid FROM new_proc x
  UNION ALL SELECT 'pg_type'::regclass, x.oid FROM new_type x
  UNION ALL SELECT 'pg_type'::regclass, x.enumtypid FROM pg_enum x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT x.classoid, x.objoid FROM pg_description x, h WHERE x.objoid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT l.classid, l.objid FROM locks l WHERE l.classid IN (` + seedClasses + `)
),
full_reasons(reason) AS (
  SELECT 'schema ' || x.nspname FROM pg_namespace x, h WHERE age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'schema comment' FROM pg_namespace n JOIN pg_description x ON x.objoid = n.oid AND x.classoid = 'pg_namespace'::regclass, h
    WHERE age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'extension ' || x.extname FROM pg_extension x, h WHERE age(x.xmin) <= age(h.h)
` + tablespaceReasons + `
  UNION ALL SELECT 'operator' FROM pg_operator x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'operator class' FROM pg_opclass x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'operator family' FROM pg_opfamily x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  -- ALTER OPERATOR FAMILY ... ADD writes the members, not the family's row; what drops a member locks it
  -- (see newObjectReasons)
  UNION ALL SELECT 'operator family member' FROM pg_amop x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'operator family member' FROM pg_amproc x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'cast' FROM pg_cast x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'collation' FROM pg_collation x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'conversion' FROM pg_conversion x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'language' FROM pg_language x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'text search configuration' FROM pg_ts_config x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'text search dictionary' FROM pg_ts_dict x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  -- ALTER TEXT SEARCH CONFIGURATION ... MAPPING writes the map and the configuration's dependencies, not
  -- its row, and takes no lock: a mapping dropped leaves only the dependencies written again
  UNION ALL SELECT 'text search configuration mapping' FROM pg_ts_config_map x, h WHERE x.mapcfg >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'text search configuration mapping' FROM pg_depend x, h
    WHERE x.classid = 'pg_ts_config'::regclass AND x.objid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'event trigger' FROM pg_event_trigger x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  -- a publication created, renamed, altered or given a table or schema; what takes one away, and a
  -- comment on one, locks it (see newObjectReasons)
  UNION ALL SELECT 'publication' FROM pg_publication x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'publication table' FROM pg_publication_rel x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'publication schema' FROM pg_publication_namespace x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'publication comment' FROM pg_description x, h
    WHERE x.classoid = 'pg_publication'::regclass AND x.objoid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'text search parser' FROM pg_ts_parser x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'text search template' FROM pg_ts_template x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'access method' FROM pg_am x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'transform' FROM pg_transform x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  -- foreign-data wrappers and servers made, altered, granted or commented on (a comment removed, and a
  -- drop, lock the object: see newObjectReasons), as casts are above; user mappings, whose catalog only
  -- superusers may read, are fingerprinted in the state
  UNION ALL SELECT 'foreign-data wrapper' FROM pg_foreign_data_wrapper x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'server' FROM pg_foreign_server x, h WHERE x.oid >= 16384 AND age(x.xmin) <= age(h.h)
  UNION ALL SELECT 'comment on a foreign-data wrapper, server, cast, operator, operator family or class, text search parser or template,'
      || ' access method, language, conversion or transform'
    FROM pg_description x, h
    WHERE x.classoid IN ('pg_foreign_data_wrapper'::regclass, 'pg_foreign_server'::regclass, 'pg_cast'::regclass,
        'pg_operator'::regclass, 'pg_opfamily'::regclass, 'pg_opclass'::regclass, 'pg_ts_parser'::regclass, 'pg_ts_template'::regclass,
        'pg_am'::regclass, 'pg_language'::regclass, 'pg_conversion'::regclass, 'pg_transform'::regclass)
      AND x.objoid >= 16384 AND age(x.xmin) <= age(h.h)
` + builtInPrivilegeReasons + newObjectReasons + `
)
SELECT json_build_object(` + stateSQL + `,
'shadowed', ` + shadowedSQL(true) + `,
'full', (SELECT coalesce(json_agg(DISTINCT reason), '[]') FROM full_reasons),
'seeds', (SELECT coalesce(json_agg(DISTINCT jsonb_build_array(classid::int8, objid::int8)), '[]') FROM chg WHERE objid <> 0)
)::text`

// Warm has conn's session plan the inspection queries (the whole read, the lean partial read and the probe)
// and the lock tracer's, so that the first reads after it do not pay for it: planning each of these
// large queries costs tens of milliseconds, once per session (see queryWithInput). A rehearsal warms
// its connection while another replays the history. Each query is prepared as the session's reads will
// find it (pgx.Conn.Prepare with the query as its name) and planned without being run (EXPLAIN
// EXECUTE), under the settings the reads run with (see queryWithInput): running the whole read on a
// half-replayed schema cost as much as planning it, and kept the rehearsal waiting after the replay.
// The other statements of the reads and the trace (see readStatements and traceStatements) are
// prepared too, not planned: the first read or trace prepares those it finds unprepared, which cost a
// few milliseconds after the replay for the partial read's 40 kB alone. They run in a transaction that
// is rolled back, so they leave no setting behind (prepared statements and plans outlive it), with
// each lock wait bounded by a few milliseconds: the replay's DDL must not wait long for them, nor they
// for it. Their errors do not matter: a query that could not be prepared or planned here is when first
// read.
func (in *Inspector) Warm(ctx context.Context, conn *pgx.Conn) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '20ms'"); err != nil {
		return
	}
	// Under the search path the reads and traces run under (see spareTimeout), for the transaction: a
	// plan made under another is made again when first used.
	if _, err := conn.Prepare(ctx, spareTimeout, spareTimeout); err != nil {
		return
	}
	if _, err := tx.Exec(ctx, spareTimeout); err != nil {
		return
	}
	path := in.path
	type query struct {
		input any
		sql   string
	}
	queries := []query{
		{map[string]any{}, fullInspectSQL},
		// The lean partial read, which most schemas use (see leanSections): the other is planned when
		// first used, as warming both would cost a replay running beside it more than it saves.
		{map[string]any{"seeds": [][2]uint32{}, "known": []knownRelation{}}, leanInspectSQL},
		{map[string]any{"horizon": 3, "locks": [][3]any{}, "builtins": false}, probeSQL},
	}
	if in.Mode == InspectLog {
		queries = append(queries, query{map[string]any{"horizon": 3, "locks": [][3]any{}, "mark": ""}, loggedProbeSQL})
	}
	for _, sql := range append(readStatements(), traceStatements()...) {
		if _, err := conn.Prepare(ctx, sql, sql); err != nil {
			return
		}
	}
	// The trace's read their input from settings of the transaction (see readSpared), which planning
	// them reads too: an empty one, as a read of every relation has.
	if _, err := tx.Exec(ctx, traceInputSQL, "{}", "{}", "{}", "{}", "{}", "", "", "", "{}", "", "", "", "{}"); err != nil {
		return
	}
	queries = append(queries, query{nil, fullTraceQuery}, query{nil, lockedTraceQuery})
	for _, q := range queries {
		if _, err := tx.Exec(ctx, "SAVEPOINT warm"); err != nil {
			return
		}
		if q.sql == lockedTraceQuery {
			// As readSpared plans it (see traceSeqScan); the last query, so the setting stays for it alone.
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = "+traceSeqScan); err != nil {
				return
			}
		}
		sd, err := conn.Prepare(ctx, q.sql, q.sql)
		if err == nil {
			explain := "EXPLAIN EXECUTE " + pgx.Identifier{sd.Name}.Sanitize()
			if q.input == nil {
				_, err = tx.Exec(ctx, explain)
			} else {
				_, err = queryWithInput(ctx, tx, &path, q.input, explain)
			}
		}
		if err != nil {
			if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT warm"); err != nil {
				return
			}
		}
	}
}
