package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file compares and restores the database-wide default privileges (ALTER DEFAULT PRIVILEGES
// without IN SCHEMA, Catalog.DefaultPrivileges). Unlike a schema's, where a role and kind without an
// entry grant nothing, a role and kind without a database-wide entry have PostgreSQL's built-in
// defaults (the role has every privilege on what it creates, PUBLIC may also execute its functions and
// use its types), and an entry is the whole ACL that replaces them: an entry may grant nothing at all,
// or revoke only PUBLIC's EXECUTE.

// databaseWide is the key of the one KindDefaultPrivileges object a catalog has.
const databaseWide = "database-wide"

// builtInDefault is what a database-wide property of the default privileges reads when the role has
// PostgreSQL's built-in defaults for the kind (no entry).
const builtInDefault = "the built-in defaults"

// defaultPrivilegeLines splits default privileges lines ("role: kind: grantee=privileges/grantor,...")
// into the ACL of each role and kind.
func defaultPrivilegeLines(s string) map[[2]string]string {
	out := map[[2]string]string{}
	for _, line := range strings.Split(s, "\n") {
		// An entry that grants nothing ends in ": ".
		if parts := strings.SplitN(line, ": ", 3); len(parts) == 3 {
			out[[2]string{parts[0], parts[1]}] = parts[2]
		}
	}
	return out
}

// defaultPrivilegesObject is the database-wide default privileges as one object that every catalog has
// (listed: a role's entry that comes or goes is a property that changes, from or to the built-in
// defaults). Its properties are named "role: kind" ("app: tables"), with the entry's ACL as value,
// "none" for an entry that grants nothing.
func (c *Catalog) defaultPrivilegesObject() object {
	var props []PropertyChange
	for k, acl := range defaultPrivilegeLines(c.DefaultPrivileges) {
		props = append(props, prop(k[0]+": "+k[1], or(acl, "none")))
	}
	slices.SortFunc(props, func(a, b PropertyChange) int { return strings.Compare(a.Property, b.Property) })
	return object{kind: KindDefaultPrivileges, key: databaseWide, listed: true, props: props}
}

// defaultPrivilegesSentence describes a change of one role's database-wide default privileges on one
// kind: "the database-wide default privileges of role app on tables are app=arwdDxt/app,reader=r/app
// after the down, were the built-in defaults".
func defaultPrivilegesSentence(pc PropertyChange, when string) string {
	roleName, kind := pc.Property, ""
	if i := strings.LastIndex(pc.Property, ": "); i >= 0 {
		roleName, kind = pc.Property[:i], pc.Property[i+2:]
	}
	return fmt.Sprintf("the database-wide default privileges of role %s on %s are %s %s, were %s", roleName, kind,
		or(pc.New, builtInDefault), when, or(pc.Old, builtInDefault))
}

// everyPrivilege are, by kind of default privileges, the privileges a role has on what it creates by
// the built-in defaults, on each version that has them.
var everyPrivilege = map[string][]string{
	"tables": {"arwdDxt", "arwdDxtm"}, "sequences": {"rwU"}, "functions": {"X"}, "types": {"U"}, "schemas": {"UC"},
	"large objects": {"rw"},
}

// builtInACL is the built-in database-wide default privileges of roleName on kind as an entry, when
// other, the entry of the same role and kind it is compared with, tells which: the role's own privileges
// there are every privilege of the kind on some version, taken as the server's. ok is false when they
// are not (the built-in ones may then hold privileges this version's other does not name).
func builtInACL(roleName, kind, other string) (acl string, ok bool) {
	for _, it := range aclItems(other) {
		if role(it.grantee) != role(roleName) || it.grantee == "" {
			continue
		}
		if !slices.Contains(everyPrivilege[kind], it.privs) {
			return "", false
		}
		acl = it.grantee + "=" + it.privs + "/" + it.grantee
		switch kind {
		case "functions":
			acl += ",=X/" + it.grantee
		case "types":
			acl += ",=U/" + it.grantee
		}
		return acl, true
	}
	return "", false
}

// builtInGrants are the grants that give a role and kind back PostgreSQL's built-in database-wide
// default privileges, as ACL entries for grantsAs (roleName as the statement names it): every privilege to the role itself (ALL, whatever the
// server's version counts in it) and, on functions and types, EXECUTE or USAGE to PUBLIC.
func builtInGrants(roleName, kind string) []string {
	out := []string{"GRANT ALL ON " + strings.ToUpper(kind) + " TO " + roleName}
	switch kind {
	case "functions":
		out = append(out, "GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
	case "types":
		out = append(out, "GRANT USAGE ON TYPES TO PUBLIC")
	}
	return out
}
