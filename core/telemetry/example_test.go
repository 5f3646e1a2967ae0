package telemetry_test

import (
	"context"
	"errors"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"golang.org/x/crypto/bcrypt"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/core/telemetry"
)

// Wrap a repository with a TracerProvider of its own and look at the span
// of a call that fails: the error is returned unchanged, and the span
// names the sentinel it matches.
func ExampleWrap() {
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(ctx)

	cfg := config.Default()
	cfg.Path = ":memory:"
	cfg.BcryptCost = bcrypt.MinCost
	// registry.Open wraps with the global providers, which do nothing
	// here; the second wrapper records into tp.
	inner, err := registry.Open(ctx, cfg)
	if err != nil {
		panic(err)
	}
	r := telemetry.Wrap(inner, "sqlite", telemetry.WithTracerProvider(tp))
	defer r.Close()

	if err := r.Initialize(ctx); err != nil {
		panic(err)
	}
	_, err = r.State(ctx, "absent")
	fmt.Println(errors.Is(err, repository.ErrNotFound))
	for _, s := range exp.GetSpans() {
		line := s.Name + " " + s.Status.Code.String()
		for _, kv := range s.Attributes {
			if kv.Key == telemetry.AttrErrorType {
				line += " " + kv.Value.AsString()
			}
		}
		fmt.Println(line)
	}
	// Output:
	// true
	// Initialize Unset
	// State Error not_found
}
