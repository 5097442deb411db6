package rehearse

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// ErrNetwork marks migrations that would make a rehearsal server that can reach the network connect to
// the servers they name, or run a program (which may connect anywhere).
var ErrNetwork = errors.New("the migrations connect to other servers or run programs")

// networkReach refuses, before anything runs, the statements that make the server connect to another
// server, when the rehearsal's server can reach the network: a docker container, or the local
// provider's server where no network namespace may be created (inst.Network). A rehearsal must not
// touch the servers a migration names: CREATE SUBSCRIPTION creates a replication slot on the publisher
// (production's, from a runner that reaches it), and the slot keeps its WAL for good; dblink_exec writes
// there. The url provider refuses these with the rest of what changes a shared server
// (sharedServerChanges). On a server without network they run, and fail with a connection error (see
// networkHint).
//
// It refuses as well the statements that make the server run a program (runsProgram: COPY … PROGRAM,
// a file_fdw foreign table's program, a function in an untrusted language or C): the program reaches
// whatever the network reaches (COPY … FROM PROGRAM 'curl …'), and which servers it names no parse
// tree shows.
//
// What the parse trees cannot show is not caught here: a function that calls dblink or reads a foreign
// table, a materialized view over one refreshed.
//
// scripts are those the run may run, in order: the setup scripts, what it replays (quieted: see
// quietHistory), then the migrations it rehearses, each one's up, verify and down (see rehearsalOrder).
func networkReach(inst *sandbox.Instance, provider string, scripts []*migrate.Script) error {
	if inst.Network == sandbox.NetworkNone || provider == "url" {
		return nil
	}
	st := newReach()
	var connects, programs bool
	found := statementsThat(scripts, func(s *sqlparse.Statement) string {
		// connects first, for every statement: it follows the subscriptions and foreign tables made.
		if what := st.connects(s.Node, s.SQL); what != "" {
			connects = true
			return what
		}
		if what := runsProgram(s.Node, s.SQL); what != "" {
			programs = true
			return what
		}
		return ""
	})
	if len(found) == 0 {
		return nil
	}
	where := "the container's network"
	if inst.Network == sandbox.NetworkShared {
		where = "the network schemagate runs in: no network namespace may be created here"
	}
	var advice []string
	if connects {
		advice = append(advice, "a rehearsal must not touch the servers a migration names. Create a subscription WITH (connect = false, slot_name = NONE), and give it its slot and enable it when the deploy is done")
	}
	if programs {
		advice = append(advice, "a program the server runs reaches whatever the network reaches, and a rehearsal must not. Load data with COPY … FROM STDIN or INSERT, and leave programs, file_fdw's program option and functions in untrusted languages out of migrations")
	}
	return fmt.Errorf("%w, and the rehearsal's server (%s provider) can reach the network (%s):\n  %s\n"+
		"hint: %s; "+
		"or rehearse with --provider local as root (outside a container) or where unprivileged user namespaces are allowed: its server then runs without network, and such a statement fails with a connection error",
		ErrNetwork, provider, where, strings.Join(found, "\n  "), strings.Join(advice, "; "))
}

// reach is what the statements so far made that later ones connect through: subscriptions, foreign
// servers (their wrapper) and foreign tables (their server).
type reach struct {
	subs    map[string]subscription
	servers map[string]string
	tables  map[string]string // by name, schema left out: a reference of the name counts
}

func newReach() *reach {
	return &reach{subs: map[string]subscription{}, servers: map[string]string{}, tables: map[string]string{}}
}

// subscription is what a run knows of a subscription its statements made: whether it is enabled (its
// worker connects to the publisher) and whether it has a replication slot (DROP SUBSCRIPTION connects
// to drop it).
type subscription struct{ enabled, slot bool }

// dblinkCall is a call of a dblink function that may open a connection.
var dblinkCall = regexp.MustCompile(`(?i)\bdblink(?:_connect(?:_u)?|_exec|_open|_fetch|_close|_send_query)?\s*\(`)

// subscriptionWords, in code the server runs from text, name a subscription statement or a foreign
// schema import.
var subscriptionWords = regexp.MustCompile(`(?is)\b(?:(?:create|alter|drop)\b[\s'"|+,()]*\bsubscription|import\s+foreign\s+schema)\b`)

// connects says how a statement makes the server connect to another server, "" when it does not. It
// keeps what st knows up to date. A subscription it has not seen made may be enabled and have a slot; a
// foreign server it has not seen made may connect (every wrapper but file_fdw does).
func (st *reach) connects(n *pg_query.Node, sql string) string {
	subs := st.subs
	switch {
	case n.GetCreateSubscriptionStmt() != nil:
		c := n.GetCreateSubscriptionStmt()
		connect := sqlparse.OptionBool(c.Options, "connect", true)
		sub := subscription{enabled: connect && sqlparse.OptionBool(c.Options, "enabled", true), slot: !strings.EqualFold(defString(c.Options, "slot_name"), "none")}
		subs[c.Subname] = sub
		if connect {
			return "CREATE SUBSCRIPTION " + c.Subname + " connects to its publisher (and creates a replication slot there, unless create_slot = false)"
		}
	case n.GetAlterSubscriptionStmt() != nil:
		a := n.GetAlterSubscriptionStmt()
		sub, known := subs[a.Subname]
		if !known {
			sub = subscription{enabled: true, slot: true}
		}
		what := ""
		switch a.Kind {
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_ENABLED:
			sub.enabled = sqlparse.OptionBool(a.Options, "enabled", true)
			if sub.enabled {
				what = "ALTER SUBSCRIPTION " + a.Subname + " ENABLE starts its worker, which connects to the publisher"
			}
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_OPTIONS:
			if hasDef(a.Options, "slot_name") {
				sub.slot = !strings.EqualFold(defString(a.Options, "slot_name"), "none")
			}
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_CONNECTION:
			if sub.enabled {
				what = "ALTER SUBSCRIPTION " + a.Subname + " CONNECTION restarts the worker of an enabled subscription, which connects to the publisher"
			}
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_REFRESH:
			what = "ALTER SUBSCRIPTION " + a.Subname + " REFRESH PUBLICATION connects to the publisher"
		case pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_SET_PUBLICATION, pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_ADD_PUBLICATION, pg_query.AlterSubscriptionType_ALTER_SUBSCRIPTION_DROP_PUBLICATION:
			if sqlparse.OptionBool(a.Options, "refresh", true) {
				what = "ALTER SUBSCRIPTION " + a.Subname + " … PUBLICATION refreshes it from the publisher, which connects there (WITH (refresh = false) does not)"
			}
		}
		subs[a.Subname] = sub
		return what
	case n.GetDropSubscriptionStmt() != nil:
		d := n.GetDropSubscriptionStmt()
		sub, known := subs[d.Subname]
		delete(subs, d.Subname)
		if !known || sub.slot {
			return "DROP SUBSCRIPTION " + d.Subname + " connects to the publisher to drop its replication slot (ALTER SUBSCRIPTION … DISABLE and SET (slot_name = NONE) first do not)"
		}
	case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_SUBSCRIPTION:
		r := n.GetRenameStmt()
		old := r.Object.GetString_().GetSval()
		if sub, known := subs[old]; known {
			delete(subs, old)
			subs[r.Newname] = sub
		}
	case n.GetCreateForeignServerStmt() != nil:
		c := n.GetCreateForeignServerStmt()
		st.servers[c.Servername] = c.Fdwname
	case n.GetCreateForeignTableStmt() != nil:
		c := n.GetCreateForeignTableStmt()
		if rv := c.BaseStmt.GetRelation(); rv != nil {
			st.tables[rv.Relname] = c.Servername
		}
	case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_FOREIGN_SERVER:
		r := n.GetRenameStmt()
		old := r.Object.GetString_().GetSval()
		if w, known := st.servers[old]; known {
			delete(st.servers, old)
			st.servers[r.Newname] = w
		}
		for t, srv := range st.tables {
			if srv == old {
				st.tables[t] = r.Newname
			}
		}
	case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_FOREIGN_TABLE && n.GetRenameStmt().Relation != nil && n.GetRenameStmt().Subname == "":
		r := n.GetRenameStmt()
		if srv, known := st.tables[r.Relation.Relname]; known {
			delete(st.tables, r.Relation.Relname)
			st.tables[r.Newname] = srv
		}
	case n.GetDropStmt() != nil && n.GetDropStmt().RemoveType == pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
		for _, o := range n.GetDropStmt().Objects {
			if l := o.GetList(); l != nil && len(l.Items) > 0 {
				delete(st.tables, l.Items[len(l.Items)-1].GetString_().GetSval())
			}
		}
	case n.GetSelectStmt() != nil, n.GetInsertStmt() != nil, n.GetUpdateStmt() != nil, n.GetDeleteStmt() != nil,
		n.GetMergeStmt() != nil, n.GetCopyStmt() != nil, n.GetCreateTableAsStmt() != nil, n.GetVacuumStmt() != nil, n.GetExplainStmt() != nil:
		if what := st.foreignRead(n); what != "" {
			return what
		}
	case n.GetImportForeignSchemaStmt() != nil:
		return "IMPORT FOREIGN SCHEMA connects to foreign server " + n.GetImportForeignSchemaStmt().ServerName + " to read its tables"
	case n.GetCreateFunctionStmt() != nil:
		return "" // a body runs when it is called, which the parse trees do not show
	}
	if m := dblinkCall.FindString(sql); m != "" {
		return collapse(m) + ") connects to the server its connection string names"
	}
	if n.GetDoStmt() != nil {
		if m := subscriptionWords.FindString(sql); m != "" {
			return fmt.Sprintf("a DO block mentions %q, which connects to another server", collapse(m))
		}
	}
	return ""
}

// foreignRead says which foreign table a query reads or writes whose server connects, "" for none.
func (st *reach) foreignRead(n *pg_query.Node) string {
	if len(st.tables) == 0 {
		return "" // no walk of every query's tree (a seed migration's thousands of INSERTs) for nothing
	}
	var what string
	sqlparse.Walk(n.ProtoReflect(), func(rv *pg_query.RangeVar) {
		srv, foreign := st.tables[rv.Relname]
		if what != "" || !foreign {
			return
		}
		w, known := st.servers[srv]
		switch {
		case !known:
			what = fmt.Sprintf("a statement on foreign table %s of server %s connects to the server (a wrapper other than file_fdw does)", rv.Relname, srv)
		case w != "file_fdw":
			what = fmt.Sprintf("a statement on foreign table %s of server %s (%s) connects to the server", rv.Relname, srv, w)
		}
	})
	return what
}

// hasDef says whether options hold one named name.
func hasDef(options []*pg_query.Node, name string) bool {
	for _, o := range options {
		if d := o.GetDefElem(); d != nil && d.Defname == name {
			return true
		}
	}
	return false
}

// rehearsalOrder lists the scripts a run may run, in order: setup, the ups of replay (the history, as
// replayed), then each rehearsed migration's up, verify and down.
func rehearsalOrder(setup []*migrate.Script, replay, rehearsed []*migrate.Migration) []*migrate.Script {
	scripts := slices.Clone(setup)
	for _, m := range replay {
		scripts = append(scripts, m.Up)
	}
	for _, m := range rehearsed {
		scripts = append(scripts, m.Up, m.Verify, m.Down)
	}
	return scripts
}

// networkHint is the hint of a statement that failed with a connection error (SQLSTATE class 08) on a
// server without network.
const networkHint = "The rehearsal's server runs without network (a network namespace of its own): a migration cannot reach the servers it names, by design: a rehearsal must not touch them. Create a subscription WITH (connect = false, slot_name = NONE), and give it its slot and enable it when the deploy is done; do not call dblink or query foreign tables in a migration."

// quietedHint is the hint of a statement on a subscription that failed (SQLSTATE 55000) after the
// history's subscriptions were replayed without connecting (quietHistory).
const quietedHint = "The history's subscriptions were replayed WITH (connect = false, slot_name = NONE), disabled and without a replication slot (see the report's notes), since a rehearsal never connects to a publisher: a migration cannot enable or refresh them here. Give a subscription its slot and enable it once the deploy is done."

// networkNote is what the progress line says of the server's network.
func networkNote(network string) string {
	switch network {
	case sandbox.NetworkNone:
		return ", without network"
	case sandbox.NetworkShared:
		return ", sharing the network schemagate runs in (no network namespace may be created here)"
	}
	return ""
}
