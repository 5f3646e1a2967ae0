// Package mysql is the MySQL and MariaDB backend (go-sql-driver/mysql),
// for DECNET's SWARM mode: many hosts, many concurrent writers. Importing it
// registers the type "mysql".
//
// Connections always use parseTime, UTC (time_zone '+00:00'), utf8mb4 with
// the binary collation (so that equality is exact, as on every backend),
// and strict SQL mode. Tables are InnoDB; large JSON columns are
// MEDIUMTEXT. Schema creation is serialized across processes with
// GET_LOCK('decnet_schema_init', 30). Works on MySQL 8 and MariaDB 10.11.
package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	sqldriver "database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/huandu/go-sqlbuilder"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// Name is the DECNET_DB_TYPE value this driver registers under.
const Name = "mysql"

// DefaultPort is MySQL's standard port, used when none is configured.
const DefaultPort = 3306

// SchemaLock is the named lock that serializes schema creation.
const SchemaLock = "decnet_schema_init"

func init() { registry.Register(Name, driver{}) }

// Repo is a MySQL repository: the shared SQL repository with the MySQL
// dialect.
type Repo struct {
	*repository.SQLRepository
}

var _ repository.Repository = Repo{}

type driver struct{}

func (driver) Open(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	return Open(ctx, cfg)
}

// Scratch creates a new, empty database on the configured server and
// returns the configuration that opens it; the cleanup drops it.
func (driver) Scratch(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error) {
	mc, err := ParseConfig(cfg)
	if err != nil {
		return config.Config{}, nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	mc.DBName = "decnet_scratch_" + hex.EncodeToString(b[:])
	admin := mc.Clone()
	admin.DBName = ""
	d := &dialect{addr: mc.Addr, user: mc.User}
	exec := func(ctx context.Context, q string) error {
		conn, err := mysqldrv.NewConnector(admin)
		if err != nil {
			return err
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	if err := exec(ctx, "CREATE DATABASE `"+mc.DBName+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		return config.Config{}, nil, fmt.Errorf("mysql: scratch: create database: %w", d.MapError(err))
	}
	cfg.URL = mc.FormatDSN()
	return cfg, func(ctx context.Context) error {
		if err := exec(ctx, "DROP DATABASE IF EXISTS `"+mc.DBName+"`"); err != nil {
			return fmt.Errorf("mysql: scratch: drop database %s: %w", mc.DBName, d.MapError(err))
		}
		return nil
	}, nil
}

// Open connects to the server of cfg (see ParseConfig), checks that it
// answers, and returns a repository that is not initialized yet.
func Open(ctx context.Context, cfg config.Config) (Repo, error) {
	mc, err := ParseConfig(cfg)
	if err != nil {
		return Repo{}, err
	}
	d := &dialect{addr: mc.Addr, user: mc.User, db: mc.DBName}
	conn, err := mysqldrv.NewConnector(mc)
	if err != nil {
		return Repo{}, fmt.Errorf("mysql: %w", d.MapError(err))
	}
	db := repository.OpenDB(conn, d, cfg.PrePing(true))
	db.SetMaxOpenConns(cfg.MaxOpen())
	db.SetMaxIdleConns(max(1, min(cfg.PoolSize, cfg.MaxOpen())))
	db.SetConnMaxLifetime(cfg.PoolRecycle)
	if err := d.probe(ctx, db); err != nil {
		_ = db.Close()
		return Repo{}, fmt.Errorf("mysql: open: %w", d.MapError(err))
	}
	return Repo{repository.NewSQLRepository(d, repository.Options{
		Read: db, Write: db,
		AdminUser: cfg.AdminUser, AdminPassword: cfg.AdminPassword, BcryptCost: cfg.BcryptCost,
	})}, nil
}

// ParseConfig resolves the connection settings by DECNET's precedence:
// cfg.URL (an explicit URL given in code, or DECNET_DB_URL) over the
// components DECNET_DB_HOST, _PORT, _NAME, _USER and _PASSWORD. The URL may
// be mysql://user:pass@host:port/db?opts, DECNET's Python form
// mysql+asyncmy://..., or the Go driver's DSN user:pass@tcp(host:port)/db.
// Errors show the URL with the password replaced by ***.
func ParseConfig(cfg config.Config) (*mysqldrv.Config, error) {
	var mc *mysqldrv.Config
	if cfg.URL != "" && !strings.Contains(cfg.URL, "://") {
		var err error
		if mc, err = mysqldrv.ParseDSN(cfg.URL); err != nil {
			return nil, fmt.Errorf("mysql: %s: malformed DSN %s: %s: %w", config.VarURL, config.RedactURL(cfg.URL), cfg.Redact(err.Error()), config.ErrConfig)
		}
	} else {
		u, err := cfg.ConnURL(Name, DefaultPort)
		if err != nil {
			return nil, fmt.Errorf("mysql: %s: %w", config.VarURL, err)
		}
		if u.Scheme != "mysql" && u.Scheme != "mariadb" {
			return nil, fmt.Errorf("mysql: %s: scheme %q of %s is not mysql: %w", config.VarURL, u.Scheme, config.RedactURL(u.String()), config.ErrConfig)
		}
		q := u.Query()
		socket := q.Get("unix_socket")
		q.Del("unix_socket")
		// The driver's own parser reads the options (timeout, tls, ...).
		if mc, err = mysqldrv.ParseDSN("/?" + q.Encode()); err != nil {
			return nil, fmt.Errorf("mysql: %s: options of %s: %s: %w", config.VarURL, config.RedactURL(u.String()), err, config.ErrConfig)
		}
		mc.Net, mc.Addr = "tcp", u.Host
		if u.Port() == "" {
			mc.Addr = net.JoinHostPort(u.Hostname(), fmt.Sprint(DefaultPort))
		}
		if socket != "" {
			mc.Net, mc.Addr = "unix", socket
		}
		mc.DBName = strings.TrimPrefix(u.Path, "/")
		if u.User != nil {
			mc.User = u.User.Username()
			mc.Passwd, _ = u.User.Password()
		}
	}
	if mc.Passwd == "" && !testing.Testing() {
		return nil, fmt.Errorf("mysql: the password is empty: set %s, or put it in %s (mysql://user:password@host:3306/db, percent-encoded): %w",
			config.VarPassword, config.VarURL, config.ErrConfig)
	}
	if err := mc.Apply(mysqldrv.Charset("utf8mb4", "utf8mb4_bin")); err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.InterpolateParams = false
	mc.CheckConnLiveness = true
	mc.ClientFoundRows = false
	// The driver would log connection errors it also returns; callers get
	// them as errors, so its log is silenced.
	mc.Logger = discardLogger{}
	mc.MaxAllowedPacket = 0 // read the server's, so an oversized value fails before it is sent
	if mc.Timeout == 0 {
		mc.Timeout = 10 * time.Second
	}
	return mc, nil
}

// dialect is MySQL's: the base dialect with what MySQL does its own way.
type dialect struct {
	repository.BaseDialect
	addr, user, db string
	idMode         repository.IDMode
}

// probe checks the server answers and learns how ids are assigned.
func (d *dialect) probe(ctx context.Context, db *sql.DB) error {
	var lockMode, increment int
	err := db.QueryRowContext(ctx, "SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment").Scan(&lockMode, &increment)
	if err != nil {
		return err
	}
	// Lock modes 0 and 1 give the rows of one multi-row INSERT
	// consecutive ids; mode 2 (interleaved) does not promise it.
	d.idMode = repository.IDPerRow
	if lockMode <= 1 && increment == 1 {
		d.idMode = repository.IDLastIsFirst
	}
	return nil
}

func (*dialect) Name() string              { return Name }
func (*dialect) Flavor() sqlbuilder.Flavor { return sqlbuilder.MySQL }

func (*dialect) ColumnType(kind repository.ColumnKind) string {
	switch kind {
	case repository.KindID:
		return "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"
	case repository.KindFloat:
		return "DOUBLE"
	case repository.KindTime:
		return "DATETIME(6)"
	case repository.KindLarge:
		return "MEDIUMTEXT"
	}
	var base repository.BaseDialect
	return base.ColumnType(kind)
}

func (*dialect) TableOptions() string {
	return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
}

// IndexesInline: MySQL 8 has no CREATE INDEX IF NOT EXISTS.
func (*dialect) IndexesInline() bool { return true }

func (*dialect) TableExists(table string) (string, []any) {
	return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '" + table + "'", nil
}

func (*dialect) JSONFieldEquals(column, key, value string) string {
	return "JSON_UNQUOTE(JSON_EXTRACT(" + column + `, '$."` + key + `"')) = ` + value
}

func (*dialect) JSONArrayContains(column, value string) string {
	return "JSON_CONTAINS(" + column + ", JSON_QUOTE(" + value + "))"
}

func (*dialect) TimeBucket(column string, seconds int64) string {
	return fmt.Sprintf("CAST(FLOOR(UNIX_TIMESTAMP(%s) / %d) * %d AS SIGNED)", column, seconds, seconds)
}

func (*dialect) Upsert(conflict, update []string) string {
	sets := make([]string, len(update))
	for i, c := range update {
		sets[i] = c + " = VALUES(" + c + ")"
	}
	return "ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
}

// InsertIgnore updates nothing on a duplicate key, which MySQL reports as
// zero affected rows. INSERT IGNORE would also silence other errors, such
// as a value too long, so it is not used.
func (*dialect) InsertIgnore(conflict []string) string {
	return "ON DUPLICATE KEY UPDATE " + conflict[0] + " = " + conflict[0]
}

func (*dialect) Truncate(table string) string { return "TRUNCATE TABLE " + table }

func (d *dialect) IDMode() repository.IDMode { return d.idMode }

func (*dialect) SessionSetup() []string {
	return []string{
		"SET time_zone = '+00:00'",
		"SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
	}
}

// LockSchema takes GET_LOCK on conn; the server also releases it if the
// connection dies.
func (*dialect) LockSchema(ctx context.Context, conn *sql.Conn) (func(), error) {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('"+SchemaLock+"', 30)").Scan(&got); err != nil {
		return nil, err
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, fmt.Errorf("timed out after 30s waiting for lock %q held by another process", SchemaLock)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(ctx, "SELECT RELEASE_LOCK('"+SchemaLock+"')")
	}, nil
}

// MySQL error numbers mapped to sentinels.
const (
	erDupEntry           = 1062
	erDataTooLong        = 1406
	erNetPacketTooLarge  = 1153
	erAccessDenied       = 1045
	erDBAccessDenied     = 1044
	erBadDB              = 1049
	erTooManyConnections = 1040
	erServerShutdown     = 1053
	erConnKilled         = 1927 // MariaDB: connection was killed
)

func (d *dialect) MapError(err error) error {
	var me *mysqldrv.MySQLError
	var ne net.Error
	where := fmt.Sprintf("server %s as user %q", d.addr, d.user)
	switch {
	case errors.As(err, &me):
		switch me.Number {
		case erDupEntry:
			return fmt.Errorf("%w: %w", repository.ErrConflict, err)
		case erDataTooLong, erNetPacketTooLarge:
			return fmt.Errorf("%w: %w (raise the server's max_allowed_packet for values near 16 MiB)", repository.ErrTooLarge, err)
		case erAccessDenied, erDBAccessDenied, erBadDB, erTooManyConnections, erServerShutdown, erConnKilled:
			return fmt.Errorf("%s: %w: %w", where, repository.ErrUnavailable, err)
		}
	case errors.Is(err, mysqldrv.ErrPktTooLarge):
		return fmt.Errorf("%w: %w (raise the server's max_allowed_packet)", repository.ErrTooLarge, err)
	case errors.As(err, &ne), errors.Is(err, mysqldrv.ErrInvalidConn), errors.Is(err, sqldriver.ErrBadConn):
		return fmt.Errorf("%s: %w: %w", where, repository.ErrUnavailable, err)
	}
	return err
}

func (d *dialect) Describe(ctx context.Context, db *sql.DB) (repository.BackendInfo, error) {
	var info repository.BackendInfo
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&info.Version); err != nil {
		return info, err
	}
	info.Settings = append(info.Settings,
		repository.Setting{Name: "server", Value: d.addr},
		repository.Setting{Name: "database", Value: d.db},
		repository.Setting{Name: "user", Value: d.user})
	for _, v := range []string{"innodb_autoinc_lock_mode", "max_allowed_packet", "character_set_server",
		"collation_connection", "time_zone", "sql_mode", "max_connections", "innodb_flush_log_at_trx_commit"} {
		var val sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT @@"+v).Scan(&val); err != nil {
			return info, err
		}
		info.Settings = append(info.Settings, repository.Setting{Name: v, Value: val.String})
	}
	return info, nil
}

type discardLogger struct{}

func (discardLogger) Print(...any) {}
