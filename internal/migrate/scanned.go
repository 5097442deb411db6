package migrate

import (
	"sort"
	"strings"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// This file holds the SQL a tool sends when it reads a migration line by line, and may leave some lines
// out (goose, sql-migrate: see dialect.scansLines): statements carry that SQL, positioned in the file as
// written.

// segment is a run of the text a tool sends that is the file's text: sent[at:at+n] == src[from:from+n].
type segment struct{ at, from, n int }

// scannedText is src[start:end] as a tool sends it that reads it with bufio.Scanner (ScanLines) and
// writes each line it keeps followed by "\n": a line that drop (when not nil) reports is left out with
// its line break, and ScanLines takes a carriage return before a line break (or at the end) off the
// line. segs map the result back to src; same is true when it is src[start:end] itself.
func scannedText(src string, start, end int, drop func(line string) bool) (sent string, segs []segment, same bool) {
	if drop == nil && strings.IndexByte(src[start:end], '\r') < 0 {
		// Every line is sent as written, line break and all (goose's usual file): the text itself, not a copy of it built
		// line by line, which cost twice a seed's megabytes.
		if start == end {
			return "", nil, true
		}
		return src[start:end], []segment{{at: 0, from: start, n: end - start}}, true
	}
	var b strings.Builder
	b.Grow(end - start)
	add := func(from, n int) {
		if n == 0 {
			return
		}
		if k := len(segs) - 1; k >= 0 && segs[k].from+segs[k].n == from && segs[k].at+segs[k].n == b.Len() {
			segs[k].n += n
		} else {
			segs = append(segs, segment{at: b.Len(), from: from, n: n})
		}
		b.WriteString(src[from : from+n])
	}
	for ls := start; ls < end; {
		le := end // end of the line's text, at its \n or the end
		if i := strings.IndexByte(src[ls:end], '\n'); i >= 0 {
			le = ls + i
		}
		text := strings.TrimSuffix(src[ls:le], "\r")
		if drop == nil || !drop(text) {
			add(ls, len(text))
			if le < end {
				add(le, 1) // the line break
			}
		}
		ls = le + 1
	}
	sent = b.String()
	return sent, segs, len(segs) == 0 && start == end || len(segs) == 1 && segs[0].from == start && segs[0].n == end-start
}

// fileOffset maps an offset of the sent text to the file: into the segment that holds it, or just past
// the last one.
func fileOffset(segs []segment, off int) int {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].at > off }) - 1
	if i < 0 {
		return segs[0].from
	}
	return segs[i].from + min(off-segs[i].at, segs[i].n)
}

// scannedScript is script for a tool that sends src[start:end] as scannedText does: its statements are
// the SQL the tool sends (without the lines it drops), with their positions (Pos, End, Err, DataPos) in
// the file. SQL stays the text as written, which the checksum covers and where lint reads comments.
func scannedScript(file, src string, start, end int, lines *sqlparse.Lines, drop func(line string) bool) *Script {
	if start == 0 && strings.HasPrefix(src, "\uFEFF") {
		start = len("\uFEFF")
	}
	sent, segs, same := scannedText(src, start, end, drop)
	if same || len(segs) == 0 {
		return script(file, src, start, end, lines)
	}
	if lines == nil {
		lines = sqlparse.NewLines(src)
	}
	sts := sqlparse.Parse(sent)
	for i := range sts {
		st := &sts[i]
		st.Pos = lines.Pos(fileOffset(segs, st.Pos.Offset))
		if st.End > 0 {
			st.End = fileOffset(segs, st.End-1) + 1
		}
		if st.Err != nil {
			st.Err.Pos = lines.Pos(fileOffset(segs, st.Err.Pos.Offset))
		}
		if st.FromStdin {
			st.DataPos = lines.Pos(fileOffset(segs, st.DataPos.Offset))
		}
		// The lines dropped within the statement, for a server error's position (Statement.FileLine).
		for k := 1; k < len(segs); k++ {
			gapStart, gapEnd := segs[k-1].from+segs[k-1].n, segs[k].from
			if gapStart < st.Pos.Offset || gapEnd > st.End {
				continue
			}
			for off := gapStart; off < gapEnd; off++ {
				if src[off] == '\n' { // the end of a dropped line (a gap without one is a carriage return)
					st.Skipped = append(st.Skipped, lines.Pos(off).Line)
				}
			}
		}
	}
	return &Script{File: file, SQL: src[start:end], Start: start, Statements: sts}
}
