package sqlparse

import "testing"

// TestRoleChange: statements on one role, its settings, its comment or a membership are the compared
// catalog's (RoleChange names them; OutsideCatalog leaves them out); ALTER ROLE ALL and security labels
// on roles are not compared.
func TestRoleChange(t *testing.T) {
	cases := []struct{ name, sql, role, outside string }{
		{"create user", "CREATE USER app_login", "CREATE USER app_login|a role", ""},
		{"create group", "CREATE GROUP readers", "CREATE GROUP readers|a role", ""},
		{"alter user", "ALTER USER app_login WITH PASSWORD 'x'", "ALTER ROLE app_login|a role", ""},
		{"settings in a database", "ALTER ROLE app IN DATABASE db RESET ALL", "ALTER ROLE app IN DATABASE db RESET ALL|a role's settings", ""},
		{"drop", "DROP ROLE a, b", "DROP ROLE a, b|a role", ""},
		{"grant", "GRANT admin TO app WITH ADMIN OPTION", "GRANT admin TO app|role membership", ""},
		{"revoke", "REVOKE admin FROM app", "REVOKE admin FROM app|role membership", ""},
		{"rename", "ALTER ROLE app RENAME TO app2", "ALTER ROLE app RENAME TO app2|a role", ""},
		{"comment", "COMMENT ON ROLE app IS 'x'", "COMMENT ON ROLE app|the comment of a role", ""},
		{"every role's settings", "ALTER ROLE ALL SET work_mem = '64MB'", "|", "ALTER ROLE ALL SET work_mem|the settings of every role"},
		{"security label", "SECURITY LABEL ON ROLE app IS 'x'", "|", "SECURITY LABEL ON ROLE app|the security label of a role"},
		{"table", "CREATE TABLE t (id int)", "|", "|"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := Parse(c.sql)
			if len(st) != 1 || st[0].Node == nil {
				t.Fatalf("%s: does not parse", c.sql)
			}
			label, kind := RoleChange(st[0].Node)
			if got := label + "|" + kind; got != c.role {
				t.Errorf("RoleChange: %q, want %q", got, c.role)
			}
			label, kind = OutsideCatalog(st[0].Node)
			want := c.outside
			if want == "" {
				want = "|"
			}
			if got := label + "|" + kind; got != want {
				t.Errorf("OutsideCatalog: %q, want %q", got, want)
			}
		})
	}
}
