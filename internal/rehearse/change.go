package rehearse

import (
	"maps"
	"slices"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/schema"
)

// changeObjects follows the relations (tables, indexes, sequences, views) that the change's new
// migrations create, for the rules (lint.Config.ChangeCreated) and the trace's evidence: schemagate
// deploy applies the new migrations together, in order, before the application that uses what they
// create, so a later one's locks on them hold up no one's queries.
type changeObjects struct {
	// names and oids are the relations at the end of the history: a relation the change creates under
	// one of those names (after a DROP or a RENAME) is one the running application may use, and a
	// history relation renamed is still the history's.
	names map[string]bool
	oids  map[uint32]bool
	// by maps each relation of the change that exists now, "schema.name", to the id of the migration
	// that created it.
	by map[string]string
}

// newChangeObjects starts from the catalog the first new migration runs on.
func newChangeObjects(c *schema.Catalog) *changeObjects {
	co := &changeObjects{names: map[string]bool{}, oids: map[uint32]bool{}, by: map[string]string{}}
	eachRelation(c, func(key string, oid uint32) {
		co.names[key] = true
		if oid != 0 {
			co.oids[oid] = true
		}
	})
	return co
}

// after records the catalog new migration id left behind.
func (co *changeObjects) after(c *schema.Catalog, id string) {
	if co == nil {
		return
	}
	now := map[string]bool{}
	eachRelation(c, func(key string, oid uint32) {
		if co.names[key] || co.oids[oid] {
			return
		}
		now[key] = true
		if _, ok := co.by[key]; !ok {
			co.by[key] = id
		}
	})
	maps.DeleteFunc(co.by, func(key, _ string) bool { return !now[key] })
}

// created returns the relations of the change that exist now, for lint.Config.ChangeCreated.
func (co *changeObjects) created() map[string]string {
	if co == nil || len(co.by) == 0 {
		return nil
	}
	return maps.Clone(co.by)
}

// evidence returns ev with the relations of the change counted as the tracer counts those the
// migration itself created: not pre-existing, neither rewritten nor scanned.
func (co *changeObjects) evidence(ev []lint.Evidence) []lint.Evidence {
	if co == nil || len(co.by) == 0 {
		return ev
	}
	ours := func(traceName string) bool {
		_, ok := co.by[unquoteQualified(traceName)]
		return ok
	}
	out := slices.Clone(ev)
	for i := range out {
		e := &out[i]
		e.Locks = slices.Clone(e.Locks)
		for j := range e.Locks {
			if ours(e.Locks[j].Relation) {
				e.Locks[j].Preexisting = false
			}
		}
		e.Rewritten = slices.DeleteFunc(slices.Clone(e.Rewritten), ours)
		e.Scanned = slices.DeleteFunc(slices.Clone(e.Scanned), ours)
	}
	return out
}

func eachRelation(c *schema.Catalog, fn func(key string, oid uint32)) {
	for _, t := range c.Tables {
		fn(schema.Key(t.Schema, t.Name), t.OID)
	}
	for _, x := range c.Indexes {
		fn(schema.Key(x.Schema, x.Name), x.OID)
	}
	for _, s := range c.Sequences {
		fn(schema.Key(s.Schema, s.Name), s.OID)
	}
	for _, v := range c.Views {
		fn(schema.Key(v.Schema, v.Name), v.OID)
	}
}

// unquoteQualified reads a relation's name as the trace gives it (quote_ident(schema) || '.' ||
// quote_ident(name)) back to its catalog key (see schema.Key).
func unquoteQualified(name string) string { return schema.Key(schema.SplitKey(name)...) }
