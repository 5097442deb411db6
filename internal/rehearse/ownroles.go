package rehearse

import (
	"context"
	"errors"
	"slices"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// stopAt is where a script run in autocommit failed: its statements before that one ran, the rest did not.
type stopAt struct {
	file         string
	line, column int
}

// stoppedAt is where err, a statement error, stopped its script: nil when err is nil, a place in no
// file when err says none (then which statements ran is unknown).
func stoppedAt(err error) *stopAt {
	var se *pg.StatementError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return &stopAt{se.File, se.Line, se.Column}
	}
	return &stopAt{}
}

// reportedStop is stoppedAt for a failure the report holds.
func reportedStop(e *report.SQLError) *stopAt {
	if e == nil {
		return nil
	}
	return &stopAt{e.File, e.Line, e.Column}
}

// reached tells whether statement st of a script in file starts at or before the place (its error may
// stand anywhere in it).
func (s *stopAt) reached(file string, st *sqlparse.Statement) bool {
	return s != nil && file == s.file && (st.Pos.Line < s.line || st.Pos.Line == s.line && st.Pos.Column <= s.column)
}

// madeRoles lists the roles that scripts, run in this order, leave created: CREATE ROLE (USER, GROUP)
// makes one, ALTER ROLE ... RENAME TO moves it to its new name, DROP ROLE takes it away (a role of that
// name made afterwards is someone else's). stop, when not nil, is where the last of them failed in
// autocommit: the statement there and those after it did not run (nor did later scripts); one in no
// file says that which statements ran is unknown, and none is listed.
func madeRoles(scripts []*migrate.Script, stop *stopAt) []string {
	if stop != nil && stop.file == "" {
		return nil
	}
	var made []string
	drop := func(name string) {
		if i := slices.Index(made, name); i >= 0 {
			made = slices.Delete(made, i, i+1)
		}
	}
	for _, s := range scripts {
		if s == nil {
			continue
		}
		// The statement the failure stands in is the last that starts at or before it.
		end := len(s.Statements)
		if stop != nil && stop.file == s.File {
			for i := range s.Statements {
				if stop.reached(s.File, &s.Statements[i]) {
					end = i
				}
			}
		}
		for i := range s.Statements[:end] {
			n := s.Statements[i].Node
			switch {
			case n.GetCreateRoleStmt() != nil:
				drop(n.GetCreateRoleStmt().Role)
				made = append(made, n.GetCreateRoleStmt().Role)
			case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_ROLE:
				if slices.Contains(made, n.GetRenameStmt().Subname) {
					drop(n.GetRenameStmt().Subname)
					made = append(made, n.GetRenameStmt().Newname)
				}
			case n.GetDropRoleStmt() != nil:
				for _, r := range n.GetDropRoleStmt().Roles {
					if spec := r.GetRoleSpec(); spec != nil {
						drop(spec.Rolename)
					}
				}
			}
		}
		if end < len(s.Statements) {
			break
		}
	}
	return made
}

// recordRoles tells a shared server (url provider) which roles the run's own session has just made
// with scripts (see madeRoles), for it to read their OIDs on that session: Close, or a later run
// should this one die, drops only those, never a role someone else made under a claimed name (the
// run's CREATE ROLE then failed, and no script here names it as made). Callers pass scripts whose
// transaction is about to commit (call it before the COMMIT, when nobody else can make a role of those
// names yet) or that committed in autocommit; never those of a transaction that is rolled back. Its
// error is a warning.
func (r *run) recordRoles(ctx context.Context, stop *stopAt, scripts ...*migrate.Script) {
	if r.inst == nil || r.inst.RolesCreated == nil || r.conn == nil || r.conn.IsClosed() {
		return
	}
	made := madeRoles(scripts, stop)
	if len(made) == 0 {
		return
	}
	if err := r.inst.RolesCreated(ctx, r.conn, made); err != nil {
		r.opts.Progress("warning: %v", err)
		r.opts.Logger.Warn("could not record the roles the migrations created", "err", err)
	}
}

// roleHook records, on a shared server (url provider), the roles that statements of scripts, run in
// this order in autocommit, made, right after each statement that can make or rename one ran (see
// recordRoles): a run stopped or killed later in the script, or before its end is recorded, leaves none
// behind. nil on a server of the run's own, where scripts then run as fast as without it.
func (r *run) roleHook(scripts ...*migrate.Script) *pg.StatementHook {
	if r.inst == nil || r.inst.RolesCreated == nil {
		return nil
	}
	return &pg.StatementHook{Picks: namesRole, Ran: func(ctx context.Context, s *migrate.Script, i int) {
		ran := slices.Clone(scripts)
		if k := slices.Index(scripts, s); k >= 0 {
			ran = ran[:k]
		}
		ran = append(ran, &migrate.Script{File: s.File, Statements: s.Statements[:i+1]})
		// The record is written even when the run is being canceled (the statement's role stays
		// all the same), within the time a server that answers needs.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerWithin)
		defer cancel()
		r.recordRoles(ctx, nil, ran...)
	}}
}

// namesRole tells whether st gives a role its name: CREATE ROLE (USER, GROUP), ALTER ROLE ... RENAME TO.
func namesRole(st *sqlparse.Statement) bool {
	n := st.Node
	return n.GetCreateRoleStmt() != nil || n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_ROLE
}

// ranUps lists the up scripts of ms[:n], which applied, and ms[n]'s when it ran in autocommit and failed
// (err): its statements before the failing one stay.
func ranUps(ms []*migrate.Migration, n int, err error) []*migrate.Script {
	var out []*migrate.Script
	for _, m := range ms[:n] {
		out = append(out, m.Up)
	}
	if err != nil && n < len(ms) && ms[n].NoTransaction {
		out = append(out, ms[n].Up)
	}
	return out
}
