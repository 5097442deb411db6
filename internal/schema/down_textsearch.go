package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file writes what a generated down does for text search configurations and dictionaries. They are
// re-created or changed back with the types (createTypes), dictionaries first (a configuration maps
// token types to them), before the column defaults and indexes that name a configuration; those the up
// added are dropped with the types (dropTypes), configurations first, after what uses them.

// createTextSearch re-creates the dictionaries and configurations the up dropped and takes those it
// changed back: a dictionary's options, a configuration's mappings.
func (g *downGen) createTextSearch() {
	g.createTSParsersAndTemplates()
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.TextSearchDictionaries) {
		d, ad := b.TextSearchDictionaries[k], a.TextSearchDictionaries[k]
		switch {
		case ad == nil:
			g.add("re-create text search dictionary "+display(k), "CREATE TEXT SEARCH DICTIONARY "+qkey(k)+" "+tsDictionarySummary(d))
			g.markCreated(KindTSDictionary, k)
		case ad.Template != d.Template:
			g.irreversible(fmt.Sprintf("text search dictionary %s has template %s, was %s: a dictionary's template cannot be changed "+
				"in place (drop it and create it again, with the configurations that map to it)", display(k), ad.Template, d.Template))
		default:
			if o := tsOptionsSQL(d.Options, ad.Options); o != "" {
				g.add("restore the options of text search dictionary "+display(k), "ALTER TEXT SEARCH DICTIONARY "+qkey(k)+" ("+o+")")
			}
		}
	}
	for _, k := range sortedKeys(b.TextSearchConfigs) {
		x, ax := b.TextSearchConfigs[k], a.TextSearchConfigs[k]
		var have map[string][]string
		switch {
		case ax == nil:
			g.add("re-create text search configuration "+display(k), createTSConfigSQL(x))
			g.markCreated(KindTSConfig, k)
		case ax.Parser != x.Parser:
			// The parser cannot be changed in place; what names the configuration must go first.
			g.add(fmt.Sprintf("drop text search configuration %s to create it again with parser %s", display(k), x.Parser),
				"DROP TEXT SEARCH CONFIGURATION "+qkey(k))
			g.add("re-create text search configuration "+display(k), createTSConfigSQL(x))
			g.markCreated(KindTSConfig, k)
		default:
			have = ax.Mappings
		}
		g.tsMappings(k, x.Mappings, have)
	}
}

func createTSConfigSQL(x *TextSearchConfig) string {
	return "CREATE TEXT SEARCH CONFIGURATION " + qkey(Key(x.Schema, x.Name)) + " (PARSER = " + x.Parser + ")"
}

// tsMappings takes the mappings of configuration k from have to want: mappings of token types the up
// added are dropped, the others added or altered back, one statement for the token types that map to
// the same dictionaries.
func (g *downGen) tsMappings(k string, want, have map[string][]string) {
	alter := "ALTER TEXT SEARCH CONFIGURATION " + qkey(k) + " "
	var drop []string
	for _, tok := range sortedKeys(have) {
		if _, ok := want[tok]; !ok {
			drop = append(drop, tok)
		}
	}
	if len(drop) > 0 {
		g.add(fmt.Sprintf("drop the mapping of %s that the up added to text search configuration %s", strings.Join(drop, ", "), display(k)),
			alter+"DROP MAPPING FOR "+tokenList(drop))
	}
	// verb and dictionaries -> token types, in order of first token type
	type group struct {
		verb, dicts string
		tokens      []string
	}
	var groups []*group
	for _, tok := range sortedKeys(want) {
		cur, ok := have[tok]
		if ok && slices.Equal(cur, want[tok]) {
			continue
		}
		verb := "ADD"
		if ok {
			verb = "ALTER"
		}
		dicts := strings.Join(want[tok], ", ")
		i := slices.IndexFunc(groups, func(x *group) bool { return x.verb == verb && x.dicts == dicts })
		if i < 0 {
			groups = append(groups, &group{verb: verb, dicts: dicts})
			i = len(groups) - 1
		}
		groups[i].tokens = append(groups[i].tokens, tok)
	}
	for _, gr := range groups {
		g.add(fmt.Sprintf("map %s to %s in text search configuration %s again", strings.Join(gr.tokens, ", "), gr.dicts, display(k)),
			alter+gr.verb+" MAPPING FOR "+tokenList(gr.tokens)+" WITH "+gr.dicts)
	}
}

func tokenList(tokens []string) string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = Ident(t)
	}
	return strings.Join(out, ", ")
}

// tsOptionsSQL is the option list of ALTER TEXT SEARCH DICTIONARY that takes a dictionary's options from
// have to want ("stopwords = 'english', accept": an option named alone is reset), or "" when they are
// the same.
func tsOptionsSQL(want, have []string) string {
	name := func(o string) string { n, _, _ := strings.Cut(o, " = "); return n }
	var parts []string
	for _, o := range have {
		if !slices.ContainsFunc(want, func(w string) bool { return name(w) == name(o) }) {
			parts = append(parts, name(o))
		}
	}
	for _, o := range want {
		if !slices.Contains(have, o) {
			parts = append(parts, o)
		}
	}
	return strings.Join(parts, ", ")
}

// textSearchRenames undoes renames and schema moves of text search configurations and dictionaries,
// recognised by OID: column defaults and index expressions that name a configuration follow it back.
func (g *downGen) textSearchRenames() {
	a, b := g.a, g.b
	movedByOID(a.TextSearchDictionaries, b.TextSearchDictionaries, func(x *TextSearchDictionary) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *TextSearchDictionary) {
			g.moveBack(KindTSDictionary, "TEXT SEARCH DICTIONARY", QIdent, x.Schema, x.Name, bx.Schema, bx.Name)
			delete(a.TextSearchDictionaries, ak)
			x.Schema, x.Name = bx.Schema, bx.Name
			a.TextSearchDictionaries[bk] = x
		})
	movedByOID(a.TextSearchConfigs, b.TextSearchConfigs, func(x *TextSearchConfig) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *TextSearchConfig) {
			g.moveBack(KindTSConfig, "TEXT SEARCH CONFIGURATION", QIdent, x.Schema, x.Name, bx.Schema, bx.Name)
			delete(a.TextSearchConfigs, ak)
			x.Schema, x.Name = bx.Schema, bx.Name
			a.TextSearchConfigs[bk] = x
		})
}

// textSearchProperties restores the owners of the configurations and dictionaries of the before-catalog
// (they have no privileges).
func (g *downGen) textSearchProperties() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.TextSearchDictionaries) {
		x, ax := b.TextSearchDictionaries[k], a.TextSearchDictionaries[k]
		fresh := ax == nil || g.wasCreated(KindTSDictionary, k)
		have := ""
		if !fresh {
			have = ax.Owner
		}
		g.ownerAs(KindTSDictionary, k, "TEXT SEARCH DICTIONARY", qkey(k), x.Owner, have, fresh)
	}
	for _, k := range sortedKeys(b.TextSearchConfigs) {
		x, ax := b.TextSearchConfigs[k], a.TextSearchConfigs[k]
		fresh := ax == nil || g.wasCreated(KindTSConfig, k)
		have := ""
		if !fresh {
			have = ax.Owner
		}
		g.ownerAs(KindTSConfig, k, "TEXT SEARCH CONFIGURATION", qkey(k), x.Owner, have, fresh)
	}
}

// textSearchComments restores the comments of the configurations and dictionaries of the before-catalog.
func (g *downGen) textSearchComments(restore func(kind, key, target, want string, have *string)) {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.TextSearchDictionaries) {
		var have *string
		if ax := a.TextSearchDictionaries[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindTSDictionary, k, "TEXT SEARCH DICTIONARY "+qkey(k), b.TextSearchDictionaries[k].Comment, have)
	}
	for _, k := range sortedKeys(b.TextSearchConfigs) {
		var have *string
		if ax := a.TextSearchConfigs[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindTSConfig, k, "TEXT SEARCH CONFIGURATION "+qkey(k), b.TextSearchConfigs[k].Comment, have)
	}
}

// addedTextSearch are the configurations and dictionaries of the after-catalog the before-catalog does
// not have, quoted, for dropTypes.
func (g *downGen) addedTextSearch() (configs, dicts []string) {
	for _, k := range sortedKeys(g.a.TextSearchConfigs) {
		if g.b.TextSearchConfigs[k] == nil {
			configs = append(configs, qkey(k))
		}
	}
	for _, k := range sortedKeys(g.a.TextSearchDictionaries) {
		if g.b.TextSearchDictionaries[k] == nil {
			dicts = append(dicts, qkey(k))
		}
	}
	return configs, dicts
}
