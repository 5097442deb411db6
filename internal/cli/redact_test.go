package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/redact"
)

// runEnviron is run with env as the whole environment: Environ lists it, as os.Environ does, so the
// variables schemagate does not read by name are seen too.
func runEnviron(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Version: "test",
		Getenv: func(k string) string { return env[k] },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		}}
	code := app.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestActionHidesSecretsTheServerSays: a pull request's migration runs as a superuser on the rehearsal's
// server and raises what a file holds, as .git/config holds actions/checkout's token (AUTHORIZATION:
// basic base64(x-access-token:TOKEN)). Neither the action's token nor a password of its environment, as
// they are or encoded, reaches the comment, the report, the job summary or the log; each says that a
// secret was hidden, and the comment and the report stay whole (the marker, valid JSON).
func TestActionHidesSecretsTheServerSays(t *testing.T) {
	requirePG(t)
	token := githubtest.Token
	const password = "Pa55-w0rd/for+deploy" // no token's shape: only the environment tells it
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	deploy := base64.StdEncoding.EncodeToString([]byte("deploy:" + password))
	// Where the server, which may run as another user, can read it (t.TempDir's folders are the test's own).
	dir, err := os.MkdirTemp("", "schemagate-secret-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "config")
	writeFile(t, secretFile, []byte("[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic "+basic+"\n"+
		"token = "+token+"\nencoded = "+basic+" "+base64.StdEncoding.EncodeToString([]byte(token))+"\n"+
		"password = "+password+" "+url.QueryEscape(password)+" "+deploy+"\n"))
	leak := "SELECT pg_read_file('" + secretFile + "')"
	// A CI job's rehearsal refuses what reads the server's files unless the base allows it (see
	// TestActionRefusesMigrationsThatReadTheCheckoutsToken): this base does, so that what the server says
	// is all that stands between the secret and the outputs.
	root := prRepo(t, map[string]string{
		"schemagate.yml":             "rehearsal:\n  allow_server_access: true\n",
		"db/migrations/1_a.up.sql":   "CREATE TABLE a (id int);\n",
		"db/migrations/1_a.down.sql": "DROP TABLE a;\n",
	}, map[string]string{
		"db/migrations/2_leak.up.sql":   "DO $$ BEGIN RAISE EXCEPTION 'LEAK %', (" + leak + ") USING DETAIL = (" + leak + "), HINT = (" + leak + "); END $$;\n",
		"db/migrations/2_leak.down.sql": "SELECT 1;\n",
	})
	base, head := runGit(t, root, "rev-parse", "main"), runGit(t, root, "rev-parse", "pr")
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: actionRepo}, HeadSHA: head, BaseSHA: base, BaseRef: "main"}, nil)
	r := newActionRun(t, fake, root, prEvent(t, t.TempDir(), ref.Number, base, head, actionRepo))
	r.env["DEPLOY_PASSWORD"] = password
	r.env["INPUT_CONFIG"] = filepath.Join(root, "schemagate.yml")
	code, out, errOut := runEnviron(t, r.env, "action")
	if code != ExitBlocked {
		t.Fatalf("exit %d, want %d (the migration fails)\n%s\n%s", code, ExitBlocked, out, errOut)
	}

	comments := fake.Comments(ref)
	if len(comments) != 1 {
		t.Fatalf("%d comments, want 1", len(comments))
	}
	body := comments[0].Body
	reportJSON, err := os.ReadFile(r.env["INPUT_REPORT-JSON"])
	if err != nil {
		t.Fatal(err)
	}
	summary, err := os.ReadFile(r.summaries)
	if err != nil {
		t.Fatal(err)
	}
	// What of each secret's base64 encoding after "deploy:" (7 bytes, so the password starts in the 3rd
	// group of 3 bytes, at its 2nd byte) is the password's alone: from the 4th group of 4 characters to
	// the last whole group.
	deployPart := deploy[12 : (7+len(password))/3*4]
	outputs := map[string]string{"comment": body, "report": string(reportJSON), "summary": string(summary), "log": out + errOut}
	for name, text := range outputs {
		for _, secret := range []string{token, basic, base64.StdEncoding.EncodeToString([]byte(token)), password,
			url.QueryEscape(password), deployPart} {
			for _, line := range strings.Split(text, "\n") {
				if strings.Contains(line, secret) && !strings.HasPrefix(line, "::add-mask::") {
					t.Errorf("the %s shows %q: %s", name, secret, line)
				}
			}
		}
	}
	// The server did say it: hidden, not missing.
	var rep struct {
		Redacted   bool `json:"redacted"`
		Migrations []struct {
			Error *struct{ Message, Detail, Hint string } `json:"error"`
		} `json:"migrations"`
	}
	if err := json.Unmarshal(reportJSON, &rep); err != nil {
		t.Fatalf("the report is no JSON: %v\n%s", err, reportJSON)
	}
	if len(rep.Migrations) != 2 || rep.Migrations[1].Error == nil {
		t.Fatalf("no error for 2_leak in the report:\n%s", reportJSON)
	}
	e := rep.Migrations[1].Error
	for _, said := range []string{e.Message, e.Detail, e.Hint} {
		if !strings.Contains(said, "AUTHORIZATION: basic "+redact.Mask) || !strings.Contains(said, "token = "+redact.Mask) ||
			!strings.Contains(said, "password = "+redact.Mask+" "+redact.Mask) {
			t.Errorf("the server's words are not there with the secrets hidden: %q", said)
		}
	}
	if !strings.HasPrefix(e.Message, "LEAK ") || !rep.Redacted {
		t.Errorf("message %q, redacted %v", e.Message, rep.Redacted)
	}
	for name, text := range outputs {
		if name != "report" && !strings.Contains(text, "A secret was hidden") {
			t.Errorf("the %s does not say that a secret was hidden:\n%s", name, text)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(body), "<!-- schemagate:comment dir=db/migrations -->") {
		t.Errorf("the comment does not end with its marker:\n%s", body)
	}
	if !strings.Contains(out, "::add-mask::"+token+"\n") {
		t.Errorf("the token is not masked for the runner:\n%s", out)
	}
}

// TestRedactWriterHidesASecretSplitOverWrites: a line is hidden whole, however its writes cut it; the
// ::add-mask:: the action writes names its secret, for the runner to mask.
func TestRedactWriterHidesASecretSplitOverWrites(t *testing.T) {
	var b bytes.Buffer
	w := newRedactWriter(&b, redact.New("split-secret-value"), addMask)
	for _, part := range []string{"::add-mask::split-secret-value\nLEAK spl", "it-secret-va", "lue\nlast split-secret-value"} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "::add-mask::split-secret-value\nLEAK ***\nlast ***"; b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
}

// TestReportsHideASecretCutShort: a secret in a statement long enough for its excerpt to be cut
// (findings quote 200 bytes) is hidden in check's Markdown and JSON reports and in lint --json, the part
// of it left before the cut too: 28 of this password's 30 bytes were published before.
func TestReportsHideASecretCutShort(t *testing.T) {
	requirePG(t)
	const pw = "Hunter2_Sup3rS3cret_Pr0d_2024!"
	dir := t.TempDir()
	mig := filepath.Join(dir, "db")
	if err := os.Mkdir(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mig, "0001_set_reporting_password.up.sql"), []byte("DO $$ BEGIN PERFORM set_config('app.reporting_service_password_for_the_nightly_revenue_and_inventory_reconciliation_jobs_in_eu_west"+
		strings.Repeat("_", 34)+"', '"+pw+"', false); END $$;\n"))
	writeFile(t, filepath.Join(mig, "0001_set_reporting_password.down.sql"), []byte("SELECT 1;\n"))
	env := map[string]string{"APP_DB_PASSWORD": pw, "PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME")}
	md, js := filepath.Join(dir, "r.md"), filepath.Join(dir, "r.json")
	code, out, errOut := runEnviron(t, env, "check", "--dir", mig, "--report-md", md, "--report-json", js)
	if code != ExitOK {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	lcode, lout, lerr := runEnviron(t, env, "lint", "--dir", mig, "--json")
	if lcode != ExitOK {
		t.Fatalf("lint: exit %d\n%s\n%s", lcode, lout, lerr)
	}
	outputs := map[string]string{"check's log": out + errOut, "lint --json": lout + lerr}
	for _, f := range []string{md, js} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(f)] = string(b)
	}
	cut := false
	for name, text := range outputs {
		if strings.Contains(text, pw[:8]) {
			t.Errorf("the %s shows the password's beginning:\n%s", name, text)
		}
		cut = cut || strings.Contains(text, "'***...")
	}
	if !cut {
		t.Errorf("no excerpt cut within the password: the case tests nothing\n%v", outputs)
	}
}
