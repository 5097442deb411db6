package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// A url run marks its database with a comment (COMMENT ON DATABASE) that says which schemagate process
// made it, which roles its migrations create and, once the run's own session has created them, their
// OIDs (see Instance.RolesCreated). A
// schemagate killed with SIGKILL (a CI job's timeout) cannot drop them; the next url run on the same
// server reads the marks and drops the databases, and then the roles, of runs that are gone: a role only
// when its name and OID are those the run recorded. Nothing without the mark is touched: other
// databases, the roles the server had, a role the run planned but never created (someone may have made
// one of that name since), databases of older schemagate versions.

// urlMarkPrefix starts the comment on a url run's database; the JSON of urlMark follows.
const urlMarkPrefix = "schemagate rehearsal database "

// leftoverAge is how old the database of a run on another host must be before a later run takes it
// for a leftover: a process of another machine (or container) cannot be checked, and no rehearsal
// runs for a day.
const leftoverAge = 24 * time.Hour

// CopySuffix ends the name of the copy a rehearsal makes of a run's database for the round trip of a
// migration that runs outside a transaction (<database>_rt), which it marks with the database's mark
// and puts back in the database's place when the round trip fails. Close drops the copy with the
// database, and so does a later run, when the run is gone: a copy whose database is dropped with it
// even when the run died before it could mark the copy; a marked copy on its own (the run died as it
// put the copy back) as a database of its own.
const CopySuffix = "_rt"

// runDatabaseRE is the name of a url run's database, DatabasePrefix and 12 hex digits, or of its copy.
var runDatabaseRE = regexp.MustCompile(`^` + DatabasePrefix + `[0-9a-f]{12}(` + CopySuffix + `)?$`)

// urlMark is what the comment on a url run's database says.
type urlMark struct {
	// Host is the host name of the machine or container schemagate ran in, for people.
	Host string `json:"host"`
	// PID is the schemagate process's, in its own PID namespace.
	PID int `json:"pid"`
	// Process identifies the process exactly, as the docker provider's LabelProcess does: "<boot
	// id>/<PID namespace>/<PID>/<start time in clock ticks since boot>"; "" when /proc cannot say.
	Process string `json:"process,omitempty"`
	// Created is when the database was created, by the server's clock (RFC 3339).
	Created string `json:"created"`
	// Roles are the roles the run's migrations create that the server did not have before the run,
	// recorded before they exist (other runs leave them alone).
	Roles []string `json:"roles,omitempty"`
	// OIDs are the OIDs (pg_roles.oid) of those of Roles the run created itself, as its own session
	// read them right after creating them (the last it read): before the COMMIT of the transaction
	// that created them, so that a run killed before it recorded them never made them (in autocommit,
	// right after the script, which leaves a run killed in between a role behind). A later run
	// drops a dead run's role only when both its name and OID match; a role created by someone else
	// (before the run's CREATE ROLE, which then failed, or again since) has none or another OID.
	OIDs map[string]uint32 `json:"oids,omitempty"`
}

func newURLMark(o owner, created time.Time) urlMark {
	m := urlMark{Host: o.host, PID: o.pid, Created: created.UTC().Format(time.RFC3339)}
	if o.space != "" {
		m.Process = o.space + "/" + strconv.Itoa(o.pid) + "/" + strconv.FormatUint(o.ticks, 10)
	}
	return m
}

// comment is the text of the database's comment.
func (m urlMark) comment() string {
	b, _ := json.Marshal(m)
	return urlMarkPrefix + string(b)
}

// parseURLMark reads a database's comment; ok is false when it is not a url run's mark.
func parseURLMark(comment string) (m urlMark, ok bool) {
	rest, found := strings.CutPrefix(comment, urlMarkPrefix)
	if !found || json.Unmarshal([]byte(rest), &m) != nil || m.Created == "" {
		return urlMark{}, false
	}
	return m, true
}

// gone tells whether the run that marked a database is gone, and why (or why it counts as alive). now
// is the server's clock. A run on this host (same boot and PID namespace) is gone when its process no
// longer runs (a reused PID does not count); a run of another host, when its database is older than
// leftoverAge.
func (m urlMark) gone(self owner, now time.Time) (reason string, gone bool) {
	created, err := time.Parse(time.RFC3339, m.Created)
	if err != nil {
		return "unreadable creation time", false
	}
	if i := strings.LastIndexByte(m.Process, '/'); i > 0 && self.space != "" {
		j := strings.LastIndexByte(m.Process[:i], '/')
		pid, perr := strconv.Atoi(m.Process[max(j, 0)+1 : i])
		ticks, terr := strconv.ParseUint(m.Process[i+1:], 10, 64)
		if j > 0 && perr == nil && terr == nil && m.Process[:j] == self.space {
			if ownerRuns(pid, ticks) {
				return "process " + strconv.Itoa(pid) + " still runs", false
			}
			return "process " + strconv.Itoa(pid) + " no longer runs (or its PID was reused)", true
		}
	}
	if age := now.Sub(created); age > leftoverAge {
		return fmt.Sprintf("made on another host (%s) %s ago", m.Host, age.Round(time.Minute)), true
	}
	return "made on another host (" + m.Host + ") less than " + leftoverAge.String() + " ago", false
}

// quoteLiteral quotes s as a SQL string literal, as libpq's PQescapeLiteral does.
func quoteLiteral(s string) string {
	if strings.Contains(s, `\`) {
		return ` E'` + strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(s) + `'`
	}
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}

// mark writes m on the run's database.
func mark(ctx context.Context, conn *pgx.Conn, db string, m urlMark) error {
	_, err := conn.Exec(ctx, "COMMENT ON DATABASE "+pgx.Identifier{db}.Sanitize()+" IS "+quoteLiteral(m.comment()))
	return err
}

// removeLeftovers drops the databases of url runs on this server whose process is gone (see
// urlMark.gone), then the roles their marks name: those the server still has with the OID the mark
// recorded, and no other run's mark names. A role the mark names without an OID (the run never created
// it, or died before its commit) or with another one (dropped and made again since) may be
// someone else's, and is left alone with a log line. What it cannot drop (another role's database, a
// role that owns something elsewhere) is left with a warning; nothing here fails the run.
func (p *URL) removeLeftovers(ctx context.Context, admin *pgx.Conn, server *url.URL, self owner, version int) {
	log := p.opts.Logger
	rows, err := admin.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), ''), now()
		FROM pg_catalog.pg_database WHERE datname LIKE 'schemagate\_%' ORDER BY datname`)
	if err != nil {
		log.Warn("could not look for the databases of url runs that are gone", "err", err)
		return
	}
	type runDB struct {
		name string
		mark urlMark
		ok   bool
	}
	var dbs []runDB
	var now time.Time
	for rows.Next() {
		var d runDB
		var comment string
		if err := rows.Scan(&d.name, &comment, &now); err != nil {
			rows.Close()
			log.Warn("could not look for the databases of url runs that are gone", "err", err)
			return
		}
		if !runDatabaseRE.MatchString(d.name) {
			continue
		}
		d.mark, d.ok = parseURLMark(comment)
		dbs = append(dbs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		log.Warn("could not look for the databases of url runs that are gone", "err", err)
		return
	}
	var unmarked []string
	var gone []runDB
	var names []string
	for _, d := range dbs {
		names = append(names, d.name)
	}
	// claimedByOthers are the roles that the marks of the runs that stay name.
	claimedByOthers := map[string]bool{}
	for _, d := range dbs {
		if !d.ok {
			if main, isCopy := strings.CutSuffix(d.name, CopySuffix); !isCopy || !slices.Contains(names, main) {
				unmarked = append(unmarked, d.name) // a copy not yet marked goes with its database
			}
			continue
		}
		reason, isGone := d.mark.gone(self, now)
		if !isGone {
			log.Debug("leaving the database of another url run alone", "database", d.name, "why", reason)
			for _, r := range d.mark.Roles {
				claimedByOthers[r] = true
			}
			continue
		}
		log.Info("dropping a rehearsal database left by a schemagate process that is gone", "database", d.name,
			"host", d.mark.Host, "pid", d.mark.PID, "created", d.mark.Created, "why", reason)
		gone = append(gone, d)
	}
	if len(unmarked) > 0 {
		log.Warn("rehearsal databases without a schemagate mark (from an older schemagate, or a run killed as it started) are left alone; "+
			"if no run uses them, drop them by hand (DROP DATABASE ... WITH (FORCE))", "databases", strings.Join(unmarked, " "))
	}
	// exist are the server's roles, to say which roles a mark names are left alone.
	var exist []string
	if len(gone) > 0 {
		rows, err := admin.Query(ctx, "SELECT rolname FROM pg_catalog.pg_roles")
		if err == nil {
			exist, _ = pgx.CollectRows(rows, pgx.RowTo[string])
		}
	}
	for _, d := range gone {
		main, isCopy := strings.CutSuffix(d.name, CopySuffix)
		if isCopy && slices.ContainsFunc(dbs, func(x runDB) bool { return x.name == main }) {
			continue // dropped with its database, which is gone too: the copy has its mark
		}
		if err := p.drop(ctx, server, d.name, version); err != nil {
			log.Warn("could not drop the rehearsal database of a schemagate process that is gone", "database", d.name, "err", err)
			continue
		}
		if !isCopy {
			// Its copy, marked or not (the run may have died before it marked it).
			if err := p.drop(ctx, server, d.name+CopySuffix, version); err != nil {
				log.Warn("could not drop the round trip's copy of the rehearsal database of a schemagate process that is gone", "database", d.name+CopySuffix, "err", err)
				continue
			}
		}
		roles := map[string]uint32{}
		for _, r := range d.mark.Roles {
			if claimedByOthers[r] {
				continue
			}
			if oid, ok := d.mark.OIDs[r]; ok {
				roles[r] = oid
			} else if slices.Contains(exist, r) {
				log.Info("leaving alone a role the mark of a schemagate process that is gone names: the run never recorded creating it, "+
					"so it may be someone else's; drop it by hand if it is a leftover", "role", r, "database", d.name)
			}
		}
		if len(roles) == 0 {
			continue
		}
		if err := p.dropRoles(ctx, server, roles); err != nil {
			log.Warn("could not drop the roles of a schemagate process that is gone", "database", d.name, "err", err)
		}
	}
}

// RunRoles returns the roles that the marks of url runs' databases other than except (and its copy) name: roles other
// schemagate runs on the server create, and drop when they end (or a later run drops, when they died).
// A rehearsal that watches the server (see rehearse's serverGuard) does not count their going against
// its migrations.
func RunRoles(ctx context.Context, conn *pgx.Conn, except string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_catalog.pg_database WHERE datname LIKE 'schemagate\_%' AND datname <> $1 AND datname <> $1 || $2`, except, CopySuffix)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var roles []string
	for rows.Next() {
		var name, comment string
		if err := rows.Scan(&name, &comment); err != nil {
			return nil, err
		}
		if m, ok := parseURLMark(comment); ok && runDatabaseRE.MatchString(name) {
			for _, r := range m.Roles {
				if !slices.Contains(roles, r) {
					roles = append(roles, r)
				}
			}
		}
	}
	return roles, rows.Err()
}
