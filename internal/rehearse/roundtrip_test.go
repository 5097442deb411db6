package rehearse

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// beforeClose is a real provider whose instances call look just before their Close.
type beforeClose struct {
	sandbox.Provider
	look func(inst *sandbox.Instance)
}

func (p beforeClose) Start(ctx context.Context) (*sandbox.Instance, error) {
	inst, err := p.Provider.Start(ctx)
	if err != nil {
		return nil, err
	}
	close := inst.Close
	inst.Close = func(ctx context.Context) error {
		p.look(inst)
		return close(ctx)
	}
	return inst, nil
}

// TestSharedServerRoundTripCopyKeepsTheMark: on a shared server (url provider), the round trip of a
// migration outside a transaction copies the run's database (<database>_rt) and, when it fails, puts
// the copy in its place. The url provider finds the databases of a run killed with SIGKILL by their
// mark (a comment), which CREATE DATABASE does not copy: the copy gets it, and the database put back
// has the mark the run's database had last, which names the roles the round trip's scripts made.
func TestSharedServerRoundTripCopyKeepsTheMark(t *testing.T) {
	inst, admin := sharedServer(t, "SELECT 1")
	set, err := migrate.Read(fstest.MapFS{
		"00001_base.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n")},
		// The down leaves the table: the round trip fails, and the copy goes back in place.
		"00002_notx.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nCREATE ROLE sg_down;\n")},
	}, migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}
	var db, comment string
	var copies []string
	look := func(run *sandbox.Instance) {
		db = strings.TrimPrefix(strings.SplitN(strings.SplitN(run.URL, "?", 2)[0], "/", 4)[3], "/")
		rows, err := admin.Query(t.Context(), `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname LIKE 'schemagate\_%'`)
		if err != nil {
			t.Error(err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var name, c string
			if err := rows.Scan(&name, &c); err != nil {
				t.Error(err)
				return
			}
			if name == db {
				comment = c
			} else {
				copies = append(copies, name)
			}
		}
	}
	rep, err := Run(t.Context(), Options{Set: set, Base: base, NoTrace: true,
		Provider: beforeClose{sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}), look}})
	if err != nil {
		t.Fatal(err)
	}
	if rt := rep.Migrations[1].Roundtrip; rt == nil || rt.Status == report.RoundtripOK || rt.Status == report.RoundtripSkipped {
		t.Fatalf("the round trip of 00002 is %+v, want it failed (and the copy put back)", rt)
	}
	if len(copies) > 0 {
		t.Errorf("other rehearsal databases before Close: %v", copies)
	}
	if !strings.HasPrefix(comment, "schemagate rehearsal database {") {
		t.Fatalf("the database put back (%s) has comment %q, not the run's mark: a kill now would leave it forever", db, comment)
	}
	// The OID of the role the down made, recorded once the down had run: after the copy was made.
	var m struct {
		OIDs map[string]uint32 `json:"oids"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(comment, "schemagate rehearsal database ")), &m); err != nil || m.OIDs["sg_down"] == 0 {
		t.Errorf("the mark of the database put back lacks the OID of the role the round trip's down made (sg_down), which a later run needs to drop it (%v): %s", err, comment)
	}
	if left := sgRoles(t, admin); slices.Contains(left, "sg_down") {
		t.Errorf("roles left after the run: %v", left)
	}
}
