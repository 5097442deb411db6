package schema

import (
	"fmt"
	"slices"
)

// This file writes what a generated down does for event triggers. Those the up added or changed are
// dropped first, so that they do not fire on the down's own commands; those of the before-catalog are
// created again last, once the functions they call are back and nothing of the down is left to run.

// eventTriggerRenames undoes renames of event triggers, recognised by OID.
func (g *downGen) eventTriggerRenames() {
	a, b := g.a, g.b
	movedByOID(a.EventTriggers, b.EventTriggers, func(x *EventTrigger) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *EventTrigger) {
			g.add(fmt.Sprintf("rename event trigger %s back to %s", x.Name, bx.Name),
				"ALTER EVENT TRIGGER "+Ident(x.Name)+" RENAME TO "+Ident(bx.Name))
			delete(a.EventTriggers, ak)
			x.Name = bx.Name
			a.EventTriggers[bk] = x
		})
}

// eventTriggerChanged tells whether an event trigger must be dropped and created again: what it fires
// on and what it calls cannot be altered.
func eventTriggerChanged(x, bx *EventTrigger) bool {
	return x.Event != bx.Event || !slices.Equal(x.Tags, bx.Tags) || x.Function != bx.Function
}

// dropEventTriggers drops the event triggers of the after-catalog that the before-catalog does not
// have, or has firing on other commands or calling another function.
func (g *downGen) dropEventTriggers() {
	for _, k := range sortedKeys(g.a.EventTriggers) {
		x, bx := g.a.EventTriggers[k], g.b.EventTriggers[k]
		switch {
		case bx == nil:
			g.add("drop event trigger "+x.Name+" (added by the up)", "DROP EVENT TRIGGER "+Ident(x.Name))
		case eventTriggerChanged(x, bx):
			g.add("drop event trigger "+x.Name+" to create it again as it was", "DROP EVENT TRIGGER "+Ident(x.Name))
			delete(g.a.EventTriggers, k)
		}
	}
}

// eventTriggers creates again the event triggers of the before-catalog the down dropped, and restores
// the state, owner and comment of each.
func (g *downGen) eventTriggers() {
	for _, k := range sortedKeys(g.b.EventTriggers) {
		bx, x := g.b.EventTriggers[k], g.a.EventTriggers[k]
		fresh := x == nil
		if fresh {
			g.add("re-create event trigger "+bx.Name, "CREATE EVENT TRIGGER "+Ident(bx.Name)+" "+eventTriggerSummary(bx))
			x = &EventTrigger{Enabled: "O"}
		}
		if x.Enabled != bx.Enabled {
			g.add("restore the enabled state of event trigger "+bx.Name, eventTriggerEnableSQL(bx))
		}
		have := ""
		if !fresh {
			have = x.Owner
		}
		g.ownerAs(KindEventTrigger, k, "EVENT TRIGGER", Ident(bx.Name), bx.Owner, have, fresh)
		if x.Comment != bx.Comment {
			g.add("restore the comment on event trigger "+bx.Name, commentSQL("EVENT TRIGGER "+Ident(bx.Name), bx.Comment))
		}
	}
}

func eventTriggerEnableSQL(x *EventTrigger) string {
	verb := map[string]string{"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[x.Enabled]
	if verb == "" {
		verb = "ENABLE"
	}
	return "ALTER EVENT TRIGGER " + Ident(x.Name) + " " + verb
}
