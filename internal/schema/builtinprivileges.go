package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file compares and restores the privileges on objects a catalog otherwise leaves out: the
// built-in ones (pg_catalog, information_schema, the built-in languages) and those an extension owns.
// Their rows are PostgreSQL's or the extension's, but GRANT and REVOKE on them are a migration's: a
// down that leaves GRANT EXECUTE ON FUNCTION pg_read_binary_file(text) TO app behind is no round trip.
// As pg_dump does, a privilege counts only where it differs from the object's initial privileges
// (pg_init_privs, else its kind's defaults): the catalog holds those differences alone, one privilege
// of one grantee each, so that it stays small however many built-in objects there are.

// KindPrivilege is one privilege of one grantee on a built-in object or an extension's, on the database
// or on a configuration parameter (see BuiltInPrivilege).
const KindPrivilege = "privilege"

// The Object and On of a privilege on the database itself (GRANT ... ON DATABASE), which the catalog
// does not name: the rehearsal's database, its copy and production's are each called otherwise. Its
// initial privileges are the defaults of its owner (acldefault). A privilege on a configuration
// parameter (GRANT SET ON PARAMETER, PostgreSQL 15+) is on "parameter work_mem", "PARAMETER work_mem",
// with no initial privileges.
const (
	databaseObjectName = "the database"
	databaseOn         = "DATABASE"
)

// Values of BuiltInPrivilege.Held and Initially.
const (
	privilegeGrantedWithOpt  = "granted with grant option"
	grantOptionProperty      = "grant option"
	builtInPrivilegesComment = "restore the privileges on built-in objects and extensions' objects"
)

// BuiltInPrivilege is one privilege of one grantee on a built-in object or an object an extension
// owns, held otherwise than initially: granted by a migration (Held set, Initially "") or revoked by
// one (Held "", Initially set), or given with or without its grant option otherwise than initially.
type BuiltInPrivilege struct {
	// Object is the object as sentences name it: "function pg_catalog.pg_stat_reset()", "view
	// pg_catalog.pg_stat_activity", "language plpgsql".
	Object string `json:"object"`
	// On is the object as GRANT ... ON names it: "ROUTINE pg_catalog.pg_stat_reset()", "TABLE
	// pg_catalog.pg_stat_activity", "LANGUAGE plpgsql".
	On string `json:"on"`
	// Column is the column of a column privilege, "" for the object's own.
	Column string `json:"column,omitempty"`
	// Grantee is the role's name, "" for PUBLIC.
	Grantee   string `json:"grantee,omitempty"`
	Privilege string `json:"privilege"`
	// Held and Initially are "", "granted" or "granted with grant option": now, and in pg_init_privs
	// (or by the kind's defaults where it has no row).
	Held      string `json:"held,omitempty"`
	Initially string `json:"initially,omitempty"`
}

// Key is the privilege's key in Catalog.BuiltInPrivileges: "EXECUTE on function
// pg_catalog.pg_stat_reset() to r1", "SELECT (subname) on table pg_catalog.pg_subscription to PUBLIC".
func (p *BuiltInPrivilege) Key() string {
	priv := p.Privilege
	if p.Column != "" {
		priv += " (" + Ident(p.Column) + ")"
	}
	return priv + " on " + p.Object + " to " + p.granteeName()
}

func (p *BuiltInPrivilege) granteeName() string {
	if p.Grantee == "" {
		return "PUBLIC"
	}
	return Ident(p.Grantee)
}

// privilegeState is one privilege on a built-in or extension's object as two catalogs hold it: "",
// "granted" or "granted with grant option" in each.
type privilegeState struct {
	key           string
	p             *BuiltInPrivilege
	before, after string
}

// builtInPrivilegeStates are the privileges on built-in and extensions' objects that two catalogs hold
// otherwise, in key order. A catalog lists a privilege only where it differs from the initial one, so
// a privilege that one catalog lists and the other does not is, in the other, as it was initially.
func builtInPrivilegeStates(before, after *Catalog) []privilegeState {
	keys := map[string]*BuiltInPrivilege{}
	for _, c := range []*Catalog{before, after} {
		for k, p := range c.BuiltInPrivileges {
			keys[k] = p
		}
	}
	held := func(c *Catalog, k string) string {
		if p, ok := c.BuiltInPrivileges[k]; ok {
			return p.Held
		}
		return keys[k].Initially
	}
	var out []privilegeState
	for k, p := range keys {
		if b, a := held(before, k), held(after, k); b != a {
			out = append(out, privilegeState{k, p, b, a})
		}
	}
	slices.SortFunc(out, func(x, y privilegeState) int { return strings.Compare(x.key, y.key) })
	return out
}

// builtInPrivilegeObjects flattens the privileges on built-in and extensions' objects that two
// catalogs hold otherwise: each side's objects are the privileges held there, with the grant option as
// their one property.
func builtInPrivilegeObjects(before, after *Catalog) (bo, ao []object) {
	for _, st := range builtInPrivilegeStates(before, after) {
		for _, side := range []struct {
			held string
			out  *[]object
		}{{st.before, &bo}, {st.after, &ao}} {
			if side.held != "" {
				*side.out = append(*side.out, object{kind: KindPrivilege, key: st.key, def: grantSQL(st.p, side.held),
					props: []PropertyChange{prop(grantOptionProperty, boolStr(side.held == privilegeGrantedWithOpt))}})
			}
		}
	}
	return bo, ao
}

// grantSQL is the GRANT that gives p as held ("granted" or "granted with grant option"), its grantee
// named as the catalog has it.
func grantSQL(p *BuiltInPrivilege, held string) string {
	s := "GRANT " + p.Privilege + columnList(p) + " ON " + p.On + " TO " + p.granteeName()
	if held == privilegeGrantedWithOpt {
		s += " WITH GRANT OPTION"
	}
	return s
}

func columnList(p *BuiltInPrivilege) string {
	if p.Column == "" {
		return ""
	}
	return " (" + Ident(p.Column) + ")"
}

// builtInPrivilegeSentence describes a privilege given with its grant option on one side and without
// on the other: "privilege EXECUTE on function pg_catalog.pg_stat_reset() to r1 is held with grant
// option after the down, was without".
func builtInPrivilegeSentence(c Change, pc PropertyChange, when string) string {
	with := func(v string) string {
		if v == "true" {
			return "with grant option"
		}
		return "without grant option"
	}
	return fmt.Sprintf("privilege %s is held %s %s, was %s", c.Name, with(pc.New), when, with(pc.Old))
}

// builtInPrivileges puts back the privileges on built-in and extensions' objects, on the database and
// on configuration parameters: it revokes what the up granted and grants what it revoked, the grant
// option alone where only that differs. The grantee the catalogs were read as is CURRENT_USER, as
// elsewhere in a down. The database's are given in the database the down runs in (see inDatabase).
func (g *downGen) builtInPrivileges() {
	for _, st := range builtInPrivilegeStates(g.a, g.b) {
		p, have, want := st.p, st.before, st.after
		to := g.roleIn(granteeACLName(p))
		on := p.Privilege + columnList(p) + " ON " + p.On
		stmt := func(verb, tail string) string {
			if p.On == databaseOn {
				return inDatabase(verb+" "+on, tail)
			}
			return verb + " " + on + " " + tail
		}
		comment := builtInPrivilegesComment
		switch {
		case p.On == databaseOn:
			comment = "restore the privileges on the database"
		case strings.HasPrefix(p.On, "PARAMETER "):
			comment = "restore the privileges on configuration parameters"
		}
		switch {
		case want == "":
			g.add(comment+": revoke "+st.key, stmt("REVOKE", "FROM "+to))
		case have == privilegeGrantedWithOpt:
			g.add(comment+": revoke the grant option of "+st.key, stmt("REVOKE GRANT OPTION FOR", "FROM "+to))
		default:
			s := "TO " + to
			if want == privilegeGrantedWithOpt {
				s += " WITH GRANT OPTION"
			}
			g.add(comment+": grant "+st.key, stmt("GRANT", s))
		}
	}
}

// granteeACLName is p's grantee as ACL entries print it ("" for PUBLIC), as roleIn takes it.
func granteeACLName(p *BuiltInPrivilege) string {
	if p.Grantee == "" {
		return ""
	}
	return Ident(p.Grantee)
}
