package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/report"
)

// deployFolder writes a golang-migrate folder and a schemagate.yml with environment prod (extra is
// added under it) and returns the config file.
func deployFolder(t *testing.T, files map[string]string, extra string) string {
	t.Helper()
	work := t.TempDir()
	migs := filepath.Join(work, "migrations")
	if err := os.MkdirAll(migs, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, sql := range files {
		writeFile(t, filepath.Join(migs, name), []byte(sql))
	}
	cfg := filepath.Join(work, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: "+migs+"\nformat: golang-migrate\nenvironments:\n  prod:\n    snapshot: {kind: none}\n"+extra))
	return cfg
}

// TestDeployEscapesServerMessages: what the server says in a failing migration (RAISE EXCEPTION with
// line breaks, a hint) reaches no line of its own on stdout or stderr (progress, summary, the error
// line, debug logs), where GitHub Actions would run it as a workflow command, and mentions nobody in
// the Markdown report.
func TestDeployEscapesServerMessages(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	cfg := deployFolder(t, map[string]string{
		"1_a.up.sql": `DO $$ BEGIN RAISE EXCEPTION E'x\n::error file=app.go,line=1::forged annotation\n::add-mask::x | col | @team/dba'` +
			` USING HINT = E'hint @admin\n::stop-commands::tok\n` + "```" + `'; END $$;`,
		"1_a.down.sql": "SELECT 1;",
	}, "")
	md := filepath.Join(filepath.Dir(cfg), "r.md")
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci", "SCHEMAGATE_DEBUG": "1"}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--report-md", md)
	if code != ExitBlocked {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitBlocked, out, errOut)
	}
	if !strings.Contains(out, "forged annotation\n    | ::add-mask::x") { // the message's next line, after "| "
		t.Errorf("stdout does not quote the message escaped:\n%s", out)
	}
	for name, s := range map[string]string{"stdout": out, "stderr": errOut} {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(strings.TrimLeftFunc(l, unicode.IsSpace), "::") {
				t.Errorf("%s line is a workflow command: %q\n%s", name, l, s)
			}
		}
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, mention := range []string{"@team", "@admin"} {
		if strings.Contains(string(b), mention) {
			t.Errorf("Markdown report mentions %s:\n%s", mention, b)
		}
	}
}

// TestDeployRedactsWebhookSecrets: the password and the token of a maintenance webhook's URL appear in
// no output and no report.
func TestDeployRedactsWebhookSecrets(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down for repairs", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	hook := strings.Replace(srv.URL, "http://", "http://hookuser:hookPASS@", 1) + "/maint?token=QUERYSECRET"
	cfg := deployFolder(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;"},
		"    maintenance:\n      on: {webhook: {url: \""+hook+"\"}}\n      off: {webhook: {url: \""+hook+"\"}}\n")
	dir := filepath.Dir(cfg)
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg,
		"--report-json", filepath.Join(dir, "r.json"), "--report-md", filepath.Join(dir, "r.md"))
	if code == ExitOK {
		t.Fatalf("exit 0 with a failing webhook\n%s\n%s", out, errOut)
	}
	js, _ := os.ReadFile(filepath.Join(dir, "r.json"))
	md, _ := os.ReadFile(filepath.Join(dir, "r.md"))
	if !strings.Contains(out, "hookuser:***@") {
		t.Errorf("stdout does not name the webhook:\n%s", out)
	}
	for name, s := range map[string]string{"stdout": out, "stderr": errOut, "json": string(js), "markdown": string(md)} {
		for _, secret := range []string{"hookPASS", "QUERYSECRET"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %s:\n%s", name, secret, s)
			}
		}
	}
}

// TestWindowNeedsNoSnapshotSettings: listing windows reads the windows alone; a deploy still asks for
// snapshot.dir, at its line.
func TestWindowNeedsNoSnapshotSettings(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "schemagate.yml")
	writeFile(t, cfg, []byte("environments:\n  prod:\n    time_zone: Europe/Berlin\n    windows:\n      - {cron: \"30 2 * * *\", duration: 1h}\n"))
	code, out, errOut := runCLI(t, nil, "window", "--env", "prod", "--config", cfg, "--count", "1", "--now", "2026-03-28T12:00:00Z")
	if code != ExitOK || !strings.Contains(out, "2026-03-29") {
		t.Errorf("window: exit %d\n%s%s", code, out, errOut)
	}
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": "postgres://u@127.0.0.1:1/db"}
	code, _, errOut = runCLI(t, env, "deploy", "--env", "prod", "--config", cfg)
	if code != ExitUsage || !strings.Contains(errOut, cfg+":2:3: environments.prod.snapshot.dir: missing") {
		t.Errorf("deploy without snapshot.dir: exit %d, want %d naming it at its line and column:\n%s", code, ExitUsage, errOut)
	}
}

// TestDeployUnwritableReportFailsFirst: a report path that cannot be written stops the deploy before
// it changes anything (exit 2), as check does, instead of a warning after the migrations went through.
func TestDeployUnwritableReportFailsFirst(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	cfg := deployFolder(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;"}, "")
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}
	for _, flag := range []string{"--report-json", "--report-md"} {
		bad := filepath.Join(filepath.Dir(cfg), "missing", "r")
		code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, flag, bad)
		if code != ExitUsage || !strings.Contains(errOut, flag+" "+bad+": folder") {
			t.Errorf("%s %s: exit %d, want %d\n%s%s", flag, bad, code, ExitUsage, out, errOut)
		}
	}
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var applied bool
	if err := c.QueryRow(t.Context(), "SELECT to_regclass('a') IS NOT NULL").Scan(&applied); err != nil || applied {
		t.Errorf("the migration ran (%v) although the report could not be written", err)
	}
	// A writable path gets the report.
	good := filepath.Join(filepath.Dir(cfg), "r.json")
	if code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--report-json", good); code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s%s", code, out, errOut)
	}
	if b, err := os.ReadFile(good); err != nil || !strings.Contains(string(b), `"outcome": "deployed"`) {
		t.Errorf("report: %v\n%s", err, b)
	}
}

// TestDeployReasonNeedsBreakWindow: --reason without --break-window was silently ignored: outside the
// window the deploy was blocked (exit 3) with no word that --reason alone does nothing (tester A's
// F10c). It is now a usage error, as --undone without --recover is.
func TestDeployReasonNeedsBreakWindow(t *testing.T) {
	t.Parallel()
	cfg := deployFolder(t, map[string]string{"1_a.up.sql": "SELECT 1;"}, "")
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
	code, _, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--reason", "hotfix")
	if code != ExitUsage || !strings.Contains(errOut, "--reason goes with --break-window") {
		t.Errorf("exit %d, want %d naming --break-window:\n%s", code, ExitUsage, errOut)
	}
}

// TestDeployApprovalAPIFailureIsNotAMissingApproval: with require_approval, an API that answers with
// something that is not its JSON (a proxy's error page) or with an error status was reported as
// "approval does not cover these migrations ... a DBA must approve exactly these migrations" (tester
// A's F10f). The deploy now says that the API failed, with what it answered, and is blocked with
// nothing changed (exit 3).
func TestDeployApprovalAPIFailureIsNotAMissingApproval(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	for _, tc := range []struct {
		name   string
		status int
		want   string
	}{
		{name: "not JSON", status: http.StatusOK, want: "the answer is not the API's JSON"},
		{name: "server error", status: http.StatusBadGateway, want: "502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte("error: upstream unavailable"))
			}))
			defer srv.Close()
			cfg := deployFolder(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;"}, "    require_approval: true\n    retries: 0\n")
			env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "GITHUB_TOKEN": "tok"}
			code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--repo", "acme/shop", "--pr", "9", "--api-url", srv.URL+"/")
			if code != ExitBlocked {
				t.Fatalf("exit %d, want %d\n%s%s", code, ExitBlocked, out, errOut)
			}
			for _, want := range []string{"the code host's API failed", tc.want, "this is not a missing approval"} {
				if !strings.Contains(out, want) {
					t.Errorf("report does not say %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "a DBA must approve") || strings.Contains(out, "does not cover these migrations") {
				t.Errorf("an API failure reported as a missing approval:\n%s", out)
			}
		})
	}
}

// TestDeployReportNamesTheFailedMigrationsFolder: deploy's reports (text, JSON, Markdown) and its
// reason named a failed statement by its file in the migration folder alone ("2_b.up.sql:2:1"), where
// check's report names it from the folder as given ("migrations/2_b.up.sql:2:1"), a file:line an editor
// or a person can open. They now name it as check does: the up's statement that failed, the down's
// that failed in the rollback, and the migrations' files.
func TestDeployReportNamesTheFailedMigrationsFolder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		files   map[string]string
		outcome string
		where   string // the failed statement, from the folder
		down    string // the down's failed statement, from the folder, if any
	}{
		{name: "the up", files: map[string]string{
			"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
			"2_b.up.sql": "CREATE TABLE b (id int);\nSELECT 1/0;", "2_b.down.sql": "DROP TABLE b;",
		}, outcome: "rolled-back", where: "2_b.up.sql:2:1"},
		{name: "the down", files: map[string]string{
			"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "SELECT 1;\n  SELECT 1/0;",
			"2_b.up.sql": "SELECT 1/0;", "2_b.down.sql": "SELECT 1;",
		}, outcome: "failed", where: "2_b.up.sql:1:1", down: "1_a.down.sql:2:3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := deployFolder(t, tc.files, "")
			work := filepath.Dir(cfg)
			migs := filepath.ToSlash(filepath.Join(work, "migrations"))
			js, md := filepath.Join(work, "r.json"), filepath.Join(work, "r.md")
			env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": pgtest.URL(t), "USER": "ci"}
			code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--report-json", js, "--report-md", md)
			if code == 0 {
				t.Fatalf("exit 0\nstdout:\n%s\nstderr:\n%s", out, errOut)
			}
			b, err := os.ReadFile(js)
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Outcome    string `json:"outcome"`
				Reason     string `json:"reason"`
				Migrations []struct {
					File          string `json:"file"`
					Error         *struct{ File string }
					RollbackError *struct{ File string } `json:"rollback_error"`
				} `json:"migrations"`
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Outcome != tc.outcome || len(rep.Migrations) != 2 {
				t.Fatalf("outcome %s with %d migrations, want %s with 2:\n%s", rep.Outcome, len(rep.Migrations), tc.outcome, b)
			}
			where := migs + "/" + tc.where
			file, _, _ := strings.Cut(where, ":")
			if m := rep.Migrations[1]; m.File != migs+"/2_b.up.sql" || m.Error == nil || m.Error.File != file {
				t.Errorf("JSON report: the failed migration's file %q, its error's %+v, want %s", m.File, m.Error, file)
			}
			if !strings.Contains(rep.Reason, where+":") {
				t.Errorf("JSON report's reason %q does not name %s", rep.Reason, where)
			}
			if !strings.Contains(out, "      "+where+": division by zero") {
				t.Errorf("text report does not name %s:\n%s", where, out)
			}
			mdText, err := os.ReadFile(md)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(mdText), "`"+where+"`") {
				t.Errorf("Markdown report does not name %s:\n%s", where, mdText)
			}
			if tc.down == "" {
				return
			}
			down := migs + "/" + tc.down
			file, _, _ = strings.Cut(down, ":")
			if m := rep.Migrations[0]; m.RollbackError == nil || m.RollbackError.File != file {
				t.Errorf("JSON report: the down's error %+v, want the file %s", m.RollbackError, file)
			}
			if !strings.Contains(out, "      down "+down+": division by zero") {
				t.Errorf("text report does not name %s:\n%s", down, out)
			}
			if !strings.Contains(string(mdText), "`"+strings.TrimSuffix(down, ":3")+"`") {
				t.Errorf("Markdown report does not name %s:\n%s", down, mdText)
			}
		})
	}
}

// TestDeployReportMDStaysWithin1MiB: deploy --report-md wrote its Markdown whole, past 1 MiB, where
// check's --report-md stays within it and says what it left out, naming the JSON report (see
// deploy.Result.FileMarkdown). A dry run of 1,600 pending migrations whose names are 240 backticks
// renders 1.2 MB: each name is a code span fenced by 241 backticks.
func TestDeployReportMDStaysWithin1MiB(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("`", 240)
	files := map[string]string{}
	for i := range 1600 {
		files[fmt.Sprintf("%d_%s.up.sql", i+1, long)] = "SELECT 1;"
	}
	cfg := deployFolder(t, files, "")
	work := filepath.Dir(cfg)
	js, md := filepath.Join(work, "r.json"), filepath.Join(work, "r.md")
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": pgtest.URL(t), "USER": "ci"}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--dry-run", "--report-json", js, "--report-md", md)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%.2000s\nstderr:\n%.2000s", code, out, errOut)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > report.MaxSummaryBytes {
		t.Errorf("--report-md wrote %d bytes, over 1 MiB (%d)", len(b), report.MaxSummaryBytes)
	}
	for _, want := range []string{
		"> This report is shortened to stay within 1 MiB; left out: the rows of the migrations past the first ",
		"> The full report is the JSON report `" + js + "`.",
		"| " + long + "` 1_" + long + " `" + long + " | pending |",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("--report-md lacks %q; it ends:\n%s", want, b[max(0, len(b)-1000):])
		}
	}
	if j, err := os.ReadFile(js); err != nil || !strings.Contains(string(j), `"name": "`+long+`"`) || strings.Count(string(j), `"status": "pending"`) != 1600 {
		t.Errorf("the JSON report does not hold the 1,600 migrations (%v)", err)
	}
}

// TestDeployJobURL: the deploy's report and history link the run as the gate does: a trailing slash
// of GITHUB_SERVER_URL is no part of the link, and without a GitHub run the GitLab job's page is used.
func TestDeployJobURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"github.com", map[string]string{"GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7"}, "https://github.com/o/r/actions/runs/7"},
		{"enterprise server with a trailing slash", map[string]string{"GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7"},
			"https://ghe.example.com/o/r/actions/runs/7"},
		{"gitlab", map[string]string{"CI_JOB_URL": "https://gitlab.example.com/g/p/-/jobs/9"}, "https://gitlab.example.com/g/p/-/jobs/9"},
		{"no run", map[string]string{"GITHUB_REPOSITORY": "o/r"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := &App{Getenv: func(k string) string { return tc.env[k] }}
			if got := app.ciJobURL(); got != tc.want {
				t.Errorf("ciJobURL() = %q, want %q", got, tc.want)
			}
		})
	}
}
