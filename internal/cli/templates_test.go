package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestTemplatesUseRealFlags keeps the GitLab components (templates/*.yml) and action-free shell scripts
// in step with the CLI: every "schemagate CMD" they run must exist, and every --flag a job passes to it
// (directly or through "set --") must be a flag of that command.
func TestTemplatesUseRealFlags(t *testing.T) {
	files, err := filepath.Glob("../../templates/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	root := (&App{Getenv: func(string) string { return "" }}).rootCmd()
	cmdRe := regexp.MustCompile(`\bschemagate ([a-z-]+)`)
	flagRe := regexp.MustCompile(`(?:^|\s)--([a-z][a-z0-9-]*)`)
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		docs := bytes.Split(data, []byte("\n---\n"))
		if len(docs) != 2 {
			t.Fatalf("%s: want a spec document and a jobs document", file)
		}
		var jobs map[string]struct {
			Script      []string `yaml:"script"`
			AfterScript []string `yaml:"after_script"`
		}
		if err := yaml.Unmarshal(docs[1], &jobs); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for name, job := range jobs {
			var flags []string
			for _, lines := range [][]string{job.Script, job.AfterScript} {
				for _, line := range lines {
					if strings.Contains(line, "set --") || cmdRe.MatchString(line) {
						for _, m := range flagRe.FindAllStringSubmatch(line, -1) {
							flags = append(flags, m[1])
						}
					}
					for _, m := range cmdRe.FindAllStringSubmatch(line, -1) {
						sub, _, err := root.Find([]string{m[1]})
						if err != nil || sub == root {
							t.Errorf("%s job %s: schemagate has no command %q", filepath.Base(file), name, m[1])
							continue
						}
						for _, f := range flags {
							if sub.Flags().Lookup(f) == nil {
								t.Errorf("%s job %s: schemagate %s has no flag --%s", filepath.Base(file), name, m[1], f)
							}
							checked++
						}
						flags = nil
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no flag checked: the templates run no schemagate command")
	}
}
