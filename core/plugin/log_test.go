package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
)

// TestPluginLogLines checks the lines the plugin side writes: hclog JSON
// that go-plugin parses (@level, @message, @timestamp with microseconds),
// with slog's attributes and groups flattened, at the logger's level.
func TestPluginLogLines(t *testing.T) {
	var buf bytes.Buffer
	l := newPluginLogger(&buf, hclog.Info)
	log := slog.New(NewSlogHandler(l)).With("conn", 3).WithGroup("g")
	log.Debug("hidden")
	log.Warn("careful", "k", "v", slog.Group("sub", "x", 1))
	l.SetLevel(hclog.Trace)
	log.Log(context.Background(), slog.LevelDebug-4, "tracing")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q, want 2", lines)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"@level": "warn", "@message": "careful", "conn": 3.0, "g.k": "v", "g.sub.x": 1.0} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v (line %s)", k, m[k], want, lines[0])
		}
	}
	// go-plugin parses @timestamp with this layout, and takes the line for
	// plain text when it fails.
	if ts, _ := m["@timestamp"].(string); !parses("2006-01-02T15:04:05.000000Z07:00", ts) {
		t.Errorf("@timestamp %q is not in the layout go-plugin parses", ts)
	}
	if !strings.Contains(lines[1], `"@level":"trace"`) {
		t.Errorf("trace line %s", lines[1])
	}
}

type records struct {
	mu  sync.Mutex
	got []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rec)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// recordDefault makes slog's default logger record into the result until
// the test ends.
func recordDefault(t *testing.T) *records {
	rec := &records{}
	old, oldOut, oldFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(rec))
	t.Cleanup(func() {
		// SetDefault also sends the log package to the handler; undo both.
		slog.SetDefault(old)
		log.SetOutput(oldOut)
		log.SetFlags(oldFlags)
	})
	return rec
}

// TestHostLogger checks the host side: the plugin's lines (through the
// logger named after the binary) keep their level; go-plugin's own Info
// messages go to Debug; go-plugin's timestamp is dropped.
func TestHostLogger(t *testing.T) {
	rec := recordDefault(t)
	if hostLevel() != "trace" {
		t.Errorf("hostLevel() = %q, want trace", hostLevel())
	}
	host := newHostLogger("decnet-db-driver-x")
	host.Info("plugin started")
	host.Named("decnet-db-driver-x").Info("from the plugin", "k", "v", "timestamp", "2025")
	host.Named("stdio").Warn("stdio warning")
	host.Error("plugin process exited", "error", "exit status 3")
	want := []struct {
		msg   string
		level slog.Level
	}{
		{"plugin started", slog.LevelDebug},
		{"from the plugin", slog.LevelInfo},
		{"stdio warning", slog.LevelWarn},
		{"plugin process exited", slog.LevelError},
	}
	if len(rec.got) != len(want) {
		t.Fatalf("%d records, want %d", len(rec.got), len(want))
	}
	for i, w := range want {
		r := rec.got[i]
		if r.Message != w.msg || r.Level != w.level {
			t.Errorf("record %d: %q at %v, want %q at %v", i, r.Message, r.Level, w.msg, w.level)
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "timestamp" {
				t.Errorf("record %q keeps go-plugin's timestamp", r.Message)
			}
			return true
		})
	}
}

// TestHostLoggerKeepsPluginTimestamp checks that only go-plugin's
// timestamp, the line's last pair, is dropped: a plugin's own attribute
// named timestamp reaches the host's log.
func TestHostLoggerKeepsPluginTimestamp(t *testing.T) {
	rec := recordDefault(t)
	newHostLogger("decnet-db-driver-x").Named("decnet-db-driver-x").Info("event", "timestamp", "mine", "timestamp", "2025")
	if len(rec.got) != 1 {
		t.Fatalf("%d records, want 1", len(rec.got))
	}
	var got []string
	rec.got[0].Attrs(func(a slog.Attr) bool {
		if a.Key == "timestamp" {
			got = append(got, a.Value.String())
		}
		return true
	})
	if len(got) != 1 || got[0] != "mine" {
		t.Errorf("timestamp attributes %q, want the plugin's own [mine]", got)
	}
}

func parses(layout, s string) bool {
	_, err := time.Parse(layout, s)
	return err == nil
}
