package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwsp is U+200B ZERO WIDTH SPACE: inserted where a sequence must lose its meaning without visibly
// changing the text (after "@" of a mention, inside "<!--").
const zwsp = "\u200b"

// defuseComment breaks "<!--" and "-->" so untrusted text can neither open an HTML comment that hides
// the rest of the comment nor forge or close schemagate's hidden marker.
func defuseComment(s string) string {
	s = strings.ReplaceAll(s, "<!--", "<!"+zwsp+"--")
	s = strings.ReplaceAll(s, "-->", "--"+zwsp+">")
	return s
}

// defuseMentions inserts U+200B after every "@" that precedes a login or team character, so
// "@org/team" is shown but pings nobody.
func defuseMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		b.WriteRune(r)
		if r == '@' && i+1 < len(rs) && (unicode.IsLetter(rs[i+1]) || unicode.IsDigit(rs[i+1]) || rs[i+1] == '-' || rs[i+1] == '_') {
			b.WriteString(zwsp)
		}
	}
	return b.String()
}

// showBidi writes the bidi controls (and a byte-order mark) of untrusted text out as \uXXXX: passed on,
// they make text read otherwise than it runs (Trojan Source: SQL whose comment seems to end where it
// does not). Zero-width spaces stay: the escaping here inserts them itself.
func showBidi(s string) string {
	if !strings.ContainsFunc(s, isBidi) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isBidi(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isBidi(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f' ||
		r == '\u061c' || r == '\ufeff'
}

// oneLine collapses line breaks and tabs so a value stays on its line (no quick action, no table break).
func oneLine(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ", "\u2028", " ", "\u2029", " ").Replace(s)
	return strings.TrimSpace(s)
}

// mdSpecial are the characters that carry Markdown meaning inline; each is backslash-escaped.
const mdSpecial = "\\`*_[]()#!~|{}+-.>=:"

// Text escapes untrusted text for Markdown prose or a table cell: one line, HTML-escaped, Markdown
// punctuation backslash-escaped (which also neutralises "|" in tables and a leading "/" of a GitLab quick
// action), mentions and HTML comments defused.
func Text(s string) string {
	s = defuseComment(defuseMentions(oneLine(showBidi(s))))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '/' && b.Len() == 0:
			b.WriteString(`\/`)
		case strings.ContainsRune(mdSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case isControl(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isControl tells the C0 and C1 control characters and DEL: an escape sequence (ESC, or the C1 CSI)
// passed on raw would colour or hide text in a terminal or the Actions log viewer.
func isControl(r rune) bool {
	return r < 0x20 || r >= 0x7f && r < 0xa0
}

// replaceControls turns the control characters of s into U+FFFD, keeping those keep names.
func replaceControls(s, keep string) string {
	return strings.Map(func(r rune) rune {
		if isControl(r) && !strings.ContainsRune(keep, r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// Code renders untrusted text as an inline code span: one line, delimited by a backtick run longer than
// any inside it, HTML comment openers defused so the marker cannot be copied. For a table cell use
// CodeCell.
func Code(s string) string { return code(s, false) }

// CodeCell is Code for a table cell: pipes are backslash-escaped, since GFM splits a row into cells
// before it reads code spans (and drops the backslash inside the cell's code span). Outside a table
// the backslash would show.
func CodeCell(s string) string { return code(s, true) }

func code(s string, cell bool) string {
	s = replaceControls(defuseComment(oneLine(showBidi(s))), "")
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	if s == "" {
		return "` `"
	}
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") {
		pad = " "
	}
	return ticks + pad + s + pad + ticks
}

// Fence renders untrusted text as a fenced code block starting at column 0, fenced with a backtick run
// longer than any inside (at least three), so the text cannot close the block. Inside a fence nothing is
// a mention, HTML or a GitLab quick action; HTML comment openers are still defused so the marker cannot
// be found in the body.
func Fence(s, lang string) string {
	s = defuseComment(strings.ReplaceAll(showBidi(s), "\r\n", "\n"))
	s = replaceControls(strings.TrimRight(s, "\n"), "\n\t")
	n := longestRun(s, '`') + 1
	if n < 3 {
		n = 3
	}
	ticks := strings.Repeat("`", n)
	return ticks + safeLang(lang) + "\n" + s + "\n" + ticks + "\n"
}

func safeLang(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, s)
}

func longestRun(s string, c rune) int {
	best, cur := 0, 0
	for _, r := range s {
		if r == c {
			cur++
			if cur > best {
				best = cur
			}
		} else {
			cur = 0
		}
	}
	return best
}

// MermaidID turns an untrusted name into a Mermaid erDiagram identifier: letters, digits and "_" only
// ("public.users" becomes "public_users"), never empty, never starting with a digit.
func MermaidID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || (out[0] >= '0' && out[0] <= '9') {
		out = "x_" + out
	}
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}

// Marker returns the hidden marker that identifies schemagate's comment for one migration folder, one
// marker per folder: ASCII letters and digits, '.' and '/' stand as they are, and every other byte is
// written %XX (its code in hex), so that the marker cannot end the HTML comment and two folders never
// share it (db/app-migrations is db/app%2Dmigrations, db/app_migrations db/app%5Fmigrations). A folder
// of only those characters keeps the marker earlier versions gave it; for the others see OldMarkers.
func Marker(dir string) string { return folderMarker(MarkerText(dir, "")) }

// MarkerText writes s for a hidden marker: ASCII letters and digits, '.', '/' and the bytes of also stand
// as they are (but a '-' right after one that does, which would put "--" into the HTML comment), and
// every other byte is written %XX (its code in hex). Two texts never share a marker text unless also
// holds '%'.
func MarkerText(s, also string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if markerByte(c) || strings.IndexByte(also, c) >= 0 && (c != '-' || len(b) == 0 || b[len(b)-1] != '-') {
			b = append(b, c)
		} else {
			b = fmt.Appendf(b, "%%%02X", c)
		}
	}
	return string(b)
}

// OldMarkers are the markers that versions before Marker escaped gave dir's comment, where they differ
// from Marker(dir): such a version wrote every other character as '_', which made db/app-migrations
// and db/app_migrations share one comment. A marker with '_' is never Marker's, so a comment that
// holds one was written by such a version; the sticky comment looks for it when it finds none with
// Marker(dir), and its update carries Marker(dir) from then on.
func OldMarkers(dir string) []string {
	var b strings.Builder
	for _, r := range dir {
		if r < 128 && markerByte(byte(r)) || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if old := folderMarker(b.String()); old != Marker(dir) {
		return []string{old}
	}
	return nil
}

// markerByte reports whether c stands as it is in a marker.
func markerByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '/'
}

func folderMarker(d string) string {
	if d == "" {
		d = "."
	}
	return "<!-- schemagate:comment dir=" + d + " -->"
}

// HTMLCode renders untrusted text as <code> for places Markdown does not reach, such as a <summary>
// line (an HTML block): HTML-escaped, one line, mentions and comments defused.
func HTMLCode(s string) string {
	s = replaceControls(defuseComment(defuseMentions(oneLine(showBidi(s)))), "")
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "`", "&#96;").Replace(s)
	return "<code>" + s + "</code>"
}

// Clean escapes the control characters (and bytes that are not UTF-8) of s, tabs too: a tab in a file name
// or a server's hint is the text's, not the layout's. Text output (check, lint, deploy) prints every
// file name, SQL and server message it quotes through it, so that none starts a line of its own (a GitHub
// workflow command such as ::add-mask::) or reaches a terminal raw.
func Clean(s string) string {
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r):
			// Cf: invisible format characters, a byte-order mark, zero-width spaces and the bidi
			// controls that make text read otherwise than it runs (Trojan Source).
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsCleaning(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}

// Place is where something is in a file: file:line:column, file:line when the column is not known, and
// the file alone when the line is not either (an error that no statement raised, such as a lost
// connection before a script ran): "file:0:0" would send the reader to a line that does not exist.
func Place(file string, line, column int) string {
	switch {
	case line <= 0:
		return file
	case column <= 0:
		return fmt.Sprintf("%s:%d", file, line)
	}
	return fmt.Sprintf("%s:%d:%d", file, line, column)
}
