package testsuite

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/core/telemetry"
	"github.com/decnet/decnet-db/drivers/sqlite"
)

// BenchmarkTelemetryAddLog measures what the telemetry wrapper costs on
// AddLog to a SQLite file: the repository unwrapped (opened with
// sqlite.Open, bypassing the registry), wrapped with telemetry off (the
// default, no-op OpenTelemetry globals: what registry.Open returns unless
// DECNET_DEVELOPER_TRACING is set), and, for information, wrapped with SDK
// providers that record every span (batched to an in-memory exporter) and
// metric. The target is wrapped_off within 2% of unwrapped.
//
// Run it with:
//
//	go test ./testsuite/ -run '^$' -bench Telemetry -count 6
//
// go test runs each side -count times in a row, so a noisy machine's drift
// lands on one side; to interleave the sides, run the test binary several
// times with -count 1 and a different -bench.rotate (see runSides):
//
//	go test -c -o /tmp/testsuite.test ./testsuite/
//	for i in 0 1 2 3 4 5; do
//		(cd testsuite && /tmp/testsuite.test -test.run '^$' -test.bench Telemetry -bench.rotate $i)
//	done
func BenchmarkTelemetryAddLog(b *testing.B) {
	logs := benchLogs(benchTableRows)
	ctx := context.Background()
	run := func(b *testing.B, wrap func(repository.Repository) repository.Repository) {
		cfg := testConfig(sqlite.Name)
		cfg.Path = benchPath(b)
		inner, err := sqlite.Open(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		r := wrap(inner)
		b.Cleanup(func() { _ = r.Close() })
		if err := r.Initialize(ctx); err != nil {
			b.Fatal(err)
		}
		addEach(b, logs, repoAddLog(r)) // from a fresh heap: no garbage of the previous side
	}
	runSides(b,
		benchSide{"unwrapped", func(b *testing.B) {
			run(b, func(r repository.Repository) repository.Repository { return r })
		}},
		benchSide{"wrapped_off", func(b *testing.B) {
			run(b, func(r repository.Repository) repository.Repository { return telemetry.Wrap(r, sqlite.Name) })
		}},
		benchSide{"wrapped_on", func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewInMemoryExporter()))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() {
				_ = tp.Shutdown(ctx)
				_ = mp.Shutdown(ctx)
			})
			run(b, func(r repository.Repository) repository.Repository {
				return telemetry.Wrap(r, sqlite.Name, telemetry.WithTracerProvider(tp), telemetry.WithMeterProvider(mp))
			})
		}},
	)
}
