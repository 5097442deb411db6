package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// An object joins an extension with ALTER EXTENSION e ADD and leaves it with ALTER EXTENSION e DROP: the
// catalog leaves an extension's members out of its other maps and lists them on the extension (see
// ExtensionMember). So a down must give back what the up took: an object the up gave an extension is let
// go (and dropped when it did not exist before), and one the up took from an extension is given back,
// not dropped as a user object the up made. The catalogs hold no member's definition: a member the up
// let go and then dropped cannot come back from them.

// Catalogs the members' Class names.
const (
	classProcedure = 1255 // pg_proc
	classRelation  = 1259 // pg_class
	classType      = 1247 // pg_type
)

// memberChanges finds, before any phase runs, the members the up added to or removed from an
// extension, and makes g.a what it will be once the down has let go of and given back these members: an
// object the up added to an extension is there again as the before-catalog has it (the down lets it go,
// it is no user object the down must create), one the up removed is gone from the user objects (the
// down gives it back, it is no user object the down must drop). Its steps run after dropEventTriggers
// (see extensionMembers).
func (g *downGen) memberChanges() {
	a, b := g.a, g.b
	owner := func(c *Catalog, object string) string {
		for _, k := range sortedKeys(c.Extensions) {
			if slices.ContainsFunc(c.Extensions[k].Members, func(m ExtensionMember) bool { return m.Object == object }) {
				return k
			}
		}
		return ""
	}
	for _, k := range sortedKeys(a.Extensions) {
		ae, be := a.Extensions[k], b.Extensions[k]
		// An extension the up made or updated brings members of its own: DROP EXTENSION or ALTER EXTENSION
		// UPDATE takes those. Only what was a user object, or another extension's, is let go.
		sameScript := be != nil && be.Version == ae.Version
		for _, m := range members(ae, be) {
			switch {
			case restoreUserObject(b, g.a, m):
				g.releases = append(g.releases, memberStep{k, m})
			case owner(b, m.Object) != "":
				g.releases = append(g.releases, memberStep{k, m})
			case sameScript:
				// Made by the up and given to the extension: let go, then dropped with what the up added.
				g.releases = append(g.releases, memberStep{k, m})
				g.memberDrops = append(g.memberDrops, m)
			}
		}
	}
	for _, k := range sortedKeys(b.Extensions) {
		be, ae := b.Extensions[k], a.Extensions[k]
		if ae == nil {
			continue // CREATE EXTENSION brings back what its script makes
		}
		sameScript := be.Version == ae.Version
		for _, m := range members(be, ae) {
			switch {
			case forgetUserObject(g.a, m):
				g.joins = append(g.joins, memberStep{k, m})
			case owner(a, m.Object) != "":
				g.joins = append(g.joins, memberStep{k, m})
			case sameScript:
				g.irreversibleMembers = append(g.irreversibleMembers, memberStep{k, m})
			}
		}
	}
}

// memberStep is a member and the extension it joins or leaves.
type memberStep struct {
	ext    string
	member ExtensionMember
}

// members are those of x that y lacks (y may be nil), in x's order.
func members(x, y *Extension) []ExtensionMember {
	var out []ExtensionMember
	for _, m := range x.Members {
		if y == nil || !slices.ContainsFunc(y.Members, func(n ExtensionMember) bool { return n.Object == m.Object }) {
			out = append(out, m)
		}
	}
	return out
}

// extensionMembers lets go of the members the up gave an extension, then gives back those it took:
// first, before the down drops or creates anything (an object must be let go before it is dropped,
// and may move from one extension to another); a member that the up let go of and then dropped is an
// irreversible step.
func (g *downGen) extensionMembers() {
	for _, s := range g.releases {
		if arrayOfMember(s.member, g.releases) {
			continue
		}
		g.add(fmt.Sprintf("take %s out of extension %s (added to it by the up)", s.member.Object, s.ext),
			"ALTER EXTENSION "+Ident(s.ext)+" DROP "+memberSQL(s.member.Object))
	}
	for _, s := range g.joins {
		if arrayOfMember(s.member, g.joins) {
			continue
		}
		g.add(fmt.Sprintf("give %s back to extension %s (taken out of it by the up)", s.member.Object, s.ext),
			"ALTER EXTENSION "+Ident(s.ext)+" ADD "+memberSQL(s.member.Object))
	}
	for _, s := range g.irreversibleMembers {
		g.irreversible(fmt.Sprintf("%s was a member of extension %s and the up let it go and dropped it: the catalog holds no "+
			"definition of an extension's member; create it again as the extension's script does, then run ALTER EXTENSION %s ADD %s",
			s.member.Object, s.ext, Ident(s.ext), memberSQL(s.member.Object)))
	}
}

// dropReleasedMembers drops the objects the up made and gave an extension the down keeps, once let go:
// after the routines and types the down drops, which may use them, before the extensions and schemas.
func (g *downGen) dropReleasedMembers() {
	for _, m := range g.memberDrops {
		if arrayOfMember(m, g.releases) {
			continue
		}
		g.add("drop "+m.Object+" (made by the up and added to an extension)", "DROP "+memberSQL(m.Object))
	}
}

// arrayOfMember tells whether m is the array type of another member of steps: ALTER EXTENSION ADD and
// DROP of a type take its array type with it (PostgreSQL 17 records both).
func arrayOfMember(m ExtensionMember, steps []memberStep) bool {
	elem, ok := strings.CutSuffix(m.Object, "[]")
	if !ok || !strings.HasPrefix(m.Object, "type ") {
		return false
	}
	return slices.ContainsFunc(steps, func(s memberStep) bool { return s.member.Object == elem })
}

// memberSQL is how ALTER EXTENSION ... ADD or DROP, and DROP, name a member: its type as a keyword,
// then its identity ("function public.f(integer)": FUNCTION public.f(integer)).
func memberSQL(object string) string {
	for _, kind := range memberKinds {
		if id, ok := strings.CutPrefix(object, kind+" "); ok {
			return strings.ToUpper(strings.ReplaceAll(kind, "-", " ")) + " " + id
		}
	}
	kind, id, _ := strings.Cut(object, " ")
	return strings.ToUpper(kind) + " " + id
}

// memberKinds are pg_identify_object's types of more than one word, longest first ("operator class"
// before "operator").
var memberKinds = []string{"text search configuration", "text search dictionary", "text search template", "text search parser",
	"foreign-data wrapper", "materialized view", "operator family", "operator class", "foreign table", "access method",
	"event trigger"}

// restoreUserObject puts the before-catalog's user object that is member m into a (a function, a relation
// or a type, found by OID); false when b has none.
func restoreUserObject(b, a *Catalog, m ExtensionMember) bool {
	if m.OID == 0 {
		return false
	}
	switch m.Class {
	case classProcedure:
		return copyByOID(b.Functions, a.Functions, m.OID, func(f *Function) uint32 { return f.OID })
	case classRelation:
		return copyByOID(b.Tables, a.Tables, m.OID, func(t *Table) uint32 { return t.OID }) ||
			copyByOID(b.Views, a.Views, m.OID, func(v *View) uint32 { return v.OID }) ||
			copyByOID(b.Sequences, a.Sequences, m.OID, func(s *Sequence) uint32 { return s.OID })
	case classType:
		return copyByOID(b.Enums, a.Enums, m.OID, func(e *Enum) uint32 { return e.OID }) ||
			copyByOID(b.Domains, a.Domains, m.OID, func(d *Domain) uint32 { return d.OID }) ||
			copyByOID(b.Composites, a.Composites, m.OID, func(c *Composite) uint32 { return c.OID }) ||
			copyByOID(b.ShellTypes, a.ShellTypes, m.OID, func(s *ShellType) uint32 { return s.OID })
	}
	return false
}

// forgetUserObject takes the user object that is member m out of a (see restoreUserObject); false when
// a has none.
func forgetUserObject(a *Catalog, m ExtensionMember) bool {
	if m.OID == 0 {
		return false
	}
	switch m.Class {
	case classProcedure:
		return deleteByOID(a.Functions, m.OID, func(f *Function) uint32 { return f.OID })
	case classRelation:
		return deleteByOID(a.Tables, m.OID, func(t *Table) uint32 { return t.OID }) ||
			deleteByOID(a.Views, m.OID, func(v *View) uint32 { return v.OID }) ||
			deleteByOID(a.Sequences, m.OID, func(s *Sequence) uint32 { return s.OID })
	case classType:
		return deleteByOID(a.Enums, m.OID, func(e *Enum) uint32 { return e.OID }) ||
			deleteByOID(a.Domains, m.OID, func(d *Domain) uint32 { return d.OID }) ||
			deleteByOID(a.Composites, m.OID, func(c *Composite) uint32 { return c.OID }) ||
			deleteByOID(a.ShellTypes, m.OID, func(s *ShellType) uint32 { return s.OID })
	}
	return false
}

// copyByOID copies (deeply: the phases change a's objects) the object of from with that OID into to.
func copyByOID[T any](from, to map[string]*T, oid uint32, oidOf func(*T) uint32) bool {
	for k, x := range from {
		if oidOf(x) != oid {
			continue
		}
		var y T
		if b, err := json.Marshal(x); err != nil || json.Unmarshal(b, &y) != nil {
			return false
		}
		to[k] = &y
		return true
	}
	return false
}

// deleteByOID deletes the object of c with that OID.
func deleteByOID[T any](c map[string]*T, oid uint32, oidOf func(*T) uint32) bool {
	for k, x := range c {
		if oidOf(x) == oid {
			delete(c, k)
			return true
		}
	}
	return false
}
