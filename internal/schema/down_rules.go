package schema

import (
	"fmt"
	"slices"
	"strings"
)

// Rules (a view's other than _RETURN, its definition) are restored around the relations, not with the
// other properties at the end: a rule holds what it names (INSERT INTO t2, old.b, a view), so one the up
// added must go before dropTablesAndColumns drops such a table or column and dropDependents such a
// view, and one the up dropped can come back only once its relation and what it names are there again
// (createDependents).

// dropTableRules drops, on the tables the down keeps, the rules the up added or changed. A table the
// down drops (or drops to create again as another kind) takes its rules with it.
func (g *downGen) dropTableRules() {
	for _, k := range sortedKeys(g.a.Tables) {
		t, bt := g.a.Tables[k], g.b.Tables[k]
		if bt == nil || g.replacedTable(k) || t.Rules == bt.Rules {
			continue
		}
		g.dropRules("table", k, t.Rules, bt.Rules)
	}
}

// dropViewRules drops, on the views the down keeps, the rules the up added or changed. A view the down
// drops takes its rules with it.
func (g *downGen) dropViewRules() {
	for _, k := range sortedKeys(g.a.Views) {
		v, bv := g.a.Views[k], g.b.Views[k]
		if bv == nil || g.dropViews[k] || v.Rules == bv.Rules {
			continue
		}
		g.dropRules("view", k, v.Rules, bv.Rules)
	}
}

// dropRules drops the rules of have (the relation k's after the up) that want (before it) does not
// hold as they are.
func (g *downGen) dropRules(word, k, have, want string) {
	haveDefs, wantDefs := defsByName(have, ruleName), defsByName(want, ruleName)
	for _, n := range slices.Sorted(mapKeys(haveDefs)) {
		if wantDefs[n] != haveDefs[n] {
			g.add(fmt.Sprintf("drop the rule %s the up put on %s %s", n, word, display(k)), "DROP RULE "+n+" ON "+qkey(k))
		}
	}
}

// createTableRules creates again the rules of the before-catalog's tables that the up dropped or
// changed, and all those of a table the down created again, then puts each back in its state. It runs
// after the views, which a rule may write to.
func (g *downGen) createTableRules() {
	for _, k := range sortedKeys(g.b.Tables) {
		bt, t := g.b.Tables[k], g.a.Tables[k]
		kept := t != nil && !g.wasCreated(KindTable, k)
		have := ""
		if kept {
			have = t.Rules
		}
		g.createRules("table", k, have, bt.Rules)
		for _, n := range slices.Sorted(mapKeys(defsByName(bt.Rules, ruleName))) {
			name := unquote(n)
			// A rule created again fires as enabled, whatever state the up's CREATE OR REPLACE RULE kept.
			had := ""
			if kept && !g.wasCreated(KindRule, subKey(k, name)) {
				had = t.RuleStates[name]
			}
			if want := bt.RuleStates[name]; want != had {
				g.add(fmt.Sprintf("put the rule %s on table %s back to %s", n, display(k), ruleState(want)),
					"ALTER TABLE "+qkey(k)+" "+ruleStateVerb(want)+" RULE "+n)
			}
		}
	}
}

// ruleStateVerb is the ALTER TABLE action that gives a rule the state Table.RuleStates holds.
func ruleStateVerb(state string) string {
	switch state {
	case "disabled":
		return "DISABLE"
	case "enabled always":
		return "ENABLE ALWAYS"
	case "enabled replica":
		return "ENABLE REPLICA"
	}
	return "ENABLE"
}

// createViewRules creates again the rules of the before-catalog's views that the up dropped or changed,
// and all those of a view the down created again.
func (g *downGen) createViewRules() {
	for _, k := range sortedKeys(g.b.Views) {
		bv, v := g.b.Views[k], g.a.Views[k]
		have := ""
		if v != nil && !g.wasCreated(kindOfView(bv), k) {
			have = v.Rules
		}
		g.createRules("view", k, have, bv.Rules)
	}
}

// createRules creates the rules of want (the relation k's before the up) that have (what the down
// left of them) does not hold as they are, marked created so that their comments come back.
func (g *downGen) createRules(word, k, have, want string) {
	if want == "" {
		return
	}
	haveDefs, wantDefs := defsByName(have, ruleName), defsByName(want, ruleName)
	for _, n := range slices.Sorted(mapKeys(wantDefs)) {
		if haveDefs[n] != wantDefs[n] {
			g.add(fmt.Sprintf("create the rule %s on %s %s again", n, word, display(k)), strings.TrimSuffix(wantDefs[n], ";"))
			g.markCreated(KindRule, subKey(k, unquote(n)))
		}
	}
}

// ruleComments restores the comments on the rules of the before-catalog's tables and views: those the
// down created again start with none.
func (g *downGen) ruleComments(restore func(kind, key, target, want string, have *string)) {
	comments := func(k, rules string, want, have map[string]string, kept bool) {
		for _, n := range slices.Sorted(mapKeys(defsByName(rules, ruleName))) {
			name := unquote(n)
			var had *string
			if kept {
				c := have[name]
				had = &c
			}
			restore(KindRule, subKey(k, name), "RULE "+n+" ON "+qkey(k), want[name], had)
		}
	}
	for _, k := range sortedKeys(g.b.Tables) {
		bt, t := g.b.Tables[k], g.a.Tables[k]
		var have map[string]string
		if t != nil {
			have = t.RuleComments
		}
		comments(k, bt.Rules, bt.RuleComments, have, t != nil)
	}
	for _, k := range sortedKeys(g.b.Views) {
		bv, v := g.b.Views[k], g.a.Views[k]
		var have map[string]string
		if v != nil {
			have = v.RuleComments
		}
		comments(k, bv.Rules, bv.RuleComments, have, v != nil)
	}
}
