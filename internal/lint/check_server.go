package lint

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// The rules in this file judge statements that reach beyond the schema: roles and their privileges,
// the database's and the server's configuration, files and programs of the database host, native code,
// other servers and other sessions. A migration runs with a highly privileged role, so what it does here
// it does with that role's authority.

// reach is what calling a function, or installing an extension, gives the migration.
type reach struct {
	rule string
	risk Risk
	what string // completes "<name> …"
}

// serverFuncs are the functions whose call acts on the server or its host, by name (any schema).
var serverFuncs = func() map[string]reach {
	m := map[string]reach{}
	for _, f := range []string{"pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir", "pg_ls_waldir",
		"pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_ls_logicalsnapdir", "pg_ls_logicalmapdir", "pg_ls_replslotdir", "pg_logdir_ls"} {
		m[f] = reach{"server-file-access", Dangerous, "reads files or directories of the database host"}
	}
	for _, f := range []string{"lo_import", "lo_export", "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync"} {
		m[f] = reach{"server-file-access", Dangerous, "reads or writes a file of the database host"}
	}
	m["pg_reload_conf"] = reach{"alter-system", Dangerous, "reloads the server's configuration files for every database"}
	m["pg_rotate_logfile"] = reach{"alter-system", Dangerous, "rotates the server's log file"}
	m["pg_promote"] = reach{"alter-system", Dangerous, "promotes a standby server to primary"}
	m["pg_switch_wal"] = reach{"alter-system", Dangerous, "forces a WAL segment switch on the server"}
	for _, f := range []string{"pg_create_physical_replication_slot", "pg_create_logical_replication_slot", "pg_drop_replication_slot",
		"pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot", "pg_replication_slot_advance"} {
		m[f] = reach{"alter-system", Dangerous, "manages a replication slot (a forgotten slot keeps WAL until the disk fills)"}
	}
	for _, f := range []string{"pg_wal_replay_pause", "pg_wal_replay_resume", "pg_backup_start", "pg_backup_stop", "pg_start_backup", "pg_stop_backup"} {
		m[f] = reach{"alter-system", Dangerous, "controls the server's WAL replay or backup"}
	}
	for _, f := range []string{"pg_replication_origin_create", "pg_replication_origin_drop", "pg_replication_origin_advance", "pg_replication_origin_session_setup"} {
		m[f] = reach{"alter-system", Dangerous, "manages a replication origin (where logical replication resumes: moved, it skips or replays changes)"}
	}
	m["pg_stat_reset_shared"] = reach{"alter-system", Caution, "resets statistics counters of the whole server"}
	m["pg_stat_reset_slru"] = reach{"alter-system", Caution, "resets statistics counters of the whole server"}
	m["pg_create_restore_point"] = reach{"alter-system", Caution, "writes a named restore point into the server's WAL"}
	m["pg_terminate_backend"] = reach{"other-sessions", Dangerous, "ends another session"}
	m["pg_cancel_backend"] = reach{"other-sessions", Dangerous, "cancels another session's query"}
	for _, f := range []string{"dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query", "dblink_open"} {
		m[f] = reach{"foreign-connection", Dangerous, "connects to another server and runs SQL there"}
	}
	return m
}()

// extensionReach are the extensions (and CREATE LANGUAGE names, which PostgreSQL turns into CREATE
// EXTENSION) that reach beyond the database.
var extensionReach = func() map[string]reach {
	m := map[string]reach{
		"adminpack": {"server-file-access", Dangerous, "adds pg_file_write, pg_file_rename and pg_file_unlink, which write and delete files of the database host"},
		"file_fdw":  {"server-file-access", Dangerous, "reads files of the database host, and runs programs, through foreign tables"},
	}
	for _, e := range []string{"plpython3u", "plpythonu", "plpython2u", "plperlu", "pltclu", "plsh", "plr", "plluau", "pljava"} {
		m[e] = reach{"untrusted-code", Dangerous, "is an untrusted language: its functions run as the server's operating-system user, without a sandbox"}
	}
	for _, e := range []string{"dblink", "postgres_fdw", "mysql_fdw", "oracle_fdw", "tds_fdw", "mongo_fdw", "redis_fdw", "http", "pg_net"} {
		m[e] = reach{"foreign-connection", Caution, "lets SQL open connections from the database host to other hosts"}
	}
	return m
}()

// untrustedLanguages are the function languages whose code runs outside any sandbox.
var untrustedLanguages = map[string]bool{"c": true, "internal": true, "plpython3u": true, "plpythonu": true, "plpython2u": true,
	"plperlu": true, "pltclu": true, "plsh": true, "plr": true, "plluau": true, "javau": true}

// adminRoles are well-known superuser or administrator roles of PostgreSQL and the managed services.
var adminRoles = map[string]bool{"postgres": true, "rds_superuser": true, "rdsadmin": true, "azure_pg_admin": true, "azuresu": true,
	"cloudsqlsuperuser": true, "cloudsqladmin": true, "alloydbsuperuser": true, "supabase_admin": true}

// serverRole tells whether membership in a role reaches the server: a predefined pg_* role
// (pg_execute_server_program, pg_read_server_files, pg_write_server_files, pg_signal_backend, …) or an
// administrator role.
func serverRole(name string) bool {
	name = strings.ToLower(name)
	return strings.HasPrefix(name, "pg_") || adminRoles[name]
}

// identitySettings are the settings that, set for a role or a database, load code into its sessions or
// switch their identity.
var identitySettings = map[string]bool{"session_preload_libraries": true, "local_preload_libraries": true, "shared_preload_libraries": true,
	"dynamic_library_path": true, "role": true, "session_authorization": true}

// serverRules runs the rules of this file on one statement; where prefixes messages for statements
// found inside a body (a DO block, a function), "" at the top level.
func (a *analyzer) serverRules(n *pg_query.Node, where string) {
	a.reachRules(n, where)
	switch {
	case n.GetCreateRoleStmt() != nil:
		a.createRole(n.GetCreateRoleStmt(), where)
	case n.GetAlterRoleStmt() != nil:
		a.alterRole(n.GetAlterRoleStmt(), where)
	case n.GetAlterRoleSetStmt() != nil:
		s := n.GetAlterRoleSetStmt()
		who := "every role"
		if s.Role != nil {
			who = "role " + sqlparse.RoleName(s.Role)
		}
		setting := strings.ToLower(s.GetSetstmt().GetName())
		risk := Caution
		if identitySettings[setting] {
			risk = Dangerous
		}
		a.server("role-privilege-change", risk, where, fmt.Sprintf("ALTER ROLE … SET %s changes every new session of %s", setting, who))
		if setting == "session_replication_role" {
			a.replicationRole(setValue(s.GetSetstmt()), "every new session of "+who, where)
		}
	case n.GetDropRoleStmt() != nil:
		var names []string
		risk := Caution
		for _, r := range n.GetDropRoleStmt().Roles {
			name := sqlparse.RoleName(r.GetRoleSpec())
			names = append(names, name)
			if !a.roles[name] {
				risk = Dangerous
			}
		}
		a.server("role-privilege-change", risk, where, fmt.Sprintf("DROP ROLE %s: every login and grant of the role goes", strings.Join(names, ", ")))
	case n.GetGrantRoleStmt() != nil:
		a.grantRole(n.GetGrantRoleStmt(), where)
	case n.GetGrantStmt() != nil:
		a.grantFunction(n.GetGrantStmt(), where)
	case n.GetReassignOwnedStmt() != nil:
		a.server("role-privilege-change", Dangerous, where, fmt.Sprintf("REASSIGN OWNED hands every object of the roles to %s", sqlparse.RoleName(n.GetReassignOwnedStmt().Newrole)))
	case n.GetDropOwnedStmt() != nil:
		a.server("role-privilege-change", Dangerous, where, "DROP OWNED drops every object the roles own in this database and revokes their privileges")
	case n.GetAlterDefaultPrivilegesStmt() != nil:
		for _, o := range n.GetAlterDefaultPrivilegesStmt().Options {
			if d := o.GetDefElem(); strings.EqualFold(d.GetDefname(), "roles") {
				a.server("role-privilege-change", Caution, where, fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s changes the privileges of every object those roles create from now on", strings.Join(roleList(d.Arg), ", ")))
			}
		}
	case n.GetRenameStmt() != nil:
		r := n.GetRenameStmt()
		switch r.RenameType {
		case pg_query.ObjectType_OBJECT_ROLE:
			risk := Dangerous
			if a.roles[r.Subname] {
				risk = Caution
			}
			a.server("role-privilege-change", risk, where, fmt.Sprintf("ALTER ROLE %s RENAME TO %s: logins as %s fail, and an MD5 password is cleared", r.Subname, r.Newname, r.Subname))
		case pg_query.ObjectType_OBJECT_DATABASE:
			a.server("alter-database", Dangerous, where, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s: every connection string that names it breaks", r.Subname, r.Newname))
		}
	case n.GetAlterOwnerStmt() != nil:
		if o := n.GetAlterOwnerStmt(); o.ObjectType == pg_query.ObjectType_OBJECT_DATABASE {
			a.server("alter-database", Dangerous, where, fmt.Sprintf("ALTER DATABASE %s OWNER TO %s: the new owner controls the database and can drop it", o.Object.GetString_().GetSval(), sqlparse.RoleName(o.Newowner)))
		}
	case n.GetAlterDatabaseStmt() != nil:
		d := n.GetAlterDatabaseStmt()
		var opts []string
		for _, o := range d.Options {
			opts = append(opts, strings.ToUpper(o.GetDefElem().GetDefname()))
		}
		a.server("alter-database", Dangerous, where, fmt.Sprintf("ALTER DATABASE %s %s changes who can connect to the database or where it is stored", d.Dbname, strings.Join(opts, ", ")))
	case n.GetAlterDatabaseSetStmt() != nil:
		d := n.GetAlterDatabaseSetStmt()
		setting := strings.ToLower(d.GetSetstmt().GetName())
		risk := Caution
		if identitySettings[setting] {
			risk = Dangerous
		}
		a.server("alter-database", risk, where, fmt.Sprintf("ALTER DATABASE %s SET %s changes every new session of every application that connects to it", d.Dbname, setting))
		if setting == "session_replication_role" {
			a.replicationRole(setValue(d.GetSetstmt()), "every new session of database "+d.Dbname, where)
		}
	case n.GetAlterSystemStmt() != nil:
		a.server("alter-system", Dangerous, where, fmt.Sprintf("ALTER SYSTEM … %s changes the configuration of the whole server, for every database, and survives restarts", strings.ToLower(n.GetAlterSystemStmt().GetSetstmt().GetName())))
	case n.GetCopyStmt() != nil:
		c := n.GetCopyStmt()
		dir := "TO"
		if c.IsFrom {
			dir = "FROM"
		}
		switch {
		case c.IsProgram:
			a.server("server-program", Dangerous, where, fmt.Sprintf("COPY … %s PROGRAM %s runs a shell command on the database host as the server's operating-system user", dir, quoteLiteral(c.Filename)))
		case c.Filename != "":
			a.server("server-file-access", Dangerous, where, fmt.Sprintf("COPY … %s %s reads or writes a file of the database host as the server's operating-system user", dir, quoteLiteral(c.Filename)))
		}
	case n.GetCreateExtensionStmt() != nil:
		name := strings.ToLower(n.GetCreateExtensionStmt().Extname)
		if r, ok := extensionReach[name]; ok {
			a.server(r.rule, r.risk, where, fmt.Sprintf("CREATE EXTENSION %s: %s %s", name, name, r.what))
		}
	case n.GetCreatePlangStmt() != nil:
		a.server("untrusted-code", Dangerous, where, fmt.Sprintf("CREATE LANGUAGE %s with a handler: the handler is native code that runs inside the server", n.GetCreatePlangStmt().Plname))
	case n.GetCreateFunctionStmt() != nil:
		a.createFunction(n.GetCreateFunctionStmt(), where)
	case n.GetDoStmt() != nil:
		lang, body := "plpgsql", ""
		for _, o := range n.GetDoStmt().Args {
			switch d := o.GetDefElem(); strings.ToLower(d.GetDefname()) {
			case "language":
				lang = strings.ToLower(d.Arg.GetString_().GetSval())
			case "as":
				body = d.Arg.GetString_().GetSval()
			}
		}
		if untrustedLanguages[lang] {
			a.server("untrusted-code", Dangerous, where, fmt.Sprintf("DO block in the untrusted language %s runs as the server's operating-system user", lang))
		}
		if where == "" {
			a.scanBody(body, "in the DO block: ")
			if lang == "plpgsql" {
				a.dynamicSQL(body, "", "in the DO block: ")
			}
		}
	case n.GetLoadStmt() != nil:
		a.server("untrusted-code", Dangerous, where, fmt.Sprintf("LOAD %s loads a shared library into the server process", quoteLiteral(n.GetLoadStmt().Filename)))
	case n.GetVariableSetStmt() != nil:
		v := n.GetVariableSetStmt()
		if v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE && len(v.Args) == 1 {
			a.switchRole(strings.ToLower(v.Name), v.Args[0].GetAConst().GetSval().GetSval(), where)
		}
	case n.GetCreateForeignServerStmt() != nil:
		s := n.GetCreateForeignServerStmt()
		if !strings.EqualFold(s.Fdwname, "file_fdw") {
			a.server("foreign-connection", Caution, where, fmt.Sprintf("CREATE SERVER %s (%s) lets the database connect to another host", s.Servername, s.Fdwname))
		}
	case n.GetCreateUserMappingStmt() != nil:
		a.userMapping("CREATE", n.GetCreateUserMappingStmt().Servername, n.GetCreateUserMappingStmt().Options, where)
	case n.GetAlterUserMappingStmt() != nil:
		a.userMapping("ALTER", n.GetAlterUserMappingStmt().Servername, n.GetAlterUserMappingStmt().Options, where)
	case n.GetImportForeignSchemaStmt() != nil:
		s := n.GetImportForeignSchemaStmt()
		a.server("foreign-connection", Caution, where, fmt.Sprintf("IMPORT FOREIGN SCHEMA %s FROM SERVER %s connects to another host and exposes its tables here", s.RemoteSchema, s.ServerName))
	case n.GetCreateSubscriptionStmt() != nil:
		a.server("foreign-connection", Dangerous, where, fmt.Sprintf("CREATE SUBSCRIPTION %s connects to another server and writes its replicated rows into local tables", n.GetCreateSubscriptionStmt().Subname))
	case n.GetCreateForeignTableStmt() != nil:
		for _, o := range n.GetCreateForeignTableStmt().Options {
			d := o.GetDefElem()
			switch strings.ToLower(d.GetDefname()) {
			case "program":
				a.server("server-program", Dangerous, where, fmt.Sprintf("foreign table with program %s: every read runs a shell command on the database host", quoteLiteral(d.Arg.GetString_().GetSval())))
			case "filename":
				a.server("server-file-access", Dangerous, where, fmt.Sprintf("foreign table on the file %s: every read reads a file of the database host", quoteLiteral(d.Arg.GetString_().GetSval())))
			}
		}
	}
	if where == "" && mayCallServerFunc(a.stmt.Code()) {
		a.serverCalls(n, where) // a body's calls are found in its text (scanBody)
	}
}

// mayCallServerFunc is a fast pre-check for serverCalls, whose walk over the tree is costly: every name
// of serverFuncs, and set_config, starts with pg_, lo_, dblink or set_config, in any case.
func mayCallServerFunc(sql string) bool {
	for i := 0; i+3 <= len(sql); i++ {
		switch sql[i] | 0x20 {
		case 'p':
			if strings.EqualFold(sql[i:i+3], "pg_") {
				return true
			}
		case 'l':
			if strings.EqualFold(sql[i:i+3], "lo_") {
				return true
			}
		case 'd':
			if i+6 <= len(sql) && strings.EqualFold(sql[i:i+6], "dblink") {
				return true
			}
		case 's':
			if i+10 <= len(sql) && strings.EqualFold(sql[i:i+10], "set_config") {
				return true
			}
		}
	}
	return false
}

// server records a finding of one of this file's rules: one per rule and statement, at the highest
// risk seen, its message naming each reason once.
func (a *analyzer) server(id string, risk Risk, where, msg string) {
	msg = where + msg
	for i := a.first; i < len(a.out); i++ {
		if f := &a.out[i]; f.Rule == id {
			f.Risk = Max(f.Risk, risk)
			if !strings.Contains(f.Message, msg) {
				f.Message += "; " + msg
			}
			return
		}
	}
	a.add(id, msg).Risk = risk
}

// serverCalls judges the calls of the statement's parse tree (SELECT, views, defaults, SQL-standard
// function bodies …): functions that act on the server, and set_config of the session's role.
func (a *analyzer) serverCalls(n *pg_query.Node, where string) {
	walk(n, func(m proto.Message) {
		fc, ok := m.(*pg_query.FuncCall)
		if !ok {
			return
		}
		name := lastName(fc.Funcname)
		if name == "set_config" && len(fc.Args) > 1 {
			a.switchRole(strings.ToLower(fc.Args[0].GetAConst().GetSval().GetSval()), fc.Args[1].GetAConst().GetSval().GetSval(), where)
			return
		}
		r, ok := serverFuncs[name]
		if !ok {
			return
		}
		if r.rule == "other-sessions" && len(fc.Args) > 0 && lastName(fc.Args[0].GetFuncCall().GetFuncname()) == "pg_backend_pid" {
			return // its own session
		}
		a.server(r.rule, r.risk, where, fmt.Sprintf("%s() %s", name, r.what))
	})
}

// switchRole judges SET ROLE / SET SESSION AUTHORIZATION and their set_config forms. A role's name is
// kept as given (the parser has folded an unquoted one): "Deployer" and deployer are two roles.
func (a *analyzer) switchRole(setting, value, where string) {
	switch {
	case setting == "session_replication_role":
		a.replicationRole(value, "the session", where)
	case setting == "session_authorization":
		a.server("switch-role", Dangerous, where, fmt.Sprintf("SET SESSION AUTHORIZATION %s: the statements after it run as that role, which only a superuser may choose", value))
	case setting == "role" && value != "none":
		risk := Caution
		if serverRole(value) {
			risk = Dangerous
		}
		if value == "" {
			value = "(a role chosen at run time)"
		}
		a.server("switch-role", risk, where, fmt.Sprintf("SET ROLE %s: the statements after it run with that role's privileges and create objects it owns", value))
	}
}

// roleOptions are the CREATE/ALTER ROLE options that reach beyond the role's own tables.
var roleOptions = map[string]string{"superuser": "SUPERUSER", "createrole": "CREATEROLE", "bypassrls": "BYPASSRLS", "isreplication": "REPLICATION"}

// roleGrants judges the options CREATE ROLE and ALTER ROLE share: the dangerous attributes and
// membership in server roles. It returns the dangerous parts, for the message.
func roleGrants(opts []*pg_query.Node, role string) (dangerous []string) {
	for _, o := range opts {
		d := o.GetDefElem()
		name := strings.ToLower(d.GetDefname())
		if attr, ok := roleOptions[name]; ok && d.Arg.GetBoolean().GetBoolval() {
			dangerous = append(dangerous, attr)
		}
		switch name {
		case "addroleto": // IN ROLE x: the role joins x
			for _, r := range roleList(d.Arg) {
				if serverRole(r) {
					dangerous = append(dangerous, "membership in "+r)
				}
			}
		case "rolemembers", "adminmembers": // ROLE x / ADMIN x, ALTER GROUP … ADD USER x: x joins the role
			if serverRole(role) {
				dangerous = append(dangerous, "new members of "+role)
			}
		}
	}
	return dangerous
}

func (a *analyzer) createRole(s *pg_query.CreateRoleStmt, where string) {
	if a.roles == nil {
		a.roles = map[string]bool{}
	}
	a.roles[s.Role] = true
	kind := "ROLE"
	if s.StmtType == pg_query.RoleStmtType_ROLESTMT_USER {
		kind = "USER"
	}
	msg := fmt.Sprintf("CREATE %s %s", kind, s.Role)
	if d := roleGrants(s.Options, s.Role); len(d) > 0 {
		a.server("role-privilege-change", Dangerous, where, msg+" with "+strings.Join(d, ", ")+": a role that reaches the server, its files or every row")
		return
	}
	for _, o := range s.Options {
		if strings.EqualFold(o.GetDefElem().GetDefname(), "password") && o.GetDefElem().Arg != nil {
			msg += " with a password written in the migration, readable by everyone with the repository"
		}
	}
	a.server("role-privilege-change", Caution, where, msg+": roles and logins belong to the server's provisioning")
}

func (a *analyzer) alterRole(s *pg_query.AlterRoleStmt, where string) {
	role := sqlparse.RoleName(s.Role)
	msg := "ALTER ROLE " + role
	d := roleGrants(s.Options, role)
	for _, o := range s.Options {
		if strings.EqualFold(o.GetDefElem().GetDefname(), "password") && !a.roles[role] {
			d = append(d, "a new password for an existing role (whoever knows it logs in as "+role+")")
		}
	}
	if len(d) > 0 {
		a.server("role-privilege-change", Dangerous, where, msg+" gives "+strings.Join(d, ", "))
		return
	}
	a.server("role-privilege-change", Caution, where, msg+" changes a role's attributes or members")
}

func (a *analyzer) grantRole(s *pg_query.GrantRoleStmt, where string) {
	var granted, server []string
	for _, r := range s.GrantedRoles {
		name := r.GetAccessPriv().GetPrivName()
		granted = append(granted, name)
		if serverRole(name) {
			server = append(server, name)
		}
	}
	to := strings.Join(roleList(&pg_query.Node{Node: &pg_query.Node_List{List: &pg_query.List{Items: s.GranteeRoles}}}), ", ")
	if !s.IsGrant {
		a.server("role-privilege-change", Caution, where, fmt.Sprintf("REVOKE %s FROM %s changes what those roles may do", strings.Join(granted, ", "), to))
		return
	}
	if len(server) > 0 {
		a.server("role-privilege-change", Dangerous, where, fmt.Sprintf("GRANT %s TO %s: membership in a server role (files, programs, other sessions, or a superuser's role)", strings.Join(server, ", "), to))
		return
	}
	a.server("role-privilege-change", Caution, where, fmt.Sprintf("GRANT %s TO %s: the grantees get every privilege of those roles", strings.Join(granted, ", "), to))
}

// grantFunction judges GRANT EXECUTE on the functions that act on the server.
func (a *analyzer) grantFunction(s *pg_query.GrantStmt, where string) {
	if !s.IsGrant || s.Objtype != pg_query.ObjectType_OBJECT_FUNCTION {
		return
	}
	for _, o := range s.Objects {
		name := lastName(o.GetObjectWithArgs().GetObjname())
		if r, ok := serverFuncs[name]; ok {
			a.server(r.rule, r.risk, where, fmt.Sprintf("GRANT EXECUTE ON FUNCTION %s: the grantees may call it, and it %s", name, r.what))
		}
	}
}

func (a *analyzer) createFunction(s *pg_query.CreateFunctionStmt, where string) {
	lang, body, lib := "sql", "", ""
	for _, o := range s.Options {
		switch d := o.GetDefElem(); strings.ToLower(d.GetDefname()) {
		case "language":
			lang = strings.ToLower(d.Arg.GetString_().GetSval())
		case "as":
			var parts []string
			for _, it := range d.Arg.GetList().GetItems() {
				parts = append(parts, it.GetString_().GetSval())
			}
			body = strings.Join(parts, ", ")
			if len(parts) > 0 {
				lib = parts[0]
			}
		}
	}
	kind := "FUNCTION"
	if s.IsProcedure {
		kind = "PROCEDURE"
	}
	name := lastName(s.Funcname)
	switch {
	case lang == "c":
		a.server("untrusted-code", Dangerous, where, fmt.Sprintf("CREATE %s %s … LANGUAGE c loads the shared library %s into the server process", kind, name, quoteLiteral(lib)))
		return
	case lang == "internal":
		a.server("untrusted-code", Dangerous, where, fmt.Sprintf("CREATE %s %s … LANGUAGE internal exposes the built-in C function %s under a new name", kind, name, lib))
		return
	case untrustedLanguages[lang]:
		a.server("untrusted-code", Dangerous, where, fmt.Sprintf("CREATE %s %s … LANGUAGE %s: an untrusted language, its code runs as the server's operating-system user", kind, name, lang))
	}
	if where == "" {
		a.scanBody(body, fmt.Sprintf("in the body of %s: ", name))
		if lang == "plpgsql" {
			a.dynamicSQL(body, kind+" "+name, fmt.Sprintf("in the body of %s: ", name))
		}
	}
}

func (a *analyzer) userMapping(verb, server string, opts []*pg_query.Node, where string) {
	for _, o := range opts {
		if strings.EqualFold(o.GetDefElem().GetDefname(), "password") {
			a.server("foreign-connection", Dangerous, where, fmt.Sprintf("%s USER MAPPING for server %s with a password written in the migration, readable by everyone with the repository", verb, server))
			return
		}
	}
	a.server("foreign-connection", Caution, where, fmt.Sprintf("%s USER MAPPING for server %s: the credentials the database uses to log in to another host", verb, server))
}

// bodyCallRE finds calls of the functions of serverFuncs, and set_config, in a body's text.
var bodyCallRE = serverCallRE(nil, "set_config")

// ServerCallRE finds, in SQL text, a call of a function that acts on the server or its host, the
// functions whose calls the lint judges (server-file-access, alter-system, other-sessions,
// foreign-connection), in any schema and quoted or not: "pg_read_file"(…) calls pg_read_file. With
// rules, only the functions of those rules. The rehearsal's checks of what a migration reaches (a
// shared server, a CI job's machine) find calls in text with it, so that they know the functions the
// lint knows.
func ServerCallRE(rules ...string) *regexp.Regexp {
	return serverCallRE(rules)
}

func serverCallRE(rules []string, extra ...string) *regexp.Regexp {
	names := extra
	for n, r := range serverFuncs {
		if len(rules) == 0 || slices.Contains(rules, r.rule) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return regexp.MustCompile(`(?i)\b(` + strings.Join(names, "|") + `)"?\s*\(`)
}

// bodyFallback are the statements judged from their words when their text does not parse (it is
// built at run time, or cut short): only the ones whose words alone are unambiguous.
var bodyFallback = []struct {
	re   *regexp.Regexp
	rule string
	risk Risk
	msg  string
}{
	{regexp.MustCompile(`(?is)^COPY\b.*\bPROGRAM\b`), "server-program", Dangerous, "COPY … PROGRAM runs a shell command on the database host"},
	{regexp.MustCompile(`(?i)^ALTER\s+SYSTEM\b`), "alter-system", Dangerous, "ALTER SYSTEM changes the configuration of the whole server"},
	{regexp.MustCompile(`(?i)^SET\s+(?:SESSION\s+)?SESSION\s+AUTHORIZATION\b`), "switch-role", Dangerous, "SET SESSION AUTHORIZATION switches the session to another role"},
	{regexp.MustCompile(`(?i)^SET\s+(?:(?:SESSION|LOCAL)\s+)?ROLE\b`), "switch-role", Caution, "SET ROLE switches the session to another role"},
	{regexp.MustCompile(`(?i)^(?:CREATE|ALTER|DROP)\s+(?:ROLE|GROUP|USER)\b`), "role-privilege-change", Caution, "a role is created, changed or dropped"},
	{regexp.MustCompile(`(?i)^(?:REASSIGN|DROP)\s+OWNED\b`), "role-privilege-change", Dangerous, "REASSIGN/DROP OWNED changes or drops every object of a role"},
	{regexp.MustCompile(`(?i)^CREATE\s+SUBSCRIPTION\b`), "foreign-connection", Dangerous, "CREATE SUBSCRIPTION connects to another server"},
}

var userMappingRE = regexp.MustCompile(`(?i)^(?:CREATE|ALTER|DROP)\s+USER\s+MAPPING\b`)

// untrustedLangRE finds an untrusted language or native code named in a body (a CREATE FUNCTION built
// at run time).
var untrustedLangRE = regexp.MustCompile(`(?i)\bLANGUAGE\s+'?"?(c|internal|plpython3u|plpythonu|plpython2u|plperlu|pltclu|plsh|plr|plluau)\b`)

// scanBody judges the text of a DO block or function body, which the parse tree does not reach: each
// statement this file judges is cut out (up to its semicolon), parsed and judged like a top-level one;
// calls are found by name. Text built at run time from pieces escapes it; the DO block itself stays
// caution (opaque-statement), and calling the function does too.
func (a *analyzer) scanBody(body, where string) {
	if body == "" {
		return
	}
	words := bodyWords(body)
	a.bodyStatements(body, words, where)
	if slices.ContainsFunc(words, func(w bodyWord) bool { return w.is("language") }) {
		if m := untrustedLangRE.FindStringSubmatch(body); m != nil {
			a.server("untrusted-code", Dangerous, where, fmt.Sprintf("creates code in LANGUAGE %s, which runs as the server's operating-system user", strings.ToLower(m[1])))
		}
	}
	if mayCallServerFunc(body) {
		a.bodyCalls(body, where)
	}
}

// bodyWord is a word of a body's text (letters, digits, _) and where it starts.
type bodyWord struct {
	at   int
	text string
}

func (w bodyWord) is(s string) bool { return strings.EqualFold(w.text, s) }

// bodyWords cuts text into its words; a word scan is much cheaper than regular expressions over every
// body of a migration.
func bodyWords(text string) []bodyWord {
	var out []bodyWord
	start := -1
	for i := 0; i <= len(text); i++ {
		word := i < len(text) && (text[i] == '_' || text[i] >= 'a' && text[i] <= 'z' || text[i] >= 'A' && text[i] <= 'Z' || text[i] >= '0' && text[i] <= '9')
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, bodyWord{start, text[start:i]})
			start = -1
		}
	}
	return out
}

// bodyStatementAt tells whether the words from i on begin a statement this file judges.
func bodyStatementAt(words []bodyWord, i int) bool {
	next := func(k int, any ...string) bool {
		if i+k >= len(words) {
			return false
		}
		return slices.ContainsFunc(any, words[i+k].is)
	}
	w := words[i]
	switch {
	case w.is("copy"), w.is("grant"), w.is("revoke"), w.is("load"):
		return true
	case w.is("alter"):
		return next(1, "system", "role", "user", "group", "database", "event", "publication", "subscription") || next(1, "default") && next(2, "privileges")
	case w.is("create"):
		return next(1, "role", "user", "group", "extension", "server", "subscription", "language", "event", "publication") ||
			next(1, "trusted", "procedural") || next(1, "or") && next(2, "replace") && next(3, "trusted", "procedural", "language")
	case w.is("drop"):
		return next(1, "role", "user", "group", "owned", "event")
	case w.is("reassign"):
		return next(1, "owned")
	case w.is("set"):
		return next(1, "role", "session_replication_role") || next(1, "session", "local") && next(2, "role", "session", "session_replication_role")
	}
	return false
}

// bodyStatements judges the statements of a body that bodyStatementAt finds: each is cut out up to its
// semicolon, parsed and judged like a top-level statement, or judged from its words when it does not parse.
func (a *analyzer) bodyStatements(body string, words []bodyWord, where string) {
	for i := range words {
		if !bodyStatementAt(words, i) {
			continue
		}
		text := body[words[i].at:]
		if end := strings.IndexByte(text, ';'); end >= 0 {
			text = text[:end]
		}
		if n := parseOne(text); n != nil {
			a.serverRules(n, where)
			continue
		}
		for _, f := range bodyFallback {
			if f.re.MatchString(text) && !userMappingRE.MatchString(text) {
				a.server(f.rule, f.risk, where, f.msg)
				break
			}
		}
	}
}

// bodyCalls judges the calls of serverFuncs, and set_config, in a body, found by name.
func (a *analyzer) bodyCalls(body, where string) {
	for _, m := range bodyCallRE.FindAllStringSubmatchIndex(body, -1) {
		name := strings.ToLower(body[m[2]:m[3]])
		if name == "set_config" {
			args := body[m[1]:]
			if end := strings.IndexByte(args, ')'); end >= 0 {
				args = args[:end]
			}
			parts := strings.SplitN(args, ",", 3)
			arg := strings.ToLower(strings.Trim(strings.TrimSpace(parts[0]), `'`))
			value := "" // not a literal: judged as a switch to an ordinary role
			if len(parts) > 1 {
				if v := strings.TrimSpace(parts[1]); len(v) > 1 && v[0] == '\'' && v[len(v)-1] == '\'' {
					value = v[1 : len(v)-1]
				}
			}
			a.switchRole(arg, value, where)
			continue
		}
		r := serverFuncs[name]
		if r.rule == "other-sessions" && strings.HasPrefix(strings.ToLower(strings.TrimSpace(body[m[1]:])), "pg_backend_pid()") {
			continue
		}
		a.server(r.rule, r.risk, where, fmt.Sprintf("%s() %s", name, r.what))
	}
}

// parseOne parses text cut out of a body as one statement: as written, and with the doubled quotes
// of a string literal undone (the text an EXECUTE of a literal runs).
func parseOne(text string) *pg_query.Node {
	unq := strings.ReplaceAll(text, "''", "'")
	for _, t := range []string{text, unq, strings.TrimSuffix(strings.TrimSpace(unq), "'")} {
		sts := sqlparse.Parse(t)
		if len(sts) == 1 && sts[0].Err == nil && sts[0].Node != nil {
			return sts[0].Node
		}
	}
	return nil
}

// roleList reads a list of RoleSpec nodes.
func roleList(n *pg_query.Node) []string {
	var out []string
	for _, it := range n.GetList().GetItems() {
		out = append(out, sqlparse.RoleName(it.GetRoleSpec()))
	}
	return out
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
