// Package redact hides secrets in what schemagate publishes. A pull request's migration runs as a
// superuser on the rehearsal's server, and whatever the server says (an error's message, DETAIL and
// HINT, a value a finding quotes) goes into the pull request comment, the job summary, the reports and
// the log: a migration that reads a file or a setting holding a token (RAISE EXCEPTION '%',
// pg_read_file('.git/config')) would publish it, and GitHub masks neither comments nor unregistered
// secrets. A Redactor replaces the secrets it was given, in the encodings they are stored in, and the
// well-known shapes of tokens it was not given, with Mask.
package redact

import (
	"encoding/base64"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask is what a secret is replaced with.
const Mask = "***"

// MinLen is the shortest value New takes for a secret: a shorter one (a password "pg") would hide every
// occurrence of a common word in the output and protect little.
const MinLen = 4

// minEncoded is the shortest part of an encoded secret that is replaced: one shorter could be any text.
const minEncoded = 8

// shapes are tokens whose shape tells them, given or not: GitHub's (ghp_ personal, gho_ OAuth, ghu_
// user-to-server, ghs_ installation (an Actions GITHUB_TOKEN), ghr_ refresh, github_pat_ fine-grained),
// GitLab's (glpat- personal, project and group, glcbt- CI job, gldt- deploy, glrt- runner, glptt-
// pipeline trigger, gloas- OAuth application secret, glsoat- service account, glft- feed), and the
// credential of an HTTP Authorization header (git stores actions/checkout's as "AUTHORIZATION: basic
// base64(x-access-token:TOKEN)" in .git/config). A header keeps its scheme, so that a reader sees what
// was hidden.
var shapes = regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|` +
	`gl(?:pat|cbt|dt|rt|ptt|oas|soat|ft)-[A-Za-z0-9_-]{20,}|` +
	`(?i:(authorization\s*:\s*(?:basic|bearer|token)\s+)[A-Za-z0-9+/._~-]{8,}=*)`)

// Redactor replaces secrets with Mask. It is safe for concurrent use; the zero value hides the
// well-known token shapes only.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // as given, for Add
	repl    *strings.Replacer
	cuts    []cutForm // every secret's forms (see Forms), for cut
	hidden  atomic.Bool
}

// New returns a Redactor of secrets (see Add).
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add adds secrets to hide, each with its encodings (see Forms); values shorter than MinLen, after
// trimming white space, are left out.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	added := false
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) < MinLen || slices.Contains(r.secrets, s) {
			continue
		}
		r.secrets = append(r.secrets, s)
		added = true
	}
	if !added {
		return
	}
	var forms []string
	for _, s := range r.secrets {
		for _, f := range Forms(s) {
			if !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
	}
	// strings.Replacer takes, at each place, the first of its strings in argument order that matches:
	// the longest first, so a secret's encoding is hidden whole rather than in part.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	args := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		args = append(args, f, Mask)
	}
	r.repl = strings.NewReplacer(args...)
	r.cuts = r.cuts[:0]
	for _, s := range r.secrets {
		for i, f := range Forms(s) {
			m := minEncoded
			if i == 0 {
				m = MinLen // the secret as given
			}
			r.cuts = append(r.cuts, cutForm{f, m})
		}
	}
}

// Forms are the ways secret s is written down where a server or a file may show it: as it is, URL
// escaped, and in base64 (standard and URL alphabets), alone, after "x-access-token:" (the basic
// authentication actions/checkout stores) and after any other prefix (basic authentication of
// USER:SECRET for any user): the part of the encoding that is s's alone, whatever came before and after
// it, for each of the three places s can start in base64's groups of 3 bytes.
func Forms(s string) []string {
	out := []string{s}
	add := func(f string) {
		if len(f) >= minEncoded && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	add(url.QueryEscape(s))
	add(url.PathEscape(s))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		add(enc.EncodeToString([]byte(s)))
		add(enc.EncodeToString([]byte("x-access-token:" + s)))
		for k := range 3 {
			// k bytes before s: the first group of 4 characters holds them too unless k is 0, and a last
			// group that is not full holds what follows s.
			n := k + len(s)
			e := enc.EncodeToString(append(make([]byte, k), s...))
			start := 0
			if k > 0 {
				start = 4
			}
			if end := n / 3 * 4; end > start {
				add(e[start:end])
			}
		}
	}
	return out
}

// String returns s with every secret and token shape replaced by Mask.
func (r *Redactor) String(s string) string {
	if r == nil || s == "" {
		return s
	}
	r.mu.RLock()
	repl, cuts := r.repl, r.cuts
	r.mu.RUnlock()
	out := s
	if repl != nil {
		out = repl.Replace(out)
		out = cut(out, cuts)
	}
	if mayHoldShape(out) {
		out = shapes.ReplaceAllStringFunc(out, func(m string) string {
			if sub := shapes.FindStringSubmatch(m); sub[1] != "" {
				return sub[1] + Mask // the header's name and scheme stay
			}
			return Mask
		})
	}
	if out != s {
		r.hidden.Store(true)
	}
	return out
}

// mayHoldShape tells whether s may hold a match of shapes: each starts with a token's prefix, or holds
// "authorization" in any case. Most lines hold none, and the regular expression, which has no literal
// prefix to look for, reads 30-40 MB/s: every line schemagate prints (lint --json of a large folder
// prints tens of MB) goes through String.
func mayHoldShape(s string) bool {
	return strings.Contains(s, "github_pat_") || followed(s, "gh", "p_", "o_", "u_", "s_", "r_") ||
		followed(s, "gl", "pat-", "cbt-", "dt-", "rt-", "ptt-", "oas-", "soat-", "ft-") ||
		holdsAuthorization(s)
}

// holdsAuthorization tells whether s holds "authorization" in any case: found by its z, which text
// holds far less often than its other letters.
func holdsAuthorization(s string) bool {
	const word, z = "authorization", 7 // word[z] is its z
	for i := z; i < len(s); i++ {
		j := strings.IndexAny(s[i:], "zZ")
		if j < 0 {
			return false
		}
		i += j
		if i-z+len(word) <= len(s) && strings.EqualFold(s[i-z:i-z+len(word)], word) {
			return true
		}
	}
	return false
}

// followed tells whether s holds at, followed by one of next when any is given.
func followed(s, at string, next ...string) bool {
	for {
		i := strings.Index(s, at)
		if i < 0 {
			return false
		}
		s = s[i+len(at):]
		if len(next) == 0 {
			return true
		}
		for _, n := range next {
			if strings.HasPrefix(s, n) {
				return true
			}
		}
	}
}

// Hidden reports whether String replaced anything so far.
func (r *Redactor) Hidden() bool { return r != nil && r.hidden.Load() }

// Value replaces the secrets in every string v holds, v being a pointer to a struct, slice, map or
// string: each exported field, element, map key and value, through pointers and interfaces. It reports
// whether it replaced any. Unexported fields are left as they are (a report model has none that hold
// text).
func (r *Redactor) Value(v any) bool {
	if r == nil || v == nil {
		return false
	}
	return r.walk(reflect.ValueOf(v))
}

func (r *Redactor) walk(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return false
		}
		return r.walk(v.Elem())
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return false
		}
		// The value an interface holds cannot be set in place: a copy is, and put back when changed.
		c := reflect.New(v.Elem().Type()).Elem()
		c.Set(v.Elem())
		if !r.walk(c) {
			return false
		}
		v.Set(c)
		return true
	case reflect.String:
		if !v.CanSet() {
			return false
		}
		s := v.String()
		out := r.String(s)
		if out == s {
			return false
		}
		v.SetString(out)
		return true
	case reflect.Struct:
		changed := false
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && r.walk(v.Field(i)) {
				changed = true
			}
		}
		return changed
	case reflect.Slice, reflect.Array:
		changed := false
		for i := range v.Len() {
			if r.walk(v.Index(i)) {
				changed = true
			}
		}
		return changed
	case reflect.Map:
		if v.IsNil() {
			return false
		}
		changed := false
		for _, k := range v.MapKeys() { // a copy of the keys: the map may change below
			nk := reflect.New(k.Type()).Elem()
			nk.Set(k)
			nv := reflect.New(v.Type().Elem()).Elem()
			nv.Set(v.MapIndex(k))
			kc, vc := r.walk(nk), r.walk(nv)
			if !kc && !vc {
				continue
			}
			changed = true
			if kc {
				v.SetMapIndex(k, reflect.Value{})
			}
			v.SetMapIndex(nk, nv)
		}
		return changed
	}
	return false
}

// cutMarks are what text cut short ends or starts with (an excerpt of a long statement, a value).
var cutMarks = []string{"…", "..."}

// cutForm is a form of a secret (see Forms) and the shortest part of it cut hides: MinLen bytes of the
// secret as given, minEncoded of an encoding.
type cutForm struct {
	text string
	min  int
}

// cut hides what is left of a secret where s was cut short: text is often shortened before it is
// redacted (a finding's excerpt of a long statement, a trace's statement, an error's value), and a
// secret cut in two no longer matches whole, so the part of a form that ends right before a cut mark,
// or starts right after one, is replaced with Mask too.
func cut(s string, forms []cutForm) string {
	if len(forms) == 0 || !strings.Contains(s, "…") && !strings.Contains(s, "...") {
		return s
	}
	var b strings.Builder
	rest := s
	for {
		at, mark := -1, ""
		for _, m := range cutMarks {
			if i := strings.Index(rest, m); i >= 0 && (at < 0 || i < at) {
				at, mark = i, m
			}
		}
		if at < 0 {
			b.WriteString(rest)
			return b.String()
		}
		before, after := rest[:at], rest[at+len(mark):]
		if n := cutPart(before, forms, true); n > 0 {
			before = before[:len(before)-n] + Mask
		}
		b.WriteString(before)
		b.WriteString(mark)
		if n := cutPart(after, forms, false); n > 0 {
			b.WriteString(Mask)
			after = after[n:]
		}
		rest = after
	}
}

// cutPart is the length of the longest part of one of forms, shorter than the form and no shorter
// than its min, that s ends with (tail: the form's beginning) or starts with (the form's end); 0 for
// none. It looks only where the form's first (last) min bytes stand, so a long secret costs little.
func cutPart(s string, forms []cutForm, tail bool) int {
	best := 0
	for _, f := range forms {
		if len(f.text) <= f.min || len(s) < f.min {
			continue
		}
		if tail {
			// s's last len(f)-1 bytes, from the first place f's beginning stands in them: the longest first.
			w := s[max(0, len(s)-(len(f.text)-1)):]
			for off := 0; off <= len(w)-f.min; {
				i := strings.Index(w[off:], f.text[:f.min])
				if i < 0 {
					break
				}
				if cand := w[off+i:]; strings.HasPrefix(f.text, cand) {
					best = max(best, len(cand))
					break
				}
				off += i + 1
			}
			continue
		}
		// The first place in f (after its first byte) where s's first min bytes stand, from which f's
		// end is s's beginning: the longest first.
		head := s[:f.min]
		for off := 1; off <= len(f.text)-f.min; {
			i := strings.Index(f.text[off:], head)
			if i < 0 {
				break
			}
			if end := f.text[off+i:]; strings.HasPrefix(s, end) {
				best = max(best, len(end))
				break
			}
			off += i + 1
		}
	}
	return best
}
