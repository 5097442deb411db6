package sandbox

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestURLRemovesLeftovers: the databases of url runs killed with SIGKILL, and the roles their marks
// name, are dropped when a later url run starts on the same server; those of live runs, of other hosts
// (unless older than a day), without the mark, and the server's other databases and roles, are not.
func TestURLRemovesLeftovers(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	self := currentOwner(t.Context(), nil)
	if self.space == "" {
		t.Fatal("cannot read this process's boot id, PID namespace or start time from /proc")
	}
	var now time.Time
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), "SELECT now()").Scan(&now); err != nil {
		t.Fatal(err)
	}
	dead := self
	dead.pid = unusedPID(t)
	otherHost := self
	otherHost.space = "00000000-0000-0000-0000-000000000000/4026531836"
	otherHost.host = "elsewhere"
	withRoles := func(m urlMark, roles ...string) urlMark { m.Roles = roles; return m }
	dbs := []struct {
		name string
		mark *urlMark // nil: no mark
		gone bool
	}{
		{"schemagate_00000000dead", ptr(withRoles(newURLMark(dead, now.Add(-time.Minute)), "sg_dead_a", "sg_shared", "sg_never_made")), true},
		{"schemagate_0000000a11fe", ptr(withRoles(newURLMark(self, now), "sg_live", "sg_shared")), false},
		{"schemagate_00000000001d", ptr(withRoles(newURLMark(otherHost, now.Add(-25*time.Hour)), "sg_old_other")), true},
		{"schemagate_0000000recen", nil, false}, // not a run's name (not hex): never looked at
		{"schemagate_00000000feed", ptr(withRoles(newURLMark(otherHost, now.Add(-time.Hour)), "sg_recent_other")), false},
		{"schemagate_000000000000", nil, false}, // an older schemagate's, or someone's: no mark
		{"app", ptr(withRoles(newURLMark(dead, now.Add(-time.Minute)), "sg_app_role")), false},
	}
	execSQL(t, server, "CREATE ROLE sg_dead_a", "CREATE ROLE sg_shared", "CREATE ROLE sg_live", "CREATE ROLE sg_old_other",
		"CREATE ROLE sg_recent_other", "CREATE ROLE sg_app_role", "CREATE ROLE sg_someone")
	// The runs saw the roles they created exist, and recorded their OIDs.
	for _, d := range dbs {
		if d.mark != nil {
			d.mark.OIDs = roleOIDs(t, conn, d.mark.Roles...)
		}
	}
	for _, d := range dbs {
		execSQL(t, server, "CREATE DATABASE "+d.name)
		if d.mark != nil {
			if err := mark(t.Context(), conn, d.name, *d.mark); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A session still connected to the dead run's database (its backend outlives the process).
	stray, err := pgx.Connect(t.Context(), withDatabase(t, server, "schemagate_00000000dead"))
	if err != nil {
		t.Fatal(err)
	}
	defer stray.Close(context.Background())

	var logs syncBuffer
	inst, err := NewURL(Options{DatabaseURL: server, Logger: slog.New(slog.NewTextHandler(&logs, nil))}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The run's own database carries its mark, with the roles it claims once it claims them.
	own := dbName(t, inst.URL)
	if err := inst.ClaimRoles(t.Context(), []string{"sg_mine", "sg_someone"}); err != nil {
		t.Fatal(err)
	}
	var comment string
	if err := conn.QueryRow(t.Context(), "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", own).Scan(&comment); err != nil {
		t.Fatal(err)
	}
	m, ok := parseURLMark(comment)
	if !ok || m.PID != os.Getpid() || m.Process == "" || !slices.Equal(m.Roles, []string{"sg_mine"}) {
		t.Errorf("the run's database %s is marked %q; want this process and the role sg_mine only (sg_someone was the server's)", own, comment)
	}
	if slices.Contains(inst.ServerRoles, "sg_dead_a") || !slices.Contains(inst.ServerRoles, "sg_someone") {
		t.Errorf("server roles %v: want sg_someone and not the dead run's sg_dead_a", inst.ServerRoles)
	}
	if err := inst.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	left := databases(t, server)
	for _, d := range dbs {
		if kept := slices.Contains(left, d.name); kept == d.gone {
			t.Errorf("database %s: kept %v, want kept %v", d.name, kept, !d.gone)
		}
	}
	if slices.Contains(left, own) {
		t.Errorf("the run's own database %s is left", own)
	}
	roles := rolesLike(t, conn, `sg\_%`)
	// sg_shared: the live run's mark names it too.
	if want := []string{"sg_app_role", "sg_live", "sg_recent_other", "sg_shared", "sg_someone"}; !slices.Equal(roles, want) {
		t.Errorf("roles left %v, want %v\n%s", roles, want, logs.String())
	}
	if !strings.Contains(logs.String(), "schemagate_00000000dead") || !strings.Contains(logs.String(), "no longer runs") ||
		!strings.Contains(logs.String(), "schemagate_000000000000") {
		t.Errorf("the log does not say what was dropped and what was left unmarked:\n%s", logs.String())
	}
}

func ptr[T any](v T) *T { return &v }

// rolesLike returns the names of the server's roles that match the LIKE pattern, in order.
func rolesLike(t *testing.T, conn *pgx.Conn, like string) []string {
	t.Helper()
	rows, _ := conn.Query(t.Context(), "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname LIKE $1 ORDER BY 1", like)
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return roles
}

// roleOIDs returns the OIDs of those of the roles that exist.
func roleOIDs(t *testing.T, conn *pgx.Conn, roles ...string) map[string]uint32 {
	t.Helper()
	out := map[string]uint32{}
	rows, _ := conn.Query(t.Context(), "SELECT rolname, oid FROM pg_roles WHERE rolname = ANY($1)", roles)
	var r string
	var oid uint32
	if _, err := pgx.ForEachRow(rows, []any{&r, &oid}, func() error { out[r] = oid; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestURLLeftoverRolesItDidNotCreate: a dead run's mark names roles it planned to create; a later run
// drops only those the dead run recorded (name and OID): not one it never created that someone made
// since, nor one someone dropped and made again, and says so in the log.
func TestURLLeftoverRolesItDidNotCreate(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	self := currentOwner(t.Context(), nil)
	if self.space == "" {
		t.Fatal("cannot read this process's boot id, PID namespace or start time from /proc")
	}
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var now time.Time
	if err := conn.QueryRow(t.Context(), "SELECT now()").Scan(&now); err != nil {
		t.Fatal(err)
	}
	dead := self
	dead.pid = unusedPID(t)
	m := newURLMark(dead, now.Add(-time.Minute))
	m.Roles = []string{"sg_made", "sg_planned", "sg_recreated", "sg_gone"}
	// The dead run created sg_made, sg_recreated and sg_gone; it died before its CREATE ROLE sg_planned.
	execSQL(t, server, "CREATE ROLE sg_made", "CREATE ROLE sg_recreated", "CREATE ROLE sg_gone")
	m.OIDs = roleOIDs(t, conn, m.Roles...)
	// Since: someone made sg_planned, and dropped and made sg_recreated again; sg_gone was dropped.
	execSQL(t, server, "CREATE ROLE sg_planned", "DROP ROLE sg_recreated", "CREATE ROLE sg_recreated", "DROP ROLE sg_gone")
	if len(m.OIDs) != 3 || roleOIDs(t, conn, "sg_recreated")["sg_recreated"] == m.OIDs["sg_recreated"] {
		t.Fatalf("recorded OIDs %v: want three, and another OID for sg_recreated now", m.OIDs)
	}
	execSQL(t, server, "CREATE DATABASE schemagate_0000000dead2")
	if err := mark(t.Context(), conn, "schemagate_0000000dead2", m); err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	inst, err := NewURL(Options{DatabaseURL: server, Logger: slog.New(slog.NewTextHandler(&logs, nil))}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(databases(t, server), "schemagate_0000000dead2") {
		t.Errorf("the dead run's database is left\n%s", logs.String())
	}
	roles := rolesLike(t, conn, `sg\_%`)
	if want := []string{"sg_planned", "sg_recreated"}; !slices.Equal(roles, want) {
		t.Errorf("roles left %v, want %v (sg_made dropped)\n%s", roles, want, logs.String())
	}
	for _, want := range []string{"never recorded creating it", "role=sg_planned", "another role now", "role=sg_recreated", "dropped a role the migrations created\" role=sg_made"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs.String())
		}
	}
}

// TestURLLeftoverOfAKilledRun: schemagate's own process killed with SIGKILL while its url run goes on;
// the next url run drops the database and the role the killed run's migrations created.
func TestURLLeftoverOfAKilledRun(t *testing.T) {
	t.Parallel()
	if os.Getenv("SG_URL_KILLED_CHILD") != "" {
		t.Skip("the child's part runs in TestURLKilledChild")
	}
	server := existingServer(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestURLKilledChild$", "-test.v")
	cmd.Env = append(os.Environ(), "SG_URL_KILLED_CHILD="+server)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	var got strings.Builder
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(got.String(), "READY ") && time.Now().Before(deadline) {
		n, err := out.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(got.String(), "READY ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child did not start its run:\n%s", got.String())
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	db := strings.Fields(got.String()[strings.Index(got.String(), "READY ")+len("READY "):])[0]
	if !slices.Contains(databases(t, server), db) {
		t.Fatalf("the killed run's database %s is not there to start with", db)
	}
	if !slices.Contains(databases(t, server), db+CopySuffix) {
		t.Fatalf("the killed run's round-trip copy %s is not there to start with", db+CopySuffix)
	}
	inst, err := NewURL(Options{DatabaseURL: server}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{db, db + CopySuffix} {
		if slices.Contains(databases(t, server), d) {
			t.Errorf("the killed run's database %s is left", d)
		}
	}
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_roles WHERE rolname = 'sg_killed_role'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the killed run's role sg_killed_role is left (%d, %v)", n, err)
	}
}

// TestURLKilledChild is the killed process of TestURLLeftoverOfAKilledRun.
func TestURLKilledChild(t *testing.T) {
	server := os.Getenv("SG_URL_KILLED_CHILD")
	if server == "" {
		t.Skip("run by TestURLLeftoverOfAKilledRun")
	}
	inst, err := NewURL(Options{DatabaseURL: server}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.ClaimRoles(t.Context(), []string{"sg_killed_role"}); err != nil {
		t.Fatal(err)
	}
	// The migration's transaction records the role it created before its COMMIT: the process is killed
	// right after it, with no time for anything else to see the role.
	session, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"BEGIN", "CREATE ROLE sg_killed_role", "CREATE TABLE owned (id int)", "ALTER TABLE owned OWNER TO sg_killed_role"} {
		if _, err := session.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := inst.RolesCreated(t.Context(), session, []string{"sg_killed_role"}); err != nil {
		t.Fatal(err)
	}
	if _, err := session.Exec(t.Context(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	// A non-transactional migration's round trip has copied the database, and the process is killed
	// before it could mark the copy.
	session.Close(t.Context())
	db := dbName(t, inst.URL)
	execSQL(t, server, "CREATE DATABASE "+db+CopySuffix+" TEMPLATE "+db)
	os.Stdout.WriteString("READY " + db + "\n")
	time.Sleep(time.Minute)
	t.Fatal("not killed")
}

// dbName is the database a URL names.
func dbName(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// TestURLRoundTripCopy: the copy a round trip makes of the run's database (<database>_rt) goes with
// it: Close drops it (a run stopped during its round trip, SIGINT or SIGTERM), and so does a later run
// when the run is gone and left the copy alone, marked (it died as it put the copy back).
func TestURLRoundTripCopy(t *testing.T) {
	server := existingServer(t)
	t.Run("Close", func(t *testing.T) {
		inst, err := NewURL(Options{DatabaseURL: server}).Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		db := dbName(t, inst.URL)
		execSQL(t, server, "CREATE DATABASE "+db+CopySuffix+" TEMPLATE "+db)
		if err := inst.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{db, db + CopySuffix} {
			if slices.Contains(databases(t, server), d) {
				t.Errorf("%s is left after Close", d)
			}
		}
	})
	t.Run("a marked copy alone", func(t *testing.T) {
		// The mark of a process that is gone: this host's, with a PID no process has.
		self := currentOwner(t.Context(), nil)
		gone := self
		gone.pid, gone.ticks = 1<<22+7, 1
		copyDB := DatabasePrefix + randomHex(6) + CopySuffix
		execSQL(t, server, "CREATE DATABASE "+copyDB,
			"COMMENT ON DATABASE "+copyDB+" IS "+quoteLiteral(newURLMark(gone, time.Now()).comment()))
		inst, err := NewURL(Options{DatabaseURL: server}).Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := inst.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(databases(t, server), copyDB) {
			t.Errorf("the marked copy %s of a run that is gone is left", copyDB)
		}
	})
}
