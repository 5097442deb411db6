package schema

import (
	"fmt"
	"strings"
)

// comments restores the comments of the before-catalog on objects the down re-created or whose
// comment the up changed.
func (g *downGen) comments() {
	a, b := g.a, g.b
	restore := func(kind, key, target, want string, have *string) {
		if g.wasCreated(kind, key) {
			if want != "" {
				g.add(fmt.Sprintf("restore the comment on %s %s", kind, display(key)), commentSQL(target, want))
			}
			return
		}
		if have != nil && *have != want {
			g.add(fmt.Sprintf("restore the comment on %s %s", kind, display(key)), commentSQL(target, want))
		}
	}
	for _, k := range sortedKeys(b.Schemas) {
		x := b.Schemas[k]
		var have *string
		if ax := a.Schemas[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindSchema, k, "SCHEMA "+Ident(k), x.Comment, have)
	}
	for _, k := range sortedKeys(b.Extensions) {
		x := b.Extensions[k]
		var have *string
		if ax := a.Extensions[k]; ax != nil {
			have = &ax.Comment
		}
		if g.wasCreated(KindExtension, k) {
			continue // the extension's own script sets its comment
		}
		restore(KindExtension, k, "EXTENSION "+Ident(k), x.Comment, have)
	}
	for _, k := range sortedKeys(b.Tables) {
		t := b.Tables[k]
		at := a.Tables[k]
		var have *string
		if at != nil {
			have = &at.Comment
		}
		restore(t.kind(), k, strings.ToUpper(t.kind())+" "+qkey(k), t.Comment, have)
		for _, c := range t.Columns {
			var have *string
			if at != nil {
				if ac := at.Column(c.Name); ac != nil {
					have = &ac.Comment
				}
			}
			restore(KindColumn, subKey(k, c.Name), "COLUMN "+columnTarget(k, c.Name), c.Comment, have)
		}
	}
	for _, k := range sortedKeys(b.Views) {
		v := b.Views[k]
		var have *string
		if av := a.Views[k]; av != nil {
			have = &av.Comment
		}
		word := "VIEW "
		if v.Materialized {
			word = "MATERIALIZED VIEW "
		}
		restore(kindOfView(v), k, word+qkey(k), v.Comment, have)
	}
	g.ruleComments(restore)
	for _, k := range sortedKeys(b.Sequences) {
		var have *string
		if ax := a.Sequences[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindSequence, k, "SEQUENCE "+qkey(k), b.Sequences[k].Comment, have)
	}
	for _, k := range sortedKeys(b.Indexes) {
		x := b.Indexes[k]
		var have *string
		if ax := a.Indexes[k]; ax != nil {
			have = &ax.Comment
		}
		if x.Constraint != "" && g.wasCreated(KindConstraint, subKey(x.QTable(), x.Constraint)) {
			g.markCreated(KindIndex, k)
		}
		restore(KindIndex, k, "INDEX "+qkey(k), x.Comment, have)
	}
	for _, k := range sortedKeys(b.Constraints) {
		x := b.Constraints[k]
		var have *string
		if ax := a.Constraints[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindConstraint, k, "CONSTRAINT "+Ident(x.Name)+" ON "+constraintOwner(x), x.Comment, have)
	}
	for _, k := range sortedKeys(b.Triggers) {
		x := b.Triggers[k]
		var have *string
		if ax := a.Triggers[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindTrigger, k, "TRIGGER "+Ident(x.Name)+" ON "+QIdent(x.Schema, x.Table), x.Comment, have)
	}
	for _, k := range sortedKeys(b.Functions) {
		f := b.Functions[k]
		var have *string
		if af := a.Functions[k]; af != nil {
			have = &af.Comment
		}
		restore(f.kindName(), k, functionRef(f), f.Comment, have)
	}
	for _, k := range sortedKeys(b.Enums) {
		var have *string
		if ax := a.Enums[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindEnum, k, "TYPE "+qkey(k), b.Enums[k].Comment, have)
	}
	for _, k := range sortedKeys(b.Domains) {
		var have *string
		if ax := a.Domains[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindDomain, k, "DOMAIN "+qkey(k), b.Domains[k].Comment, have)
	}
	bRanges, aRanges := rangeTypes(b), rangeTypes(a)
	for _, k := range sortedKeys(bRanges) {
		var have *string
		if ax := aRanges[k]; ax != nil {
			have = &ax.Comment
		}
		restore(KindRange, k, "TYPE "+qkey(k), bRanges[k].Comment, have)
	}
	for _, k := range sortedKeys(b.Composites) {
		x, ax := b.Composites[k], a.Composites[k]
		var have *string
		if ax != nil {
			have = &ax.Comment
		}
		restore(KindComposite, k, "TYPE "+qkey(k), x.Comment, have)
		for _, at := range x.Attributes {
			var had *string
			if ax != nil {
				for _, aa := range ax.Attributes {
					if aa.Name == at.Name {
						had = &aa.Comment
					}
				}
			}
			restore(KindComposite, k, "COLUMN "+qkey(k)+"."+Ident(at.Name), at.Comment, had)
		}
	}
	g.textSearchComments(restore)
	g.shellTypeNotes(restore)
	g.publicationComments(restore)
}
