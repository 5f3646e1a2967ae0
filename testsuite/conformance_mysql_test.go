package testsuite

import (
	"testing"

	_ "github.com/decnet/decnet-db/drivers/mysql"
	"github.com/decnet/decnet-db/sdk/conformance"
)

// TestConformanceMySQL runs the suite on MySQL/MariaDB, each check in its
// own scratch database, created and dropped by the driver's Scratch.
func TestConformanceMySQL(t *testing.T) {
	cfg := testConfig("mysql")
	cfg.URL = mysqlURL(t)
	conformance.Run(t, conformance.RegistryFactory(cfg))
}
