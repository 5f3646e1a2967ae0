// Command probe is the plugin of the plugin tests: it serves SQLite, or
// MySQL when a URL is configured, through a repository that
// misbehaves on request so that the tests can check what the host does:
//
//   - AddLog of a log whose Msg is "decnet-test:exit" (or AddLogs of a
//     batch that holds one) exits the process
//     with status 3 in the middle of the call; "decnet-test:kill" kills it
//     with SIGKILL; "decnet-test:hang" blocks until the call's context ends.
//   - State of the key "decnet-test:err:<REASON>" returns the sentinel of
//     that name (NOT_FOUND, CONFLICT, ...; see core/plugin/errors.go).
//   - Describe adds the settings test.pid (the process id), test.env (the
//     names of the variables of its environment, comma-separated),
//     test.canary (the value of DECNET_TEST_CANARY) and test.cfg.path (the
//     configured SQLite path, to show the configuration arrived).
//   - Opening logs one line at each level, "probe: <level> line", with the
//     attribute k=v.
//
// Built with -ldflags "-X main.mode=v2" it offers protocol 2 only; with
// "-X main.mode=stdout" it writes a line to stdout before serving; with
// "-X main.mode=mute" it never serves.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/plugin"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/sdk"

	_ "github.com/decnet/decnet-db/drivers/mysql"
	_ "github.com/decnet/decnet-db/drivers/sqlite"
)

// mode is set with -ldflags "-X main.mode=...".
var mode string

// backend is the driver for cfg: mysql when a URL is set (a MySQL URL, or
// the DSN of MySQL's scratch storage), else sqlite.
func backend(cfg config.Config) string {
	if cfg.URL != "" {
		return "mysql"
	}
	return "sqlite"
}

func open(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	slog.Debug("probe: debug line", "k", "v")
	slog.Info("probe: info line", "k", "v")
	slog.Warn("probe: warn line", "k", "v")
	slog.Error("probe: error line", "k", "v")
	cfg.Type = backend(cfg)
	path := "" // the SQLite file, beside which Close leaves its marker
	if cfg.Type == "sqlite" {
		path = cfg.Path
	}
	r, err := registry.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &probe{Repository: r, path: path}, nil
}

func scratch(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error) {
	cfg.Type = backend(cfg)
	return registry.Scratch(ctx, cfg)
}

type probe struct {
	repository.Repository
	path string
}

func (p *probe) AddLog(ctx context.Context, l repository.Log) (int64, error) {
	if err := misbehave(ctx, l.Msg); err != nil {
		return 0, err
	}
	return p.Repository.AddLog(ctx, l)
}

func (p *probe) AddLogs(ctx context.Context, logs []repository.Log) error {
	for _, l := range logs {
		if err := misbehave(ctx, l.Msg); err != nil {
			return err
		}
	}
	return p.Repository.AddLogs(ctx, logs)
}

// misbehave does what a log's msg asks for (see the package comment).
func misbehave(ctx context.Context, msg string) error {
	switch msg {
	case "decnet-test:exit":
		os.Exit(3)
	case "decnet-test:kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "decnet-test:hang":
		<-ctx.Done()
		return fmt.Errorf("probe: hang: %w", ctx.Err())
	}
	return nil
}

// Close closes the backend and leaves a file "<path>.closed" beside the
// database, so that a test can tell that the plugin closed it.
func (p *probe) Close() error {
	err := p.Repository.Close()
	if p.path != "" {
		if werr := os.WriteFile(p.path+".closed", nil, 0o600); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

func (p *probe) State(ctx context.Context, key string) (json.RawMessage, error) {
	if reason, ok := strings.CutPrefix(key, "decnet-test:err:"); ok {
		for _, err := range repository.Sentinels() {
			if plugin.Reason(err) == reason {
				return nil, fmt.Errorf("probe: asked for %s: %w", reason, err)
			}
		}
		return nil, fmt.Errorf("probe: no sentinel %q", reason)
	}
	return p.Repository.State(ctx, key)
}

func (p *probe) Describe(ctx context.Context) (repository.BackendInfo, error) {
	info, err := p.Repository.Describe(ctx)
	if err != nil {
		return info, err
	}
	var names []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		names = append(names, k)
	}
	sort.Strings(names)
	info.Settings = append(info.Settings,
		repository.Setting{Name: "test.pid", Value: strconv.Itoa(os.Getpid())},
		repository.Setting{Name: "test.env", Value: strings.Join(names, ",")},
		repository.Setting{Name: "test.canary", Value: os.Getenv("DECNET_TEST_CANARY")},
		repository.Setting{Name: "test.cfg.path", Value: p.path},
	)
	return info, nil
}

func main() {
	switch mode {
	case "v2":
		plugin.Serve(plugin.ServeConfig{Open: open, Scratch: scratch, Protocols: []int{2}})
	case "stdout":
		fmt.Println("probe: starting up, version 0.0.1")
	case "mute":
		select {} // never handshakes
	}
	sdk.Serve(open, sdk.WithScratch(scratch))
}
