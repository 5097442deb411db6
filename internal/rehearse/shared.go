package rehearse

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// ErrSharedServer marks migrations that would change what a shared server (the url provider) keeps
// after the rehearsal: roles the run did not create, tablespaces, databases, server settings.
var ErrSharedServer = errors.New("the migrations change the shared server")

// sharedServerChanges finds the statements of the scripts that change server-wide objects other than
// the roles the run itself creates (which the url provider drops with its database). On a server the
// rehearsal shares, such a change would stay behind: ALTER or DROP of a role the run did not create,
// REASSIGN OWNED or DROP OWNED of one (they reach its objects and privileges in every database),
// membership between such roles, ALTER SYSTEM, tablespaces, other databases.
//
// A role is the run's once a statement before (in the order the rehearsal runs them: setup, the base's
// migrations, the folder's, each up before its verify and down) has created it, and only if the server
// did not have it when the run started: existing are the server's roles then (nil before the run has
// a server, when only the order can be judged). CREATE ROLE of a role the server has is refused: the
// role is someone else's (or another run's), and the run would alter, drop or take it over.
//
// Code the server runs from a string (DO blocks, function bodies, EXECUTE) cannot be judged from its
// parse tree: its text is searched for the words such changes need, and the rehearsal fingerprints the
// server's roles and databases around every migration as a backstop (see serverGuard).
func sharedServerChanges(setup []*migrate.Script, set, base *migrate.Set, existing map[string]bool) error {
	created := map[string]bool{}
	login := map[string]int{}
	ours := func(r *pg_query.RoleSpec) bool {
		return r != nil && r.Roletype == pg_query.RoleSpecType_ROLESPEC_CSTRING && created[r.Rolename] && !existing[r.Rolename]
	}
	found := statementsThat(runOrder(setup, set, base), func(st *sqlparse.Statement) string {
		if what := serverWide(st.Node, ours, created, existing, login); what != "" {
			return what
		}
		return serverCode(st.Node, st.SQL)
	})
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("%w, where it would stay after the rehearsal (--provider url shares the server):\n  %s\nhint: rehearse them with --provider local or docker, which start a server of their own",
		ErrSharedServer, strings.Join(found, "\n  "))
}

// statementsThat lists, in order and once each, "file:line: what" for the statements of scripts that
// what describes ("" for the others), the first five and how many more. what sees every statement, in
// order, so it may keep state.
func statementsThat(scripts []*migrate.Script, what func(*sqlparse.Statement) string) []string {
	var found []string
	seen := map[string]bool{}
	for _, s := range scripts {
		if s == nil {
			continue
		}
		for i := range s.Statements {
			st := &s.Statements[i]
			w := what(st)
			if w == "" {
				continue
			}
			at := fmt.Sprintf("%s:%d: %s", s.File, st.Pos.Line, w)
			if !seen[at] {
				seen[at] = true
				found = append(found, at)
			}
		}
	}
	if len(found) > 5 {
		found = append(found[:5], fmt.Sprintf("and %d more", len(found)-5))
	}
	return found
}

// serverRoleChanges is sharedServerChanges once the shared server is known: it also refuses migrations
// that create a role the server already has (inst.ServerRoles). Nothing has run yet.
func serverRoleChanges(inst *sandbox.Instance, setup []*migrate.Script, set, base *migrate.Set) error {
	if inst.ServerRoles == nil {
		return nil
	}
	existing := map[string]bool{}
	for _, r := range inst.ServerRoles {
		existing[r] = true
	}
	return sharedServerChanges(setup, set, base, existing)
}

// runOrder lists the scripts in the order a rehearsal runs them: the setup scripts, the base's
// migrations (the history), then the folder's; each migration's up, verify, down.
func runOrder(setup []*migrate.Script, set, base *migrate.Set) []*migrate.Script {
	scripts := slices.Clone(setup)
	for _, s := range []*migrate.Set{base, set} {
		if s == nil {
			continue
		}
		for _, m := range s.Migrations {
			scripts = append(scripts, m.Up, m.Verify, m.Down)
		}
	}
	return scripts
}

// notOurs explains why a role a statement names is not the run's.
func notOurs(r *pg_query.RoleSpec, existing map[string]bool) string {
	if r != nil && r.Roletype == pg_query.RoleSpecType_ROLESPEC_CSTRING && existing[r.Rolename] {
		return "the server had it before the run"
	}
	return "no statement before it creates it"
}

// serverWide says what a statement changes on the server outside its database, "" when nothing (or
// only roles of the run's own). It records the roles a statement creates (or renames) in created.
//
// login holds, per role of the run's, whether it may log in (canLogin) and has a password (hasPassword).
func serverWide(n *pg_query.Node, ours func(*pg_query.RoleSpec) bool, created, existing map[string]bool, login map[string]int) string {
	if n == nil {
		return ""
	}
	switch {
	case n.GetCreateRoleStmt() != nil:
		c := n.GetCreateRoleStmt()
		name := c.Role
		if existing[name] {
			return "CREATE ROLE " + name + ": the server already has role " + name + " (the server's own, or another schemagate run's; roles are server-wide, and it is not this run's to create, alter or drop)"
		}
		created[name] = true
		login[name] = 0
		if c.StmtType == pg_query.RoleStmtType_ROLESTMT_USER {
			login[name] = canLogin
		}
		if what := roleRights("CREATE ROLE "+name, c.Options, name, login); what != "" {
			return what
		}
	case n.GetAlterRoleStmt() != nil:
		r := n.GetAlterRoleStmt().Role
		if !ours(r) {
			return "ALTER ROLE " + roleName(r) + " changes a role (roles are server-wide) that is not the run's: " + notOurs(r, existing)
		}
		if what := roleRights("ALTER ROLE "+r.Rolename, n.GetAlterRoleStmt().Options, r.Rolename, login); what != "" {
			return what
		}
	case n.GetAlterRoleSetStmt() != nil:
		if r := n.GetAlterRoleSetStmt().Role; r == nil || !ours(r) {
			return "ALTER ROLE " + roleName(r) + " SET changes a role's settings (roles are server-wide)"
		}
	case n.GetDropRoleStmt() != nil:
		for _, x := range n.GetDropRoleStmt().Roles {
			if r := x.GetRoleSpec(); !ours(r) {
				return "DROP ROLE " + roleName(r) + " drops a role (roles are server-wide) that is not the run's: " + notOurs(r, existing)
			}
		}
	case n.GetReassignOwnedStmt() != nil:
		for _, x := range n.GetReassignOwnedStmt().Roles {
			if r := x.GetRoleSpec(); !ours(r) {
				return "REASSIGN OWNED BY " + roleName(r) + " changes the owner of that role's objects in every database (databases and tablespaces too), and the role is not the run's: " + notOurs(r, existing)
			}
		}
	case n.GetDropOwnedStmt() != nil:
		for _, x := range n.GetDropOwnedStmt().Roles {
			if r := x.GetRoleSpec(); !ours(r) {
				return "DROP OWNED BY " + roleName(r) + " revokes that role's privileges on databases and tablespaces too (server-wide), and the role is not the run's: " + notOurs(r, existing)
			}
		}
	case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_ROLE:
		rn := n.GetRenameStmt()
		if !ours(&pg_query.RoleSpec{Roletype: pg_query.RoleSpecType_ROLESPEC_CSTRING, Rolename: rn.Subname}) {
			return "ALTER ROLE " + rn.Subname + " RENAME renames a role (roles are server-wide)"
		}
		if existing[rn.Newname] {
			return "ALTER ROLE " + rn.Subname + " RENAME TO " + rn.Newname + ": the server already has role " + rn.Newname + " (roles are server-wide)"
		}
		created[rn.Newname] = true
		login[rn.Newname] = login[rn.Subname]
	case n.GetGrantRoleStmt() != nil:
		g := n.GetGrantRoleStmt()
		mine := false
		for _, x := range g.GrantedRoles {
			name := x.GetAccessPriv().GetPrivName()
			mine = mine || ours(&pg_query.RoleSpec{Roletype: pg_query.RoleSpecType_ROLESPEC_CSTRING, Rolename: name})
		}
		for _, x := range g.GranteeRoles {
			mine = mine || ours(x.GetRoleSpec())
		}
		if !mine {
			return "GRANT/REVOKE of role membership between roles that are not the run's (roles are server-wide)"
		}
	case n.GetAlterSystemStmt() != nil:
		return "ALTER SYSTEM changes the server's configuration"
	case n.GetGrantStmt() != nil:
		g := n.GetGrantStmt()
		switch g.Objtype {
		case pg_query.ObjectType_OBJECT_DATABASE:
			// The run's database is named when the run starts (schemagate_<hex>): a name a script gives
			// is another database of the shared server (or production's, which the server may have too).
			var names []string
			for _, o := range g.Objects {
				names = append(names, o.GetString_().GetSval())
			}
			return "GRANT/REVOKE ON DATABASE " + strings.Join(names, ", ") + " changes the privileges of a database other than the run's (databases are server-wide)"
		case pg_query.ObjectType_OBJECT_TABLESPACE:
			return "GRANT/REVOKE ON TABLESPACE changes a tablespace's privileges (tablespaces are server-wide)"
		case pg_query.ObjectType_OBJECT_PARAMETER_ACL:
			return "GRANT/REVOKE SET or ALTER SYSTEM ON PARAMETER changes who may change the server's settings (server-wide)"
		case pg_query.ObjectType_OBJECT_FDW, pg_query.ObjectType_OBJECT_FOREIGN_SERVER:
			return "GRANT/REVOKE on a foreign data wrapper or server" + foreignData
		}
	case n.GetCreateExtensionStmt() != nil:
		if name := n.GetCreateExtensionStmt().Extname; serverExtensions[name] {
			return "CREATE EXTENSION " + name + " reaches beyond the rehearsal's database (other databases and servers, the server's files and programs, or untrusted code)"
		}
	case n.GetCreatePlangStmt() != nil:
		if l := n.GetCreatePlangStmt(); !l.Pltrusted || untrustedLanguages[strings.ToLower(l.Plname)] {
			return "CREATE LANGUAGE " + l.Plname + ": code in an untrusted language runs with the server's rights (its files and programs)"
		}
	case n.GetCreateFunctionStmt() != nil:
		if l := defString(n.GetCreateFunctionStmt().Options, "language"); untrustedLanguages[strings.ToLower(l)] {
			return "a function in LANGUAGE " + l + " runs with the server's rights (its files, programs and memory)"
		}
	case n.GetDoStmt() != nil:
		if l := defString(n.GetDoStmt().Args, "language"); untrustedLanguages[strings.ToLower(l)] {
			return "a DO block in LANGUAGE " + l + " runs with the server's rights (its files, programs and memory)"
		}
	case n.GetCreateFdwStmt() != nil, n.GetAlterFdwStmt() != nil, n.GetCreateForeignServerStmt() != nil,
		n.GetAlterForeignServerStmt() != nil, n.GetCreateUserMappingStmt() != nil, n.GetAlterUserMappingStmt() != nil,
		n.GetCreateForeignTableStmt() != nil, n.GetImportForeignSchemaStmt() != nil:
		return "a foreign data wrapper, server, user mapping or foreign table" + foreignData
	case n.GetLoadStmt() != nil:
		return "LOAD loads a library of the server's into the session (code with the server's rights)"
	case n.GetCreateSubscriptionStmt() != nil, n.GetAlterSubscriptionStmt() != nil:
		return "a subscription connects to another server or database and makes a replication slot there"
	case n.GetTransactionStmt() != nil:
		switch n.GetTransactionStmt().Kind {
		case pg_query.TransactionStmtKind_TRANS_STMT_PREPARE, pg_query.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED,
			pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
			return "PREPARE TRANSACTION, COMMIT PREPARED or ROLLBACK PREPARED: a prepared transaction outlives the session, holds its locks and keeps VACUUM from cleaning up in every database of the server until it is ended"
		}
	case n.GetCreateTableSpaceStmt() != nil, n.GetDropTableSpaceStmt() != nil, n.GetAlterTableSpaceOptionsStmt() != nil:
		return "a tablespace statement (tablespaces are server-wide)"
	case n.GetCreatedbStmt() != nil, n.GetDropdbStmt() != nil, n.GetAlterDatabaseStmt() != nil,
		n.GetAlterDatabaseSetStmt() != nil, n.GetAlterDatabaseRefreshCollStmt() != nil:
		return "a database statement (CREATE/ALTER/DROP DATABASE reach beyond the rehearsal's own database)"
	case n.GetCommentStmt() != nil:
		switch n.GetCommentStmt().Objtype {
		case pg_query.ObjectType_OBJECT_ROLE, pg_query.ObjectType_OBJECT_DATABASE, pg_query.ObjectType_OBJECT_TABLESPACE:
			name := n.GetCommentStmt().Object.GetString_().GetSval()
			if n.GetCommentStmt().Objtype != pg_query.ObjectType_OBJECT_ROLE ||
				!ours(&pg_query.RoleSpec{Roletype: pg_query.RoleSpecType_ROLESPEC_CSTRING, Rolename: name}) {
				return "COMMENT ON a role, database or tablespace (server-wide)"
			}
		}
	}
	return ""
}

// foreignData ends the refusal of foreign data wrappers, servers and tables.
const foreignData = " reaches other databases and servers (postgres_fdw) or the server's files and programs (file_fdw)"

// serverExtensions are the extensions that reach beyond the rehearsal's database: other databases and
// servers, the server's files and programs, untrusted languages.
var serverExtensions = map[string]bool{
	"file_fdw": true, "postgres_fdw": true, "dblink": true, "adminpack": true,
	"plpython3u": true, "plpythonu": true, "plpython2u": true, "plperlu": true, "pltclu": true,
	"plsh": true, "plv8u": true, "plluau": true, "plr": true, "pljavau": true,
}

// untrustedLanguages run code with the server's rights: C and internal functions, untrusted PLs.
var untrustedLanguages = map[string]bool{
	"c": true, "internal": true, "plpython3u": true, "plpythonu": true, "plpython2u": true, "plperlu": true,
	"pltclu": true, "plsh": true, "plv8u": true, "plluau": true, "plr": true, "pljavau": true,
}

// The bits of serverWide's login map.
const (
	canLogin    = 1
	hasPassword = 2
)

// roleRights says what a CREATE or ALTER ROLE of one of the run's roles would give beyond the
// rehearsal's database: an attribute with server-wide rights (SUPERUSER, CREATEROLE, CREATEDB,
// REPLICATION, BYPASSRLS), or LOGIN together with a PASSWORD (in this or an earlier statement), with
// which anyone who knows it may connect to the shared server while the run lasts. It updates login.
func roleRights(stmt string, options []*pg_query.Node, name string, login map[string]int) string {
	for _, o := range options {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		on := d.Arg == nil || d.Arg.GetBoolean() == nil || d.Arg.GetBoolean().Boolval
		if i := d.Arg.GetInteger(); i != nil {
			on = i.Ival != 0
		}
		switch d.Defname {
		case "superuser", "createrole", "createdb", "isreplication", "bypassrls":
			if on {
				attr := strings.ToUpper(strings.TrimPrefix(d.Defname, "is"))
				return stmt + " " + attr + " gives a role server-wide rights, and the role would exist on the shared server while the run lasts (a role the migrations create may have no such attribute on --provider url)"
			}
		case "canlogin":
			if on {
				login[name] |= canLogin
			} else {
				login[name] &^= canLogin
			}
		case "password":
			if d.Arg != nil {
				login[name] |= hasPassword
			} else {
				login[name] &^= hasPassword
			}
		}
	}
	if login[name] == canLogin|hasPassword {
		return stmt + ": a role that may LOGIN with a PASSWORD the migration chose can connect to the shared server from anywhere while the run lasts (create the run's roles NOLOGIN, or without a password)"
	}
	return ""
}

// defString is the string value of the option named name ("" when there is none).
func defString(options []*pg_query.Node, name string) string {
	for _, o := range options {
		if d := o.GetDefElem(); d != nil && d.Defname == name {
			return d.Arg.GetString_().GetSval()
		}
	}
	return ""
}

// ownRoles are the roles the scripts create (CREATE ROLE, USER or GROUP, or a rename of one to a new
// name): the url provider drops those it did not have before the run, with the run's database.
func ownRoles(scripts []*migrate.Script) map[string]bool {
	own := map[string]bool{}
	for _, s := range scripts {
		if s == nil {
			continue
		}
		for i := range s.Statements {
			n := s.Statements[i].Node
			if r := n.GetCreateRoleStmt(); r != nil {
				own[r.Role] = true
			}
			if r := n.GetRenameStmt(); r != nil && r.RenameType == pg_query.ObjectType_OBJECT_ROLE && own[r.Subname] {
				own[r.Newname] = true
			}
		}
	}
	return own
}

// serverDDL finds, in code the server runs from text, a statement that changes roles, databases or
// the server: its words may be apart, quoted and concatenated ('ALTER ' || 'ROLE').
var serverDDL = regexp.MustCompile(`(?is)\b(alter|create|drop)\b[\s'"|+,()]*\b(role|user|group|database|system|tablespace|subscription|server)\b`)

// serverWords, in code the server runs from text, name what reaches beyond the rehearsal's database
// without a DDL verb before it: foreign data wrappers and their extensions, untrusted languages,
// prepared transactions.
var serverWords = regexp.MustCompile(`(?i)\b(file_fdw|postgres_fdw|adminpack|plpython[23]?u|plperlu|pltclu|foreign\s+data\s+wrapper|user\s+mapping|prepare\s+transaction)\b`)

// serverCalls are the functions that reach beyond the rehearsal's database: other sessions, the
// server's files and programs, its configuration, WAL, replication and statistics, other servers. They
// are the lint's (lint.ServerCallRE), which finds them quoted or not.
var serverCalls = lint.ServerCallRE()

// serverCallFamilies are the rest of dblink's functions and the replication origins': the lint judges
// the calls that connect or move an origin, and a shared server refuses them all (the others work on a
// connection or an origin one of those made, in another migration perhaps).
var serverCallFamilies = regexp.MustCompile(`(?i)\b(dblink\w*|pg_replication_origin_\w+)"?\s*\(`)

// programWord is COPY ... PROGRAM written in code run from text.
var programWord = regexp.MustCompile(`(?i)\bprogram\b`)

// serverCode says what a statement's code would do to the server when its parse tree cannot show it:
// COPY to or from a program or a server file, calls of the server functions in any statement, and DO
// blocks and function bodies whose text names a server-wide change or a program.
func serverCode(n *pg_query.Node, sql string) string {
	if c := n.GetCopyStmt(); c != nil {
		switch {
		case c.IsProgram:
			return "COPY ... PROGRAM runs a program on the server"
		case c.Filename != "":
			return "COPY to or from a server file reads or writes the server's files"
		}
	}
	m := serverCalls.FindString(sql)
	if m == "" {
		m = serverCallFamilies.FindString(sql)
	}
	if m != "" {
		return fmt.Sprintf("%s) reaches beyond the rehearsal's database (other sessions, the server's files or configuration)", collapse(m))
	}
	if m := codeMentions(n, sql, serverDDL, programWord, serverWords); m != "" {
		return fmt.Sprintf("code run from text (a DO block or a function body) mentions %q, a change beyond the rehearsal's database", m)
	}
	return ""
}

// codeMentions is the first match of res, in order, in the text of a DO block or a function body n
// (whose parse tree does not show what its code does), collapsed for a message; "" for other
// statements and when none matches.
func codeMentions(n *pg_query.Node, sql string, res ...*regexp.Regexp) string {
	if n.GetDoStmt() == nil && n.GetCreateFunctionStmt() == nil {
		return ""
	}
	for _, re := range res {
		if m := re.FindString(sql); m != "" {
			return collapse(m)
		}
	}
	return ""
}

// collapse shortens a match for a message: one line, its spaces collapsed.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func roleName(r *pg_query.RoleSpec) string {
	switch {
	case r == nil:
		return "ALL"
	case r.Roletype == pg_query.RoleSpecType_ROLESPEC_CSTRING:
		return r.Rolename
	case r.Roletype == pg_query.RoleSpecType_ROLESPEC_CURRENT_USER:
		return "CURRENT_USER"
	case r.Roletype == pg_query.RoleSpecType_ROLESPEC_SESSION_USER:
		return "SESSION_USER"
	case r.Roletype == pg_query.RoleSpecType_ROLESPEC_CURRENT_ROLE:
		return "CURRENT_ROLE"
	}
	return "PUBLIC"
}

// serverGuard is the backstop of sharedServerChanges on a shared server: it fingerprints the server's
// roles (attributes, passwords where it may read them, settings), role memberships and databases
// before and after each stretch of migration statements (see run.apply), and a change the run's own
// roles and database do not explain fails the migration that made it, loudly. Another run on the same
// server may add roles and databases of its own meanwhile: added roles without privileges and added
// databases are not counted, nor databases named like the url provider's.
type serverGuard struct {
	url string
	own []string // roles the scripts create
	db  string   // the run's database
	// passwords is set when the role may read pg_authid (a superuser): password changes count too.
	passwords bool
	// version is the server's server_version_num: privileges on parameters exist from 15 on.
	version int
	// server are the roles the server had when the run started (inst.ServerRoles); marked are those
	// of them that other url runs' marks named before any script of this run ran.
	server, marked []string
	mu             sync.Mutex
	conn           *pgx.Conn
	before         map[string]string
	// others are the roles other url runs' marks named at the fingerprint before (see
	// sandbox.RunRoles): those runs drop them when they end, or a later run does when they died.
	others []string
}

func newServerGuard(ctx context.Context, r *run) (*serverGuard, error) {
	g := &serverGuard{url: r.inst.URL, own: []string{}, server: r.inst.ServerRoles, version: r.inst.ServerVersion}
	// A role the server had before the run is never the run's, whatever the scripts say of it.
	for name := range ownRoles(allScripts(r.opts.Setup, r.opts.Set, r.opts.Base)) {
		if !slices.Contains(r.inst.ServerRoles, name) {
			g.own = append(g.own, name)
		}
	}
	slices.Sort(g.own)
	// Before any script runs: no migration of this run can have written these marks.
	if roles, err := sandbox.RunRoles(ctx, r.conn, ""); err == nil {
		g.marked = roles
	}
	if err := r.conn.QueryRow(ctx, "SELECT current_database(), has_table_privilege('pg_catalog.pg_authid', 'SELECT')").Scan(&g.db, &g.passwords); err != nil {
		return nil, fmt.Errorf("read the rehearsal's database: %w", err)
	}
	return g, nil
}

// fingerprintSQL reads what a shared server keeps beyond the run: key and value per thing. $1 are the
// run's own roles, $2 its database. A membership's value is each grant of it (one per grantor from
// PostgreSQL 16 on, which may each carry other options): its grantor and options, {{MEMBERSHIP}} the
// INHERIT and SET options where the server has them (see fingerprintQuery). {{PASSWORD}} is the password's hash where the guard's role may read
// pg_authid (see fingerprintQuery), and nothing elsewhere (a managed server's CREATEDB role):
// PostgreSQL checks the privileges of every table a query names, also in a branch that never runs.
const fingerprintSQL = `
SELECT 'role ' || quote_ident(rolname), concat_ws(' ', 'super=' || rolsuper, 'inherit=' || rolinherit,
  'createrole=' || rolcreaterole, 'createdb=' || rolcreatedb, 'login=' || rolcanlogin,
  'replication=' || rolreplication, 'bypassrls=' || rolbypassrls, 'connlimit=' || rolconnlimit,
  'validuntil=' || rolvaliduntil, 'config=' || rolconfig::text, {{PASSWORD}})
FROM pg_catalog.pg_roles r WHERE NOT rolname = ANY($1)
UNION ALL
SELECT 'membership of ' || quote_ident(m.rolname) || ' in ' || quote_ident(g.rolname),
  string_agg(concat_ws(' ', 'grantor=' || pg_catalog.pg_get_userbyid(am.grantor), 'admin=' || am.admin_option{{MEMBERSHIP}}), '; '
    ORDER BY pg_catalog.pg_get_userbyid(am.grantor))
FROM pg_catalog.pg_auth_members am JOIN pg_catalog.pg_roles g ON g.oid = am.roleid JOIN pg_catalog.pg_roles m ON m.oid = am.member
WHERE NOT (g.rolname = ANY($1) OR m.rolname = ANY($1))
GROUP BY m.rolname, g.rolname
UNION ALL
SELECT 'database ' || quote_ident(datname), concat_ws(' ', 'owner=' || pg_catalog.pg_get_userbyid(datdba), 'allowconn=' || datallowconn,
  'connlimit=' || datconnlimit, 'template=' || datistemplate, 'acl=' || datacl::text)
FROM pg_catalog.pg_database WHERE datname <> $2 AND datname NOT LIKE 'schemagate\_%'
UNION ALL
SELECT 'settings of database ' || coalesce(quote_ident(d.datname), 'ALL') || ' and role ' || coalesce(quote_ident(ro.rolname), 'ALL'), s.setconfig::text
FROM pg_catalog.pg_db_role_setting s LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_catalog.pg_roles ro ON ro.oid = s.setrole
WHERE coalesce(d.datname <> $2, true) AND NOT coalesce(ro.rolname = ANY($1), false)
UNION ALL
SELECT 'tablespace ' || quote_ident(spcname), concat_ws(' ', 'owner=' || pg_catalog.pg_get_userbyid(spcowner), 'acl=' || spcacl::text,
  'options=' || spcoptions::text)
FROM pg_catalog.pg_tablespace{{PARAMETERS}}`

// parameterACLSQL fingerprints the privileges on server settings (GRANT SET / ALTER SYSTEM ON
// PARAMETER), from PostgreSQL 15 on.
const parameterACLSQL = `
UNION ALL
SELECT 'privileges on parameter ' || parname, paracl::text FROM pg_catalog.pg_parameter_acl`

// fingerprintQuery is fingerprintSQL for a role that may read passwords or not, on a server of version
// (server_version_num).
func fingerprintQuery(passwords bool, version int) string {
	pw := "NULL"
	if passwords {
		pw = "'password=' || md5(coalesce((SELECT rolpassword FROM pg_catalog.pg_authid a WHERE a.oid = r.oid), ''))"
	}
	params := ""
	if version >= 150000 {
		params = parameterACLSQL
	}
	// PostgreSQL 16 gave memberships their INHERIT and SET options.
	membership := ""
	if version >= 160000 {
		membership = ", 'inherit=' || am.inherit_option, 'set=' || am.set_option"
	}
	return strings.NewReplacer("{{PASSWORD}}", pw, "{{PARAMETERS}}", params, "{{MEMBERSHIP}}", membership).Replace(fingerprintSQL)
}

// errServerGone marks a fingerprint that failed because the server does not answer at all (no
// connection): the rehearsal itself fails for that, and no migration is blamed.
var errServerGone = errors.New("the shared server does not answer")

// goneOr marks err as errServerGone when it says the server is going away: no answer at all (refused,
// reset), or the server shutting down, crashed or starting (57P01, 57P02, 57P03). A refused login
// (28...) or a refused query may be a migration's doing, and is not marked.
//
// A connection refused for want of capacity (class 53, insufficient resources: 53300 too many
// connections for the role, the database or the server) is a *capacityError: the rehearsal's own
// failure, which no migration is blamed for.
func goneOr(err error) error {
	if ce := asCapacity(err); ce != err {
		return ce
	}
	var pe *pgconn.PgError
	errors.As(err, &pe)
	if pe == nil || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08") {
		return fmt.Errorf("%w: %w", errServerGone, err)
	}
	return err
}

// asCapacity is err as a *capacityError when it is the server's refusal of a session for want of
// capacity (SQLSTATE class 53), and err otherwise.
func asCapacity(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "53") {
		return &capacityError{err: err, pe: pe}
	}
	return err
}

// capacityError is a session of the rehearsal that the server refused for want of capacity (SQLSTATE
// class 53): a connection limit of the role (CREATE ROLE ... CONNECTION LIMIT), of the database or of
// the server (max_connections), or no memory or disk. The rehearsal stops and fails for it (the
// tool's failure, exit 1); no migration is blamed.
type capacityError struct {
	err error
	pe  *pgconn.PgError
}

func (e *capacityError) Error() string {
	return fmt.Sprintf("the server refused one of the rehearsal's sessions for want of capacity, so the rehearsal stopped; no migration is to blame: %v (hint: %s)", e.err, e.hint())
}

func (e *capacityError) Unwrap() error { return e.err }

// hint says which limit to raise: the rehearsal holds several sessions at once (the migrations', the
// statement watchdog's, the shared-server guard's, the catalog reader's).
func (e *capacityError) hint() string {
	const needs = "the rehearsal holds several sessions at once (the migrations', the statement watchdog's, the shared-server guard's, the catalog reader's)"
	switch {
	case e.pe.Code != "53300":
		return "the server is out of resources (" + e.pe.Code + "); free them or use another server, then check again"
	case strings.Contains(e.pe.Message, "for role"):
		role := "ROLE"
		if _, r, ok := strings.Cut(e.pe.Message, "for role "); ok {
			role = r
		}
		return needs + ": raise the role's limit (ALTER ROLE " + role + " CONNECTION LIMIT 10, or -1 for none), or use a role without one"
	case strings.Contains(e.pe.Message, "for database"):
		return needs + ": raise the database's limit (ALTER DATABASE ... CONNECTION LIMIT)"
	}
	return needs + ": the server is at max_connections; raise it or end idle sessions, then check again"
}

// fingerprint reads the server's fingerprint from a connection of the guard's own (the migrations'
// session may have changed its role or search path; a migration may have ended the last one).
func (g *serverGuard) fingerprint() (map[string]string, []string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		if g.conn == nil {
			c, err := pg.ConnectOwn(ctx, g.url)
			if err != nil {
				return nil, nil, fmt.Errorf("connect to fingerprint the shared server: %w", goneOr(err))
			}
			g.conn = c
		}
		query := fingerprintQuery(g.passwords, g.version)
		rows, err := g.conn.Query(ctx, query, g.own, g.db)
		var out map[string]string
		if err == nil {
			out = map[string]string{}
			for rows.Next() {
				var k string
				var v *string
				if err = rows.Scan(&k, &v); err != nil {
					break
				}
				if v != nil {
					out[k] = *v
				} else {
					out[k] = ""
				}
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		if err == nil {
			// Best effort: without them, another run's cleanup may be taken for a migration's doing.
			others, oerr := sandbox.RunRoles(ctx, g.conn, g.db)
			if oerr != nil {
				others = nil
			}
			return out, others, nil
		}
		g.conn.Close(context.Background())
		g.conn = nil
		if attempt > 0 {
			return nil, nil, fmt.Errorf("fingerprint the shared server: %w", goneOr(err))
		}
	}
}

// privileged tells whether a role's fingerprint grants more than a plain role has.
func privileged(v string) bool {
	for _, a := range []string{"super=true", "createrole=true", "createdb=true", "replication=true", "bypassrls=true"} {
		if strings.Contains(v, a) {
			return true
		}
	}
	return false
}

// changes lists what differs between two fingerprints and counts against the run. A role that others
// (the roles other url runs' marks name) holds, and its memberships, may go: that run (or the cleanup
// of a run that died) dropped it.
func changes(before, after map[string]string, others []string) []string {
	var out []string
	for k, v := range after {
		old, had := before[k]
		switch {
		case !had && strings.HasPrefix(k, "role ") && !privileged(v):
			// A plain new role: another run's, or one whose use shows elsewhere.
		case !had && strings.HasPrefix(k, "database "):
			// Another run's or test's (CREATE DATABASE of the migrations' own is refused before the run).
		case !had && strings.HasPrefix(k, "membership of "):
			member, granted, _ := strings.Cut(strings.TrimPrefix(k, "membership of "), " in ")
			if _, existed := before["role "+member]; existed || strings.HasPrefix(granted, "pg_") || privileged(after["role "+granted]) {
				out = append(out, k+" added")
			}
		case !had:
			out = append(out, k+" added")
		case old != v:
			out = append(out, k+" changed")
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok && !othersRole(k, others) {
			out = append(out, k+" removed")
		}
	}
	slices.Sort(out)
	return out
}

// othersRole tells whether a fingerprint key is a role of others, or a membership of one.
func othersRole(key string, others []string) bool {
	for _, r := range others {
		q := pgx.Identifier{r}.Sanitize()
		if strings.HasPrefix(key, "role ") && (key == "role "+q || key == "role "+r) {
			return true
		}
		if m, g, ok := strings.Cut(strings.TrimPrefix(key, "membership of "), " in "); ok && strings.HasPrefix(key, "membership of ") &&
			(m == q || g == q || m == r || g == r) {
			return true
		}
	}
	return false
}

// start takes the fingerprint before a stretch of migration statements.
func (g *serverGuard) start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	fp, others, err := g.fingerprint()
	if err != nil {
		return err
	}
	g.before, g.others = fp, others
	return nil
}

// check compares the fingerprint after the stretch with the one before; it returns what changed.
func (g *serverGuard) check() ([]string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.before == nil {
		return nil, nil
	}
	fp, others, err := g.fingerprint()
	if err != nil {
		return nil, err
	}
	// Roles other runs drop when they end: those their marks named when this run started, and those
	// named since that the server did not have then. Not a role the server had, named since: a
	// migration could write a mark (COMMENT ON DATABASE) to hide what it does to the server's roles.
	gone := slices.Clone(g.marked)
	for _, r := range append(g.others, others...) {
		if !slices.Contains(g.server, r) {
			gone = append(gone, r)
		}
	}
	ch := changes(g.before, fp, gone)
	g.before = nil
	return ch, nil
}

func (g *serverGuard) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		g.conn.Close(context.Background())
		g.conn = nil
	}
}

// blame records that the statements that just ran changed the shared server, and cancels the rest of
// the run's statements (see watchdog.fail). Which migration did it is known once the rehearsal has
// recorded the statements' outcome: resolveBlame says it then.
func (r *run) blame(what []string, err error) {
	if errors.Is(err, errServerGone) {
		// The server went away: the rehearsal fails for that (see stoppedError); no migration changed it.
		r.opts.Logger.Warn("the shared server could not be fingerprinted", "error", err)
		return
	}
	var ce *capacityError
	if errors.As(err, &ce) {
		// The server is up, but refuses the guard's session: the rehearsal stops and fails for that
		// (see guard); no migration changed the server.
		r.opts.Logger.Error("the shared server could not be fingerprinted", "error", err)
		if r.stall != nil {
			r.stall(ce)
		}
		return
	}
	msg := ""
	if err != nil {
		msg = fmt.Sprintf("the shared server could not be fingerprinted after the migrations' statements (%v)", err)
	} else {
		if len(what) > 8 {
			what = append(what[:8], fmt.Sprintf("and %d more", len(what)-8))
		}
		msg = "changed the shared server, where it stays after the rehearsal: " + strings.Join(what, "; ")
	}
	r.opts.Logger.Error("the migrations changed the shared server", "changes", strings.Join(what, "; "), "error", err)
	if w := r.watch; w != nil {
		w.mu.Lock()
		w.blamed = append(w.blamed, msg)
		w.mu.Unlock()
		w.fail(fmt.Errorf("%w: an earlier migration %s", ErrSharedServer, msg), r.opts.Logger)
	}
}

// resolveBlame fails the migration whose statements changed the shared server: the last new migration
// the rehearsal has run (a round trip's down and re-up run after its up), or notes that the setup or
// the history did. It runs before the next statements and when the watchdog stops.
func (r *run) resolveBlame() {
	w := r.watch
	if w == nil {
		return
	}
	w.mu.Lock()
	blamed := w.blamed
	w.blamed = nil
	w.mu.Unlock()
	if len(blamed) == 0 {
		return
	}
	var rm *report.Migration
	for i := range r.rep.Migrations {
		if m := &r.rep.Migrations[i]; m.New && m.Status != report.StatusNotRun && m.Status != "" {
			rm = m
		}
	}
	who := "the setup scripts or the history replay"
	if rm != nil {
		who = "migration " + rm.Label()
		rm.Status = report.StatusFailed
		rm.Error = &report.SQLError{Message: blamed[0], File: rm.File, Line: 1, Column: 1, Phase: "up",
			Hint: "--provider url shares the server: rehearse migrations that change roles, databases or the server with --provider local or docker."}
	}
	for _, msg := range blamed {
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s %s; the rest of the rehearsal was canceled", who, msg))
	}
	r.opts.Logger.Error("the migrations changed the shared server", "by", who)
	r.rep.Finish() // again: the run has failed
}
