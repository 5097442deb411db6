// Package suggest finds what a misspelt name was meant to be: the rule id of an unknown --rule, the
// Flyway setting of an unknown flyway.* key.
package suggest

// Distance is the Levenshtein distance between a and b, in bytes: the fewest single-byte insertions,
// deletions and substitutions that turn a into b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Nearest is the name of known closest to name (by Distance, case counting; the first in order on a
// tie), or "" when none is close enough to be what was meant: a quarter of name's length at most,
// between 1 and 3 edits.
func Nearest(name string, known []string) string {
	best, bestD := "", max(1, min(3, len(name)/4))+1
	for _, k := range known {
		if d := Distance(name, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	return best
}
