package rehearse

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestSharedServerChanges: on a server the rehearsal shares (--provider url), a migration that alters
// or drops a role it did not create, or changes the server beyond its database, is refused with its
// file and line; what concerns only the run's own roles and database is not.
func TestSharedServerChanges(t *testing.T) {
	read := func(sql string) *migrate.Set {
		t.Helper()
		set, err := migrate.Read(fstest.MapFS{"001_x.sql": &fstest.MapFile{Data: []byte(sql)}}, migrate.FormatPlain)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	for sql, want := range map[string]string{
		"CREATE TABLE g (id int);\nALTER ROLE existing_role CREATEDB;":                                         "001_x.sql:2: ALTER ROLE existing_role",
		"DROP ROLE existing_role;":                                                                             "DROP ROLE existing_role",
		"ALTER ROLE CURRENT_USER SET search_path = app;":                                                       "ALTER ROLE CURRENT_USER SET",
		"ALTER ROLE ALL SET statement_timeout = 0;":                                                            "ALTER ROLE ALL SET",
		"ALTER ROLE old_name RENAME TO new_name;":                                                              "RENAME renames a role",
		"GRANT app_reader TO reporting;":                                                                       "role membership",
		"ALTER SYSTEM SET work_mem = '1GB';":                                                                   "ALTER SYSTEM",
		"CREATE TABLESPACE fast LOCATION '/ssd';":                                                              "tablespace",
		"ALTER DATABASE app SET timezone TO 'UTC';":                                                            "database statement",
		"COMMENT ON ROLE existing_role IS 'x';":                                                                "COMMENT ON a role",
		"CREATE ROLE app_rw;\nALTER ROLE app_rw LOGIN;\nGRANT app_rw TO reporting;\nDROP ROLE app_rw;":         "",
		"CREATE TABLE t (id int);\nGRANT SELECT ON t TO existing_role;\nALTER TABLE t OWNER TO existing_role;": "",
	} {
		err := sharedServerChanges(nil, read(sql))
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: refused: %v", sql, err)
		case want != "" && (err == nil || !errors.Is(err, ErrSharedServer) || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one naming %q", sql, err, want)
		}
	}
}
