// Command plugin is an example out-of-tree decnet-db backend: a plugin
// binary that decnet-db loads without being rebuilt. Copy this directory to
// start your own backend; README.md beside it says how to build it, make
// its checksum, and select it with DECNET_DB_TYPE.
//
// As it stands it serves the built-in SQLite backend, so that it works out
// of the box (and so that the tests can run the whole conformance suite
// through a real plugin process). Replace the two functions below with
// your backend's.
package main

import (
	"context"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/sdk"

	// The backend this example serves. Your plugin imports its own
	// backend instead: a package of yours that implements
	// repository.Repository. A SQL backend embeds
	// *repository.SQLRepository with its own Dialect (embed
	// repository.BaseDialect and override what differs; drivers/postgres
	// is a complete example in about 200 lines) and registers itself in
	// init with registry.Register, as the built-in drivers do.
	_ "github.com/decnet/decnet-db/drivers/sqlite"
)

// backend is the registered driver this plugin serves. Your plugin uses
// the name its own driver registers under.
const backend = "sqlite"

// driver is the registered driver of backend. The plugin opens it
// directly, not through registry.Open: decnet-db already wraps the
// plugin's repository with its telemetry, and registry.Open would wrap it
// a second time and, with DECNET_DEVELOPER_TRACING set, start an exporter
// in this process, whose environment holds none of the OTEL_* settings.
func driver() registry.Driver {
	d, _ := registry.Lookup(backend)
	return d
}

// open opens the backend. cfg is decnet-db's configuration, passed in the
// open call (passwords included): read nothing from the environment,
// which is empty in a plugin. cfg.Type is the plugin's type (the
// DECNET_DB_TYPE that selected it); set it to the driver's name.
func open(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	cfg.Type = backend
	return driver().Open(ctx, cfg)
}

// scratch creates throwaway storage for the conformance suite (a new
// SQLite file in a new temporary directory, here) and returns the
// configuration that opens it and the function that removes it. Drop it,
// and sdk.WithScratch below, if your backend cannot make scratch storage;
// the conformance suite then cannot run through the plugin.
func scratch(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error) {
	cfg.Type = backend
	return driver().(registry.Scratcher).Scratch(ctx, cfg)
}

func main() {
	// Nothing may be written to stdout before (or after) this call: stdout
	// is the handshake channel. Log with log/slog; Serve sends it to the
	// host's log.
	sdk.Serve(open, sdk.WithScratch(scratch))
}
