package deploy

import (
	"slices"
	"sync"

	"github.com/schemagate/schemagate/internal/migrate"
)

// The checks of a deploy judge each pending migration's scripts after the ups of the ones before it
// (linksLose, factsNeeded, downLosesData, upLosesData): what those ups leave is the same for every
// check, one more up each migration. Replaying them all again for every check made a run of n pending
// migrations replay n²/2 scripts, several times over. A keeper keeps what the latest prefixes built and
// extends it by the ups that follow: withBase the links (each check runs on them with a journal that
// undoes what it changed), earlierMade what the earlier ups made.

// kept is a state built from items (scripts, migrations) in order, names qualified by path.
type kept[E comparable, S any] struct {
	path  string
	items []E
	state S
}

// keeper keeps the last two states of a kind: the checks of a run ask for the ups before a migration
// and for those and its own, alternately, one more each migration, so that each grows by an item a
// migration. Its lock is held while a state is extended and used.
type keeper[E comparable, S any] struct {
	sync.Mutex
	slots [2]*kept[E, S]
	next  int // the slot the next new state replaces
}

// extend returns the state for items: the longest kept one whose items start items, extended in place
// by add with the rest, or a new one (fresh) so extended. The caller holds the lock. Should add panic,
// the half-extended state is dropped.
func (k *keeper[E, S]) extend(path string, items []E, fresh func() S, add func(S, E)) *kept[E, S] {
	var best *kept[E, S]
	for _, s := range k.slots {
		if s != nil && s.path == path && len(s.items) <= len(items) && slices.Equal(s.items, items[:len(s.items)]) &&
			(best == nil || len(s.items) > len(best.items)) {
			best = s
		}
	}
	if best == nil {
		best = &kept[E, S]{path: path, state: fresh()}
		k.slots[k.next] = best
		k.next = 1 - k.next
	}
	done := false
	defer func() {
		if !done {
			k.drop(best)
		}
	}()
	// Extended in place: the other slot keeps the state one item shorter that the next check asks for,
	// and is extended in its turn.
	for _, e := range items[len(best.items):] {
		add(best.state, e)
	}
	best.items = append(best.items[:len(best.items):len(best.items)], items[len(best.items):]...)
	done = true
	return best
}

// drop forgets s, which a panic left half changed. The caller holds the lock.
func (k *keeper[E, S]) drop(s *kept[E, S]) {
	for i, x := range k.slots {
		if x == s {
			k.slots[i] = nil
		}
	}
}

// reset forgets every state (a deploy starts without any; tests and benchmarks start so too).
func (k *keeper[E, S]) reset() {
	k.Lock()
	defer k.Unlock()
	k.slots = [2]*kept[E, S]{}
}

// linkBases keeps the links after the ups of a run (no check ran on them).
var linkBases keeper[*migrate.Script, *links]

// withBase runs check on the links after scripts (the ups before the script a check judges), names
// qualified by searchPath, with facts for the check, then undoes what check changed.
func withBase(searchPath string, scripts []*migrate.Script, facts map[string]string, check func(*links)) {
	linkBases.Lock()
	defer linkBases.Unlock()
	base := linkBases.extend(searchPath, scripts, func() *links { return newLinks(qualifier(searchPath), nil) },
		func(l *links, s *migrate.Script) { l.script(s, nil) })
	l := base.state
	// What the check changes is undone: tables and keys it adds go with the lengths, the rest through
	// the journal, newest first. A check that panics leaves the base unusable: it is dropped.
	var journal []func()
	all, fks, linked, linkedWord := len(l.all), len(l.fks), l.linked, l.linkedWord
	l.facts, l.journal = facts, &journal
	undone := false
	defer func() {
		if !undone {
			linkBases.drop(base)
		}
	}()
	check(l)
	for i := len(journal) - 1; i >= 0; i-- {
		journal[i]()
	}
	clear(l.all[all:])
	clear(l.fks[fks:])
	l.all, l.fks, l.linked, l.linkedWord = l.all[:all], l.fks[:fks], linked, linkedWord
	l.facts, l.need, l.upFacts, l.journal = nil, nil, false, nil
	undone = true
}

// soFar is what the ups of the migrations a run applies before the one judged (downLosesData,
// upLosesData) made and left standing: the tables they created (by the names they left them), schemas,
// types, domains and extensions ("type name", "domain name", "extension name"), roles, columns they
// added ("table.column"), sequences (madeSeqs) and identities they gave columns ("table.column"), and
// whether one of them hands objects to a role.
type soFar struct {
	created, schemas, types, roles, columns map[string]bool
	seqs, idents                            map[string]bool
	gives                                   bool
}

// soFars keeps what the earlier ups of a run made.
var soFars keeper[*migrate.Migration, *soFar]

// earlierMade returns what the ups of earlier made, names qualified by searchPath, and the function that
// releases it: the maps are shared, and change once released.
func earlierMade(searchPath string, earlier []*migrate.Migration) (*soFar, func()) {
	soFars.Lock()
	released := false
	defer func() {
		if !released {
			soFars.Unlock() // a panic while reading a script
		}
	}()
	q := qualifier(searchPath)
	fresh := func() *soFar {
		return &soFar{created: map[string]bool{}, schemas: map[string]bool{}, types: map[string]bool{}, roles: map[string]bool{}, columns: map[string]bool{},
			seqs: map[string]bool{}, idents: map[string]bool{}}
	}
	made := soFars.extend(searchPath, earlier, fresh, func(m *soFar, e *migrate.Migration) {
		eff := analyze(e.Up)
		for r := range eff.madeTables {
			m.created[q(r)] = true
		}
		for now, was := range eff.renamed {
			if eff.madeTables[was] {
				m.created[q(now)] = true
			}
		}
		for sc := range eff.madeSchemas {
			m.schemas[sc] = true
		}
		for rc := range eff.AddedColumns {
			rel, col := cutColKey(rc)
			m.columns[colKey(q(rel), col)] = true
		}
		for sq := range eff.madeSeqs {
			m.seqs[q(sq)] = true
		}
		for rc := range eff.madeIdents {
			rel, col := cutColKey(rc)
			m.idents[colKey(q(rel), col)] = true
		}
		for t := range eff.CreatedTypes {
			m.types["type "+q(t)], m.types["domain "+q(t)] = true, true
		}
		for x := range eff.CreatedExtensions {
			m.types["extension "+x] = true
		}
		for r := range eff.CreatedRoles {
			m.roles[r] = true
		}
		m.gives = m.gives || eff.GivesOwnership
	})
	released = true
	return made.state, soFars.Unlock
}
