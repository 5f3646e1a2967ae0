package testsuite

import (
	"testing"

	"github.com/decnet/decnet-db/core/repository"
)

// The plugin benchmarks measure the cost of the plugin boundary: the same
// workload on SQLite in process (registry.Open of the built-in driver) and
// through the example plugin (registry.Open of a plugin type: a process,
// gRPC over a Unix socket with mutual TLS), in the same run. Both sides are
// wrapped with telemetry by the registry, as in production.
//
//	go test ./testsuite/ -run '^$' -bench Plugin -count 5
//
// Targets: AddLogs through the plugin at least 0.8x the in-process rows/s;
// AddLog's added latency (plugin ns/op minus in-process ns/op, medians)
// under 150 µs.

// benchPluginBatch is the batch size of the AddLogs benchmark.
const benchPluginBatch = 500

// openBenchPlugin opens and initializes the example plugin on the SQLite
// file path; the caller closes it.
func openBenchPlugin(b *testing.B, dir, path string) repository.Repository {
	cfg := pluginConfig("example", dir)
	cfg.Path = path
	return openBenchConfig(b, cfg)
}

// BenchmarkPluginAddLogs inserts benchTableRows logs per iteration into a
// new database, in batches of benchPluginBatch (one AddLogs each).
func BenchmarkPluginAddLogs(b *testing.B) {
	logs := benchLogs(benchTableRows)
	dir, _ := installPlugin(b, examplePlugin.build(b), "example", true)
	runSides(b,
		benchSide{"inprocess", func(b *testing.B) {
			addBatchesEach(b, logs, benchPluginBatch, func(path string) (func([]repository.Log) error, func() error) {
				return repoAddLogs(openBenchRepo(b, path))
			})
		}},
		benchSide{"plugin", func(b *testing.B) {
			addBatchesEach(b, logs, benchPluginBatch, func(path string) (func([]repository.Log) error, func() error) {
				return repoAddLogs(openBenchPlugin(b, dir, path))
			})
		}},
	)
}

// BenchmarkPluginAddLog stores one log per iteration.
func BenchmarkPluginAddLog(b *testing.B) {
	logs := benchLogs(benchTableRows)
	dir, _ := installPlugin(b, examplePlugin.build(b), "example", true)
	run := func(b *testing.B, r repository.Repository) {
		b.Cleanup(func() { _ = r.Close() })
		addEach(b, logs, repoAddLog(r))
	}
	runSides(b,
		benchSide{"inprocess", func(b *testing.B) { run(b, openBenchRepo(b, benchPath(b))) }},
		benchSide{"plugin", func(b *testing.B) { run(b, openBenchPlugin(b, dir, benchPath(b))) }},
	)
}
