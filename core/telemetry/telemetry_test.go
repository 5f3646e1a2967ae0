package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/core/telemetry"
)

// harness holds SDK providers that record in memory: spans in an
// in-memory exporter (synchronously), metrics in a manual reader.
type harness struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	h.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = h.tp.Shutdown(context.Background())
		_ = h.mp.Shutdown(context.Background())
	})
	return h
}

// wrap wraps r with the harness's providers.
func (h *harness) wrap(r repository.Repository, driver string) repository.Repository {
	return telemetry.Wrap(r, driver, telemetry.WithTracerProvider(h.tp), telemetry.WithMeterProvider(h.mp))
}

// collect returns the metrics recorded so far, by name.
func (h *harness) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// durationCount returns the number of durations recorded with exactly the
// attributes attrs.
func (h *harness) durationCount(t *testing.T, attrs ...attribute.KeyValue) uint64 {
	t.Helper()
	m, ok := h.collect(t)[telemetry.DurationMetric]
	if !ok {
		return 0
	}
	if m.Unit != "s" {
		t.Errorf("%s unit = %q, want s", telemetry.DurationMetric, m.Unit)
	}
	hist, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T, want a float64 histogram", telemetry.DurationMetric, m.Data)
	}
	want := attribute.NewSet(attrs...)
	var n uint64
	for _, dp := range hist.DataPoints {
		if dp.Attributes.Equals(&want) {
			n += dp.Count
		}
	}
	return n
}

// errorCount returns the errors counted with exactly the attributes attrs,
// and the errors counted in all.
func (h *harness) errorCount(t *testing.T, attrs ...attribute.KeyValue) (matching, total int64) {
	t.Helper()
	m, ok := h.collect(t)[telemetry.ErrorsMetric]
	if !ok {
		return 0, 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T, want an int64 sum", telemetry.ErrorsMetric, m.Data)
	}
	want := attribute.NewSet(attrs...)
	for _, dp := range sum.DataPoints {
		total += dp.Value
		if dp.Attributes.Equals(&want) {
			matching += dp.Value
		}
	}
	return matching, total
}

// onlySpan returns the one span ended so far.
func (h *harness) onlySpan(t *testing.T) tracetest.SpanStub {
	t.Helper()
	spans := h.spans.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans (%v), want 1", len(spans), spanNames(spans))
	}
	return spans[0]
}

func spanNames(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// attr returns the span's attribute key, as a string, and whether it is set.
func attr(s tracetest.SpanStub, key attribute.Key) (string, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.Emit(), true
		}
	}
	return "", false
}

func TestSpanAndMetricsOnSuccess(t *testing.T) {
	tests := []struct {
		name, driver, system string
	}{
		{"sqlite", "sqlite", "sqlite"},
		{"mysql", "mysql", "mysql"},
		{"postgres", "postgres", "postgresql"},
		{"other driver", "cockroach", "cockroach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			f := &fakeRepo{}
			id, err := h.wrap(f, tt.driver).AddLog(context.Background(), repository.Log{})
			if err != nil || id != 42 {
				t.Fatalf("AddLog = %d, %v; want 42, nil", id, err)
			}
			s := h.onlySpan(t)
			if s.Name != "AddLog" {
				t.Errorf("span name = %q, want AddLog", s.Name)
			}
			if s.SpanKind != trace.SpanKindClient {
				t.Errorf("span kind = %v, want client", s.SpanKind)
			}
			for key, want := range map[attribute.Key]string{
				telemetry.AttrDBSystem:     tt.system,
				telemetry.AttrDBSystemName: tt.system,
				telemetry.AttrDriver:       tt.driver,
				telemetry.AttrOperation:    "AddLog",
			} {
				if got, ok := attr(s, key); got != want {
					t.Errorf("span attribute %s = %q (set: %v), want %q", key, got, ok, want)
				}
			}
			if _, ok := attr(s, telemetry.AttrErrorType); ok {
				t.Errorf("span of a success has %s", telemetry.AttrErrorType)
			}
			if s.Status.Code != codes.Unset || len(s.Events) != 0 {
				t.Errorf("span of a success: status %v, events %v; want unset, none", s.Status, s.Events)
			}
			if s.InstrumentationScope.Name != telemetry.InstrumentationName {
				t.Errorf("instrumentation scope = %q, want %q", s.InstrumentationScope.Name, telemetry.InstrumentationName)
			}
			if n := h.durationCount(t, telemetry.AttrMethod.String("AddLog"), telemetry.AttrDriver.String(tt.driver)); n != 1 {
				t.Errorf("durations recorded for AddLog = %d, want 1", n)
			}
			if _, total := h.errorCount(t); total != 0 {
				t.Errorf("errors counted = %d, want 0", total)
			}
		})
	}
}

func TestSpanAndMetricsOnError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantType string
	}{
		{"not found", fmt.Errorf("fake: user %q: %w", "u-9", repository.ErrNotFound), "not_found"},
		{"conflict", fmt.Errorf("fake: %w", repository.ErrConflict), "conflict"},
		{"invalid", fmt.Errorf("fake: limit: %w", repository.ErrInvalid), "invalid"},
		{"too large", fmt.Errorf("fake: value: %w", repository.ErrTooLarge), "too_large"},
		{"closed", repository.ErrClosed, "closed"},
		{"unavailable", fmt.Errorf("fake: dial: %w", repository.ErrUnavailable), "unavailable"},
		{"other", errors.New("fake: disk on fire"), telemetry.ErrorOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			f := &fakeRepo{err: tt.err}
			_, err := h.wrap(f, "sqlite").UserByUUID(context.Background(), "u-9")
			if err != tt.err {
				t.Fatalf("UserByUUID error = %v, want the fake's error itself (%v)", err, tt.err)
			}
			s := h.onlySpan(t)
			if s.Name != "UserByUUID" {
				t.Errorf("span name = %q, want UserByUUID", s.Name)
			}
			if s.Status.Code != codes.Error || s.Status.Description != tt.err.Error() {
				t.Errorf("span status = %+v, want Error %q", s.Status, tt.err.Error())
			}
			if got, _ := attr(s, telemetry.AttrErrorType); got != tt.wantType {
				t.Errorf("span %s = %q, want %q", telemetry.AttrErrorType, got, tt.wantType)
			}
			recorded := false
			for _, ev := range s.Events {
				for _, kv := range ev.Attributes {
					if ev.Name == "exception" && kv.Key == "exception.message" && kv.Value.AsString() == tt.err.Error() {
						recorded = true
					}
				}
			}
			if !recorded {
				t.Errorf("span events %+v: no exception event with the error's message", s.Events)
			}
			if n := h.durationCount(t, telemetry.AttrMethod.String("UserByUUID"), telemetry.AttrDriver.String("sqlite")); n != 1 {
				t.Errorf("durations recorded for UserByUUID = %d, want 1", n)
			}
			match, total := h.errorCount(t, telemetry.AttrMethod.String("UserByUUID"),
				telemetry.AttrDriver.String("sqlite"), telemetry.AttrErrorType.String(tt.wantType))
			if match != 1 || total != 1 {
				t.Errorf("errors counted with %s=%s: %d of %d, want 1 of 1", telemetry.AttrErrorType, tt.wantType, match, total)
			}
		})
	}
}

func TestContextCancellationIsRecorded(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		wantType string
	}{
		{"canceled", canceled, fmt.Errorf("fake: ping: %w", context.Canceled), telemetry.ErrorCanceled},
		{"deadline", expired, fmt.Errorf("fake: ping: %w", context.DeadlineExceeded), telemetry.ErrorDeadlineExceeded},
		{"backend's own words after cancel", canceled, errors.New("fake: interrupted"), telemetry.ErrorCanceled},
		{"sentinel wins over the context", canceled, fmt.Errorf("fake: %w: %w", repository.ErrUnavailable, context.Canceled), "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			err := h.wrap(&fakeRepo{err: tt.err}, "sqlite").Ping(tt.ctx)
			if err != tt.err {
				t.Fatalf("Ping error = %v, want %v", err, tt.err)
			}
			s := h.onlySpan(t)
			if got, _ := attr(s, telemetry.AttrErrorType); got != tt.wantType || s.Status.Code != codes.Error {
				t.Errorf("span: %s = %q, status %v; want %q, Error", telemetry.AttrErrorType, got, s.Status.Code, tt.wantType)
			}
			if match, _ := h.errorCount(t, telemetry.AttrMethod.String("Ping"), telemetry.AttrDriver.String("sqlite"),
				telemetry.AttrErrorType.String(tt.wantType)); match != 1 {
				t.Errorf("errors counted with %s=%s = %d, want 1", telemetry.AttrErrorType, tt.wantType, match)
			}
		})
	}
}

func TestErrorType(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", repository.ErrNotFound)), "not_found"},
		{"joined", errors.Join(errors.New("x"), repository.ErrConflict), "conflict"},
		{"unknown driver", repository.ErrUnknownDriver, "unknown_driver"},
		{"canceled", context.Canceled, telemetry.ErrorCanceled},
		{"deadline", fmt.Errorf("q: %w", context.DeadlineExceeded), telemetry.ErrorDeadlineExceeded},
		{"other", errors.New("boom"), telemetry.ErrorOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := telemetry.ErrorType(tt.err); got != tt.want {
				t.Errorf("ErrorType(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestEverySentinelHasAName keeps error.type meaningful when a sentinel is
// added to package repository.
func TestEverySentinelHasAName(t *testing.T) {
	seen := map[string]error{}
	for _, s := range repository.Sentinels() {
		name := telemetry.SentinelName(s)
		if name == "" || name == telemetry.ErrorOther || name == telemetry.ErrorCanceled || name == telemetry.ErrorDeadlineExceeded {
			t.Errorf("sentinel %q is named %q", s, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("sentinels %q and %q are both named %q", prev, s, name)
		}
		seen[name] = s
		if got := telemetry.ErrorType(fmt.Errorf("x: %w", s)); got != name {
			t.Errorf("ErrorType of a wrapped %q = %q, want %q", s, got, name)
		}
	}
	if got := telemetry.SentinelName(errors.New("Some new Thing")); got != "some_new_thing" {
		t.Errorf("SentinelName of an unnamed sentinel = %q, want some_new_thing", got)
	}
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// callMethod calls the method name of r with ctx for a context and zero
// values for every other argument.
func callMethod(t *testing.T, r repository.Repository, name string, ctx context.Context) []reflect.Value {
	t.Helper()
	m := reflect.ValueOf(r).MethodByName(name)
	if !m.IsValid() {
		t.Fatalf("%T has no method %s", r, name)
	}
	args := make([]reflect.Value, m.Type().NumIn())
	for i := range args {
		if in := m.Type().In(i); in == contextType {
			args[i] = reflect.ValueOf(ctx)
		} else {
			args[i] = reflect.Zero(in)
		}
	}
	return m.Call(args)
}

// TestEveryMethodIsInstrumented calls every method of
// repository.Repository, found by reflection, through the wrapper: each
// must reach the wrapped repository with the span in its context, return
// what the wrapped repository returned, make exactly one span named after
// the method and record its duration. A method added to the interface
// without instrumentation fails here.
func TestEveryMethodIsInstrumented(t *testing.T) {
	iface := reflect.TypeFor[repository.Repository]()
	if iface.NumMethod() < 40 {
		t.Fatalf("repository.Repository has %d methods; the reflection sees too few", iface.NumMethod())
	}
	for _, outcome := range []struct {
		name string
		err  error
	}{
		{"ok", nil},
		{"error", fmt.Errorf("fake: %w", repository.ErrNotFound)},
	} {
		t.Run(outcome.name, func(t *testing.T) {
			for i := range iface.NumMethod() {
				name := iface.Method(i).Name
				t.Run(name, func(t *testing.T) {
					h := newHarness(t)
					inner := &fakeRepo{err: outcome.err}
					w := h.wrap(inner, "sqlite")

					got := callMethod(t, w, name, context.Background())
					want := callMethod(t, &fakeRepo{err: outcome.err}, name, context.Background())
					for j := range want {
						if want[j].Type() == errorType {
							if got[j].Interface() != want[j].Interface() {
								t.Errorf("error = %v, want the wrapped repository's own %v", got[j], want[j])
							}
							continue
						}
						if !reflect.DeepEqual(got[j].Interface(), want[j].Interface()) {
							t.Errorf("result %d = %#v, want %#v", j, got[j].Interface(), want[j].Interface())
						}
					}

					calls := inner.Calls()
					if len(calls) != 1 || calls[0].method != name {
						t.Fatalf("calls that reached the wrapped repository = %+v, want one %s", calls, name)
					}
					s := h.onlySpan(t)
					if s.Name != name {
						t.Errorf("span name = %q, want %q", s.Name, name)
					}
					if s.Parent.IsValid() {
						t.Errorf("span has a parent %v; the call had none", s.Parent)
					}
					if name != "Close" && !calls[0].span.Equal(s.SpanContext) {
						t.Errorf("the wrapped repository's context carried span %v, want the call's span %v", calls[0].span, s.SpanContext)
					}
					wantCode := codes.Unset
					if outcome.err != nil {
						wantCode = codes.Error
					}
					if s.Status.Code != wantCode {
						t.Errorf("span status = %v, want %v", s.Status.Code, wantCode)
					}
					if n := h.durationCount(t, telemetry.AttrMethod.String(name), telemetry.AttrDriver.String("sqlite")); n != 1 {
						t.Errorf("durations recorded = %d, want 1", n)
					}
					wantErrs := int64(0)
					if outcome.err != nil {
						wantErrs = 1
					}
					if match, total := h.errorCount(t, telemetry.AttrMethod.String(name), telemetry.AttrDriver.String("sqlite"),
						telemetry.AttrErrorType.String("not_found")); match != wantErrs || total != wantErrs {
						t.Errorf("errors counted: %d matching of %d, want %d", match, total, wantErrs)
					}
				})
			}
		})
	}
}

func TestErrorsKeepTheirIdentity(t *testing.T) {
	inner := fmt.Errorf("fake: state %q: %w", "absent", repository.ErrNotFound)
	for _, tt := range []struct {
		name string
		wrap func(repository.Repository) repository.Repository
	}{
		{"telemetry off", func(r repository.Repository) repository.Repository { return telemetry.Wrap(r, "sqlite") }},
		{"telemetry on", func(r repository.Repository) repository.Repository { return newHarness(t).wrap(r, "sqlite") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.wrap(&fakeRepo{err: inner}).State(context.Background(), "absent")
			if !errors.Is(err, repository.ErrNotFound) {
				t.Errorf("errors.Is(%v, ErrNotFound) = false through the wrapper", err)
			}
			if err != inner {
				t.Errorf("error = %#v, want the wrapped repository's error itself", err)
			}
		})
	}
}

// TestChildSpans checks that the caller's span is the parent of the call's
// span, and the call's span the parent of a span the backend starts from
// the context it gets.
func TestChildSpans(t *testing.T) {
	h := newHarness(t)
	f := &fakeRepo{child: func(ctx context.Context) {
		_, s := trace.SpanFromContext(ctx).TracerProvider().Tracer("backend").Start(ctx, "child")
		s.End()
	}}
	ctx, parent := h.tp.Tracer("caller").Start(context.Background(), "request")
	if _, err := h.wrap(f, "sqlite").Stats(ctx); err != nil {
		t.Fatal(err)
	}
	parent.End()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range h.spans.GetSpans() {
		byName[s.Name] = s
	}
	call, child, req := byName["Stats"], byName["child"], byName["request"]
	if call.Parent.SpanID() != req.SpanContext.SpanID() || call.SpanContext.TraceID() != req.SpanContext.TraceID() {
		t.Errorf("Stats span's parent = %v, want the caller's span %v", call.Parent, req.SpanContext)
	}
	if child.Parent.SpanID() != call.SpanContext.SpanID() {
		t.Errorf("backend span's parent = %v, want the Stats span %v", child.Parent, call.SpanContext)
	}
}

// TestCloseIsARootSpanAndFlushes checks that Close's span has no parent and
// that Close exports what the providers held.
func TestCloseIsARootSpanAndFlushes(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Hour)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	w := telemetry.Wrap(&fakeRepo{}, "sqlite", telemetry.WithTracerProvider(tp))

	ctx, parent := tp.Tracer("caller").Start(context.Background(), "request")
	if err := w.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("%d spans exported before Close; the batcher should hold them", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	names := spanNames(spans)
	if len(spans) != 3 {
		t.Fatalf("spans exported by Close = %v, want request, Ping and Close", names)
	}
	for _, s := range spans {
		if s.Name == "Close" && s.Parent.IsValid() {
			t.Errorf("Close span has parent %v, want none", s.Parent)
		}
	}
}

func TestWrapDefaultsAndNil(t *testing.T) {
	if telemetry.Wrap(nil, "sqlite") != nil {
		t.Error("Wrap(nil) != nil")
	}
	f := &fakeRepo{}
	w := telemetry.Wrap(f, "sqlite")
	if n, err := w.MaxLogID(context.Background()); n != 99 || err != nil {
		t.Errorf("MaxLogID = %d, %v through the default wrapper; want 99, nil", n, err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if len(f.Calls()) != 2 {
		t.Errorf("calls = %+v, want MaxLogID and Close", f.Calls())
	}
	u, ok := w.(interface{ Unwrap() repository.Repository })
	if !ok || u.Unwrap() != repository.Repository(f) {
		t.Error("the wrapper's Unwrap does not return the wrapped repository")
	}
}

func TestDBSystem(t *testing.T) {
	for driver, want := range map[string]string{
		"sqlite": "sqlite", "mysql": "mysql", "MySQL": "mysql", "mariadb": "mariadb",
		"postgres": "postgresql", "postgresql": "postgresql", "cockroach": "cockroach",
	} {
		if got := telemetry.DBSystem(driver); got != want {
			t.Errorf("DBSystem(%q) = %q, want %q", driver, got, want)
		}
	}
}

// pingOnly is a repository whose Ping does nothing at all.
type pingOnly struct{ *fakeRepo }

func (pingOnly) Ping(context.Context) error { return nil }

// BenchmarkWrapperOverhead measures what the wrapper adds to a call that
// does nothing (pingOnly's Ping): direct, wrapped with telemetry off (the
// default globals), wrapped with SDK providers that record.
func BenchmarkWrapperOverhead(b *testing.B) {
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(tracetest.NewNoopExporter())))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(ctx)
		_ = mp.Shutdown(ctx)
	})
	for _, bb := range []struct {
		name string
		repo repository.Repository
	}{
		{"direct", pingOnly{}},
		{"wrapped_off", telemetry.Wrap(pingOnly{}, "sqlite")},
		{"wrapped_on", telemetry.Wrap(pingOnly{}, "sqlite", telemetry.WithTracerProvider(tp), telemetry.WithMeterProvider(mp))},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bb.repo.Ping(ctx)
			}
		})
	}
}
