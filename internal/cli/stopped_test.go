package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckReportsWhenItsServerDies: the throwaway server killed from outside while a migration runs
// (kill -9 of its postmaster; here started by the migration, from a process of its own that outlives
// the statement, once it has read what COPY writes to it: a shell that went before would break COPY's
// pipe, failing the statement on its own) fails the check as the tool's (exit 1, saying so), and the reports are written all
// the same, with what was done: the migration under way failed with that error, the later ones not
// run. They used to be missing, leaving the comment and the gate without a report.
func TestCheckReportsWhenItsServerDies(t *testing.T) {
	requirePG(t)
	dir, out := t.TempDir(), t.TempDir()
	for name, sql := range map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id bigint);\n", "1_a.down.sql": "DROP TABLE a;\n",
		"2_b.up.sql": "DO $$ BEGIN EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', " +
			"'cat >/dev/null; (sleep 0.5; kill -9 $(head -1 ' || current_setting('data_directory') || '/postmaster.pid)) >/dev/null 2>&1 &'); END $$;\n" +
			"SELECT pg_sleep(30);\n",
		"3_c.up.sql": "CREATE TABLE c (id bigint);\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	jsonPath, mdPath := filepath.Join(out, "gone.json"), filepath.Join(out, "gone.md")
	code, stdout, stderr := run(t, nil, "check", "-q", "--dir", dir, "--report-json", jsonPath, "--report-md", mdPath)
	if code != ExitFailure || !strings.Contains(stderr, "the throwaway PostgreSQL (local provider) stopped answering") {
		t.Fatalf("exit %d, want %d saying the server stopped answering\nstdout:\n%s\nstderr:\n%s", code, ExitFailure, stdout, stderr)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatalf("no JSON report: %v", err)
	}
	var rep struct {
		OK         bool `json:"ok"`
		Migrations []struct {
			Version, Status string
			Error           *struct{ File, Message string }
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Migrations) != 3 {
		t.Fatalf("report ok %v with %d migrations; want not ok, 3\n%s", rep.OK, len(rep.Migrations), b)
	}
	if m := rep.Migrations[0]; m.Status != "applied" {
		t.Errorf("1: %s; want applied", m.Status)
	}
	if m := rep.Migrations[1]; m.Status != "failed" || m.Error == nil || m.Error.File != filepath.ToSlash(filepath.Join(dir, "2_b.up.sql")) ||
		!strings.Contains(m.Error.Message, "stopped answering") {
		t.Errorf("2: %s %+v; want failed in 2_b.up.sql, the server stopped answering", m.Status, m.Error)
	}
	if m := rep.Migrations[2]; m.Status != "not-run" {
		t.Errorf("3: %s; want not-run", m.Status)
	}
	if md, err := os.ReadFile(mdPath); err != nil || !strings.Contains(string(md), "stopped answering") {
		t.Errorf("Markdown report: %v; want one that says the server stopped answering\n%s", err, md)
	}
}
