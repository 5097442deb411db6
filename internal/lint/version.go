package lint

import (
	"fmt"
	"regexp"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// feature is syntax (or a name the server must know) that arrived in a PostgreSQL release: a statement
// using it fails on an older server, as err says.
type feature struct {
	what  string // as a finding names it: "MERGE … RETURNING"
	since int    // the first major version that has it
	err   string // what an older server answers, in its words; "" for a syntax error
}

// The features newerFeatures finds. Each was run on PostgreSQL 15 (the errors are its answers); the
// versions are the release notes'.
var (
	featGrantRoleOptions = feature{"GRANT/REVOKE of a role WITH INHERIT, SET or ADMIN TRUE/FALSE", 16, ""}
	featSystemUser       = feature{"SYSTEM_USER", 16, `column "system_user" does not exist`}
	featIsJSON           = feature{"the IS JSON predicate", 16, ""}
	featCopyDefault      = feature{"COPY … (DEFAULT …)", 16, `option "default" not recognized`}
	featMerge            = feature{"MERGE", 15, ""}
	featMergeReturning   = feature{"MERGE … RETURNING", 17, ""}
	featMergeInWith      = feature{"MERGE in a WITH clause", 17, `MERGE not supported in WITH query`}
	featJSONTable        = feature{"JSON_TABLE", 17, ""}
	featMaintain         = feature{"the MAINTAIN privilege", 17, `unrecognized privilege type "maintain"`}
	featPgMaintain       = feature{"the pg_maintain role", 17, `role "pg_maintain" does not exist`}
	featBuiltinProvider  = feature{"the builtin collation provider", 17, "unrecognized collation provider: builtin"}
	featTxTimeout        = feature{"the transaction_timeout setting", 17, `unrecognized configuration parameter "transaction_timeout"`}
	featSetExpression    = feature{"ALTER COLUMN … SET EXPRESSION", 17, ""}
	featSetAM            = feature{"ALTER TABLE … SET ACCESS METHOD", 15, ""}
	featSetAMDefault     = feature{"SET ACCESS METHOD DEFAULT", 17, ""}
	featStatsDefault     = feature{"SET STATISTICS DEFAULT", 17, ""}
	featLoginTrigger     = feature{"an event trigger ON login", 17, `unrecognized event name "login"`}
	featIdentityParts    = feature{"an identity column added to a partitioned table that has partitions", 17, `cannot recursively add identity column to table that has child tables`}
)

// jsonFeature names the SQL/JSON constructor or query function a parse node is, if it is one.
func jsonFeature(m proto.Message) (feature, bool) {
	switch x := m.(type) {
	case *pg_query.JsonObjectConstructor:
		return feature{"JSON_OBJECT(… VALUE …)", 16, ""}, true
	case *pg_query.JsonArrayConstructor, *pg_query.JsonArrayQueryConstructor:
		return feature{"the JSON_ARRAY constructor", 16, `function json_array(…) does not exist`}, true
	case *pg_query.JsonObjectAgg:
		return feature{"JSON_OBJECTAGG", 16, ""}, true
	case *pg_query.JsonArrayAgg:
		return feature{"JSON_ARRAYAGG", 16, `function json_arrayagg(…) does not exist`}, true
	case *pg_query.JsonTable:
		return featJSONTable, true
	case *pg_query.JsonFuncExpr:
		name := strings.TrimSuffix(strings.TrimPrefix(x.Op.String(), "JSON_"), "_OP")
		return feature{"JSON_" + name, 17, fmt.Sprintf(`function json_%s(…) does not exist`, strings.ToLower(name))}, true
	case *pg_query.JsonScalarExpr:
		return feature{"JSON_SCALAR", 17, `function json_scalar(…) does not exist`}, true
	case *pg_query.JsonSerializeExpr:
		return feature{"JSON_SERIALIZE", 17, ""}, true
	}
	// JSON(…) (JsonParseExpr) is left out: older servers read JSON('{}') as a cast to json.
	return feature{}, false
}

// adminOption matches the only role option an older server has: WITH ADMIN OPTION (REVOKE ADMIN OPTION FOR).
var adminOption = regexp.MustCompile(`(?i)^admin\s+option\b`)

// newerFeatures flags, wherever they appear in the statement, the features the target server is too
// old for: the grammar embedded is PostgreSQL 17's, which parses them all, while the target's refuses
// them and the deploy stops at the statement.
func (a *analyzer) newerFeatures(n *pg_query.Node) {
	major := a.cfg.Major()
	if major >= 17 {
		return
	}
	var found []feature
	use := func(f feature) {
		for _, g := range found {
			if g.what == f.what {
				return
			}
		}
		if f.since > major {
			found = append(found, f)
		}
	}
	walk(n, func(m proto.Message) {
		if f, ok := jsonFeature(m); ok {
			use(f)
			return
		}
		switch x := m.(type) {
		case *pg_query.GrantRoleStmt:
			if a.newRoleOptions(x) {
				use(featGrantRoleOptions)
			}
			for _, r := range x.GrantedRoles {
				if r.GetAccessPriv().GetPrivName() == "pg_maintain" {
					use(featPgMaintain)
				}
			}
		case *pg_query.GrantStmt:
			for _, p := range x.Privileges {
				if strings.EqualFold(p.GetAccessPriv().GetPrivName(), "maintain") {
					use(featMaintain)
				}
			}
		case *pg_query.RoleSpec:
			if x.Rolename == "pg_maintain" {
				use(featPgMaintain)
			}
		case *pg_query.FuncCall:
			switch name := lastName(x.Funcname); {
			case name == "system_user" && x.Funcformat == pg_query.CoercionForm_COERCE_SQL_SYNTAX:
				use(featSystemUser)
			case name == "set_config" && len(x.Args) > 0 && strings.EqualFold(x.Args[0].GetAConst().GetSval().GetSval(), "transaction_timeout"):
				use(featTxTimeout)
			}
		case *pg_query.JsonIsPredicate:
			use(featIsJSON)
		case *pg_query.CopyStmt:
			for _, o := range x.Options {
				switch o.GetDefElem().GetDefname() {
				case "default":
					use(featCopyDefault)
				case "on_error", "log_verbosity":
					use(feature{"COPY … (" + strings.ToUpper(o.GetDefElem().GetDefname()) + " …)", 17, fmt.Sprintf(`option "%s" not recognized`, o.GetDefElem().GetDefname())})
				}
			}
		case *pg_query.MergeStmt:
			use(featMerge)
			if len(x.ReturningList) > 0 {
				use(featMergeReturning)
			}
		case *pg_query.CommonTableExpr:
			if x.Ctequery.GetMergeStmt() != nil {
				use(featMergeInWith)
			}
		case *pg_query.DefineStmt:
			if x.Kind == pg_query.ObjectType_OBJECT_COLLATION && builtinProvider(x.Definition, "provider") {
				use(featBuiltinProvider)
			}
		case *pg_query.CreatedbStmt:
			if builtinProvider(x.Options, "locale_provider") {
				use(featBuiltinProvider)
			}
		case *pg_query.VariableSetStmt:
			if strings.EqualFold(x.Name, "transaction_timeout") {
				use(featTxTimeout)
			}
		case *pg_query.VariableShowStmt:
			if strings.EqualFold(x.Name, "transaction_timeout") {
				use(featTxTimeout)
			}
		case *pg_query.CreateEventTrigStmt:
			if strings.EqualFold(x.Eventname, "login") {
				use(featLoginTrigger)
			}
		case *pg_query.AlterTableStmt:
			for _, c := range x.Cmds {
				cmd := c.GetAlterTableCmd()
				switch cmd.GetSubtype() {
				case pg_query.AlterTableType_AT_SetExpression:
					use(featSetExpression)
				case pg_query.AlterTableType_AT_SetAccessMethod:
					use(featSetAM)
					if cmd.Name == "" {
						use(featSetAMDefault)
					}
				case pg_query.AlterTableType_AT_SetStatistics:
					if cmd.Def == nil {
						use(featStatsDefault)
					}
				case pg_query.AlterTableType_AT_AddColumn:
					key := a.st.rel(x.Relation)
					if _, partitioned := a.st.partitioned[key]; partitioned && x.Relation.GetInh() && identityColumn(cmd.Def.GetColumnDef()) && a.st.hasPartitions(key) {
						use(featIdentityParts)
					}
				}
			}
		}
	})
	switch {
	case len(found) == 1:
		f := found[0]
		a.add("version-unsupported", fmt.Sprintf("%s is not available on PostgreSQL %d (it arrived in %d): the statement fails %s, so the deploy stops here", f.what, major, f.since, f.failure()))
	case len(found) > 1:
		// One finding for the statement, which fails at the first.
		names := make([]string, len(found))
		for i, f := range found {
			names[i] = fmt.Sprintf("%s (%d)", f.what, f.since)
		}
		a.add("version-unsupported", fmt.Sprintf("%s are not available on PostgreSQL %d: the statement fails %s, so the deploy stops here", andList(names), major, found[0].failure()))
	}
}

// failure says how the statement fails on an older server.
func (f feature) failure() string {
	if f.err == "" {
		return "with a syntax error"
	}
	return "(" + f.err + ")"
}

// newRoleOptions tells whether a GRANT or REVOKE of role membership uses the option syntax of
// PostgreSQL 16 (WITH INHERIT …, WITH SET …, WITH ADMIN TRUE/FALSE, REVOKE INHERIT OPTION FOR): only
// WITH ADMIN OPTION and REVOKE ADMIN OPTION FOR are older, and the parse tree writes ADMIN OPTION as
// ADMIN TRUE, so the text at the option tells them apart (taken as ADMIN OPTION when out of reach).
func (a *analyzer) newRoleOptions(g *pg_query.GrantRoleStmt) bool {
	for _, o := range g.Opt {
		d := o.GetDefElem()
		if d.GetDefname() != "admin" {
			return true
		}
		if !g.IsGrant {
			continue // REVOKE ADMIN OPTION FOR
		}
		if !d.GetArg().GetBoolean().GetBoolval() {
			return true // WITH ADMIN FALSE
		}
		if a.stmt != nil {
			if off := a.stmt.Offset(d.Location); off >= 0 && !adminOption.MatchString(a.stmt.SQL[off:]) {
				return true // WITH ADMIN TRUE
			}
		}
	}
	return false
}

// builtinProvider tells whether the options set the provider named key to builtin.
func builtinProvider(opts []*pg_query.Node, key string) bool {
	for _, o := range opts {
		d := o.GetDefElem()
		if !strings.EqualFold(d.GetDefname(), key) {
			continue
		}
		v := d.GetArg().GetString_().GetSval()
		if names := d.GetArg().GetTypeName().GetNames(); len(names) == 1 {
			v = names[0].GetString_().GetSval()
		}
		if strings.EqualFold(v, "builtin") {
			return true
		}
	}
	return false
}

// identityColumn tells whether a column definition makes an identity column.
func identityColumn(cd *pg_query.ColumnDef) bool {
	for _, c := range cd.GetConstraints() {
		if c.GetConstraint().GetContype() == pg_query.ConstrType_CONSTR_IDENTITY {
			return true
		}
	}
	return false
}
