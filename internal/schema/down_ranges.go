package schema

import (
	"fmt"
	"slices"
	"strings"
)

// rangeRedefined takes range type k back from definition ar (after the up re-created it under the same
// name) to r. ALTER TYPE cannot change a range type's subtype or options: the type is dropped and
// created again when nothing uses it; otherwise no DDL can do it without losing the values of what uses
// it, and the step is left to a person (an irreversible step, with its warning).
func (g *downGen) rangeRedefined(k string, ar, r *RangeType) {
	if users := g.rangeUsers(k, ar); len(users) > 0 {
		g.irreversible(fmt.Sprintf("range type %s is %s, was %s: a range type's definition cannot be changed in place, "+
			"and it is used by %s, whose values would be lost: re-create them and the type by hand, or restore the snapshot",
			display(k), ar.Definition, r.Definition, strings.Join(users, ", ")))
		return
	}
	g.add(fmt.Sprintf("drop range type %s to re-create it as it was (%s)", display(k), r.Definition), "DROP TYPE "+qkey(k))
	g.add("re-create range type "+display(k), "CREATE TYPE "+QIdent(r.Schema, r.Name)+" AS RANGE ("+r.Definition+")")
	g.markCreated(KindRange, k)
}

// rangeUsers are what uses range type k (definition ar), or its multirange type, in the working
// after-catalog and is still there when types are re-created: columns of kept tables, attributes of
// composite types, domains, views the down keeps and routines other than the type's constructors.
func (g *downGen) rangeUsers(k string, ar *RangeType) []string {
	keys := []string{k}
	if _, multi, ok := strings.Cut(ar.Definition, "MULTIRANGE_TYPE_NAME = "); ok {
		multi, _, _ = strings.Cut(multi, ",")
		keys = append(keys, Key(ar.Schema, unquote(strings.TrimSpace(multi))))
	}
	uses := func(t string) bool { return slices.Contains(keys, typeKey(baseTypeName(t))) }
	mentions := func(s string) bool {
		for _, key := range keys {
			schema, name := schemaAndName(key)
			if ref := QIdent(schema, name); replaceWord(s, ref, "\x00") != s {
				return true
			}
		}
		return false
	}
	var out []string
	for _, tk := range sortedKeys(g.a.Tables) {
		if g.b.Tables[tk] == nil {
			continue // dropped before types are re-created
		}
		for _, c := range g.a.Tables[tk].Columns {
			if uses(c.Type) && g.b.Tables[tk].Column(c.Name) != nil {
				out = append(out, "column "+display(subKey(tk, c.Name)))
			}
		}
	}
	for _, ck := range sortedKeys(g.a.Composites) {
		for _, at := range g.a.Composites[ck].Attributes {
			if uses(at.Type) {
				out = append(out, "composite type "+display(ck))
				break
			}
		}
	}
	for _, dk := range sortedKeys(g.a.Domains) {
		if uses(g.a.Domains[dk].BaseType) {
			out = append(out, "domain "+display(dk))
		}
	}
	for _, vk := range sortedKeys(g.a.Views) {
		if g.dropViews[vk] {
			continue
		}
		for _, c := range g.a.Views[vk].Columns {
			if j := strings.LastIndex(c, " "); j > 0 && uses(c[j+1:]) {
				out = append(out, strings.ToLower(kindOfView(g.a.Views[vk]))+" "+display(vk))
				break
			}
		}
	}
	for _, fk := range sortedKeys(g.a.Functions) {
		if f := g.a.Functions[fk]; f.Range == nil && (mentions(f.Args) || mentions(f.Result)) {
			out = append(out, strings.ToLower(functionKeyword(f))+" "+display(fk))
		}
	}
	return out
}
