// Package snapshot takes backups of a database before a deploy and hands back their restore, in the
// style of atlas's Snapshot(ctx) (RestoreFunc, error): the thing that takes a snapshot knows how to undo.
// Two kinds exist: pg_dump in directory format with parallel jobs (PGDump), and a command hook for
// platform snapshots (Command).
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
)

// RestoreFunc puts the database back to the snapshot.
type RestoreFunc func(ctx context.Context) error

// Info describes a snapshot.
type Info struct {
	// Kind is "pg_dump" or "command".
	Kind string `json:"kind"`
	// ID identifies the snapshot: the folder name for pg_dump, the hook's printed id for command.
	ID string `json:"id"`
	// Location is where it is: the folder of a pg_dump snapshot; empty for a command snapshot.
	Location string `json:"location,omitempty"`
	// Database and ServerVersion describe what was dumped. Server identifies the server it was dumped
	// from: its system identifier (pg_control_system), or the URL's host and port when the deploy role may
	// not read it. Database and Server together tell the snapshots of one database from another's in the
	// same folder, which the retention leaves alone.
	Database      string `json:"database,omitempty"`
	Server        string `json:"server,omitempty"`
	ServerVersion string `json:"server_version,omitempty"`
	// Client is the folder of the pg_dump that took it, and ClientVersion that pg_dump's version ("17.6";
	// empty when snapshot.pg_bin's does not say): pg_dump only (see ChooseClient).
	Client        string `json:"client,omitempty"`
	ClientVersion string `json:"client_version,omitempty"`
	// Size is the snapshot's size in bytes on disk (pg_dump only).
	Size int64 `json:"size,omitempty"`
	// SHA256 is the checksum of the snapshot's files, in name order (pg_dump only).
	SHA256 string `json:"sha256,omitempty"`
	// Format is pg_dump's format ("directory" or "custom").
	Format string `json:"format,omitempty"`
	// Jobs is the parallelism it was taken with.
	Jobs int `json:"jobs,omitempty"`
	// Time is when it was taken; RunID is the deploy that took it.
	Time  time.Time `json:"time"`
	RunID string    `json:"run_id"`
	// DurationMS is how long taking it took.
	DurationMS int64 `json:"duration_ms"`
	// NoPublicSchema is set when the database had no public schema (pg_dump only): the dump cannot say
	// so (it writes nothing for a missing public), and the restore drops a public schema created since.
	NoPublicSchema bool `json:"no_public_schema,omitempty"`
	// KeptSchemas are the owner, comment and grants of the schemas the restore keeps instead of dropping
	// them (public, the schemas extensions own and those extensions are in), when the snapshot was taken
	// (pg_dump only): the dump writes the grants of the first two as changes from the initial ones
	// (pg_init_privs), which a migration may have changed, or dropped with public, and those of the
	// others as changes from the owner's defaults, which only the owner may make again; the restore sets
	// them back to these first, where they differ, and leaves out the dump's comment and grants of each.
	// A manifest of an older release has none, or none of the schemas extensions are in.
	KeptSchemas []SchemaState `json:"kept_schemas,omitempty"`
}

// SchemaState is a schema's owner, comment and grants.
type SchemaState struct {
	Name  string `json:"name"`
	Owner string `json:"owner"`
	// Comment is nil when it has none.
	Comment *string `json:"comment,omitempty"`
	// ACL are its grants as aclitems ("app=U/postgres"), the owner's defaults when it has none of its own.
	ACL []string `json:"acl"`
}

// Snapshotter takes snapshots.
type Snapshotter interface {
	// Snapshot takes a snapshot for run runID and returns its description and its restore. On error no
	// usable snapshot exists and the database is unchanged.
	Snapshot(ctx context.Context, runID string) (*Info, RestoreFunc, error)
	// Reopen returns the restore of a snapshot taken earlier (by a run that died), or an error wrapping
	// ErrNotFound when it is gone.
	Reopen(ctx context.Context, info *Info) (RestoreFunc, error)
}

// ErrNotFound is returned (wrapped) by Reopen for a snapshot that no longer exists.
var ErrNotFound = errors.New("snapshot not found")

// Error is a failed snapshot or restore step with a hint for the reader.
type Error struct {
	Op   string
	Err  error
	Hint string
	// SQLState is the SQLSTATE of the server error that ended the step, when the tool reported one (the
	// restore's psql prints it, with VERBOSITY=verbose, whatever the language of the server's messages);
	// empty otherwise.
	SQLState string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %v", e.Op, e.Err)
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// connect opens a session of url for the snapshot's own reads (the manifest's facts, what a restore
// would meet), which name pg_catalog's relations, functions and operators unqualified: its search path
// has pg_catalog first and the temporary schema last (see pg.PinCatalogPathSQL), which the search path
// the database or the role gives new sessions (an earlier migration's ALTER DATABASE ... SET
// search_path = public, pg_catalog, then a public.pg_namespace) would otherwise not. The schemas that
// path lists stay in it, after pg_catalog: what the reads deparse (pg_describe_object) reads as before.
func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, pg.PinCatalogPathSQL); err != nil {
		c.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("set the search path: %w", err)
	}
	return c, nil
}
