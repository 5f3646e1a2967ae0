// Package registry maps DECNET_DB_TYPE values to backends. Drivers
// register themselves from init (import the driver package for its side
// effect); Open picks the configured one. Feature code gets every
// repository from Open, never from a driver package, so that switching
// backends is a configuration change.
package registry

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/core/telemetry"
)

// Driver opens repositories of one backend. Open returns a repository that
// is not initialized yet: call Initialize to create the schema. A driver
// never reads the environment; everything it needs is in cfg.
type Driver interface {
	Open(ctx context.Context, cfg config.Config) (repository.Repository, error)
}

// OpenFunc adapts a function to Driver.
type OpenFunc func(ctx context.Context, cfg config.Config) (repository.Repository, error)

// Open calls f.
func (f OpenFunc) Open(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	return f(ctx, cfg)
}

// Scratcher is implemented by drivers that can create throwaway storage:
// new, empty, and separate from the configured database's data. The
// conformance command and the tests use it. Scratch returns the
// configuration that opens the scratch storage and a function that
// removes it.
type Scratcher interface {
	Scratch(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error)
}

var (
	mu      sync.RWMutex
	drivers = map[string]Driver{}
)

// Register makes a driver available under name (matched case-insensitively).
// It panics when d is nil or name is taken: both are bugs at init time.
func Register(name string, d Driver) {
	mu.Lock()
	defer mu.Unlock()
	if d == nil {
		panic("registry: Register driver is nil")
	}
	key := strings.ToLower(name)
	if _, dup := drivers[key]; dup {
		panic("registry: Register called twice for driver " + name)
	}
	drivers[key] = d
}

// Drivers returns the names of the registered drivers, sorted.
func Drivers() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the driver registered under name (case-insensitive).
func Lookup(name string) (Driver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := drivers[strings.ToLower(name)]
	return d, ok
}

// typeOf returns the configured type, sqlite when unset, lower case.
func typeOf(cfg config.Config) string {
	if cfg.Type == "" {
		return config.DefaultType
	}
	return strings.ToLower(cfg.Type)
}

// driverFor finds the driver for cfg: a registered one, else
// ErrUnknownDriver listing what is registered.
func driverFor(cfg config.Config) (string, Driver, error) {
	name := typeOf(cfg)
	if d, ok := Lookup(name); ok {
		return name, d, nil
	}
	d, found, err := findPlugin(cfg, name)
	if err != nil {
		return name, nil, err
	}
	if found {
		return name, d, nil
	}
	dirs := "none (set " + config.VarPluginDir + ")"
	if len(cfg.PluginDirs) > 0 {
		dirs = strings.Join(cfg.PluginDirs, ", ")
	}
	return name, nil, fmt.Errorf("registry: %w %q (forgotten import?); registered: %s; plugin directories searched for %s: %s",
		repository.ErrUnknownDriver, name, strings.Join(Drivers(), ", "), PluginPrefix+name, dirs)
}

// Open opens a repository of the configured type (DECNET_DB_TYPE; sqlite
// when unset). It is not initialized yet. Errors never contain a password.
//
// The repository is wrapped with telemetry (telemetry.Wrap): a span and
// metrics per call, which cost next to nothing unless telemetry is on.
// When cfg.Tracing (DECNET_DEVELOPER_TRACING) is true, Open first turns it
// on for the process (telemetry.Enable, once; an error there fails Open).
// Telemetry then stays on for the life of the process; the repository's
// Close flushes what it recorded to the exporters.
func Open(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	name, d, err := driverFor(cfg)
	if err != nil {
		return nil, err
	}
	cfg.Type = name
	if cfg.Tracing {
		if _, err := telemetry.Enable(ctx, cfg); err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
	}
	repo, err := d.Open(ctx, cfg)
	if err != nil {
		return nil, Redact(cfg, err)
	}
	return telemetry.Wrap(repo, name), nil
}

// Scratch creates throwaway storage for the configured type; see Scratcher.
func Scratch(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error) {
	name, d, err := driverFor(cfg)
	if err != nil {
		return config.Config{}, nil, err
	}
	s, ok := d.(Scratcher)
	if !ok {
		return config.Config{}, nil, fmt.Errorf("registry: driver %q cannot create scratch storage", name)
	}
	cfg.Type = name
	out, cleanup, err := s.Scratch(ctx, cfg)
	if err != nil {
		return config.Config{}, nil, Redact(cfg, err)
	}
	return out, cleanup, nil
}

// Redact returns err with every password of cfg replaced by ***, keeping
// what errors.Is and errors.As find.
func Redact(cfg config.Config, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := cfg.Redact(msg); red != msg {
		return &redacted{msg: red, err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
