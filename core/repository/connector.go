package repository

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"
	"time"
)

// prePingAfter is how long a pooled connection may sit idle before it is
// pinged on checkout; connections reused sooner are trusted, as HikariCP's
// alive-bypass window does, so that a busy pool does not pay a round trip
// per query.
const prePingAfter = time.Second

// OpenDB returns a pool over base whose every new connection first runs
// d.SessionSetup() (the dialect's connection set-up hook), and whose
// connections are pinged before reuse when prePing is set and they have
// been idle for more than a second; a connection that fails the ping is
// discarded and never handed to a query.
func OpenDB(base driver.Connector, d Dialect, prePing bool) *sql.DB {
	return sql.OpenDB(&connector{base: base, setup: d.SessionSetup(), prePing: prePing})
}

// DSNConnector adapts a driver and a data source name to driver.Connector,
// for drivers that have no connector of their own.
func DSNConnector(drv driver.Driver, dsn string) driver.Connector {
	return dsnConnector{drv: drv, dsn: dsn}
}

type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

type connector struct {
	base    driver.Connector
	setup   []string
	prePing bool
}

func (c *connector) Driver() driver.Driver { return c.base.Driver() }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	raw, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	for _, stmt := range c.setup {
		if err := execRaw(ctx, raw, stmt); err != nil {
			_ = raw.Close()
			return nil, err
		}
	}
	cn := &conn{Conn: raw, prePing: c.prePing}
	cn.lastUse.Store(time.Now().UnixNano())
	return cn, nil
}

func execRaw(ctx context.Context, c driver.Conn, stmt string) error {
	if ex, ok := c.(driver.ExecerContext); ok {
		_, err := ex.ExecContext(ctx, stmt, nil)
		if !errors.Is(err, driver.ErrSkip) {
			return err
		}
	}
	st, err := c.Prepare(stmt)
	if err != nil {
		return err
	}
	defer st.Close()
	if sc, ok := st.(driver.StmtExecContext); ok {
		_, err = sc.ExecContext(ctx, nil)
		return err
	}
	_, err = st.Exec(nil) //nolint:staticcheck // fallback for drivers without StmtExecContext
	return err
}

// conn wraps a driver connection, forwarding every optional interface
// database/sql looks for and answering driver.ErrSkip where the wrapped
// connection lacks one, so that database/sql falls back as it would.
type conn struct {
	driver.Conn
	prePing bool
	lastUse atomic.Int64
}

func (c *conn) ResetSession(ctx context.Context) error {
	if c.prePing && time.Since(time.Unix(0, c.lastUse.Load())) > prePingAfter {
		if p, ok := c.Conn.(driver.Pinger); ok {
			if err := p.Ping(ctx); err != nil {
				return driver.ErrBadConn
			}
		}
	}
	c.lastUse.Store(time.Now().UnixNano())
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *conn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *conn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // fallback for drivers without ConnBeginTx
}

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
