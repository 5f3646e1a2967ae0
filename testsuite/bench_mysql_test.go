package testsuite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// mysqlBenchDB makes a scratch database with our schema on the test
// server and returns our repository on it and a raw go-sql-driver pool on
// another such database, so that neither side's table grows with the
// other's rows, and a function that empties both logs tables with
// TRUNCATE. Both close, and the databases are dropped, when b ends.
func mysqlBenchDB(b *testing.B) (repository.Repository, *sql.DB, func()) {
	b.Helper()
	ctx := context.Background()
	open := func() (repository.Repository, string) {
		cfg := testConfig("mysql")
		cfg.URL = mysqlURL(b)
		scratch, cleanup, err := registry.Scratch(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cleanup(context.Background()) })
		r, err := registry.Open(ctx, scratch)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Initialize(ctx); err != nil {
			b.Fatal(err)
		}
		return r, scratch.URL
	}
	// rawPool opens what a hand-written program would: the connection of
	// dsn (its address, credentials, TLS, ...) with parseTime, UTC and
	// utf8mb4, and the session's time zone UTC.
	rawPool := func(dsn string) *sql.DB {
		mc, err := mysqldrv.ParseDSN(dsn)
		if err != nil {
			b.Fatal(err)
		}
		mc.ParseTime = true
		mc.Loc = time.UTC
		if err := mc.Apply(mysqldrv.Charset("utf8mb4", mc.Collation)); err != nil {
			b.Fatal(err)
		}
		if mc.Params == nil {
			mc.Params = map[string]string{}
		}
		mc.Params["time_zone"] = "'+00:00'"
		db, err := sql.Open("mysql", mc.FormatDSN())
		if err != nil {
			b.Fatal(err)
		}
		db.SetMaxOpenConns(60)
		db.SetMaxIdleConns(20)
		b.Cleanup(func() { _ = db.Close() })
		return db
	}
	repo, repoDSN := open()
	b.Cleanup(func() { _ = repo.Close() })
	schema, dsn := open()
	_ = schema.Close()
	raw, repoRaw := rawPool(dsn), rawPool(repoDSN)
	// Both sides start from a TRUNCATEd table: Purge's DELETE would leave
	// InnoDB's purge thread cleaning up the deleted rows while the next
	// iteration is timed, on one side only.
	truncate := func() {
		for _, db := range []*sql.DB{raw, repoRaw} {
			if _, err := db.ExecContext(context.Background(), "TRUNCATE TABLE logs"); err != nil {
				b.Fatal(err)
			}
		}
	}
	return repo, raw, truncate
}

// rawMySQLArgs are the values a hand-written program binds for l: the time
// as time.Time, as our MySQL dialect binds it.
func rawMySQLArgs(l repository.Log) []any {
	args := rawLogArgs(l)
	args[0] = l.Timestamp.UTC()
	return args
}

// rawMySQLAddLog is the raw driver's AddLog: an autocommit single-row
// INSERT on db.
func rawMySQLAddLog(db *sql.DB) func(repository.Log) error {
	return func(l repository.Log) error {
		_, err := db.ExecContext(context.Background(), rawInsertLog, rawMySQLArgs(l)...)
		return err
	}
}

// BenchmarkMySQLAddLog: one AddLog per iteration, against the raw driver's
// autocommit single-row INSERT.
func BenchmarkMySQLAddLog(b *testing.B) {
	logs := benchLogs(benchTableRows)
	repo, raw, _ := mysqlBenchDB(b)
	runSides(b,
		benchSide{"repo", func(b *testing.B) { addEach(b, logs, repoAddLog(repo)) }},
		benchSide{"raw", func(b *testing.B) { addEach(b, logs, rawMySQLAddLog(raw)) }},
	)
}

// BenchmarkMySQLAddLogs inserts benchTableRows rows per iteration in
// batches of the sub-benchmark's size, each batch one transaction: our
// AddLogs against the raw driver's multi-row INSERT of 500 rows per
// statement.
func BenchmarkMySQLAddLogs(b *testing.B) {
	logs := benchLogs(benchTableRows)
	ctx := context.Background()
	repo, raw, truncate := mysqlBenchDB(b)
	each := func(b *testing.B, size int, insert func([]repository.Log) error) {
		for b.Loop() {
			b.StopTimer()
			truncate()
			runtime.GC()
			b.StartTimer()
			for start := 0; start < len(logs); start += size {
				if err := insert(logs[start:min(start+size, len(logs))]); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportRows(b, len(logs))
	}
	for _, size := range []int{500, 5000, benchTableRows} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			runSides(b,
				benchSide{"repo", func(b *testing.B) {
					each(b, size, func(l []repository.Log) error { return repo.AddLogs(ctx, l) })
				}},
				benchSide{"raw-multirow", func(b *testing.B) {
					m := newRawMultiRow(b, raw, 500, false)
					m.args = rawMySQLArgs
					each(b, size, func(l []repository.Log) error { return m.addLogs(ctx, l) })
				}},
			)
		})
	}
}

// BenchmarkMySQLAddLogConcurrent8: benchWriters goroutines share b.N
// AddLog calls; the raw side does autocommit INSERTs from as many
// goroutines. Each of our calls returns only once its row is committed.
func BenchmarkMySQLAddLogConcurrent8(b *testing.B) {
	logs := benchLogs(benchTableRows)
	repo, raw, _ := mysqlBenchDB(b)
	run := func(b *testing.B, add func(repository.Log) error) {
		var first sync.Once
		var firstErr error
		addConcurrently(b, logs, add, func(err error) bool {
			first.Do(func() { firstErr = err })
			return true
		})
		if firstErr != nil {
			b.Error(firstErr)
		}
	}
	runSides(b,
		benchSide{"repo", func(b *testing.B) { run(b, repoAddLog(repo)) }},
		benchSide{"raw", func(b *testing.B) { run(b, rawMySQLAddLog(raw)) }},
	)
}
