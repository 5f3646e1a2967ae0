package conformance

import (
	"context"
	"time"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// RegistryFactory returns a Factory that, for each check, asks the driver
// of base.Type for scratch storage (registry.Scratch: a new file, a new
// database), opens repositories on it through registry.Open, and removes
// it when the check ends. The configured database's data is never touched.
func RegistryFactory(base config.Config) Factory {
	return func(t T) Opener {
		t.Helper()
		cfg, cleanup, err := registry.Scratch(t.Context(), base)
		if err != nil {
			t.Fatalf("scratch storage: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := cleanup(ctx); err != nil {
				t.Errorf("remove scratch storage: %v", err)
			}
		})
		return func(ctx context.Context, admin Admin) (repository.Repository, error) {
			c := cfg
			c.AdminUser, c.AdminPassword = admin.User, admin.Password
			return registry.Open(ctx, c)
		}
	}
}
