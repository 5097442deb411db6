package cli

import (
	"errors"
	"testing"

	"github.com/schemagate/schemagate/internal/deploy"
)

// TestDeployExit: the exit code says what state the database is in. 3 only when it is as it was; 1
// whenever a person must act: maintenance mode left on (whatever else happened: a rolled-back deploy
// used to exit 3), a window that closed part-way (it used to be blocked, 3, with migrations applied), a
// failure.
func TestDeployExit(t *testing.T) {
	t.Parallel()
	leftOn := &deploy.MaintenanceResult{Error: "turn maintenance mode off: exit status 7", Hint: "turn it off by hand"}
	for _, tc := range []struct {
		name string
		res  *deploy.Result
		want int
	}{
		{"deployed", &deploy.Result{Outcome: deploy.OutcomeDeployed, OK: true}, 0},
		{"deployed, maintenance left on", &deploy.Result{Outcome: deploy.OutcomeDeployed, OK: true, Maintenance: leftOn}, ExitFailure},
		{"rolled back", &deploy.Result{Outcome: deploy.OutcomeRolledBack}, ExitBlocked},
		{"rolled back, maintenance left on", &deploy.Result{Outcome: deploy.OutcomeRolledBack, Maintenance: leftOn}, ExitFailure},
		{"blocked, maintenance left on", &deploy.Result{Outcome: deploy.OutcomeBlocked, Maintenance: leftOn}, ExitFailure},
		{"blocked, the on action failed in its transaction", &deploy.Result{Outcome: deploy.OutcomeBlocked,
			Maintenance: &deploy.MaintenanceResult{Error: "turn maintenance mode on: lock timeout"}}, ExitBlocked},
		{"partial", &deploy.Result{Outcome: deploy.OutcomePartial}, ExitFailure},
		{"failed", &deploy.Result{Outcome: deploy.OutcomeFailed}, ExitFailure},
		{"server too old", &deploy.Result{Outcome: deploy.OutcomeBlocked}, ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runErr error
			if !tc.res.OK {
				runErr = errors.New(tc.res.Outcome)
			}
			if tc.want == ExitUsage { // as deploy.Run refuses a server older than PostgreSQL 13
				runErr = &deploy.Blocked{Reason: "too old", Err: &deploy.ServerVersionError{Version: "12.18", Num: 120018}}
			}
			err := deployExit(tc.res, runErr)
			got := 0
			var ee *ExitError
			if errors.As(err, &ee) {
				got = ee.Code
			} else if err != nil {
				t.Fatalf("error %v without an exit code", err)
			}
			if got != tc.want {
				t.Errorf("exit %d, want %d (%v)", got, tc.want, err)
			}
		})
	}
}
