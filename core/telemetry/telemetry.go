// Package telemetry records what a repository does with OpenTelemetry:
// Wrap decorates a repository.Repository so that every method call makes a
// span and feeds two metrics, and Enable installs the OpenTelemetry SDK,
// exporting over OTLP gRPC, when DECNET_DEVELOPER_TRACING is true.
// registry.Open wraps every repository it returns, built-in and plugin
// backends alike.
//
// # Spans
//
// Each call of a repository method makes one span of kind client, named
// after the method exactly as the Go method is named ("AddLog",
// "UserByUUID", "Close"), with these attributes:
//
//   - db.system and db.system.name: the OpenTelemetry semantic-convention
//     name of the backend, "sqlite", "mysql" or "postgresql", else the
//     driver's name (see DBSystem);
//   - decnet.db.driver: the registered type name (DECNET_DB_TYPE);
//   - db.operation.name: the method's name.
//
// The context passed to the wrapped method carries the span
// (trace.ContextWithSpan), so a backend or a plugin transport can start
// child spans from it. Close takes no context: its span is a new root.
//
// When the method returns an error, the span records it (an "exception"
// event), its status is Error with the error's message, and the attribute
// error.type names what the error is (see ErrorType): the sentinel of
// package repository it matches with errors.Is ("not_found", "conflict",
// ...), "canceled" or "deadline_exceeded" when the call failed because its
// context ended, "_OTHER" otherwise. Repository errors never contain a
// password (the repository contract), so neither do spans.
//
// # Metrics
//
//   - decnet.db.client.duration (histogram, seconds): the duration of every
//     call, with the attributes method (the method's name) and
//     decnet.db.driver.
//   - decnet.db.client.errors (counter, {error}): the calls that returned an
//     error, with method, decnet.db.driver and error.type.
//
// # Cost when off
//
// Without options Wrap uses the OpenTelemetry globals (otel.GetTracerProvider,
// otel.GetMeterProvider), which do nothing until Enable (or any other code)
// installs an SDK. A wrapped call then costs a non-recording span, two
// clock readings and an atomic load per instrument: well under a
// microsecond, next to a database round trip. Providers installed after
// Wrap are picked up, as OpenTelemetry's globals delegate to the first
// provider set.
//
// # Turning it on
//
// Enable, which registry.Open calls when DECNET_DEVELOPER_TRACING is true,
// installs SDK providers exporting over OTLP gRPC (configured by the
// standard OTEL_* variables) as the process's globals, once. They stay
// installed for the life of the process: the Close of every wrapped
// repository flushes them, so that what it recorded is exported, and the
// shutdown that Enable returns, for the process's owner to call at exit,
// stops them. Status reports whether telemetry is on and where it
// exports, for `decnet-db doctor`.
//
// The wrapper returns the wrapped method's results and error unchanged
// (errors keep their identity: errors.Is and == hold through it). Its
// Unwrap method returns the wrapped repository.
package telemetry

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/decnet/decnet-db/core/repository"
)

// InstrumentationName names the tracer and the meter of the wrapper.
const InstrumentationName = "github.com/decnet/decnet-db/core/telemetry"

// The metrics of the wrapper.
const (
	// DurationMetric is the histogram of call durations, in seconds.
	DurationMetric = "decnet.db.client.duration"
	// ErrorsMetric counts the calls that returned an error.
	ErrorsMetric = "decnet.db.client.errors"
)

// The attributes of the spans and metrics.
const (
	// AttrDBSystem is the backend's semantic-convention name (spans).
	AttrDBSystem attribute.Key = "db.system"
	// AttrDBSystemName is AttrDBSystem under its current
	// semantic-convention key (spans).
	AttrDBSystemName attribute.Key = "db.system.name"
	// AttrDriver is the registered type name (spans and metrics).
	AttrDriver attribute.Key = "decnet.db.driver"
	// AttrOperation is the method's name (spans).
	AttrOperation attribute.Key = "db.operation.name"
	// AttrMethod is the method's name (metrics).
	AttrMethod attribute.Key = "method"
	// AttrErrorType says what an error is, see ErrorType (spans and the
	// error counter).
	AttrErrorType attribute.Key = "error.type"
)

// The values of AttrErrorType besides the sentinels' names.
const (
	ErrorCanceled         = "canceled"
	ErrorDeadlineExceeded = "deadline_exceeded"
	ErrorOther            = "_OTHER"
)

// durationBuckets are the histogram's bounds, in seconds: those the
// semantic conventions recommend for database client durations.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// sentinelNames names the sentinels of package repository for
// AttrErrorType. A sentinel missing here is named after its message.
var sentinelNames = map[error]string{
	repository.ErrNotFound:      "not_found",
	repository.ErrConflict:      "conflict",
	repository.ErrInvalid:       "invalid",
	repository.ErrTooLarge:      "too_large",
	repository.ErrClosed:        "closed",
	repository.ErrUnknownDriver: "unknown_driver",
	repository.ErrUnavailable:   "unavailable",
}

// SentinelName returns the name ErrorType gives to a sentinel of package
// repository: "not_found" for ErrNotFound, and so on. A sentinel without a
// name of its own gets its message in snake case.
func SentinelName(sentinel error) string {
	if n, ok := sentinelNames[sentinel]; ok {
		return n
	}
	return strings.Join(strings.FieldsFunc(strings.ToLower(sentinel.Error()), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}), "_")
}

// ErrorType classifies err for AttrErrorType: "" for nil, the name of the
// first sentinel of repository.Sentinels() that err matches (errors.Is),
// else ErrorCanceled or ErrorDeadlineExceeded when err matches
// context.Canceled or context.DeadlineExceeded, else ErrorOther.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range repository.Sentinels() {
		if errors.Is(err, s) {
			return SentinelName(s)
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return ErrorCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorDeadlineExceeded
	}
	return ErrorOther
}

// classify is ErrorType, except that an error of no known kind returned
// after the call's context ended is put down to the context: a backend may
// report an interrupted query in its own words.
func classify(ctx context.Context, err error) string {
	kind := ErrorType(err)
	if kind == ErrorOther && ctx.Err() != nil {
		return ErrorType(ctx.Err())
	}
	return kind
}

// DBSystem returns the semantic-convention value of db.system for a
// driver's type name: "sqlite", "mysql", "mariadb" and "postgresql" for
// their backends, the driver's name otherwise.
func DBSystem(driver string) string {
	switch strings.ToLower(driver) {
	case "sqlite", "sqlite3":
		return "sqlite"
	case "mysql":
		return "mysql"
	case "mariadb":
		return "mariadb"
	case "postgres", "postgresql", "pgx":
		return "postgresql"
	}
	return driver
}

// Option configures Wrap.
type Option func(*options)

type options struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider makes the wrapper use tp instead of the global
// TracerProvider. A nil tp is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) {
		if tp != nil {
			o.tp = tp
		}
	}
}

// WithMeterProvider makes the wrapper use mp instead of the global
// MeterProvider. A nil mp is ignored.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) {
		if mp != nil {
			o.mp = mp
		}
	}
}

// flusher is what the SDK's providers implement to export what they hold.
type flusher interface {
	ForceFlush(ctx context.Context) error
}

// flushTimeout bounds the flush that Close runs.
const flushTimeout = 5 * time.Second

// op is what the wrapper precomputes for one method.
type op struct {
	name       string
	spanOpts   []trace.SpanStartOption
	recordOpts []metric.RecordOption
	method     attribute.KeyValue
}

// repo is the wrapper.
type repo struct {
	inner    repository.Repository
	driver   attribute.KeyValue
	tracer   trace.Tracer
	duration metric.Float64Histogram
	errs     metric.Int64Counter
	flushers []flusher
	ops      [numMethods]op
}

var _ repository.Repository = (*repo)(nil)

// Wrap returns r instrumented: every method call makes a span and records
// its duration and error (see the package doc). driver is the registered
// type name (DECNET_DB_TYPE). Without options Wrap uses the OpenTelemetry
// globals, which do nothing unless telemetry is enabled. The wrapper's
// Close also flushes the providers, so that what the repository recorded
// is exported: the providers installed by Enable, or those given as
// options when they have a ForceFlush method (the SDK's do). Wrap(nil)
// returns nil. The result is safe for concurrent use when r is.
func Wrap(r repository.Repository, driver string, opts ...Option) repository.Repository {
	if r == nil {
		return nil
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	w := &repo{inner: r, driver: AttrDriver.String(driver)}
	tp, mp := o.tp, o.mp
	if tp == nil || mp == nil {
		w.flushers = append(w.flushers, enabledFlusher{})
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	} else if f, ok := tp.(flusher); ok {
		w.flushers = append(w.flushers, f)
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	} else if f, ok := mp.(flusher); ok {
		w.flushers = append(w.flushers, f)
	}
	w.tracer = tp.Tracer(InstrumentationName)
	meter := mp.Meter(InstrumentationName)
	var err error
	w.duration, err = meter.Float64Histogram(DurationMetric,
		metric.WithDescription("Duration of decnet-db repository calls."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		otel.Handle(err)
	}
	if w.duration == nil {
		w.duration = metricnoop.Float64Histogram{}
	}
	w.errs, err = meter.Int64Counter(ErrorsMetric,
		metric.WithDescription("decnet-db repository calls that returned an error."),
		metric.WithUnit("{error}"))
	if err != nil {
		otel.Handle(err)
	}
	if w.errs == nil {
		w.errs = metricnoop.Int64Counter{}
	}

	system := DBSystem(driver)
	for m := range numMethods {
		name := methodNames[m]
		spanOpts := []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(AttrDBSystem.String(system), AttrDBSystemName.String(system),
				w.driver, AttrOperation.String(name)),
		}
		if m == mClose {
			spanOpts = append(spanOpts, trace.WithNewRoot())
		}
		method := AttrMethod.String(name)
		w.ops[m] = op{
			name:       name,
			spanOpts:   spanOpts,
			recordOpts: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(method, w.driver))},
			method:     method,
		}
	}
	return w
}

// Unwrap returns the repository that w instruments, for callers that look
// for a backend's optional capabilities by type assertion.
func (w *repo) Unwrap() repository.Repository { return w.inner }

// start begins the call of method m: its span, carried by the returned
// context, and its start time.
func (w *repo) start(ctx context.Context, m method) (context.Context, trace.Span, time.Time) {
	o := &w.ops[m]
	ctx, span := w.tracer.Start(ctx, o.name, o.spanOpts...)
	return ctx, span, time.Now()
}

// end records the outcome of the call of method m and ends its span.
func (w *repo) end(ctx context.Context, m method, span trace.Span, start time.Time, err error) {
	o := &w.ops[m]
	w.duration.Record(ctx, time.Since(start).Seconds(), o.recordOpts...)
	if err != nil {
		kind := classify(ctx, err)
		w.errs.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(o.method, w.driver, AttrErrorType.String(kind))))
		if span.IsRecording() {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			span.SetAttributes(AttrErrorType.String(kind))
		}
	}
	span.End()
}

// flush exports what the providers hold, reporting failures to the
// OpenTelemetry error handler: telemetry never fails a repository call.
func (w *repo) flush() {
	if len(w.flushers) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	for _, f := range w.flushers {
		if err := f.ForceFlush(ctx); err != nil {
			otel.Handle(err)
		}
	}
}
