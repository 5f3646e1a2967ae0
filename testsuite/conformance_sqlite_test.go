package testsuite

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
	_ "github.com/decnet/decnet-db/drivers/sqlite"
	"github.com/decnet/decnet-db/sdk/conformance"
)

// testConfig is the configuration tests start from: defaults, a cheap
// bcrypt cost, and the given type.
func testConfig(typ string) config.Config {
	cfg := config.Default()
	cfg.Type = typ
	cfg.BcryptCost = bcrypt.MinCost
	return cfg
}

func TestConformanceSQLiteFile(t *testing.T) {
	conformance.Run(t, conformance.RegistryFactory(testConfig("sqlite")))
}

var memSeq atomic.Int64

// TestConformanceSQLiteMemory runs the suite on in-memory databases. Each
// check gets its own named in-memory database, so that the check can
// reopen it.
func TestConformanceSQLiteMemory(t *testing.T) {
	conformance.Run(t, func(t conformance.T) conformance.Opener {
		cfg := testConfig("sqlite")
		cfg.Path = fmt.Sprintf("file:conformance-%d?mode=memory", memSeq.Add(1))
		return func(ctx context.Context, admin conformance.Admin) (repository.Repository, error) {
			c := cfg
			c.AdminUser, c.AdminPassword = admin.User, admin.Password
			return registry.Open(ctx, c)
		}
	})
}
