package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/nettest"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/sandbox"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// run executes schemagate in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Version: "test",
		Getenv: func(k string) string { return env[k] }}
	code := app.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func requirePG(t *testing.T) {
	t.Helper()
	pgtest.Server(t) // fails under CI=true, skips elsewhere, when PostgreSQL is missing
}

func TestCheckShopExample(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "report.json")
	// 0001 and 0002 are the base's: without --base the tables they create would be new to 0004 and 0005
	// (every migration is new), and nothing would be risky.
	mig := shopRepo(t, []string{"0001", "0002"}, []string{"0003", "0004", "0005"})
	code, out, errOut := run(t, nil, "check", "--dir", mig, "--base", "main", "--report-json", jsonPath, "--report-md", filepath.Join(dir, "report.md"))
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "[3/3] 5_require_customer_phone") {
		t.Errorf("no progress per migration on stderr:\n%s", errOut)
	}
	if !strings.Contains(out, "db/migrations/0004_index_orders_by_status.up.sql:2:1: dangerous") {
		t.Errorf("stdout lacks the compiler-style finding for 0004:\n%s", out)
	}
	var rep map[string]any
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep["risk"] != "dangerous" {
		t.Errorf("risk = %v", rep["risk"])
	}
	migs := rep["migrations"].([]any)
	if len(migs) != 5 {
		t.Fatalf("%d migrations in report", len(migs))
	}
	m := migs[3].(map[string]any)
	for _, key := range []string{"version", "name", "file", "new", "status", "duration_ms", "risk", "roundtrip", "findings"} {
		if _, ok := m[key]; !ok {
			t.Errorf("migration lacks key %q: %v", key, m)
		}
	}
	if m["status"] != "applied" || m["roundtrip"].(map[string]any)["status"] != "ok" {
		t.Errorf("0004: %v", m)
	}
	f := m["findings"].([]any)[0].(map[string]any)
	for _, key := range []string{"rule", "risk", "file", "line", "column", "message", "lock", "rewrite", "scan", "suggestion"} {
		if _, ok := f[key]; !ok {
			t.Errorf("finding lacks key %q: %v", key, f)
		}
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "report.md")); !bytes.Contains(md, []byte("0004")) {
		t.Errorf("Markdown report does not mention 0004")
	}
}

func TestCheckExitCodes(t *testing.T) {
	requirePG(t)
	// 0004 and 0005 change tables of the base: dangerous (without a base, every migration is new and
	// what they change is the change's own).
	risky := shopRepo(t, []string{"0001", "0002"}, []string{"0003", "0004", "0005"})
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"failing round trip", []string{"check", "--dir", "../rehearse/testdata/down-leaves-index"}, ExitBlocked,
			"round trip: index users_email_idx is left behind by the down\n      at ../rehearse/testdata/down-leaves-index/2_email_idx.up.sql:1:1\n"},
		{"failing down names its line", []string{"check", "--dir", "../rehearse/testdata/down-fails"}, ExitBlocked,
			"round trip: the down fails: table \"user_accounts\" does not exist\n      at ../rehearse/testdata/down-fails/1_users.down.sql:2:1 (SQLSTATE 42P01)"},
		{"syntax error", []string{"check", "--dir", "../rehearse/testdata/syntax-error"}, ExitBlocked, "2_bad.up.sql:4"},
		{"unknown format", []string{"check", "--dir", "../../examples/shop", "--format", "liquibase"}, ExitUsage, "unknown migration format"},
		{"missing folder", []string{"check", "--dir", "does/not/exist"}, ExitUsage, "not found"},
		{"file as folder", []string{"check", "--dir", "check_test.go"}, ExitUsage, "check_test.go is a file, not a migration folder"},
		{"report folder missing", []string{"check", "--dir", "../../examples/shop", "--report-json", "no/such/dir/r.json"}, ExitUsage, "--report-json no/such/dir/r.json: folder no/such/dir does not exist"},
		{"unknown flag", []string{"check", "--frobnicate"}, ExitUsage, "unknown flag"},
		{"bad provider", []string{"check", "--dir", "../../examples/shop", "--provider", "podman"}, ExitUsage, "unknown provider"},
		{"fail on dangerous", []string{"check", "--dir", risky, "--base", "main", "--fail-on", "dangerous", "-q"}, ExitBlocked, "reaches --fail-on"},
		{"unknown rule", []string{"check", "--dir", "../../examples/shop", "--rule", "no-such-rule=off"}, ExitUsage, "no-such-rule"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, nil, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out, errOut)
			}
			if !strings.Contains(out+errOut, c.msg) {
				t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", c.msg, out, errOut)
			}
		})
	}
}

func TestCheckBrokenConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "schemagate.yml")
	os.WriteFile(cfg, []byte("database:\n  provider: podman\nlint:\n  fail_on: often\n"), 0o644)
	code, _, errOut := run(t, nil, "check", "--config", cfg, "--dir", "../../examples/shop")
	if code != ExitUsage || !strings.Contains(errOut, "schemagate.yml:2") || !strings.Contains(errOut, "schemagate.yml:4") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

// TestCheckBase rehearses with --base: migrations committed at the base are history, the rest new.
func TestCheckBase(t *testing.T) {
	requirePG(t)
	mig := shopRepo(t, []string{"0001", "0002", "0003"}, []string{"0004", "0005"})
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := run(t, nil, "check", "--dir", mig, "--base", "main", "--report-json", jsonPath, "-q")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var rep struct {
		Migrations []struct {
			Version, Status string
			New             bool
		}
	}
	b, _ := os.ReadFile(jsonPath)
	json.Unmarshal(b, &rep)
	var got []string
	for _, m := range rep.Migrations {
		got = append(got, m.Version+":"+m.Status)
	}
	if strings.Join(got, " ") != "1:base 2:base 3:base 4:applied 5:applied" {
		t.Fatalf("statuses %v", got)
	}
	code, _, errOut = run(t, nil, "check", "--dir", mig, "--base", "no-such-ref", "-q")
	if code != ExitUsage || !strings.Contains(errOut, "no-such-ref") {
		t.Fatalf("unknown base ref: exit %d, %s", code, errOut)
	}
	// The same repository reached through a symbolic link (macOS /tmp, CI workspaces).
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Dir(mig), link); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, nil, "check", "--dir", filepath.Join(link, filepath.Base(mig)), "--base", "main", "--no-roundtrip", "-q")
	if code != ExitOK {
		t.Fatalf("--base through a symbolic link: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestGenerateDownAndRollbackScript: the plain folder has no downs. check --generate-down writes one per
// migration and proves it; rollback-script writes the proven script for one version.
func TestGenerateDownAndRollbackScript(t *testing.T) {
	requirePG(t)
	dir := "../rehearse/testdata/formats/plain"
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := run(t, nil, "check", "--dir", dir, "--generate-down", "--report-json", jsonPath, "-q")
	if code != ExitOK {
		t.Fatalf("check --generate-down: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep struct {
		Migrations []struct {
			Version       string
			GeneratedDown *struct {
				SQL      string `json:"sql"`
				Verified bool   `json:"verified"`
			} `json:"generated_down"`
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"001": "DROP TABLE", "002": "DROP TABLE", "010": "DROP INDEX CONCURRENTLY orders_customer_id_idx"}
	for _, m := range rep.Migrations {
		gd := m.GeneratedDown
		if gd == nil || !gd.Verified || !strings.Contains(gd.SQL, want[m.Version]) {
			t.Errorf("%s: generated down %+v, want a verified script with %q", m.Version, gd, want[m.Version])
		}
	}
	if len(rep.Migrations) != 3 {
		t.Fatalf("%d migrations in the report", len(rep.Migrations))
	}

	outFile := filepath.Join(t.TempDir(), "002.down.sql")
	code, out, errOut = run(t, nil, "rollback-script", "--dir", dir, "--version", "002", "-o", outFile, "-q")
	if code != ExitOK {
		t.Fatalf("rollback-script: exit %d\n%s\n%s", code, out, errOut)
	}
	script, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "DROP TABLE") || !strings.Contains(string(script), "orders") {
		t.Errorf("rollback script:\n%s", script)
	}
	if code, _, errOut := run(t, nil, "rollback-script", "--dir", dir, "--version", "999"); code != ExitUsage || !strings.Contains(errOut, "999") {
		t.Errorf("unknown version: exit %d, %s", code, errOut)
	}
	// The version may be the argument, as in git revert V; given twice, differently, it is a usage error.
	if code, out, errOut := run(t, nil, "rollback-script", "--dir", dir, "-q", "002"); code != ExitOK || out != string(script) {
		t.Errorf("version as the argument: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := run(t, nil, "rollback-script", "--dir", dir, "--version", "001", "002"); code != ExitUsage || !strings.Contains(errOut, "two versions") {
		t.Errorf("two versions: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run(t, nil, "rollback-script", "--dir", dir); code != ExitUsage || !strings.Contains(errOut, "--version V") {
		t.Errorf("no version: exit %d, %s", code, errOut)
	}
	// Other leading zeros name the same version.
	if code, out, errOut := run(t, nil, "rollback-script", "--dir", dir, "-q", "2"); code != ExitOK || out != string(script) {
		t.Errorf("version 2 for 002: exit %d\n%s\n%s", code, out, errOut)
	}
	// A migration before the one asked for fails: the folder is bad input (exit 2), with its file and line.
	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, "1_a.up.sql"), []byte("CREATE TABLE a (id int);\nCREATE VIEW v AS SELECT nope FROM a;\n"))
	writeFile(t, filepath.Join(broken, "2_b.up.sql"), []byte("CREATE TABLE b (id int);\n"))
	if code, _, errOut := run(t, nil, "rollback-script", "--dir", broken, "--format", "golang-migrate", "-q", "2"); code != ExitUsage ||
		!strings.Contains(errOut, "1_a") || !strings.Contains(errOut, "1_a.up.sql:2") {
		t.Errorf("failing earlier migration: exit %d, %s", code, errOut)
	}
}

// shopRepo makes a git repository whose main branch holds the examples/shop migrations named by base
// (prefixes) in db/migrations, and whose work tree adds those named by added. It returns the folder.
// TestCheckFailingHistory: when the base itself does not apply, nothing new can be rehearsed; the check
// fails (exit 3) and names the history migration's file and line.
func TestCheckFailingHistory(t *testing.T) {
	requirePG(t)
	// At the base, orders (0002) references customers, which only the change adds (0001).
	mig := shopRepo(t, []string{"0002", "0003"}, []string{"0001"})
	code, out, errOut := run(t, nil, "check", "--dir", mig, "--base", "main", "-q")
	if code != ExitBlocked {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitBlocked, out, errOut)
	}
	for _, want := range []string{"FAILED", "2_create_orders  (history)", "0002_create_orders.up.sql:", "42P01", "the base itself does not apply"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func shopRepo(t *testing.T, base, added []string) string {
	t.Helper()
	repo := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	mig := filepath.Join(repo, "db", "migrations")
	if err := os.MkdirAll(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("../../examples/shop")
	if err != nil {
		t.Fatal(err)
	}
	copyShop := func(prefixes []string) {
		for _, e := range entries {
			for _, p := range prefixes {
				if strings.HasPrefix(e.Name(), p) {
					b, err := os.ReadFile(filepath.Join("../../examples/shop", e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					writeFile(t, filepath.Join(mig, e.Name()), b)
				}
			}
		}
	}
	copyShop(base)
	git("add", ".")
	git("commit", "-qm", "base")
	copyShop(added)
	return mig
}

// TestCheckDeployTimeouts: with deploy environments in schemagate.yml, the missing-timeout findings the
// deploy covers are safe and say so, which changes a migration's risk; lint.deploy_timeouts: false
// restores the rules' classes.
func TestCheckDeployTimeouts(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	envs := `environments:
  production:
    lock_timeout: 3s
    statement_timeout: 1m
    snapshot: {dir: ` + dir + `}
  staging:
    statement_timeout: 30s
    snapshot: {dir: ` + dir + `}
`
	// 0001 is the base: the later migrations change its table (without a base it would be the change's own).
	shop := shopRepo(t, []string{"0001"}, []string{"0002", "0003", "0004", "0005"})
	findings := func(t *testing.T, cfg string) map[string]any {
		t.Helper()
		path := filepath.Join(t.TempDir(), "schemagate.yml")
		writeFile(t, path, []byte(cfg))
		jsonPath := filepath.Join(t.TempDir(), "report.json")
		code, out, errOut := run(t, nil, "check", "--config", path, "--dir", shop, "--base", "main", "--report-json", jsonPath, "-q")
		if code != ExitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		var rep struct {
			Migrations []struct {
				Name     string
				Risk     string
				Findings []struct{ Rule, Risk, Message string }
			}
		}
		b, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		got := map[string]any{}
		for _, m := range rep.Migrations {
			if m.Name != "create_orders" {
				continue
			}
			got["risk"] = m.Risk
			for _, f := range m.Findings {
				got[f.Rule] = f.Risk + ": " + f.Message
			}
		}
		return got
	}

	covered := findings(t, envs)
	for rule, want := range map[string]string{
		"missing-lock-timeout":      "safe: statement takes SHARE ROW EXCLUSIVE",
		"missing-statement-timeout": "safe: DDL on a pre-existing relation",
	} {
		if s, _ := covered[rule].(string); !strings.HasPrefix(s, want) {
			t.Errorf("%s: %q, want it to start with %q", rule, s, want)
		}
	}
	for rule, want := range map[string]string{
		"missing-lock-timeout":      "schemagate deploy runs it with lock_timeout (3s in production, 5s in staging) and retries",
		"missing-statement-timeout": "statement_timeout (1min in production, 30s in staging)",
	} {
		if s, _ := covered[rule].(string); !strings.Contains(s, want) {
			t.Errorf("%s: %q, want it to name %q", rule, s, want)
		}
	}
	if covered["risk"] != "safe" {
		t.Errorf("create_orders risk %v with the deploy's timeouts, want safe (its other findings are safe)", covered["risk"])
	}

	off := findings(t, envs+"lint:\n  deploy_timeouts: false\n")
	if s, _ := off["missing-lock-timeout"].(string); !strings.HasPrefix(s, "dangerous: ") || strings.Contains(s, "deploy") {
		t.Errorf("missing-lock-timeout with deploy_timeouts: false: %q", s)
	}
	if off["risk"] != "dangerous" {
		t.Errorf("create_orders risk %v with deploy_timeouts: false, want dangerous", off["risk"])
	}
}

// TestCheckURLTwiceWithRoles: on an existing server (the url provider), a migration that creates a role
// rehearses the same on a second run, because the first run dropped the role with its database; the
// server keeps nothing of either run.
func TestCheckURLTwiceWithRoles(t *testing.T) {
	requirePG(t)
	server := pgtest.Server(t).AdminURL
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1_roles.up.sql"), []byte("CREATE ROLE sg_check_reader NOLOGIN;\nCREATE TABLE notes (id bigint PRIMARY KEY);\nGRANT SELECT ON notes TO sg_check_reader;\n"))
	writeFile(t, filepath.Join(dir, "1_roles.down.sql"), []byte("DROP TABLE notes;\nDROP ROLE sg_check_reader;\n"))
	for i := 1; i <= 2; i++ {
		code, out, errOut := run(t, nil, "check", "--dir", dir, "--provider", "url", "--database-url", server, "-q")
		if code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", i, code, out, errOut)
		}
	}
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var roles, dbs int
	if err := conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'sg_check_reader'),
		(SELECT count(*) FROM pg_database WHERE datname LIKE 'schemagate\_%')`).Scan(&roles, &dbs); err != nil {
		t.Fatal(err)
	}
	if roles != 0 || dbs != 0 {
		t.Errorf("left on the server: %d roles sg_check_reader, %d schemagate databases", roles, dbs)
	}
}

// TestCheckURLRefusesServerWideChanges: on a shared server a migration that alters a role it did not
// create is refused before anything runs (exit 2, with its file and line), and the role is untouched.
func TestCheckURLRefusesServerWideChanges(t *testing.T) {
	requirePG(t)
	server := pgtest.Server(t).AdminURL
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	role := "sg_existing_" + strings.ToLower(rand.Text()[:6])
	if _, err := conn.Exec(t.Context(), "CREATE ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1_g.up.sql"), []byte("CREATE TABLE g (id bigint PRIMARY KEY);\nALTER ROLE "+role+" CREATEDB;\n"))
	writeFile(t, filepath.Join(dir, "1_g.down.sql"), []byte("DROP TABLE g;\n"))
	// A report left by an earlier run must not pass for this one, which stops short.
	stale := filepath.Join(t.TempDir(), "r.json")
	writeFile(t, stale, []byte(`{"ok": true}`))
	code, out, errOut := run(t, nil, "check", "--dir", dir, "--provider", "url", "--database-url", server, "-q", "--report-json", stale)
	if code != ExitUsage || !strings.Contains(errOut, "1_g.up.sql:2: ALTER ROLE "+role) || !strings.Contains(errOut, "--provider local or docker") {
		t.Errorf("exit %d, want %d naming 1_g.up.sql:2\n%s\n%s", code, ExitUsage, out, errOut)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the earlier run's report is still there (%v)", err)
	}
	var createdb bool
	if err := conn.QueryRow(t.Context(), "SELECT rolcreatedb FROM pg_roles WHERE rolname = $1", role).Scan(&createdb); err != nil || createdb {
		t.Errorf("the existing role was changed: rolcreatedb %v (%v)", createdb, err)
	}
}

// TestCheckVersionMismatch: a server whose major version is not the one asked for (--pg-version against
// a url server or an --image) is bad input, not a rehearsal on the wrong version with findings for the
// version asked for; nor, for rollback-script, a down written on the wrong version.
func TestCheckVersionMismatch(t *testing.T) {
	requirePG(t)
	server := pgtest.Server(t).AdminURL
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	var num int
	err = conn.QueryRow(t.Context(), "SELECT current_setting('server_version_num')::int").Scan(&num)
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	have := num / 10000
	want := have + 1
	if want > 18 {
		want = have - 1
	}
	for _, args := range [][]string{{"check", "-q"}, {"rollback-script", "--version", "3", "-q", "-o", filepath.Join(t.TempDir(), "3.down.sql")}} {
		code, out, errOut := run(t, nil, append(args, "--dir", "../../examples/shop", "--provider", "url", "--database-url", server, "--pg-version", strconv.Itoa(want))...)
		if code != ExitUsage || !strings.Contains(errOut, fmt.Sprintf("PostgreSQL %d was asked for", want)) || !strings.Contains(errOut, fmt.Sprintf("url provider's server runs %d", have)) {
			t.Errorf("%s: exit %d, want %d\n%s\n%s", args[0], code, ExitUsage, out, errOut)
		}
	}
	// The version the server runs is taken.
	code, out, errOut := run(t, nil, "rollback-script", "--version", "3", "-q", "-o", filepath.Join(t.TempDir(), "3.down.sql"), "--dir", "../../examples/shop",
		"--provider", "url", "--database-url", server, "--pg-version", strconv.Itoa(have))
	if code != ExitOK {
		t.Errorf("rollback-script --pg-version %d on a server of %d: exit %d\n%s\n%s", have, have, code, out, errOut)
	}
}

// TestCheckFailOnSaysFailed: a check that fails only because the risk reaches --fail-on says so in
// every report (text, Markdown header, JSON), not "ok" / "passed" beside exit 3.
func TestCheckFailOnSaysFailed(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	md, js := filepath.Join(dir, "r.md"), filepath.Join(dir, "r.json")
	// 0004 and 0005 change tables of the base: dangerous.
	risky := shopRepo(t, []string{"0001", "0002"}, []string{"0003", "0004", "0005"})
	code, out, errOut := run(t, nil, "check", "--dir", risky, "--base", "main", "--fail-on", "dangerous", "-q", "--report-md", md, "--report-json", js)
	if code != ExitBlocked || !strings.Contains(out, "FAILED — risk dangerous reaches --fail-on dangerous") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(md); !strings.Contains(string(b), "schemagate: failed (the risk reaches fail-on dangerous)") {
		t.Errorf("Markdown header:\n%.300s", b)
	}
	if b, _ := os.ReadFile(js); !strings.Contains(string(b), `"fail_on_reached": true`) {
		t.Errorf("JSON lacks fail_on_reached:\n%.400s", b)
	}
	if code, out, _ := run(t, nil, "check", "--dir", "../../examples/shop", "--fail-on", "never", "-q"); code != ExitOK || !strings.Contains(out, "schemagate check: ok") {
		t.Errorf("--fail-on never: exit %d\n%s", code, out)
	}
}

// TestCheckBranchBehindBase: the base moved on after the branch forked (a migration added there) and the
// work tree is the branch. The branch's migrations are judged against the merge base, as a pull request's
// diff is, with a note; not failed for "deleting" what the base added since.
func TestCheckBranchBehindBase(t *testing.T) {
	requirePG(t)
	root := t.TempDir()
	git := func(args ...string) { t.Helper(); runGit(t, root, args...) }
	m := filepath.Join(root, "m")
	if err := os.MkdirAll(m, 0o755); err != nil {
		t.Fatal(err)
	}
	add := func(name, table string) {
		writeFile(t, filepath.Join(m, name+".up.sql"), []byte("CREATE TABLE "+table+" (id bigint PRIMARY KEY);\n"))
		writeFile(t, filepath.Join(m, name+".down.sql"), []byte("DROP TABLE "+table+";\n"))
	}
	git("init", "-q", "-b", "main")
	add("1_users", "users")
	git("add", "-A")
	git("commit", "-qm", "base")
	git("checkout", "-qb", "feature")
	add("3_b", "b")
	git("add", "-A")
	git("commit", "-qm", "feature")
	git("checkout", "-q", "main")
	add("2_a", "a")
	git("add", "-A")
	git("commit", "-qm", "main moves on")
	git("checkout", "-q", "feature")
	code, out, errOut := run(t, nil, "check", "--dir", m, "--base", "main", "-q")
	if code != ExitOK || strings.Contains(out, "deleted") || !strings.Contains(out+errOut, "the work tree does not contain main (it is behind it)") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCheckSARIF: check writes the new migrations' findings, the trace's included, as SARIF with paths
// from the repository root.
func TestCheckSARIF(t *testing.T) {
	requirePG(t)
	sarif := filepath.Join(t.TempDir(), "c.sarif")
	if code, out, errOut := run(t, nil, "check", "--dir", "../../examples/shop", "-q", "--sarif", sarif); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	b, err := os.ReadFile(sarif)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version": "2.1.0"`, `"uri": "examples/shop/`, `"ruleId": "`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("sarif lacks %s:\n%.600s", want, b)
		}
	}
}

// committedFolder is the migration folder m of a new git repository on branch main, holding files
// (name -> text) in one commit with message msg: the base of a check --base.
func committedFolder(t *testing.T, msg string, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	m := filepath.Join(root, "m")
	if err := os.MkdirAll(m, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		writeFile(t, filepath.Join(m, name), []byte(text))
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-qm", msg}} {
		runGit(t, root, args...)
	}
	return m
}

// TestCheckFixesABrokenBase: the base's folder does not read (two migrations of version 2, as two
// merges leave them) and the change renumbers one: the change is rehearsed, every migration new, and a
// note says why.
func TestCheckFixesABrokenBase(t *testing.T) {
	requirePG(t)
	m := committedFolder(t, "base with version 2 twice", map[string]string{
		"1_t.up.sql": "CREATE TABLE t (id bigint PRIMARY KEY);\n", "1_t.down.sql": "DROP TABLE t;\n",
		"2_x.up.sql": "CREATE TABLE x (id bigint PRIMARY KEY);\n", "2_x.down.sql": "DROP TABLE x;\n",
		"2_y.up.sql": "CREATE TABLE y (id bigint PRIMARY KEY);\n", "2_y.down.sql": "DROP TABLE y;\n",
	})
	for _, f := range []string{"up", "down"} {
		if err := os.Rename(filepath.Join(m, "2_y."+f+".sql"), filepath.Join(m, "3_y."+f+".sql")); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := run(t, nil, "check", "--dir", m, "--base", "main", "-q")
	if code != ExitOK || !strings.Contains(out+errOut, "the migration folder at main does not read") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCheckUpAddedToDownOnlyVersion: golang-migrate records a version with a down file alone and runs
// nothing for its up (migrate.go newMigration), so the base reads, and an up file added to it later is
// an edit of an applied migration that databases never run.
func TestCheckUpAddedToDownOnlyVersion(t *testing.T) {
	requirePG(t)
	m := committedFolder(t, "base with a lone down", map[string]string{
		"1_t.up.sql": "CREATE TABLE t (id bigint PRIMARY KEY);\n", "1_t.down.sql": "DROP TABLE t;\n",
		"2_x.down.sql": "DROP TABLE IF EXISTS x;\n",
	})
	writeFile(t, filepath.Join(m, "2_x.up.sql"), []byte("CREATE TABLE x (id bigint PRIMARY KEY);\n"))
	code, out, errOut := run(t, nil, "check", "--dir", m, "--base", "main", "-q")
	if code != ExitBlocked || !strings.Contains(out, "2_x.up.sql:1:1: dangerous edited-applied-migration") || strings.Contains(out+errOut, "does not read") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCheckBadFailOn: a bad --fail-on names the flag, not the configuration key it would set.
func TestCheckBadFailOn(t *testing.T) {
	code, _, errOut := run(t, nil, "check", "--dir", "../../examples/shop", "--fail-on", "bogus")
	if code != ExitUsage || !strings.Contains(errOut, `--fail-on "bogus"`) || strings.Contains(errOut, "lint.fail_on") {
		t.Errorf("exit %d, %s", code, errOut)
	}
}

// TestCheckSetup: migrations that GRANT to a role production has fail on a bare throwaway database; a
// setup script creating the role (--setup or database.setup) makes them rehearse, and a broken setup
// script is bad input with its file and line. On a shared server the setup's roles are dropped too.
func TestCheckSetup(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	mig := filepath.Join(dir, "migrations")
	if err := os.MkdirAll(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mig, "1_notes.up.sql"), []byte("CREATE TABLE notes (id bigint PRIMARY KEY);\nGRANT SELECT ON notes TO sg_app_reader;\n"))
	writeFile(t, filepath.Join(mig, "1_notes.down.sql"), []byte("DROP TABLE notes;\n"))
	roles := filepath.Join(dir, "roles.sql")
	writeFile(t, roles, []byte("-- what the infrastructure creates in production\nCREATE ROLE sg_app_reader NOLOGIN;\n"))

	code, out, _ := run(t, nil, "check", "--dir", mig, "-q")
	if code != ExitBlocked || !strings.Contains(out, `role "sg_app_reader" does not exist`) {
		t.Fatalf("without setup: exit %d, want %d naming the missing role\n%s", code, ExitBlocked, out)
	}
	jsonPath := filepath.Join(dir, "report.json")
	code, out, errOut := run(t, nil, "check", "--dir", mig, "--setup", roles, "--report-json", jsonPath)
	if code != ExitOK || !strings.Contains(errOut, "running setup "+filepath.ToSlash(roles)+" (1 statement)") {
		t.Fatalf("with --setup: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(jsonPath); !strings.Contains(string(b), "roles.sql (1 statement) ran before the migrations") {
		t.Errorf("report does not note the setup:\n%s", b)
	}

	// From schemagate.yml, on a shared server: the setup's role does not outlive the run.
	server := pgtest.Server(t).AdminURL
	cfg := filepath.Join(dir, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: "+mig+"\ndatabase:\n  provider: url\n  url: "+server+"\n  setup:\n    - "+roles+"\n"))
	if code, out, errOut := run(t, nil, "check", "--config", cfg, "-q"); code != ExitOK {
		t.Fatalf("with database.setup: exit %d\n%s\n%s", code, out, errOut)
	}
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_roles WHERE rolname = 'sg_app_reader'").Scan(&n); err != nil || n != 0 {
		t.Errorf("setup role left on the shared server: %d (%v)", n, err)
	}

	// Broken setup scripts: bad input (exit 2) with the place.
	bad := filepath.Join(dir, "bad.sql")
	for _, tc := range []struct{ sql, want string }{
		{"CREATE ROLE ok;\nCREAT ROLE nope;\n", "bad.sql:2:1: syntax error"},
		{"SELECT 1;\n\nCREATE TABLE x (id int REFERENCES missing (id));\n", `bad.sql:3:1: relation "missing" does not exist`},
	} {
		writeFile(t, bad, []byte(tc.sql))
		code, out, errOut := run(t, nil, "check", "--dir", mig, "--setup", bad, "-q")
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("setup %q: exit %d, want %d with %q\n%s\n%s", tc.sql, code, ExitUsage, tc.want, out, errOut)
		}
	}
	if code, _, errOut := run(t, nil, "check", "--dir", mig, "--setup", filepath.Join(dir, "nope.sql"), "-q"); code != ExitUsage || !strings.Contains(errOut, "nope.sql") {
		t.Errorf("missing setup file: exit %d\n%s", code, errOut)
	}
}

// TestCheckRefusesLinksOutOfTheRepository: a pull request may add symbolic links. One that points a
// migration, a sqitch script or schemagate.yml at a file outside the repository (a secret, the
// process's environment) is refused with exit 2, and the report never quotes the file.
func TestCheckRefusesLinksOutOfTheRepository(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	mig := filepath.Join(repo, "db", "migrations")
	sq := filepath.Join(repo, "sqitch")
	for _, d := range []string{filepath.Join(repo, ".git"), mig, filepath.Join(sq, "deploy")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(dir, "token.txt")
	writeFile(t, secret, []byte("ghp_0123456789secret\n"))
	writeFile(t, filepath.Join(mig, "1_a.up.sql"), []byte("CREATE TABLE a (id bigint PRIMARY KEY);\n"))
	writeFile(t, filepath.Join(sq, "sqitch.plan"), []byte("%project=x\n\na 2024-01-01T00:00:00Z Me <me@example.com> # a\n"))
	links := map[string]string{
		filepath.Join(mig, "2_b.up.sql"):        secret,
		filepath.Join(sq, "deploy", "a.sql"):    "/proc/self/environ",
		filepath.Join(repo, "schemagate.yml"):   "../token.txt",
		filepath.Join(repo, "db", "shared.sql"): "migrations/1_a.up.sql", // inside: fine
		filepath.Join(mig, "3_shared.up.sql"):   "../shared.sql",
		filepath.Join(mig, "3_shared.down.sql"): "../shared.sql",
	}
	for at, target := range links {
		if err := os.Symlink(target, at); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"SCHEMAGATE_TEST_TOKEN": "ghp_0123456789secret"}
	for _, tc := range []struct {
		args []string
		file string
	}{
		{[]string{"check", "--dir", mig, "--provider", "url", "--database-url", "postgres://127.0.0.1:1/x"}, "2_b.up.sql"},
		{[]string{"check", "--dir", sq, "--provider", "url", "--database-url", "postgres://127.0.0.1:1/x"}, "deploy/a.sql"},
		{[]string{"check", "--config", filepath.Join(repo, "schemagate.yml"), "--dir", mig}, "schemagate.yml"},
		{[]string{"lint", "--dir", mig}, "2_b.up.sql"},
	} {
		code, out, errOut := run(t, env, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.file) || !strings.Contains(errOut, "out of the repository") {
			t.Errorf("%v: exit %d, want %d naming %s as a link out of the repository\n%s%s", tc.args, code, ExitUsage, tc.file, out, errOut)
		}
		if strings.Contains(out+errOut, "secret") {
			t.Errorf("%v: the output quotes the linked file:\n%s%s", tc.args, out, errOut)
		}
	}
	// A link that stays inside the repository is read.
	if err := os.Remove(filepath.Join(mig, "2_b.up.sql")); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, nil, "lint", "--dir", mig); code != ExitOK || !strings.Contains(out+errOut, "2 files") {
		t.Errorf("links inside the repository: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCheckBaseOfAMergedResultsPipeline: a merged results or merge train pipeline checks out the merge
// into the target branch's head, so the history to replay is that head, not the merge base: otherwise
// the target's newer migrations count as the merge request's own. A detached pipeline keeps the merge
// base. (The templates pass no --base: the tool picks it.) The report records the merge request's head:
// the source branch's, not the merge commit the pipeline checked out.
func TestCheckBaseOfAMergedResultsPipeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "schemagate.yml"), []byte("approval:\n  require: risky\n"))
	for _, tc := range []struct{ event, want, head string }{
		{"merged_result", "target", "source"}, {"merge_train", "target", "source"}, {"detached", "mergebase", "commit"}, {"", "mergebase", "commit"},
	} {
		env := map[string]string{
			"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7",
			"CI_MERGE_REQUEST_EVENT_TYPE": tc.event, "CI_MERGE_REQUEST_DIFF_BASE_SHA": "mergebase",
			"CI_MERGE_REQUEST_TARGET_BRANCH_SHA": "target", "CI_COMMIT_SHA": "commit",
		}
		if tc.head == "source" {
			// A merged results pipeline runs on a merge commit; the merge request's head is the source branch's.
			env["CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"] = "source"
		}
		var stdout, stderr bytes.Buffer
		app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Version: "test"}
		o := &CheckOptions{ConfigFile: filepath.Join(dir, "schemagate.yml")}
		if _, err := app.resolveCheck(t.Context(), o); err != nil {
			t.Fatalf("%s: resolveCheck: %v", tc.event, err)
		}
		if o.Base != tc.want {
			t.Errorf("CI_MERGE_REQUEST_EVENT_TYPE=%q: base %q, want %q", tc.event, o.Base, tc.want)
		}
		if o.head != tc.head {
			t.Errorf("CI_MERGE_REQUEST_EVENT_TYPE=%q: the report's head %q, want %q", tc.event, o.head, tc.head)
		}
	}
}

// TestCheckBaseOutsideARepositorySaysWhy: when git cannot read the folder's repository, the error
// gives git's reason (no repository, or one it does not trust for its owner), not a guess.
func TestCheckBaseOutsideARepositorySaysWhy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1_a.up.sql"), []byte("CREATE TABLE a (id int);\n"))
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir)) // git's search stops above the folder
	code, out, errOut := run(t, nil, "check", "--dir", dir, "--base", "main", "-q")
	if code != ExitUsage || !strings.Contains(errOut, "git cannot read the repository of") || !strings.Contains(errOut, "not a git repository (or any") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestRollbackScriptSetup: rollback-script takes --setup as check does, for migrations that GRANT to
// roles the database must already have.
func TestRollbackScriptSetup(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1_t.up.sql"), []byte("CREATE TABLE t (id int);\nGRANT SELECT ON t TO schemagate_rs_reader;\n"))
	setup := filepath.Join(t.TempDir(), "roles.sql")
	writeFile(t, setup, []byte("DO $$ BEGIN CREATE ROLE schemagate_rs_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;\n"))
	if code, _, errOut := run(t, nil, "rollback-script", "--dir", dir, "-q", "1"); code == ExitOK || !strings.Contains(errOut, "schemagate_rs_reader") {
		t.Errorf("without the setup: exit %d, want the missing role named\n%s", code, errOut)
	}
	code, out, errOut := run(t, nil, "rollback-script", "--dir", dir, "--setup", setup, "-q", "1")
	if code != ExitOK || !strings.Contains(out, "DROP TABLE t") {
		t.Errorf("with --setup: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCheckQuietNotesOnce: a note on the folder (a file golang-migrate never runs) is said once: in the
// report, and on stderr first only when progress is shown; with -q and no report (a broken setup
// file), on stderr.
func TestCheckQuietNotesOnce(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	for name, sql := range map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id bigint PRIMARY KEY);\n", "1_a.down.sql": "DROP TABLE a;\n",
		"notes.up.sql": "-- not a migration\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const note = "notes.up.sql: ignored: not a golang-migrate file name"
	for _, quiet := range []bool{true, false} {
		args := []string{"check", "--dir", dir}
		if quiet {
			args = append(args, "-q")
		}
		code, out, errOut := run(t, nil, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		if n := strings.Count(out, note); n != 1 {
			t.Errorf("%v: the note %d times in the report, want once:\n%s", args, n, out)
		}
		if n, want := strings.Count(errOut, note), map[bool]int{true: 0, false: 1}[quiet]; n != want {
			t.Errorf("%v: the note %d times on stderr, want %d:\n%s", args, n, want, errOut)
		}
		// A note is no error: it does not start as the errors do ("schemagate: "), which a CI log
		// reads as a failure of a run that passed.
		if !quiet && !strings.Contains("\n"+errOut, "\nnote: read "+dir+": "+note) {
			t.Errorf("%v: the note is not a line of its own starting with \"note: \":\n%s", args, errOut)
		}
	}
	if code, out, errOut := run(t, nil, "lint", "--dir", dir); code != ExitOK || !strings.HasPrefix(errOut, "note: read "+dir+": "+note) {
		t.Errorf("lint: exit %d, want %d with the note on stderr as a \"note: \" line\nstdout:\n%s\nstderr:\n%s", code, ExitOK, out, errOut)
	}
	code, out, errOut := run(t, nil, "check", "--dir", dir, "-q", "--setup", filepath.Join(dir, "missing.sql"))
	if code != ExitUsage || !strings.Contains(errOut, note) {
		t.Errorf("-q with a missing setup file: exit %d, want %d with the note on stderr\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, out, errOut)
	}
}

// TestCheckBaseCountsWhatItReplays: against --base, the counts check prints add up to what it runs: the
// history counts the base's text of an edited or deleted migration, which it replays, and says so; a
// comment added to an applied golang-migrate migration is no edit, but the history replays the base's
// text of it too.
func TestCheckBaseCountsWhatItReplays(t *testing.T) {
	requirePG(t)
	appended := func(text string) func(t *testing.T, mig string) {
		return func(t *testing.T, mig string) {
			f := filepath.Join(mig, "0002_create_orders.up.sql")
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, f, append(b, text...))
		}
	}
	tests := []struct {
		name   string
		change func(t *testing.T, mig string)
		counts string
		code   int
	}{
		{"deleted", func(t *testing.T, mig string) {
			for _, f := range []string{"0003_add_order_note.up.sql", "0003_add_order_note.down.sql"} {
				if err := os.Remove(filepath.Join(mig, f)); err != nil {
					t.Fatal(err)
				}
			}
		}, "3 migrations, and 1 deleted since the base: 3 history to replay (2 unchanged, 1 deleted, as the base has it), 1 new to rehearse; the change: 1 added, 0 edited, 1 deleted", ExitBlocked},
		{"edited", appended("SELECT 'edited after the base';\n"),
			"4 migrations: 3 history to replay (2 unchanged, 1 edited, as the base has it), 1 new to rehearse; the change: 1 added, 1 edited, 0 deleted", ExitBlocked},
		{"comment added", appended("-- edited after the base\n"),
			"4 migrations: 3 history to replay (2 unchanged, 1 with an up changed outside its statements (comments, blank space), as the base has it), 1 new to rehearse; the change: 1 added, 1 edited, 0 deleted", ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mig := shopRepo(t, []string{"0001", "0002", "0003"}, []string{"0004"})
			tt.change(t, mig)
			code, out, errOut := run(t, nil, "check", "--dir", mig, "--base", "main", "--no-roundtrip")
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.code, out, errOut)
			}
			for _, want := range []string{tt.counts + "\n", "replaying 3 history migrations\n"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("progress lacks %q:\n%s", want, errOut)
				}
			}
		})
	}
}

// TestCheckRuleClassesAnyCase: --rule and --fail-on read classes (and rule ids) in any letter case, as
// schemagate.yml and lint --rule do; the class is applied, not merely accepted.
func TestCheckRuleClassesAnyCase(t *testing.T) {
	requirePG(t)
	dir := t.TempDir()
	mig := filepath.Join(dir, "m")
	if err := os.Mkdir(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	// The table is production's (the setup's), not the change's: the rules judge it as pre-existing.
	setup := writeSQL(t, dir, "setup.sql", "CREATE TABLE customers (id bigint PRIMARY KEY, phone text);\n")
	writeSQL(t, mig, "1_phone.up.sql", "ALTER TABLE customers ALTER COLUMN phone SET NOT NULL;\nCREATE INDEX customers_phone_idx ON customers (phone);\n")
	writeSQL(t, mig, "1_phone.down.sql", "DROP INDEX customers_phone_idx;\nALTER TABLE customers ALTER COLUMN phone DROP NOT NULL;\n")
	check := func(args ...string) (int, string, string) {
		return run(t, nil, append([]string{"check", "--dir", mig, "--setup", setup, "-q"}, args...)...)
	}
	code, out, errOut := check("--rule", "SET-NOT-NULL=Caution", "--rule", "create-index-blocking=OFF",
		"--rule", "Statement-After-Access-Exclusive= DANGEROUS ", "--fail-on", "Dangerous")
	if code != ExitBlocked || !strings.Contains(out, "1_phone.up.sql:1:1: caution set-not-null") ||
		!strings.Contains(out, "1_phone.up.sql:2:1: dangerous statement-after-access-exclusive") || strings.Contains(out, "create-index-blocking") ||
		!strings.Contains(out, "reaches --fail-on dangerous") {
		t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, ExitBlocked, out, errOut)
	}
	if code, out, errOut := check("--fail-on", "NEVER"); code != ExitOK || !strings.Contains(out, "dangerous create-index-blocking") {
		t.Errorf("--fail-on NEVER: exit %d\n%s\n%s", code, out, errOut)
	}
	// A bad class is still refused, in the flag's words.
	if code, _, errOut := check("--rule", "Set-Not-Null=Sometimes"); code != ExitUsage ||
		!strings.Contains(errOut, `--rule: unknown class "sometimes"`) {
		t.Errorf("bad class: exit %d\n%s", code, errOut)
	}
}

// TestCheckNeverConnectsToOtherServers: a migration that calls dblink fails on the local provider,
// whose server has no network (the report says so, exit 3), and is refused before anything runs on a
// docker container, which has (exit 2). The target, a listener, sees no connection either way.
func TestCheckNeverConnectsToOtherServers(t *testing.T) {
	requirePG(t)
	if os.Geteuid() != 0 {
		t.Skip("the local server runs without network as root, or where unprivileged user namespaces are allowed: not assumed here")
	}
	target := nettest.NewCounter(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1_link.up.sql"), []byte(fmt.Sprintf("CREATE EXTENSION dblink;\nSELECT dblink_exec('host=127.0.0.1 port=%d dbname=prod connect_timeout=5', 'DELETE FROM orders');\n", target.Port())))
	writeFile(t, filepath.Join(dir, "1_link.down.sql"), []byte("DROP EXTENSION dblink;\n"))
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := run(t, nil, "check", "--dir", dir, "--provider", "local", "-q", "--report-json", jsonPath)
	var rep struct {
		Database   struct{ Network string }
		Migrations []struct {
			Error struct {
				Line           int
				SQLState, Hint string
			}
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatalf("exit %d, no report: %v\n%s\n%s", code, err, out, errOut)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if code != ExitBlocked || rep.Database.Network != "none" || len(rep.Migrations) != 1 || rep.Migrations[0].Error.Line != 2 ||
		rep.Migrations[0].Error.SQLState != "08001" || !strings.Contains(rep.Migrations[0].Error.Hint, "runs without network") {
		t.Errorf("local: exit %d, report %s; want exit %d, network none, and 1_link.up.sql:2 failing with 08001 and the no-network hint\n%s", code, b, ExitBlocked, errOut)
	}
	if testing.Short() {
		t.Log("-short: no containers")
	} else {
		if !sandbox.DockerAvailable(t.Context()) {
			pgtest.Unavailable(t, "no Docker daemon answers (run scripts/setup-machine.sh)")
		}
		code, out, errOut = run(t, nil, "check", "--dir", dir, "--provider", "docker", "--image", "schemagate/postgres:15", "--pg-version", "15", "-q")
		if code != ExitUsage || !strings.Contains(errOut, "1_link.up.sql:2: dblink_exec() connects to the server its connection string names") {
			t.Errorf("docker: exit %d, want %d naming 1_link.up.sql:2\n%s\n%s", code, ExitUsage, out, errOut)
		}
	}
	if n := target.Stop(); n != 0 {
		t.Errorf("the target saw %d connections", n)
	}
}

// TestCheckBaseFollowsAMovedFolder: a change that moves the migration folder is compared with the
// folder its migrations were in at the base, so an edit of an applied migration is still caught; a
// folder the base has nowhere is new, and the report says so.
func TestCheckBaseFollowsAMovedFolder(t *testing.T) {
	requirePG(t)
	mig := shopRepo(t, []string{"0001", "0002", "0003"}, []string{"0004"})
	repo := filepath.Dir(filepath.Dir(mig))
	runGit(t, repo, "add", "-A")
	runGit(t, repo, "mv", "db/migrations", "database")
	moved := filepath.Join(repo, "database")
	f := filepath.Join(moved, "0002_create_orders.up.sql")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, f, append(b, "ALTER TABLE orders ADD COLUMN vip boolean;\n"...))
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := run(t, nil, "check", "--dir", moved, "--base", "main", "--no-roundtrip", "--report-json", jsonPath)
	if code != ExitBlocked {
		t.Fatalf("exit %d, want %d (an applied migration was edited)\n%s\n%s", code, ExitBlocked, out, errOut)
	}
	var rep struct {
		Notes      []string
		Migrations []struct{ Version, Status string }
	}
	data, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rep.Migrations {
		got = append(got, m.Version+":"+m.Status)
	}
	if strings.Join(got, " ") != "1:base 2:failed 3:base 4:applied" {
		t.Errorf("statuses %v, want the edited 2 failed and 1 and 3 replayed", got)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "its migrations were in db/migrations there (the change moves the folder)") {
		t.Errorf("notes do not say where the folder was:\n%s", strings.Join(rep.Notes, "\n"))
	}

	// A folder of new content the base has nowhere: every migration is new, and a note says why.
	fresh := filepath.Join(repo, "other")
	if err := os.MkdirAll(fresh, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(fresh, "0001_things.up.sql"), []byte("CREATE TABLE things (id bigint PRIMARY KEY);\n"))
	writeFile(t, filepath.Join(fresh, "0001_things.down.sql"), []byte("DROP TABLE things;\n"))
	code, out, errOut = run(t, nil, "check", "--dir", fresh, "--base", "main", "--no-roundtrip", "--report-json", jsonPath)
	data, _ = os.ReadFile(jsonPath)
	rep.Notes = nil
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if code != ExitOK || !strings.Contains(strings.Join(rep.Notes, "\n"), "is not at main, and no folder there holds its migrations unchanged: every migration is rehearsed as new") {
		t.Errorf("new folder: exit %d, notes %q\n%s", code, rep.Notes, errOut+out)
	}
}

// TestCheckVersionNotInstalled: --pg-version naming a version whose server binaries this machine lacks,
// while it has others, is bad input (exit 2), as a url server of another version is: the error names
// what is installed and how to get the version asked for. It was exit 1, the tool's own failure.
func TestCheckVersionNotInstalled(t *testing.T) {
	requirePG(t)
	have := map[int]bool{}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for _, d := range dirs {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		have[v] = true
	}
	if out, err := exec.Command("pg_config", "--version").Output(); err == nil {
		var v int
		fmt.Sscanf(string(out), "PostgreSQL %d", &v)
		have[v] = true
	}
	if len(dirs) == 0 {
		t.Skip("no PostgreSQL in /usr/lib/postgresql to name")
	}
	want := 0
	for v := 19; v >= 10 && want == 0; v-- {
		if !have[v] {
			want = v
		}
	}
	if want == 0 {
		t.Skip("every PostgreSQL major version from 10 to 19 is installed")
	}
	v := strconv.Itoa(want)
	for _, tc := range []struct {
		name       string
		args       []string
		dockerHost string
	}{
		{name: "check local", args: []string{"check", "--dir", "../../examples/shop", "--provider", "local", "--pg-version", v, "-q"}},
		// auto falls back on Docker, and errs so when no Docker engine answers either.
		{name: "check auto", args: []string{"check", "--dir", "../../examples/shop", "--pg-version", v, "-q"}, dockerHost: "unix:///nonexistent/docker.sock"},
		{name: "rollback-script", args: []string{"rollback-script", "--dir", "../../examples/shop", "--version", "0001", "--provider", "local", "--pg-version", v, "-q"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dockerHost != "" {
				t.Setenv("DOCKER_HOST", tc.dockerHost)
			}
			code, out, errOut := run(t, nil, tc.args...)
			if code != ExitUsage || !strings.Contains(errOut, fmt.Sprintf("PostgreSQL %s was asked for", v)) || !strings.Contains(errOut, "install postgresql-"+v) ||
				!strings.Contains(errOut, fmt.Sprintf("PostgreSQL %s (%s)", filepath.Base(filepath.Dir(dirs[0])), dirs[0])) {
				t.Errorf("exit %d, want %d naming what is installed\n%s\n%s", code, ExitUsage, out, errOut)
			}
		})
	}
}

// TestCheckBaseOutOfOrderAndTakenVersion: check predicts schemagate deploy. A new migration that sorts
// before one the base applied (0003 below 0004) is drift to deploy's plan, which refuses the folder:
// check fails it (exit 3), says what golang-migrate does with it and that deploy refuses it, and does
// not run it. A new migration at a version the base gives another file (two changes took 0003) is no
// edit to revert: check says the version is taken and to give it one after the base's last.
func TestCheckBaseOutOfOrderAndTakenVersion(t *testing.T) {
	requirePG(t)
	type entry struct {
		Version, Status string
		Error           *struct{ Message, Phase string }
		Findings        []struct{ Rule, Message, Suggestion string }
	}
	check := func(t *testing.T, mig string) (int, map[string]entry, string) {
		jsonPath := filepath.Join(t.TempDir(), "r.json")
		code, out, errOut := run(t, nil, "check", "--dir", mig, "--base", "main", "--report-json", jsonPath)
		var rep struct{ Migrations []entry }
		b, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatalf("exit %d, no report: %v\n%s\n%s", code, err, out, errOut)
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		byVersion := map[string]entry{}
		for _, m := range rep.Migrations {
			byVersion[m.Version] = m
		}
		return code, byVersion, out + errOut
	}
	t.Run("out of order", func(t *testing.T) {
		mig := shopRepo(t, []string{"0001", "0002", "0004"}, []string{"0003", "0005"})
		code, got, out := check(t, mig)
		m := got["3"]
		if code != ExitBlocked || m.Status != "failed" || m.Error == nil || m.Error.Phase != "order" || got["5"].Status != "applied" {
			t.Fatalf("exit %d, 3: %+v, 5: %s; want exit %d, 3 failed (not run), 5 applied\n%s", code, m, got["5"].Status, ExitBlocked, out)
		}
		if len(m.Findings) != 1 || m.Findings[0].Rule != "out-of-order-migration" || !strings.Contains(m.Findings[0].Message, "golang-migrate only moves forward, so it never applies it there") ||
			!strings.Contains(m.Findings[0].Message, "schemagate deploy refuses it") ||
			m.Findings[0].Suggestion != "rename it to sort after 0004_index_orders_by_status.up.sql, the last migration the base applied" {
			t.Errorf("3: findings %+v", m.Findings)
		}
		if !strings.Contains(out, "not run: it sorts before a migration the base applied") {
			t.Errorf("progress does not say 3 is not run:\n%s", out)
		}
	})
	t.Run("version taken", func(t *testing.T) {
		mig := shopRepo(t, []string{"0001", "0002", "0003"}, nil)
		for _, f := range []string{"0003_add_order_note.up.sql", "0003_add_order_note.down.sql"} {
			if err := os.Remove(filepath.Join(mig, f)); err != nil {
				t.Fatal(err)
			}
		}
		writeFile(t, filepath.Join(mig, "0003_add_order_flags.up.sql"), []byte("ALTER TABLE orders ADD COLUMN flags int;\n"))
		writeFile(t, filepath.Join(mig, "0003_add_order_flags.down.sql"), []byte("ALTER TABLE orders DROP COLUMN flags;\n"))
		code, got, out := check(t, mig)
		m := got["3"]
		if code != ExitBlocked || m.Status != "failed" || len(m.Findings) != 1 {
			t.Fatalf("exit %d, 3: %+v; want exit %d, 3 failed\n%s", code, m, ExitBlocked, out)
		}
		f := m.Findings[0]
		if !strings.HasPrefix(f.Message, "version 3 is taken at the base by 0003_add_order_note.up.sql: migration 3_add_order_flags is another migration with the same version") ||
			!strings.HasPrefix(f.Suggestion, "give this migration a version after the last one (the base's last is 0003_add_order_note.up.sql)") {
			t.Errorf("3: %q\nsuggestion %q", f.Message, f.Suggestion)
		}
	})
}
