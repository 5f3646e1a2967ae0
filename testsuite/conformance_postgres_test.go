package testsuite

import (
	"testing"

	_ "github.com/decnet/decnet-db/drivers/postgres"
	"github.com/decnet/decnet-db/sdk/conformance"
)

// TestConformancePostgres runs the suite on PostgreSQL, each check in its
// own scratch database.
func TestConformancePostgres(t *testing.T) {
	cfg := testConfig("postgres")
	cfg.URL = postgresURL(t)
	conformance.Run(t, conformance.RegistryFactory(cfg))
}
