package rehearse

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/pg"
)

// resourceError is a statement of the rehearsal that the throwaway server could not run for want of
// the machine's resources: no disk space left where it keeps its data (SQLSTATE 53100), or no memory
// (53200 "out of memory"). On an empty throwaway database that is the machine's lack (a CI runner's
// full disk, a small /dev/shm), not the migration's fault: the rehearsal stops as the tool's failure
// (exit 1), and its report (see stoppedReport) says that the migration under way met it.
//
// The other errors of class 53 that a statement meets stay the migration's: "out of shared memory"
// (53200, told from "out of memory" by sharedMemoryFull) is a fixed table its own transaction filled, the lock table (max_locks_per_transaction,
// which the local provider sets to hold as many locks as a stock server does) or the predicate locks,
// and production fails alike with the same settings; 53400 configuration_limit_exceeded is a limit of
// what one statement or transaction may do (grouping sets, commands in a transaction); 53300, too
// many connections, comes from a statement only when it connects itself (dblink).
type resourceError struct {
	// what ran out: "disk space" or "memory".
	what string
	se   *pg.StatementError
	// dir is the migration folder, which the statement is named in; provider and dataDir say where
	// the server keeps its data.
	dir, provider, dataDir string
}

// ranOut is err as a *resourceError when the statement it is failed for want of the machine's disk
// or memory (see resourceError), nil otherwise.
func (r *run) ranOut(err error) error {
	var se *pg.StatementError
	if !errors.As(err, &se) {
		return nil
	}
	e := &resourceError{se: se, dir: r.opts.Dir, provider: r.opts.Provider.Name()}
	if r.inst != nil {
		e.dataDir = r.inst.DataDir
	}
	switch {
	case se.SQLState == "53100":
		e.what = "disk space"
	case se.SQLState == "53200" && !sharedMemoryFull(se):
		e.what = "memory"
	default:
		return nil
	}
	return e
}

// sharedMemoryFiles are the files of PostgreSQL's source that raise "out of shared memory" (53200) when
// a fixed table in shared memory is full: the lock table (lock.c), the predicate locks (predicate.c), the
// server's fixed allocations (shmem.c) and the buffer table (buf_table.c).
var sharedMemoryFiles = map[string]bool{"lock.c": true, "predicate.c": true, "shmem.c": true, "buf_table.c": true}

// sharedMemoryFull tells whether a 53200 error is "out of shared memory", a fixed table the statement's
// transaction filled, rather than "out of memory", the machine's. The message is in the server's
// lc_messages language (a url provider's server may speak German: "Shared Memory aufgebraucht" and
// "Speicher aufgebraucht"), so it is told first by what is never translated: the source file that raised
// it (the error's File field) and the setting its hint names (max_locks_per_transaction,
// max_pred_locks_per_transaction). The English message is the last resort, for a shared hash table that
// dynahash.c itself reports full (it reports a local one's failed allocation, the machine's, from the
// same routine), an extension's table, and a server that sends no File.
func sharedMemoryFull(se *pg.StatementError) bool {
	var pe *pgconn.PgError
	if errors.As(se, &pe) && sharedMemoryFiles[pe.File] {
		return true
	}
	if strings.Contains(se.Hint, "max_locks_per_transaction") || strings.Contains(se.Hint, "max_pred_locks_per_transaction") {
		return true
	}
	return strings.Contains(se.Message, "shared memory")
}

func (e *resourceError) Error() string {
	file := e.se.File
	if e.dir != "" && file != "" && !path.IsAbs(file) {
		file = path.Join(filepath.ToSlash(e.dir), file)
	}
	return fmt.Sprintf("the throwaway PostgreSQL ran out of %s at %s:%d:%d (%s, SQLSTATE %s), so the rehearsal stopped: "+
		"this is the machine's lack, not a fault of the migration\nhint: %s",
		e.what, file, e.se.Line, e.se.Column, e.se.Message, e.se.SQLState, e.hint())
}

func (e *resourceError) Unwrap() error { return e.se }

// hint says what to free, and where.
func (e *resourceError) hint() string {
	if e.what == "memory" {
		return "free memory on the machine that runs the server (the CI runner, for the local and docker providers), or run the check on one with more, then check again; " +
			"a statement that needs more memory than that (a large sort, hash or array) may need it in production too"
	}
	switch {
	case e.dataDir != "":
		where := ""
		switch {
		case strings.HasPrefix(e.dataDir, "/dev/shm/"):
			where = " (in /dev/shm, which is memory: the local provider uses it when it has 1 GB free, else the temp folder, $TMPDIR)"
		case strings.HasPrefix(e.dataDir, filepath.Clean(os.TempDir())+"/"):
			where = " (in the temp folder, $TMPDIR, else /tmp: the local provider uses it when /dev/shm has less than 1 GB free)"
		}
		return fmt.Sprintf("free space where the server keeps its data, %s on this machine%s, then check again: "+
			"the migrations' data must fit there, beside a copy of an empty cluster", e.dataDir, where)
	case e.provider == "docker":
		return "free space where Docker keeps its containers (docker system df shows it, docker system prune frees it), then check again"
	}
	return "free space on the server's data directory (SHOW data_directory, on the server's host), then check again"
}
