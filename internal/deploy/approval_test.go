package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

type failingApproval struct{ err error }

func (a failingApproval) Check(context.Context, []*migrate.Migration) error { return a.err }

// TestApprovalUnreachableHint: with require_approval, an approval check that could not reach the code
// host's API blocks the deploy with a hint about the network, not one asking a DBA to approve.
func TestApprovalUnreachableHint(t *testing.T) {
	t.Parallel()
	network := fmt.Errorf("read o/r#7: %w", &url.Error{Op: "Get", URL: "https://api.github.com/repos/o/r/pulls/7",
		Err: errors.New("dial tcp 127.0.0.1:9: connect: connection refused")})
	for _, tc := range []struct {
		name      string
		err       error
		want, not string
	}{
		{"unreachable", network, "could not be reached", "DBA must approve"},
		{"not approved", errors.New("o/r#7 does not show these migrations approved by their owners"), "DBA must approve", "could not be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			o := tg.options(t, folder(t, goodMigrations), "run-approval")
			o.Config.RequireApproval, o.Approval = true, failingApproval{tc.err}
			res, err := Run(t.Context(), o)
			if err == nil || res.Outcome != OutcomeBlocked {
				t.Fatalf("outcome %s (%v), want blocked", res.Outcome, err)
			}
			if !strings.Contains(res.Hint, tc.want) || strings.Contains(res.Hint, tc.not) {
				t.Errorf("hint %q, want %q and not %q", res.Hint, tc.want, tc.not)
			}
		})
	}
}
