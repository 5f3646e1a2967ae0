package sdk_test

import (
	"context"
	"os"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/sdk"
)

// The main function of a plugin binary. This one serves a backend compiled
// into it under the type "mine" (registered from its package's init, as
// every driver is), with scratch storage for the conformance suite.
func ExampleServe() {
	open := func(ctx context.Context, cfg config.Config) (repository.Repository, error) {
		// The driver itself, not registry.Open: the host wraps the
		// plugin with telemetry already.
		d, _ := registry.Lookup("mine")
		cfg.Type = "mine"
		return d.Open(ctx, cfg)
	}
	scratch := func(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error) {
		dir, err := os.MkdirTemp("", "mine-scratch-")
		if err != nil {
			return config.Config{}, nil, err
		}
		cfg.Path = dir + "/scratch.db"
		return cfg, func(context.Context) error { return os.RemoveAll(dir) }, nil
	}
	sdk.Serve(open, sdk.WithScratch(scratch))
}
