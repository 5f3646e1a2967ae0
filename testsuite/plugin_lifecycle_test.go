package testsuite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/plugin"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// TestPluginVersionMismatch checks that a plugin offering none of the
// host's protocol versions is refused with an error naming the plugin, its
// versions and the host's, and that its process does not stay behind.
func TestPluginVersionMismatch(t *testing.T) {
	dir, path := installPlugin(t, probeV2Plugin.build(t), "probev2", true)
	err := openRefused(t, t.Context(), pluginConfig("probev2", dir), "a version mismatch")
	var ve *plugin.VersionError
	if !errors.As(err, &ve) {
		t.Fatalf("open: %v, want a *plugin.VersionError", err)
	}
	if ve.Plugin != path || !slices.Equal(ve.PluginVersions, []int{2}) || !slices.Equal(ve.HostVersions, []int{1}) {
		t.Errorf("VersionError %+v, want plugin %s, its versions [2], the host's [1]", ve, path)
	}
	errorSays(t, err, path, "[2]", "[1]")
	waitNoneRuns(t, path, 3*time.Second)
}

// TestPluginStdoutPollution checks that a plugin writing to stdout before
// the handshake is refused with an error that shows the line and says to
// log to stderr, and that its process does not stay behind.
func TestPluginStdoutPollution(t *testing.T) {
	dir, path := installPlugin(t, noisyPlugin.build(t), "noisy", true)
	err := openRefused(t, t.Context(), pluginConfig("noisy", dir), "one about stdout")
	var se *plugin.StdoutError
	if !errors.As(err, &se) || se.Plugin != path || se.Line != "probe: starting up, version 0.0.1" {
		t.Fatalf("open: %v, want a *plugin.StdoutError with the line", err)
	}
	errorSays(t, err, "stdout before the handshake", "probe: starting up, version 0.0.1", "stderr")
	waitNoneRuns(t, path, 3*time.Second)
}

// TestPluginStartEndsWithTheContext checks that opening a plugin that never
// answers the handshake returns when the caller's context ends, with its
// error, and kills the process then (not when go-plugin's own start
// timeout, a minute, runs out).
func TestPluginStartEndsWithTheContext(t *testing.T) {
	dir, path := installPlugin(t, mutePlugin.build(t), "mute", true)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	err := openRefused(t, ctx, pluginConfig("mute", dir), "the context's")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("open took %s with a 1s context", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), path) {
		t.Errorf("open: %v, want context.DeadlineExceeded naming %s", err, path)
	}
	waitNoneRuns(t, path, 3*time.Second)
}

// TestPluginCloseEndsProcess checks that Close ends the plugin process,
// that a second Close is fine, and that calls fail with ErrClosed after.
func TestPluginCloseEndsProcess(t *testing.T) {
	r := openPlugin(t, probeConfig(t))
	pid := pluginPID(t, r)
	if err := r.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	waitGone(t, pid, 3*time.Second)
	if err := r.Close(); err != nil {
		t.Errorf("close again: %v", err)
	}
	if err := r.Ping(t.Context()); !errors.Is(err, repository.ErrClosed) {
		t.Errorf("ping after close: %v, want ErrClosed", err)
	}
}

// expectExited checks that err says that the plugin exited, fast.
func expectExited(t *testing.T, what string, err error, took, limit time.Duration) {
	t.Helper()
	if !errors.Is(err, repository.ErrUnavailable) || !strings.Contains(err.Error(), "exited") {
		t.Errorf("%s: %v, want ErrUnavailable saying the plugin exited", what, err)
	}
	if took > limit {
		t.Errorf("%s took %s, want at most %s", what, took, limit)
	}
}

// TestPluginCrashMidCall checks that a plugin that dies in the middle of a
// call makes that call, and the calls after it, fail promptly with an
// error saying it exited; opening again starts a new process.
func TestPluginCrashMidCall(t *testing.T) {
	for _, c := range []struct {
		name string
		// crash makes the plugin of r die during an AddLog (or AddLogs),
		// and returns that call's error.
		crash func(t *testing.T, r repository.Repository) error
	}{
		{"exit", func(t *testing.T, r repository.Repository) error {
			_, err := r.AddLog(t.Context(), crashLog("decnet-test:exit"))
			return err
		}},
		{"exit_in_a_batch", func(t *testing.T, r repository.Repository) error {
			logs := make([]repository.Log, 500)
			for i := range logs {
				logs[i] = sampleCrashLog()
			}
			logs[250] = crashLog("decnet-test:exit")
			return r.AddLogs(t.Context(), logs)
		}},
		{"sigkill_itself", func(t *testing.T, r repository.Repository) error {
			_, err := r.AddLog(t.Context(), crashLog("decnet-test:kill"))
			return err
		}},
		{"killed_by_another", func(t *testing.T, r repository.Repository) error {
			pid := pluginPID(t, r)
			done := make(chan error, 1)
			go func() {
				_, err := r.AddLog(context.Background(), crashLog("decnet-test:hang"))
				done <- err
			}()
			time.Sleep(300 * time.Millisecond)
			select {
			case err := <-done:
				t.Fatalf("the hanging AddLog returned early: %v", err)
			default:
			}
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				return err
			case <-time.After(10 * time.Second):
				t.Fatal("AddLog still hangs 10s after the plugin was killed")
				return nil
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := probeConfig(t)
			cfg.Path = filepath.Join(t.TempDir(), "crash.db")
			r := openPlugin(t, cfg)
			pid := pluginPID(t, r)
			if _, err := r.AddLog(t.Context(), sampleCrashLog()); err != nil {
				t.Fatalf("add log: %v", err)
			}
			start := time.Now()
			err := c.crash(t, r)
			expectExited(t, "the call the plugin died in", err, time.Since(start), 5*time.Second)
			t.Logf("the call: %v", err)
			waitGone(t, pid, 3*time.Second)

			start = time.Now()
			err = r.Ping(t.Context())
			expectExited(t, "a call after the plugin died", err, time.Since(start), time.Second)
			t.Logf("the call after: %v", err)
			if err := r.Close(); err != nil {
				t.Errorf("close after the crash: %v", err)
			}

			again := openPlugin(t, cfg)
			if p := pluginPID(t, again); p == pid {
				t.Errorf("reopened on the same process %d", p)
			}
			if n, err := again.CountLogs(t.Context(), repository.LogFilter{}); err != nil || n != 1 {
				t.Errorf("count logs after reopening: %d, %v; want 1", n, err)
			}
		})
	}
}

func crashLog(msg string) repository.Log {
	l := sampleCrashLog()
	l.Msg = msg
	return l
}

func sampleCrashLog() repository.Log {
	return repository.Log{Timestamp: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Decky: "d", Service: "ssh", RawLine: "x"}
}

// TestPluginErrorsKeepIdentity checks, through a real plugin process, that
// every sentinel error and the context errors keep their identity and
// their message.
func TestPluginErrorsKeepIdentity(t *testing.T) {
	r := openPlugin(t, probeConfig(t))
	for _, s := range repository.Sentinels() {
		t.Run(plugin.Reason(s), func(t *testing.T) {
			_, err := r.State(t.Context(), "decnet-test:err:"+plugin.Reason(s))
			if !errors.Is(err, s) {
				t.Fatalf("state: %v, want %v", err, s)
			}
			want := "probe: asked for " + plugin.Reason(s) + ": " + s.Error()
			if err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			for _, other := range repository.Sentinels() {
				if other != s && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
		})
	}
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := r.AddLog(ctx, crashLog("decnet-test:hang"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("add log past its deadline: %v, want context.DeadlineExceeded", err)
		}
		if err := r.Ping(t.Context()); err != nil {
			t.Errorf("ping after: %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(200 * time.Millisecond)
			cancel()
		}()
		_, err := r.AddLog(ctx, crashLog("decnet-test:hang"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("add log canceled: %v, want context.Canceled", err)
		}
	})
	t.Run("not_found_from_the_backend", func(t *testing.T) {
		_, err := r.UserByUUID(t.Context(), "no-such-uuid")
		if !errors.Is(err, repository.ErrNotFound) {
			t.Errorf("user by uuid: %v, want ErrNotFound", err)
		}
	})
}

// TestPluginEnvironmentNotInherited checks that the plugin does not see
// the host's environment, and gets its configuration from the open call.
func TestPluginEnvironmentNotInherited(t *testing.T) {
	t.Setenv("DECNET_TEST_CANARY", "tweet")
	cfg := probeConfig(t)
	cfg.Path = filepath.Join(t.TempDir(), "env.db")
	r := openPlugin(t, cfg)
	if v := setting(t, r, "test.canary"); v != "" {
		t.Errorf("the plugin sees DECNET_TEST_CANARY=%q from the host", v)
	}
	env := strings.Split(setting(t, r, "test.env"), ",")
	for _, name := range env {
		if name == "DECNET_TEST_CANARY" || name == "PATH" || name == "HOME" {
			t.Errorf("the plugin inherited %s from the host (its environment: %v)", name, env)
		}
	}
	if got := setting(t, r, "test.cfg.path"); got != cfg.Path {
		t.Errorf("the plugin got path %q, want %q", got, cfg.Path)
	}
}

// logCapture is a log/slog handler that keeps the records.
type logCapture struct {
	mu      sync.Mutex
	records []slog.Record
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records = append(c.records, r.Clone())
	return nil
}
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCapture) WithGroup(string) slog.Handler      { return c }

// find returns the record with the message, if any.
func (c *logCapture) find(msg string) (slog.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.records {
		if r.Message == msg {
			return r, true
		}
	}
	return slog.Record{}, false
}

func attrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

// TestPluginLogLevels checks that the plugin's log lines reach the host's
// log (log/slog's default logger) at their level, with their attributes.
func TestPluginLogLevels(t *testing.T) {
	capture := &logCapture{}
	old, oldOut, oldFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(capture))
	t.Cleanup(func() {
		// SetDefault also sends the log package to the handler; undo both.
		slog.SetDefault(old)
		log.SetOutput(oldOut)
		log.SetFlags(oldFlags)
	})

	openPlugin(t, probeConfig(t))
	for _, c := range []struct {
		msg   string
		level slog.Level
	}{
		{"probe: debug line", slog.LevelDebug},
		{"probe: info line", slog.LevelInfo},
		{"probe: warn line", slog.LevelWarn},
		{"probe: error line", slog.LevelError},
	} {
		var rec slog.Record
		if !waitUntil(t, 5*time.Second, func() bool {
			var ok bool
			rec, ok = capture.find(c.msg)
			return ok
		}, func() string { return fmt.Sprintf("the host did not log %q", c.msg) }) {
			continue
		}
		if rec.Level != c.level {
			t.Errorf("%q logged at %v, want %v", c.msg, rec.Level, c.level)
		}
		a := attrs(rec)
		if a["k"] != "v" || a["plugin"] != registry.PluginPrefix+"probe" {
			t.Errorf("%q logged with %v, want k=v and plugin=%s", c.msg, a, registry.PluginPrefix+"probe")
		}
	}
}

// TestPluginHostKilled checks that a host killed with SIGKILL leaves no
// plugin process behind: the plugin watches its parent, and closes the
// repository before it exits. The host is this
// test binary, run again as TestPluginHostHelper.
func TestPluginHostKilled(t *testing.T) {
	dir, _ := installPlugin(t, probePlugin.build(t), "probe", true)
	db := filepath.Join(t.TempDir(), "host.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestPluginHostHelper$")
	cmd.Env = append(os.Environ(), "DECNET_TEST_PLUGIN_HOST="+dir, "DECNET_TEST_PLUGIN_HOST_DB="+db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	pids := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "plugin-pid "); ok {
				n, _ := strconv.Atoi(p)
				pids <- n
			}
		}
		close(pids)
	}()
	var pid int
	select {
	case p, ok := <-pids:
		if !ok || p == 0 {
			t.Fatal("the host ended without printing the plugin's pid")
		}
		pid = p
	case <-time.After(time.Minute):
		t.Fatal("the host did not print the plugin's pid within a minute")
	}
	if !processAlive(pid) {
		t.Fatalf("plugin %d is not running before the host is killed", pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, pid, 3*time.Second)
	// It closed the repository before exiting (the probe marks its Close).
	if _, err := os.Stat(db + ".closed"); err != nil {
		t.Errorf("the plugin exited without closing the repository: %v", err)
	}
}

// TestPluginHostHelper is the host of TestPluginHostKilled: it opens the
// probe, prints its pid, and waits to be killed. It does nothing unless
// DECNET_TEST_PLUGIN_HOST is set.
func TestPluginHostHelper(t *testing.T) {
	dir := os.Getenv("DECNET_TEST_PLUGIN_HOST")
	if dir == "" {
		t.Skip("the host process of TestPluginHostKilled")
	}
	cfg := pluginConfig("probe", dir)
	cfg.Path = os.Getenv("DECNET_TEST_PLUGIN_HOST_DB")
	r := openPlugin(t, cfg)
	fmt.Printf("plugin-pid %d\n", pluginPID(t, r))
	time.Sleep(time.Hour)
}
