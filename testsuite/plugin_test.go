package testsuite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/sdk/conformance"
)

// The plugin tests build real plugin binaries (each once per test binary,
// with go build) and open them through the registry, as decnet-db does:
// the example plugin a contributor copies (examples/plugin, serving
// SQLite), and the probe (testdata/plugins/probe), which serves SQLite or
// MySQL and misbehaves on request.

// pluginBinary is a binary (a plugin, or the decnet-db command) built once
// per test binary.
type pluginBinary struct {
	pkg     string // the main package, relative to the module root
	ldflags string // added to -s -w
	once    sync.Once
	path    string
	err     error
}

// probeFlags build the probe as cmd/go builds a test binary
// (testing.Testing() is true): the MySQL driver then accepts the empty
// password of the test server, as it does in the test binaries.
const probeFlags = "-X testing.testBinary=1"

var (
	examplePlugin = &pluginBinary{pkg: "./examples/plugin"}
	probePlugin   = &pluginBinary{pkg: "./testsuite/testdata/plugins/probe", ldflags: probeFlags}
	// probeV2Plugin offers protocol 2 only.
	probeV2Plugin = &pluginBinary{pkg: "./testsuite/testdata/plugins/probe", ldflags: probeFlags + " -X main.mode=v2"}
	// noisyPlugin writes to stdout before serving.
	noisyPlugin = &pluginBinary{pkg: "./testsuite/testdata/plugins/probe", ldflags: probeFlags + " -X main.mode=stdout"}
	// mutePlugin never answers the handshake.
	mutePlugin = &pluginBinary{pkg: "./testsuite/testdata/plugins/probe", ldflags: probeFlags + " -X main.mode=mute"}
	// decnetDBCommand is the decnet-db command (see commandBinary).
	decnetDBCommand = &pluginBinary{pkg: "./hostcmd/decnet-db"}
)

// build returns the binary's path, building it on first use.
func (p *pluginBinary) build(t testing.TB) string {
	t.Helper()
	p.once.Do(func() { p.path, p.err = buildPlugin(p.pkg, p.ldflags) })
	if p.err != nil {
		t.Fatalf("build %s: %v", p.pkg, p.err)
	}
	return p.path
}

var buildSeq sync.Mutex

// buildPlugin builds pkg (a plugin or the command) into the build
// directory of this test binary.
func buildPlugin(pkg, ldflags string) (string, error) {
	buildSeq.Lock() // one go build at a time: they share the build cache
	defer buildSeq.Unlock()
	dir, err := pluginBuildDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, fmt.Sprintf("bin-%x", sha256.Sum256([]byte(pkg+"|"+ldflags))))
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-o", out, "-ldflags", strings.TrimSpace("-s -w "+ldflags), pkg)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, b)
	}
	return out, nil
}

// pluginBuildDir is the directory of the binaries this test binary builds:
// a directory of its own, by process id, under the system's temporary
// directory. Those of earlier test binaries that are gone are removed.
var pluginBuildDir = sync.OnceValues(func() (string, error) {
	const prefix = "decnet-db-test-plugins-"
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, d := range old {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), prefix))
		if err == nil && pid != os.Getpid() && !processAlive(pid) {
			_ = os.RemoveAll(d)
		}
	}
	dir := filepath.Join(os.TempDir(), prefix+strconv.Itoa(os.Getpid()))
	return dir, os.MkdirAll(dir, 0o755)
})

// processAlive reports whether the process pid exists and is not a zombie.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// waitUntil waits up to d for cond to hold, polling it. If it does not,
// it reports msg() as an error and returns false.
func waitUntil(t *testing.T, d time.Duration, cond func() bool, msg func() string) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Error(msg())
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// waitGone waits up to d for the process pid to be gone.
func waitGone(t *testing.T, pid int, d time.Duration) {
	t.Helper()
	if !waitUntil(t, d, func() bool { return !processAlive(pid) },
		func() string { return fmt.Sprintf("process %d still runs %s later", pid, d) }) {
		t.FailNow()
	}
}

// waitNoneRuns waits up to d for no process to run the binary at path:
// a plugin the host refused must not be left running. It compares path,
// its symbolic links resolved, with the targets of /proc/<pid>/exe, and
// fails if it cannot read even its own.
func waitNoneRuns(t *testing.T, path string, d time.Duration) {
	t.Helper()
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Readlink("/proc/self/exe"); err != nil {
		t.Fatalf("cannot tell which processes run %s: %v", path, err)
	}
	var running []string
	if !waitUntil(t, d, func() bool {
		running = nil
		exes, _ := filepath.Glob("/proc/[0-9]*/exe")
		for _, exe := range exes {
			if target, err := os.Readlink(exe); err == nil && target == resolved {
				running = append(running, filepath.Base(filepath.Dir(exe)))
			}
		}
		return len(running) == 0
	}, func() string { return fmt.Sprintf("%s still runs %s later (pids %v)", path, d, running) }) {
		t.FailNow()
	}
}

// openRefused opens cfg, which must fail (if it does not, the test fails
// saying it wanted want), and returns the error.
func openRefused(t *testing.T, ctx context.Context, cfg config.Config, want string) error {
	t.Helper()
	r, err := registry.Open(ctx, cfg)
	if err == nil {
		_ = r.Close()
		t.Fatalf("open: no error, want %s", want)
	}
	t.Logf("open: %v", err)
	return err
}

// errorSays checks that the message of err has each of want.
func errorSays(t *testing.T, err error, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// installPlugin puts the binary bin into a new plugin directory as
// decnet-db-driver-<typ>, with its checksum file when withChecksum is set,
// and returns the directory and the binary's path.
func installPlugin(t testing.TB, bin, typ string, withChecksum bool) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, registry.PluginPrefix+typ)
	if err := os.Link(bin, path); err != nil {
		copyFile(t, bin, path)
	}
	if withChecksum {
		writeChecksum(t, path, fileSHA256(t, path))
	}
	return dir, path
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// writeChecksum writes path.sha256 as sha256sum does.
func writeChecksum(t testing.TB, path, digest string) {
	t.Helper()
	line := digest + "  " + filepath.Base(path) + "\n"
	if err := os.WriteFile(path+registry.ChecksumSuffix, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pluginConfig is the test configuration selecting the plugin typ in dir.
func pluginConfig(typ string, dirs ...string) config.Config {
	cfg := testConfig(typ)
	cfg.PluginDirs = dirs
	return cfg
}

// openPlugin opens and initializes a repository of cfg in a new SQLite
// file; the test closes it.
func openPlugin(t *testing.T, cfg config.Config) repository.Repository {
	t.Helper()
	if cfg.Path == config.DefaultPath {
		cfg.Path = filepath.Join(t.TempDir(), "plugin.db")
	}
	r, err := registry.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open plugin %s: %v", cfg.Type, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if err := r.Initialize(t.Context()); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return r
}

// setting returns the value of a setting of Describe.
func setting(t *testing.T, r repository.Repository, name string) string {
	t.Helper()
	info, err := r.Describe(t.Context())
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	for _, s := range info.Settings {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("describe: no setting %q in %v", name, info.Settings)
	return ""
}

// pluginPID returns the process id of the probe serving r.
func pluginPID(t *testing.T, r repository.Repository) int {
	t.Helper()
	pid, err := strconv.Atoi(setting(t, r, "test.pid"))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestPluginConformanceSQLite runs the whole conformance suite through the
// example plugin, a real plugin process serving SQLite: every check opens
// its repositories (a process each) and gets its scratch storage from the
// plugin's Scratch.
func TestPluginConformanceSQLite(t *testing.T) {
	dir, _ := installPlugin(t, examplePlugin.build(t), "example", true)
	conformance.Run(t, conformance.RegistryFactory(pluginConfig("example", dir)))
}

// TestPluginConformanceMySQL runs the whole conformance suite through a
// plugin serving MySQL (the probe, with a MySQL URL), each check in its
// own scratch database.
func TestPluginConformanceMySQL(t *testing.T) {
	url := mysqlURL(t)
	dir, _ := installPlugin(t, probePlugin.build(t), "probe", true)
	cfg := pluginConfig("probe", dir)
	cfg.URL = url
	conformance.Run(t, conformance.RegistryFactory(cfg))
}

// plugin tests that need no server open SQLite through the probe.
func probeConfig(t *testing.T) config.Config {
	t.Helper()
	dir, _ := installPlugin(t, probePlugin.build(t), "probe", true)
	return pluginConfig("probe", dir)
}
