package report

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFinishEmptyFindings: a migration without findings has "findings": [] in the JSON, never null.
func TestFinishEmptyFindings(t *testing.T) {
	r := &Report{Migrations: []Migration{{Version: "1", New: true, Status: StatusApplied}}}
	r.Finish()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"findings":[]`) {
		t.Errorf("JSON %s, want \"findings\":[]", b)
	}
}
