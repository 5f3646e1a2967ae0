// Package postgres is the PostgreSQL backend (jackc/pgx through its
// database/sql adapter). Importing it registers the type "postgres".
//
// It is the worked example of CONTRIBUTING.md: a backend is the shared SQL
// repository, a dialect that overrides only what PostgreSQL does its own
// way (most hooks' defaults are already standard SQL), an opener and a
// registration.
package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// Name is the DECNET_DB_TYPE value this driver registers under.
const Name = "postgres"

// DefaultPort is PostgreSQL's standard port.
const DefaultPort = 5432

// schemaLockKey is the pg_advisory_lock key that serializes schema creation
// (the bytes of "decnet").
const schemaLockKey = 0x6465636e6574

func init() { registry.Register(Name, driver{}) }

// Repo is a PostgreSQL repository.
type Repo struct {
	*repository.SQLRepository
}

var _ repository.Repository = Repo{}

type driver struct{}

func (driver) Open(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	return Open(ctx, cfg)
}

// connConfig resolves the URL by DECNET's precedence (cfg.URL, else the
// components) and parses it with pgx. postgres://, postgresql:// and
// DECNET's Python form postgresql+asyncpg:// are accepted.
func connConfig(cfg config.Config) (*pgx.ConnConfig, error) {
	u, err := cfg.ConnURL(Name, DefaultPort)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", config.VarURL, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("postgres: %s: scheme %q of %s is not postgres: %w", config.VarURL, u.Scheme, config.RedactURL(u.String()), config.ErrConfig)
	}
	pc, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("postgres: %s %s: %s: %w", config.VarURL, config.RedactURL(u.String()), cfg.Redact(err.Error()), config.ErrConfig)
	}
	pc.RuntimeParams["timezone"] = "UTC"
	return pc, nil
}

// Open connects to the server of cfg and returns a repository that is not
// initialized yet.
func Open(ctx context.Context, cfg config.Config) (Repo, error) {
	pc, err := connConfig(cfg)
	if err != nil {
		return Repo{}, err
	}
	d := dialect{where: fmt.Sprintf("server %s as user %q", net.JoinHostPort(pc.Host, fmt.Sprint(pc.Port)), pc.User)}
	db := repository.OpenDB(stdlib.GetConnector(*pc), d, cfg.PrePing(true))
	db.SetMaxOpenConns(cfg.MaxOpen())
	db.SetMaxIdleConns(max(1, min(cfg.PoolSize, cfg.MaxOpen())))
	db.SetConnMaxLifetime(cfg.PoolRecycle)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return Repo{}, fmt.Errorf("postgres: open: %w", d.MapError(err))
	}
	return Repo{repository.NewSQLRepository(d, repository.Options{
		Read: db, Write: db,
		AdminUser: cfg.AdminUser, AdminPassword: cfg.AdminPassword, BcryptCost: cfg.BcryptCost,
		WriteConcurrency: 4,
	})}, nil
}

// Scratch creates a new, empty database on the configured server; the
// cleanup drops it.
func (driver) Scratch(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error) {
	u, err := cfg.ConnURL(Name, DefaultPort)
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("postgres: %s: %w", config.VarURL, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "decnet_scratch_" + hex.EncodeToString(b[:])
	base := cfg // the server's own database, from which the scratch one is made and dropped
	exec := func(ctx context.Context, q string) error {
		pc, err := connConfig(base)
		if err != nil {
			return err
		}
		db := stdlib.OpenDB(*pc)
		defer db.Close()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	if err := exec(ctx, "CREATE DATABASE "+name+" ENCODING 'UTF8' TEMPLATE template0"); err != nil {
		return config.Config{}, nil, fmt.Errorf("postgres: scratch: %w", err)
	}
	su := *u
	su.Path = "/" + name
	cfg.URL = su.String()
	return cfg, func(ctx context.Context) error {
		return exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}, nil
}

// dialect is PostgreSQL's. The base dialect is already standard SQL with
// PostgreSQL's flavor, JSON operators, ON CONFLICT and RETURNING.
type dialect struct {
	repository.BaseDialect
	where string // server and user, for connection errors
}

func (dialect) Name() string { return Name }

// SyncIDs moves the identity sequence past ids that were inserted
// explicitly (Import), so that later ids continue after them.
func (dialect) SyncIDs(table, column string) []string {
	return []string{fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', '%s'), GREATEST((SELECT MAX(%s) FROM %s), 1))",
		table, column, column, table)}
}

func (dialect) LockSchema(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SELECT pg_advisory_lock(%d)", schemaLockKey)); err != nil {
		return nil, err
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), fmt.Sprintf("SELECT pg_advisory_unlock(%d)", schemaLockKey))
	}, nil
}

func (d dialect) MapError(err error) error {
	var pe *pgconn.PgError
	var ne net.Error
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &pe):
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", repository.ErrConflict, err)
		case pe.Code == "22001" || pe.Code == "54000": // string too long, program limit
			return fmt.Errorf("%w: %w", repository.ErrTooLarge, err)
		case pe.Code[:2] == "08" || pe.Code[:2] == "28" || pe.Code == "3D000" || pe.Code[:2] == "57":
			return fmt.Errorf("%s: %w: %w", d.where, repository.ErrUnavailable, err)
		}
	case errors.As(err, &ce), errors.As(err, &ne):
		return fmt.Errorf("%s: %w: %w", d.where, repository.ErrUnavailable, err)
	}
	return err
}

func (d dialect) Describe(ctx context.Context, db *sql.DB) (repository.BackendInfo, error) {
	info, err := d.BaseDialect.Describe(ctx, db)
	if err != nil {
		return info, err
	}
	for _, s := range []string{"server_version", "server_encoding", "TimeZone", "max_connections", "synchronous_commit"} {
		var v string
		if err := db.QueryRowContext(ctx, "SELECT current_setting($1)", s).Scan(&v); err != nil {
			return info, err
		}
		info.Settings = append(info.Settings, repository.Setting{Name: s, Value: v})
	}
	var dbname string
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbname); err == nil {
		info.Settings = append(info.Settings, repository.Setting{Name: "database", Value: dbname})
	}
	return info, nil
}
