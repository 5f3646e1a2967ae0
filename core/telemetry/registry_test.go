package telemetry_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/crypto/bcrypt"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/core/telemetry"
	_ "github.com/decnet/decnet-db/drivers/sqlite"
)

// useGlobals makes h's providers the OpenTelemetry globals for the test
// and restores the previous ones after it.
func useGlobals(t *testing.T, h *harness) {
	t.Helper()
	prevTP, prevMP := otel.GetTracerProvider(), otel.GetMeterProvider()
	otel.SetTracerProvider(h.tp)
	otel.SetMeterProvider(h.mp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
	})
}

// TestRegistryOpenWraps checks that registry.Open returns an instrumented
// repository that uses the global providers.
func TestRegistryOpenWraps(t *testing.T) {
	h := newHarness(t)
	useGlobals(t, h)
	ctx := context.Background()

	cfg := config.Default()
	cfg.Path = ":memory:"
	cfg.BcryptCost = bcrypt.MinCost
	r, err := registry.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	s := h.onlySpan(t)
	if s.Name != "Ping" {
		t.Errorf("span name = %q, want Ping", s.Name)
	}
	for key, want := range map[attribute.Key]string{telemetry.AttrDBSystem: "sqlite", telemetry.AttrDriver: "sqlite"} {
		if got, _ := attr(s, key); got != want {
			t.Errorf("span attribute %s = %q, want %q", key, got, want)
		}
	}
	if n := h.durationCount(t, telemetry.AttrMethod.String("Ping"), telemetry.AttrDriver.String("sqlite")); n != 1 {
		t.Errorf("durations recorded for Ping = %d, want 1", n)
	}

	// A real backend's sentinel, through the registry's wrapper.
	if err := r.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	h.spans.Reset()
	_, err = r.State(ctx, "absent")
	if !errors.Is(err, repository.ErrNotFound) {
		t.Fatalf("State of an absent key = %v, want ErrNotFound", err)
	}
	s = h.onlySpan(t)
	if got, _ := attr(s, telemetry.AttrErrorType); s.Name != "State" || got != "not_found" {
		t.Errorf("span %q with %s = %q, want State with not_found", s.Name, telemetry.AttrErrorType, got)
	}
}
