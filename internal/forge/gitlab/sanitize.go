package gitlab

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwsp is U+200B ZERO WIDTH SPACE: invisible, yet neither whitespace to Markdown nor to GitLab's
// quick-action pattern (^\/cmd), so a line that starts with it starts with no command.
const zwsp = "\u200b"

// SanitizeNote makes a note body inert to GitLab quick actions. GitLab runs every line of a note created
// or edited through the API that starts with /<command> (/merge, /approve, /label, /assign_reviewer...)
// with the rights of the token's user, outside code blocks, HTML blocks and >>> quotes
// (lib/gitlab/quick_actions/extractor.rb). A note of ours quotes text the merge request author controls
// (migration names, SQL, error messages), so SanitizeNote guarantees, whatever the input:
//
//   - no line of the result starts, after optional whitespace, with "/": a zero-width space goes before
//     the slash. This holds inside code blocks too, because the safety must not hang on parsing fences
//     exactly as GitLab does (an HTML block or a stray fence in the input can make two parsers disagree);
//     the zero-width space is invisible when rendered.
//   - only fences at column 0 open and close code blocks: an indented fence line (which CommonMark would
//     also take as a fence) gets a zero-width space in front, so text cannot open or close a block where
//     the renderer did not, and a block left open at the end is closed.
//
// Line endings "\r\n" and "\r" become "\n" (GitLab drops "\r" itself). Bodies without such lines come
// back unchanged, and SanitizeNote(SanitizeNote(s)) == SanitizeNote(s).
func SanitizeNote(body string) string {
	if strings.ContainsRune(body, '\r') {
		body = strings.ReplaceAll(body, "\r\n", "\n")
		body = strings.ReplaceAll(body, "\r", "\n")
	}
	lines := strings.Split(body, "\n")
	var (
		inFence   bool
		fenceChar byte
		fenceLen  int
	)
	for i, line := range lines {
		indent, rest := splitIndent(line)
		if ch, n, info, ok := fenceRun(rest); ok && indent <= 3 {
			switch {
			case inFence && ch == fenceChar && n >= fenceLen && strings.TrimSpace(info) == "" && indent == 0:
				inFence = false
				continue
			case !inFence && indent == 0 && (ch == '~' || !strings.Contains(info, "`")):
				inFence, fenceChar, fenceLen = true, ch, n
				continue
			case inFence && (ch != fenceChar || n < fenceLen || strings.TrimSpace(info) != ""):
				// Cannot close this block in CommonMark either: plain code.
			case indent > 0 || inFence:
				// A fence we did not open (indented), or an indented closer of ours.
				lines[i] = zwsp + line
				continue
			}
		}
		if strings.HasPrefix(rest, "/") {
			lines[i] = line[:len(line)-len(rest)] + zwsp + rest
		}
	}
	out := strings.Join(lines, "\n")
	if inFence {
		out += "\n" + strings.Repeat(string(fenceChar), fenceLen)
	}
	return out
}

// splitIndent returns the width of line's leading spaces and tabs (a tab counts 4) and the rest of the
// line after every leading Unicode whitespace rune.
func splitIndent(line string) (width int, rest string) {
	i := 0
	for i < len(line) {
		r, size := utf8.DecodeRuneInString(line[i:])
		if !unicode.IsSpace(r) {
			break
		}
		switch r {
		case ' ':
			width++
		case '\t':
			width += 4
		default:
			width += 4 // other whitespace: never an indentation CommonMark accepts for a fence
		}
		i += size
	}
	return width, line[i:]
}

// fenceRun reports whether s starts with a code fence: three or more backticks or tildes. It returns the
// fence character, the run length and the info string after the run.
func fenceRun(s string) (ch byte, n int, info string, ok bool) {
	if s == "" || (s[0] != '`' && s[0] != '~') {
		return 0, 0, "", false
	}
	ch = s[0]
	for n < len(s) && s[n] == ch {
		n++
	}
	if n < 3 {
		return 0, 0, "", false
	}
	return ch, n, s[n:], true
}
