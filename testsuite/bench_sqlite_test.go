package testsuite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/decnet/decnet-db/core/repository"
)

// The benchmarks below measure our SQLite repository (registry.Open on a
// file, Initialize'd) beside a raw mattn/go-sqlite3 baseline that runs the
// same SQL text on its own file with the same schema and settings, in the
// same run. Sub-benchmarks are named repo and raw* so that the ratio reads
// off directly; every writing benchmark reports rows/s. Both sides start
// from the same []repository.Log: the raw side formats the time and
// marshals the fields itself, as any caller of the driver would.
//
// Run them with
//
//	go test ./testsuite/ -run '^$' -bench SQLite -count 5
//
// go test runs each sub-benchmark -count times in a row (and each
// benchmark function once), so drift on a noisy machine lands on one side.
// To interleave the sides, run the test binary five times with -count 1,
// each starting at another side:
//
//	go test -c -o /tmp/testsuite.test ./testsuite/
//	for i in 0 1 2 3 4; do
//		/tmp/testsuite.test -test.run '^$' -test.bench SQLite -bench.rotate $i
//	done
//
// and compare the medians of each side.

// benchTableRows is the size of the preloaded tables of the read
// benchmarks, and the number of rows each AddLogs iteration inserts.
const benchTableRows = 100_000

// benchWriters is the number of goroutines of the concurrent benchmark.
const benchWriters = 8

// BenchmarkSQLiteAddLog stores one log per iteration: our AddLog against an
// autocommit single-row INSERT with db.Exec (raw), and, as a stricter
// baseline, the same INSERT prepared once (raw-prepared).
func BenchmarkSQLiteAddLog(b *testing.B) {
	logs := benchLogs(benchTableRows)
	ctx := context.Background()
	raw := func(b *testing.B, prepared bool) {
		db := openBenchRaw(b, benchPath(b))
		b.Cleanup(func() { _ = db.Close() })
		db.SetMaxOpenConns(1)
		exec := func(args ...any) (sql.Result, error) { return db.ExecContext(ctx, rawInsertLog, args...) }
		if prepared {
			st, err := db.PrepareContext(ctx, rawInsertLog)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			exec = func(args ...any) (sql.Result, error) { return st.ExecContext(ctx, args...) }
		}
		addEach(b, logs, func(l repository.Log) error {
			res, err := exec(rawLogArgs(l)...)
			if err == nil {
				_, err = res.LastInsertId()
			}
			return err
		})
	}
	runSides(b,
		benchSide{"repo", func(b *testing.B) {
			r := openBenchRepo(b, benchPath(b))
			b.Cleanup(func() { _ = r.Close() })
			addEach(b, logs, repoAddLog(r))
		}},
		benchSide{"raw", func(b *testing.B) { raw(b, false) }},
		benchSide{"raw-prepared", func(b *testing.B) { raw(b, true) }},
	)
}

// BenchmarkSQLiteAddLogs inserts benchTableRows rows per iteration into a
// new database, in batches of the sub-benchmark's size: our AddLogs (one
// transaction per batch) against the two usual raw ways of a batched
// insert, each batch one transaction: a prepared single-row INSERT executed
// per row (raw-prepared), and multi-row INSERT statements of 500 rows
// prepared once (raw-multirow). A fourth side, raw-multirow-unprepared,
// runs the statement strategy of our AddLogs with the raw driver: INSERTs of
// 1000 rows sent as text, prepared and finalized on every statement; it
// tells our layer's cost apart from the strategy's.
func BenchmarkSQLiteAddLogs(b *testing.B) {
	logs := benchLogs(benchTableRows)
	ctx := context.Background()
	// multiRow is a raw side inserting batches of size with statements of
	// perStmt rows, prepared once or not.
	multiRow := func(size, perStmt int, prepared bool) func(b *testing.B) {
		return func(b *testing.B) {
			addBatchesEach(b, logs, size, func(path string) (func([]repository.Log) error, func() error) {
				db := openBenchRaw(b, path)
				db.SetMaxOpenConns(1)
				m := newRawMultiRow(b, db, perStmt, prepared)
				return func(l []repository.Log) error { return m.addLogs(ctx, l) }, func() error {
					m.close()
					return db.Close()
				}
			})
		}
	}
	for _, size := range []int{500, 5000, benchTableRows} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			runSides(b,
				benchSide{"repo", func(b *testing.B) {
					addBatchesEach(b, logs, size, func(path string) (func([]repository.Log) error, func() error) {
						return repoAddLogs(openBenchRepo(b, path))
					})
				}},
				benchSide{"raw-prepared", func(b *testing.B) {
					addBatchesEach(b, logs, size, func(path string) (func([]repository.Log) error, func() error) {
						db := openBenchRaw(b, path)
						db.SetMaxOpenConns(1)
						return func(l []repository.Log) error { return rawAddLogsPrepared(ctx, db, l) }, db.Close
					})
				}},
				benchSide{"raw-multirow", multiRow(size, 500, true)},
				benchSide{"raw-multirow-unprepared", multiRow(size, 1000, false)},
			)
		})
	}
}

// BenchmarkSQLiteAddLogConcurrent8 stores one log per iteration from
// benchWriters goroutines that share b.N: our AddLog (single writer, group
// commit) against autocommit db.Exec on a one-connection pool
// (raw-pool1), and on an unlimited pool (raw-unlimited), whose writers
// contend for SQLite's lock. Every sub-benchmark reports its failed calls
// as errors and, of those, the ones that were SQLITE_BUSY as busy.
func BenchmarkSQLiteAddLogConcurrent8(b *testing.B) {
	logs := benchLogs(benchTableRows)
	ctx := context.Background()
	run := func(b *testing.B, add func(repository.Log) error) {
		var errs, busy atomic.Int64
		var first sync.Once
		runtime.GC()
		addConcurrently(b, logs, add, func(err error) bool {
			errs.Add(1)
			var se sqlite3.Error
			if errors.As(err, &se) && se.Code == sqlite3.ErrBusy {
				busy.Add(1)
			}
			first.Do(func() { b.Logf("first error: %v", err) })
			return false
		})
		b.ReportMetric(float64(errs.Load()), "errors")
		b.ReportMetric(float64(busy.Load()), "busy")
	}
	rawExec := func(db *sql.DB) func(repository.Log) error {
		return func(l repository.Log) error {
			_, err := db.ExecContext(ctx, rawInsertLog, rawLogArgs(l)...)
			return err
		}
	}
	runSides(b,
		benchSide{"repo", func(b *testing.B) {
			r := openBenchRepo(b, benchPath(b))
			b.Cleanup(func() { _ = r.Close() })
			run(b, repoAddLog(r))
		}},
		benchSide{"raw-pool1", func(b *testing.B) {
			db := openBenchRaw(b, benchPath(b))
			b.Cleanup(func() { _ = db.Close() })
			db.SetMaxOpenConns(1)
			run(b, rawExec(db))
		}},
		benchSide{"raw-unlimited", func(b *testing.B) {
			db := openBenchRaw(b, benchPath(b))
			b.Cleanup(func() { _ = db.Close() })
			// Unlimited open connections; keep them all idle between
			// calls so that the benchmark measures lock contention, not
			// reconnects.
			db.SetMaxIdleConns(benchWriters)
			run(b, rawExec(db))
		}},
	)
}

// readFixture is one repository and one raw pool, each on its own file
// holding the same benchTableRows logs.
type readFixture struct {
	repo repository.Repository
	raw  *sql.DB
}

// newReadFixture preloads both files, then closes and reopens both (our
// repository through the registry, Initialize'd), so that both start the
// same way: WAL checkpointed and removed, as after a restart. The pools
// close when b ends.
func newReadFixture(b *testing.B) readFixture {
	b.Helper()
	ctx := context.Background()
	logs := benchLogs(benchTableRows)
	repoPath, rawPath := benchPath(b), benchPath(b)
	r := openBenchRepo(b, repoPath)
	if err := r.AddLogs(ctx, logs); err != nil {
		b.Fatal(err)
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	db := openBenchRaw(b, rawPath)
	db.SetMaxOpenConns(1)
	m := newRawMultiRow(b, db, 500, true)
	if err := m.addLogs(ctx, logs); err != nil {
		b.Fatal(err)
	}
	m.close()
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	fx := readFixture{repo: openBenchRepo(b, repoPath), raw: openRawDB(b, rawPath)}
	b.Cleanup(func() { _ = fx.repo.Close() })
	b.Cleanup(func() { _ = fx.raw.Close() })
	return fx
}

// BenchmarkSQLiteLogsFirstPage reads the first page (limit 50, newest
// first) of a table of benchTableRows logs; rows/s counts rows returned.
// The raw side decodes the rows into the same []repository.Log.
func BenchmarkSQLiteLogsFirstPage(b *testing.B) {
	const limit = 50
	ctx := context.Background()
	fx := newReadFixture(b)
	want, err := fx.repo.Logs(ctx, repository.LogQuery{Limit: limit})
	if err != nil {
		b.Fatal(err)
	}
	got, err := rawLogs(ctx, fx.raw, limit, 0)
	if err != nil {
		b.Fatal(err)
	}
	if len(want) != limit || !reflect.DeepEqual(got, want) {
		b.Fatalf("raw and repo pages differ (%d and %d rows)", len(got), len(want))
	}
	b.ResetTimer()
	runSides(b, benchSide{"repo", func(b *testing.B) {
		for range b.N {
			if _, err := fx.repo.Logs(ctx, repository.LogQuery{Limit: limit}); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, limit)
	}}, benchSide{"raw", func(b *testing.B) {
		for range b.N {
			if _, err := rawLogs(ctx, fx.raw, limit, 0); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, limit)
	}})
}

// BenchmarkSQLiteCountLogsSearch counts the logs matching benchSearch (a
// column term and a bare word) in a table of benchTableRows logs; rows/s
// counts the table's rows per second.
func BenchmarkSQLiteCountLogsSearch(b *testing.B) {
	ctx := context.Background()
	fx := newReadFixture(b)
	f := repository.LogFilter{Search: benchSearch}
	want, err := fx.repo.CountLogs(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	var got int64
	if err := fx.raw.QueryRowContext(ctx, rawCountSearch, rawCountSearchArgs...).Scan(&got); err != nil {
		b.Fatal(err)
	}
	if got != want || want == 0 {
		b.Fatalf("raw counts %d, repo %d", got, want)
	}
	b.ResetTimer()
	runSides(b, benchSide{"repo", func(b *testing.B) {
		for range b.N {
			if _, err := fx.repo.CountLogs(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, benchTableRows)
	}}, benchSide{"raw", func(b *testing.B) {
		for range b.N {
			var n int64
			if err := fx.raw.QueryRowContext(ctx, rawCountSearch, rawCountSearchArgs...).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, benchTableRows)
	}})
}

// BenchmarkSQLiteLogHistogram1h buckets a table of benchTableRows logs
// spread over 7 days by hour; rows/s counts the table's rows per second.
func BenchmarkSQLiteLogHistogram1h(b *testing.B) {
	ctx := context.Background()
	fx := newReadFixture(b)
	want, err := fx.repo.LogHistogram(ctx, repository.LogFilter{}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	got, err := rawHistogram(ctx, fx.raw)
	if err != nil {
		b.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || len(want) < 7*24 {
		b.Fatalf("raw gives %d buckets, repo %d", len(got), len(want))
	}
	b.ResetTimer()
	runSides(b, benchSide{"repo", func(b *testing.B) {
		for range b.N {
			if _, err := fx.repo.LogHistogram(ctx, repository.LogFilter{}, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, benchTableRows)
	}}, benchSide{"raw", func(b *testing.B) {
		for range b.N {
			if _, err := rawHistogram(ctx, fx.raw); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, benchTableRows)
	}})
}
