package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// This file writes what a generated down does for roles and memberships. Renamed roles are renamed back
// first (what the after-catalog says of owners and grantees follows); roles the up dropped are created
// again, with their attributes, settings, comment and memberships, and the attributes, settings,
// comments and memberships the up changed are restored, before any object is (owners and grants need
// the roles); memberships the up granted are revoked, and roles it created dropped, last, once what
// they owned or were granted is gone. A dropped role's password cannot be read back, and an expiry
// (VALID UNTIL) cannot be taken away again: both are left to a person.

// roleRenames renames back the roles the up renamed (recognised by OID), and rewrites the after-catalog's
// owners, grantees and memberships with the old names.
func (g *downGen) roleRenames() {
	var pairs [][2]string
	movedByOID(g.a.Roles, g.b.Roles, func(x *Role) uint32 { return x.OID }, nil, func(ak, bk string, x, bx *Role) {
		g.add(fmt.Sprintf("rename role %s back to %s", x.Name, bx.Name), "ALTER ROLE "+role(x.Name)+" RENAME TO "+role(bx.Name))
		pairs = append(pairs, [2]string{x.Name, bx.Name})
	})
	if len(pairs) == 0 {
		return
	}
	g.a = renameRoles(g.a, pairs)
}

// renameRoles is a copy of c with each role pairs[i][0] called pairs[i][1] wherever c names it: roles,
// memberships, owners, ACL entries, default privileges and policies' roles (objects' own names stay).
func renameRoles(c *Catalog, pairs [][2]string) *Catalog {
	b, err := json.Marshal(c)
	if err != nil {
		return c
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return c
	}
	exact := func(s string) string {
		for _, p := range pairs {
			if s == p[0] {
				return p[1]
			}
		}
		return s
	}
	var walk func(v any, names []string)
	walk = func(v any, names []string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				s, ok := e.(string)
				switch {
				case !ok:
					walk(e, []string{"owner"})
				case slices.Contains(names, k):
					x[k] = exact(s)
				case k == "privileges" || k == "default_privileges" || k == "roles":
					for _, p := range pairs {
						s = replaceWord(s, role(p[0]), role(p[1]))
					}
					x[k] = s
				}
			}
		case []any:
			for _, e := range x {
				walk(e, names)
			}
		}
	}
	for kind, objs := range doc {
		om, ok := objs.(map[string]any)
		if !ok {
			continue
		}
		names := []string{"owner"}
		switch kind {
		case "roles":
			names = []string{"name"}
		case "memberships":
			names = []string{"role", "member", "grantor"}
		}
		for _, o := range om {
			walk(o, names)
		}
	}
	// The database-wide default privileges are the catalog's own.
	if s, ok := doc["default_privileges"].(string); ok {
		for _, p := range pairs {
			s = replaceWord(s, role(p[0]), role(p[1]))
		}
		doc["default_privileges"] = s
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return c
	}
	fresh := NewCatalog()
	if err := json.Unmarshal(out, fresh); err != nil {
		return c
	}
	// Keys follow the names.
	roles, memberships := fresh.Roles, fresh.Memberships
	fresh.Roles, fresh.Memberships = map[string]*Role{}, map[string]*Membership{}
	for _, x := range roles {
		fresh.Roles[x.Name] = x
	}
	for _, x := range memberships {
		fresh.Memberships[x.Key()] = x
	}
	return fresh
}

// createRoles creates again the roles the up dropped, restores the attributes, settings and comments
// of the others, and grants again the memberships the up revoked or changed.
func (g *downGen) createRoles() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.Roles) {
		bx, x := b.Roles[k], a.Roles[k]
		target := role(bx.Name)
		if x == nil {
			sql := "CREATE ROLE " + target
			if s := roleSummary(bx); s != "" {
				sql += " " + s
			}
			g.add("re-create role "+bx.Name, sql)
			// As CREATE ROLE leaves it: its attributes, no password, setting or comment.
			fresh := *bx
			fresh.Password, fresh.Settings, fresh.DatabaseSettings, fresh.Comment = "none", nil, nil, ""
			x = &fresh
		}
		g.roleProperties(bx, x)
	}
	for _, k := range sortedKeys(b.Memberships) {
		bx, x := b.Memberships[k], a.Memberships[k]
		// From PostgreSQL 16 on, each statement names the grant it changes: its grantor's.
		grant, by, of := "GRANT "+role(bx.Role)+" TO "+role(bx.Member), bx.grantedBy(), bx.Member+" in "+bx.Role
		if bx.Grantor != "" {
			of += " (granted by " + bx.Grantor + ")"
		}
		switch {
		case x == nil:
			g.add("grant "+bx.Role+" to "+bx.Member+" again", membershipSummary(bx))
		case x.Admin && !bx.Admin:
			g.add("take the admin option of "+of+" back", "REVOKE ADMIN OPTION FOR "+role(bx.Role)+" FROM "+role(bx.Member)+by)
		case !x.Admin && bx.Admin:
			g.add("give "+bx.Member+" the admin option in "+bx.Role+" again", grant+" WITH ADMIN OPTION"+by)
		}
		if x != nil && bx.Inherit != "" && x.Inherit != bx.Inherit {
			g.add("restore the inherit option of "+of, grant+" WITH INHERIT "+strings.ToUpper(bx.Inherit)+by)
		}
		if x != nil && bx.Set != "" && x.Set != bx.Set {
			g.add("restore the set option of "+of, grant+" WITH SET "+strings.ToUpper(bx.Set)+by)
		}
	}
}

// roleProperties restores what ALTER ROLE and COMMENT ON ROLE change of role want, which is as have now.
func (g *downGen) roleProperties(want, have *Role) {
	target := role(want.Name)
	var words []string
	for _, f := range roleFlags {
		if on := f.of(want); on != f.of(have) {
			words = append(words, roleFlag(f.keyword, on))
		}
	}
	if want.ConnectionLimit != have.ConnectionLimit {
		words = append(words, fmt.Sprintf("CONNECTION LIMIT %d", want.ConnectionLimit))
	}
	if want.ValidUntil != have.ValidUntil && want.ValidUntil != "" {
		words = append(words, "VALID UNTIL "+Literal(want.ValidUntil))
	}
	if len(words) > 0 {
		g.add("restore the attributes of role "+want.Name, "ALTER ROLE "+target+" "+strings.Join(words, " "))
	}
	if want.ValidUntil == "" && have.ValidUntil != "" {
		g.irreversible(fmt.Sprintf("not restored: role %s had no VALID UNTIL (ALTER ROLE cannot take one away; 'infinity' comes closest)", want.Name))
	}
	switch {
	case want.Password == "none" && have.Password == "set":
		g.add("take away the password of role "+want.Name+" (it had none)", "ALTER ROLE "+target+" PASSWORD NULL")
	case want.Password == "set" && have.Password != "set":
		g.irreversible(fmt.Sprintf("not restored: the password of role %s (a password cannot be read back; set it again by hand)", want.Name))
	}
	g.roleSettings(want.Name, "", settingMap(want.Settings), settingMap(have.Settings))
	g.roleSettings(want.Name, databaseSettingSuffix, settingMap(want.DatabaseSettings), settingMap(have.DatabaseSettings))
	if want.Comment != have.Comment {
		g.add("restore the comment on role "+want.Name, commentSQL("ROLE "+target, want.Comment))
	}
}

// roleSettings restores a role's settings (where: "" for every database, databaseSettingSuffix for the
// database the down runs in).
func (g *downGen) roleSettings(name, where string, want, have map[string]string) {
	stmt := func(clause string) string {
		if where == "" {
			return "ALTER ROLE " + role(name) + " " + clause
		}
		// The database's name is the one the down runs in, whatever it is called there.
		return "DO " + Literal("BEGIN EXECUTE format('ALTER ROLE %I IN DATABASE %I ', "+Literal(name)+", current_database()) || "+
			Literal(clause)+"; END")
	}
	for _, k := range sortedKeys(want) {
		if v, ok := have[k]; ok && v == want[k] {
			continue
		}
		g.add(fmt.Sprintf("restore role %s's setting %s%s", name, k, where), stmt("SET "+SettingSQL(k, want[k])))
	}
	for _, k := range sortedKeys(have) {
		if _, ok := want[k]; !ok {
			g.add(fmt.Sprintf("reset role %s's setting %s%s (the up set it)", name, k, where), stmt("RESET "+Ident(k)))
		}
	}
}

// dropRoles revokes the memberships the up granted and drops the roles it created, once what they owned
// or were granted is gone.
func (g *downGen) dropRoles() {
	a, b := g.a, g.b
	dropped := func(name string) bool { return a.Roles[name] != nil && b.Roles[name] == nil }
	for _, k := range sortedKeys(a.Memberships) {
		x := a.Memberships[k]
		if b.Memberships[k] != nil || dropped(x.Role) || dropped(x.Member) {
			continue // kept, or goes with a role dropped below
		}
		g.add("revoke "+x.Role+" from "+x.Member+" (granted by the up)", "REVOKE "+role(x.Role)+" FROM "+role(x.Member)+x.grantedBy())
	}
	for _, k := range sortedKeys(a.Roles) {
		if x := a.Roles[k]; b.Roles[k] == nil {
			g.add("drop role "+x.Name+" (added by the up)", "DROP ROLE "+role(x.Name))
		}
	}
}
