package schema

import (
	"fmt"
	"regexp"
	"strings"
)

// This file writes what a generated down does for access methods, procedural languages, conversions
// and transforms. Renames and schema moves of languages and conversions are undone with the others
// (proceduralRenames). What the up added is dropped after the tables, indexes and operator classes that
// use it and before the functions it uses (dropProcedural: transforms, conversions, access methods; a
// language once the functions written in it are gone, see dropTypes). What it dropped is created again
// once the functions it uses are back (a language before the functions written in it, see createTypes),
// and before the tables and operator classes that use it (createProcedural), with its owner, privileges
// and comment. CREATE OR REPLACE takes back a language's handlers and a transform's functions; no ALTER
// changes an access method, so one the up changed otherwise than by a rename of its function is left to
// a person (its tables, indexes and classes hold it), and a conversion is dropped and created again.

// proceduralRenames undoes renames of languages and renames and moves of conversions, recognised by OID,
// and follows the renames of the types and languages transforms are named by.
func (g *downGen) proceduralRenames() {
	a, b := g.a, g.b
	movedByOID(a.Languages, b.Languages, func(x *Language) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *Language) {
			g.add(fmt.Sprintf("rename language %s back to %s", x.Name, bx.Name), "ALTER LANGUAGE "+Ident(x.Name)+" RENAME TO "+Ident(bx.Name))
			delete(a.Languages, ak)
			for tk, t := range a.Transforms {
				if t.Language == x.Name {
					delete(a.Transforms, tk)
					t.Language = bx.Name
					a.Transforms[t.Key()] = t
				}
			}
			x.Name = bx.Name
			a.Languages[bk] = x
		})
	// A transform is named by its type and language, renamed back by now.
	movedByOID(a.Transforms, b.Transforms, func(x *Transform) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *Transform) {
			delete(a.Transforms, ak)
			y := *x
			y.Type, y.Language = bx.Type, bx.Language
			a.Transforms[bk] = &y
		})
	movedByOID(a.Conversions, b.Conversions, func(x *Conversion) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *Conversion) {
			g.moveBack(KindConversion, "CONVERSION", QIdent, x.Schema, x.Name, bx.Schema, bx.Name)
			delete(a.Conversions, ak)
			x.Schema, x.Name = bx.Schema, bx.Name
			a.Conversions[bk] = x
		})
}

// conversionChanged tells whether conversion x (after the up) must be dropped and created again as bx:
// no ALTER changes its encodings, function or DEFAULT.
func (g *downGen) conversionChanged(x, bx *Conversion) bool {
	return x.Source != bx.Source || x.Destination != bx.Destination || x.Default != bx.Default || !g.sameText(x.Function, bx.Function)
}

// dropProcedural drops the transforms, conversions and access methods the up added, and the conversions
// it changed.
func (g *downGen) dropProcedural() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(a.Transforms) {
		if b.Transforms[k] == nil {
			g.add("drop transform "+k+" (added by the up)", "DROP TRANSFORM "+k)
			delete(a.Transforms, k)
		}
	}
	for _, k := range sortedKeys(a.Conversions) {
		x, bx := a.Conversions[k], b.Conversions[k]
		if bx == nil || g.conversionChanged(x, bx) {
			why := " (added by the up)"
			if bx != nil {
				why = " to create it again as it was"
			}
			g.add("drop conversion "+display(k)+why, "DROP CONVERSION "+qkey(k))
			delete(a.Conversions, k)
		}
	}
	for _, k := range sortedKeys(a.AccessMethods) {
		x, bx := a.AccessMethods[k], b.AccessMethods[k]
		switch {
		case bx == nil:
			g.add("drop access method "+k+" (added by the up)", "DROP ACCESS METHOD "+Ident(k))
			delete(a.AccessMethods, k)
		case x.Type != bx.Type || !g.sameText(x.Handler, bx.Handler):
			g.irreversible(fmt.Sprintf("not restored: access method %s %s, was %s (drop it and create it again, with what uses it)",
				k, accessMethodSummary(x), accessMethodSummary(bx)))
		}
	}
}

// languageClause matches the LANGUAGE line pg_get_functiondef writes.
var languageClause = regexp.MustCompile(`(?m)^ LANGUAGE (\S+)$`)

// functionLanguage is the language of a function as its definition names it ("" if it names none).
func functionLanguage(f *Function) string {
	m := languageClause.FindStringSubmatch(f.Definition)
	if m == nil {
		return ""
	}
	return strings.Trim(m[1], `"`)
}

// addedLanguage tells whether f is written in a language the up added.
func (g *downGen) addedLanguage(f *Function) bool {
	l := functionLanguage(f)
	return l != "" && g.a.Languages[l] != nil && g.b.Languages[l] == nil
}

// addedLanguages are the languages of the after-catalog the before-catalog lacks, quoted, for dropTypes.
func (g *downGen) addedLanguages() []string {
	var out []string
	for _, k := range sortedKeys(g.a.Languages) {
		if g.b.Languages[k] == nil {
			out = append(out, Ident(k))
		}
	}
	return out
}

// languageFunctions are the keys of the functions of the before-catalog that a language it must create
// again calls (handler, inline handler, validator): the functions written in it come after them.
func (g *downGen) languageFunctions(f *Function) []string {
	l := functionLanguage(f)
	bl := g.b.Languages[l]
	if l == "" || bl == nil || g.a.Languages[l] != nil {
		return nil
	}
	var out []string
	for _, ref := range []string{bl.Handler, bl.Inline, bl.Validator} {
		if ref == "" {
			continue
		}
		// ref is regproc's text: SQL's quoting, which reads as a key's
		parts := SplitKey(ref)
		s, n := "", parts[len(parts)-1]
		if len(parts) > 1 {
			s = parts[0]
		}
		for k, x := range g.b.Functions {
			if x.Name == n && (s == "" || x.Schema == s) {
				out = append(out, k)
			}
		}
	}
	return out
}

// createLanguageFor creates again, before function f, the language f is written in when the up dropped
// it (once).
func (g *downGen) createLanguageFor(f *Function) {
	l := functionLanguage(f)
	if bl := g.b.Languages[l]; l != "" && bl != nil && g.a.Languages[l] == nil && !g.wasCreated(KindLanguage, l) {
		g.createLanguage(bl)
	}
}

func (g *downGen) createLanguage(bl *Language) {
	g.add("re-create language "+bl.Name, createLanguageSQL(bl, false))
	g.markCreated(KindLanguage, bl.Name)
}

func createLanguageSQL(x *Language, replace bool) string {
	s := "CREATE "
	if replace {
		s += "OR REPLACE "
	}
	if x.Trusted {
		s += "TRUSTED "
	}
	return s + "LANGUAGE " + Ident(x.Name) + " " + languageSummary(x)
}

// createProcedural creates again the languages, access methods, conversions and transforms of the
// before-catalog the after-catalog lacks (or that dropProcedural dropped), takes back the handlers of a
// language and the functions of a transform, and restores their owners, privileges and comments.
func (g *downGen) createProcedural() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.Languages) {
		bx, x := b.Languages[k], a.Languages[k]
		fresh := x == nil
		switch {
		case x == nil && !g.wasCreated(KindLanguage, k):
			g.createLanguage(bx)
		case x != nil && (x.Trusted != bx.Trusted || !g.sameText(languageSummary(x), languageSummary(bx))):
			g.add("restore the handlers of language "+k, createLanguageSQL(bx, true))
		}
		if fresh {
			x = &Language{}
		}
		g.access(KindLanguage, k, "LANGUAGE", Ident(k), bx.Access, x.Access, fresh)
		if x.Comment != bx.Comment {
			g.add("restore the comment on language "+k, commentSQL("LANGUAGE "+Ident(k), bx.Comment))
		}
	}
	for _, k := range sortedKeys(b.AccessMethods) {
		bx, x := b.AccessMethods[k], a.AccessMethods[k]
		if x == nil {
			g.add("re-create access method "+k, "CREATE ACCESS METHOD "+Ident(k)+" "+accessMethodSummary(bx))
			x = &AccessMethod{}
		}
		if x.Comment != bx.Comment {
			g.add("restore the comment on access method "+k, commentSQL("ACCESS METHOD "+Ident(k), bx.Comment))
		}
	}
	for _, k := range sortedKeys(b.Conversions) {
		bx, x := b.Conversions[k], a.Conversions[k]
		fresh := x == nil
		if fresh {
			word := "CONVERSION "
			if bx.Default {
				word = "DEFAULT CONVERSION "
			}
			g.add("re-create conversion "+display(k), "CREATE "+word+qkey(k)+" "+conversionSummary(bx))
			x = &Conversion{}
		}
		g.ownerAndComment(KindConversion, k, "CONVERSION", qkey(k), bx.Owner, x.Owner, bx.Comment, x.Comment, fresh)
	}
	for _, k := range sortedKeys(b.Transforms) {
		bx, x := b.Transforms[k], a.Transforms[k]
		switch {
		case x == nil:
			g.add("re-create transform "+k, "CREATE TRANSFORM "+k+" "+transformSummary(bx))
			x = &Transform{}
		case !g.sameText(transformSummary(x), transformSummary(bx)):
			g.add("restore the functions of transform "+k, "CREATE OR REPLACE TRANSFORM "+k+" "+transformSummary(bx))
		}
		if x.Comment != bx.Comment {
			g.add("restore the comment on transform "+k, commentSQL("TRANSFORM "+k, bx.Comment))
		}
	}
}
