package repository

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxLogBatch caps how many concurrent AddLog calls share one INSERT.
const maxLogBatch = 256

// maxLinger caps how long a leader waits for the calls it expects before
// writing its batch (see linger).
const maxLinger = time.Millisecond

// maxPreparedBatch is the largest batch whose INSERT is kept prepared;
// larger ones are sent unprepared, so that servers with a per-server limit
// of prepared statements (MySQL) are not flooded.
const maxPreparedBatch = 16

// logWriter groups concurrent AddLog calls into one multi-row INSERT (group
// commit). A call that finds a free writing slot writes (after waiting
// briefly for the calls it expects, see linger); a call that arrives while
// every slot is busy waits and is written with the others that arrived
// meanwhile, by the first of them. Every call returns
// only once its own row is committed, with its own id.
type logWriter struct {
	r         *SQLRepository
	maxActive int

	mu      sync.Mutex
	active  int
	pending []*logReq
	// expect is the size of the last batch written: as many calls are
	// expected to arrive again soon. took is how long it took to write,
	// wrote when it ended.
	expect int
	took   time.Duration
	wrote  time.Time
	// arrived, when not nil, is closed by the call that brings the pending
	// calls to want: it wakes the leaders lingering for calls.
	arrived chan struct{}
	want    int
}

type logReq struct {
	args []any
	id   int64
	err  error

	// taken and lead are guarded by logWriter.mu.
	taken bool // in a batch being written
	lead  bool // this call's goroutine writes the next batch
	wake  chan struct{}
}

func newLogWriter(r *SQLRepository, maxActive int) *logWriter {
	return &logWriter{r: r, maxActive: maxActive}
}

// add writes one row and returns its id.
func (w *logWriter) add(ctx context.Context, args []any) (int64, error) {
	req := &logReq{args: args, wake: make(chan struct{}, 1)}
	w.mu.Lock()
	w.pending = append(w.pending, req)
	if w.arrived != nil && len(w.pending) >= w.want {
		close(w.arrived)
		w.arrived = nil
	}
	if w.active < w.maxActive {
		w.active++
		req.lead = true
	}
	lead := req.lead
	w.mu.Unlock()

	if !lead {
		select {
		case <-req.wake:
		case <-ctx.Done():
			w.mu.Lock()
			if !req.taken && !req.lead {
				w.pending = slices.DeleteFunc(w.pending, func(q *logReq) bool { return q == req })
				w.mu.Unlock()
				return 0, ctx.Err()
			}
			w.mu.Unlock()
			<-req.wake // already being written, or promoted: see it through
		}
		w.mu.Lock()
		lead = req.lead && !req.taken
		w.mu.Unlock()
	}
	if lead {
		w.lead(ctx, req)
	}
	return req.id, req.err
}

// lead writes batches until self's row is written, then hands the slot to
// the next waiting call, or frees it.
func (w *logWriter) lead(ctx context.Context, self *logReq) {
	w.linger()
	for done := false; !done; {
		w.mu.Lock()
		var batch, rest []*logReq
		for _, q := range w.pending {
			// Another call promoted to lead writes its own batch.
			if len(batch) == maxLogBatch || (q.lead && q != self) {
				rest = append(rest, q)
				continue
			}
			q.taken = true
			done = done || q == self
			batch = append(batch, q)
		}
		w.pending = rest
		w.mu.Unlock()

		fctx := ctx
		if len(batch) > 1 || batch[0] != self {
			// Other callers' rows must not fail because this one's
			// context ends.
			fctx = context.WithoutCancel(ctx)
		}
		start := time.Now()
		w.write(fctx, batch)
		end := time.Now()
		w.mu.Lock()
		w.expect, w.took, w.wrote = len(batch), end.Sub(start), end
		w.mu.Unlock()
		for _, q := range batch {
			if q != self {
				q.wake <- struct{}{}
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, q := range w.pending {
		if !q.lead {
			q.lead = true
			q.wake <- struct{}{}
			return
		}
	}
	w.active--
}

// linger waits until as many calls are pending as the last batch held:
// under concurrency, the callers whose rows were just committed come back
// at once, and one INSERT then serves them all. It waits only when the last
// batch held several calls, ended less than a write's duration ago, and
// every slot is taken, so a lone caller, or the first after a pause, never
// waits; and at most half as long as that batch took to write (and
// maxLinger): the wait costs a caller at most half a write and saves whole
// writes.
func (w *logWriter) linger() {
	w.mu.Lock()
	want := w.expect
	// With a writing slot free, a call arriving now leads a batch of its
	// own instead of joining this one: nothing to wait for.
	if want <= 1 || len(w.pending) >= want || w.active < w.maxActive || time.Since(w.wrote) > w.took {
		w.mu.Unlock()
		return
	}
	timer := time.NewTimer(min(w.took/2, maxLinger))
	defer timer.Stop()
	for {
		if w.arrived == nil {
			w.arrived, w.want = make(chan struct{}), want
		} else {
			w.want = min(w.want, want)
		}
		arrived := w.arrived
		w.mu.Unlock()
		select {
		case <-arrived:
		case <-timer.C:
			return
		}
		w.mu.Lock()
		if len(w.pending) >= want {
			w.mu.Unlock()
			return
		}
	}
}

// write inserts the batch and sets each request's id or error. When a
// batch of several rows fails, each row is retried alone, so that one bad
// row fails only its own call.
func (w *logWriter) write(ctx context.Context, batch []*logReq) {
	ids, err := w.insert(ctx, batch)
	if err != nil && len(batch) > 1 && ctx.Err() == nil && !errors.Is(err, ErrClosed) {
		for _, q := range batch {
			w.write(ctx, []*logReq{q})
		}
		return
	}
	for i, q := range batch {
		if err != nil {
			q.err = err
		} else {
			q.id = ids[i]
		}
	}
}

// insert writes the rows of batch in one statement (or, for IDPerRow, one
// transaction) and returns their ids in batch order.
func (w *logWriter) insert(ctx context.Context, batch []*logReq) ([]int64, error) {
	r := w.r
	n := len(batch)
	mode := r.d.IDMode()
	if mode == IDPerRow && n > 1 {
		return w.insertPerRow(ctx, batch)
	}
	args := make([]any, 0, n*len(logInsertCols))
	for _, q := range batch {
		args = append(args, q.args...)
	}
	q := r.insertSQL(TableLogs, logInsertCols, n, "", mode == IDReturning)
	var ex interface {
		ExecContext(context.Context, ...any) (sql.Result, error)
		QueryContext(context.Context, ...any) (*sql.Rows, error)
	}
	if n <= maxPreparedBatch {
		st, err := r.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		ex = st
	} else {
		ex = unprepared{r.write, q}
	}

	if mode == IDReturning {
		rows, err := ex.QueryContext(ctx, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		ids := make([]int64, 0, n)
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(ids) != n {
			return nil, fmt.Errorf("insert returned %d ids for %d rows", len(ids), n)
		}
		slices.Sort(ids)
		return ids, nil
	}
	res, err := ex.ExecContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	if mode == IDLastIsLast {
		id -= int64(n - 1)
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = id + int64(i)
	}
	return ids, nil
}

func (w *logWriter) insertPerRow(ctx context.Context, batch []*logReq) ([]int64, error) {
	r := w.r
	q := r.insertSQL(TableLogs, logInsertCols, 1, "", false)
	ids := make([]int64, len(batch))
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		for i, req := range batch {
			res, err := tx.ExecContext(ctx, q, req.args...)
			if err != nil {
				return err
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// unprepared runs one query text on a pool with the *sql.Stmt method shapes.
type unprepared struct {
	db *sql.DB
	q  string
}

func (u unprepared) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return u.db.ExecContext(ctx, u.q, args...)
}

func (u unprepared) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return u.db.QueryContext(ctx, u.q, args...)
}
