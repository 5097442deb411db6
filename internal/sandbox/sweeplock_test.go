package sandbox

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
)

// tryFlock takes the sweep lock through a file of its own (another open file, as another process
// has), without waiting; it reports whether it got it, and releases it.
func tryFlock(t *testing.T) bool {
	t.Helper()
	f, err := os.Open(sweepLockPath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err != nil && !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatal(err)
	}
	return err == nil
}

// TestSweepLock: the lock is a real file lock other processes meet, taken again at once within the
// process, and released by the last release.
func TestSweepLock(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // a lock file of its own, out of other test binaries' way
	log := slog.New(slog.DiscardHandler)
	first := lockSweeps(t.Context(), log)
	second := lockSweeps(t.Context(), log) // the same process: no wait
	if tryFlock(t) {
		t.Fatal("another open file took the sweep lock while this process held it")
	}
	first()
	if tryFlock(t) {
		t.Fatal("the sweep lock was released while a holder remained")
	}
	second()
	if !tryFlock(t) {
		t.Fatal("the sweep lock stayed taken after every release")
	}
}

// TestSweepLockCancelled: a sweep waiting for another process's lock stops waiting when its context
// is cancelled, and says it goes ahead without the lock.
func TestSweepLockCancelled(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	// The lock as another process holds it: a file of its own.
	f, err := os.OpenFile(sweepLockPath(), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("cannot take the sweep lock: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var logs syncBuffer
	unlock := lockSweeps(ctx, slog.New(slog.NewTextHandler(&logs, nil)))
	defer unlock()
	if out := logs.String(); !strings.Contains(out, "without the machine-wide lock") || !strings.Contains(out, "context canceled") {
		t.Errorf("log %q does not say the sweep goes ahead without the lock", out)
	}
}
