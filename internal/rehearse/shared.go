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

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// ErrSharedServer marks migrations that would change what a shared server (the url provider) keeps
// after the rehearsal: roles the run did not create, tablespaces, databases, server settings.
var ErrSharedServer = errors.New("the migrations change the shared server")

// sharedServerChanges finds the statements of the scripts that change server-wide objects other than
// the roles the scripts themselves create (which the url provider drops with its database). On a
// server the rehearsal shares, such a change would stay behind: ALTER or DROP of an existing role,
// membership between existing roles, ALTER SYSTEM, tablespaces, other databases.
//
// Code the server runs from a string (DO blocks, function bodies, EXECUTE) cannot be judged from its
// parse tree: its text is searched for the words such changes need, and the rehearsal fingerprints the
// server's roles and databases around every migration as a backstop (see serverGuard).
func sharedServerChanges(setup []*migrate.Script, sets ...*migrate.Set) error {
	scripts := allScripts(setup, sets...)
	own := ownRoles(scripts)
	ours := func(r *pg_query.RoleSpec) bool {
		return r != nil && r.Roletype == pg_query.RoleSpecType_ROLESPEC_CSTRING && own[r.Rolename]
	}
	var found []string
	seen := map[string]bool{}
	for _, s := range scripts {
		if s == nil {
			continue
		}
		for i := range s.Statements {
			st := &s.Statements[i]
			what := serverWide(st.Node, ours, own)
			if what == "" {
				what = serverCode(st.Node, st.SQL)
			}
			if what == "" {
				continue
			}
			at := fmt.Sprintf("%s:%d: %s", s.File, st.Pos.Line, what)
			if !seen[at] {
				seen[at] = true
				found = append(found, at)
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	if len(found) > 5 {
		found = append(found[:5], fmt.Sprintf("and %d more", len(found)-5))
	}
	return fmt.Errorf("%w, where it would stay after the rehearsal (--provider url shares the server):\n  %s\nrehearse them with --provider local or docker, which start a server of their own",
		ErrSharedServer, strings.Join(found, "\n  "))
}

// serverWide says what a statement changes on the server outside its database, "" when nothing (or
// only roles of the run's own).
func serverWide(n *pg_query.Node, ours func(*pg_query.RoleSpec) bool, own map[string]bool) string {
	if n == nil {
		return ""
	}
	switch {
	case n.GetAlterRoleStmt() != nil:
		if r := n.GetAlterRoleStmt().Role; !ours(r) {
			return "ALTER ROLE " + roleName(r) + " changes a role (roles are server-wide)"
		}
	case n.GetAlterRoleSetStmt() != nil:
		if r := n.GetAlterRoleSetStmt().Role; r == nil || !ours(r) {
			return "ALTER ROLE " + roleName(r) + " SET changes a role's settings (roles are server-wide)"
		}
	case n.GetDropRoleStmt() != nil:
		for _, x := range n.GetDropRoleStmt().Roles {
			if r := x.GetRoleSpec(); !ours(r) {
				return "DROP ROLE " + roleName(r) + " drops a role (roles are server-wide)"
			}
		}
	case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_ROLE:
		if name := n.GetRenameStmt().Subname; !own[name] {
			return "ALTER ROLE " + name + " RENAME renames a role (roles are server-wide)"
		}
	case n.GetGrantRoleStmt() != nil:
		g := n.GetGrantRoleStmt()
		mine := false
		for _, x := range g.GrantedRoles {
			mine = mine || own[x.GetAccessPriv().GetPrivName()]
		}
		for _, x := range g.GranteeRoles {
			mine = mine || ours(x.GetRoleSpec())
		}
		if !mine {
			return "GRANT/REVOKE of role membership between existing roles (roles are server-wide)"
		}
	case n.GetAlterSystemStmt() != nil:
		return "ALTER SYSTEM changes the server's configuration"
	case n.GetCreateTableSpaceStmt() != nil, n.GetDropTableSpaceStmt() != nil, n.GetAlterTableSpaceOptionsStmt() != nil:
		return "a tablespace statement (tablespaces are server-wide)"
	case n.GetCreatedbStmt() != nil, n.GetDropdbStmt() != nil, n.GetAlterDatabaseStmt() != nil,
		n.GetAlterDatabaseSetStmt() != nil, n.GetAlterDatabaseRefreshCollStmt() != nil:
		return "a database statement (CREATE/ALTER/DROP DATABASE reach beyond the rehearsal's own database)"
	case n.GetCommentStmt() != nil:
		switch n.GetCommentStmt().Objtype {
		case pg_query.ObjectType_OBJECT_ROLE, pg_query.ObjectType_OBJECT_DATABASE, pg_query.ObjectType_OBJECT_TABLESPACE:
			if name := n.GetCommentStmt().Object.GetString_().GetSval(); !own[name] {
				return "COMMENT ON a role, database or tablespace (server-wide)"
			}
		}
	}
	return ""
}

// ownRoles are the roles the scripts create (CREATE ROLE, USER or GROUP): the url provider drops them
// with the run's database.
func ownRoles(scripts []*migrate.Script) map[string]bool {
	own := map[string]bool{}
	for _, s := range scripts {
		if s == nil {
			continue
		}
		for i := range s.Statements {
			if r := s.Statements[i].Node.GetCreateRoleStmt(); r != nil {
				own[r.Role] = true
			}
		}
	}
	return own
}

// serverDDL finds, in code the server runs from text, a statement that changes roles, databases or
// the server: its words may be apart, quoted and concatenated ('ALTER ' || 'ROLE').
var serverDDL = regexp.MustCompile(`(?is)\b(alter|create|drop)\b[\s'"|+,()]*\b(role|user|group|database|system|tablespace|subscription)\b`)

// serverCalls are the functions that reach beyond the rehearsal's database: other sessions, the
// server's files and programs, its configuration.
var serverCalls = regexp.MustCompile(`(?i)\b(pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|pg_read_file|pg_read_binary_file|pg_ls_dir|pg_stat_file|pg_file_write|lo_import|lo_export|dblink\w*)\s*\(`)

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
	if m := serverCalls.FindString(sql); m != "" {
		return fmt.Sprintf("%s) reaches beyond the rehearsal's database (other sessions, the server's files or configuration)", collapse(m))
	}
	if n.GetDoStmt() == nil && n.GetCreateFunctionStmt() == nil {
		return ""
	}
	for _, re := range []*regexp.Regexp{serverDDL, programWord} {
		if m := re.FindString(sql); m != "" {
			return fmt.Sprintf("code run from text (a DO block or a function body) mentions %q, a change beyond the rehearsal's database", collapse(m))
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
	mu        sync.Mutex
	conn      *pgx.Conn
	before    map[string]string
}

func newServerGuard(ctx context.Context, r *run) (*serverGuard, error) {
	g := &serverGuard{url: r.inst.URL, own: []string{}}
	for name := range ownRoles(allScripts(r.opts.Setup, r.opts.Set, r.opts.Base)) {
		g.own = append(g.own, name)
	}
	slices.Sort(g.own)
	if err := r.conn.QueryRow(ctx, "SELECT current_database(), has_table_privilege('pg_catalog.pg_authid', 'SELECT')").Scan(&g.db, &g.passwords); err != nil {
		return nil, fmt.Errorf("read the rehearsal's database: %w", err)
	}
	return g, nil
}

// fingerprintSQL reads what a shared server keeps beyond the run: key and value per thing. $1 are the
// run's own roles, $2 its database. {{PASSWORD}} is the password's hash where the guard's role may read
// pg_authid (fingerprintWithPasswords), and nothing elsewhere (a managed server's CREATEDB role):
// PostgreSQL checks the privileges of every table a query names, also in a branch that never runs.
const fingerprintSQL = `
SELECT 'role ' || quote_ident(rolname), concat_ws(' ', 'super=' || rolsuper, 'inherit=' || rolinherit,
  'createrole=' || rolcreaterole, 'createdb=' || rolcreatedb, 'login=' || rolcanlogin,
  'replication=' || rolreplication, 'bypassrls=' || rolbypassrls, 'connlimit=' || rolconnlimit,
  'validuntil=' || rolvaliduntil, 'config=' || rolconfig::text, {{PASSWORD}})
FROM pg_catalog.pg_roles r WHERE NOT rolname = ANY($1)
UNION ALL
SELECT 'membership of ' || quote_ident(m.rolname) || ' in ' || quote_ident(g.rolname), 'admin=' || am.admin_option
FROM pg_catalog.pg_auth_members am JOIN pg_catalog.pg_roles g ON g.oid = am.roleid JOIN pg_catalog.pg_roles m ON m.oid = am.member
WHERE NOT (g.rolname = ANY($1) OR m.rolname = ANY($1))
UNION ALL
SELECT 'database ' || quote_ident(datname), concat_ws(' ', 'owner=' || pg_catalog.pg_get_userbyid(datdba), 'allowconn=' || datallowconn,
  'connlimit=' || datconnlimit, 'template=' || datistemplate, 'acl=' || datacl::text)
FROM pg_catalog.pg_database WHERE datname <> $2 AND datname NOT LIKE 'schemagate\_%'
UNION ALL
SELECT 'settings of database ' || coalesce(quote_ident(d.datname), 'ALL') || ' and role ' || coalesce(quote_ident(ro.rolname), 'ALL'), s.setconfig::text
FROM pg_catalog.pg_db_role_setting s LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_catalog.pg_roles ro ON ro.oid = s.setrole
WHERE coalesce(d.datname <> $2, true) AND NOT coalesce(ro.rolname = ANY($1), false)`

var (
	fingerprintWithPasswords = strings.Replace(fingerprintSQL, "{{PASSWORD}}",
		"'password=' || md5(coalesce((SELECT rolpassword FROM pg_catalog.pg_authid a WHERE a.oid = r.oid), ''))", 1)
	fingerprintWithoutPasswords = strings.Replace(fingerprintSQL, "{{PASSWORD}}", "NULL", 1)
)

// errServerGone marks a fingerprint that failed because the server does not answer at all (no
// connection): the rehearsal itself fails for that, and no migration is blamed.
var errServerGone = errors.New("the shared server does not answer")

// goneOr marks err as errServerGone when it says the server is going away: no answer at all (refused,
// reset), or the server shutting down, crashed or starting (57P01, 57P02, 57P03). A refused login
// (28...) or a refused query may be a migration's doing, and is not marked.
func goneOr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08") {
		return fmt.Errorf("%w: %w", errServerGone, err)
	}
	return err
}

// fingerprint reads the server's fingerprint from a connection of the guard's own (the migrations'
// session may have changed its role or search path; a migration may have ended the last one).
func (g *serverGuard) fingerprint() (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		if g.conn == nil {
			c, err := pgx.Connect(ctx, g.url)
			if err != nil {
				return nil, fmt.Errorf("connect to fingerprint the shared server: %w", goneOr(err))
			}
			g.conn = c
		}
		query := fingerprintWithoutPasswords
		if g.passwords {
			query = fingerprintWithPasswords
		}
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
			return out, nil
		}
		g.conn.Close(context.Background())
		g.conn = nil
		if attempt > 0 {
			return nil, fmt.Errorf("fingerprint the shared server: %w", goneOr(err))
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

// changes lists what differs between two fingerprints and counts against the run.
func changes(before, after map[string]string) []string {
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
		if _, ok := after[k]; !ok {
			out = append(out, k+" removed")
		}
	}
	slices.Sort(out)
	return out
}

// start takes the fingerprint before a stretch of migration statements.
func (g *serverGuard) start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	fp, err := g.fingerprint()
	if err != nil {
		return err
	}
	g.before = fp
	return nil
}

// check compares the fingerprint after the stretch with the one before; it returns what changed.
func (g *serverGuard) check() ([]string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.before == nil {
		return nil, nil
	}
	fp, err := g.fingerprint()
	if err != nil {
		return nil, err
	}
	ch := changes(g.before, fp)
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
