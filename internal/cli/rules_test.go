package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
)

// ruleLines maps each rule line of `schemagate rules` output to its class column.
func ruleLines(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) == 0 || !regexp.MustCompile(`^RULE +CLASS +FROM +DETECTS$`).MatchString(lines[0]) {
		t.Fatalf("no header:\n%s", out)
	}
	got := map[string]string{}
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		f := strings.Fields(l)
		class := f[1]
		if len(f) > 2 && f[2] == "*" {
			class += " *"
		}
		got[f[0]] = class
	}
	return got
}

// TestRulesList: every rule is listed once with its default class, the opt-in ones off; the summary
// counts them.
func TestRulesList(t *testing.T) {
	readmeDir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	code, out, errOut := runStdin(t, "", "rules")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	got := ruleLines(t, out)
	all := lint.Rules()
	if len(got) != len(all) {
		t.Errorf("%d rules listed, want %d", len(got), len(all))
	}
	count := map[string]int{}
	for _, r := range all {
		want := r.Risk.String()
		if r.Off {
			want = "off"
		}
		count[want]++
		if got[r.ID] != want {
			t.Errorf("%s: class %q, want %q", r.ID, got[r.ID], want)
		}
	}
	if got["table-scan"] == "" || !regexp.MustCompile(`(?m)^table-scan +dangerous +trace +`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^edited-applied-migration +dangerous +history +`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^set-not-null +dangerous +parse +ALTER COLUMN`).MatchString(out) {
		t.Errorf("FROM column wrong:\n%s", out)
	}
	summary := regexp.MustCompile(`(\d+) rules \((\d+) dangerous, (\d+) caution, (\d+) safe, (\d+) off\)\.`).FindStringSubmatch(out)
	if summary == nil {
		t.Fatalf("no summary line:\n%s", out)
	}
	for i, n := range []int{len(all), count["dangerous"], count["caution"], count["safe"], count["off"]} {
		if summary[i+1] != strconv.Itoa(n) {
			t.Errorf("summary %q, want counts %d total, %v", summary[0], len(all), count)
		}
	}
	readme, err := os.ReadFile(filepath.Join(readmeDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile("\\((\\d+) rules, which `schemagate rules` lists").FindSubmatch(readme); m == nil || string(m[1]) != strconv.Itoa(len(all)) {
		t.Errorf("README.md's count of rules %q, want %d", m, len(all))
	}
	for id, class := range got {
		if strings.HasSuffix(class, " *") {
			t.Errorf("%s: class %q marked as configured with no configuration", id, class)
		}
	}
	if strings.Contains(out, "class set by") {
		t.Errorf("a legend for configured classes with no configuration:\n%s", out)
	}
}

// TestRulesCompletion: the shell completes rule ids, with their summaries.
func TestRulesCompletion(t *testing.T) {
	code, out, errOut := runStdin(t, "", "__complete", "rules", "set-not")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if id, summary, ok := strings.Cut(l, "\t"); ok && summary != "" {
			ids = append(ids, id)
		}
	}
	if strings.Join(ids, " ") != "set-not-null set-not-null-proven" || !strings.HasSuffix(strings.TrimSpace(out), ":4") {
		t.Errorf("completions %v, want set-not-null set-not-null-proven with no file completion:\n%s", ids, out)
	}
}

// TestRulesConfigured: schemagate.yml's lint.rules and --rule flags (over the file) give the class
// shown, marked, in the list, the page and the JSON; --class filters by it.
func TestRulesConfigured(t *testing.T) {
	t.Chdir(t.TempDir())
	yml := "lint:\n  rules:\n    set-not-null: caution\n    unqualified-name: safe\n    Prefer-Text: OFF\n    drop-table: safe\n"
	if err := os.WriteFile("schemagate.yml", []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runStdin(t, "", "rules", "--rule", "Drop-Table=DANGEROUS", "--rule", "add-column-nullable=off")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	got := ruleLines(t, out)
	for id, want := range map[string]string{"set-not-null": "caution *", "unqualified-name": "safe *", "prefer-text": "off *",
		"drop-table": "dangerous *", "add-column-nullable": "off *", "add-check-constraint": "dangerous"} {
		if got[id] != want {
			t.Errorf("%s: class %q, want %q", id, got[id], want)
		}
	}
	if !strings.Contains(out, "* class set by schemagate.yml or --rule.") {
		t.Errorf("no legend for *:\n%s", out)
	}

	code, out, _ = runStdin(t, "", "rules", "--class", "OFF")
	if code != ExitOK {
		t.Fatalf("--class off: exit %d", code)
	}
	off := ruleLines(t, out)
	if len(off) != 1 || off["prefer-text"] != "off *" {
		t.Errorf("--class off lists %v, want prefer-text alone (unqualified-name is turned on)", off)
	}

	// A class no rule has here.
	code, out, _ = runStdin(t, "", "rules", "--class", "off", "--rule", "prefer-text=safe", "--rule", "unqualified-name=safe")
	if code != ExitOK || len(ruleLines(t, out)) != 0 || !strings.Contains(out, "\nNo rule is off here.") {
		t.Errorf("an empty class: exit %d\n%s", code, out)
	}

	code, out, errOut = runStdin(t, "", "rules", "set-not-null")
	if code != ExitOK || !strings.HasSuffix(out, "## In this repository\n\ncaution (set by schemagate.yml:3:19; the rule's default is dangerous).\n") {
		t.Errorf("page of a configured rule: exit %d\n%s%s", code, out, errOut)
	}

	code, out, _ = runStdin(t, "", "rules", "--json", "--rule", "set-not-null=safe")
	var doc struct {
		Rules []struct {
			ID, Class, DefaultClass, SetBy, From, Lock, Summary, Triggers, Safer, URL string
			DoesNotTrigger                                                            string `json:"does_not_trigger"`
			OptIn                                                                     bool   `json:"opt_in"`
		}
	}
	if code != ExitOK || json.Unmarshal([]byte(strings.ReplaceAll(strings.ReplaceAll(out, `"default_class"`, `"defaultclass"`), `"set_by"`, `"setby"`)), &doc) != nil {
		t.Fatalf("--json: exit %d\n%s", code, out)
	}
	if len(doc.Rules) != len(lint.Rules()) {
		t.Errorf("--json: %d rules, want %d", len(doc.Rules), len(lint.Rules()))
	}
	for _, r := range doc.Rules {
		switch r.ID {
		case "set-not-null":
			if r.Class != "safe" || r.DefaultClass != "dangerous" || r.SetBy != "--rule" || r.From != "parse" || r.Lock != "ACCESS EXCLUSIVE" ||
				!strings.Contains(r.Triggers, "SET NOT NULL") || !strings.HasSuffix(r.URL, "docs/rules/set-not-null.md") {
				t.Errorf("--json set-not-null: %+v", r)
			}
		case "prefer-text": // set in another letter case, still placed
			if r.Class != "off" || r.SetBy != "schemagate.yml:5:18" {
				t.Errorf("--json prefer-text: %+v", r)
			}
		case "unqualified-name":
			if r.Class != "safe" || !r.OptIn || r.DefaultClass != "off" || !strings.HasPrefix(r.SetBy, "schemagate.yml:4:") {
				t.Errorf("--json unqualified-name: %+v", r)
			}
		case "add-check-constraint":
			if r.Class != "dangerous" || r.SetBy != "" {
				t.Errorf("--json add-check-constraint: %+v", r)
			}
		}
		// safer holds the example the rule's page calls the safer form, and only that one: the page of
		// change-column-type-coercible (whose advice is to keep the statement) and of a safe rule's advice
		// calls its example another form, which does_not_trigger holds for every rule.
		rule, _ := lint.Lookup(r.ID)
		if r.DoesNotTrigger == "" || r.DoesNotTrigger != rule.Good {
			t.Errorf("--json %s: does_not_trigger %q, want the page's example %q", r.ID, r.DoesNotTrigger, rule.Good)
		}
		if want := rule.HasSaferForm(); (r.Safer != "") != want || want && r.Safer != rule.Good {
			t.Errorf("--json %s: safer %q, want it only when the page calls its example the safer form (%v)", r.ID, r.Safer, want)
		}
		if r.ID == "change-column-type-coercible" && r.Safer != "" {
			t.Errorf("--json change-column-type-coercible: safer %q, but its page names no safer form", r.Safer)
		}
	}
}

// TestRulesPage: a rule's page is the one docs/rules holds, for each id given, in any letter case.
func TestRulesPage(t *testing.T) {
	var want []string
	for _, id := range []string{"set-not-null", "table-scan"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules", id+".md"))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, string(b))
	}
	t.Chdir(t.TempDir())
	code, out, errOut := runStdin(t, "", "rules", "Set-Not-Null", "table-scan")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if out != strings.Join(want, "\n") {
		t.Errorf("pages differ from docs/rules:\n%s", out)
	}
}

// TestRulesBadInput: unknown ids (all named, each with the closest id), a bad --class or --rule, RULE
// arguments with --class, and a broken schemagate.yml are usage errors.
func TestRulesBadInput(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"rules", "set-not-nul", "table-scn"}, []string{`unknown rule id "set-not-nul" (did you mean "set-not-null"?)`, `unknown rule id "table-scn" (did you mean "table-scan"?)`}},
		{[]string{"rules", "--class", "risky"}, []string{`--class "risky": want dangerous, caution, safe or off`}},
		{[]string{"rules", "--class", "off", "set-not-null"}, []string{"give RULE arguments or --class, not both"}},
		{[]string{"rules", "--rule", "set-not-null"}, []string{`--rule "set-not-null": want id=class`}},
		{[]string{"rules", "--rule", "set-not-nul=safe"}, []string{`did you mean "set-not-null"?`}},
		{[]string{"rules", "--rule", "set-not-null=risky"}, []string{`unknown class "risky"`}},
		{[]string{"rules", "--config", "missing.yml"}, []string{"missing.yml"}},
	} {
		code, out, errOut := runStdin(t, "", tc.args...)
		if code != ExitUsage || out != "" {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, ExitUsage, out, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, errOut)
			}
		}
	}
	if err := os.WriteFile("schemagate.yml", []byte("lint:\n  rules:\n    set-not-nul: safe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runStdin(t, "", "rules")
	if code != ExitUsage || !strings.Contains(errOut, `schemagate.yml:3:5: lint.rules.set-not-nul: unknown rule id "set-not-nul" (did you mean "set-not-null"?)`) {
		t.Errorf("broken schemagate.yml: exit %d\n%s", code, errOut)
	}
}
