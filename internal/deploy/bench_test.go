package deploy

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/snapshot"
)

// BenchmarkDeployMaintenanceOverhead deploys one small migration to the database in BENCH_DATABASE_URL
// (scripts/bench-deploy.sh fills it with about 1 GB) and reports the time in maintenance mode beyond the
// migration's own time, next to the snapshot's time. Target: overhead <= snapshot + 1 s.
func BenchmarkDeployMaintenanceOverhead(b *testing.B) {
	url := os.Getenv("BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("set BENCH_DATABASE_URL (scripts/bench-deploy.sh does)")
	}
	ctx := b.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	reset := "ALTER TABLE accounts DROP COLUMN IF EXISTS bench_note; DROP SCHEMA IF EXISTS schemagate CASCADE;" +
		"CREATE TABLE IF NOT EXISTS bench_settings (k text PRIMARY KEY, v text); INSERT INTO bench_settings VALUES ('m', 'off') ON CONFLICT DO NOTHING"
	set := folderB(b, map[string]string{
		"1_note.up.sql":   "ALTER TABLE accounts ADD COLUMN bench_note text;\nUPDATE accounts SET bench_note = 'n' WHERE id < 1000;",
		"1_note.down.sql": "ALTER TABLE accounts DROP COLUMN bench_note;",
	})
	env := &config.Environment{Maintenance: config.Maintenance{
		On:  config.Action{SQL: "UPDATE bench_settings SET v = 'on'"},
		Off: config.Action{SQL: "UPDATE bench_settings SET v = 'off'"},
	}}
	maint, err := NewMaintenance(env.Maintenance, url, os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	var maintenance, migrations, snap, overhead time.Duration
	for i := 0; i < b.N; i++ {
		if _, err := conn.Exec(ctx, reset); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := Run(ctx, Options{Env: "bench", Config: env, URL: url, Set: set, RunID: "bench", Holder: "bench",
			Snapshotter: &snapshot.PGDump{URL: url, Dir: b.TempDir(), Jobs: 2, ExcludeSchemas: []string{"schemagate"}},
			Maintenance: maint, Progress: func(m string) { b.Logf("%8.3fs %s", time.Since(start).Seconds(), m) }})
		if err != nil {
			b.Fatal(err)
		}
		maintenance += time.Duration(res.Maintenance.DurationMS) * time.Millisecond
		migrations += time.Duration(res.MigrationsMS) * time.Millisecond
		overhead += time.Duration(res.Maintenance.OverheadMS) * time.Millisecond
		snap += time.Duration(res.Snapshot.DurationMS) * time.Millisecond
	}
	if _, err := conn.Exec(ctx, reset); err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	b.ReportMetric(maintenance.Seconds()/n, "maintenance-s")
	b.ReportMetric(migrations.Seconds()/n, "migrations-s")
	b.ReportMetric(snap.Seconds()/n, "snapshot-s")
	b.ReportMetric(overhead.Seconds()/n, "overhead-s")
	b.ReportMetric((overhead-snap).Seconds()/n, "overhead-beyond-snapshot-s")
}
