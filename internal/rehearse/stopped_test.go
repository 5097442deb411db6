package rehearse

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pg"
)

// TestStoppedErrorNamesThePathGiven: the error of a run whose server stopped answering names a
// migration's statement in the migration folder, and a setup script's by the path it was given, which
// is not in that folder.
func TestStoppedErrorNamesThePathGiven(t *testing.T) {
	t.Parallel()
	migration := &pg.StatementError{File: "2_kill.up.sql", Line: 3, Column: 1, Message: "terminating connection", Err: errors.New("EOF")}
	setup := &pg.StatementError{File: "db/setup/roles.sql", Line: 1, Column: 1, Message: "terminating connection", Err: errors.New("EOF")}
	tests := []struct {
		name      string
		err       *stoppedError
		want, not string
	}{
		{"migration", &stoppedError{provider: "local", during: "migration 2", err: fmt.Errorf("apply: %w", migration), dir: "db/migrations"},
			"stopped answering during migration 2: apply: db/migrations/2_kill.up.sql:3:1: terminating connection", ""},
		{"setup script", &stoppedError{provider: "local", during: "the setup scripts", err: setupFailure("db/setup/roles.sql", setup), dir: "db/migrations"},
			"stopped answering during the setup scripts: setup db/setup/roles.sql: db/setup/roles.sql:1:1: terminating connection", "db/migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.err.Error()
			if !strings.Contains(got, tt.want) || (tt.not != "" && strings.Contains(got, tt.not)) {
				t.Errorf("error:\n  %s\nwant it to say %q (and not %q)", got, tt.want, tt.not)
			}
		})
	}
}
