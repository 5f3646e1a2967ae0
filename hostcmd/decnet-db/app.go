package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/repository"
)

// sqliteType is the type the SQLite driver registers (drivers/sqlite.Name,
// not imported here: feature code imports drivers blank only). Its storage
// is the file DECNET_DB_PATH.
const sqliteType = "sqlite"

// globalFlags are the root's persistent flags; each overrides its
// DECNET_* variable when set.
type globalFlags struct {
	config string // --config, DECNET_DB_CONFIG
	typ    string // --type, DECNET_DB_TYPE
	path   string // --path, DECNET_DB_PATH
	url    string // --url, DECNET_DB_URL
}

// app is what every command shares: the streams, the environment, the
// global flags and, once loaded, the configuration.
type app struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ func() []string
	flags   globalFlags

	// started is set when a command's own code starts (the root's
	// PersistentPreRunE): an error before that is cobra's, a usage error.
	started bool
	// cfg is the configuration once loadConfig succeeded.
	cfg *config.Config
}

// loadConfig loads the configuration once: the global flags > the
// DECNET_* environment > the config file > the defaults. An error wraps
// config.ErrConfig and names the variable.
func (a *app) loadConfig() (config.Config, error) {
	if a.cfg != nil {
		return *a.cfg, nil
	}
	cfg, err := config.Load(config.Options{
		Environ: a.environ,
		File:    a.flags.config,
		Overrides: map[string]string{
			config.VarType: a.flags.typ,
			config.VarPath: a.flags.path,
			config.VarURL:  a.flags.url,
		},
	})
	if err != nil {
		return config.Config{}, err
	}
	a.cfg = &cfg
	return cfg, nil
}

// open loads the configuration and opens the configured backend through
// the registry. The repository is not initialized yet; the caller closes
// it. An unknown type wraps repository.ErrUnknownDriver.
func (a *app) open(ctx context.Context) (repository.Repository, config.Config, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, cfg, err
	}
	repo, err := a.openWith(ctx, cfg)
	return repo, cfg, err
}

// redact replaces every password in s with ***: those of the loaded
// configuration or, before it is loaded, those of the environment and
// the --url flag. DECNET's default admin password is public and left
// alone, or every "admin" in a message would be masked.
func (a *app) redact(s string) string {
	var c config.Config
	if a.cfg != nil {
		c = *a.cfg
	} else {
		c = config.Config{Password: a.getenv(config.VarPassword), AdminPassword: a.getenv(config.VarAdminPassword), URL: a.getenv(config.VarURL)}
		if a.flags.url != "" {
			c.URL = a.flags.url
		}
	}
	if c.AdminPassword == config.DefaultAdminPassword {
		c.AdminPassword = ""
	}
	return c.Redact(s)
}

// where names the configured storage for messages, never with a password:
// the SQLite file (absolute), else the redacted URL, else
// type://user@host:port/name from the components.
func where(cfg config.Config) string {
	if cfg.Type == sqliteType {
		p := cfg.Path
		if p == "" {
			p = config.DefaultPath
		}
		if p != ":memory:" && !strings.HasPrefix(p, "file:") {
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
		}
		return p
	}
	if cfg.URL != "" {
		return config.RedactURL(cfg.URL)
	}
	host := cfg.Host
	if cfg.Port != 0 {
		host = net.JoinHostPort(host, strconv.Itoa(cfg.Port))
	}
	u := url.URL{Scheme: cfg.Type, Host: host, Path: "/" + cfg.Name}
	if cfg.User != "" {
		u.User = url.User(cfg.User)
	}
	return u.String()
}

// closeRepo closes repo and, when *errp is nil, sets it to the error of
// Close. Use it deferred, with a named error result.
func closeRepo(repo repository.Repository, errp *error) {
	if err := repo.Close(); err != nil && *errp == nil {
		*errp = fmt.Errorf("close: %w", err)
	}
}

// getenv reads one variable of the command's environment (the injected
// one in tests).
func (a *app) getenv(key string) string {
	if a.environ == nil {
		return ""
	}
	for _, kv := range a.environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
