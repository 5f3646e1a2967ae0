// Package sdk is what a backend author imports to ship a decnet-db backend
// as a plugin: a separate binary that decnet-db starts and talks to without
// being rebuilt. The binary's main is one call:
//
//	func main() {
//		sdk.Serve(func(ctx context.Context, cfg config.Config) (repository.Repository, error) {
//			return mybackend.Open(ctx, cfg)
//		}, sdk.WithScratch(mybackend.Scratch))
//	}
//
// The backend implements repository.Repository (a SQL backend embeds
// repository.SQLRepository with its own Dialect; see drivers/postgres) and
// passes the conformance suite (sdk/conformance). The author never sees
// the wire: Serve converts between the contract's Go types and the plugin
// protocol (gRPC over hashicorp/go-plugin), and errors keep their identity
// (errors.Is(err, repository.ErrNotFound) holds in the host).
//
// To use the plugin, name the binary decnet-db-driver-<type>, put it in a
// directory of DECNET_DB_PLUGIN_DIR with its checksum beside it
// (sha256sum decnet-db-driver-<type> > decnet-db-driver-<type>.sha256), and
// set DECNET_DB_TYPE=<type>. examples/plugin is a complete plugin to copy.
//
// What the plugin can count on, and must respect:
//
//   - Configuration arrives as the config.Config given to the open function
//     (passwords included). The plugin's environment is empty: it does not
//     inherit the host's, so read nothing from it.
//   - Stdout belongs to the handshake: write nothing there. Log with log/slog
//     (or the standard log package): Serve sends its default logger to
//     stderr, and the host logs each line at its level.
//   - One process serves one repository: the host starts a process per
//     open and ends it on Close. The process also ends, after closing the
//     repository, when the host process is gone.
package sdk

import (
	"log/slog"

	"github.com/decnet/decnet-db/core/plugin"
)

// OpenFunc opens the backend on a configuration and returns its
// repository, not initialized yet (the host calls Initialize). Like every
// driver, it reads nothing but cfg.
type OpenFunc = plugin.OpenFunc

// ScratchFunc creates throwaway storage: new, empty, and apart from the
// configured database's data. It returns the configuration that opens the
// storage and a function that removes it.
type ScratchFunc = plugin.ScratchFunc

// Option tunes Serve.
type Option func(*plugin.ServeConfig)

// WithScratch gives the plugin scratch storage, which the conformance
// suite (go test, and decnet-db conformance) needs to run on it. Without
// it the host reports that the backend has no scratch storage.
func WithScratch(f ScratchFunc) Option {
	return func(sc *plugin.ServeConfig) { sc.Scratch = f }
}

// WithLogLevel sets the level of the log lines the plugin sends before the
// host says its own (it does when it opens the repository). The default is
// slog.LevelInfo.
func WithLogLevel(level slog.Level) Option {
	return func(sc *plugin.ServeConfig) { sc.LogLevel = level }
}

// WithGCPercent sets the plugin process's garbage collection target, as
// GOGC would. The default, plugin.DefaultGCPercent (400), suits a backend
// whose own heap is small; one that keeps a large heap (a cache, say) may
// want less. A percent of 0 or less means the default.
func WithGCPercent(percent int) Option {
	return func(sc *plugin.ServeConfig) { sc.GCPercent = percent }
}

// Serve serves the backend that open opens, and never returns: the process
// ends when the host closes the repository or exits. Run by hand, the
// binary explains itself on stderr and exits 1; run with
// --decnet-plugin-info, it prints its protocol versions as JSON and exits 0.
func Serve(open OpenFunc, opts ...Option) {
	sc := plugin.ServeConfig{Open: open}
	for _, o := range opts {
		o(&sc)
	}
	plugin.Serve(sc)
}
