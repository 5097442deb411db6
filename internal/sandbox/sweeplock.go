package sandbox

import (
	"context"
	"errors"
	"io/fs"
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
	return filepath.Join(os.TempDir(), "schemagate-docker-sweep-"+strconv.Itoa(os.Getuid())+".lock")
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
	f, err := lockFile(ctx, path, sweepLockWait, func() {
		log.Info("waiting for another schemagate process on this machine to finish removing leftover containers", "file", path)
	})
	if err != nil {
		level := slog.LevelWarn
		if errors.As(err, new(*fs.PathError)) {
			level = slog.LevelDebug // no lock file to be had (a temp folder not writable): nothing to wait for
		}
		log.Log(ctx, level, "sweeping leftover containers without the machine-wide lock", "file", path, "err", err)
		sweepLock.held++
		return release
	}
	sweepLock.file = f
	sweepLock.held++
	return release
}

// lockFile takes an exclusive lock (flock) on the file at path, created if need be, waiting up to wait
// for another process and calling waiting once when it has to wait. Closing the returned file releases
// the lock. The error is an *fs.PathError when the file cannot be opened, syscall.EWOULDBLOCK when the
// wait ran out, ctx's error when ctx ended it.
func lockFile(ctx context.Context, path string, wait time.Duration, waiting func()) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for i := 0; ; i++ {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, err
		}
		if i == 0 {
			waiting()
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
