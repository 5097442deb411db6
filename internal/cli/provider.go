package cli

import (
	"errors"

	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// newProvider picks the throwaway server's provider for check and rollback-script (App.newSandbox in
// tests, else sandbox.New). Nothing starts yet, so its errors are the request's (an unknown provider, a
// --pg-bindir without a server in it, a --pg-version not installed: exit 2), except a machine that can run
// no throwaway server at all (sandbox.ErrUnavailable: exit 1, as when the server cannot start later on).
func (a *App) newProvider(name string, opts sandbox.Options) (sandbox.Provider, error) {
	newSandbox := a.newSandbox
	if newSandbox == nil {
		newSandbox = sandbox.New
	}
	prov, err := newSandbox(name, opts)
	if err != nil {
		if errors.Is(err, sandbox.ErrUnavailable) {
			return nil, exitCode(ExitFailure, err)
		}
		return nil, usageErr(err)
	}
	return prov, nil
}

// rehearsalErr gives an error of a rehearsal (check, rollback-script) its exit code: a provider this
// machine cannot run is the tool's failure (exit 1); what the request can change is bad input (exit 2):
// a setup script that fails, migrations that would change a shared server or reach the network (or,
// in a CI job, the files or programs of the server's machine), a
// version the provider cannot start here or a server of another version, a migration rollback-script
// cannot serve. Any other error stays the tool's failure.
func rehearsalErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sandbox.ErrUnavailable):
		return exitCode(ExitFailure, err)
	case errors.Is(err, rehearse.ErrSetup), errors.Is(err, rehearse.ErrInput), errors.Is(err, rehearse.ErrSharedServer),
		errors.Is(err, rehearse.ErrNetwork), errors.Is(err, rehearse.ErrServerAccess), errors.Is(err, rehearse.ErrVersionMismatch), errors.Is(err, sandbox.ErrVersionUnavailable):
		return usageErr(err)
	}
	return err
}
