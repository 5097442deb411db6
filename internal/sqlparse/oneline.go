package sqlparse

import "strings"

// OneLine is sql on one line, for an excerpt in a finding or a report line: each run of white space
// between tokens (line breaks included) becomes one space, as do the runs inside comments, but a string
// literal ('…', E'…', a dollar-quoted value) and a quoted identifier ("…") keep theirs, so 'a  b' reads
// as it is; a line break inside one is shown as \n (\r as \r). The body of a function or a DO block (a
// dollar-quoted string after AS or DO, or after DO's LANGUAGE name) is code: it is put on one line the
// same way, its own literals kept.
func OneLine(sql string) string {
	var b strings.Builder
	oneLine(&b, sql)
	return b.String()
}

func oneLine(b *strings.Builder, sql string) {
	space := false        // white space since the last token, written as one space before the next
	var last, prev string // the last two words, upper-cased ("" after any other token)
	word := func(w string) { last, prev = strings.ToUpper(w), last }
	other := func() { last, prev = "", last }
	for i := 0; i < len(sql); {
		c := sql[i]
		if strings.IndexByte(pgSpace, c) >= 0 {
			space = true
			i++
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if next, ok := skipToken(sql, i); ok {
			tok := sql[i:next]
			switch {
			case strings.HasPrefix(tok, "--") && !strings.Contains(tok, "/*") && !strings.Contains(tok, "*/"):
				// A line comment would swallow the rest of the line: it becomes a /* */ one.
				b.WriteString(strings.Join(append(append([]string{"/*"}, strings.Fields(tok[2:])...), "*/"), " "))
			case strings.HasPrefix(tok, "--") || strings.HasPrefix(tok, "/*"):
				b.WriteString(strings.Join(strings.Fields(tok), " "))
			case tok[0] == '$' && (last == "AS" || last == "DO" || prev == "LANGUAGE"):
				tag, _ := dollarTag(sql, i)
				body := tok[len(tag):]
				closed := strings.HasSuffix(body, tag) && len(body) >= len(tag)
				if closed {
					body = body[:len(body)-len(tag)]
				}
				b.WriteString(tag)
				oneLine(b, body) // white space at its start becomes one space, as between tokens
				if closed {
					if strings.TrimRight(body, pgSpace) != body && strings.Trim(body, pgSpace) != "" {
						b.WriteByte(' ')
					}
					b.WriteString(tag)
				}
			default:
				b.WriteString(strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(tok))
			}
			if !strings.HasPrefix(tok, "--") && !strings.HasPrefix(tok, "/*") {
				other()
			}
			i = next
			continue
		}
		if identByte(c) {
			j := i
			for j < len(sql) && identByte(sql[j]) {
				j++
			}
			b.WriteString(sql[i:j])
			word(sql[i:j])
			i = j
			continue
		}
		b.WriteByte(c)
		other()
		i++
	}
}

// RunnableLine is sql on one line that runs as sql does, for a step a person copies ("run on the
// database: …"): comments are left out (a line comment would swallow what follows it on one line), each
// run of white space between tokens becomes one space, and every literal, quoted identifier and
// dollar-quoted body is kept byte for byte. ok is false when that cannot be: a literal, quoted
// identifier or body holds a line break (shown as \n it would be another string).
func RunnableLine(sql string) (line string, ok bool) {
	var b strings.Builder
	space := false
	for i := 0; i < len(sql); {
		c := sql[i]
		if strings.IndexByte(pgSpace, c) >= 0 {
			space, i = true, i+1
			continue
		}
		next, isToken := skipToken(sql, i)
		if !isToken {
			next = i + 1
		}
		tok := sql[i:next]
		if isToken && (strings.HasPrefix(tok, "--") || strings.HasPrefix(tok, "/*")) {
			space, i = true, next
			continue
		}
		if strings.ContainsAny(tok, "\n\r") {
			return "", false
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(tok)
		i = next
	}
	return b.String(), true
}
