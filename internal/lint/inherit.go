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
	return s.childIx.lookup(key, func(child string) bool {
		return s.partOf[child] == key || slices.Contains(s.inherits[child], key)
	})
}

// hasPartitions tells whether table key has partitions.
func (s *state) hasPartitions(key string) bool {
	return slices.ContainsFunc(s.children(key), func(child string) bool { return s.partOf[child] == key })
}

// setPartOf records that part is a partition of parent.
func (s *state) setPartOf(part, parent string) {
	s.partOf[part] = parent
	s.childIx.add(parent, part)
}

// addInherits records that child inherits from parent too.
func (s *state) addInherits(child, parent string) {
	s.inherits[child] = append(s.inherits[child], parent)
	s.childIx.add(parent, child)
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
