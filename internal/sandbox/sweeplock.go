package sandbox

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// sweepLockWait is how long a sweep waits for another schemagate process's sweep on this machine.
const sweepLockWait = 30 * time.Second

// sweepLock serializes the leftover sweeps of schemagate processes on one machine (a file lock in the
// temporary directory), so two runs starting at once do not race to remove the same containers. It
// is held per process and counted: a goroutine of a process that holds it takes it at once.
var sweepLock struct {
	mu   sync.Mutex
	held int
	file *os.File
}

// sweepLockPath is the lock file; the user's name keeps users of a shared machine out of each
// other's file (their sweeps still meet in the daemon, where a removal in progress is no failure).
func sweepLockPath() string {
	return filepath.Join(os.TempDir(), "schemagate-docker-sweep-"+userKey()+".lock")
}

// userKey names the current user in a file name.
func userKey() string {
	return strconv.Itoa(os.Getuid())
}

// lockSweeps takes the sweep lock, waiting up to sweepLockWait for another process; past that, or
// when the lock file cannot be opened, the sweep goes ahead without it (said at debug or warn level).
// A cancelled ctx stops the wait. The returned func releases it.
func lockSweeps(ctx context.Context, log *slog.Logger) (unlock func()) {
	sweepLock.mu.Lock()
	defer sweepLock.mu.Unlock()
	release := func() {
		sweepLock.mu.Lock()
		defer sweepLock.mu.Unlock()
		sweepLock.held--
		if sweepLock.held == 0 && sweepLock.file != nil {
			sweepLock.file.Close() // closing the file releases the lock
			sweepLock.file = nil
		}
	}
	if sweepLock.held > 0 {
		sweepLock.held++
		return release
	}
	path := sweepLockPath()
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		log.Debug("sweeping leftover containers without the machine-wide lock", "file", path, "err", err)
		sweepLock.held++
		return release
	}
	deadline := time.Now().Add(sweepLockWait)
	waited := false
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil || !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			break
		}
		if !waited {
			log.Info("waiting for another schemagate process on this machine to finish removing leftover containers", "file", path)
			waited = true
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	if err != nil {
		f.Close()
		log.Warn("sweeping leftover containers without the machine-wide lock", "file", path, "err", err)
		sweepLock.held++
		return release
	}
	sweepLock.file = f
	sweepLock.held++
	return release
}
