package plugin_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/plugin"
	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
	_ "github.com/decnet/decnet-db/drivers/sqlite"
	"github.com/decnet/decnet-db/sdk/conformance"
)

// TestEveryMethodHasAnRPC checks that the service has one RPC per method
// of repository.Repository, named as the method, and that the host's Repo
// implements the contract.
func TestEveryMethodHasAnRPC(t *testing.T) {
	rpcs := map[string]bool{}
	for _, m := range pb.Repository_ServiceDesc.Methods {
		rpcs[m.MethodName] = true
	}
	contract := reflect.TypeFor[repository.Repository]()
	for i := range contract.NumMethod() {
		name := contract.Method(i).Name
		if !rpcs[name] {
			t.Errorf("repository.Repository.%s has no RPC", name)
		}
		delete(rpcs, name)
	}
	var extra []string
	for name := range rpcs {
		extra = append(extra, name)
	}
	slices.Sort(extra)
	if want := []string{"Open", "RemoveScratch", "Scratch"}; !slices.Equal(extra, want) {
		t.Errorf("RPCs beyond the contract: %v, want %v", extra, want)
	}
	var _ repository.Repository = (*plugin.Repo)(nil)
}

// sqliteOpen opens SQLite through the registry, as a plugin serving it
// does.
func sqliteOpen(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	cfg.Type = "sqlite"
	return registry.Open(ctx, cfg)
}

func testConfig(path string) config.Config {
	cfg := config.Default()
	cfg.Path = path
	cfg.BcryptCost = bcrypt.MinCost
	return cfg
}

// TestConformanceInMemory runs the conformance suite on SQLite through
// the whole protocol (conversions, errors, the server) over an in-memory
// connection: no process, so that it runs fast and under the race
// detector on both sides. testsuite runs it through real processes.
func TestConformanceInMemory(t *testing.T) {
	conformance.Run(t, func(t conformance.T) conformance.Opener {
		dir, err := os.MkdirTemp("", "plugin-conformance-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		cfg := testConfig(filepath.Join(dir, "db"))
		return func(ctx context.Context, admin conformance.Admin) (repository.Repository, error) {
			c := cfg
			c.AdminUser, c.AdminPassword = admin.User, admin.Password
			tb, ok := t.(testing.TB)
			if !ok {
				return nil, errors.New("not a testing.TB")
			}
			r, _, err := plugin.OpenInMemory(tb, sqliteOpen, nil, c)
			if err != nil {
				return nil, err
			}
			return r, nil
		}
	})
}

// TestServerAnswersEveryRPC calls every RPC of the service before Open:
// each must answer FailedPrecondition (the repository is not open), never
// Unimplemented, which would mean the server lacks it. Scratch, without a
// scratch function, is the one Unimplemented.
func TestServerAnswersEveryRPC(t *testing.T) {
	srv := plugin.NewServerForTest(nil, nil)
	for _, m := range plugin.ServiceDesc.Methods {
		if m.MethodName == "Open" {
			continue
		}
		t.Run(m.MethodName, func(t *testing.T) {
			dec := func(any) error { return nil }
			_, err := m.Handler(srv, context.Background(), dec, nil)
			want := "FailedPrecondition"
			switch m.MethodName {
			case "Scratch":
				want = "Unimplemented"
			case "RemoveScratch":
				want = "NotFound"
			}
			if got := codeOf(err); got != want {
				t.Errorf("%s before Open: %v (%s), want %s", m.MethodName, err, got, want)
			}
		})
	}
	if n := len(plugin.ServiceDesc.Streams); n != 0 {
		t.Errorf("the service has %d streaming RPCs; this test calls unary ones only", n)
	}
}

func codeOf(err error) string {
	var re *plugin.RemoteError
	if errors.As(plugin.FromStatus(err), &re) {
		return re.Code.String()
	}
	return "OK"
}

// TestOpenError checks that the error of the backend's open function
// reaches the host with its identity, and that a second Open is refused.
func TestOpenError(t *testing.T) {
	fail := func(context.Context, config.Config) (repository.Repository, error) {
		return nil, errors.New("mine: cannot reach the server: " + repository.ErrUnavailable.Error())
	}
	_, _, err := plugin.OpenInMemory(t, fail, nil, testConfig(filepath.Join(t.TempDir(), "db")))
	if err == nil || !strings.Contains(err.Error(), "mine: cannot reach the server") {
		t.Errorf("open: %v, want the backend's error", err)
	}
	wrapped := func(context.Context, config.Config) (repository.Repository, error) {
		return nil, errors.Join(errors.New("mine: dial"), repository.ErrUnavailable)
	}
	_, _, err = plugin.OpenInMemory(t, wrapped, nil, testConfig(filepath.Join(t.TempDir(), "db")))
	if !errors.Is(err, repository.ErrUnavailable) {
		t.Errorf("open: %v, want ErrUnavailable", err)
	}
}

// TestConfigReachesTheBackend checks that every field of the configuration
// a backend needs arrives as it was given, passwords included.
func TestConfigReachesTheBackend(t *testing.T) {
	prePing := true
	want := config.Config{
		Type: "mine", Path: "/var/lib/decnet/x.db", URL: "mysql://u:p%40ss@h:3306/db", Host: "h", Port: 3307,
		Name: "n", User: "u", Password: "pässẅord with spaces ", PoolSize: 7, MaxOverflow: 9,
		PoolRecycle: 90 * time.Second, PoolPrePing: &prePing, AdminUser: "root", AdminPassword: "adm\xffin",
		Tracing: true, File: "/etc/decnet.toml", BcryptCost: 5,
		PluginDirs: []string{"/opt/plugins"}, PluginSHA256: strings.Repeat("a", 64),
	}
	var got atomic.Pointer[config.Config]
	open := func(ctx context.Context, cfg config.Config) (repository.Repository, error) {
		got.Store(&cfg)
		return sqliteOpen(ctx, testConfig(filepath.Join(t.TempDir(), "db")))
	}
	r, _, err := plugin.OpenInMemory(t, open, nil, want)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The plugin directories and checksum are the host's business.
	want.PluginDirs, want.PluginSHA256 = nil, ""
	if g := got.Load(); !reflect.DeepEqual(*g, want) {
		t.Errorf("the backend got\n%#v\nwant\n%#v", *g, want)
	}
}

// TestCrashMakesCallsFail checks that calls on a plugin whose process is
// gone fail at once with ErrUnavailable saying it exited.
func TestCrashMakesCallsFail(t *testing.T) {
	r, crash, err := plugin.OpenInMemory(t, sqliteOpen, nil, testConfig(filepath.Join(t.TempDir(), "db")))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Initialize(t.Context()); err != nil {
		t.Fatal(err)
	}
	crash()
	start := time.Now()
	err = r.Ping(t.Context())
	if !errors.Is(err, repository.ErrUnavailable) || !strings.Contains(err.Error(), "exited") {
		t.Errorf("ping after the crash: %v, want ErrUnavailable saying the plugin exited", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ping after the crash took %s", d)
	}
	if err := r.Close(); err != nil {
		t.Errorf("close after the crash: %v", err)
	}
	if err := r.Ping(t.Context()); !errors.Is(err, repository.ErrClosed) {
		t.Errorf("ping after close: %v, want ErrClosed", err)
	}
}

// TestLargeValues checks that a state value of the largest size and a
// large Import cross the boundary.
func TestLargeValues(t *testing.T) {
	r, _, err := plugin.OpenInMemory(t, sqliteOpen, nil, testConfig(filepath.Join(t.TempDir(), "db")))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := t.Context()
	if err := r.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, repository.MaxLargeLen)
	big[0], big[len(big)-1] = '"', '"'
	for i := 1; i < len(big)-1; i++ {
		big[i] = 'a' + byte(i%26)
	}
	if err := r.SetState(ctx, "big", big); err != nil {
		t.Fatalf("set state of %d bytes: %v", len(big), err)
	}
	got, err := r.State(ctx, "big")
	if err != nil || !slices.Equal(got, big) {
		t.Fatalf("state: %d bytes, %v; want the %d bytes set", len(got), err, len(big))
	}
	tooBig := make([]byte, plugin.MaxMessageSize+1)
	err = r.SetState(ctx, "too-big", tooBig)
	if !errors.Is(err, repository.ErrTooLarge) {
		t.Errorf("set state over the message limit: %v, want ErrTooLarge", err)
	}
}
