package rehearse

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestOutOfSharedMemoryInAnyLanguage: a transaction that fills the lock table ("out of shared memory",
// 53200, here with advisory locks on a server of its own, whose lock table the other tests do not
// share) stays the migration's failure, and the machine's lack of memory ("out of memory", 53200 too)
// stays the machine's, whatever the server's lc_messages: they used to be told apart by the English
// text, so a server that speaks German (a url provider's) made a lock table exhaustion the machine's
// memory. The error is the real one, its message then written as PostgreSQL 15's German translation
// (postgres-15.mo) has it; this machine has no German locale for a server to use.
func TestOutOfSharedMemoryInAnyLanguage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	prov := sandbox.NewLocal(sandbox.Options{})
	inst, err := prov.Start(ctx)
	if err != nil {
		pgtest.Unavailable(t, "PostgreSQL: %v", err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	conn, err := pgx.Connect(ctx, inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "SELECT count(pg_advisory_xact_lock(g)) FROM generate_series(1, 200000) g")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53200" {
		t.Fatalf("err %v; want the lock table full (53200)", err)
	}
	// What ranOut tells it by, which the server does not translate.
	if pe.File != "lock.c" {
		t.Errorf("out of shared memory raised in %q (routine %s), want lock.c", pe.File, pe.Routine)
	}
	r := &run{opts: Options{Provider: prov, Dir: "db"}}
	statement := func(pe *pgconn.PgError) error {
		return &pg.StatementError{File: "2_locks.up.sql", Line: 1, Column: 1, SQLState: pe.Code, Message: pe.Message, Hint: pe.Hint, Err: pe}
	}
	german := *pe
	german.Message, german.Hint = "Shared Memory aufgebraucht", "Sie müssen möglicherweise max_locks_per_transaction erhöhen."
	for _, e := range []*pgconn.PgError{pe, &german} {
		if out := r.ranOut(statement(e)); out != nil {
			t.Errorf("%q (%s, %s) taken for the machine's lack: %v", e.Message, e.File, e.Routine, out)
		}
	}
	// The machine's memory, as palloc reports it, in German: still the machine's.
	oom := &pgconn.PgError{Severity: "FEHLER", Code: "53200", Message: "Speicher aufgebraucht",
		Detail: "Fehler bei Anfrage mit Größe 1073741824 im Speicherkontext »ExecutorState«.", File: "mcxt.c", Routine: "MemoryContextAlloc"}
	var re *resourceError
	if out := r.ranOut(statement(oom)); !errors.As(out, &re) || re.what != "memory" {
		t.Errorf("out of memory in German: %v; want the machine's lack of memory", out)
	}
}
