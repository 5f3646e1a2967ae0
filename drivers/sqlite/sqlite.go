// Package sqlite is the SQLite backend (mattn/go-sqlite3, cgo), DECNET's
// embedded default. Importing it registers the type "sqlite".
//
// Every connection runs in WAL mode with synchronous=NORMAL and a 30 s
// busy timeout. All writes go through one connection, so concurrent writers
// queue in Go instead of failing with SQLITE_BUSY; reads use a pool. A new
// database file is created with mode 0600. The path ":memory:" opens a new
// in-memory database that lives as long as the repository;
// "file:NAME?mode=memory" opens the in-memory database NAME shared by
// every repository of the process that has it open.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/huandu/go-sqlbuilder"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// Name is the DECNET_DB_TYPE value this driver registers under.
const Name = "sqlite"

func init() { registry.Register(Name, driver{}) }

// BusyTimeout is how long a connection waits for a lock held by another
// process before giving up.
const BusyTimeout = 30 * time.Second

// Repo is a SQLite repository: the shared SQL repository with the SQLite
// dialect.
type Repo struct {
	*repository.SQLRepository
}

var _ repository.Repository = Repo{}

type driver struct{}

// Open opens the SQLite database at cfg.Path (decnet.db when empty).
func (driver) Open(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	return Open(ctx, cfg)
}

// Scratch makes a new database file in a new temporary directory.
func (driver) Scratch(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error) {
	dir, err := os.MkdirTemp("", "decnet-db-scratch-")
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("sqlite: scratch: %w", err)
	}
	cfg.Path = dir + string(os.PathSeparator) + "scratch.db"
	return cfg, func(context.Context) error { return os.RemoveAll(dir) }, nil
}

var memSeq atomic.Int64

// Open opens the SQLite database of cfg.Path; see the package doc for the
// forms of the path. The repository is not initialized yet.
func Open(ctx context.Context, cfg config.Config) (Repo, error) {
	path := cfg.Path
	if path == "" {
		path = config.DefaultPath
	}
	d := dialect{}
	var dsn string
	switch {
	case path == ":memory:":
		d.memory = true
		dsn = fmt.Sprintf("file:/decnet-memory-%d-%d?vfs=memdb", os.Getpid(), memSeq.Add(1))
	case strings.HasPrefix(path, "file:"):
		u, err := url.Parse(path)
		if err != nil {
			return Repo{}, fmt.Errorf("sqlite: path %q: %w", path, err)
		}
		if u.Query().Get("mode") == "memory" {
			d.memory = true
			dsn = "file:/" + strings.TrimPrefix(u.Opaque, "/") + "?vfs=memdb"
		} else {
			dsn = path
		}
	default:
		if err := createFile(path); err != nil {
			return Repo{}, err
		}
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath()
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	// _mutex=no: database/sql never shares a connection between goroutines.
	// _txlock=immediate: a write transaction takes the write lock at BEGIN,
	// so it never fails to upgrade a read lock half-way.
	write := repository.OpenDB(repository.DSNConnector(&sqlite3.SQLiteDriver{}, dsn+sep+"_mutex=no&_txlock=immediate"), d, false)
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	rd := d
	rd.reader = true
	read := repository.OpenDB(repository.DSNConnector(&sqlite3.SQLiteDriver{}, dsn+sep+"_mutex=no"), rd, cfg.PrePing(false))
	read.SetMaxOpenConns(cfg.MaxOpen())
	read.SetMaxIdleConns(max(1, cfg.PoolSize))
	read.SetConnMaxLifetime(cfg.PoolRecycle)

	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		_ = read.Close()
		return Repo{}, fmt.Errorf("sqlite: open %s: %w", path, d.MapError(err))
	}
	return Repo{repository.NewSQLRepository(d, repository.Options{
		Read: read, Write: write,
		AdminUser: cfg.AdminUser, AdminPassword: cfg.AdminPassword, BcryptCost: cfg.BcryptCost,
		WriteConcurrency: 1,
	})}, nil
}

// createFile creates the database file with mode 0600 when it does not
// exist, so that SQLite does not create it with the umask's mode.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w: %w", path, repository.ErrUnavailable, err)
	}
	return f.Close()
}

// dialect is SQLite's: the base dialect with what SQLite does its own way.
type dialect struct {
	repository.BaseDialect
	memory bool // an in-memory database: no WAL
	reader bool // a connection of the read pool
}

func (dialect) Name() string              { return Name }
func (dialect) Flavor() sqlbuilder.Flavor { return sqlbuilder.SQLite }

func (dialect) ColumnType(kind repository.ColumnKind) string {
	switch kind {
	case repository.KindID:
		// AUTOINCREMENT: ids are never reused, even after every row is
		// deleted.
		return "INTEGER PRIMARY KEY AUTOINCREMENT"
	case repository.KindInt:
		return "INTEGER"
	case repository.KindFloat:
		return "REAL"
	case repository.KindBool:
		return "BOOLEAN"
	default:
		return "TEXT"
	}
}

func (dialect) TableExists(table string) (string, []any) {
	return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'", nil
}

func (dialect) BindTime(t time.Time) any { return repository.FormatTextTime(t) }

func (dialect) JSONFieldEquals(column, key, value string) string {
	return "json_extract(" + column + `, '$."` + key + `"') = ` + value
}

func (dialect) JSONArrayContains(column, value string) string {
	return "EXISTS (SELECT 1 FROM json_each(" + column + ") WHERE json_each.value = " + value + ")"
}

// ContainsFold relies on LIKE, which SQLite folds for ASCII.
func (dialect) ContainsFold(column, pattern string) string {
	return column + " LIKE " + pattern + " ESCAPE '!'"
}

func (dialect) TimeBucket(column string, seconds int64) string {
	return fmt.Sprintf("(CAST(strftime('%%s', %s) AS INTEGER) / %d) * %d", column, seconds, seconds)
}

func (dialect) IDMode() repository.IDMode { return repository.IDLastIsLast }

// MaxParams is SQLITE_MAX_VARIABLE_NUMBER's default.
func (dialect) MaxParams() int { return 32766 }

func (d dialect) SessionSetup() []string {
	out := []string{
		fmt.Sprintf("PRAGMA busy_timeout = %d", BusyTimeout.Milliseconds()),
		"PRAGMA foreign_keys = ON",
		// Multi-row INSERTs keep a statement journal; in memory it costs
		// no disk writes (on disk it was half again the rows' own writes).
		"PRAGMA temp_store = MEMORY",
	}
	if !d.memory {
		out = append(out, "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL")
	}
	if d.reader {
		out = append(out, "PRAGMA query_only = ON")
	}
	return out
}

func (dialect) MapError(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case sqlite3.ErrConstraint:
		if se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey {
			return fmt.Errorf("%w: %w", repository.ErrConflict, err)
		}
	case sqlite3.ErrTooBig, sqlite3.ErrFull:
		return fmt.Errorf("%w: %w", repository.ErrTooLarge, err)
	case sqlite3.ErrCantOpen, sqlite3.ErrNotADB, sqlite3.ErrPerm, sqlite3.ErrReadonly:
		return fmt.Errorf("%w: %w", repository.ErrUnavailable, err)
	}
	return err
}

func (d dialect) Describe(ctx context.Context, db *sql.DB) (repository.BackendInfo, error) {
	var info repository.BackendInfo
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&info.Version); err != nil {
		return info, err
	}
	info.Version = "SQLite " + info.Version
	for _, p := range []string{"journal_mode", "synchronous", "busy_timeout", "foreign_keys", "page_size", "page_count", "freelist_count"} {
		var v string
		if err := db.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
			return info, err
		}
		if p == "synchronous" {
			v = map[string]string{"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}[v]
		}
		info.Settings = append(info.Settings, repository.Setting{Name: p, Value: v})
	}
	var file string
	if err := db.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err == nil {
		if file == "" || d.memory {
			file = "(in memory)"
		}
		info.Settings = append(info.Settings, repository.Setting{Name: "file", Value: file})
	}
	return info, nil
}
