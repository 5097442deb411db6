package lint

import (
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAutoOwnersIndexAnswersAsAScan: autoOwners, which reads only the autoNames its prefix index
// holds under a prefix of the asked name (or all of them after a number longer than autoMaxNum), gives
// the tables a walk over every autoName gives, for names PostgreSQL chose (numbered, of tables and
// columns of every length, multibyte ones cut at a character), near misses and other names, qualified
// or not, after drops and moves too.
func TestAutoOwnersIndexAnswersAsAScan(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(1))
	word := func() string {
		const letters = "abcxyz_é1"
		var b strings.Builder
		for n := rng.Intn(70); b.Len() < n; {
			b.WriteString(string([]rune(letters)[rng.Intn(len([]rune(letters)))]))
		}
		return b.String()
	}
	s := newState()
	var tables []string
	for i := 0; i < 300; i++ {
		tk := relKey([]string{"public", "app", "a.b"}[rng.Intn(3)], word())
		if i%7 == 0 && len(tables) > 0 {
			tk = tables[rng.Intn(len(tables))] // a second index of a table
		}
		tables = append(tables, tk)
		n := autoName{}
		if rng.Intn(4) > 0 {
			n.label = autoLabels[rng.Intn(len(autoLabels))]
			if n.label != "pkey" {
				n.name2 = word()
			}
		}
		s.autoIndex(tk, n)
	}
	for i := 0; i < 30; i++ {
		tk := tables[rng.Intn(len(tables))]
		if rng.Intn(2) == 0 {
			s.drops(tk)
		} else {
			s.moves(tk, relKey("moved", bare(tk)))
		}
	}
	scan := func(key string, qualified bool) []string {
		var owners []string
		for _, names := range s.autoNames {
			for n := range names {
				if ts := keySchema(n.table); qualified && ts != keySchema(key) || slices.Contains(owners, n.table) {
					continue
				}
				if n.namedAs(bare(key)) {
					owners = append(owners, n.table)
				}
			}
		}
		slices.Sort(owners)
		return owners
	}
	var names []string
	for _, names2 := range s.autoNames {
		for n := range names2 {
			for _, num := range []string{"", "1", "12", "0123", "12345678901", strings.Repeat("9", 30)} {
				label := n.label
				if label == "" {
					label = autoLabels[rng.Intn(len(autoLabels))]
				}
				name2 := n.name2
				if name2 == "" && label != "pkey" {
					name2 = word() + "x"
				}
				name := makeObjectName(n.named, name2, label+num)
				names = append(names, name, name[1:], "x"+name, name+"0")
			}
		}
	}
	for i := 0; i < 500; i++ {
		names = append(names, word()+"_"+autoLabels[rng.Intn(len(autoLabels))]+strconv.Itoa(rng.Intn(3)))
	}
	found := 0
	for _, name := range names {
		for _, sch := range []string{"app", "moved"} {
			key := relKey(sch, name)
			for _, qualified := range []bool{false, true} {
				got := s.autoOwners(key, qualified)
				slices.Sort(got)
				want := scan(key, qualified)
				if !slices.Equal(got, want) {
					t.Fatalf("autoOwners(%q, %v) = %q, a walk over every autoName gives %q", key, qualified, got, want)
				}
				found += len(want)
			}
		}
	}
	if found == 0 {
		t.Fatal("no name matched an autoName: the test compares nothing")
	}
}
