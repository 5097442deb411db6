package schema

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// This file writes what a generated down does for operators, operator families and classes, and text
// search parsers and templates. Renames and schema moves are undone with the others (operatorRenames);
// what the up added is dropped after the indexes and constraints that use it and before the functions
// and types it uses (dropOperators: family members, classes, families, then operators); what it dropped
// is created again once the functions and types are back and before the indexes that use it
// (createOperators: operators, families, their members, classes), with owner and comment. No ALTER
// takes back an operator's function, result type, HASHES or MERGES, nor a class's type, family or
// members: those are dropped and created again. Commutators and negators are mostly taken back by the
// drops and creations of their partners (see operatorsRecreated). A built-in family is never dropped
// or created: only the members users added to it are (see OperatorFamily.BuiltIn). Parsers and
// templates, which text search dictionaries and configurations use, are created before them and
// dropped after them.

// sameText tells whether a text of the after-catalog reads as one of the before-catalog once the renames
// the down takes back are counted (a function renamed back is the one an operator quoted before the up).
func (g *downGen) sameText(after, before string) bool {
	if after == before {
		return true
	}
	for _, m := range g.operatorMoves {
		after = strings.ReplaceAll(after, m[0], m[1])
	}
	return after == before || len(g.renamed) > 0 && canon(after, g.renamed, false) == canon(before, g.renamed, true)
}

// operatorPlace is how regoperator starts an operator of schema s: "s.===(", "===(" in public (which the
// search path of the reads finds).
func operatorPlace(s, name string) string {
	if s == "public" {
		return name + "("
	}
	return Ident(s) + "." + name + "("
}

// operatorName is the operator's qualified name as DROP and ALTER OPERATOR take it: "public.===".
func operatorName(x *Operator) string { return Ident(x.Schema) + "." + x.Name }

// opClassRef is "schema.name USING method" as ALTER OPERATOR FAMILY and CLASS take it.
func opClassRef(schema, name, method string) string { return QIdent(schema, name) + " USING " + method }

// operatorRenames moves operators back to their schemas and undoes renames and moves of operator
// families and classes and of text search parsers and templates, recognised by OID.
func (g *downGen) operatorRenames() {
	a, b := g.a, g.b
	renamed := len(g.renamed)
	defer func() {
		if len(g.renamed) > renamed {
			g.followRenames() // an index quotes its classes
		}
	}()
	movedByOID(a.Operators, b.Operators, func(x *Operator) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *Operator) {
			if x.Schema != bx.Schema {
				g.add(fmt.Sprintf("move operator %s back to schema %s", display(ak), bx.Schema),
					"ALTER OPERATOR "+operatorName(x)+bx.Args()+" SET SCHEMA "+Ident(bx.Schema))
				// What quotes it (a class's members, another's commutator) reads the same once it is back.
				g.operatorMoves = append(g.operatorMoves, [2]string{operatorPlace(x.Schema, x.Name), operatorPlace(bx.Schema, bx.Name)})
			}
			// A key that differs otherwise differs by the names of its types, renamed back by now.
			delete(a.Operators, ak)
			y := *x
			y.Schema, y.Left, y.Right = bx.Schema, bx.Left, bx.Right
			a.Operators[bk] = &y
		})
	movedByOID(a.OperatorFamilies, b.OperatorFamilies, func(x *OperatorFamily) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *OperatorFamily) {
			g.moveBack(KindOpFamily, "OPERATOR FAMILY", func(s, n string) string { return opClassRef(s, n, x.Method) },
				x.Schema, x.Name, bx.Schema, bx.Name)
			delete(a.OperatorFamilies, ak)
			for _, c := range a.OperatorClasses {
				if c.Family == Key(x.Schema, x.Name) {
					c.Family = Key(bx.Schema, bx.Name)
				}
			}
			x.Schema, x.Name = bx.Schema, bx.Name
			a.OperatorFamilies[bk] = x
		})
	movedByOID(a.OperatorClasses, b.OperatorClasses, func(x *OperatorClass) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *OperatorClass) {
			g.moveBack(KindOpClass, "OPERATOR CLASS", func(s, n string) string { return opClassRef(s, n, x.Method) },
				x.Schema, x.Name, bx.Schema, bx.Name)
			delete(a.OperatorClasses, ak)
			x.Schema, x.Name = bx.Schema, bx.Name
			a.OperatorClasses[bk] = x
		})
	movedByOID(a.TextSearchParsers, b.TextSearchParsers, func(x *TextSearchParser) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *TextSearchParser) {
			g.moveBack(KindTSParser, "TEXT SEARCH PARSER", QIdent, x.Schema, x.Name, bx.Schema, bx.Name)
			delete(a.TextSearchParsers, ak)
			for _, c := range a.TextSearchConfigs {
				c.Parser = renamedRef(c.Parser, x.Schema, x.Name, bx.Schema, bx.Name)
			}
			x.Schema, x.Name = bx.Schema, bx.Name
			a.TextSearchParsers[bk] = x
		})
	movedByOID(a.TextSearchTemplates, b.TextSearchTemplates, func(x *TextSearchTemplate) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *TextSearchTemplate) {
			g.moveBack(KindTSTemplate, "TEXT SEARCH TEMPLATE", QIdent, x.Schema, x.Name, bx.Schema, bx.Name)
			delete(a.TextSearchTemplates, ak)
			for _, d := range a.TextSearchDictionaries {
				d.Template = renamedRef(d.Template, x.Schema, x.Name, bx.Schema, bx.Name)
			}
			x.Schema, x.Name = bx.Schema, bx.Name
			a.TextSearchTemplates[bk] = x
		})
}

// renamedRef is ref, a name as a text search configuration quotes its parser (or a dictionary its
// template: the name, qualified where the search path does not find it), written with the object's
// name before the up when it names the object as the up left it.
func renamedRef(ref, s, n, bs, bn string) string {
	if ref == Ident(n) || ref == Ident(s)+"."+Ident(n) {
		return QIdent(bs, bn) // found by the search path in public
	}
	return ref
}

// operatorRecreated tells whether operator x (after the up) must be dropped and created again as bx
// on its own account: none of its function, result type, HASHES and MERGES can be altered back, and a
// shell cannot be made from a full operator, nor the reverse. Its links are operatorsRecreated's.
func (g *downGen) operatorRecreated(x, bx *Operator) bool {
	if bx.Function == "" || x.Function == "" {
		return bx.Function != x.Function
	}
	return !g.sameText(x.Function, bx.Function) || !g.sameText(x.Result, bx.Result) || x.Hashes != bx.Hashes ||
		x.Merges != bx.Merges
}

// operatorsRecreated are the keys of the operators both catalogs have that the down drops and creates
// again: those operatorRecreated names, and those whose commutator or negator the down's own drops and
// creations would not leave as before. No ALTER takes back a link (PostgreSQL 17's ALTER OPERATOR ...
// SET (COMMUTATOR = ...) only sets an unset one, to a complete operator), but PostgreSQL keeps links
// itself: dropping an operator unsets the link of the one it links to when that one links back, and
// creating one sets the unset link of the one it names (making a shell, linked back, of one that does
// not exist). So a link the up added by creating a partner goes with the partner, one it took by
// dropping a partner comes back with it, and an operator is dropped and created again only when its
// link would otherwise dangle (its partner dropped without linking back: the up filled a shell, or
// dropped a partner that did not link back) or stay wrong.
func (g *downGen) operatorsRecreated() map[string]bool {
	a, b := g.a, g.b
	dropped := map[string]bool{} // by the down: added by the up, or created again
	for k, x := range a.Operators {
		if bx := b.Operators[k]; bx == nil || g.operatorRecreated(x, bx) {
			dropped[k] = true
		}
	}
	// Of two operators that lost their link, creating either again links both: the one the up created
	// again itself (another OID) is looked at first, so that the other, which may be in use, stays.
	keys := sortedKeys(a.Operators)
	slices.SortStableFunc(keys, func(k, l string) int {
		return cmp.Compare(boolInt(!g.recreatedByUp(k)), boolInt(!g.recreatedByUp(l)))
	})
	for changed := true; changed; {
		changed = false
		for _, k := range keys {
			if !dropped[k] && !(g.linkKept(k, commutatorOf, dropped) && g.linkKept(k, negatorOf, dropped)) {
				dropped[k], changed = true, true
			}
		}
	}
	recreated := map[string]bool{}
	for k := range dropped {
		if b.Operators[k] != nil {
			recreated[k] = true
		}
	}
	return recreated
}

// recreatedByUp tells whether the up dropped operator k and created it again: its OID changed.
func (g *downGen) recreatedByUp(k string) bool {
	x, bx := g.a.Operators[k], g.b.Operators[k]
	return x != nil && bx != nil && x.OID != 0 && bx.OID != 0 && x.OID != bx.OID
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func commutatorOf(x *Operator) string { return x.Commutator }
func negatorOf(x *Operator) string    { return x.Negator }

// linkKept tells whether operator k, which both catalogs have and the down keeps, has its link
// (commutator or negator, as link reads it) as the before-catalog has it once the down has dropped the
// operators in dropped and created those of the before-catalog it then lacks.
func (g *downGen) linkKept(k string, link func(*Operator) string, dropped map[string]bool) bool {
	have, want := link(g.a.Operators[k]), link(g.b.Operators[k])
	ha, wb := g.afterOperatorKey(have), operatorKey(want)
	switch {
	case have == "" && want == "":
		return true
	case have != "" && want != "" && g.sameText(have, want):
		// The same partner: kept, or dropped (unsetting the link) and created again (setting it).
		return !dropped[wb] || g.unsetByDrop(wb, k, link, dropped) && g.setByCreation(wb, k, link, dropped)
	case have != "" && !g.unsetByDrop(ha, k, link, dropped):
		return false // dangling, or to a partner the down keeps
	case want != "":
		return g.setByCreation(wb, k, link, dropped)
	}
	// Unset by the partner's drop, and not set again by its creation.
	bp := g.b.Operators[ha]
	return bp == nil || g.a.Operators[ha] != nil && !dropped[ha] || operatorKey(link(bp)) != k
}

// unsetByDrop tells whether the down drops operator p (key) and so unsets k's link: p links back to k.
func (g *downGen) unsetByDrop(p, k string, link func(*Operator) string, dropped map[string]bool) bool {
	x := g.a.Operators[p]
	return x != nil && dropped[p] && g.afterOperatorKey(link(x)) == k
}

// setByCreation tells whether the down creates operator p (key) complete and linking to k, which sets
// k's unset link.
func (g *downGen) setByCreation(p, k string, link func(*Operator) string, dropped map[string]bool) bool {
	bx := g.b.Operators[p]
	return bx != nil && bx.Function != "" && (g.a.Operators[p] == nil || dropped[p]) && operatorKey(link(bx)) == k
}

// afterOperatorKey is the key of an operator as an operator of the after-catalog quotes it
// (regoperator), once the down has moved operators back to their schemas; "" for none.
func (g *downGen) afterOperatorKey(regoperator string) string {
	if regoperator == "" {
		return ""
	}
	for _, m := range g.operatorMoves {
		regoperator = strings.ReplaceAll(regoperator, m[0], m[1])
	}
	return operatorKey(regoperator)
}

// operatorCreationOrder is the order in which createOperators creates the operators of keys: one that
// links to another that does not link back to it comes first, as creating it makes a shell of the
// other, linked back, which creating the other fills and unlinks; created the other way round, the
// other would link back.
func (g *downGen) operatorCreationOrder(keys []string) []string {
	b := g.b.Operators
	var out []string
	seen := map[string]bool{}
	var visit func(k string)
	visit = func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		for _, p := range keys { // those that link to k one way
			for _, link := range []func(*Operator) string{commutatorOf, negatorOf} {
				if p != k && operatorKey(link(b[p])) == k && operatorKey(link(b[k])) != p {
					visit(p)
				}
			}
		}
		out = append(out, k)
	}
	for _, k := range keys {
		visit(k)
	}
	return out
}

// operatorKey is the Catalog.Operators key of an operator as regoperator writes it
// ("===(integer,integer)", "s.===(NONE,integer)", read under the search path public is on).
func operatorKey(regoperator string) string {
	name, args, _ := cutSignature(regoperator)
	// An operator's name has no dot: one ends the schema's, quoted as an identifier.
	schema, op := "public", name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		schema, op = unquote(name[:i]), name[i+1:]
	}
	return Key(schema, unquote(op)) + "(" + spacedArgs(args) + ")"
}

// opClassRecreated tells whether class x (after the up) must be dropped and created again as bx.
func (g *downGen) opClassRecreated(x, bx *OperatorClass) bool {
	return !g.sameText(x.Type, bx.Type) || !g.sameText(x.Storage, bx.Storage) || x.Default != bx.Default ||
		!g.sameText(x.Family, bx.Family) || !g.sameMembers(x.Members, bx.Members)
}

func (g *downGen) sameMembers(ms, bms []OpMember) bool {
	return slices.EqualFunc(ms, bms, func(m, bm OpMember) bool {
		return g.sameText(m.Slot(), bm.Slot()) && g.sameText(m.What(), bm.What())
	})
}

// dropOperators drops the family members, classes, families and operators the up added, and those it
// changed that no ALTER takes back (created again by createOperators).
func (g *downGen) dropOperators() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(a.OperatorFamilies) {
		x, bx := a.OperatorFamilies[k], b.OperatorFamilies[k]
		if bx == nil && x.BuiltIn {
			bx = &OperatorFamily{} // the before-catalog's has no member users added
		} else if bx == nil {
			continue
		}
		var drop []string
		for _, m := range x.Members {
			if i := g.memberIndex(bx.Members, m); i < 0 || !g.sameText(m.What(), bx.Members[i].What()) {
				drop = append(drop, m.Slot())
			}
		}
		if len(drop) > 0 {
			g.add(fmt.Sprintf("drop %s from operator family %s (added or changed by the up)", strings.Join(drop, ", "), display(k)),
				"ALTER OPERATOR FAMILY "+opClassRef(x.Schema, x.Name, x.Method)+" DROP "+strings.Join(drop, ", "))
			x.Members = slices.DeleteFunc(slices.Clone(x.Members), func(m OpMember) bool { return slices.Contains(drop, m.Slot()) })
		}
	}
	for _, k := range sortedKeys(a.OperatorClasses) {
		x, bx := a.OperatorClasses[k], b.OperatorClasses[k]
		if bx != nil && !g.opClassRecreated(x, bx) {
			continue
		}
		why := " (added by the up)"
		if bx != nil {
			why = " to create it again as it was"
		}
		g.add("drop operator class "+display(k)+why, "DROP OPERATOR CLASS "+opClassRef(x.Schema, x.Name, x.Method))
		delete(a.OperatorClasses, k)
	}
	for _, k := range sortedKeys(a.OperatorFamilies) {
		x := a.OperatorFamilies[k]
		if b.OperatorFamilies[k] != nil || x.BuiltIn {
			continue
		}
		g.add("drop operator family "+display(k)+" (added by the up)", "DROP OPERATOR FAMILY "+opClassRef(x.Schema, x.Name, x.Method))
		delete(a.OperatorFamilies, k)
		for ck, c := range a.OperatorClasses {
			if c.Family == Key(x.Schema, x.Name) && c.Method == x.Method {
				delete(a.OperatorClasses, ck) // dropped with its family
			}
		}
	}
	recreated := g.operatorsRecreated()
	for _, k := range sortedKeys(a.Operators) {
		x, bx := a.Operators[k], b.Operators[k]
		if bx != nil && !recreated[k] {
			continue
		}
		why := " (added by the up)"
		if bx != nil {
			why = " to create it again as it was"
		}
		g.add("drop operator "+display(k)+why, "DROP OPERATOR "+operatorName(x)+x.Args())
		delete(a.Operators, k)
	}
}

// memberIndex is the index in ms of the member in m's slot, -1 if none.
func (g *downGen) memberIndex(ms []OpMember, m OpMember) int {
	return slices.IndexFunc(ms, func(bm OpMember) bool { return g.sameText(m.Slot(), bm.Slot()) })
}

// createOperators creates again the operators, families (with their loose members) and classes of the
// before-catalog the after-catalog lacks (or that dropOperators dropped), and restores the estimators,
// owner and comment of each.
func (g *downGen) createOperators() {
	a, b := g.a, g.b
	// Shells come with the operators that name them; one no operator names cannot be made on its own.
	named := map[string]bool{}
	for _, k := range sortedKeys(b.Operators) {
		if bx := b.Operators[k]; bx.Function != "" && a.Operators[k] == nil {
			named[operatorKey(bx.Commutator)], named[operatorKey(bx.Negator)] = true, true
		}
	}
	for _, k := range g.operatorCreationOrder(sortedKeys(b.Operators)) {
		bx, x := b.Operators[k], a.Operators[k]
		target := operatorName(bx) + bx.Args()
		fresh := x == nil
		if fresh {
			if bx.Function == "" {
				if !named[k] {
					g.irreversible(fmt.Sprintf("not restored: shell operator %s (no CREATE OPERATOR makes a shell on its own)", display(k)))
				}
				continue
			}
			g.add("re-create operator "+display(k), "CREATE OPERATOR "+operatorName(bx)+" "+operatorSummary(bx))
			g.markCreated(KindOperator, k)
			if bx.Commutator == DroppedOperator || bx.Negator == DroppedOperator {
				g.irreversible(fmt.Sprintf("not restored: the link of operator %s to an operator dropped since (no statement makes a "+
					"dangling commutator or negator)", display(k)))
			}
			x = &Operator{Restrict: bx.Restrict, Join: bx.Join}
		}
		if !g.sameText(x.Restrict, bx.Restrict) || !g.sameText(x.Join, bx.Join) {
			g.add("restore the estimators of operator "+display(k),
				"ALTER OPERATOR "+target+" SET (RESTRICT = "+or(bx.Restrict, "NONE")+", JOIN = "+or(bx.Join, "NONE")+")")
		}
		g.ownerAndComment(KindOperator, k, "OPERATOR", target, bx.Owner, x.Owner, bx.Comment, x.Comment, fresh)
	}
	for _, k := range sortedKeys(b.OperatorFamilies) {
		bx, x := b.OperatorFamilies[k], a.OperatorFamilies[k]
		target := opClassRef(bx.Schema, bx.Name, bx.Method)
		fresh := x == nil && !bx.BuiltIn
		switch {
		case fresh:
			g.add("re-create operator family "+display(k), "CREATE OPERATOR FAMILY "+target)
			x = &OperatorFamily{}
		case x == nil:
			x = &OperatorFamily{} // built in: the after-catalog's has no member users added
		}
		var add []string
		for _, m := range bx.Members {
			if g.memberIndex(x.Members, m) < 0 {
				add = append(add, m.SQL())
			}
		}
		if len(add) > 0 {
			g.add("add the members of operator family "+display(k)+" again", "ALTER OPERATOR FAMILY "+target+" ADD "+strings.Join(add, ", "))
		}
		g.ownerAndComment(KindOpFamily, k, "OPERATOR FAMILY", target, bx.Owner, x.Owner, bx.Comment, x.Comment, fresh)
	}
	for _, k := range sortedKeys(b.OperatorClasses) {
		bx, x := b.OperatorClasses[k], a.OperatorClasses[k]
		target := opClassRef(bx.Schema, bx.Name, bx.Method)
		fresh := x == nil
		if fresh {
			g.add("re-create operator class "+display(k), "CREATE OPERATOR CLASS "+QIdent(bx.Schema, bx.Name)+" "+opClassSummary(bx))
			g.markCreated(KindOpClass, k)
			x = &OperatorClass{}
		}
		g.ownerAndComment(KindOpClass, k, "OPERATOR CLASS", target, bx.Owner, x.Owner, bx.Comment, x.Comment, fresh)
	}
}

// ownerAndComment restores the owner and comment of an operator, family or class (fresh: the down
// created it again).
func (g *downGen) ownerAndComment(kind, key, keyword, target, owner, hadOwner, comment, hadComment string, fresh bool) {
	if fresh {
		hadOwner, hadComment = "", ""
	}
	g.ownerAs(kind, key, keyword, target, owner, hadOwner, fresh)
	if comment != hadComment {
		g.add(fmt.Sprintf("restore the comment on %s %s", kind, display(key)), commentSQL(keyword+" "+target, comment))
	}
}

// createTSParsersAndTemplates creates again the text search parsers and templates of the before-catalog
// the after-catalog lacks, and restores those whose functions changed (dropped and created again: no
// ALTER changes them; the configurations and dictionaries that use them keep them from being dropped),
// and their comments.
func (g *downGen) createTSParsersAndTemplates() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.TextSearchParsers) {
		bx, x := b.TextSearchParsers[k], a.TextSearchParsers[k]
		switch {
		case x == nil:
			g.add("re-create text search parser "+display(k), "CREATE TEXT SEARCH PARSER "+qkey(k)+" "+tsParserSummary(bx))
			x = &TextSearchParser{}
		case !g.sameText(tsParserSummary(x), tsParserSummary(bx)):
			g.irreversible(fmt.Sprintf("not restored: text search parser %s %s, was %s (drop it and create it again, with the "+
				"configurations that use it)", display(k), tsParserSummary(x), tsParserSummary(bx)))
		}
		if x.Comment != bx.Comment {
			g.add("restore the comment on text search parser "+display(k), commentSQL("TEXT SEARCH PARSER "+qkey(k), bx.Comment))
		}
	}
	for _, k := range sortedKeys(b.TextSearchTemplates) {
		bx, x := b.TextSearchTemplates[k], a.TextSearchTemplates[k]
		switch {
		case x == nil:
			g.add("re-create text search template "+display(k), "CREATE TEXT SEARCH TEMPLATE "+qkey(k)+" "+tsTemplateSummary(bx))
			x = &TextSearchTemplate{}
		case !g.sameText(tsTemplateSummary(x), tsTemplateSummary(bx)):
			g.irreversible(fmt.Sprintf("not restored: text search template %s %s, was %s (drop it and create it again, with the "+
				"dictionaries that use it)", display(k), tsTemplateSummary(x), tsTemplateSummary(bx)))
		}
		if x.Comment != bx.Comment {
			g.add("restore the comment on text search template "+display(k), commentSQL("TEXT SEARCH TEMPLATE "+qkey(k), bx.Comment))
		}
	}
}

// addedTSParsersAndTemplates are the parsers and templates of the after-catalog the before-catalog
// does not have, quoted, for dropTypes.
func (g *downGen) addedTSParsersAndTemplates() (parsers, templates []string) {
	for _, k := range sortedKeys(g.a.TextSearchParsers) {
		if g.b.TextSearchParsers[k] == nil {
			parsers = append(parsers, qkey(k))
		}
	}
	for _, k := range sortedKeys(g.a.TextSearchTemplates) {
		if g.b.TextSearchTemplates[k] == nil {
			templates = append(templates, qkey(k))
		}
	}
	return parsers, templates
}
