package deploy

import (
	"slices"
	"strings"
	"sync"

	"github.com/schemagate/schemagate/internal/migrate"
)

// The checks of a deploy judge each pending migration's scripts after the ups of the ones before it
// (linksLose, factsNeeded): the links those ups leave are the same for every check, one more up each
// migration. Replaying them all again for every check made a run of n pending migrations replay
// n²/2 scripts, three times over. withBase keeps the links after the latest prefixes it replayed and
// runs each check on them with a journal that undoes what the check changed.

// linkBase is the links after the ups in scripts, replayed in order (no check ran on it).
type linkBase struct {
	path    string // the search path its names are qualified by (qualifier)
	scripts []*migrate.Script
	l       *links
}

// linkBases are the last two bases: the checks of a run ask for the ups before a migration and for
// those and its own, alternately, one more each migration, so that each base grows by a script a
// migration.
var linkBases struct {
	sync.Mutex
	slots [2]*linkBase
	next  int // the slot the next new base replaces
}

// withBase runs check on the links after scripts (the ups before the script a check judges), names
// qualified by searchPath, with facts for the check, then undoes what check changed. It extends the
// longest base kept that scripts start with, or starts one.
func withBase(searchPath string, scripts []*migrate.Script, facts map[string]string, check func(*links)) {
	linkBases.Lock()
	defer linkBases.Unlock()
	var best *linkBase
	for _, b := range linkBases.slots {
		if b != nil && b.path == searchPath && len(b.scripts) <= len(scripts) && slices.Equal(b.scripts, scripts[:len(b.scripts)]) &&
			(best == nil || len(b.scripts) > len(best.scripts)) {
			best = b
		}
	}
	if best == nil {
		best = &linkBase{path: searchPath, l: newLinks(qualifier(searchPath), nil)}
		linkBases.slots[linkBases.next] = best
		linkBases.next = 1 - linkBases.next
	}
	// Extended in place: the other slot keeps the base one script shorter that the next check asks
	// for, and is extended in its turn.
	l := best.l
	for _, s := range scripts[len(best.scripts):] {
		l.script(s, nil)
	}
	best.scripts = append(best.scripts[:len(best.scripts):len(best.scripts)], scripts[len(best.scripts):]...)
	// What the check changes is undone: tables and keys it adds go with the lengths, the rest through
	// the journal, newest first. A check that panics leaves the base unusable: it is dropped.
	var journal []func()
	all, fks, linked, linkedWord, path := len(l.all), len(l.fks), l.linked, l.linkedWord, l.path
	l.facts, l.journal = facts, &journal
	undone := false
	defer func() {
		if !undone {
			for i, b := range linkBases.slots {
				if b == best {
					linkBases.slots[i] = nil
				}
			}
		}
	}()
	check(l)
	for i := len(journal) - 1; i >= 0; i-- {
		journal[i]()
	}
	clear(l.all[all:])
	clear(l.fks[fks:])
	l.all, l.fks, l.linked, l.linkedWord, l.path = l.all[:all], l.fks[:fks], linked, linkedWord, path
	l.facts, l.need, l.upFacts, l.journal = nil, nil, false, nil
	undone = true
}

// soFar is what the ups of the migrations a run applies before the one judged (downLosesData,
// upLosesData) made and left standing, names qualified by path: the tables they created (by the names
// they left them), schemas, types, domains and extensions ("type name", "domain name", "extension
// name"), roles, columns they added ("table.column"), and whether one of them hands objects to a role.
// Those checks ask it of every pending migration, one migration more each time: soFars keeps it and
// adds the next ups to it, where it was gathered again from every earlier up for each migration.
type soFar struct {
	path                                    string
	ms                                      []*migrate.Migration
	created, schemas, types, roles, columns map[string]bool
	gives                                   bool
}

// soFars are the last two soFar gathered. Its lock is held while a check reads one (earlierMade).
var soFars struct {
	sync.Mutex
	slots [2]*soFar
	next  int
}

// earlierMade returns what the ups of earlier made, names qualified by searchPath, and the function that
// releases it: the maps are shared, and change once released.
func earlierMade(searchPath string, earlier []*migrate.Migration) (*soFar, func()) {
	soFars.Lock()
	// Should reading a script panic, the lock is released and the half-extended soFar dropped.
	var best *soFar
	done := false
	defer func() {
		if !done {
			for i, s := range soFars.slots {
				if s == best {
					soFars.slots[i] = nil
				}
			}
			soFars.Unlock()
		}
	}()
	for _, s := range soFars.slots {
		if s != nil && s.path == searchPath && len(s.ms) <= len(earlier) && slices.Equal(s.ms, earlier[:len(s.ms)]) &&
			(best == nil || len(s.ms) > len(best.ms)) {
			best = s
		}
	}
	if best == nil {
		best = &soFar{path: searchPath, created: map[string]bool{}, schemas: map[string]bool{}, types: map[string]bool{}, roles: map[string]bool{},
			columns: map[string]bool{}}
		soFars.slots[soFars.next] = best
		soFars.next = 1 - soFars.next
	}
	q := qualifier(searchPath)
	for _, e := range earlier[len(best.ms):] {
		eff := analyze(e.Up)
		for r := range eff.madeTables {
			best.created[q(r)] = true
		}
		for now, was := range eff.renamed {
			if eff.madeTables[was] {
				best.created[q(now)] = true
			}
		}
		for sc := range eff.madeSchemas {
			best.schemas[sc] = true
		}
		for rc := range eff.AddedColumns {
			i := strings.LastIndex(rc, ".")
			best.columns[q(rc[:i])+rc[i:]] = true
		}
		for t := range eff.CreatedTypes {
			best.types["type "+q(t)], best.types["domain "+q(t)] = true, true
		}
		for x := range eff.CreatedExtensions {
			best.types["extension "+x] = true
		}
		for r := range eff.CreatedRoles {
			best.roles[r] = true
		}
		best.gives = best.gives || eff.GivesOwnership
	}
	best.ms = append(best.ms[:len(best.ms):len(best.ms)], earlier[len(best.ms):]...)
	done = true
	return best, soFars.Unlock
}
