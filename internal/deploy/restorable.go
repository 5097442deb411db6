package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// restoreChecker is a snapshotter that tells, before taking a snapshot, what would make its restore fail
// for lack of privileges (snapshot.PGDump). A command snapshot's restore is the platform's: nothing to
// check.
type restoreChecker interface {
	Obstacles(ctx context.Context, limit int) (role string, obs []snapshot.Obstacle, total int, err error)
}

var _ restoreChecker = (*snapshot.PGDump)(nil)

// pinner is a snapshotter whose retention can be told to keep snapshots (snapshot.PGDump): those of the
// runs that did not finish, which --recover restores, and those of runs that failed, which a person may
// restore by hand (Hold, with why). RetentionNotes say what the retention of the last snapshot kept
// that way, and what leftovers of runs that died it removed, for the progress.
type pinner interface {
	Hold(id, why string)
	RetentionNotes() []string
}

var _ pinner = (*snapshot.PGDump)(nil)

// clientChecker is a snapshotter that tells, before the deploy changes anything, whether the programs
// its snapshot runs are there (snapshot.PGDump: pg_dump, pg_restore and psql of the server's version).
type clientChecker interface {
	CheckClient(ctx context.Context) error
}

var _ clientChecker = (*snapshot.PGDump)(nil)

// snapshotOnly says why a rollback of m restores the snapshot rather than run m's down, as undo decides
// it: m has no down, or its down would lose data. "" when the down is used. earlier are the migrations
// the run applies before m; code is what is known of the functions its down calls (deployer.funcCode),
// cascades what the database had before the run (deployer.readCascades).
func snapshotOnly(m *migrate.Migration, earlier []*migrate.Migration, searchPath string, code map[string][]codeDef, cascades map[string]string) string {
	if m.Down.Empty() {
		return m.ID() + " has no down migration"
	}
	if loss := downLosesData(m, earlier, searchPath, code, cascades); loss != "" {
		return "the down of " + m.ID() + " would lose data: " + loss
	}
	return ""
}

// upDestroyed says why a rollback of m restores the snapshot rather than run m's down, once m's up has
// run: the up destroyed data that was there before (a dropped column or table, deleted or overwritten
// rows), which its down does not bring back. "" when it did not.
// earlier are the migrations the run applies before m; code what is known of the functions it calls
// (deployer.funcCode), cascades what its DROP ... CASCADE of types, domains and extensions take with
// them (deployer.readCascades).
func upDestroyed(m *migrate.Migration, earlier []*migrate.Migration, searchPath string, code map[string][]codeDef, cascades map[string]string) string {
	if loss := upLosesData(m, earlier, searchPath, code, cascades); loss != "" {
		return "the up of " + m.ID() + " destroys data its down cannot bring back: " + loss
	}
	return ""
}

// mayStopHalfWay says why m, should it fail, may be left half applied, which a rollback undoes by
// restoring the snapshot (undoPlan.partial): it runs several statements outside a transaction. "" when
// it cannot.
func mayStopHalfWay(m *migrate.Migration) string {
	if m.NoTransaction && len(m.Up.Statements) > 1 {
		return fmt.Sprintf("%s runs %d statements outside a transaction, and one failing after the first leaves it half applied", m.ID(), len(m.Up.Statements))
	}
	return ""
}

// restorable blocks, before anything changes, a deploy whose rollback would have to restore the snapshot
// (a pending migration without a usable down, or one that can stop half way) when the deploy role could
// not restore it: the restore drops and recreates every object and gives each back to its owner, and
// grants again on the objects of the extensions it keeps what differs from their scripts' grants, which
// the role can only do as a superuser or a member of the owner, and only to an owner with CREATE on the
// object's schema (snapshot.Obstacle says which is missing). The extensions themselves need nothing of
// their owner (see snapshot.PGDump.Obstacles). It used to find out during the rollback, with
// the migrations applied and no way back. Migrations whose downs undo them need no restore, and are not
// held up by objects the role does not own.
func (d *deployer) restorable(ctx context.Context, pending []*migrate.Migration) error {
	// Before anything changes, also for undo, whatever the snapshot: what the ups' DROP ... CASCADE take
	// with them, and the code of the functions the migrations call, which an up may replace or rename
	// after calling it (undo judges an up by the code it ran, not by what it left).
	d.readCascades(ctx, pending)
	code := d.funcCode(ctx, pending)
	rc, ok := d.o.Snapshotter.(restoreChecker)
	if !ok {
		return nil
	}
	var why, noDown, halfWay []string
	for i, m := range pending {
		if w := snapshotOnly(m, pending[:i], d.o.Set.SearchPath, code, d.cascades); w != "" {
			why, noDown = append(why, w), append(noDown, m.ID())
		} else if w := upDestroyed(m, pending[:i], d.o.Set.SearchPath, code, d.cascades); w != "" {
			why = append(why, w)
		} else if w := mayStopHalfWay(m); w != "" {
			why, halfWay = append(why, w), append(halfWay, m.ID())
		}
	}
	if len(why) == 0 {
		return nil
	}
	d.step = "checking that the deploy role can restore the snapshot"
	const shown = 3
	role, obs, total, err := rc.Obstacles(ctx, shown)
	if err != nil {
		return &Blocked{Reason: "check that the snapshot can be restored (" + why[0] + "): " + err.Error() + "; nothing was changed",
			Hint: obstaclesHint(err)}
	}
	if total == 0 {
		return nil
	}
	names := make([]string, len(obs))
	var owners, privileges, ownerFixes []string
	super := false
	for i, o := range obs {
		switch {
		case o.Privilege != "":
			names[i] = fmt.Sprintf("%s (%s lacks %s)", o.Object, role, o.Privilege)
			privileges = append(privileges, o.Privilege)
		case o.Superuser:
			names[i] = fmt.Sprintf("%s (only a superuser creates it)", o.Object)
			super = true
		case o.OwnerLacks != "":
			names[i] = fmt.Sprintf("%s (owner %s, which lacks %s that ALTER ... OWNER TO needs)", o.Object, o.Owner, o.OwnerLacks)
			if !slices.Contains(ownerFixes, o.Fix) {
				ownerFixes = append(ownerFixes, o.Fix)
			}
		default:
			names[i] = fmt.Sprintf("%s (owner %s, which %s may not act as)", o.Object, o.Owner, role)
			if !slices.Contains(owners, o.Owner) {
				owners = append(owners, o.Owner)
			}
		}
	}
	list := strings.Join(names, ", ")
	if total > len(obs) {
		list += fmt.Sprintf(" and %d more", total-len(obs))
	}
	because := strings.Join(why[:min(len(why), shown)], "; ")
	if len(why) > shown {
		because += fmt.Sprintf("; and %d more", len(why)-shown)
	}
	reason := fmt.Sprintf("a rollback of this deploy may have to restore the snapshot (%s), and role %s could not restore it: the restore drops every object, creates it "+
		"again and gives it back to its owner (and grants again on the objects of the extensions it keeps), and cannot for %s; nothing was changed", because, role, list)
	var fix []string
	for _, p := range privileges {
		if f := strings.SplitN(p, " ", 4); len(f) == 4 { // "CREATE on schema public"
			fix = append(fix, fmt.Sprintf("GRANT %s ON %s %s TO %s", f[0], strings.ToUpper(f[2]), f[3], role))
		}
	}
	if len(owners) > 0 {
		fix = append(fix, fmt.Sprintf("give these objects to %s (ALTER ... OWNER TO %s, run by their owner) or make %s a member of their owner%s (GRANT %s TO %s)",
			role, role, role, plural(len(owners)), strings.Join(owners, ", "), role))
	}
	fix = append(fix, ownerFixes...)
	if super {
		fix = append(fix, "deploy as a superuser, or drop what only a superuser creates")
	}
	if len(noDown) > 0 {
		fix = append(fix, "add down migrations to "+strings.Join(noDown, ", ")+" (or set generated_downs: true) that undo them without losing data, so that a rollback runs them instead of a restore")
	}
	if len(halfWay) > 0 {
		fix = append(fix, "split "+strings.Join(halfWay, ", ")+" into one statement per migration")
	}
	fix = append(fix, "or take a platform snapshot (snapshot.kind: command), whose restore_command restores it; snapshot.kind: none leaves a failure that no down undoes to a person")
	return &Blocked{Reason: reason, Hint: strings.Join(fix, "; ")}
}

// obstaclesHint says what to do when the check of what would make the restore fail could not run: a
// connection that failed or broke points at the URL and the server, but a query the server refused once
// connected does not (the check's query failed on a database without a public schema: "schema "public"
// does not exist", which a user sent to check the URL could not act on).
func obstaclesHint(err error) string {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	if !errors.As(err, &ce) && errors.As(err, &pe) {
		return "the server refused the query that checks the role can restore the snapshot (see its error): report it to schemagate's maintainers; nothing was changed"
	}
	return "check the database URL and that the server is up, then deploy again"
}
