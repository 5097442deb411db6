package sandbox

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestURLRolesCreatedUnderAShadowingSearchPath: the read of the roles the migrations created runs on
// their session, after a migration put public before pg_catalog in its search path and made a
// public.= (name, name) that holds for any two names. The read took every role on the server for one
// the run made, and Close dropped a role someone else had on the shared server. It now calls
// pg_catalog's operator: only the run's own role goes.
func TestURLRolesCreatedUnderAShadowingSearchPath(t *testing.T) {
	t.Parallel()
	server := existingServer(t)
	execSQL(t, server, "CREATE ROLE sg_shadow_bystander")
	cleanupSQL(t, server, "DROP ROLE IF EXISTS sg_shadow_bystander")
	inst, err := NewURL(Options{DatabaseURL: server}).Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.ClaimRoles(t.Context(), []string{"sg_shadow_made"}); err != nil {
		t.Fatal(err)
	}
	session, err := pgx.Connect(t.Context(), inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close(context.Background())
	for _, q := range []string{"BEGIN", "CREATE ROLE sg_shadow_made",
		"CREATE FUNCTION public.any_name(name, name) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
		"CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = name, FUNCTION = public.any_name)",
		"CREATE FUNCTION public.any_text(name, text) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
		"CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = text, FUNCTION = public.any_text)",
		"SET search_path = public, pg_catalog"} {
		if _, err := session.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := inst.RolesCreated(t.Context(), session, []string{"sg_shadow_made"}); err != nil {
		t.Fatal(err)
	}
	if _, err := session.Exec(t.Context(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	left := rolesLike(t, conn, `sg\_shadow\_%`)
	if want := []string{"sg_shadow_bystander"}; !slices.Equal(left, want) {
		t.Errorf("roles left %v, want %v", left, want)
	}
}
