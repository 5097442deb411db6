package codeowners

import (
	"fmt"
	"strings"
)

// segKind is what one slash-separated piece of a compiled pattern matches.
type segKind uint8

const (
	segGlob      segKind = iota // one path segment, with * and ? wildcards
	segAnyDirs                  // zero or more whole segments (** followed by more)
	segOneOrMore                // one or more whole segments (GitHub trailing ** or trailing /)
)

type seg struct {
	kind segKind
	glob string
}

// pattern is a compiled CODEOWNERS path pattern.
type pattern struct {
	segs []seg
	// descendants lets the pattern also match every path below what it matches (GitHub: a pattern
	// naming a file or directory owns the directory's contents).
	descendants bool
	// brackets enables [a-z] classes (GitLab's File.fnmatch); GitHub takes [ literally.
	brackets bool
}

// compileGitHub compiles a pattern with GitHub's gitignore-like rules: a leading slash or a slash in the
// middle anchors at the root, a single segment matches at any depth, a trailing slash means the
// directory's contents, a lone trailing * means direct children only, ** spans directories.
func compileGitHub(p string) (*pattern, error) {
	if err := checkCommon(p); err != nil {
		return nil, err
	}
	if strings.HasPrefix(p, "!") {
		return nil, fmt.Errorf("negation (!) is not supported in GitHub CODEOWNERS")
	}
	if strings.ContainsAny(p, "[]") && !strings.Contains(p, `\[`) {
		return nil, fmt.Errorf("character ranges ([ ]) are not supported in GitHub CODEOWNERS")
	}
	anchored := strings.HasPrefix(p, "/")
	p = strings.TrimPrefix(p, "/")
	dir := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		if dir || anchored {
			return &pattern{}, nil // "/" owns nothing
		}
		return nil, fmt.Errorf("empty pattern")
	}
	parts := strings.Split(p, "/")
	if !anchored && len(parts) == 1 && parts[0] != "**" {
		parts = append([]string{"**"}, parts...)
	}
	pt := &pattern{}
	for i, s := range parts {
		last := i == len(parts)-1 && !dir
		switch {
		case s == "**" && last:
			pt.segs = append(pt.segs, seg{kind: segOneOrMore})
		case s == "**":
			pt.addAnyDirs()
		case s == "":
			return nil, fmt.Errorf("empty path segment (//)")
		default:
			pt.segs = append(pt.segs, seg{kind: segGlob, glob: s})
		}
	}
	if dir {
		pt.segs = append(pt.segs, seg{kind: segOneOrMore})
	} else if l := parts[len(parts)-1]; l != "*" && l != "**" {
		pt.descendants = true
	}
	return pt, nil
}

// addAnyDirs appends a ** segment; consecutive ones collapse (a/**/**/b is a/**/b), which keeps
// matching time polynomial on hostile patterns.
func (p *pattern) addAnyDirs() {
	if n := len(p.segs); n > 0 && p.segs[n-1].kind == segAnyDirs {
		return
	}
	p.segs = append(p.segs, seg{kind: segAnyDirs})
}

// compileGitLab compiles a pattern the way GitLab does (ee/lib/gitlab/code_owners/file.rb): a pattern
// not starting with / gets /**/ in front, one ending in / gets **/* appended, then File.fnmatch with
// FNM_PATHNAME | FNM_DOTMATCH decides. So /docs names a file only and docs/ any docs directory's
// contents.
func compileGitLab(p string) (*pattern, error) {
	if err := checkCommon(p); err != nil {
		return nil, err
	}
	switch {
	case p == "*":
		p = "/**/*"
	case !strings.HasPrefix(p, "/"):
		p = "/**/" + p
	}
	if strings.HasSuffix(p, "/") {
		p += "**/*"
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	pt := &pattern{brackets: true}
	for i, s := range parts {
		switch {
		case s == "**" && i < len(parts)-1:
			pt.addAnyDirs()
		case s == "**":
			pt.segs = append(pt.segs, seg{kind: segGlob, glob: "*"}) // fnmatch: a final ** is a *
		case s == "":
			return nil, fmt.Errorf("empty path segment (//)")
		default:
			pt.segs = append(pt.segs, seg{kind: segGlob, glob: s})
		}
	}
	return pt, nil
}

func checkCommon(p string) error {
	if p == "" {
		return fmt.Errorf("empty pattern")
	}
	if strings.Contains(p, "***") {
		return fmt.Errorf("three consecutive asterisks")
	}
	if strings.HasSuffix(p, `\`) {
		return fmt.Errorf("trailing backslash")
	}
	return nil
}

// match reports whether path (slash-separated, relative to the repository root) matches.
func (p *pattern) match(path string) bool {
	if len(p.segs) == 0 {
		return false
	}
	return p.matchParts(strings.Split(strings.TrimPrefix(path, "/"), "/"))
}

// matchParts is match on a path already split at its slashes.
func (p *pattern) matchParts(parts []string) bool {
	if len(p.segs) == 0 {
		return false
	}
	return p.matchFrom(p.segs, parts)
}

func (p *pattern) matchFrom(segs []seg, parts []string) bool {
	if len(segs) == 0 {
		return len(parts) == 0 || p.descendants
	}
	s := segs[0]
	switch s.kind {
	case segAnyDirs:
		for i := 0; i <= len(parts); i++ {
			if p.matchFrom(segs[1:], parts[i:]) {
				return true
			}
		}
		return false
	case segOneOrMore:
		for i := 1; i <= len(parts); i++ {
			if p.matchFrom(segs[1:], parts[i:]) {
				return true
			}
		}
		return false
	default:
		if len(parts) == 0 || !globMatch(s.glob, parts[0], p.brackets) {
			return false
		}
		return p.matchFrom(segs[1:], parts[1:])
	}
}

// globMatch matches one path segment against a glob: * any run, ? one character, \x the literal x,
// and with brackets [abc] / [a-z] / [!a] classes. Dotfiles are matched like any name (FNM_DOTMATCH).
func globMatch(glob, name string, brackets bool) bool {
	g, n := []rune(glob), []rune(name)
	// Iterative matching with one backtrack point for the last *.
	gi, ni := 0, 0
	starG, starN := -1, 0
	for ni < len(n) {
		if gi < len(g) {
			switch c := g[gi]; {
			case c == '*':
				starG, starN = gi, ni
				gi++
				continue
			case c == '?':
				gi++
				ni++
				continue
			case c == '[' && brackets:
				if ok, next, valid := matchClass(g, gi, n[ni]); valid {
					if ok {
						gi, ni = next, ni+1
						continue
					}
					break
				}
				if n[ni] == '[' {
					gi++
					ni++
					continue
				}
			case c == '\\' && gi+1 < len(g):
				if g[gi+1] == n[ni] {
					gi += 2
					ni++
					continue
				}
			default:
				if c == n[ni] {
					gi++
					ni++
					continue
				}
			}
		}
		if starG < 0 {
			return false
		}
		starN++
		gi, ni = starG+1, starN
	}
	for gi < len(g) && g[gi] == '*' {
		gi++
	}
	return gi == len(g)
}

// matchClass matches r against the bracket expression starting at g[i] == '['. valid is false when the
// expression is not closed (then [ is literal).
func matchClass(g []rune, i int, r rune) (ok bool, next int, valid bool) {
	j := i + 1
	negate := false
	if j < len(g) && (g[j] == '!' || g[j] == '^') {
		negate = true
		j++
	}
	first := true
	for j < len(g) && (g[j] != ']' || first) {
		first = false
		lo := g[j]
		if lo == '\\' && j+1 < len(g) {
			j++
			lo = g[j]
		}
		hi := lo
		if j+2 < len(g) && g[j+1] == '-' && g[j+2] != ']' {
			hi = g[j+2]
			j += 2
		}
		if lo <= r && r <= hi {
			ok = true
		}
		j++
	}
	if j >= len(g) {
		return false, 0, false
	}
	return ok != negate, j + 1, true
}
