package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DownScript is a generated rollback: DDL that takes the after-catalog back to the before-catalog.
type DownScript struct {
	// SQL is the whole script, steps in order, each preceded by its comment.
	SQL   string `json:"sql"`
	Steps []Step `json:"steps"`
	// DataLoss is set when a step cannot restore data (a table or column re-created empty): the
	// snapshot taken before the deploy is the rollback then, not this script.
	DataLoss bool `json:"data_loss"`
	// NoTransaction is set when a step cannot run in a transaction block (CREATE INDEX CONCURRENTLY):
	// run the steps one by one in autocommit mode.
	NoTransaction bool     `json:"no_transaction"`
	Warnings      []string `json:"warnings,omitempty"`
}

// Step is one statement of a DownScript.
type Step struct {
	// SQL is the statement without its terminating semicolon; empty for an irreversible step.
	SQL     string `json:"sql"`
	Comment string `json:"comment"`
	// DataLoss is set when the step re-creates something whose data it cannot bring back.
	DataLoss bool `json:"data_loss,omitempty"`
	// Irreversible is set when no DDL can undo the change (the step's SQL is empty).
	Irreversible bool `json:"irreversible,omitempty"`
	// NoTransaction is set when the step cannot run in a transaction block.
	NoTransaction bool `json:"no_transaction,omitempty"`
	// converted marks a data-loss step that casts values back (they are kept, maybe not as they were),
	// unlike one that re-creates a table or column empty.
	converted bool
}

// concurrentlyNamed names the statements of steps that cannot run in a transaction block, for the
// script's first line: "CREATE INDEX CONCURRENTLY", "DROP INDEX CONCURRENTLY" or both.
func concurrentlyNamed(steps []Step) string {
	var names []string
	for _, st := range steps {
		if !st.NoTransaction {
			continue
		}
		name := "CREATE INDEX CONCURRENTLY"
		if strings.HasPrefix(st.SQL, "DROP INDEX CONCURRENTLY ") {
			name = "DROP INDEX CONCURRENTLY"
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, " and ")
}

// Empty reports whether the script has nothing to do.
func (s *DownScript) Empty() bool { return s == nil || len(s.Steps) == 0 }

// Statements are the SQL of the steps that have some, in order.
func (s *DownScript) Statements() []string {
	var out []string
	for _, st := range s.Steps {
		if st.SQL != "" {
			out = append(out, st.SQL)
		}
	}
	return out
}

// Reversible reports whether every change can be undone (no irreversible step).
func (s *DownScript) Reversible() bool {
	for _, st := range s.Steps {
		if st.Irreversible {
			return false
		}
	}
	return true
}

type downGen struct {
	a, b  *Catalog // a: after (what the database is), b: before (what it must become)
	steps []Step
	warns []string

	// created records objects (kind + "\x00" + key) this script creates, so their comments are restored.
	created map[string]bool
	// dropViews are the after-catalog views dropped; dropCons, dropIdx, dropTrg and dropPol likewise.
	dropViews, dropCons, dropIdx, dropTrg, dropPol map[string]bool
	// regenCols are "table.column" keys of generated columns dropped to be re-added with their expression;
	// exprSet those whose expression was set back in place already (setsExpression).
	regenCols, exprSet map[string]bool
	// identityOpts are "table.column" keys of identity columns whose sequence's options were set back
	// already, before a type step that narrows the sequence (see identityOptions).
	identityOpts map[string]bool
	// laterAggregates are the aggregates to make again once the operators are back (see
	// sortOperatorLater).
	laterAggregates []string
	// renamed are the objects renamed or moved back (old: before the up, new: after it).
	renamed []rename
	// asideOf gives, for the key of an object the down moved to a temporary name, its key after the
	// up; asideTables are the tables with a column moved so (see down_untangle.go).
	asideOf     map[string]string
	asideTables map[string]bool
	// operatorMoves are the operators moved back to their schemas, as regoperator starts them: after
	// the up, before it.
	operatorMoves [][2]string
	opts          DownOptions
	// asUser is set once a step names the role the catalogs were read as CURRENT_USER (see roleIn).
	asUser bool
	// releases and joins are the members to let go of and to give back to their extensions,
	// irreversibleMembers those the up let go of and dropped, memberDrops the objects to drop once let
	// go (see memberChanges).
	releases, joins, irreversibleMembers []memberStep
	memberDrops                          []ExtensionMember
}

func (g *downGen) add(comment, sql string) *Step {
	g.steps = append(g.steps, Step{SQL: sql, Comment: comment})
	return &g.steps[len(g.steps)-1]
}

func (g *downGen) irreversible(comment string) {
	g.steps = append(g.steps, Step{Comment: comment, Irreversible: true})
	g.warns = append(g.warns, comment)
}

// GenerateDown writes the DDL that takes a database from the after-catalog back to the before-catalog,
// in dependency order: event triggers the up added or changed are dropped before anything else, so that
// they do not fire on the down; what the up gave an extension is taken from it, and what the up took
// from one given back (see down_extmembers.go); renames and schema moves (recognised by OID in two snapshots of the same
// database) are undone by renaming and moving back; publications the up added, and what the up added
// to the others, are dropped; views' and tables' rules, triggers, policies, views, constraints, indexes
// and tables that the up added are dropped; then text search dictionaries and configurations, types,
// sequences and functions are re-created, columns restored, tables (typed again, foreign ones with their
// options), constraints, views, views' and tables' rules, indexes, triggers and publications re-created; objects the up added that
// others depended on are dropped, and event triggers re-created, last. Columns it re-adds come last in
// their table: a column order it cannot restore is an irreversible step. Roles are renamed back first,
// created again and altered back before the types, and dropped (memberships revoked) after the
// objects' owners and privileges are restored (see down_roles.go), those on built-in objects and
// extensions' too (see builtinprivileges.go).
func GenerateDown(before, after *Catalog) *DownScript {
	return GenerateDownWith(before, after, DownOptions{})
}

// DownOptions say how the down will be run.
type DownOptions struct {
	// InTransaction is set when the tool runs the down in one transaction block whatever it holds
	// (golang-migrate and dbmate send a file as one query; goose and Flyway wrap a file unless told
	// not to): no step may then refuse one, so indexes are built without CONCURRENTLY.
	InTransaction bool
	// Block, when set, gives the lines to write before and after a statement (with its ';') so that the
	// tool that runs the down sends it whole ("" and "" for none): goose and sql-migrate end a statement
	// at every line that ends with ';', a function body's too, unless it is inside
	// StatementBegin/StatementEnd (migrate.StatementBlock).
	Block func(stmt string) (begin, end string)
	// SchemaRenames are schemas the up renamed (see SchemaRenamesBack) that the down renames back
	// (ALTER SCHEMA … RENAME TO), before any step that names what is in them, which their objects
	// follow whatever their kind, under their OIDs, without a lock on any. The after-catalog is then
	// the catalog as it is once they are renamed back (the rehearsal reads it so, in a transaction it
	// rolls back): the steps after name what is in them by the schemas' old names. Without them, each
	// object is moved back into a schema of the old name made anew, and the one of the new name dropped.
	SchemaRenames []SchemaRename
	// ServerVersion is the server_version_num of the server the down runs on (0 when not known): from
	// 170000 a generated column's expression is set back in place (ALTER COLUMN … SET EXPRESSION AS),
	// where before the column is dropped and added again.
	ServerVersion int
}

// SchemaRename is a schema an up renamed: From is its name after the up, To its name before.
type SchemaRename struct{ From, To string }

// SchemaRenamesBack are the schemas the up renamed (the same OID under another name after it) that a down
// can rename back before anything else: those whose old name no schema has after the up, and whose new
// name none had before it. A swap or chain of names is left to the down's moves of each object.
func SchemaRenamesBack(before, after *Catalog) []SchemaRename {
	byOID := map[uint32]string{}
	for k, s := range before.Schemas {
		if s.OID != 0 {
			byOID[s.OID] = k
		}
	}
	var out []SchemaRename
	for _, k := range sortedKeys(after.Schemas) {
		s := after.Schemas[k]
		old, ok := byOID[s.OID]
		if s.OID == 0 || !ok || old == k || after.Schemas[old] != nil || before.Schemas[k] != nil {
			continue
		}
		out = append(out, SchemaRename{From: k, To: old})
	}
	return out
}

// GenerateDownWith is GenerateDown for a down run as opts says.
func GenerateDownWith(before, after *Catalog, opts DownOptions) *DownScript {
	if before == nil {
		before = NewCatalog()
	}
	if after == nil {
		after = NewCatalog()
	}
	g := &downGen{a: clone(after), b: before, created: map[string]bool{}, dropViews: map[string]bool{},
		dropCons: map[string]bool{}, dropIdx: map[string]bool{}, dropTrg: map[string]bool{},
		dropPol: map[string]bool{}, regenCols: map[string]bool{}, exprSet: map[string]bool{},
		identityOpts: map[string]bool{}, opts: opts}
	// What joined or left an extension is, for the phases, as it was before (see memberChanges).
	g.memberChanges()
	// Roles renamed back before anything names them.
	g.roleRenames()
	// Event triggers first: one the up added must not fire on the down's own commands.
	g.eventTriggerRenames()
	g.dropEventTriggers()
	// Schemas renamed back before anything names what is in them (and after the event triggers the
	// up added are gone: one would fire on ALTER SCHEMA).
	for _, r := range opts.SchemaRenames {
		g.add(fmt.Sprintf("rename schema %s back to %s", r.From, r.To), "ALTER SCHEMA "+Ident(r.From)+" RENAME TO "+Ident(r.To))
	}
	g.extensionMembers()
	g.createSchemas()
	g.renames()
	g.foreignRenames()
	g.operatorRenames()
	g.proceduralRenames()
	g.publicationRenames()
	g.dropPublications()
	g.dropDependents()
	g.dropTablesAndColumns()
	g.unmarkExtensionDeps()
	g.dropForeign()
	g.dropOperators()
	g.dropProcedural()
	g.createRoles()
	g.databaseSettings()
	g.createTypes()
	g.createProcedural()
	g.createForeign()
	g.createOperators()
	g.createLaterAggregates()
	g.restoreColumns()
	g.createTables()
	g.columnOrder()
	g.foreignTables()
	g.createDependents()
	g.createPublications()
	g.markExtensionDeps()
	g.dropTypes()
	g.comments()
	g.properties()
	g.builtInPrivileges()
	g.dropRoles()
	g.eventTriggers()
	if stepIndexSQL(g.steps, setBodiesOff) >= 0 {
		g.add("check function bodies again for what runs next on this session", "RESET check_function_bodies")
	}
	return g.script()
}

const setBodiesOff = "SET check_function_bodies = off"

func stepIndexSQL(steps []Step, sql string) int {
	for i, st := range steps {
		if st.SQL == sql {
			return i
		}
	}
	return -1
}

func clone(c *Catalog) *Catalog {
	b, err := json.Marshal(c)
	out := NewCatalog()
	if err != nil {
		return out
	}
	if err := json.Unmarshal(b, out); err != nil {
		return NewCatalog()
	}
	return out
}

func (g *downGen) script() *DownScript {
	s := &DownScript{Steps: g.steps, Warnings: g.warns}
	var b strings.Builder
	emptied, converted := false, false
	for _, st := range g.steps {
		if st.DataLoss {
			s.DataLoss = true
			if st.converted {
				converted = true
			} else {
				emptied = true
			}
		}
		if st.NoTransaction {
			s.NoTransaction = true
		}
	}
	var lost []string
	if emptied {
		lost = append(lost, "tables or columns come back empty")
	}
	if converted {
		lost = append(lost, "values the up converted to another type may not come back as they were")
	}
	if s.DataLoss {
		s.Warnings = append(s.Warnings, "this down cannot restore data ("+strings.Join(lost, "; ")+"): roll back from the snapshot instead")
	}
	if g.asUser {
		b.WriteString(asUserLine + "\n")
	}
	if s.NoTransaction {
		b.WriteString("-- Run outside a transaction block: " + concurrentlyNamed(g.steps) + " cannot run inside one.\n")
	}
	for i, st := range g.steps {
		if i > 0 || s.NoTransaction || g.asUser {
			b.WriteString("\n")
		}
		// The comment names objects as they are named, and a name may hold a line break: written raw,
		// the rest of it would run as SQL (a CR or LF ends a -- comment).
		switch {
		case st.Irreversible:
			b.WriteString("-- IRREVERSIBLE: " + commentLine(st.Comment) + "\n")
		case st.DataLoss:
			b.WriteString("-- DATA LOSS: " + commentLine(st.Comment) + "\n")
		default:
			b.WriteString("-- " + commentLine(st.Comment) + "\n")
		}
		if st.SQL != "" {
			begin, end := "", ""
			if g.opts.Block != nil {
				begin, end = g.opts.Block(st.SQL + ";")
			}
			if begin != "" {
				b.WriteString(begin + "\n")
			}
			b.WriteString(st.SQL + ";\n")
			if end != "" {
				b.WriteString(end + "\n")
			}
		}
	}
	s.SQL = b.String()
	return s
}

// asUserLine heads a down that names the role the migrations ran as on the throwaway database
// CURRENT_USER (the owner of what they created, a grantee of its privileges): run as another role, it
// would give that role what was the migrations' role's.
const asUserLine = "-- Run it as the role that ran the migrations: CURRENT_USER below stands for that role."

// commentLine makes text safe in a -- comment of SQL: control characters (line breaks above all, which
// would end the comment and run the rest as SQL), line and paragraph separators and invisible format
// characters (bidi controls) are written as \xNN or \uNNNN.
func commentLine(s string) string {
	if !strings.ContainsFunc(s, unsafeInComment) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 && unsafeInComment(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeInComment(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeInComment(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}
