package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file compares and restores the database's own settings (ALTER DATABASE … SET, pg_db_role_setting
// rows of no role, Catalog.DatabaseSettings): what every new session of the database starts with, as a
// role's settings are for its sessions; and its owner, comment, connection limit, IS_TEMPLATE and
// ALLOW_CONNECTIONS (pg_database.datistemplate, datallowconn). The database's name is not part of
// them: the rehearsal's throwaway database, its copy and production's are each called otherwise.

// databaseKey is the key of the one KindDatabase object a catalog has.
const databaseKey = "database"

// databaseObject is the database's settings, owner, comment, connection limit, IS_TEMPLATE and
// ALLOW_CONNECTIONS as one object that every catalog has (listed: a setting that comes or goes is a
// property that changes, from or to not set), its settings' properties named "setting name" with the
// value. Its privileges are KindPrivilege objects, one privilege of one grantee each (see
// BuiltInPrivilege).
func (c *Catalog) databaseObject() object {
	var props []PropertyChange
	for name, v := range settingMap(c.DatabaseSettings) {
		props = append(props, prop(settingProperty+name, v))
	}
	props = append(props, prop("owner", c.DatabaseOwner), prop("comment", c.DatabaseComment),
		prop("connection limit", c.DatabaseConnectionLimit), prop(isTemplateProperty, boolStr(c.DatabaseIsTemplate)),
		prop(allowConnectionsProperty, boolStr(!c.DatabaseConnectionsDisallowed)))
	slices.SortFunc(props, func(a, b PropertyChange) int { return strings.Compare(a.Property, b.Property) })
	return object{kind: KindDatabase, key: databaseKey, listed: true, props: props}
}

// The database's IS_TEMPLATE and ALLOW_CONNECTIONS, as properties and sentences name them.
const (
	isTemplateProperty       = "IS_TEMPLATE"
	allowConnectionsProperty = "ALLOW_CONNECTIONS"
)

// databaseSentence describes a change of one of the database's settings, its owner, comment,
// connection limit, IS_TEMPLATE or ALLOW_CONNECTIONS: "the database's setting work_mem is 64MB after
// the down, was not set", "the database's comment is "orders db" after the down, was none", "the
// database's IS_TEMPLATE is true after the down, was false".
func databaseSentence(pc PropertyChange, when string) string {
	switch pc.Property {
	case "owner":
		return fmt.Sprintf("the database's owner is %s %s, was %s", pc.New, when, pc.Old)
	case "comment":
		return fmt.Sprintf("the database's comment is %s %s, was %s", quotedComment(pc.New), when, quotedComment(pc.Old))
	case "connection limit":
		return fmt.Sprintf("the database's connection limit is %s %s, was %s", or(pc.New, "none"), when, or(pc.Old, "none"))
	case isTemplateProperty, allowConnectionsProperty:
		return fmt.Sprintf("the database's %s is %s %s, was %s", pc.Property, pc.New, when, pc.Old)
	}
	name := strings.TrimPrefix(pc.Property, settingProperty)
	return fmt.Sprintf("the database's setting %s is %s %s, was %s", name, or(pc.New, "not set"), when, or(pc.Old, "not set"))
}

// inDatabase is a statement of a down that names the database it runs in, whatever it is called there
// (the rehearsal's throwaway database, its copy and production's are each called otherwise): head, the
// database's name, then tail, through DO and format with current_database().
func inDatabase(head, tail string) string {
	return "DO " + Literal("BEGIN EXECUTE format('"+head+" %I ', current_database()) || "+Literal(tail)+"; END")
}

// databaseSettings restores the database's owner, connection limit, IS_TEMPLATE, ALLOW_CONNECTIONS (true
// alone: PostgreSQL refuses false in the database the down runs in), comment and the settings the up
// set, changed or reset (its privileges are restored with those on built-in objects, see
// builtInPrivileges). The statements name the database the down runs in, whatever it is called there.
func (g *downGen) databaseSettings() {
	if g.a.DatabaseOwner != "" && g.b.DatabaseOwner != "" && role(g.a.DatabaseOwner) != role(g.b.DatabaseOwner) {
		g.add("restore the database's owner", inDatabase("ALTER DATABASE", "OWNER TO "+g.roleIn(role(g.b.DatabaseOwner))))
	}
	if g.a.DatabaseConnectionLimit != g.b.DatabaseConnectionLimit {
		g.add("restore the database's connection limit", inDatabase("ALTER DATABASE", "CONNECTION LIMIT "+or(g.b.DatabaseConnectionLimit, "-1")))
	}
	if g.a.DatabaseIsTemplate != g.b.DatabaseIsTemplate {
		g.add("restore the database's IS_TEMPLATE", inDatabase("ALTER DATABASE", "IS_TEMPLATE "+boolStr(g.b.DatabaseIsTemplate)))
	}
	if g.a.DatabaseConnectionsDisallowed != g.b.DatabaseConnectionsDisallowed {
		if g.b.DatabaseConnectionsDisallowed {
			// PostgreSQL refuses it in the database the down runs in ("cannot disallow connections for
			// current database").
			g.irreversible("the up allowed connections to the database; a down cannot disallow them again from inside it (ALTER DATABASE ... ALLOW_CONNECTIONS false)")
		} else {
			g.add("restore the database's ALLOW_CONNECTIONS", inDatabase("ALTER DATABASE", "ALLOW_CONNECTIONS true"))
		}
	}
	if g.a.DatabaseComment != g.b.DatabaseComment {
		is := "IS NULL"
		if g.b.DatabaseComment != "" {
			is = "IS " + Literal(g.b.DatabaseComment)
		}
		g.add("restore the database's comment", inDatabase("COMMENT ON DATABASE", is))
	}
	want, have := settingMap(g.b.DatabaseSettings), settingMap(g.a.DatabaseSettings)
	stmt := func(clause string) string { return inDatabase("ALTER DATABASE", clause) }
	for _, k := range sortedKeys(want) {
		if v, ok := have[k]; ok && v == want[k] {
			continue
		}
		g.add("restore the database's setting "+k, stmt("SET "+SettingSQL(k, want[k])))
	}
	for _, k := range sortedKeys(have) {
		if _, ok := want[k]; !ok {
			g.add("reset the database's setting "+k+" (the up set it)", stmt("RESET "+Ident(k)))
		}
	}
}
