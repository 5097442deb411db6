package cli

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// newCommandGuard keeps text from the pull request (file names, SQL, error messages that quote them) from
// being read as a workflow command by the GitHub Actions runner, which executes any output line that
// starts with "::" (after leading white space), such as ::add-mask:: or ::error::, and the legacy
// "##[command]" form anywhere in a line. A file name may hold a newline, so any line may start with text
// from the pull request. Only `action` writes workflow commands of its own, and it guards its output with
// ::stop-commands:: instead; every other command's output goes through this guard on GitHub Actions.
// Lines are passed on whole; Flush writes what is left of the last one.
func newCommandGuard(w io.Writer) *lineWriter { return &lineWriter{w: w, edit: defuse} }

// lineWriter passes what is written to w whole lines at a time, each run of them rewritten by edit:
// a line split over two writes is judged whole all the same. Flush writes what is left of a last line.
type lineWriter struct {
	mu   sync.Mutex
	w    io.Writer
	edit func(lines string) string
	buf  []byte
}

func (lw *lineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.buf = append(lw.buf, p...)
	i := bytes.LastIndexByte(lw.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	lines := string(lw.buf[:i+1])
	lw.buf = append(lw.buf[:0], lw.buf[i+1:]...)
	if _, err := io.WriteString(lw.w, lw.edit(lines)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a last line that has no newline.
func (lw *lineWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if len(lw.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(lw.w, lw.edit(string(lw.buf)))
	lw.buf = nil
	return err
}

// defuse rewrites the lines of s that the runner would execute: a line starting with "::" gets a visible
// prefix, and "##[" is broken with a zero-width space. Other lines are left as they are. A line is what
// the runner reads as one (.NET ReadLine): it ends at "\n" or at a lone "\r" too, and its leading white
// space is any Unicode space (see startsCommand), a no-break space included.
func defuse(s string) string {
	if !strings.Contains(s, "::") && !strings.Contains(s, "##[") {
		return s
	}
	var b strings.Builder
	for s != "" {
		line, sep := s, ""
		if i := strings.IndexAny(s, "\r\n"); i >= 0 {
			line, sep, s = s[:i], s[i:i+1], s[i+1:]
		} else {
			s = ""
		}
		if startsCommand(line) {
			b.WriteString("(quoted) ")
		}
		b.WriteString(strings.ReplaceAll(line, "##[", "#\u200b#["))
		b.WriteString(sep)
	}
	return b.String()
}
