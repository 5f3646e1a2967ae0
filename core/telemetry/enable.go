package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/decnet/decnet-db/core/config"
)

// ServiceName is the service.name of the resource Enable installs.
const ServiceName = "decnet-db"

// DefaultEndpoint is where the OTLP gRPC exporters send when no
// OTEL_EXPORTER_OTLP_*ENDPOINT variable is set.
const DefaultEndpoint = "localhost:4317"

// providers are the SDK providers Enable installed.
type providers struct {
	tp       *sdktrace.TracerProvider
	mp       *sdkmetric.MeterProvider
	down     atomic.Bool
	once     sync.Once
	shutErr  error
	shutdown func(context.Context) error
}

// The process's telemetry, set once by Enable. OpenTelemetry's providers
// are process globals, so this is too.
var (
	enableMu  sync.Mutex
	installed atomic.Pointer[providers]
)

// Enable turns telemetry on for the whole process when cfg.Tracing
// (DECNET_DEVELOPER_TRACING) is true: it installs an SDK TracerProvider and
// MeterProvider as the OpenTelemetry globals, both exporting over OTLP gRPC,
// and the W3C trace-context and baggage propagators. The exporters and the
// SDK read the standard OTEL_* variables themselves
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_INSECURE,
// OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER,
// OTEL_METRIC_EXPORT_INTERVAL, OTEL_RESOURCE_ATTRIBUTES, ...): this is the
// only place decnet-db honours variables other than DECNET_*, through
// OpenTelemetry's own code. The resource's service.name is "decnet-db".
// Nothing connects before the first export.
//
// Enable is idempotent: the first successful call installs the providers,
// later calls return the same shutdown. A failed call installs nothing and
// may be retried. When cfg.Tracing is false Enable does nothing and returns
// a shutdown that does nothing.
//
// shutdown flushes and stops the exporters; it is for the process's owner
// to call on exit, and is safe to call more than once. Telemetry stays off
// afterwards for the life of the process: Enable does not install new
// providers, because wrappers made earlier keep delegating to the first
// ones. Until then, the Close of every repository made by Wrap flushes the
// providers, so that nothing a closed repository recorded waits for the
// next export interval.
func Enable(ctx context.Context, cfg config.Config) (shutdown func(context.Context) error, err error) {
	if !cfg.Tracing {
		return noShutdown, nil
	}
	enableMu.Lock()
	defer enableMu.Unlock()
	if p := installed.Load(); p != nil {
		return p.shutdown, nil
	}
	p, err := install(ctx)
	if err != nil {
		return noShutdown, err
	}
	installed.Store(p)
	return p.shutdown, nil
}

func noShutdown(context.Context) error { return nil }

// install makes the exporters and providers and sets them as the globals.
func install(ctx context.Context) (*providers, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(ServiceName)))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	texp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp trace exporter: %w", err)
	}
	mexp, err := otlpmetricgrpc.New(ctx)
	if err != nil {
		_ = texp.Shutdown(ctx)
		return nil, fmt.Errorf("telemetry: otlp metric exporter: %w", err)
	}
	p := &providers{
		tp: sdktrace.NewTracerProvider(sdktrace.WithBatcher(texp), sdktrace.WithResource(res)),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp)), sdkmetric.WithResource(res)),
	}
	p.shutdown = func(ctx context.Context) error {
		p.once.Do(func() {
			p.down.Store(true)
			p.shutErr = errors.Join(p.tp.Shutdown(ctx), p.mp.Shutdown(ctx))
			if p.shutErr != nil {
				p.shutErr = fmt.Errorf("telemetry: shutdown: %w", p.shutErr)
			}
		})
		return p.shutErr
	}
	otel.SetTracerProvider(p.tp)
	otel.SetMeterProvider(p.mp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return p, nil
}

// enabledFlusher flushes the providers Enable installed, if any and not
// shut down. Wrap uses it with the global providers: Enable may come after
// Wrap.
type enabledFlusher struct{}

func (enabledFlusher) ForceFlush(ctx context.Context) error {
	p := installed.Load()
	if p == nil || p.down.Load() {
		return nil
	}
	return errors.Join(p.tp.ForceFlush(ctx), p.mp.ForceFlush(ctx))
}

// The variables that name the OTLP trace endpoint, most specific first.
const (
	VarTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	VarEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
)

// Status reports, for `decnet-db doctor`, whether cfg turns telemetry on
// (DECNET_DEVELOPER_TRACING) and where spans would be exported:
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT,
// else DefaultEndpoint, with any password in it masked. The endpoint is
// reported whether or not telemetry is on. getenv reads the environment
// (os.Getenv, or a test's).
func Status(cfg config.Config, getenv func(string) string) (enabled bool, endpoint string) {
	for _, v := range []string{VarTracesEndpoint, VarEndpoint} {
		if e := strings.TrimSpace(getenv(v)); e != "" {
			return cfg.Tracing, config.RedactURL(e)
		}
	}
	return cfg.Tracing, DefaultEndpoint
}
