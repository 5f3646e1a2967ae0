package telemetry_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/telemetry"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name           string
		tracing        bool
		traces, common string
		want           string
	}{
		{"default endpoint", true, "", "", telemetry.DefaultEndpoint},
		{"common endpoint", false, "", "http://collector:4317", "http://collector:4317"},
		{"traces endpoint wins", true, "https://traces:4317", "http://collector:4317", "https://traces:4317"},
		{"password masked", true, "https://user:secret@traces:4317", "", "https://user:***@traces:4317"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{telemetry.VarTracesEndpoint: tt.traces, telemetry.VarEndpoint: tt.common}
			cfg := config.Default()
			cfg.Tracing = tt.tracing
			on, endpoint := telemetry.Status(cfg, func(k string) string { return env[k] })
			if on != tt.tracing || endpoint != tt.want {
				t.Errorf("Status = %v, %q; want %v, %q", on, endpoint, tt.tracing, tt.want)
			}
		})
	}
}

func TestEnableOffDoesNothing(t *testing.T) {
	tp, mp := otel.GetTracerProvider(), otel.GetMeterProvider()
	shutdown, err := telemetry.Enable(context.Background(), config.Default())
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() != tp || otel.GetMeterProvider() != mp {
		t.Error("Enable with tracing off changed the global providers")
	}
	if err := shutdown(context.Background()); err != nil {
		t.Errorf("shutdown = %v", err)
	}
}

// collector is an OTLP gRPC receiver that keeps the names of the spans and
// metrics it gets, and the service.name of their resources.
type collector struct {
	mu       sync.Mutex
	spans    []string
	metrics  []string
	services []string
}

type traceReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	c *collector
}

func (r traceReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		r.c.services = append(r.c.services, serviceName(rs.GetResource()))
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.c.spans = append(r.c.spans, s.GetName())
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type metricReceiver struct {
	colmetricpb.UnimplementedMetricsServiceServer
	c *collector
}

func (r metricReceiver) Export(_ context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	for _, rm := range req.GetResourceMetrics() {
		r.c.services = append(r.c.services, serviceName(rm.GetResource()))
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				r.c.metrics = append(r.c.metrics, m.GetName())
			}
		}
	}
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

func serviceName(r *resourcepb.Resource) string {
	for _, kv := range r.GetAttributes() {
		if kv.GetKey() == "service.name" {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// startCollector serves an OTLP gRPC receiver on a loopback port for the
// test and returns it and its address.
func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, traceReceiver{c: c})
	colmetricpb.RegisterMetricsServiceServer(srv, metricReceiver{c: c})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return c, lis.Addr().String()
}

// enableChildVar marks the process that TestEnableExportsOverOTLP starts;
// its value is the mode of the child, see enableChild.
const enableChildVar = "DECNET_TELEMETRY_TEST_ENABLE_CHILD"

// TestEnableExportsOverOTLP runs, in a child process (Enable changes the
// process's globals for good), what a process with
// DECNET_DEVELOPER_TRACING=true does: registry.Open enables telemetry and
// a call makes a span; then either the repository's Close flushes it (and
// the process exits without shutdown), or the shutdown returned by Enable
// does. The collector here must receive the spans and the duration
// metric, from the service decnet-db.
func TestEnableExportsOverOTLP(t *testing.T) {
	if mode := os.Getenv(enableChildVar); mode != "" {
		enableChild(t, mode)
		return
	}
	tests := []struct {
		mode      string
		wantSpans []string
	}{
		{"close", []string{"Ping", "Close"}},
		{"shutdown", []string{"Ping"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			c, addr := startCollector(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestEnableExportsOverOTLP$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				enableChildVar+"="+tt.mode,
				"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+addr,
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://"+addr,
				"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://"+addr,
				"OTEL_TRACES_SAMPLER=parentbased_always_on",
				"OTEL_SERVICE_NAME=",
			)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			for _, want := range tt.wantSpans {
				if !slices.Contains(c.spans, want) {
					t.Errorf("spans received = %q, want %q among them", c.spans, want)
				}
			}
			if !slices.Contains(c.metrics, telemetry.DurationMetric) {
				t.Errorf("metrics received = %q, want %s", c.metrics, telemetry.DurationMetric)
			}
			if len(c.services) == 0 {
				t.Error("nothing received")
			}
			for _, s := range c.services {
				if s != telemetry.ServiceName {
					t.Errorf("service.name = %q, want %q", s, telemetry.ServiceName)
				}
			}
		})
	}
}

// enableChild is the child process's part of TestEnableExportsOverOTLP.
// mode "close": Ping, then Close, and no shutdown. Mode "shutdown": Ping,
// then shutdown (twice), then Close, which must not fail.
func enableChild(t *testing.T, mode string) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Path = ":memory:"
	cfg.BcryptCost = bcrypt.MinCost
	cfg.Tracing = true

	r, err := registry.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp := otel.GetTracerProvider()
	shutdown, err := telemetry.Enable(ctx, cfg) // again: idempotent
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() != tp {
		t.Error("a second Enable installed another TracerProvider")
	}
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "close":
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	case "shutdown":
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			t.Errorf("shutdown = %v", err)
		}
		if err := shutdown(sctx); err != nil {
			t.Errorf("second shutdown = %v", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close after shutdown = %v", err)
		}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
}
