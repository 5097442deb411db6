package cli

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// commandGuard keeps text from the pull request (file names, SQL, error messages that quote them) from
// being read as a workflow command by the GitHub Actions runner, which executes any output line that
// starts with "::" (after leading white space), such as ::add-mask:: or ::error::, and the legacy
// "##[command]" form anywhere in a line. A file name may hold a newline, so any line may start with text
// from the pull request. Only `action` writes workflow commands of its own, and it guards its output with
// ::stop-commands:: instead; every other command's output goes through this guard on GitHub Actions.
// Lines are passed on whole; Flush writes what is left of the last one.
type commandGuard struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func newCommandGuard(w io.Writer) *commandGuard { return &commandGuard{w: w} }

func (g *commandGuard) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.buf = append(g.buf, p...)
	i := bytes.LastIndexByte(g.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	lines := g.buf[:i+1]
	rest := append([]byte(nil), g.buf[i+1:]...)
	g.buf = rest
	if _, err := io.WriteString(g.w, defuse(string(lines))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a last line that has no newline.
func (g *commandGuard) Flush() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(g.w, defuse(string(g.buf)))
	g.buf = nil
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
