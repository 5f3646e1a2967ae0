package plugin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"

	hclog "github.com/hashicorp/go-hclog"
)

// Logging crosses the boundary as go-plugin expects: the plugin writes
// hclog JSON lines to its stderr (newPluginLogger; sdk.Serve points
// log/slog's default logger there too), and go-plugin on the host parses
// each line and logs it through the hclog.Logger it was given: hostLogger,
// which hands it to log/slog's default logger at the line's level.

// levelTrace is hclog's trace level in log/slog: below Debug.
const levelTrace = slog.LevelDebug - 4

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func hclogLevel(l slog.Level) hclog.Level {
	switch {
	case l < slog.LevelDebug:
		return hclog.Trace
	case l < slog.LevelInfo:
		return hclog.Debug
	case l < slog.LevelWarn:
		return hclog.Info
	case l < slog.LevelError:
		return hclog.Warn
	default:
		return hclog.Error
	}
}

// hostLevel is the lowest level log/slog's default logger keeps, as an
// hclog level name: what the host asks the plugin to send.
func hostLevel() string {
	ctx := context.Background()
	for _, l := range []slog.Level{levelTrace, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		if slog.Default().Enabled(ctx, l) {
			return hclogLevel(l).String()
		}
	}
	return hclog.Error.String()
}

// hostLogger is the hclog.Logger the host gives go-plugin. It logs through
// slog.Default() at the time of each line, with the attribute plugin (the
// binary's name). Lines of the plugin's stderr keep their level; go-plugin's
// own messages at Info ("plugin started", "plugin process exited") go to
// Debug, their warnings and errors stay.
type hostLogger struct {
	name    string
	plugin  string
	forward bool
	implied []any
}

var _ hclog.Logger = (*hostLogger)(nil)

func newHostLogger(plugin string) *hostLogger { return &hostLogger{plugin: plugin} }

func (l *hostLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	sl := slogLevel(level)
	if !l.forward && sl == slog.LevelInfo {
		sl = slog.LevelDebug
	}
	ctx := context.Background()
	logger := slog.Default()
	if !logger.Enabled(ctx, sl) {
		return
	}
	// go-plugin ends a line of the plugin's stderr with the line's
	// timestamp; the record has its own. A plugin's own "timestamp"
	// attribute, before it, stays.
	if n := len(args); n >= 2 && args[n-2] == "timestamp" {
		args = args[:n-2]
	}
	attrs := make([]any, 0, 2+len(l.implied)+len(args))
	attrs = append(attrs, "plugin", l.plugin)
	attrs = appendPairs(attrs, l.implied)
	attrs = appendPairs(attrs, args)
	logger.Log(ctx, sl, msg, attrs...)
}

// appendPairs appends hclog's key/value arguments as slog's.
func appendPairs(dst, args []any) []any {
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			return append(dst, hclog.MissingKey, args[i])
		}
		k, ok := args[i].(string)
		if !ok {
			k = fmt.Sprint(args[i])
		}
		dst = append(dst, k, args[i+1])
	}
	return dst
}

func (l *hostLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *hostLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *hostLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *hostLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *hostLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *hostLogger) enabled(level hclog.Level) bool {
	return slog.Default().Enabled(context.Background(), slogLevel(level))
}

func (l *hostLogger) IsTrace() bool { return l.enabled(hclog.Trace) }
func (l *hostLogger) IsDebug() bool { return l.enabled(hclog.Debug) }
func (l *hostLogger) IsInfo() bool  { return l.enabled(hclog.Info) }
func (l *hostLogger) IsWarn() bool  { return l.enabled(hclog.Warn) }
func (l *hostLogger) IsError() bool { return l.enabled(hclog.Error) }

func (l *hostLogger) ImpliedArgs() []any { return l.implied }

func (l *hostLogger) With(args ...any) hclog.Logger {
	c := *l
	c.implied = append(append([]any(nil), l.implied...), args...)
	return &c
}

func (l *hostLogger) Name() string { return l.name }

// Named returns the logger of a sub-system. go-plugin logs the plugin's
// stderr lines through Named(the binary's base name).
func (l *hostLogger) Named(name string) hclog.Logger {
	c := *l
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	c.forward = l.forward || name == l.plugin
	return &c
}

func (l *hostLogger) ResetNamed(name string) hclog.Logger {
	c := *l
	c.name = name
	c.forward = name == l.plugin
	return &c
}

// SetLevel does nothing: log/slog's default logger decides.
func (l *hostLogger) SetLevel(hclog.Level) {}

// GetLevel returns Trace, so that go-plugin hands over every line and
// log/slog decides.
func (l *hostLogger) GetLevel() hclog.Level { return hclog.Trace }

func (l *hostLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *hostLogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		l.Info(string(bytes.TrimRight(p, "\n")))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// newPluginLogger returns the plugin's logger: hclog JSON lines on w (the
// plugin's real stderr), at level.
func newPluginLogger(w io.Writer, level hclog.Level) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Level:      level,
		Output:     w,
		JSONFormat: true,
		// go-plugin parses @timestamp with microseconds.
		TimeFormat: hclog.TimeFormatJSON,
	})
}

// slogHandler is a log/slog handler that writes through an hclog.Logger:
// on the plugin's side, it makes slog's default logger write the lines the
// host parses.
type slogHandler struct {
	l      hclog.Logger
	attrs  []any
	prefix string // the open groups, "a.b."
}

// NewSlogHandler returns a log/slog handler that logs through l, mapping
// levels (below Debug is hclog's Trace) and flattening groups into dotted
// keys.
func NewSlogHandler(l hclog.Logger) slog.Handler { return &slogHandler{l: l} }

func (h *slogHandler) Enabled(_ context.Context, level slog.Level) bool {
	return hclogLevel(level) >= h.l.GetLevel()
}

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	args := make([]any, 0, len(h.attrs)+2*r.NumAttrs())
	args = append(args, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args = appendAttr(args, h.prefix, a)
		return true
	})
	h.l.Log(hclogLevel(r.Level), r.Message, args...)
	return nil
}

func appendAttr(dst []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			dst = appendAttr(dst, p, g)
		}
		return dst
	}
	if a.Key == "" {
		return dst
	}
	return append(dst, prefix+a.Key, v.Any())
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]any(nil), h.attrs...)
	for _, a := range attrs {
		c.attrs = appendAttr(c.attrs, h.prefix, a)
	}
	return &c
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix += name + "."
	return &c
}
