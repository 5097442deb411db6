package lint

import (
	"slices"
)

// The tables below others: partitions (partOf) and inheritance children (inherits), which PostgreSQL
// reaches from their parent alike (find_all_inheritors) for what recurses: RENAME COLUMN, and what a
// parent's CHECKs go through (see tablecheck.go).

// inheritors lists the tables below table key, partitions and inheritance children and theirs, each
// once: a statement PostgreSQL refuses (ALTER TABLE t ATTACH PARTITION t, two tables attached to or
// inheriting from each other: "circular inheritance not allowed") must not send the state round in
// circles.
func (s *state) inheritors(key string) []string {
	seen := map[string]bool{key: true}
	var out []string
	for queue := []string{key}; len(queue) > 0; queue = queue[1:] {
		for _, child := range s.children(queue[0]) {
			if !seen[child] {
				seen[child] = true
				out = append(out, child)
				queue = append(queue, child)
			}
		}
	}
	return out
}

// children lists the partitions and inheritance children of table key, in order of their keys.
func (s *state) children(key string) []string {
	var out []string
	for part, parent := range s.partOf {
		if parent == key {
			out = append(out, part)
		}
	}
	for child, parents := range s.inherits {
		if slices.Contains(parents, key) && !slices.Contains(out, child) {
			out = append(out, child)
		}
	}
	slices.Sort(out)
	return out
}

// tracedBelow lists the tables below table key (see inheritors) as the rehearsal's trace names them.
func (a *analyzer) tracedBelow(key string) []string {
	var out []string
	for _, child := range a.st.inheritors(key) {
		out = append(out, traceName(child))
	}
	return out
}

// noInherit follows ALTER TABLE child NO INHERIT parent: child is no longer below parent.
func (s *state) noInherit(child, parent string) {
	parents := slices.DeleteFunc(slices.Clone(s.inherits[child]), func(p string) bool { return p == parent })
	if len(parents) == 0 {
		delete(s.inherits, child)
		return
	}
	s.inherits[child] = parents
}
