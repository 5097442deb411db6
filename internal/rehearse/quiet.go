package rehearse

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// quietHistory is what a run replays of ms, migrations databases already ran (the history, or those
// before a rollback's target), so that their subscriptions connect nowhere: a copy of each migration
// whose up has a subscription statement that would connect, with that statement rewritten or left out,
// and a note for the report of each such migration. The others are ms's own.
//
// A rehearsal must not touch the servers a migration names (see networkReach), and history cannot be
// rewritten by its authors: its checksums are deployed. Replayed as written, a CREATE SUBSCRIPTION
// fails on a server without network and is refused on one with network, and no pull request could be
// rehearsed. Replayed quietly, the subscription exists, disabled and without a replication slot, as
// CREATE SUBSCRIPTION … WITH (connect = false, slot_name = NONE) makes it:
//   - CREATE SUBSCRIPTION gets connect = false and slot_name = NONE (and loses create_slot, enabled
//     and copy_data, which connect = false forbids);
//   - ALTER SUBSCRIPTION … ENABLE and REFRESH PUBLICATION are left out (a subscription without a slot
//     cannot be enabled; a disabled one cannot be refreshed);
//   - ALTER SUBSCRIPTION … SET, ADD or DROP PUBLICATION gets refresh = false;
//   - ALTER SUBSCRIPTION … SET (slot_name = …) loses its slot_name, so that DROP SUBSCRIPTION has no
//     slot to drop on the publisher.
//
// What connects in other ways (dblink, IMPORT FOREIGN SCHEMA, a foreign table read) cannot be replayed
// without the server it reads; it stays, and fails or is refused.
func quietHistory(ms []*migrate.Migration) ([]*migrate.Migration, []string) {
	out := ms
	var notes []string
	for i, m := range ms {
		up, changes := quietScript(m.Up)
		if len(changes) == 0 {
			continue
		}
		if len(notes) == 0 {
			out = slices.Clone(ms)
		}
		c := *m
		c.Up = up
		out[i] = &c
		notes = append(notes, fmt.Sprintf("history migration %s was replayed without connecting to a publisher: %s (the rehearsal never touches the servers a migration names)",
			m.ID(), strings.Join(changes, "; ")))
	}
	return out, notes
}

// quietScript is s with its subscription statements quieted (see quietHistory), and what changed, one
// entry per statement; s itself when nothing did.
func quietScript(s *migrate.Script) (*migrate.Script, []string) {
	if s == nil {
		return s, nil
	}
	var changes []string
	var sts []sqlparse.Statement
	for i, st := range s.Statements {
		n, what := quietStatement(st.Node)
		if what == "" {
			if changes != nil {
				sts = append(sts, st)
			}
			continue
		}
		if changes == nil {
			sts = slices.Clone(s.Statements[:i])
		}
		changes = append(changes, fmt.Sprintf("%s:%d: %s", s.File, st.Pos.Line, what))
		if n == nil {
			continue // left out
		}
		sql, err := pg_query.Deparse(&pg_query.ParseResult{Version: parserVersion(), Stmts: []*pg_query.RawStmt{{Stmt: n}}})
		if err != nil {
			// Not expected of the statements quietStatement makes; then it runs as written.
			changes = changes[:len(changes)-1]
			sts = append(sts, st)
			continue
		}
		st.SQL, st.Node = sql, n
		sts = append(sts, st)
	}
	if changes == nil {
		return s, nil
	}
	c := *s
	c.Statements = sts
	return &c, changes
}

// quietStatement is n quieted (see quietHistory), a copy, with what changed; nil for a statement left
// out; what is "" when n stays as it is.
func quietStatement(n *pg_query.Node) (*pg_query.Node, string) {
	switch {
	case n.GetCreateSubscriptionStmt() != nil:
		c := n.GetCreateSubscriptionStmt()
		if !sqlparse.OptionBool(c.Options, "connect", true) && strings.EqualFold(defString(c.Options, "slot_name"), "none") {
			return n, ""
		}
		q := proto.Clone(n).(*pg_query.Node)
		qc := q.GetCreateSubscriptionStmt()
		qc.Options = append(withoutDefs(qc.Options, "connect", "enabled", "create_slot", "copy_data", "slot_name"),
			stringDef("connect", "false"), stringDef("slot_name", "none"))
		return q, "CREATE SUBSCRIPTION " + c.Subname + " ran WITH (connect = false, slot_name = NONE)"
	case n.GetAlterSubscriptionStmt() != nil:
		a := n.GetAlterSubscriptionStmt()
		switch a.Kind {
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_ENABLED:
			if sqlparse.OptionBool(a.Options, "enabled", true) {
				return nil, "ALTER SUBSCRIPTION " + a.Subname + " ENABLE was left out"
			}
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_REFRESH:
			return nil, "ALTER SUBSCRIPTION " + a.Subname + " REFRESH PUBLICATION was left out"
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_OPTIONS:
			if !hasDef(a.Options, "slot_name") {
				return n, ""
			}
			rest := withoutDefs(a.Options, "slot_name")
			if len(rest) == 0 {
				return nil, "ALTER SUBSCRIPTION " + a.Subname + " SET (slot_name = …) was left out"
			}
			q := proto.Clone(n).(*pg_query.Node)
			q.GetAlterSubscriptionStmt().Options = withoutDefs(q.GetAlterSubscriptionStmt().Options, "slot_name")
			return q, "ALTER SUBSCRIPTION " + a.Subname + " SET ran without its slot_name"
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_SET_PUBLICATION, pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_ADD_PUBLICATION, pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_DROP_PUBLICATION:
			if !sqlparse.OptionBool(a.Options, "refresh", true) {
				return n, ""
			}
			q := proto.Clone(n).(*pg_query.Node)
			qa := q.GetAlterSubscriptionStmt()
			qa.Options = append(withoutDefs(qa.Options, "refresh", "copy_data"), stringDef("refresh", "false"))
			return q, "ALTER SUBSCRIPTION " + a.Subname + " … PUBLICATION ran WITH (refresh = false)"
		}
	}
	return n, ""
}

// parserVersion is the version of the parse trees pg_query makes, which its deparser checks.
var parserVersion = sync.OnceValue(func() int32 {
	r, _ := pg_query.Parse("SELECT")
	return r.GetVersion()
})

// withoutDefs is options without those named one of names (a new slice).
func withoutDefs(options []*pg_query.Node, names ...string) []*pg_query.Node {
	var out []*pg_query.Node
	for _, o := range options {
		if d := o.GetDefElem(); d != nil && slices.Contains(names, d.Defname) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// stringDef is the option name = 'value'.
func stringDef(name, value string) *pg_query.Node {
	return pg_query.MakeSimpleDefElemNode(name, pg_query.MakeStrNode(value), -1)
}
