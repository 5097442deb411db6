package snapshot

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// clientTree lays out the Debian layout under a temporary root: for each major, the programs named
// (empty files: ClientsUnder only looks for them).
func clientTree(t *testing.T, tree map[string][]string) string {
	t.Helper()
	root := t.TempDir()
	for major, tools := range tree {
		dir := filepath.Join(root, major, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range tools {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// TestChooseClient: the client of a server is the lowest installed major that is at least the server's:
// pg_dump refuses a newer server, and the SQL of a newer pg_restore may not load into an older one (17's
// SET transaction_timeout on 16). A folder lacking pg_restore or psql is no client: both come from the
// folder of pg_dump. The image shipped 15's client alone, and a deploy to 17 failed in pg_dump with
// "server version mismatch" and a hint the image's users could not act on.
func TestChooseClient(t *testing.T) {
	t.Parallel()
	all := []string{"pg_dump", "pg_restore", "psql"}
	root := clientTree(t, map[string][]string{
		"13": all, "15": all, "17": all,
		"16":     nil,                       // an empty bin folder
		"18":     {"pg_dump", "pg_restore"}, // no psql
		"19":     {"pg_dump"},               // pg_dump alone
		"common": all,                       // not a version
		"0":      all,                       // not one either
	})
	clients := ClientsUnder(root)
	var majors []int
	for _, c := range clients {
		majors = append(majors, c.Major)
		if c.Dir != filepath.Join(root, strconv.Itoa(c.Major), "bin") {
			t.Errorf("client %d in %s", c.Major, c.Dir)
		}
	}
	if !slices.Equal(majors, []int{13, 15, 17}) {
		t.Fatalf("ClientsUnder found %v, want [13 15 17]", majors)
	}
	for _, tc := range []struct {
		name   string
		server int
		want   int // 0: none new enough
	}{
		{name: "exact 13", server: 13, want: 13},
		{name: "14 takes the next newer", server: 14, want: 15},
		{name: "exact 15", server: 15, want: 15},
		{name: "16 takes 17", server: 16, want: 17},
		{name: "exact 17", server: 17, want: 17},
		{name: "18 has none", server: 18},
		{name: "12 takes the oldest", server: 12, want: 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseClient(clients, tc.server)
			if tc.want != 0 {
				if err != nil || got.Major != tc.want {
					t.Fatalf("ChooseClient(%d) = %+v, %v; want %d", tc.server, got, err, tc.want)
				}
				return
			}
			var nc *NoClientError
			if !errors.As(err, &nc) || nc.Server != tc.server || len(nc.Found) != 3 {
				t.Fatalf("ChooseClient(%d) = %+v, %v; want a NoClientError listing the 3 clients", tc.server, got, err)
			}
			for _, want := range []string{"PostgreSQL 18", "13 (" + filepath.Join(root, "13", "bin") + ")", "15 (", "17 ("} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			for _, want := range []string{"postgresql-client-18", "snapshot.pg_bin", "snapshot.kind: command"} {
				if !strings.Contains(nc.Hint(), want) {
					t.Errorf("hint %q does not say %q", nc.Hint(), want)
				}
			}
		})
	}

	// Two clients of one major: the first listed (PATH's, see installedClients) wins.
	got, err := ChooseClient([]Client{{Dir: "/a", Major: 16}, {Dir: "/b", Major: 17}, {Dir: "/c", Major: 17}}, 17)
	if err != nil || got.Dir != "/b" {
		t.Errorf("ChooseClient among two 17s = %+v, %v; want /b", got, err)
	}
	// None at all.
	_, err = ChooseClient(nil, 15)
	if err == nil || !strings.Contains(err.Error(), "no PostgreSQL client") {
		t.Errorf("ChooseClient(nil) = %v", err)
	}
	if got := ClientsUnder(filepath.Join(root, "missing")); got != nil {
		t.Errorf("ClientsUnder(missing) = %v", got)
	}
}

// TestPGDumpClientOfTheServerVersion runs the choice against real servers with the clients of this
// machine, PostgreSQL 15's: a 15 server is dumped by them, and the manifest says which client took the
// snapshot; a 17 server is refused before pg_dump runs, with an error naming the server's version and
// the clients found and a hint saying what to install or set. Before, pg_dump 15 ran against 17 and
// failed with "server version mismatch" and the hint to set snapshot.pg_bin "to a newer client". An
// explicit snapshot.pg_bin is used as it is, whatever the server's version.
func TestPGDumpClientOfTheServerVersion(t *testing.T) {
	t.Parallel()
	if len(ClientsUnder(DebianClientRoot)) == 0 {
		pgtest.Unavailable(t, "no PostgreSQL client in %s/<version>/bin", DebianClientRoot)
	}
	newest := ClientsUnder(DebianClientRoot)[len(ClientsUnder(DebianClientRoot))-1]
	if newest.Major >= 17 {
		t.Skipf("this machine has the PostgreSQL %d client: nothing here is older than the 17 server", newest.Major)
	}

	t.Run("15", func(t *testing.T) {
		t.Parallel()
		url, c := database(t)
		var major int
		if err := c.QueryRow(t.Context(), "SELECT current_setting('server_version_num')::int / 10000").Scan(&major); err != nil {
			t.Fatal(err)
		}
		p := &PGDump{URL: url, Dir: t.TempDir()}
		info, restore, err := p.Snapshot(t.Context(), "run-15")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(info.ClientVersion, strconv.Itoa(major)+".") || !hasTools(info.Client) {
			t.Errorf("snapshot of a %d server taken by client %q in %q", major, info.ClientVersion, info.Client)
		}
		m, err := ReadManifest(info.Location)
		if err != nil {
			t.Fatal(err)
		}
		if m.Client != info.Client || m.ClientVersion != info.ClientVersion {
			t.Errorf("manifest says client %q %q, want %q %q", m.ClientVersion, m.Client, info.ClientVersion, info.Client)
		}
		if err := restore(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("17", func(t *testing.T) {
		t.Parallel()
		inst := pgtest.TCPServerVersion(t, 17)
		dir := t.TempDir()
		p := &PGDump{URL: inst.URL, Dir: dir}
		_, _, err := p.Snapshot(t.Context(), "run-17")
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("snapshot of a 17 server with the clients of %d and older: %v", newest.Major, err)
		}
		var nc *NoClientError
		if !errors.As(err, &nc) || nc.Server != 17 {
			t.Fatalf("snapshot of a 17 server: %v; want the server's version and the clients found", err)
		}
		for _, want := range []string{"PostgreSQL 17", strconv.Itoa(newest.Major) + " (" + newest.Dir + ")"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		for _, want := range []string{"postgresql-client-17", "snapshot.pg_bin", "snapshot.kind: command"} {
			if !strings.Contains(se.Hint, want) {
				t.Errorf("hint %q does not say %q", se.Hint, want)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("a refused snapshot left %d entries in its folder", len(entries))
		}

		// snapshot.pg_bin wins: its pg_dump runs, and says it is too old.
		p.Bin = newest.Dir
		_, _, err = p.Snapshot(t.Context(), "run-17-bin")
		if !errors.As(err, &se) || se.Op != "run pg_dump" || !strings.Contains(err.Error(), "version mismatch") || !strings.Contains(se.Hint, "snapshot.pg_bin") {
			t.Fatalf("snapshot of a 17 server with snapshot.pg_bin %s: %v; want pg_dump's version mismatch", p.Bin, err)
		}
	})
}
