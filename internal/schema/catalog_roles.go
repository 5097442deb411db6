package schema

import "slices"

// Role is a role of the server (CREATE ROLE, USER or GROUP). Roles belong to the server, not to the
// database: a catalog holds them to compare two states of one server, never to write a schema.
type Role struct {
	OID         uint32 `json:"oid,omitempty"`
	Name        string `json:"name"`
	Superuser   bool   `json:"superuser,omitempty"`
	CreateDB    bool   `json:"createdb,omitempty"`
	CreateRole  bool   `json:"createrole,omitempty"`
	Inherit     bool   `json:"inherit,omitempty"`
	Login       bool   `json:"login,omitempty"`
	Replication bool   `json:"replication,omitempty"`
	BypassRLS   bool   `json:"bypassrls,omitempty"`
	// ConnectionLimit is -1 for none.
	ConnectionLimit int `json:"connection_limit"`
	// ValidUntil is the password's expiry as timestamptz prints it in UTC; "" for none.
	ValidUntil string `json:"valid_until,omitempty"`
	// Password is "set" or "none"; "" when the reader may not know (only superusers read pg_authid).
	// Never the hash: SCRAM salts differ on every CREATE.
	Password string `json:"password,omitempty"`
	// Settings are the role's ALTER ROLE ... SET for every database, DatabaseSettings those for the
	// database read (IN DATABASE), each "name=value", sorted.
	Settings         []string `json:"settings,omitempty"`
	DatabaseSettings []string `json:"database_settings,omitempty"`
	Comment          string   `json:"comment,omitempty"`
}

// Membership is a role's membership in another (GRANT role TO member). From PostgreSQL 16 on each
// grantor's grant is a membership of its own: a member may hold a role by several grants, each with its
// own options, and REVOKE takes back one grantor's (GRANTED BY, the current role's by default) alone.
type Membership struct {
	Role   string `json:"role"`
	Member string `json:"member"`
	// Grantor is the role that granted it, on PostgreSQL 16 and later; "" before 16, where a member has
	// one membership in a role whoever granted it.
	Grantor string `json:"grantor,omitempty"`
	// RoleOID, MemberOID and GrantorOID recognise the membership across a rename of any of its roles.
	RoleOID    uint32 `json:"role_oid,omitempty"`
	MemberOID  uint32 `json:"member_oid,omitempty"`
	GrantorOID uint32 `json:"grantor_oid,omitempty"`
	// Admin is WITH ADMIN OPTION. Inherit and Set are the INHERIT and SET options of PostgreSQL 16 and
	// later ("true", "false"); "" before 16, where membership has no such options.
	Admin   bool   `json:"admin,omitempty"`
	Inherit string `json:"inherit,omitempty"`
	Set     string `json:"set,omitempty"`
}

// Key is the membership's key in Catalog.Memberships: "member in role", and " granted by grantor"
// where the membership has a grantor (PostgreSQL 16 and later).
func (m *Membership) Key() string {
	if m.Grantor != "" {
		return m.Member + " in " + m.Role + " granted by " + m.Grantor
	}
	return m.Member + " in " + m.Role
}

// grantedBy is the GRANTED BY clause that names the membership's grantor, "" where it has none.
func (m *Membership) grantedBy() string {
	if m.Grantor == "" {
		return ""
	}
	return " GRANTED BY " + role(m.Grantor)
}

// keepRoles leaves in c only the roles ig.Roles names (all when it is nil), and the memberships of
// those roles (in another role, or of another role in them).
func (c *Catalog) keepRoles(ig Ignore) {
	if ig.Roles == nil {
		return
	}
	for k, x := range c.Roles {
		if !slices.Contains(ig.Roles, x.Name) {
			delete(c.Roles, k)
		}
	}
	for k, x := range c.Memberships {
		if !slices.Contains(ig.Roles, x.Role) && !slices.Contains(ig.Roles, x.Member) {
			delete(c.Memberships, k)
		}
	}
}
