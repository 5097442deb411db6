package schema

import (
	"maps"
	"path"
	"slices"
	"unicode/utf8"
)

// Catalog is a snapshot of the user-visible objects of one database. Objects are keyed by stable,
// qualified names (never OIDs) so that catalogs taken from different databases compare; the OID fields
// (JSON "oid") are kept only to recognise renames between two snapshots of the same database. A
// qualified name is a key (see Key): "schema.name", a name quoted only when it holds a dot, a double
// quote or an opening parenthesis, so that a."b.c" and "a.b".c are two objects. References to other
// objects (a table's parents, a foreign key's table, a sequence's column) are keys too.
type Catalog struct {
	Schemas     map[string]*Schema     `json:"schemas"`
	Tables      map[string]*Table      `json:"tables"`
	Sequences   map[string]*Sequence   `json:"sequences"`
	Views       map[string]*View       `json:"views"`
	Functions   map[string]*Function   `json:"functions"`
	Enums       map[string]*Enum       `json:"enums"`
	Domains     map[string]*Domain     `json:"domains"`
	Composites  map[string]*Composite  `json:"composites"`
	Extensions  map[string]*Extension  `json:"extensions"`
	Constraints map[string]*Constraint `json:"constraints"`
	Indexes     map[string]*Index      `json:"indexes"`
	Triggers    map[string]*Trigger    `json:"triggers"`
	Policies    map[string]*Policy     `json:"policies"`
	// ShellTypes are the types made by CREATE TYPE name alone, not defined yet, keyed "schema.name".
	ShellTypes map[string]*ShellType `json:"shell_types,omitempty"`
	// TextSearchConfigs and TextSearchDictionaries are keyed "schema.name".
	TextSearchConfigs      map[string]*TextSearchConfig     `json:"text_search_configurations,omitempty"`
	TextSearchDictionaries map[string]*TextSearchDictionary `json:"text_search_dictionaries,omitempty"`
	// EventTriggers are keyed by name: they belong to the database, not to a schema.
	EventTriggers map[string]*EventTrigger `json:"event_triggers,omitempty"`
	// Publications are keyed by name: they belong to the database, not to a schema.
	Publications map[string]*Publication `json:"publications,omitempty"`
	// ForeignDataWrappers and ForeignServers are keyed by name, UserMappings by "user on server" (see
	// UserMapping.Key), Casts by "(source AS target)": they belong to the database, not to a schema.
	// Those an extension made (postgres_fdw's wrapper, hstore's casts) are left out, as the
	// extension's other objects are.
	ForeignDataWrappers map[string]*ForeignDataWrapper `json:"foreign_data_wrappers,omitempty"`
	ForeignServers      map[string]*ForeignServer      `json:"foreign_servers,omitempty"`
	UserMappings        map[string]*UserMapping        `json:"user_mappings,omitempty"`
	Casts               map[string]*Cast               `json:"casts,omitempty"`
	// Operators are keyed "schema.name(left, right)" (see Operator.Key), operator families and classes
	// "schema.name USING method", text search parsers and templates "schema.name". Those an extension
	// made are left out, as its other objects are.
	Operators           map[string]*Operator           `json:"operators,omitempty"`
	OperatorFamilies    map[string]*OperatorFamily     `json:"operator_families,omitempty"`
	OperatorClasses     map[string]*OperatorClass      `json:"operator_classes,omitempty"`
	TextSearchParsers   map[string]*TextSearchParser   `json:"text_search_parsers,omitempty"`
	TextSearchTemplates map[string]*TextSearchTemplate `json:"text_search_templates,omitempty"`
	// AccessMethods and Languages are keyed by name, Conversions "schema.name", Transforms by
	// Transform.Key. Built-in ones and those an extension made are left out.
	AccessMethods map[string]*AccessMethod `json:"access_methods,omitempty"`
	Languages     map[string]*Language     `json:"languages,omitempty"`
	Conversions   map[string]*Conversion   `json:"conversions,omitempty"`
	Transforms    map[string]*Transform    `json:"transforms,omitempty"`
	// Roles are keyed by name, Memberships by "member in role [granted by grantor]" (see Membership.Key): they belong to the
	// server, and only whole reads have them (see internal/pg). The predefined pg_* roles are left out.
	Roles       map[string]*Role       `json:"roles,omitempty"`
	Memberships map[string]*Membership `json:"memberships,omitempty"`
	// DefaultPrivileges are the database-wide ALTER DEFAULT PRIVILEGES entries (pg_default_acl rows of
	// no schema), one line each, sorted: "role: tables: grantee=privileges/grantor,...". A role and kind
	// without a line has PostgreSQL's built-in defaults (its owner has every privilege, PUBLIC may also
	// execute functions and use types); a line is the whole ACL that replaces them, so one that only
	// revokes PUBLIC's EXECUTE reads "app: functions: app=X/app".
	DefaultPrivileges string `json:"default_privileges,omitempty"`
	// BuiltInPrivileges are the privileges on built-in objects and on objects an extension owns that
	// differ from their initial ones (see BuiltInPrivilege), keyed by BuiltInPrivilege.Key, and those on
	// the database itself (GRANT ... ON DATABASE, against the defaults of its owner) and on
	// configuration parameters (GRANT SET ON PARAMETER, pg_parameter_acl, PostgreSQL 15+): only whole
	// reads have them (see internal/pg).
	BuiltInPrivileges map[string]*BuiltInPrivilege `json:"built_in_privileges,omitempty"`
	// DatabaseSettings are the database's own settings (ALTER DATABASE ... SET), each "name=value",
	// sorted: only whole reads have them, as roles (see internal/pg).
	DatabaseSettings []string `json:"database_settings,omitempty"`
	// DatabaseOwner, DatabaseComment and DatabaseConnectionLimit are the database's own owner, comment
	// (COMMENT ON DATABASE; not the url provider's mark) and connection limit ("" for none, -1): only
	// whole reads have them, as its settings. An owner only one catalog has (one not read from a
	// server) is not compared.
	DatabaseOwner           string `json:"database_owner,omitempty"`
	DatabaseComment         string `json:"database_comment,omitempty"`
	DatabaseConnectionLimit string `json:"database_connection_limit,omitempty"`
	// DatabaseIsTemplate and DatabaseConnectionsDisallowed are the database's IS_TEMPLATE true and
	// ALLOW_CONNECTIONS false (pg_database.datistemplate, and datallowconn negated, so that the zero
	// values are PostgreSQL's defaults): only whole reads have them, as its owner. PostgreSQL refuses to disallow connections to the database a session is in, so a
	// migration cannot set the latter on its own database; another session can.
	DatabaseIsTemplate            bool `json:"database_is_template,omitempty"`
	DatabaseConnectionsDisallowed bool `json:"database_connections_disallowed,omitempty"`
	// User is the role the catalog was read as: who owns what a script run the same way creates.
	User string `json:"user,omitempty"`
}

// NewCatalog returns an empty catalog with every map allocated.
func NewCatalog() *Catalog {
	return &Catalog{
		Schemas:     map[string]*Schema{},
		Tables:      map[string]*Table{},
		Sequences:   map[string]*Sequence{},
		Views:       map[string]*View{},
		Functions:   map[string]*Function{},
		Enums:       map[string]*Enum{},
		Domains:     map[string]*Domain{},
		Composites:  map[string]*Composite{},
		ShellTypes:  map[string]*ShellType{},
		Extensions:  map[string]*Extension{},
		Constraints: map[string]*Constraint{},
		Indexes:     map[string]*Index{},
		Triggers:    map[string]*Trigger{},
		Policies:    map[string]*Policy{},

		TextSearchConfigs:      map[string]*TextSearchConfig{},
		TextSearchDictionaries: map[string]*TextSearchDictionary{},
		EventTriggers:          map[string]*EventTrigger{},
		Publications:           map[string]*Publication{},
		ForeignDataWrappers:    map[string]*ForeignDataWrapper{},
		ForeignServers:         map[string]*ForeignServer{},
		UserMappings:           map[string]*UserMapping{},
		Casts:                  map[string]*Cast{},
		Operators:              map[string]*Operator{},
		OperatorFamilies:       map[string]*OperatorFamily{},
		OperatorClasses:        map[string]*OperatorClass{},
		TextSearchParsers:      map[string]*TextSearchParser{},
		TextSearchTemplates:    map[string]*TextSearchTemplate{},
		AccessMethods:          map[string]*AccessMethod{},
		Languages:              map[string]*Language{},
		Conversions:            map[string]*Conversion{},
		Transforms:             map[string]*Transform{},
		Roles:                  map[string]*Role{},
		Memberships:            map[string]*Membership{},
		BuiltInPrivileges:      map[string]*BuiltInPrivilege{},
	}
}

// Schema is a namespace.
type Schema struct {
	OID     uint32 `json:"oid,omitempty"`
	Name    string `json:"name"`
	Comment string `json:"comment,omitempty"`
	Access
	// DefaultPrivileges are the ALTER DEFAULT PRIVILEGES IN SCHEMA entries (pg_default_acl), one line
	// each: "role: object type: privileges".
	DefaultPrivileges string `json:"default_privileges,omitempty"`
	// Collations are the schema's own collations, one line each: "name: provider, locale".
	Collations string `json:"collations,omitempty"`
	// CollationNotes maps the name of each of the schema's collations to its owner and comment.
	CollationNotes map[string]Note `json:"collation_notes,omitempty"`
}

// Note is the owner and comment of an object the catalog keeps as a line of another's definitions (an
// extended statistics object in its table's Statistics, a collation in its schema's Collations): they
// compare as the object's own, "statistics st has comment ...".
type Note struct {
	Owner   string `json:"owner,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Access is who owns an object and who may use it. Privileges are the object's ACL entries sorted
// ("grantee=privileges/grantor", PUBLIC as an empty grantee), with the owner's defaults written out,
// so that a grant revoked again reads as it did before it.
type Access struct {
	Owner      string `json:"owner,omitempty"`
	Privileges string `json:"privileges,omitempty"`
}

// Table is an ordinary, partitioned or foreign table.
type Table struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Partitioned is set for a partitioned table; PartitionKey is pg_get_partkeydef.
	Partitioned  bool   `json:"partitioned,omitempty"`
	PartitionKey string `json:"partition_key,omitempty"`
	// PartitionOf and PartitionBound are set for a partition.
	PartitionOf    string `json:"partition_of,omitempty"`
	PartitionBound string `json:"partition_bound,omitempty"`
	// Inherits lists the qualified parents of a table that uses (non-partition) inheritance, in order.
	Inherits []string `json:"inherits,omitempty"`
	// OfType is the composite type of a typed table (CREATE TABLE ... OF type, pg_class.reloftype), as
	// format_type writes it; empty for a table that is not typed.
	OfType string `json:"of_type,omitempty"`
	// Server is set for a foreign table (relkind f): the foreign server it reads through.
	Server string `json:"server,omitempty"`
	// ForeignOptions are a foreign table's options (CREATE FOREIGN TABLE ... OPTIONS), "name=value",
	// sorted.
	ForeignOptions []string `json:"foreign_options,omitempty"`
	Unlogged       bool     `json:"unlogged,omitempty"`
	// AccessMethod is the table access method (CREATE TABLE ... USING, pg_class.relam) when it is not
	// heap; "" for heap, and for a table that has none (partitioned or foreign).
	AccessMethod string `json:"access_method,omitempty"`
	// Tablespace is the table's tablespace (a partitioned table's: its partitions' default) when it is
	// not the database's default; "" for that default, named (pg_default) or not.
	Tablespace  string `json:"tablespace,omitempty"`
	RowSecurity bool   `json:"row_security,omitempty"`
	// ForceRowSecurity is ALTER TABLE ... FORCE ROW LEVEL SECURITY.
	ForceRowSecurity bool   `json:"force_row_security,omitempty"`
	Comment          string `json:"comment,omitempty"`
	Access
	// Options are the storage parameters (fillfactor=70, autovacuum_enabled=false), sorted, then those
	// of its TOAST table prefixed "toast." (toast.autovacuum_enabled=false), as ALTER TABLE ... SET takes them.
	Options string `json:"options,omitempty"`
	// ReplicaIdentity is "nothing", "full" or "index NAME"; empty for the default (the primary key).
	ReplicaIdentity string `json:"replica_identity,omitempty"`
	// Rules are the table's rules (pg_get_ruledef), one per line, by name.
	Rules string `json:"rules,omitempty"`
	// RuleStates maps the name of a rule that is not plainly enabled to "disabled", "enabled always" or
	// "enabled replica" (ALTER TABLE ... DISABLE RULE).
	RuleStates map[string]string `json:"rule_states,omitempty"`
	// RuleComments maps a rule's name to its comment (COMMENT ON RULE), for rules that have one.
	RuleComments map[string]string `json:"rule_comments,omitempty"`
	// InternalTriggers lists, sorted and joined by ", ", the internal triggers (those enforcing a foreign
	// key or deferred unique constraint, named "constraint NAME") and the triggers a partition cloned
	// from its parent's (named "NAME (cloned)") that are not plainly enabled, e.g. "constraint c_a_fkey:
	// disabled" after ALTER TABLE ... DISABLE TRIGGER ALL.
	InternalTriggers string `json:"internal_triggers,omitempty"`
	// Statistics are the extended statistics on the table (pg_get_statisticsobjdef), one per line.
	Statistics string `json:"statistics,omitempty"`
	// StatisticsNotes maps each of those statistics objects, by "schema.name", to its owner and comment.
	StatisticsNotes map[string]Note `json:"statistics_notes,omitempty"`
	// Columns are in attribute order.
	Columns []*Column `json:"columns"`
}

// QName is the table's qualified name.
func (t *Table) QName() string { return Key(t.Schema, t.Name) }

// Foreign reports whether t is a foreign table.
func (t *Table) Foreign() bool { return t.Server != "" }

// kind is KindForeignTable for a foreign table, KindTable for another.
func (t *Table) kind() string {
	if t.Foreign() {
		return KindForeignTable
	}
	return KindTable
}

// Column returns the column named name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Column is a table column.
type Column struct {
	// Num is the attribute number: stable across a rename, so it identifies renamed columns.
	Num     int    `json:"num"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
	Default string `json:"default,omitempty"`
	// Identity is "always", "by default" or empty.
	Identity string `json:"identity,omitempty"`
	// Generated is the expression of a stored generated column.
	Generated string `json:"generated,omitempty"`
	// Inherited is set for a column that comes only from a parent table (not declared locally): it
	// comes and goes with the parent's.
	Inherited bool `json:"inherited,omitempty"`
	// InheritCount is the number of parents it comes from (pg_attribute.attinhcount). A column declared
	// locally that also comes from a parent (not Inherited, InheritCount above 0) stays when the
	// parent's is dropped: ALTER TABLE ... NO INHERIT then INHERIT leaves every inherited column so.
	InheritCount int `json:"inherit_count,omitempty"`
	// Collation is set when it differs from the type's default collation.
	Collation string `json:"collation,omitempty"`
	Comment   string `json:"comment,omitempty"`
	// Storage is set when it differs from the type's (plain, external, main or extended).
	Storage string `json:"storage,omitempty"`
	// Statistics is the column's statistics target when set (ALTER COLUMN ... SET STATISTICS).
	Statistics string `json:"statistics,omitempty"`
	// Privileges are the column's own ACL entries (GRANT SELECT (col) ON ...), sorted and joined by
	// commas as in Access; empty when it has none.
	Privileges string `json:"privileges,omitempty"`
	// Options are the column's attribute options (ALTER COLUMN ... SET (n_distinct=100)), sorted.
	Options string `json:"options,omitempty"`
	// Compression is the column's compression method when set (pglz or lz4).
	Compression string `json:"compression,omitempty"`
	// IdentityOptions are the identity sequence's options that differ from an identity's defaults, as
	// GENERATED ... AS IDENTITY (...) takes them, e.g. "START WITH 100 INCREMENT BY 10 CACHE 5" (the
	// defaults of the sequence's data type, see IdentitySequence.Type).
	IdentityOptions string `json:"identity_options,omitempty"`
	// IdentitySequence is what the identity sequence has of its own beyond its options; nil when it is as
	// GENERATED ... AS IDENTITY leaves it. The sequence is no object of the catalog (it comes and goes
	// with its column), and GRANT ... ON ALL SEQUENCES, COMMENT ON SEQUENCE or ALTER SEQUENCE ... RENAME
	// change it all the same. Its owner is always the table's.
	IdentitySequence *IdentitySequence `json:"identity_sequence,omitempty"`
	// ForeignOptions are a foreign table column's options (pg_attribute.attfdwoptions), "name=value",
	// sorted.
	ForeignOptions []string `json:"foreign_options,omitempty"`
}

// IdentitySequence is what an identity column's sequence has that differs from the defaults.
type IdentitySequence struct {
	// Name is set when it is not the one PostgreSQL gives (table_column_seq, see IdentitySequenceName):
	// the sequence was renamed, or its table was.
	Name string `json:"name,omitempty"`
	// Privileges are the sequence's ACL entries as in Access, set when they are not the owner's defaults.
	Privileges string `json:"privileges,omitempty"`
	Comment    string `json:"comment,omitempty"`
	// Unlogged is set when the sequence is unlogged (ALTER SEQUENCE ... SET UNLOGGED, PostgreSQL 15).
	Unlogged bool `json:"unlogged,omitempty"`
	// Type is the sequence's data type when it is not the column's (ALTER SEQUENCE ... AS integer on a
	// bigint column; GENERATED ... AS IDENTITY gives it the column's, and refuses an AS of its own).
	Type string `json:"type,omitempty"`
}

// IdentitySequenceName is the name PostgreSQL gives the identity sequence of column of table (as
// ChooseRelationName does, when the name is free): table_column_seq, the longer of the two names cut
// a byte at a time until it fits 63 bytes, never inside a character.
func IdentitySequenceName(table, column string) string {
	n1, n2 := len(table), len(column)
	for n1+n2 > 63-len("__seq") {
		if n1 > n2 {
			n1--
		} else {
			n2--
		}
	}
	return clipUTF8(table, n1) + "_" + clipUTF8(column, n2) + "_seq"
}

// clipUTF8 is the first n bytes of s, fewer when the n-th is inside a character.
func clipUTF8(s string, n int) string {
	for n < len(s) && n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ViewColumn is what a view's or materialized view's column has of its own.
type ViewColumn struct {
	Name    string `json:"name"`
	Default string `json:"default,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Statistics is the statistics target when set (materialized views).
	Statistics string `json:"statistics,omitempty"`
	// Privileges are the column's own ACL entries, as for a table column.
	Privileges string `json:"privileges,omitempty"`
	// Storage, Compression and Options are a materialized view column's, as a table column's.
	Storage     string `json:"storage,omitempty"`
	Compression string `json:"compression,omitempty"`
	Options     string `json:"options,omitempty"`
}

// Constraint is a table constraint.
type Constraint struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Table  string `json:"table"`
	Name   string `json:"name"`
	// Type is p (primary key), u (unique), f (foreign key), c (check), x (exclusion) or t (trigger).
	Type       string `json:"type"`
	Definition string `json:"definition"`
	Validated  bool   `json:"validated"`
	Deferrable bool   `json:"deferrable,omitempty"`
	Deferred   bool   `json:"deferred,omitempty"`
	// References is the qualified table a foreign key points to.
	References string `json:"references,omitempty"`
	// Inherited is set for a constraint a partition or child table got from its parent: it comes and
	// goes with the parent's.
	Inherited bool `json:"inherited,omitempty"`
	// InheritCount is the number of parents it comes from (pg_constraint.coninhcount); see
	// Column.InheritCount.
	InheritCount int    `json:"inherit_count,omitempty"`
	Comment      string `json:"comment,omitempty"`
}

// QTable is the qualified name of the constraint's table.
func (c *Constraint) QTable() string { return Key(c.Schema, c.Table) }

// Index is an index on a table or materialized view.
type Index struct {
	OID        uint32 `json:"oid,omitempty"`
	Schema     string `json:"schema"`
	Table      string `json:"table"`
	Name       string `json:"name"`
	Definition string `json:"definition"`
	Valid      bool   `json:"valid"`
	Unique     bool   `json:"unique,omitempty"`
	Primary    bool   `json:"primary,omitempty"`
	// Constraint is set when the index implements a constraint (created and dropped with it).
	Constraint string `json:"constraint,omitempty"`
	// Inherited is set for a partition's index attached to its parent's index.
	Inherited bool   `json:"inherited,omitempty"`
	Comment   string `json:"comment,omitempty"`
	// Clustered is set for the index CLUSTER uses (ALTER TABLE ... CLUSTER ON).
	Clustered bool `json:"clustered,omitempty"`
	// Statistics lists the statistics targets set on the index's columns (ALTER INDEX ... ALTER COLUMN
	// 1 SET STATISTICS 1000), "column number: target", joined by ", ".
	Statistics string `json:"statistics,omitempty"`
	// Tablespace is the index's tablespace (ALTER INDEX ... SET TABLESPACE, a constraint's USING INDEX
	// TABLESPACE), as Table's.
	Tablespace string `json:"tablespace,omitempty"`
	// Extensions are the extensions the index is marked as depending on (ALTER INDEX ... DEPENDS ON
	// EXTENSION), sorted, joined by ", ": a DROP EXTENSION of one drops it.
	Extensions string `json:"extensions,omitempty"`
}

// QTable is the qualified name of the index's table.
func (i *Index) QTable() string { return Key(i.Schema, i.Table) }

// Sequence is a sequence that is not an identity column's.
type Sequence struct {
	OID       uint32 `json:"oid,omitempty"`
	Schema    string `json:"schema"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Start     int64  `json:"start"`
	Increment int64  `json:"increment"`
	Min       int64  `json:"min"`
	Max       int64  `json:"max"`
	Cache     int64  `json:"cache"`
	Cycle     bool   `json:"cycle,omitempty"`
	// Unlogged is set for an unlogged sequence (pg_class.relpersistence 'u': CREATE UNLOGGED SEQUENCE,
	// ALTER SEQUENCE ... SET UNLOGGED, PostgreSQL 15 and later).
	Unlogged bool `json:"unlogged,omitempty"`
	// OwnedBy is "schema.table.column" when the sequence belongs to a column (serial).
	OwnedBy string `json:"owned_by,omitempty"`
	Comment string `json:"comment,omitempty"`
	Access
}

// View is a view or materialized view.
type View struct {
	OID          uint32 `json:"oid,omitempty"`
	Schema       string `json:"schema"`
	Name         string `json:"name"`
	Materialized bool   `json:"materialized,omitempty"`
	Definition   string `json:"definition"`
	// Columns are "name type", in order.
	Columns []string `json:"columns"`
	// DependsOn lists the qualified tables and views the view reads.
	DependsOn []string `json:"depends_on,omitempty"`
	Comment   string   `json:"comment,omitempty"`
	Access
	// Options are the view's options (security_barrier=true, check_option=local), sorted.
	Options string `json:"options,omitempty"`
	// NoData is set for a materialized view that is not populated (WITH NO DATA, not refreshed since).
	NoData bool `json:"no_data,omitempty"`
	// AccessMethod is a materialized view's table access method when it is not heap, as Table's.
	AccessMethod string `json:"access_method,omitempty"`
	// Tablespace is a materialized view's tablespace, as Table's.
	Tablespace string `json:"tablespace,omitempty"`
	// Extensions are the extensions the materialized view is marked as depending on (ALTER MATERIALIZED VIEW ... DEPENDS ON
	// EXTENSION), sorted, joined by ", ": a DROP EXTENSION of one drops it.
	Extensions string `json:"extensions,omitempty"`
	// ColumnDetails are the columns' own properties (defaults, comments, statistics, privileges), in order.
	ColumnDetails []*ViewColumn `json:"column_details,omitempty"`
	// Statistics and StatisticsNotes are a materialized view's extended statistics, as Table's.
	Statistics      string          `json:"statistics,omitempty"`
	StatisticsNotes map[string]Note `json:"statistics_notes,omitempty"`
	// Rules, RuleStates and RuleComments are a view's rules as a table's (see Table): not _RETURN, which
	// is the view's definition.
	Rules        string            `json:"rules,omitempty"`
	RuleStates   map[string]string `json:"rule_states,omitempty"`
	RuleComments map[string]string `json:"rule_comments,omitempty"`
}

// QName is the view's qualified name.
func (v *View) QName() string { return Key(v.Schema, v.Name) }

// Function is a function, procedure or aggregate.
type Function struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Args are the identity arguments, e.g. "a integer, b text".
	Args string `json:"args"`
	// Kind is f (function), p (procedure), a (aggregate) or w (window).
	Kind   string `json:"kind"`
	Result string `json:"result,omitempty"`
	// Definition is pg_get_functiondef, or for an aggregate a CREATE OR REPLACE AGGREGATE statement built
	// from pg_aggregate.
	Definition string `json:"definition"`
	// ArgTypes are the input argument types without names, to recognise renamed arguments.
	ArgTypes string `json:"arg_types,omitempty"`
	// The attributes pg_get_functiondef also prints (compared on their own): Volatility is IMMUTABLE,
	// STABLE or VOLATILE, Parallel PARALLEL SAFE, RESTRICTED or UNSAFE, Config the SET clauses, one per line.
	Volatility      string `json:"volatility,omitempty"`
	Strict          bool   `json:"strict,omitempty"`
	SecurityDefiner bool   `json:"security_definer,omitempty"`
	Leakproof       bool   `json:"leakproof,omitempty"`
	Parallel        string `json:"parallel,omitempty"`
	Cost            string `json:"cost,omitempty"`
	Rows            string `json:"rows,omitempty"`
	Config          string `json:"config,omitempty"`
	// Support is the planner support function (SUPPORT, pg_proc.prosupport), as regproc prints it.
	Support string `json:"support,omitempty"`
	// Extensions are the extensions the function is marked as depending on (ALTER FUNCTION ... DEPENDS ON
	// EXTENSION), sorted, joined by ", ": a DROP EXTENSION of one drops it.
	Extensions string `json:"extensions,omitempty"`
	// Range is set on the constructor functions of a range type (and of its multirange), which come and
	// go with the type: comparisons show the type instead.
	Range *RangeType `json:"range,omitempty"`
	// DependsOn lists the signatures of the functions this one's body refers to (recorded by
	// PostgreSQL for SQL-standard bodies only).
	DependsOn []string `json:"depends_on,omitempty"`
	Comment   string   `json:"comment,omitempty"`
	Access
}

// Signature is "schema.name(args)".
func (f *Function) Signature() string { return Key(f.Schema, f.Name) + "(" + f.Args + ")" }

// RangeType is a range type, as its constructor functions carry it (see Function.Range).
type RangeType struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Definition is "SUBTYPE = ..." and the other options of CREATE TYPE ... AS RANGE that are set.
	Definition string `json:"definition"`
	Comment    string `json:"comment,omitempty"`
	Access
}

// Enum is an enum type with its values in order.
type Enum struct {
	OID    uint32   `json:"oid,omitempty"`
	Schema string   `json:"schema"`
	Name   string   `json:"name"`
	Values []string `json:"values"`
	// ValueOIDs parallel Values; they survive ALTER TYPE ... RENAME VALUE.
	ValueOIDs []uint32 `json:"value_oids,omitempty"`
	Comment   string   `json:"comment,omitempty"`
	Access
}

// Domain is a domain type.
type Domain struct {
	OID       uint32 `json:"oid,omitempty"`
	Schema    string `json:"schema"`
	Name      string `json:"name"`
	BaseType  string `json:"base_type"`
	Default   string `json:"default,omitempty"`
	NotNull   bool   `json:"not_null,omitempty"`
	Collation string `json:"collation,omitempty"`
	// Constraints maps constraint name to its definition (pg_get_constraintdef).
	Constraints map[string]string `json:"constraints,omitempty"`
	// ConstraintComments maps the name of a constraint that has a comment to it.
	ConstraintComments map[string]string `json:"constraint_comments,omitempty"`
	Comment            string            `json:"comment,omitempty"`
	Access
}

// Composite is a composite type (CREATE TYPE ... AS (...)).
type Composite struct {
	OID        uint32       `json:"oid,omitempty"`
	Schema     string       `json:"schema"`
	Name       string       `json:"name"`
	Attributes []*Attribute `json:"attributes"`
	Comment    string       `json:"comment,omitempty"`
	Access
}

// ShellType is a type made by CREATE TYPE name alone (pg_type typisdefined false): a placeholder that the
// input and output functions of a base type name before CREATE TYPE name (INPUT = ...) defines it.
type ShellType struct {
	OID     uint32 `json:"oid,omitempty"`
	Schema  string `json:"schema"`
	Name    string `json:"name"`
	Owner   string `json:"owner,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Attribute is an attribute of a composite type, in attribute order.
type Attribute struct {
	// Num is pg_attribute.attnum: it survives ALTER TYPE ... RENAME ATTRIBUTE (0 when unknown).
	Num  int    `json:"num,omitempty"`
	Name string `json:"name"`
	Type string `json:"type"`
	// Collation is set when it differs from the type's default collation.
	Collation string `json:"collation,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

// Extension is an installed extension.
type Extension struct {
	OID     uint32 `json:"oid,omitempty"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Schema  string `json:"schema"`
	Comment string `json:"comment,omitempty"`
	// Members are the objects the extension owns (pg_depend deptype 'e': what its script made, and what
	// ALTER EXTENSION ... ADD gave it), sorted by Object. The catalog leaves them out of its other maps,
	// so this list is where an object that joins or leaves an extension shows.
	Members []ExtensionMember `json:"members,omitempty"`
}

// ExtensionMember is an object an extension owns.
type ExtensionMember struct {
	// Object is its type and identity as pg_identify_object gives them, schema-qualified whatever the
	// search path: "function public.f(integer)", "table public.t", "operator class public.c USING btree".
	Object string `json:"object"`
	// Class and OID are its catalog and OID (0 when unknown): they recognise it among the objects of
	// another snapshot of the same database, as the objects' own OIDs do (see Catalog).
	Class uint32 `json:"class,omitempty"`
	OID   uint32 `json:"oid,omitempty"`
}

// Trigger is a table trigger (not the internal ones of constraints).
type Trigger struct {
	OID        uint32 `json:"oid,omitempty"`
	Schema     string `json:"schema"`
	Table      string `json:"table"`
	Name       string `json:"name"`
	Definition string `json:"definition"`
	// Enabled is O (origin), D (disabled), R (replica) or A (always).
	Enabled string `json:"enabled"`
	// Function is the signature of the trigger function.
	Function string `json:"function,omitempty"`
	Comment  string `json:"comment,omitempty"`
	// Extensions are the extensions the trigger is marked as depending on (ALTER TRIGGER ... ON ...
	// DEPENDS ON EXTENSION), sorted, joined by ", ": a DROP EXTENSION of one drops it.
	Extensions string `json:"extensions,omitempty"`
}

// QTable is the qualified name of the trigger's table.
func (t *Trigger) QTable() string { return Key(t.Schema, t.Table) }

// Policy is a row-level security policy.
type Policy struct {
	OID        uint32 `json:"oid,omitempty"`
	Schema     string `json:"schema"`
	Table      string `json:"table"`
	Name       string `json:"name"`
	Command    string `json:"command"`
	Permissive bool   `json:"permissive"`
	Roles      string `json:"roles"`
	Using      string `json:"using,omitempty"`
	WithCheck  string `json:"with_check,omitempty"`
	Comment    string `json:"comment,omitempty"`
}

// QTable is the qualified name of the policy's table.
func (p *Policy) QTable() string { return Key(p.Schema, p.Table) }

// TextSearchConfig is a text search configuration (CREATE TEXT SEARCH CONFIGURATION).
type TextSearchConfig struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Parser is the configuration's parser, qualified where the search path does not find it.
	Parser string `json:"parser"`
	// Mappings maps a token type (the parser's alias for it, e.g. asciiword) to the dictionaries it is
	// looked up in, in order, each as regdictionary writes it (qualified where the search path does not
	// find it). Token types without a mapping are not listed.
	Mappings map[string][]string `json:"mappings,omitempty"`
	Owner    string              `json:"owner,omitempty"`
	Comment  string              `json:"comment,omitempty"`
}

// TextSearchDictionary is a text search dictionary (CREATE TEXT SEARCH DICTIONARY).
type TextSearchDictionary struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Template is the dictionary's template, qualified where the search path does not find it.
	Template string `json:"template"`
	// Options are the template's options as PostgreSQL writes them ("stopwords = 'english'"), in name
	// order: ALTER TEXT SEARCH DICTIONARY moves the options it sets to the end of its list.
	Options []string `json:"options,omitempty"`
	Owner   string   `json:"owner,omitempty"`
	Comment string   `json:"comment,omitempty"`
}

// EventTrigger is an event trigger (CREATE EVENT TRIGGER), schemagate's own left out.
type EventTrigger struct {
	OID  uint32 `json:"oid,omitempty"`
	Name string `json:"name"`
	// Event is ddl_command_start, ddl_command_end, sql_drop or table_rewrite (login from PostgreSQL 17).
	Event string `json:"event"`
	// Tags are the command tags of WHEN TAG IN, sorted; none for every command.
	Tags []string `json:"tags,omitempty"`
	// Function is the trigger function as regproc writes it (qualified where the search path does not
	// find it).
	Function string `json:"function"`
	// Enabled is O (origin), D (disabled), R (replica) or A (always), as for a table trigger.
	Enabled string `json:"enabled"`
	Owner   string `json:"owner,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Publication is a logical replication publication (CREATE PUBLICATION).
type Publication struct {
	OID  uint32 `json:"oid,omitempty"`
	Name string `json:"name"`
	// AllTables is FOR ALL TABLES: every table of the database, present and future.
	AllTables bool `json:"all_tables,omitempty"`
	// Publish are the operations published, of insert, update, delete and truncate, in that order.
	Publish []string `json:"publish,omitempty"`
	// ViaRoot is publish_via_partition_root.
	ViaRoot bool `json:"via_root,omitempty"`
	// Tables maps each table listed FOR TABLE (qualified, "schema.table") to what of it is published.
	Tables map[string]PublishedTable `json:"tables,omitempty"`
	// Schemas are the schemas of FOR TABLES IN SCHEMA, sorted.
	Schemas []string `json:"schemas,omitempty"`
	Owner   string   `json:"owner,omitempty"`
	Comment string   `json:"comment,omitempty"`
}

// ForeignDataWrapper is a foreign-data wrapper (CREATE FOREIGN DATA WRAPPER).
type ForeignDataWrapper struct {
	OID  uint32 `json:"oid,omitempty"`
	Name string `json:"name"`
	// Handler and Validator are the functions as regproc writes them; "" for none.
	Handler   string `json:"handler,omitempty"`
	Validator string `json:"validator,omitempty"`
	// Options are "name=value", sorted.
	Options []string `json:"options,omitempty"`
	Access
	Comment string `json:"comment,omitempty"`
}

// ForeignServer is a foreign server (CREATE SERVER).
type ForeignServer struct {
	OID     uint32 `json:"oid,omitempty"`
	Name    string `json:"name"`
	Wrapper string `json:"wrapper"`
	Type    string `json:"type,omitempty"`
	Version string `json:"version,omitempty"`
	// Options are "name=value", sorted.
	Options []string `json:"options,omitempty"`
	Access
	Comment string `json:"comment,omitempty"`
}

// UserMapping is a user mapping (CREATE USER MAPPING FOR user SERVER server).
type UserMapping struct {
	// User is the role mapped, "public" for PUBLIC.
	User   string `json:"user"`
	Server string `json:"server"`
	// Options are "name=value", sorted; the server shows them only to the mapped role, the server's
	// owner and superusers (pg_user_mappings), and none otherwise.
	Options []string `json:"options,omitempty"`
}

// Key is the mapping's key in Catalog.UserMappings: "user on server".
func (m *UserMapping) Key() string { return m.User + " on " + m.Server }

// Cast is a cast between two types (CREATE CAST).
type Cast struct {
	OID    uint32 `json:"oid,omitempty"`
	Source string `json:"source"`
	Target string `json:"target"`
	// Function is the cast function as regprocedure writes it; "" for a cast WITHOUT FUNCTION or WITH INOUT.
	Function string `json:"function,omitempty"`
	// Context is explicit, assignment or implicit; Method is function, inout or binary.
	Context string `json:"context"`
	Method  string `json:"method"`
	Comment string `json:"comment,omitempty"`
}

// Key is the cast's key in Catalog.Casts: "(source AS target)".
func (x *Cast) Key() string { return "(" + x.Source + " AS " + x.Target + ")" }

// PublishedTable is what a publication publishes of one of its tables: the columns of its column list
// (none: every column) and its row filter (none: every row).
type PublishedTable struct {
	// Columns are the column list's names, sorted: the list publishes a set of columns, which
	// PostgreSQL keeps in attribute order whatever order it was given in.
	Columns []string `json:"columns,omitempty"`
	// Where is the row filter (pg_get_expr of pg_publication_rel.prqual), without the WHERE.
	Where string `json:"where,omitempty"`
}

// Ignore says which objects a catalog leaves out: bookkeeping tables of schemagate and of migration
// tools, which a migration's down must not be blamed for.
type Ignore struct {
	// Schemas are schema names (path.Match patterns) left out entirely.
	Schemas []string
	// Tables are table names (path.Match patterns, matched against the bare and the qualified name) left
	// out, with their sequences, indexes, constraints and triggers.
	Tables []string
	// Roles, when not nil, are the only roles kept (exact names), with their memberships: on a shared
	// server, other sessions' roles come, go and change during a run.
	Roles []string
}

// DefaultIgnore leaves out schemagate's own tables and those of golang-migrate, goose, Flyway,
// sql-migrate, dbmate, sqitch and Atlas (its revisions live in a schema of their own).
var DefaultIgnore = Ignore{
	Schemas: []string{"sqitch", "schemagate", "atlas_schema_revisions"},
	Tables: []string{"schemagate_*", "schema_migrations", "goose_db_version", "flyway_schema_history",
		"gorp_migrations", "schema_migrations_*", "ar_internal_metadata", "atlas_schema_revisions"},
}

// SchemaIgnored reports whether schema s is left out.
func (ig Ignore) SchemaIgnored(s string) bool {
	return matchAny(ig.Schemas, s)
}

// TableIgnored reports whether the relation schema.name is left out.
func (ig Ignore) TableIgnored(schema, name string) bool {
	return ig.SchemaIgnored(schema) || matchAny(ig.Tables, name) || matchAny(ig.Tables, schema+"."+name)
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// Filter removes from c, in place, every object ig leaves out, and returns c.
func (c *Catalog) Filter(ig Ignore) *Catalog {
	for k, s := range c.Schemas {
		if ig.SchemaIgnored(s.Name) {
			delete(c.Schemas, k)
		}
	}
	for k, t := range c.Tables {
		if ig.TableIgnored(t.Schema, t.Name) {
			delete(c.Tables, k)
		}
	}
	for k, s := range c.Sequences {
		owner := ""
		if parts := SplitKey(s.OwnedBy); len(parts) == 3 {
			owner = parts[1]
		}
		if ig.TableIgnored(s.Schema, s.Name) || (owner != "" && ig.TableIgnored(s.Schema, owner)) {
			delete(c.Sequences, k)
		}
	}
	for k, v := range c.Views {
		if ig.TableIgnored(v.Schema, v.Name) {
			delete(c.Views, k)
		}
	}
	for k, x := range c.Constraints {
		if ig.TableIgnored(x.Schema, x.Table) {
			delete(c.Constraints, k)
		}
	}
	for k, x := range c.Indexes {
		if ig.TableIgnored(x.Schema, x.Table) {
			delete(c.Indexes, k)
		}
	}
	for k, x := range c.Triggers {
		if ig.TableIgnored(x.Schema, x.Table) {
			delete(c.Triggers, k)
		}
	}
	for k, x := range c.Policies {
		if ig.TableIgnored(x.Schema, x.Table) {
			delete(c.Policies, k)
		}
	}
	for k, f := range c.Functions {
		if ig.SchemaIgnored(f.Schema) {
			delete(c.Functions, k)
		}
	}
	for k, e := range c.Enums {
		if ig.SchemaIgnored(e.Schema) {
			delete(c.Enums, k)
		}
	}
	for k, d := range c.Domains {
		if ig.SchemaIgnored(d.Schema) {
			delete(c.Domains, k)
		}
	}
	for k, x := range c.Composites {
		if ig.SchemaIgnored(x.Schema) {
			delete(c.Composites, k)
		}
	}
	for k, x := range c.ShellTypes {
		if ig.SchemaIgnored(x.Schema) {
			delete(c.ShellTypes, k)
		}
	}
	for k, x := range c.TextSearchConfigs {
		if ig.SchemaIgnored(x.Schema) {
			delete(c.TextSearchConfigs, k)
		}
	}
	for k, x := range c.TextSearchDictionaries {
		if ig.SchemaIgnored(x.Schema) {
			delete(c.TextSearchDictionaries, k)
		}
	}
	filterSchema(c.Operators, ig, func(x *Operator) string { return x.Schema })
	filterSchema(c.OperatorFamilies, ig, func(x *OperatorFamily) string { return x.Schema })
	filterSchema(c.OperatorClasses, ig, func(x *OperatorClass) string { return x.Schema })
	filterSchema(c.TextSearchParsers, ig, func(x *TextSearchParser) string { return x.Schema })
	filterSchema(c.TextSearchTemplates, ig, func(x *TextSearchTemplate) string { return x.Schema })
	filterSchema(c.Conversions, ig, func(x *Conversion) string { return x.Schema })
	for k, x := range c.Publications {
		if p := x.filtered(ig); p != x {
			c.Publications[k] = p
		}
	}
	c.keepRoles(ig)
	return c
}

// filterSchema deletes from m the objects of the schemas ig leaves out.
func filterSchema[V any](m map[string]V, ig Ignore, schema func(V) string) {
	for k, x := range m {
		if ig.SchemaIgnored(schema(x)) {
			delete(m, k)
		}
	}
}

// filtered is p without the tables and schemas ig leaves out: p itself when it has none, else a copy
// (catalogs share their objects, see Filter's callers).
func (p *Publication) filtered(ig Ignore) *Publication {
	var tables []string
	for k := range p.Tables {
		if ig.TableIgnored(schemaAndName(k)) {
			tables = append(tables, k)
		}
	}
	schemas := slices.ContainsFunc(p.Schemas, ig.SchemaIgnored)
	if len(tables) == 0 && !schemas {
		return p
	}
	q := *p
	q.Tables = maps.Clone(p.Tables)
	for _, k := range tables {
		delete(q.Tables, k)
	}
	q.Schemas = slices.DeleteFunc(slices.Clone(p.Schemas), ig.SchemaIgnored)
	return &q
}

// relation returns the kind ("table", "foreign table", "view", "materialized view") of the relation
// named q, or "".
func (c *Catalog) relation(q string) string {
	if t, ok := c.Tables[q]; ok {
		return t.kind()
	}
	if v, ok := c.Views[q]; ok {
		if v.Materialized {
			return "materialized view"
		}
		return "view"
	}
	return ""
}
