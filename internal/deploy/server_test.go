package deploy

import (
	"errors"
	"strings"
	"testing"
)

// TestServerSupported: the deploy needs PostgreSQL 13 (the write check's pg_current_xact_id_if_assigned
// and pg_snapshot functions) and said so nowhere: an older server failed half way into a deploy. It is
// now refused before the lock, naming the version found and the one needed.
func TestServerSupported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		num     int
		version string
		refused bool
	}{
		{"9.6", 90624, "9.6.24", true},
		{"12", 120018, "12.18", true},
		{"13.0", 130000, "13.0", false},
		{"15", 150010, "15.10 (Debian 15.10-1.pgdg120+1)", false},
		{"17", 170006, "17.6", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := serverSupported(tc.num, tc.version)
			if !tc.refused {
				if err != nil {
					t.Fatalf("PostgreSQL %s refused: %v", tc.version, err)
				}
				return
			}
			var ve *ServerVersionError
			if !errors.As(err, &ve) {
				t.Fatalf("PostgreSQL %s: %v, want a *ServerVersionError", tc.version, err)
			}
			for _, want := range []string{"PostgreSQL " + tc.version, "needs PostgreSQL 13 or later"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// TestDeployAcceptsItsServer: the check reads the real server's version (PostgreSQL 15 or 17 here) and
// accepts it, and a deploy against it runs.
func TestDeployAcceptsItsServer(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	if err := checkServer(t.Context(), tg.conn); err != nil {
		t.Fatalf("server %s refused: %v", tg.value(t, "SHOW server_version"), err)
	}
	set := folder(t, map[string]string{"1_a.up.sql": "ALTER TABLE accounts ADD COLUMN nick text;", "1_a.down.sql": "ALTER TABLE accounts DROP COLUMN nick;"})
	res, err := Run(t.Context(), tg.options(t, set, "run-version"))
	if err != nil || res.Outcome != OutcomeDeployed {
		t.Fatalf("outcome %s: %v", res.Outcome, err)
	}
}
