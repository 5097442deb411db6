package schema

import (
	"strings"
	"testing"
)

// TestDownNamesTheMigrationsRoleCurrentUser: a generated down names the role the catalogs were read as
// (the one that ran the migrations on the throwaway database) CURRENT_USER, as owner, grantee, role of
// default privileges and user of a user mapping, and says so in its first line; it revokes and grants
// only what the up changed, a grant option alone where the privilege stays; and it restores privileges
// on the ACL an owner's change leaves (the new owner in the old one's place).
func TestDownNamesTheMigrationsRoleCurrentUser(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after func(c *Catalog)
		want          []string
	}{
		{
			name: "a grant",
			before: func(c *Catalog) {
				c.Tables["public.t"] = &Table{Schema: "public", Name: "t", Access: Access{Owner: "postgres", Privileges: "postgres=arwdDxt/postgres,writer=a/postgres,x=r/postgres"}}
			},
			after: func(c *Catalog) {
				c.Tables["public.t"] = &Table{Schema: "public", Name: "t", Access: Access{Owner: "postgres",
					Privileges: "=r/postgres,postgres=arwdDxt/postgres,reader=r*w/postgres,writer=a*/postgres"}}
			},
			want: []string{
				"REVOKE GRANT OPTION FOR INSERT ON TABLE t FROM writer",
				"REVOKE SELECT ON TABLE t FROM PUBLIC",
				"REVOKE SELECT, UPDATE ON TABLE t FROM reader",
				"GRANT SELECT ON TABLE t TO x",
			},
		},
		{
			name: "the owner's own privileges",
			before: func(c *Catalog) {
				c.Sequences["public.s"] = &Sequence{Schema: "public", Name: "s", Access: Access{Owner: "postgres", Privileges: "postgres=rwU/postgres"}}
			},
			after: func(c *Catalog) {
				c.Sequences["public.s"] = &Sequence{Schema: "public", Name: "s", Access: Access{Owner: "postgres", Privileges: "postgres=U/postgres,reader=r/postgres"}}
			},
			want: []string{"REVOKE SELECT ON SEQUENCE s FROM reader", "GRANT SELECT, UPDATE ON SEQUENCE s TO CURRENT_USER"},
		},
		{
			name: "an owner",
			before: func(c *Catalog) {
				c.Schemas["app"] = &Schema{Name: "app", Access: Access{Owner: "postgres", Privileges: "postgres=UC/postgres,reader=U/postgres"}}
			},
			after: func(c *Catalog) {
				c.Schemas["app"] = &Schema{Name: "app", Access: Access{Owner: "reader", Privileges: "reader=UC/reader"}}
			},
			want: []string{"ALTER SCHEMA app OWNER TO CURRENT_USER", "GRANT USAGE ON SCHEMA app TO reader"},
		},
		{
			name: "another role's default privileges and the migrations' role as grantee",
			before: func(c *Catalog) {
				c.Schemas["public"] = &Schema{Name: "public", Access: Access{Owner: "pg_database_owner", Privileges: "pg_database_owner=UC/pg_database_owner"}}
			},
			after: func(c *Catalog) {
				c.Schemas["public"] = &Schema{Name: "public", Access: Access{Owner: "pg_database_owner", Privileges: "pg_database_owner=UC/pg_database_owner"},
					DefaultPrivileges: "owner: tables: postgres=r/owner"}
			},
			want: []string{"ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA public REVOKE SELECT ON TABLES FROM CURRENT_USER"},
		},
		{
			name: "a user mapping",
			after: func(c *Catalog) {
				c.UserMappings["postgres on s"] = &UserMapping{User: "postgres", Server: "s"}
			},
			want: []string{"DROP USER MAPPING FOR CURRENT_USER SERVER s"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, after := NewCatalog(), NewCatalog()
			before.User, after.User = "postgres", "postgres"
			for _, f := range []struct {
				c   *Catalog
				set func(*Catalog)
			}{{before, tc.before}, {after, tc.after}} {
				if f.set != nil {
					f.set(f.c)
				}
			}
			ds := GenerateDown(before, after)
			if got := ds.Statements(); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("down:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !strings.HasPrefix(ds.SQL, asUserLine+"\n") {
				t.Errorf("the down does not start with %q:\n%s", asUserLine, ds.SQL)
			}
		})
	}
}

// TestNewOwnerACL: an owner's change puts the new owner in the old one's place, grantee and grantor,
// and merges the entries that then have the same grantee and grantor, as PostgreSQL's aclnewowner.
func TestNewOwnerACL(t *testing.T) {
	for _, tc := range []struct{ acl, old, owner, want string }{
		{"reader=arwdDxt/reader", "reader", "app", "app=arwdDxt/app"},
		{"app=arwdDxt/app,reader=r/app", "app", "reader", "reader=arwdDxt/reader"},
		{"app=r*w/app,=r/app,x=U/y", "app", `"new owner"`, `"new owner"=r*w/"new owner",=r/"new owner",x=U/y`},
		{"reader=w/app", "app", "reader", "reader=w/reader"},
		{"app=rw/app,reader=r*/app", "reader", "app", "app=r*w/app"},
	} {
		if got := newOwnerACL(tc.acl, tc.old, tc.owner); got != tc.want {
			t.Errorf("newOwnerACL(%q, %s, %s) = %q, want %q", tc.acl, tc.old, tc.owner, got, tc.want)
		}
	}
}
