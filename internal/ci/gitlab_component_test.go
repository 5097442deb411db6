package ci

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The GitLab CI/CD component lives in templates/ at the repository root.
const componentDir = "../../templates"

var inputRefRE = regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*(?:\|[^\]]*)?\]\]`)

// glComponent is one template: its spec header and its jobs.
type glComponent struct {
	file   string
	inputs map[string]*yaml.Node // name → its spec node
	jobs   *yaml.Node            // the second document's mapping
}

func loadComponent(path string) (*glComponent, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		docs = append(docs, &n)
	}
	if len(docs) != 2 {
		return nil, fmt.Errorf("%s: %d YAML documents, want 2 (spec, ---, jobs)", path, len(docs))
	}
	c := &glComponent{file: filepath.Base(path), inputs: map[string]*yaml.Node{}, jobs: docs[1].Content[0]}
	spec := yamlKey(docs[0].Content[0], "spec")
	inputs := yamlKey(spec, "inputs")
	if inputs == nil || inputs.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: no spec: inputs: mapping", path, docs[0].Line)
	}
	for i := 0; i+1 < len(inputs.Content); i += 2 {
		c.inputs[inputs.Content[i].Value] = inputs.Content[i+1]
	}
	if len(docs[0].Content[0].Content) != 2 {
		return nil, fmt.Errorf("%s: the header holds more than spec:", path)
	}
	return c, nil
}

// yamlKey returns the value of key in mapping n, or nil.
func yamlKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// walkYAML calls f on every scalar under n (keys included) with the path of mapping keys leading to it.
func walkYAML(n *yaml.Node, path []string, f func(path []string, s *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkYAML(c, path, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			f(path, k)
			walkYAML(n.Content[i+1], append(slices.Clone(path), k.Value), f)
		}
	case yaml.ScalarNode:
		f(path, n)
	}
}

func isScriptPath(path []string) bool {
	return slices.ContainsFunc(path, func(k string) bool {
		return k == "script" || k == "before_script" || k == "after_script"
	})
}

// unquotedExpansions returns the parameter expansions ($VAR, ${VAR}, $@, $1...) of a shell line that
// are not inside double quotes. Single-quoted text expands nothing and is skipped.
func unquotedExpansions(line string) []string {
	var out []string
	inDouble := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			i++
		case c == '\'' && !inDouble:
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return append(out, "unterminated single quote")
			}
			i += j + 1
		case c == '"':
			inDouble = !inDouble
		case c == '$' && !inDouble && i+1 < len(line):
			n := line[i+1]
			if n == '_' || n == '{' || n == '@' || n == '*' || n == '?' || (n >= '0' && n <= '9') ||
				(n >= 'A' && n <= 'Z') || (n >= 'a' && n <= 'z') {
				end := i + 2
				for end < len(line) && (line[end] == '_' || line[end] >= 'A' && line[end] <= 'Z' || line[end] >= 'a' && line[end] <= 'z' || line[end] >= '0' && line[end] <= '9') {
					end++
				}
				out = append(out, line[i:end])
			}
		}
	}
	if inDouble {
		out = append(out, "unterminated double quote")
	}
	return out
}

func TestUnquotedExpansions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
		want []string
	}{
		{"quoted", `schemagate check --dir "$SCHEMAGATE_DIR" "$@"`, nil},
		{"braces in quotes", `echo "${A:-x} and $B"`, nil},
		{"bare", `schemagate check --dir $SCHEMAGATE_DIR`, []string{"$SCHEMAGATE_DIR"}},
		{"bare braces", `cd ${CI_PROJECT_DIR}/db`, []string{"${CI_PROJECT_DIR"}},
		{"after a quoted part", `a "$X" $Y`, []string{"$Y"}},
		{"single quotes expand nothing", `echo '$X'`, nil},
		{"escaped dollar", `echo \$X`, nil},
		{"all args", `run $@`, []string{"$@"}},
		{"open quote", `echo "$X`, []string{"unterminated double quote"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := unquotedExpansions(tt.line); !slices.Equal(got, tt.want) {
				t.Errorf("unquotedExpansions(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

func TestGitLabComponent(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(componentDir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if want := []string{"check.yml", "deploy.yml", "gate.yml"}; !slices.Equal(names, want) {
		t.Fatalf("templates = %q, want %q", names, want)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			c, err := loadComponent(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range componentProblems(c) {
				t.Error(p)
			}
		})
	}
}

// componentProblems returns what is wrong with a component template.
// overridesConfig are the variables that win over the configuration file: those config.ApplyEnv reads,
// and SCHEMAGATE_FAIL_ON, which the check job passes as --fail-on (over lint.fail_on) when it is set.
var overridesConfig = map[string]bool{"SCHEMAGATE_DIR": true, "SCHEMAGATE_FORMAT": true, "SCHEMAGATE_PROVIDER": true,
	"SCHEMAGATE_PG_VERSION": true, "SCHEMAGATE_DATABASE_URL": true, "SCHEMAGATE_FAIL_ON": true}

func componentProblems(c *glComponent) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, must := range []string{"stage", "job-prefix", "image"} {
		if c.inputs[must] == nil {
			add("%s: no input %q", c.file, must)
		}
	}
	for name, spec := range c.inputs {
		if yamlKey(spec, "description") == nil {
			add("%s:%d: input %s has no description", c.file, spec.Line, name)
		}
	}
	used := map[string]bool{}
	walkYAML(c.jobs, nil, func(path []string, s *yaml.Node) {
		for _, m := range inputRefRE.FindAllStringSubmatch(s.Value, -1) {
			used[m[1]] = true
			if c.inputs[m[1]] == nil {
				add("%s:%d: $[[ inputs.%s ]] is not declared in spec:inputs", c.file, s.Line, m[1])
			}
		}
		if strings.Contains(s.Value, "$[[") && !inputRefRE.MatchString(s.Value) {
			add("%s:%d: malformed interpolation %q", c.file, s.Line, s.Value)
		}
		if !isScriptPath(path) {
			if len(path) >= 2 && path[len(path)-2] == "variables" && inputRefRE.MatchString(s.Value) && s.Style != yaml.DoubleQuotedStyle {
				add("%s:%d: variable %s takes an input without double quotes", c.file, s.Line, path[len(path)-1])
			}
			return
		}
		if strings.Contains(s.Value, "$[[") {
			add("%s:%d: input interpolated into a script line (pass it through variables): %q", c.file, s.Line, s.Value)
		}
		if bad := unquotedExpansions(s.Value); len(bad) > 0 {
			add("%s:%d: unquoted %q in script line %q", c.file, s.Line, bad, s.Value)
		}
	})
	for name := range c.inputs {
		if !used[name] {
			add("%s: input %s is declared but never used", c.file, name)
		}
	}
	// Variables that schemagate reads over schemagate.yml (config.ApplyEnv) must stay empty unless the
	// user sets the input: a default there would silently replace the file's setting.
	walkYAML(c.jobs, nil, func(path []string, s *yaml.Node) {
		if len(path) < 2 || path[len(path)-2] != "variables" || !overridesConfig[path[len(path)-1]] {
			return
		}
		for _, m := range inputRefRE.FindAllStringSubmatch(s.Value, -1) {
			if d := yamlKey(c.inputs[m[1]], "default"); d == nil || d.Value != "" {
				add("%s:%d: input %s feeds %s, which overrides schemagate.yml: its default must be \"\"", c.file, s.Line, m[1], path[len(path)-1])
			}
		}
	})

	if len(c.jobs.Content) != 2 {
		add("%s: %d top-level keys, want exactly one job (no global keywords)", c.file, len(c.jobs.Content)/2)
		return out
	}
	job := c.jobs.Content[1]
	image := yamlKey(job, "image")
	if ep := yamlKey(image, "entrypoint"); yamlKey(image, "name") == nil || ep == nil || len(ep.Content) != 1 || ep.Content[0].Value != "" {
		add("%s: image must be {name: ..., entrypoint: [\"\"]}", c.file)
	}
	if yamlKey(job, "script") == nil {
		add("%s: job has no script", c.file)
	}
	rules := yamlKey(job, "rules")
	var conds []string
	if rules != nil {
		for _, r := range rules.Content {
			if n := yamlKey(r, "if"); n != nil {
				conds = append(conds, n.Value)
			}
		}
	}
	switch c.file {
	case "check.yml", "gate.yml":
		if !slices.Contains(conds, `$CI_PIPELINE_SOURCE == "merge_request_event"`) {
			add("%s: rules %q do not run on merge_request_event", c.file, conds)
		}
		// A merge request that touches no migration needs no check note and no gate: both run on the
		// same changes input (an array, interpolated whole).
		for _, r := range rules.Content {
			if n := yamlKey(r, "if"); n == nil || n.Value != `$CI_PIPELINE_SOURCE == "merge_request_event"` {
				continue
			}
			if p := yamlKey(yamlKey(r, "changes"), "paths"); p == nil || p.Value != "$[[ inputs.changes ]]" {
				add("%s: the merge_request_event rule has no changes: paths: $[[ inputs.changes ]]", c.file)
			}
		}
		if in := c.inputs["changes"]; in == nil || yamlKey(in, "type") == nil || yamlKey(in, "type").Value != "array" {
			add("%s: no array input changes", c.file)
		}
		if c.file == "gate.yml" {
			needs := yamlKey(job, "needs")
			if needs == nil || len(needs.Content) == 0 || yamlKey(needs.Content[0], "optional") == nil || yamlKey(needs.Content[0], "optional").Value != "true" {
				add("%s: the gate must need the check optionally (the check may not run)", c.file)
			}
			// A job that needs a failed job is skipped unless its rule says when: always, and the check
			// fails (exit 3) exactly when the approval decision matters: a failed or risky migration.
			for _, r := range rules.Content {
				if w := yamlKey(r, "when"); yamlKey(r, "if") != nil && (w == nil || w.Value != "always") {
					add("%s:%d: the gate's rule has no when: always: a failed check job would skip the gate", c.file, r.Line)
				}
			}
		}
		if c.file == "check.yml" {
			// The gate and the note read the report of a check that failed too.
			if w := yamlKey(yamlKey(job, "artifacts"), "when"); w == nil || w.Value != "always" {
				add("%s: the check's artifacts are not kept when: always: a failed check would leave the gate no report", c.file)
			}
		}
	case "deploy.yml":
		if len(conds) == 0 || !strings.Contains(conds[0], "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH") {
			add("%s: rules %q do not limit the job to the default branch", c.file, conds)
		}
		if rg := yamlKey(job, "resource_group"); rg == nil || !strings.Contains(rg.Value, "inputs.env") {
			add("%s: no per-environment resource_group", c.file)
		}
		if yamlKey(yamlKey(job, "environment"), "name") == nil {
			add("%s: no environment: name:", c.file)
		}
		if d := yamlKey(c.inputs["env"], "default"); d != nil {
			add("%s: input env has a default %q; it must be chosen", c.file, d.Value)
		}
	}
	return out
}

func TestGitLabComponentProblems(t *testing.T) {
	t.Parallel()
	bad := `spec:
  inputs:
    stage:
      default: test
      description: s
    image:
      default: x
      description: i
    unused:
      default: x
      description: u
    env:
      default: prod
      description: e
---
"job":
  stage: $[[ inputs.stage ]]
  image: $[[ inputs.image ]]
  variables:
    A: $[[ inputs.env ]]
  script:
    - schemagate check --dir $[[ inputs.dir ]]
    - schemagate check --env $A
`
	path := filepath.Join(t.TempDir(), "deploy.yml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := loadComponent(path)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(componentProblems(c), "\n")
	for _, want := range []string{
		`no input "job-prefix"`,
		"inputs.dir ]] is not declared",
		"input interpolated into a script line",
		`unquoted ["$A"]`,
		"input unused is declared but never used",
		"variable A takes an input without double quotes",
		"image must be",
		"do not limit the job to the default branch",
		"no per-environment resource_group",
		"input env has a default",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems of a bad template miss %q; got:\n%s", want, got)
		}
	}
	// A gate that a failed check would skip, and a check whose report a failure would lose.
	for file, tmpl := range map[string]string{
		"gate.yml":  "the gate's rule has no when: always",
		"check.yml": "the check's artifacts are not kept when: always",
	} {
		src := `spec:
  inputs:
    changes:
      type: array
      default: ["**/*"]
      description: c
---
"job":
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
      changes:
        paths: $[[ inputs.changes ]]
  needs:
    - job: check
      optional: true
  artifacts:
    paths: [r.json]
  script:
    - true
`
		p := filepath.Join(t.TempDir(), file)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := loadComponent(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(componentProblems(c), "\n"); !strings.Contains(got, tmpl) {
			t.Errorf("problems of a bad %s miss %q; got:\n%s", file, tmpl, got)
		}
	}
	for _, one := range []string{"spec:\n  inputs: {}\n", "a: 1\n---\nb: 2\n---\nc: 3\n"} {
		if err := os.WriteFile(path, []byte(one), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := loadComponent(path); err == nil {
			t.Errorf("loadComponent(%q) = nil error, want one", one)
		}
	}
}

// TestGitLabExample checks the example pipeline the docs show: it includes every component by a
// versioned component path and, being a user's file, keeps its variables in quoted scripts too.
func TestGitLabExample(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"../../examples/gitlab-ci.yml", "../../docs/gitlab.md"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if path == "../../docs/gitlab.md" {
			example, err := os.ReadFile("../../examples/gitlab-ci.yml")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, bytes.TrimSpace(example)) {
				t.Errorf("docs/gitlab.md does not show examples/gitlab-ci.yml verbatim")
			}
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var components []string
		for _, inc := range yamlKey(doc.Content[0], "include").Content {
			if n := yamlKey(inc, "component"); n != nil {
				components = append(components, n.Value)
				if yamlKey(inc, "inputs") == nil {
					t.Errorf("%s:%d: component %s without inputs", path, n.Line, n.Value)
				}
			}
		}
		for _, name := range []string{"check", "gate", "deploy"} {
			re := regexp.MustCompile(`^\$CI_SERVER_FQDN/[^@]+/` + name + `@\d+\.\d+\.\d+$`)
			if !slices.ContainsFunc(components, re.MatchString) {
				t.Errorf("%s: no versioned include of component %s in %q", path, name, components)
			}
		}
		walkYAML(&doc, nil, func(p []string, s *yaml.Node) {
			if isScriptPath(p) {
				if bad := unquotedExpansions(s.Value); len(bad) > 0 {
					t.Errorf("%s:%d: unquoted %q in %q", path, s.Line, bad, s.Value)
				}
			}
		})
	}
}
