package repository

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/huandu/go-sqlbuilder"
)

// ColumnKind is the abstract type of a column; the Dialect names the SQL
// type of each kind.
type ColumnKind int

// The column kinds of the schema.
const (
	KindID    ColumnKind = iota // 64-bit auto-increment primary key; ids never reused
	KindInt                     // 64-bit integer
	KindFloat                   // double precision
	KindBool                    // boolean
	KindTime                    // UTC time, microsecond precision
	KindShort                   // up to MaxShortLen characters, indexable
	KindText                    // up to MaxTextLen bytes
	KindLarge                   // up to MaxLargeLen bytes
)

// IDMode says how SQLRepository learns the ids of the rows one multi-row
// INSERT added.
type IDMode int

// The ways of learning inserted ids.
const (
	// IDReturning appends RETURNING id to the INSERT (PostgreSQL, SQLite,
	// MariaDB). The ids are matched to the rows in ascending order.
	IDReturning IDMode = iota
	// IDLastIsLast: LastInsertId is the id of the last row and the ids of
	// one statement are consecutive (SQLite with a single writer).
	IDLastIsLast
	// IDLastIsFirst: LastInsertId is the id of the first row and the ids of
	// one statement are consecutive (MySQL with innodb_autoinc_lock_mode
	// 0 or 1 and auto_increment_increment 1).
	IDLastIsFirst
	// IDPerRow inserts rows one statement each inside one transaction and
	// reads each LastInsertId; always right, slowest.
	IDPerRow
)

// Dialect is what differs between SQL backends. SQLRepository holds a
// Dialect as an interface value and calls every hook through it; a driver
// embeds BaseDialect and overrides only what differs. Hooks that return SQL
// receive placeholders made by the query builder (value arguments); they
// never receive user input as text, except keys already reduced to
// [A-Za-z0-9_].
type Dialect interface {
	// Name is the driver's registered type, used in error messages.
	Name() string
	// Flavor is the go-sqlbuilder flavor: placeholders and quoting.
	Flavor() sqlbuilder.Flavor
	// ColumnType is the SQL type of a column kind; for KindID it includes
	// the primary key and auto-increment clauses.
	ColumnType(kind ColumnKind) string
	// TableOptions follows the closing parenthesis of CREATE TABLE.
	TableOptions() string
	// IndexesInline reports whether indexes are declared inside CREATE
	// TABLE (MySQL, which lacks CREATE INDEX IF NOT EXISTS) rather than by
	// CREATE INDEX IF NOT EXISTS statements.
	IndexesInline() bool
	// TableExists returns a query, with its arguments, that yields one row
	// with a count greater than zero when the table exists.
	TableExists(table string) (string, []any)

	// BindTime converts a time (UTC, microseconds) to the value bound for
	// a KindTime column.
	BindTime(t time.Time) any
	// JSONFieldEquals is a condition: the text of field key (already
	// reduced to [A-Za-z0-9_]) of the JSON object in column equals value.
	JSONFieldEquals(column, key, value string) string
	// JSONArrayContains is a condition: the JSON array of strings in column
	// has an element equal to value.
	JSONArrayContains(column, value string) string
	// ContainsFold is a condition: column LIKE pattern, case-insensitive at
	// least for ASCII, where pattern is a placeholder for a LIKE pattern
	// escaped with '!'.
	ContainsFold(column, pattern string) string
	// TimeBucket is an integer expression: the Unix time, in seconds, of
	// the start of the epoch-aligned bucket of the given width holding the
	// time in column.
	TimeBucket(column string, seconds int64) string

	// Upsert is appended to an INSERT so that a row whose conflict columns
	// exist is updated with the new values of update columns instead.
	Upsert(conflict, update []string) string
	// InsertIgnore is appended to an INSERT so that a row whose conflict
	// columns exist is skipped; RowsAffected is then 0.
	InsertIgnore(conflict []string) string
	// Truncate is the statement that deletes every row of a table.
	Truncate(table string) string
	// IDMode says how ids of inserted rows are learned.
	IDMode() IDMode
	// SyncIDs returns statements to run after rows with explicit ids were
	// inserted into table, so that later ids continue after them; nil when
	// the backend does that by itself.
	SyncIDs(table, column string) []string
	// MaxParams is the largest number of bound parameters in one statement;
	// batches are chunked to fit.
	MaxParams() int

	// SessionSetup returns statements run on every new connection.
	SessionSetup() []string
	// LockSchema serializes schema creation across processes on conn and
	// returns the function that releases the lock; the lock is released in
	// all cases.
	LockSchema(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// MapError turns a driver error into one wrapping a sentinel where one
	// applies (duplicate key: ErrConflict; too long: ErrTooLarge; cannot
	// connect: ErrUnavailable); other errors are returned unchanged. The
	// result never contains a password.
	MapError(err error) error
	// Describe returns the backend's version and settings.
	Describe(ctx context.Context, db *sql.DB) (BackendInfo, error)
}

// BaseDialect implements every hook with standard SQL (what PostgreSQL and
// SQLite share). Drivers embed it and override what differs.
type BaseDialect struct{}

// Flavor returns sqlbuilder.PostgreSQL.
func (BaseDialect) Flavor() sqlbuilder.Flavor { return sqlbuilder.PostgreSQL }

// ColumnType returns standard SQL types.
func (BaseDialect) ColumnType(kind ColumnKind) string {
	switch kind {
	case KindID:
		return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	case KindInt:
		return "BIGINT"
	case KindFloat:
		return "DOUBLE PRECISION"
	case KindBool:
		return "BOOLEAN"
	case KindTime:
		return "TIMESTAMP(6)"
	case KindShort:
		return fmt.Sprintf("VARCHAR(%d)", MaxShortLen)
	default:
		return "TEXT"
	}
}

// TableOptions returns "".
func (BaseDialect) TableOptions() string { return "" }

// IndexesInline returns false.
func (BaseDialect) IndexesInline() bool { return false }

// TableExists queries information_schema in the current schema.
func (BaseDialect) TableExists(table string) (string, []any) {
	return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '" + table + "'", nil
}

// BindTime returns t.
func (BaseDialect) BindTime(t time.Time) any { return t }

// JSONFieldEquals uses the ->> operator on a jsonb cast.
func (BaseDialect) JSONFieldEquals(column, key, value string) string {
	return "(" + column + "::jsonb ->> '" + key + "') = " + value
}

// JSONArrayContains uses jsonb containment.
func (BaseDialect) JSONArrayContains(column, value string) string {
	return column + "::jsonb @> jsonb_build_array(" + value + "::text)"
}

// ContainsFold uses LOWER on both sides.
func (BaseDialect) ContainsFold(column, pattern string) string {
	return "LOWER(" + column + ") LIKE LOWER(" + pattern + ") ESCAPE '!'"
}

// TimeBucket uses EXTRACT(EPOCH ...).
func (BaseDialect) TimeBucket(column string, seconds int64) string {
	return fmt.Sprintf("CAST(FLOOR(EXTRACT(EPOCH FROM %s) / %d) * %d AS BIGINT)", column, seconds, seconds)
}

// Upsert returns ON CONFLICT ... DO UPDATE.
func (BaseDialect) Upsert(conflict, update []string) string {
	sets := make([]string, len(update))
	for i, c := range update {
		sets[i] = c + " = excluded." + c
	}
	return "ON CONFLICT (" + strings.Join(conflict, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", ")
}

// InsertIgnore returns ON CONFLICT ... DO NOTHING.
func (BaseDialect) InsertIgnore(conflict []string) string {
	return "ON CONFLICT (" + strings.Join(conflict, ", ") + ") DO NOTHING"
}

// Truncate returns DELETE FROM, which keeps auto-increment counters.
func (BaseDialect) Truncate(table string) string { return "DELETE FROM " + table }

// IDMode returns IDReturning.
func (BaseDialect) IDMode() IDMode { return IDReturning }

// SyncIDs returns nil.
func (BaseDialect) SyncIDs(table, column string) []string { return nil }

// MaxParams returns 65535.
func (BaseDialect) MaxParams() int { return 65535 }

// SessionSetup returns nil.
func (BaseDialect) SessionSetup() []string { return nil }

// LockSchema does nothing: the default relies on transactional DDL.
func (BaseDialect) LockSchema(ctx context.Context, conn *sql.Conn) (func(), error) {
	return func() {}, nil
}

// MapError returns err unchanged.
func (BaseDialect) MapError(err error) error { return err }

// Describe runs SELECT version().
func (BaseDialect) Describe(ctx context.Context, db *sql.DB) (BackendInfo, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return BackendInfo{}, err
	}
	return BackendInfo{Version: v}, nil
}

// FormatTextTime formats t (UTC, microseconds) as backends that store time
// as text do: fixed width, so that text order is time order.
func FormatTextTime(t time.Time) string { return t.UTC().Format(storedTimeLayout) }
