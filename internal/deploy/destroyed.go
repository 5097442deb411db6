package deploy

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/migrate"
)

// Destroyed is a statement of an up that destroyed data that was there before it ran.
type Destroyed struct {
	// File and Line are where the statement is (File as the migration names its script, inside the
	// folder).
	File string
	Line int
	// What says what it did: "TRUNCATE of users", "DELETE from users", "UPDATE of users.email",
	// "DROP TABLE users", "DROP COLUMN users.age", "DO block that holds \"DELETE FROM\"", or, for a call,
	// "calls purge, whose code (1_f.up.sql:3) holds \"DELETE FROM\", which may destroy data".
	What string
}

// UpDestroys lists the statements of m's up that destroy data that was there before it ran, for a
// rollback whose down writes no data back: one generated from the catalog difference the up makes
// (rollback-script), which re-creates what the up dropped, empty, and cannot write rows or values again.
// It is upLosesData's judgement, the deploy's, statement by statement, in the up's order: the tables and columns it drops,
// the tables it empties (TRUNCATE) or deletes rows of, the columns it overwrites (UPDATE, a MERGE's
// update, INSERT ... ON CONFLICT DO UPDATE), DO blocks whose text holds such a statement, and the first
// call of a function that the folder (earlier and m) defines with code that may destroy data. What the up
// created or added before is its own and no loss. The migrations of earlier ran before m and their data
// was there before it. Drops with CASCADE of schemas, types, domains, extensions and what a role owns,
// and column type changes, are left to the catalog difference, which sees what they took (what the
// deploy reads of the database for them is not at hand), but one whose USING computes other values than
// the type change alone would (ALTER COLUMN d TYPE bigint USING d * 2, TYPE text USING upper(e)): the
// down changes the type back, the values stay as the expression made them, and no catalog shows it.
// searchPath is as for upLosesData.
func UpDestroys(m *migrate.Migration, earlier []*migrate.Migration, searchPath string) []Destroyed {
	var out []Destroyed
	for _, l := range upLosses(m, nil, nil, searchPath, nil, true) {
		switch {
		case l.what == "table", l.what == "column", l.what == "truncate", l.what == "delete", l.what == "update", l.what == "code", l.what == "sequence",
			l.what == "type" && l.computed:
			out = append(out, Destroyed{File: m.Up.File, Line: l.line, What: l.short})
		}
	}
	code := folderCode(append(append([]*migrate.Migration{}, earlier...), m))
	if call, why, line := calledCodeLoss(analyze(m.Up), code); call != "" {
		out = append(out, Destroyed{File: m.Up.File, Line: line, What: call + why + " may destroy data"})
	}
	slices.SortStableFunc(out, func(a, b Destroyed) int { return a.Line - b.Line })
	return out
}

// upLoss is one statement of an up that destroys data its down does not bring back: its line, what kind
// of loss it is (loss.what), what it did in a few words (Destroyed.What) and the whole reason, as
// upLosesData says it.
type upLoss struct {
	line        int
	what        string
	short, long string
	// computed is a type change whose USING computes new values (loss.computed).
	computed bool
}

// upLosesData explains what data that was there before m's up ran the up destroyed, and its down does not
// bring back: it drops a table or column it did not create (an up that creates a table and drops it again
// destroys nothing of what was there), empties a table (TRUNCATE, DELETE) or overwrites values of
// columns it did not add (UPDATE). A down that only recreates the shape (ADD COLUMN, CREATE TABLE) does
// not bring the data back; one that writes it again does: rows into the table (INSERT, COPY, MERGE,
// CREATE TABLE AS) for a dropped or emptied table, values into the column (UPDATE) for a dropped or
// overwritten one. A dropped materialized view is computed again, not lost. A schema dropped with
// CASCADE that neither m (before the drop) nor earlier created loses every table it held, whatever the
// down does: what counts is whether the schema, type or table was there before the run when the drop
// happens, so DROP SCHEMA s CASCADE; CREATE SCHEMA s (DROP TABLE t; CREATE TABLE t) loses what was in
// it, and a drop of one an earlier migration created, also after dropping one of that name, does not. A column
// type change (ALTER COLUMN ... TYPE) of a column neither added loses data unless it is a widening
// (widens) from the type the down changes it back to, without USING: the down says what the type was
// (the rollback's verification, which compares the catalog with the one before the run, finds a down
// that says it wrongly, and restores the snapshot); one whose down does not change the type back, or with
// a USING expression, counts as lossy. A DROP TYPE, DROP DOMAIN or DROP EXTENSION with CASCADE of one
// that neither m (before the drop) nor earlier created loses what cascades says the drop takes with it
// ("type name", "domain name", "extension name" as the drop writes the name: deployer.readCascades,
// which reads it from the database before the run: the columns that use it, "" for none), and counts as
// lossy when cascades does not say. A DROP OWNED BY a role that neither created, or after one of them
// handed objects to a role (ALTER ... OWNER TO, REASSIGN OWNED), loses every table the role owns.
// Emptying or deleting from a table, also one m or earlier created, loses what it reaches beyond it
// (links, as for downLosesData; cascades says what foreign keys to a table from before the run the
// database had), unless the down writes those rows or values again. Tables and columns that
// earlier (the run's migrations applied before m, whose downs remove them again) created and left
// standing count as m's own, and so do those m created before it drops them (effects.madeTables; not
// with IF NOT EXISTS, which may find the one that was there). Tables and columns m renamed are named as
// before m (analyze), the down's names read back through m's renames (effects.before). "" when nothing
// is lost. searchPath is as for downLosesData.
// What the parse tree cannot show counts as lost too, the down's writes notwithstanding: a DO block whose
// text holds such a statement (destroyingCode), and a call of a function whose code (code, by name
// without schema: folderCode, deployer.funcCode) holds one, or whose code is unknown.
func upLosesData(m *migrate.Migration, earlier []*migrate.Migration, searchPath string, code map[string][]codeDef, cascades map[string]string) string {
	if ls := upLosses(m, m.Down, earlier, searchPath, cascades, false); len(ls) > 0 {
		return ls[0].long
	}
	// Emptying a table, also one m or earlier created, may reach tables from before the run (links):
	// what the down writes again is back.
	down := analyze(m.Down)
	q := qualifier(searchPath)
	up := analyze(m.Up)
	refilled, rewritten := writtenBack(up, down, q)
	var before []*migrate.Script
	for _, e := range earlier {
		before = append(before, e.Up)
	}
	back := func(r reached) bool {
		if r.unknown {
			return false
		}
		if len(r.cols) == 0 {
			return refilled[r.table]
		}
		for _, c := range r.cols {
			if !rewritten[colKey(r.table, c)] {
				return false
			}
		}
		return true
	}
	if why, r := linksLose(before, m.Up, searchPath, cascades, true, func(r reached) bool { return !back(r) }); why != "" {
		switch {
		case r.unknown:
			return why + ": the down of " + m.ID() + " may not bring them back"
		case len(r.cols) > 0:
			return why + ", and the down of " + m.ID() + " does not write their values again"
		}
		return why + ", and the down of " + m.ID() + " does not put its rows back"
	}
	return calledCodeLoses(m.Up, up, code, "data the down of "+m.ID()+" does not bring back")
}

// upLosses are the statements of m's up whose losses, as upLosesData judges them, its down downScript
// (nil for one that writes no data) does not bring back, in the up's order; only the first unless all.
// Links and called code are upLosesData's.
func upLosses(m *migrate.Migration, downScript *migrate.Script, earlier []*migrate.Migration, searchPath string, cascades map[string]string, all bool) []upLoss {
	up := analyze(m.Up)
	down := analyze(downScript)
	q := qualifier(searchPath)
	// added are the columns m adds (addedEarlier those earlier added).
	added := map[string]bool{}
	var refilled, rewritten map[string]bool
	retyped := map[string]colType{}
	// types are the types, domains ("type name", "domain name") and extensions ("extension name") that
	// m or earlier created; roles the roles, and gives says one of them hands objects to a role.
	// earlier's are shared (earlierMade): m's own are looked up beside them. What m did to tables,
	// schemas, types and columns it created before is no loss (analyze leaves out its drops of them):
	// what earlier created and left standing is m's own too, by the names earlier left it.
	made, release := earlierMade(searchPath, earlier)
	defer release()
	created, schemas, types, addedEarlier := made.created, made.schemas, made.types, made.columns
	for rc := range up.AddedColumns {
		rel, col := cutColKey(rc)
		added[colKey(q(rel), col)] = true
	}
	gives := made.gives || up.GivesOwnership
	roles := made.roles
	if len(up.CreatedRoles) > 0 {
		roles = maps.Clone(made.roles)
		for r := range up.CreatedRoles {
			roles[r] = true
		}
	}
	// The type a column had before the up is the one its down changes it back to (the last it does).
	// The down names tables and columns as the up left them: up.before names them as before the up.
	for _, l := range down.Losses {
		if l.what == "type" {
			rel, col := up.before(q, l.relation, l.column)
			retyped[colKey(rel, col)] = l.typ
		}
	}
	refilled, rewritten = writtenBack(up, down, q)
	var out []upLoss
	// lost records a loss; it tells whether to stop there.
	lost := func(l loss, short, long string) bool {
		out = append(out, upLoss{line: l.line, what: l.what, short: short, long: long, computed: l.computed})
		return !all
	}
	for _, l := range up.Losses {
		at := fmt.Sprintf("%s:%d", m.Up.File, l.line)
		switch l.what {
		case "schema":
			if !schemas[l.relation] {
				if lost(l, "DROP SCHEMA "+l.relation+" CASCADE", fmt.Sprintf("%s drops schema %s with CASCADE, and with it every table it holds, which the down of %s cannot bring back", at, l.relation, m.ID())) {
					return out
				}
			}
			continue
		case "cascade":
			own := "extension " + l.relation
			if l.object != "extension" {
				own = l.object + " " + q(l.relation)
			}
			if types[own] {
				continue
			}
			short := "DROP " + strings.ToUpper(l.object) + " " + l.relation + " CASCADE"
			switch took, ok := cascades[l.object+" "+l.relation]; {
			case !ok:
				if lost(l, short, fmt.Sprintf("%s drops %s %s with CASCADE, which drops the columns that use it with their data, and what it would drop was not read from the database before the run: the down of %s may not bring it back", at, l.object, l.relation, m.ID())) {
					return out
				}
			case took != "":
				if lost(l, short, fmt.Sprintf("%s drops %s %s with CASCADE, and with it %s, which the down of %s cannot bring back", at, l.object, l.relation, took, m.ID())) {
					return out
				}
			}
			continue
		case "owned":
			if !ownRoles(l.roles, roles) || gives {
				if lost(l, "DROP OWNED BY "+strings.Join(l.roles, ", "), fmt.Sprintf("%s drops every object role %s owns (DROP OWNED), tables included, which the down of %s cannot bring back", at, strings.Join(l.roles, ", "), m.ID())) {
					return out
				}
			}
			continue
		case "sequence":
			// A sequence or identity an earlier migration of the run made is the run's own, and so is one
			// the up had made when the statement ran, which analyze judged by the names as written:
			// CREATE TABLE public.notes (id serial) then setval('notes_id_seq', …) named it two ways.
			rel := q(l.relation)
			switch col := colKey(rel, l.column); {
			case l.relation == "":
			case l.own != nil && l.own(q):
				continue
			case l.column != "" && (created[rel] || addedEarlier[col] || made.idents[col]):
				continue
			case l.column == "" && made.seqs[rel]:
				continue
			case maxSeq(l, q) != "":
				continue // past every key of its column
			case l.seq == seqDrop && setsToMax(down.toMax, rel, q):
				continue // the down makes it again, past every key of its column
			}
			short, _ := seqLossText(l)
			if lost(l, short, seqLossLong(m.Up.File, l, "the down of "+m.ID())) {
				return out
			}
			continue
		}
		rel := q(l.relation)
		if created[rel] || l.matview {
			continue
		}
		switch l.what {
		case "table":
			if !refilled[rel] {
				if lost(l, "DROP TABLE "+l.relation, fmt.Sprintf("%s drops table %s, and the down of %s does not fill it again", at, l.relation, m.ID())) {
					return out
				}
			}
		case "column":
			if !addedEarlier[colKey(rel, l.column)] && !rewritten[colKey(rel, l.column)] {
				if lost(l, "DROP COLUMN "+colKey(l.relation, l.column), fmt.Sprintf("%s drops column %s, and the down of %s does not write its values again", at, colKey(l.relation, l.column), m.ID())) {
					return out
				}
			}
		case "truncate", "delete":
			if !refilled[rel] {
				verb, short := "empties", "TRUNCATE of "+l.relation
				if l.what == "delete" {
					verb, short = "deletes rows of", "DELETE from "+l.relation
				}
				if lost(l, short, fmt.Sprintf("%s %s %s, and the down of %s does not put its rows back", at, verb, l.relation, m.ID())) {
					return out
				}
			}
		case "update":
			if !added[colKey(rel, l.column)] && !addedEarlier[colKey(rel, l.column)] && !rewritten[colKey(rel, l.column)] {
				if lost(l, "UPDATE of "+colKey(l.relation, l.column), fmt.Sprintf("%s overwrites %s, and the down of %s does not write its old values again", at, colKey(l.relation, l.column), m.ID())) {
					return out
				}
			}
		case "type":
			col := colKey(rel, l.column)
			if added[col] || addedEarlier[col] {
				continue
			}
			short := fmt.Sprintf("ALTER COLUMN %s.%s TYPE %s", l.relation, l.column, l.typ)
			was, ok := retyped[col]
			switch {
			case l.using:
				if l.computed {
					short = fmt.Sprintf("ALTER COLUMN %s.%s TYPE %s USING %s: the expression gave the column other values, and changing the type back does not undo them", l.relation, l.column, l.typ, cmp.Or(l.computedAs, "an expression"))
				} else {
					short += " USING"
				}
				if lost(l, short, fmt.Sprintf("%s changes the type of %s.%s to %s with USING, a conversion that may lose data the down of %s does not bring back", at, l.relation, l.column, l.typ, m.ID())) {
					return out
				}
				continue
			case !ok:
				if lost(l, short, fmt.Sprintf("%s changes the type of %s.%s to %s, and the down of %s does not change it back, so nothing shows it is a widening: it may lose data", at, l.relation, l.column, l.typ, m.ID())) {
					return out
				}
				continue
			case !widens(was, l.typ):
				if lost(l, short, fmt.Sprintf("%s changes the type of %s.%s from %s to %s, which is not a widening: it may lose data the down of %s does not bring back", at, l.relation, l.column, was, l.typ, m.ID())) {
					return out
				}
				continue
			}
			retyped[col] = l.typ
		case "code":
			short := fmt.Sprintf("DO block that holds %q", l.code)
			if l.object == "execute" {
				short = "EXECUTE " + l.code + " of a statement prepared elsewhere"
			}
			if lost(l, short, fmt.Sprintf("%s runs %s, which may destroy data the down of %s does not bring back", at, l.ran(), m.ID())) {
				return out
			}
		}
	}
	return out
}

// writtenBack names, as before the up, the tables the down fills again and the columns (table.column)
// it writes again: the down names them as the up left them, up.before as they were before it.
func writtenBack(up, down *effects, q func(string) string) (refilled, rewritten map[string]bool) {
	refilled, rewritten = map[string]bool{}, map[string]bool{}
	for r := range down.Filled {
		rel, _ := up.before(q, r, "")
		refilled[rel] = true
	}
	for rc := range down.rewrote {
		r, c := cutColKey(rc)
		rel, col := up.before(q, r, c)
		rewritten[colKey(rel, col)] = true
	}
	return refilled, rewritten
}
