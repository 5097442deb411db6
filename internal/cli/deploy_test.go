package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/deploy"
	"github.com/schemagate/schemagate/internal/pgtest"
)

const windowConfig = `
environments:
  prod:
    time_zone: Europe/Berlin
    windows:
      - cron: "30 2 * * *"
        duration: 1h
    blackouts:
      - from: 2026-03-30
        to: 2026-03-30
        reason: release day
    snapshot: {kind: none}
`

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Version: "test"}
	code := app.Run(t.Context(), args)
	return code, out.String(), errb.String()
}

func TestWindowCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeSQL(t, dir, "schemagate.yml", windowConfig)
	code, out, errs := runCLI(t, nil, "window", "--env", "prod", "--config", cfg, "--count", "3", "--now", "2026-03-28T12:00:00Z")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Spring forward on the 29th: 02:30 does not exist and opens at 03:30 CEST; the 30th is blacked out.
	want := []string{"closed now", "Sun 2026-03-29 03:30 CEST", "Tue 2026-03-31 02:30 CEST", "Wed 2026-04-01 02:30 CEST"}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "2026-03-30") {
		t.Errorf("blackout day listed:\n%s", out)
	}
	if code, _, errs := runCLI(t, nil, "window", "--env", "nope", "--config", cfg); code != ExitUsage || !strings.Contains(errs, `no environment "nope"`) {
		t.Errorf("unknown environment: exit %d, %s", code, errs)
	}
	if code, _, _ := runCLI(t, nil, "window", "--config", cfg); code != ExitUsage {
		t.Errorf("missing --env: exit %d", code)
	}

	// Windows that name their own zone are shown in it, not in the environment's (UTC here).
	own := writeSQL(t, dir, "own.yml", "environments:\n  d:\n    snapshot: {kind: none}\n    windows:\n"+
		"      - {cron: \"30 2 * * *\", duration: 90m, time_zone: America/New_York}\n")
	code, out, errs = runCLI(t, nil, "window", "--env", "d", "--config", own, "--count", "1", "--now", "2026-12-01T12:00:00Z")
	if code != ExitOK || !strings.Contains(out, "Wed 2026-12-02 02:30 EST  to  Wed 2026-12-02 04:00 EST  (1h30m0s; UTC 2026-12-02 07:30)") {
		t.Errorf("window in its own zone: exit %d\n%s%s", code, out, errs)
	}

	// Windows in different zones: each is shown in its own (tester A's F10b: the New York one was shown
	// in the environment's Berlin time).
	mixed := writeSQL(t, dir, "mixed.yml", "environments:\n  d:\n    snapshot: {kind: none}\n    time_zone: Europe/Berlin\n    windows:\n"+
		"      - {cron: \"0 22 * * 1-4\", duration: 2h}\n      - {cron: \"30 2 * * *\", duration: 1h, time_zone: America/New_York}\n")
	code, out, errs = runCLI(t, nil, "window", "--env", "d", "--config", mixed, "--count", "2", "--now", "2026-12-03T06:00:00Z")
	for _, want := range []string{"Thu 2026-12-03 02:30 EST  to  Thu 2026-12-03 03:30 EST  (1h0m0s; UTC 2026-12-03 07:30)",
		"Thu 2026-12-03 22:00 CET  to  Fri 2026-12-04 00:00 CET  (2h0m0s; UTC 2026-12-03 21:00)"} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("windows in two zones: exit %d, want %q\n%s%s", code, want, out, errs)
		}
	}

	// Without windows, the period until a blackout starts now: its length in whole seconds (F10i).
	bk := writeSQL(t, dir, "blackout.yml", "environments:\n  d:\n    snapshot: {kind: none}\n    time_zone: Pacific/Pago_Pago\n    blackouts:\n"+
		"      - {from: 2026-12-03, to: 2026-12-04}\n")
	code, out, errs = runCLI(t, nil, "window", "--env", "d", "--config", bk, "--count", "1", "--now", "2026-12-03T06:25:46.869969980Z")
	if code != ExitOK || !strings.Contains(out, "Wed 2026-12-02 19:25 SST  to  Thu 2026-12-03 00:00 SST  (4h34m13s; UTC 2026-12-03 06:25)") {
		t.Errorf("period until a blackout: exit %d\n%s%s", code, out, errs)
	}

	// With min_window_left, an open window with less left says that no migration starts in it.
	short := writeSQL(t, dir, "short.yml", "environments:\n  d:\n    snapshot: {kind: none}\n    min_window_left: 20m\n    windows:\n"+
		"      - {cron: \"0 3 * * *\", duration: 1h}\n")
	for now, says := range map[string]bool{"2026-12-01T03:30:00Z": false, "2026-12-01T03:45:00Z": true} {
		code, out, errs = runCLI(t, nil, "window", "--env", "d", "--config", short, "--count", "1", "--now", now)
		if code != ExitOK || !strings.Contains(out, "open now") || strings.Contains(out, "less than min_window_left (20m0s) is left: no migration starts in it") != says {
			t.Errorf("at %s: exit %d, want it to say no migration starts: %v\n%s%s", now, code, says, out, errs)
		}
	}
}

// TestDeployBinaryKilledThenRecovered builds schemagate, kills it with SIGKILL in the middle of a
// migration, and checks that the next run recovers and leaves maintenance mode off.
func TestDeployBinaryKilledThenRecovered(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE items (id int PRIMARY KEY, name text);
		INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;
		CREATE TABLE app_settings (key text PRIMARY KEY, value text);
		INSERT INTO app_settings VALUES ('maintenance', 'off');`); err != nil {
		t.Fatal(err)
	}
	maintenance := func() string {
		var v string
		if err := conn.QueryRow(ctx, "SELECT value FROM app_settings").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	work := t.TempDir()
	bin := os.Getenv("SCHEMAGATE_TEST_BINARY") // a prebuilt binary, to save the build
	if bin == "" {
		bin = filepath.Join(work, "schemagate")
		build := exec.Command("go", "build", "-o", bin, "../../cmd/schemagate")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	migs := filepath.Join(work, "migrations")
	files := map[string]string{
		"1_price.up.sql":   "ALTER TABLE items ADD COLUMN price numeric;",
		"1_price.down.sql": "ALTER TABLE items DROP COLUMN price;",
		"2_slow.up.sql":    "SELECT pg_sleep(60);\nUPDATE items SET price = 1;",
		"2_slow.down.sql":  "UPDATE items SET price = NULL;",
	}
	if err := os.MkdirAll(migs, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, sql := range files {
		if err := os.WriteFile(filepath.Join(migs, name), []byte(sql), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(work, "schemagate.yml")
	yml := `dir: ` + migs + `
format: golang-migrate
environments:
  prod:
    snapshot:
      dir: ` + filepath.Join(work, "snapshots") + `
      jobs: 2
    maintenance:
      on: {sql: "UPDATE app_settings SET value = 'on'"}
      off: {sql: "UPDATE app_settings SET value = 'off'"}
`
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}

	cmd := exec.Command(bin, "deploy", "--env", "prod", "--config", cfg, "--run-id", "doomed")
	cmd.Env = append(os.Environ(), "SCHEMAGATE_PROD_DATABASE_URL="+url)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	reached := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "applying 2/2") {
			reached = true
			break
		}
	}
	if !reached {
		_ = cmd.Process.Kill()
		t.Fatal("the deploy never reached the slow migration")
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if maintenance() != "on" {
		t.Fatal("the killed deploy did not leave maintenance mode on; the test proves nothing")
	}

	// Without --recover: blocked (exit 3), and maintenance mode stays on: turning it off would let
	// writes in and make the dead run's snapshot, which --recover may need, unsafe to restore.
	code, _, errs := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--run-id", "second")
	if code != ExitBlocked || !strings.Contains(errs, "doomed") || !strings.Contains(errs, "--recover") {
		t.Fatalf("deploy over a dead run: exit %d\n%s", code, errs)
	}
	if maintenance() != "on" || !strings.Contains(errs, "maintenance mode stays on until then") {
		t.Errorf("maintenance mode %s after the blocked run, want on and said so:\n%s", maintenance(), errs)
	}

	// With --recover and the slow migration fixed: recovered and deployed.
	if err := os.WriteFile(filepath.Join(migs, "2_slow.up.sql"), []byte("UPDATE items SET price = 1;"), 0o600); err != nil {
		t.Fatal(err)
	}
	reportPath := filepath.Join(work, "report.json")
	code, out, errs := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--run-id", "third", "--recover", "--report-json", reportPath,
		"--report-md", filepath.Join(work, "report.md"))
	if code != ExitOK {
		t.Fatalf("recover: exit %d\n%s\n%s", code, out, errs)
	}
	var res deploy.Result
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != deploy.OutcomeDeployed || res.Recovered == nil || res.Recovered.RunID != "doomed" {
		t.Errorf("report: outcome %s, recovered %+v", res.Outcome, res.Recovered)
	}
	if res.Snapshot == nil || !strings.HasPrefix(res.Snapshot.Location, filepath.Join(work, "snapshots", "prod")) {
		t.Errorf("snapshot %+v", res.Snapshot)
	}
	if maintenance() != "off" {
		t.Error("maintenance mode left on")
	}
	var priced int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM items WHERE price = 1").Scan(&priced); err != nil || priced != 1000 {
		t.Errorf("priced items %d, %v", priced, err)
	}
	if !strings.Contains(out, "deployed 2 migrations to prod") {
		t.Errorf("text report:\n%s", out)
	}

	// Dry run: nothing pending.
	if code, out, _ := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--dry-run"); code != ExitOK || !strings.Contains(out, "dry run: 0 migrations pending") {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--break-window"); code != ExitUsage || !strings.Contains(errs, "--reason") {
		t.Errorf("--break-window without --reason: exit %d %s", code, errs)
	}
}

// deployWork is a deploy test's database and folders: the URL of a database of its own, a connection
// to it (closed with the test), a work folder, and the migration folder in it.
func deployWork(t *testing.T) (url string, conn *pgx.Conn, work, migs string) {
	t.Helper()
	url = pgtest.URL(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	work = t.TempDir()
	migs = filepath.Join(work, "migrations")
	if err := os.MkdirAll(migs, 0o700); err != nil {
		t.Fatal(err)
	}
	return url, conn, work, migs
}

// TestDeployRollsBackWithAGeneratedDown: migration 1 has no down and no snapshot is configured. With
// generated_downs the deploy proves a generated down before it starts, and when migration 2 fails it
// undoes migration 1 with it; without, the failed deploy cannot be undone and needs a person.
func TestDeployRollsBackWithAGeneratedDown(t *testing.T) {
	for _, generated := range []bool{true, false} {
		t.Run(map[bool]string{true: "generated", false: "none"}[generated], func(t *testing.T) {
			url, conn, work, migs := deployWork(t)
			ctx := t.Context()
			cfg := filepath.Join(work, "schemagate.yml")
			yml := "dir: " + migs + "\nformat: golang-migrate\nenvironments:\n  prod:\n    snapshot: {kind: none}\n"
			if generated {
				yml += "    generated_downs: true\n"
			}
			writeFile(t, cfg, []byte(yml))
			env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}

			// A first deploy creates the table, which then holds data.
			writeFile(t, filepath.Join(migs, "0_items.up.sql"), []byte("CREATE TABLE items (id int PRIMARY KEY, name text);"))
			writeFile(t, filepath.Join(migs, "0_items.down.sql"), []byte("DROP TABLE items;"))
			if code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg); code != ExitOK {
				t.Fatalf("first deploy: exit %d\n%s\n%s", code, out, errOut)
			}
			if _, err := conn.Exec(ctx, `INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g`); err != nil {
				t.Fatal(err)
			}
			for name, sql := range map[string]string{
				"1_price.up.sql": "ALTER TABLE items ADD COLUMN price numeric;\nCREATE INDEX items_price_idx ON items (price);",
				"2_bad.up.sql":   "UPDATE items SET no_such_column = 1;",
				"2_bad.down.sql": "SELECT 1;",
			} {
				writeFile(t, filepath.Join(migs, name), []byte(sql))
			}

			code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--report-json", filepath.Join(work, "r.json"))
			var hasPrice bool
			if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
				WHERE table_name = 'items' AND column_name = 'price')`).Scan(&hasPrice); err != nil {
				t.Fatal(err)
			}
			if generated {
				if code != ExitBlocked {
					t.Fatalf("exit %d, want %d (rolled back)\n%s\n%s", code, ExitBlocked, out, errOut)
				}
				if hasPrice {
					t.Error("items.price is still there: migration 1 was not rolled back")
				}
				var n int
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil || n != 100 {
					t.Errorf("items holds %d rows after the rollback (%v), want 100", n, err)
				}
				if !strings.Contains(errOut, "generating downs on a throwaway PostgreSQL (pending migrations without one: 1)") {
					t.Errorf("no progress line for the generation:\n%s", errOut)
				}
				if !strings.Contains(out+errOut, "generated down") {
					t.Errorf("the report does not say the rollback used a generated down:\n%s", out)
				}
				return
			}
			if code != ExitFailure {
				t.Fatalf("exit %d, want %d (rollback impossible without a down or a snapshot)\n%s\n%s", code, ExitFailure, out, errOut)
			}
		})
	}
}

// TestDeployGeneratedDownOfALossyTypeChange: a generated down cannot undo a type change that converted
// values (text to integer USING length(code)), so the deploy keeps the snapshot as that migration's
// rollback, and the values come back as they were.
func TestDeployGeneratedDownOfALossyTypeChange(t *testing.T) {
	url, conn, work, migs := deployWork(t)
	ctx := t.Context()
	cfg := filepath.Join(work, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: "+migs+"\nformat: golang-migrate\nenvironments:\n  prod:\n    generated_downs: true\n"+
		"    snapshot: {kind: pg_dump, dir: "+filepath.Join(work, "snaps")+"}\n"))
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}
	writeFile(t, filepath.Join(migs, "1_items.up.sql"), []byte("CREATE TABLE items (id int PRIMARY KEY, code text);\nINSERT INTO items VALUES (1, 'abc'), (2, 'hello');"))
	writeFile(t, filepath.Join(migs, "1_items.down.sql"), []byte("DROP TABLE items;"))
	if code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg); code != ExitOK {
		t.Fatalf("first deploy: exit %d\n%s\n%s", code, out, errOut)
	}
	writeFile(t, filepath.Join(migs, "2_code_len.up.sql"), []byte("ALTER TABLE items ALTER COLUMN code TYPE integer USING length(code);"))
	writeFile(t, filepath.Join(migs, "3_bad.up.sql"), []byte("SELECT 1/0;"))
	writeFile(t, filepath.Join(migs, "3_bad.down.sql"), []byte("SELECT 1;"))
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg)
	if code != ExitBlocked {
		t.Fatalf("exit %d, want %d (rolled back)\n%s\n%s", code, ExitBlocked, out, errOut)
	}
	if !strings.Contains(errOut, "the generated down of 2_code_len would lose data: the snapshot stays its rollback") {
		t.Errorf("the lossy generated down was not set aside:\n%s", errOut)
	}
	var codes string
	if err := conn.QueryRow(ctx, "SELECT string_agg(code::text, ',' ORDER BY id) FROM items").Scan(&codes); err != nil || codes != "abc,hello" {
		t.Errorf("items.code holds %q after the rollback (%v), want abc,hello\n%s", codes, err, out)
	}
}

// TestDeploySnapshotDirIsTheConfigFilesToo: snapshot.dir is relative to the folder of schemagate.yml, as
// dir is, wherever deploy runs (--config app/schemagate.yml from the repository's top).
func TestDeploySnapshotDirIsTheConfigFilesToo(t *testing.T) {
	url := pgtest.URL(t)
	app := filepath.Join(t.TempDir(), "app")
	if err := os.MkdirAll(filepath.Join(app, "migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(app, "migrations", "1_items.up.sql"), []byte("CREATE TABLE items (id int PRIMARY KEY);"))
	writeFile(t, filepath.Join(app, "migrations", "1_items.down.sql"), []byte("DROP TABLE items;"))
	cfg := filepath.Join(app, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: migrations\nformat: golang-migrate\nenvironments:\n  prod:\n    snapshot:\n      dir: backups\n"))
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}
	if code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg); code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Cleanup(func() { os.RemoveAll("backups") }) // where the snapshot went before: the working directory
	if _, err := os.Stat("backups"); err == nil {
		t.Error("the snapshot went to ./backups, not to the config file's folder")
	}
	manifests, _ := filepath.Glob(filepath.Join(app, "backups", "*", "*", "manifest.json"))
	if more, _ := filepath.Glob(filepath.Join(app, "backups", "*", "manifest.json")); len(more) > 0 {
		manifests = append(manifests, more...)
	}
	if len(manifests) == 0 {
		t.Errorf("no snapshot manifest under %s", filepath.Join(app, "backups"))
	}
}

// TestDeployMaintenanceLeftOnFails: a deploy whose migrations went through but whose maintenance mode
// could not be turned off exits 1, not 0: the application may still be down, and the job must say so.
func TestDeployMaintenanceLeftOnFails(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE app_settings (key text PRIMARY KEY, value text);
		INSERT INTO app_settings VALUES ('maintenance', 'off');`); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	migs := filepath.Join(work, "migrations")
	if err := os.MkdirAll(migs, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(migs, "1_items.up.sql"), []byte("CREATE TABLE items (id bigint PRIMARY KEY);"))
	writeFile(t, filepath.Join(migs, "1_items.down.sql"), []byte("DROP TABLE items;"))
	cfg := filepath.Join(work, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: "+migs+"\nformat: golang-migrate\nenvironments:\n  prod:\n    snapshot: {kind: none}\n"+
		"    maintenance:\n      on: {sql: \"UPDATE app_settings SET value = 'on'\"}\n      off: {sql: \"UPDATE app_setings SET value = 'off'\"}\n"))
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg)
	if code != ExitFailure || !strings.Contains(errOut, "deployed, but maintenance mode was not turned off") || !strings.Contains(errOut, "app_setings") {
		t.Fatalf("exit %d, want %d naming the failed off step\nstdout:\n%s\nstderr:\n%s", code, ExitFailure, out, errOut)
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('items') IS NOT NULL").Scan(&exists); err != nil || !exists {
		t.Errorf("the migration was not applied (%v): the deploy itself went through", err)
	}
}

// TestDeployGeneratedDownsNameTheFolder: the generated downs' rehearsal names a migration's file in the
// folder the deploy reads, --dir here (it was given the file's dir, none here, and named the file alone):
// a migration it cannot run is named at its place.
func TestDeployGeneratedDownsNameTheFolder(t *testing.T) {
	url := pgtest.URL(t)
	work := t.TempDir()
	migs := filepath.Join(work, "db", "migrations")
	if err := os.MkdirAll(migs, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(work, "schemagate.yml")
	writeFile(t, cfg, []byte("format: golang-migrate\nenvironments:\n  prod:\n    generated_downs: true\n    snapshot: {kind: none}\n"))
	writeFile(t, filepath.Join(migs, "1_grant.up.sql"), []byte("GRANT SELECT ON pg_class TO schemagate_no_such_role;"))
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": url, "USER": "ci"}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--dir", migs)
	want := "no down generated for 1_grant: the rehearsal failed at it (" + filepath.ToSlash(migs) + "/1_grant.up.sql:1:1: "
	if !strings.Contains(errOut, want) {
		t.Errorf("exit %d; stderr lacks %q\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
	}
}
