package rehearse

import (
	"slices"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
)

// keepOwnRoles has a rehearsal on a shared server (url provider) compare only the roles its scripts
// create (see ownRoles: CREATE ROLE, USER or GROUP, and the names they are renamed to) and their
// memberships: other sessions create, drop and change roles during the run, which are not the
// migrations' doing, and a migration may not change a role it did not create there (see
// serverRoleChanges). The other providers' servers are the run's own: every role is compared.
func keepOwnRoles(in *pg.Inspector, opts Options, sets ...*migrate.Set) {
	if opts.Provider == nil || opts.Provider.Name() != "url" {
		return
	}
	own := []string{}
	for name := range ownRoles(allScripts(opts.Setup, sets...)) {
		own = append(own, name)
	}
	slices.Sort(own)
	in.Ignore.Roles = own
}
