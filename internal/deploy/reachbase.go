package deploy

import (
	"slices"
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
