package sandbox

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// An initdb whose backend crashes (a PANIC: "No space left on device" on a full disk) leaves the shared
// memory that backend held: its System V segment and, in /dev/shm, the dynamic shared memory control
// segment that the System V one's header names. PostgreSQL frees such leftovers when a server starts
// again in the same data folder, which never happens to a failed build (initdb even empties it). So a
// build watches initdb's descendants while it runs and, when initdb fails, removes the segments one of
// them created that nothing uses any more: only those, never another server's (the server user's other
// clusters, other runs' servers), which the creator PID tells apart.

// pgShmemMagic is PGShmemMagic, the first field of PostgreSQL's System V segment header (PGShmemHeader).
const pgShmemMagic = 679834894

// descendants collects the PIDs of a process and its descendants while they run.
type descendants struct {
	mu   sync.Mutex
	pids map[int]bool
	stop chan struct{}
	done chan struct{}
}

// watchDescendants starts collecting the descendants of root, every 10 ms: initdb's backends each run
// for a second or more.
func watchDescendants(root int) *descendants {
	d := &descendants{pids: map[int]bool{root: true}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			d.scan()
			select {
			case <-d.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return d
}

func (d *descendants) scan() {
	procs := processes("/proc")
	d.mu.Lock()
	defer d.mu.Unlock()
	for grew := true; grew; {
		grew = false
		for _, p := range procs {
			if d.pids[p.ppid] && !d.pids[p.pid] {
				d.pids[p.pid], grew = true, true
			}
		}
	}
}

// end stops the watch and returns the PIDs seen.
func (d *descendants) end() map[int]bool {
	close(d.stop)
	<-d.done
	return d.pids
}

// freeCrashedSharedMemory removes the System V segments of uid that one of pids created and nothing
// is attached to, with the dynamic shared memory control segment each one's header names, and returns
// what it removed. Best effort: what it cannot read or remove stays.
//
// The crashed backend's other dynamic shared memory segments are named nowhere: the files in /dev/shm of
// uid changed since the build started (since) that no process maps are removed too (a live server maps
// its segments; one of another run created meanwhile is mapped as soon as it exists).
func freeCrashedSharedMemory(pids map[int]bool, uid int, since time.Time, log *slog.Logger) []string {
	removed := freeCrashedSysV(pids, uid, log)
	return append(removed, freeUnmappedDSM(uid, since)...)
}

// freeUnmappedDSM removes /dev/shm/PostgreSQL.* of uid modified at or after since that no process maps.
func freeUnmappedDSM(uid int, since time.Time) []string {
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		return nil
	}
	var candidates []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "PostgreSQL.") {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !ownedBy(info, uid) || info.ModTime().Before(since) {
			continue
		}
		candidates = append(candidates, "/dev/shm/"+e.Name())
	}
	if len(candidates) == 0 {
		return nil
	}
	// A live server's segment is unmapped for an instant too, between its shm_open and its mmap and
	// between its munmap and its shm_unlink: a segment is the crashed backend's only if it is unmapped at
	// two looks a moment apart (it then stays so: no process knows it any more).
	var unmapped []string
	for look := range 2 {
		if look > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		mapped := mappedFiles(candidates)
		unmapped = unmapped[:0]
		for _, c := range candidates {
			if !mapped[c] {
				unmapped = append(unmapped, c)
			}
		}
		candidates = slices.Clone(unmapped)
	}
	var removed []string
	for _, c := range candidates {
		if os.Remove(c) == nil {
			removed = append(removed, c)
		}
	}
	return removed
}

// mappedFiles tells which of paths a process maps (reads every process's /proc/PID/maps).
func mappedFiles(paths []string) map[string]bool {
	mapped := map[string]bool{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + p.Name() + "/maps")
		if err != nil {
			continue
		}
		for _, c := range paths {
			if strings.Contains(string(b), c) {
				mapped[c] = true
			}
		}
	}
	return mapped
}

// freeCrashedSysV removes the System V segments of uid that one of pids created and nothing is attached
// to, with the dynamic shared memory control segment each one's header names.
func freeCrashedSysV(pids map[int]bool, uid int, log *slog.Logger) []string {
	b, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		return nil
	}
	var removed []string
	lines := strings.Split(string(b), "\n")
	for _, line := range lines[min(1, len(lines)):] {
		// key shmid perms size cpid lpid nattch uid ...
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		shmid, _ := strconv.Atoi(f[1])
		cpid, _ := strconv.Atoi(f[4])
		owner, _ := strconv.Atoi(f[7])
		if !pids[cpid] || f[6] != "0" || owner != uid {
			continue
		}
		if mem, err := unix.SysvShmAttach(shmid, 0, unix.SHM_RDONLY); err == nil {
			// PGShmemHeader: int32 magic, pid_t creatorPID, Size totalsize, Size freeoffset, dsm_handle dsm_control.
			if len(mem) >= 28 && binary.NativeEndian.Uint32(mem[0:4]) == pgShmemMagic && int(binary.NativeEndian.Uint32(mem[4:8])) == cpid {
				if handle := binary.NativeEndian.Uint32(mem[24:28]); handle != 0 {
					path := fmt.Sprintf("/dev/shm/PostgreSQL.%d", handle)
					if info, err := os.Lstat(path); err == nil && info.Mode().IsRegular() && ownedBy(info, uid) && os.Remove(path) == nil {
						removed = append(removed, path)
					}
				}
			}
			_ = unix.SysvShmDetach(mem)
		}
		if _, err := unix.SysvShmCtl(shmid, unix.IPC_RMID, nil); err != nil {
			log.Warn("could not remove the shared memory of a crashed initdb", "shmid", shmid, "err", err)
			continue
		}
		removed = append(removed, "System V segment "+f[1])
	}
	return removed
}

func ownedBy(info os.FileInfo, uid int) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == uid
}
