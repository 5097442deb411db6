package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// serverMajor is the major version of the PostgreSQL server at url.
func serverMajor(t *testing.T, url string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var num int
	if err := conn.QueryRow(t.Context(), "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		t.Fatal(err)
	}
	return num / 10000
}

// upgradeRepo makes a repository whose base (branch main) has baseYML as schemagate.yml and one
// migration, and whose head (branch pr, checked out) adds a second one and replaces schemagate.yml
// with headYML: a pull request that upgrades the server. It returns the root.
func upgradeRepo(t *testing.T, baseYML, headYML, upSQL, downSQL string) string {
	t.Helper()
	return prRepo(t, map[string]string{
		"schemagate.yml":     baseYML,
		"db/0001_a.up.sql":   "CREATE TABLE items (id bigint PRIMARY KEY, price numeric NOT NULL, total numeric GENERATED ALWAYS AS (price * 2) STORED);\n",
		"db/0001_a.down.sql": "DROP TABLE items;\n",
	}, map[string]string{
		"schemagate.yml":   headYML,
		"db/0002_b.up.sql": upSQL, "db/0002_b.down.sql": downSQL,
	})
}

// reportOf reads the parts of a JSON report that say which server ran and what the notes said.
func reportOf(t *testing.T, path string) (server string, notes string) {
	t.Helper()
	var rep struct {
		Database struct {
			ServerVersion string `json:"server_version"`
		}
		Notes []string
	}
	if err := json.Unmarshal(readFile(t, path), &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Database.ServerVersion, strings.Join(rep.Notes, "\n")
}

// TestCheckPGVersionFlagOverTheBase: --pg-version decides over the base's pg_version as over the
// change's, and no note claims that the base's applied: the run, the rules and the note said 17, 17
// and "pg_version to 17: ignored, 15 (from schemagate.yml at main) applies".
func TestCheckPGVersionFlagOverTheBase(t *testing.T) {
	requirePG(t)
	server := pgtest.Server(t).AdminURL
	have := serverMajor(t, server)
	root := upgradeRepo(t, fmt.Sprintf("dir: db\ndatabase:\n  pg_version: %d\n", have-1), fmt.Sprintf("dir: db\ndatabase:\n  pg_version: %d\n", have),
		"CREATE TABLE other (id bigint PRIMARY KEY);\n", "DROP TABLE other;\n")
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := run(t, nil, "check", "--config", filepath.Join(root, "schemagate.yml"), "--base", "main",
		"--provider", "url", "--database-url", server, "--pg-version", strconv.Itoa(have), "--report-json", jsonPath, "-q")
	if code != ExitOK {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitOK, out, errOut)
	}
	if _, notes := reportOf(t, jsonPath); strings.Contains(notes, "pg_version") || strings.Contains(errOut, "pg_version") {
		t.Errorf("--pg-version %d decides, yet a note speaks of pg_version:\n%s\n%s", have, notes, errOut)
	}
}

// upgradeYML is a schemagate.yml that rehearses on the local image of PostgreSQL major in Docker.
func upgradeYML(major int) string {
	return fmt.Sprintf("dir: db\ndatabase:\n  provider: docker\n  pg_version: %d\n  image: schemagate/postgres:%d\n", major, major)
}

// requireDocker fails under CI=true, and skips elsewhere, when no Docker daemon answers.
func requireDocker(t *testing.T) {
	t.Helper()
	if !sandbox.DockerAvailable(t.Context()) {
		pgtest.Unavailable(t, "no Docker daemon answers (run scripts/setup-machine.sh)")
	}
}

// TestCheckUpgradeRehearsesOnTheBaseServer: a pull request that upgrades the server (pg_version 15 to
// 17, image schemagate/postgres:15 to :17) is rehearsed on the base's server, version and image alike,
// until it is merged; --pg-version decides the version over both files and takes the change's image
// with it. Before, the version was the base's and the image the change's: a run certain to fail on a
// server of another version (exit 2).
func TestCheckUpgradeRehearsesOnTheBaseServer(t *testing.T) {
	requireDocker(t)
	// SET EXPRESSION is PostgreSQL 17's: on 15 the migration fails.
	root := upgradeRepo(t, upgradeYML(15), upgradeYML(17),
		"ALTER TABLE items ALTER COLUMN total SET EXPRESSION AS (price * 3);\n", "ALTER TABLE items ALTER COLUMN total SET EXPRESSION AS (price * 2);\n")
	cfg := filepath.Join(root, "schemagate.yml")

	jsonPath := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := run(t, nil, "check", "--config", cfg, "--base", "main", "--report-json", jsonPath, "-q")
	if code != ExitBlocked {
		t.Fatalf("no flags: exit %d, want %d (the migration fails on the base's PostgreSQL 15)\n%s\n%s", code, ExitBlocked, out, errOut)
	}
	server, notes := reportOf(t, jsonPath)
	if !strings.HasPrefix(server, "15.") {
		t.Errorf("no flags: the server ran %s, want the base's 15", server)
	}
	for _, want := range []string{
		"database.pg_version to 17: ignored, 15 (from schemagate.yml at main)",
		"database.image to schemagate/postgres:17: ignored, schemagate/postgres:15 (from schemagate.yml at main, with its pg_version)",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("no flags: the notes lack %q:\n%s", want, notes)
		}
	}

	code, out, errOut = run(t, nil, "check", "--config", cfg, "--base", "main", "--pg-version", "17", "--report-json", jsonPath, "-q")
	if code != ExitOK {
		t.Fatalf("--pg-version 17: exit %d, want %d\n%s\n%s", code, ExitOK, out, errOut)
	}
	server, notes = reportOf(t, jsonPath)
	if !strings.HasPrefix(server, "17.") || strings.Contains(notes, "pg_version") || strings.Contains(notes, "database.image") {
		t.Errorf("--pg-version 17: the server ran %s, want 17 with no note on the version or the image:\n%s", server, notes)
	}
}

// TestCheckVersionAskedForSaysWhere: the error of a server of another version, or of a version this
// machine lacks, names where the version asked for came from (the base's schemagate.yml, the working
// tree's at its line, the flag) and gives advice the provider can take. It said "(--pg-version, or
// pg_version in schemagate.yml)" whatever the source, the base's file unnamed, and told the url
// provider to pass --image.
func TestCheckVersionAskedForSaysWhere(t *testing.T) {
	requirePG(t)
	server := pgtest.Server(t).AdminURL
	have := serverMajor(t, server)
	other := have + 1
	if other > 18 {
		other = have - 2
	}
	yml := func(v int) string { return fmt.Sprintf("dir: db\ndatabase:\n  pg_version: %d\n", v) }
	table := func(name string) string { return "CREATE TABLE " + name + " (id bigint PRIMARY KEY);\n" }
	for _, tc := range []struct {
		name, base, head string
		args             []string
		want             []string
	}{
		{name: "the base's, url", base: yml(other), head: yml(other + 1), args: []string{"--base", "main", "--provider", "url", "--database-url", server},
			want: []string{fmt.Sprintf("PostgreSQL %d was asked for (database.pg_version of the base, from schemagate.yml at main: this change's %d applies once it is merged)", other, other+1),
				fmt.Sprintf("url provider's server runs %d", have),
				fmt.Sprintf("point --database-url at a server of PostgreSQL %d, or pass --pg-version %d", other, have)}},
		{name: "the working tree's, url", base: yml(other), head: yml(other), args: []string{"--provider", "url", "--database-url", server},
			want: []string{fmt.Sprintf("PostgreSQL %d was asked for (database.pg_version at ", other), "schemagate.yml:3:15)"}},
		{name: "the flag, url", base: yml(have), head: yml(have), args: []string{"--base", "main", "--provider", "url", "--database-url", server, "--pg-version", strconv.Itoa(other)},
			want: []string{fmt.Sprintf("PostgreSQL %d was asked for (--pg-version)", other)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := upgradeRepo(t, tc.base, tc.head, table("other"), "DROP TABLE other;\n")
			code, out, errOut := run(t, nil, append([]string{"check", "--config", filepath.Join(root, "schemagate.yml"), "-q"}, tc.args...)...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("the error lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "--image") {
				t.Errorf("the url provider's error speaks of --image:\n%s", errOut)
			}
		})
	}

	// The local provider, for a version this machine lacks that the base's file asks for.
	installed := map[int]bool{}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for _, d := range dirs {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		installed[v] = true
	}
	lacked := 0
	for v := 18; v >= 10 && lacked == 0; v-- {
		if !installed[v] {
			lacked = v
		}
	}
	if len(dirs) > 0 && lacked != 0 {
		root := upgradeRepo(t, yml(lacked), yml(lacked+1), table("other"), "DROP TABLE other;\n")
		code, out, errOut := run(t, nil, "check", "--config", filepath.Join(root, "schemagate.yml"), "-q", "--base", "main", "--provider", "local")
		want := fmt.Sprintf("PostgreSQL %d was asked for (database.pg_version of the base, from schemagate.yml at main: this change's %d applies once it is merged)", lacked, lacked+1)
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("local: exit %d, want %d and %q\n%s\n%s", code, ExitUsage, want, out, errOut)
		}
	}
}

// TestCheckUpgradeWithAnImageSaysWhere: an --image of the newer server with the base's version held is
// a server of another version: the error names the base's file as where the version came from, the
// image and its flag, and advises an image or a version, as fits the docker provider.
func TestCheckUpgradeWithAnImageSaysWhere(t *testing.T) {
	requireDocker(t)
	root := upgradeRepo(t, upgradeYML(15), upgradeYML(17), "CREATE TABLE other (id bigint PRIMARY KEY);\n", "DROP TABLE other;\n")
	code, out, errOut := run(t, nil, "check", "--config", filepath.Join(root, "schemagate.yml"), "--base", "main", "--image", "schemagate/postgres:17", "-q")
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
	}
	for _, w := range []string{
		"PostgreSQL 15 was asked for (database.pg_version of the base, from schemagate.yml at main: this change's 17 applies once it is merged)",
		"the docker provider's server runs 17.",
		"(image schemagate/postgres:17, from --image)",
		"pass an --image of PostgreSQL 15, or --pg-version 17",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("the error lacks %q:\n%s", w, errOut)
		}
	}
}
