package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// roleFlags are the role attributes that are a keyword or its NO form, in CREATE ROLE's order.
var roleFlags = []struct {
	property, keyword string
	of                func(*Role) bool
}{
	{"superuser", "SUPERUSER", func(r *Role) bool { return r.Superuser }},
	{"createdb", "CREATEDB", func(r *Role) bool { return r.CreateDB }},
	{"createrole", "CREATEROLE", func(r *Role) bool { return r.CreateRole }},
	{"inherit", "INHERIT", func(r *Role) bool { return r.Inherit }},
	{"login", "LOGIN", func(r *Role) bool { return r.Login }},
	{"replication", "REPLICATION", func(r *Role) bool { return r.Replication }},
	{"bypassrls", "BYPASSRLS", func(r *Role) bool { return r.BypassRLS }},
}

// roleFlag is a role attribute's keyword as the role has it: LOGIN or NOLOGIN.
func roleFlag(keyword string, on bool) string {
	if on {
		return keyword
	}
	return "NO" + keyword
}

// settingProperty and databaseSettingProperty start the properties of a role's settings: "setting
// search_path" (ALTER ROLE ... SET), "setting search_path in this database" (... IN DATABASE).
const (
	settingProperty         = "setting "
	databaseSettingSuffix   = " in this database"
	membershipOptionSuffix  = " option"
	connectionLimitProperty = "connection limit"
)

// roleObjects flattens the roles and memberships of c.
func (c *Catalog) roleObjects() []object {
	var out []object
	for k, x := range c.Roles {
		var props []PropertyChange
		for _, f := range roleFlags {
			props = append(props, prop(f.property, roleFlag(f.keyword, f.of(x))))
		}
		props = append(props, prop(connectionLimitProperty, connectionLimit(x.ConnectionLimit)), prop("valid until", x.ValidUntil),
			prop("password", x.Password))
		for name, v := range settingMap(x.Settings) {
			props = append(props, prop(settingProperty+name, v))
		}
		for name, v := range settingMap(x.DatabaseSettings) {
			props = append(props, prop(settingProperty+name+databaseSettingSuffix, v))
		}
		props = append(props, prop("comment", x.Comment))
		out = append(out, object{kind: KindRole, key: k, id: oidStr(x.OID), def: roleSummary(x), name: x.Name, props: props})
	}
	for k, x := range c.Memberships {
		id := ""
		if x.RoleOID != 0 && x.MemberOID != 0 {
			id = fmt.Sprintf("%d:%d", x.RoleOID, x.MemberOID)
			if x.GrantorOID != 0 {
				id += fmt.Sprintf(":%d", x.GrantorOID)
			}
		}
		out = append(out, object{kind: KindMembership, key: k, id: id, def: membershipSummary(x),
			props: []PropertyChange{prop("admin"+membershipOptionSuffix, boolStr(x.Admin)), prop("inherit"+membershipOptionSuffix, x.Inherit),
				prop("set"+membershipOptionSuffix, x.Set)}})
	}
	return out
}

// connectionLimit is a role's CONNECTION LIMIT as the catalog compares it: "" for none (-1).
func connectionLimit(n int) string {
	if n < 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// settingMap splits "name=value" settings.
func settingMap(settings []string) map[string]string {
	m := make(map[string]string, len(settings))
	for _, s := range settings {
		name, v, _ := strings.Cut(s, "=")
		m[name] = v
	}
	return m
}

// roleSummary is what follows the name in CREATE ROLE: its attributes (the defaults left out).
func roleSummary(x *Role) string {
	var words []string
	for _, f := range roleFlags {
		if on := f.of(x); on != (f.keyword == "INHERIT") {
			words = append(words, roleFlag(f.keyword, on))
		}
	}
	if x.ConnectionLimit >= 0 {
		words = append(words, "CONNECTION LIMIT "+strconv.Itoa(x.ConnectionLimit))
	}
	if x.ValidUntil != "" {
		words = append(words, "VALID UNTIL "+Literal(x.ValidUntil))
	}
	return strings.Join(words, " ")
}

// membershipSummary is the GRANT of a membership, its options and grantor with it.
func membershipSummary(x *Membership) string {
	s := "GRANT " + role(x.Role) + " TO " + role(x.Member)
	var opts []string
	if x.Admin {
		opts = append(opts, "ADMIN OPTION")
	}
	if x.Inherit != "" {
		opts = append(opts, "INHERIT "+strings.ToUpper(x.Inherit))
	}
	if x.Set != "" {
		opts = append(opts, "SET "+strings.ToUpper(x.Set))
	}
	if len(opts) > 0 {
		s += " WITH " + strings.Join(opts, ", ")
	}
	return s + x.grantedBy()
}

// roleSentence words a change of a role's or membership's property ("role app is LOGIN after the
// down, was NOLOGIN"); "" for a property it has no words of its own for.
func roleSentence(c Change, pc PropertyChange, when string) string {
	s := subject(c)
	switch c.Kind {
	case KindRole:
		for _, f := range roleFlags {
			if pc.Property == f.property {
				return fmt.Sprintf("%s is %s %s, was %s", s, pc.New, when, pc.Old)
			}
		}
		switch pc.Property {
		case connectionLimitProperty, "valid until":
			return fmt.Sprintf("%s has %s %s %s, was %s", s, strings.ToUpper(pc.Property), or(pc.New, "none"), when, or(pc.Old, "none"))
		case "password":
			has := func(v string) string {
				switch v {
				case "set":
					return "a password"
				case "none":
					return "no password"
				}
				return "an unknown password"
			}
			return fmt.Sprintf("%s has %s %s, had %s", s, has(pc.New), when, has(pc.Old))
		}
		if name, ok := strings.CutPrefix(pc.Property, settingProperty); ok {
			where := ""
			if n, ok := strings.CutSuffix(name, databaseSettingSuffix); ok {
				name, where = n, databaseSettingSuffix
			}
			return fmt.Sprintf("role %s's setting %s%s is %s %s, was %s", c.Name, name, where, or(pc.New, "not set"), when, or(pc.Old, "not set"))
		}
	case KindMembership:
		if opt, ok := strings.CutSuffix(pc.Property, membershipOptionSuffix); ok {
			word := strings.ToUpper(opt) + " OPTION"
			if opt != "admin" {
				word = strings.ToUpper(opt)
			}
			with := func(v string) string {
				switch v {
				case "true":
					return "WITH " + word
				case "false":
					return "without " + word
				}
				return "without options (before PostgreSQL 16)"
			}
			return fmt.Sprintf("%s is %s %s, was %s", s, with(pc.New), when, with(pc.Old))
		}
	}
	return ""
}
