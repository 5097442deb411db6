package migrate

import (
	"runtime"
	"strings"
	"testing"
)

// TestScannedTextOfLinesSentAsWritten: a goose file whose lines the tool sends as written (no carriage
// return, no line dropped) is its own sent text, not a copy built line by
// line, which cost twice a 21 MB seed's size; other texts are built as before.
func TestScannedTextOfLinesSentAsWritten(t *testing.T) {
	src := "-- +goose Up\n" + strings.Repeat("INSERT INTO t VALUES (1, 'x');\n", 1<<16)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sent, segs, same := scannedText(src, 13, len(src), nil)
	runtime.ReadMemStats(&after)
	if sent != src[13:] || !same || len(segs) != 1 || segs[0] != (segment{at: 0, from: 13, n: len(src) - 13}) {
		t.Errorf("scannedText: same %v, segs %v, sent %.40q", same, segs, sent)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("scannedText of a %d-byte text sent as written allocated %d bytes", len(src), alloc)
	}

	for _, tc := range []struct {
		name, src, want string
		same            bool
	}{
		{"no line break at the end", "SELECT 1;\nSELECT 2;", "SELECT 1;\nSELECT 2;", true},
		{"a carriage return", "SELECT 1;\r\nSELECT 2;\n", "SELECT 1;\nSELECT 2;\n", false},
		{"as written", "SELECT 1;\nSELECT 2;\n", "SELECT 1;\nSELECT 2;\n", true},
		{"empty", "", "", true},
	} {
		if sent, _, same := scannedText(tc.src, 0, len(tc.src), nil); sent != tc.want || same != tc.same {
			t.Errorf("%s: scannedText = %q, same %v; want %q, %v", tc.name, sent, same, tc.want, tc.same)
		}
	}
}
