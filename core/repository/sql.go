package repository

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/huandu/go-sqlbuilder"
	"golang.org/x/crypto/bcrypt"
)

// Options configure a SQLRepository.
type Options struct {
	// Read serves queries; Write serves every write. They may be the same
	// pool. SQLite gives Write a single connection, so that writers queue
	// in Go instead of failing with SQLITE_BUSY.
	Read, Write *sql.DB
	// AdminUser and AdminPassword are the admin Initialize seeds.
	AdminUser, AdminPassword string
	// BcryptCost is the cost of the seeded hash; 0 means bcrypt.DefaultCost.
	BcryptCost int
	// WriteConcurrency is how many batches of AddLog calls are written at
	// once; 0 means 1. Concurrent AddLog calls that arrive while a batch is
	// written are grouped into the next batch (group commit); each call
	// still returns only once its row is committed.
	WriteConcurrency int
}

// SQLRepository is the shared implementation of Repository for SQL
// backends. Every query is built with go-sqlbuilder in the Dialect's
// flavor, and everything that differs between backends is a Dialect hook.
// Drivers embed *SQLRepository. It is safe for concurrent use.
type SQLRepository struct {
	d         Dialect
	read      *sql.DB
	write     *sql.DB
	opts      Options
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	logs      *logWriter

	// sqlText caches the text of fixed-shape statements (multi-row
	// inserts), keyed by shape; the text depends only on the flavor.
	sqlText sync.Map
	stmtMu  sync.Mutex
	stmts   map[string]*sql.Stmt // prepared on Write, closed by Close
}

var _ Repository = (*SQLRepository)(nil)

// NewSQLRepository returns the shared repository over opts.Read and
// opts.Write, calling d for everything that differs between backends. It
// owns the pools: Close closes them.
func NewSQLRepository(d Dialect, opts Options) *SQLRepository {
	if opts.Read == nil {
		opts.Read = opts.Write
	}
	if opts.WriteConcurrency <= 0 {
		opts.WriteConcurrency = 1
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.DefaultCost
	}
	r := &SQLRepository{d: d, read: opts.Read, write: opts.Write, opts: opts, stmts: map[string]*sql.Stmt{}}
	r.logs = newLogWriter(r, opts.WriteConcurrency)
	return r
}

// Dialect returns the repository's dialect.
func (r *SQLRepository) Dialect() Dialect { return r.d }

// DB returns the read and write pools, for a driver's own diagnostics.
func (r *SQLRepository) DB() (read, write *sql.DB) { return r.read, r.write }

// check is called first by every method: ErrClosed after Close, the
// context's error when it is done.
func (r *SQLRepository) check(ctx context.Context, op string) error {
	if r.closed.Load() {
		return fmt.Errorf("%s: %s: %w", r.d.Name(), op, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", r.d.Name(), op, err)
	}
	return nil
}

// fail wraps err once with the backend and the operation, mapping driver
// errors to sentinels.
func (r *SQLRepository) fail(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case r.closed.Load():
		return fmt.Errorf("%s: %s: %w", r.d.Name(), op, ErrClosed)
	case ctx != nil && ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w", r.d.Name(), op, ctx.Err())
	case isSentinel(err):
		return fmt.Errorf("%s: %s: %w", r.d.Name(), op, err)
	}
	return fmt.Errorf("%s: %s: %w", r.d.Name(), op, r.d.MapError(err))
}

func isSentinel(err error) bool {
	for _, s := range Sentinels() {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Initialize creates the schema under the dialect's schema lock and seeds
// the admin. See Lifecycle.
func (r *SQLRepository) Initialize(ctx context.Context) error {
	const op = "initialize"
	if err := r.check(ctx, op); err != nil {
		return err
	}
	return r.withSchemaLock(ctx, op, func(conn *sql.Conn) error {
		for _, stmt := range DDL(r.d) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return r.fail(ctx, op+": create schema", err)
			}
		}
		return r.fail(ctx, op+": seed admin", r.seedAdmin(ctx, conn))
	})
}

// withSchemaLock runs fn on a dedicated write connection holding the
// dialect's cross-process schema lock, released in all cases.
func (r *SQLRepository) withSchemaLock(ctx context.Context, op string, fn func(conn *sql.Conn) error) error {
	conn, err := r.write.Conn(ctx)
	if err != nil {
		return r.fail(ctx, op, err)
	}
	defer conn.Close()
	unlock, err := r.d.LockSchema(ctx, conn)
	if err != nil {
		return r.fail(ctx, op+": schema lock", err)
	}
	defer unlock()
	return fn(conn)
}

// seedAdmin creates the admin, or re-syncs its hash from the configured
// password while it still must change its password.
func (r *SQLRepository) seedAdmin(ctx context.Context, conn *sql.Conn) error {
	name, pw := r.opts.AdminUser, r.opts.AdminPassword
	if name == "" {
		return nil
	}
	u, err := r.userBy(ctx, conn, "username", name)
	if errors.Is(err, ErrNotFound) {
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), r.opts.BcryptCost)
		if err != nil {
			return err
		}
		admin := User{UUID: uuid.NewString(), Username: name, PasswordHash: string(hash), Role: RoleAdmin, MustChangePassword: true, CreatedAt: now()}
		if err := admin.Validate(); err != nil {
			return err
		}
		ib := r.d.Flavor().NewInsertBuilder()
		ib.InsertInto(TableUsers).Cols(tableByName(TableUsers).columnNames()...).Values(r.userValues(admin)...)
		ib.SQL(r.d.InsertIgnore([]string{"username"}))
		q, args := ib.Build()
		_, err = conn.ExecContext(ctx, q, args...)
		return err // a concurrent Initialize may have won: that admin is as good
	}
	if err != nil || !u.MustChangePassword {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) == nil {
		return nil
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), r.opts.BcryptCost)
	if err != nil {
		return err
	}
	ub := r.d.Flavor().NewUpdateBuilder()
	ub.Update(TableUsers).Set(ub.Assign("password_hash", string(hash))).
		Where(ub.Equal("uuid", u.UUID), ub.Equal("must_change_password", true))
	q, args := ub.Build()
	_, err = conn.ExecContext(ctx, q, args...)
	return err
}

// Ping checks both pools.
func (r *SQLRepository) Ping(ctx context.Context) error {
	const op = "ping"
	if err := r.check(ctx, op); err != nil {
		return err
	}
	if err := r.write.PingContext(ctx); err != nil {
		return r.fail(ctx, op, err)
	}
	if r.read != r.write {
		return r.fail(ctx, op, r.read.PingContext(ctx))
	}
	return nil
}

// Close closes the pools; later calls of any method return ErrClosed.
// Calling it again returns nil.
func (r *SQLRepository) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		r.dropStatements()
		r.stmtMu.Lock()
		r.stmts = nil
		r.stmtMu.Unlock()
		errs := []error{r.write.Close()}
		if r.read != r.write {
			errs = append(errs, r.read.Close())
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

// cachedSQL returns the text built by build for key, building it once.
func (r *SQLRepository) cachedSQL(key string, build func() string) string {
	if q, ok := r.sqlText.Load(key); ok {
		return q.(string)
	}
	q := build()
	r.sqlText.Store(key, q)
	return q
}

// stmt returns the statement q prepared on the write pool, preparing it
// once. Only fixed, few statements go through it.
func (r *SQLRepository) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	r.stmtMu.Lock()
	defer r.stmtMu.Unlock()
	if r.stmts == nil {
		return nil, ErrClosed
	}
	if s, ok := r.stmts[q]; ok {
		return s, nil
	}
	s, err := r.write.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	r.stmts[q] = s
	return s, nil
}

// insertSQL builds a multi-row INSERT of rows rows into table's cols,
// followed by suffix (an upsert or ignore clause) and, when returning is
// set, RETURNING id.
func (r *SQLRepository) insertSQL(table string, cols []string, rows int, suffix string, returning bool) string {
	key := fmt.Sprintf("insert/%s/%s/%d/%s/%t", table, strings.Join(cols, ","), rows, suffix, returning)
	return r.cachedSQL(key, func() string {
		ib := r.d.Flavor().NewInsertBuilder()
		ib.InsertInto(table).Cols(cols...)
		placeholders := make([]any, len(cols))
		for i := 0; i < rows; i++ {
			ib.Values(placeholders...)
		}
		if suffix != "" {
			ib.SQL(suffix)
		}
		if returning {
			ib.Returning("id")
		}
		q, _ := ib.Build()
		return q
	})
}

// execer is what both *sql.DB, *sql.Conn and *sql.Tx offer.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowFunc appends the values of row i to dst.
type rowFunc func(dst []any, i int) ([]any, error)

// chunkSize is how many rows of cols one INSERT holds.
func (r *SQLRepository) chunkSize(cols []string) int {
	return max(1, min(r.d.MaxParams()/len(cols), 1000))
}

// chunkStmt returns the INSERT of a full chunk of rows into table's cols,
// prepared once on the write pool. Call it before the transaction begins:
// SQLite's write pool has one connection, which the transaction holds.
func (r *SQLRepository) chunkStmt(ctx context.Context, table string, cols []string) (*sql.Stmt, error) {
	return r.stmt(ctx, r.insertSQL(table, cols, r.chunkSize(cols), "", false))
}

// insertRows inserts n rows into table's cols inside tx, in multi-row
// statements that fit the dialect's parameter limit; full is chunkStmt's
// statement for the same table and columns. Values are built one chunk at
// a time.
func (r *SQLRepository) insertRows(ctx context.Context, tx *sql.Tx, full *sql.Stmt, table string, cols []string, n int, row rowFunc) error {
	per := r.chunkSize(cols)
	args := make([]any, 0, min(n, per)*len(cols))
	var inTx *sql.Stmt
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args = args[:0]
		for i := start; i < end; i++ {
			var err error
			if args, err = row(args, i); err != nil {
				return err
			}
		}
		var err error
		if end-start == per {
			if inTx == nil {
				inTx = tx.StmtContext(ctx, full)
			}
			_, err = inTx.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, r.insertSQL(table, cols, end-start, "", false), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rowsOf adapts rows built in advance to a rowFunc.
func rowsOf(rows [][]any) rowFunc {
	return func(dst []any, i int) ([]any, error) { return append(dst, rows[i]...), nil }
}

// inTx runs fn in a transaction on the write pool, committing when it
// returns nil.
func (r *SQLRepository) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := r.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// now returns the current time as stored: UTC, microseconds.
func now() time.Time { return normTime(time.Now()) }

// normTime returns t as stored: UTC, truncated to microseconds.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// timeCol scans a KindTime column from whatever the driver returns.
type timeCol struct{ t *time.Time }

// storedTimeLayout is how backends that store time as text (SQLite) write
// it: fixed width, so that text order is time order.
const storedTimeLayout = "2006-01-02 15:04:05.000000"

func (c timeCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case time.Time:
		*c.t = v.UTC()
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		*c.t = time.Unix(v, 0).UTC()
		return nil
	default:
		return fmt.Errorf("time column: unsupported %T", src)
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			*c.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("time column: cannot parse %q", s)
}

// jsonCol scans a JSON text column into dst with json.Unmarshal; NULL and
// empty leave dst alone.
type jsonCol struct{ dst any }

func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("json column: unsupported %T", src)
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, c.dst)
}

// rawCol scans a JSON text column into a json.RawMessage copy; NULL gives
// nil.
type rawCol struct{ dst *json.RawMessage }

func (c rawCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.dst = nil
	case string:
		*c.dst = json.RawMessage(v)
	case []byte:
		*c.dst = append(json.RawMessage(nil), v...)
	default:
		return fmt.Errorf("json column: unsupported %T", src)
	}
	return nil
}

// mustJSON marshals values the repository itself built (lists, maps of
// strings), which cannot fail.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("repository: marshal %T: %v", v, err))
	}
	return string(b)
}

// nullRaw binds an optional JSON value: nil for empty.
func nullRaw(v json.RawMessage) any {
	if len(v) == 0 {
		return nil
	}
	return string(v)
}

// likePattern makes a LIKE pattern matching s anywhere, escaping with '!'.
func likePattern(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(s) + "%"
}

// selectBuilder returns a new SELECT builder in the dialect's flavor.
func (r *SQLRepository) selectBuilder() *sqlbuilder.SelectBuilder {
	return r.d.Flavor().NewSelectBuilder()
}

// countRows runs SELECT COUNT(*) built on sb.
func (r *SQLRepository) count(ctx context.Context, sb *sqlbuilder.SelectBuilder) (int64, error) {
	q, args := sb.Build()
	var n int64
	err := r.read.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// queryAll runs sb on the read pool and calls scan for each row.
func (r *SQLRepository) queryAll(ctx context.Context, ex execer, sb *sqlbuilder.SelectBuilder, scan func(*sql.Rows) error) error {
	q, args := sb.Build()
	rows, err := ex.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// affected returns RowsAffected of res.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// exists reports whether table has a row with column = value.
func (r *SQLRepository) exists(ctx context.Context, ex execer, table, column string, value any) (bool, error) {
	sb := r.selectBuilder()
	sb.Select("1").From(table).Where(sb.Equal(column, value)).Limit(1)
	q, args := sb.Build()
	var one int
	err := ex.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// collect runs sb on the read pool and scans every row with scan.
func collect[T any](ctx context.Context, r *SQLRepository, sb *sqlbuilder.SelectBuilder, scan func(*sql.Rows) (T, error)) ([]T, error) {
	out := []T{}
	err := r.queryAll(ctx, r.read, sb, func(rows *sql.Rows) error {
		v, err := scan(rows)
		out = append(out, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
