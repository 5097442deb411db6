package rehearse

import (
	"runtime"
	"strings"
	"testing"
)

// TestShortenCopiesWhatItKeeps: a trace's statement is cut to 200 characters; cutting a seed's
// statement of megabytes made a copy of it four times its size (one rune a character) to keep 200.
func TestShortenCopiesWhatItKeeps(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"ééé", 3, "ééé"},
		{"éééé", 3, "éé…"},
		{"", 3, ""},
	} {
		if got := shorten(tc.s, tc.n); got != tc.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("INSERT INTO t VALUES ('é');\n", 1<<16) // 1.8 MB
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := shorten(long, 200)
	runtime.ReadMemStats(&after)
	if n := len([]rune(got)); n != 200 || !strings.HasSuffix(got, "…") {
		t.Errorf("shorten of a long statement: %d characters, %q", n, got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("shorten of a %d-byte statement allocated %d bytes", len(long), alloc)
	}
}
