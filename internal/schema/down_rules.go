package schema

import (
	"fmt"
	"slices"
	"strings"
)

// A view's rules (other than _RETURN, its definition) are restored around the view, not with the
// table rules in properties: a rule holds what it names (INSERT INTO t2), so one the up added must go
// before dropTablesAndColumns drops such a table, and one the up dropped can come back only once the view
// and the tables it names are there again (createDependents).

// dropViewRules drops, on the views the down keeps, the rules the up added or changed. A view the down
// drops takes its rules with it.
func (g *downGen) dropViewRules() {
	for _, k := range sortedKeys(g.a.Views) {
		v, bv := g.a.Views[k], g.b.Views[k]
		if bv == nil || g.dropViews[k] || v.Rules == bv.Rules {
			continue
		}
		have, want := defsByName(v.Rules, ruleName), defsByName(bv.Rules, ruleName)
		for _, n := range slices.Sorted(mapKeys(have)) {
			if want[n] != have[n] {
				g.add(fmt.Sprintf("drop the rule %s the up put on view %s", n, display(k)), "DROP RULE "+n+" ON "+qkey(k))
			}
		}
	}
}

// createViewRules creates again the rules of the before-catalog's views that the up dropped or changed,
// and all those of a view the down created again.
func (g *downGen) createViewRules() {
	for _, k := range sortedKeys(g.b.Views) {
		bv, v := g.b.Views[k], g.a.Views[k]
		if bv.Rules == "" {
			continue
		}
		have := map[string]string{}
		if v != nil && !g.wasCreated(kindOfView(bv), k) {
			have = defsByName(v.Rules, ruleName)
		}
		want := defsByName(bv.Rules, ruleName)
		for _, n := range slices.Sorted(mapKeys(want)) {
			if have[n] != want[n] {
				g.add(fmt.Sprintf("create the rule %s on view %s again", n, display(k)), strings.TrimSuffix(want[n], ";"))
				g.markCreated(KindRule, subKey(k, unquote(n)))
			}
		}
	}
}

// viewRuleComments restores the comments on the rules of the before-catalog's views: those the down
// created again start with none.
func (g *downGen) viewRuleComments(restore func(kind, key, target, want string, have *string)) {
	for _, k := range sortedKeys(g.b.Views) {
		bv, v := g.b.Views[k], g.a.Views[k]
		for _, n := range slices.Sorted(mapKeys(defsByName(bv.Rules, ruleName))) {
			name := unquote(n)
			var have *string
			if v != nil {
				c := v.RuleComments[name]
				have = &c
			}
			restore(KindRule, subKey(k, name), "RULE "+n+" ON "+qkey(k), bv.RuleComments[name], have)
		}
	}
}
