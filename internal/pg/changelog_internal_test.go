package pg

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestLoggedCatalogOIDs: the catalogs' OIDs written as numbers in catalogWrites are the server's.
func TestLoggedCatalogOIDs(t *testing.T) {
	conn := pgtest.Conn(t)
	for name, want := range loggedCatalogs {
		var got uint32
		if err := conn.QueryRow(context.Background(), "SELECT $1::regclass::oid", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s has OID %d, loggedCatalogs says %d", name, got, want)
		}
	}
}
