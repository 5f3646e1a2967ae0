package testsuite

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// The SQL texts the raw baselines run. They are the texts SQLRepository
// builds with go-sqlbuilder in the SQLite flavor (core/repository
// sql_logs.go, writer.go, and the SQLite dialect's hooks), written out so
// that the baseline owes nothing to our code.
const (
	rawLogCols = "timestamp, decky, service, event_type, attacker_ip, raw_line, fields, msg, trace_id, span_id"
	rawLogRow  = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	// rawInsertLog is the single-row INSERT of AddLog.
	rawInsertLog = "INSERT INTO logs (" + rawLogCols + ") VALUES " + rawLogRow
	// rawFirstPage is Logs with an empty filter, Limit 50, Offset 0.
	rawFirstPage = "SELECT id, " + rawLogCols + " FROM logs ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?"
	// rawCountSearch is CountLogs with the search benchSearch.
	rawCountSearch = "SELECT COUNT(*) FROM logs WHERE service = ? AND " +
		"(raw_line LIKE ? ESCAPE '!' OR decky LIKE ? ESCAPE '!' OR service LIKE ? ESCAPE '!' OR attacker_ip LIKE ? ESCAPE '!')"
	// rawHistogram1h is LogHistogram with an empty filter and a 1h interval.
	rawHistogram1h = "SELECT (CAST(strftime('%s', timestamp) AS INTEGER) / 3600) * 3600 AS bucket, COUNT(*) " +
		"FROM logs GROUP BY bucket ORDER BY bucket ASC"
)

// benchSearch is the search of the CountLogs benchmark: a column term and a
// bare word; rawCountSearchArgs are the arguments it binds.
const benchSearch = "service:ssh admin"

var rawCountSearchArgs = []any{"ssh", "%admin%", "%admin%", "%admin%", "%admin%"}

// rawInsertLogs returns the multi-row INSERT of n rows.
func rawInsertLogs(n int) string {
	return "INSERT INTO logs (" + rawLogCols + ") VALUES " + strings.Repeat(rawLogRow+", ", n-1) + rawLogRow
}

// rawDSNOptions give the raw baselines the connection settings of our
// SQLite driver: WAL, synchronous=NORMAL, a 30 s busy timeout, and no
// SQLite-level mutex (database/sql never shares a connection between
// goroutines; our driver opens its connections the same way).
const rawDSNOptions = "_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=30000&_mutex=no"

// benchLogStart is the time of the first generated log.
var benchLogStart = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

// benchLogSpan is the time the generated logs cover.
const benchLogSpan = 7 * 24 * time.Hour

// benchLogs returns n realistic logs, the same for every call with the same
// n: a few deckies, services and event types, 250 attacker IPs, 3 or 4
// fields, a raw line of about 150 bytes, timestamps ascending over
// benchLogSpan.
func benchLogs(n int) []repository.Log {
	rng := rand.New(rand.NewPCG(0xdec, 0x7e7))
	deckies := []string{"decky-web-01", "decky-web-02", "decky-db-01", "decky-mail-01", "decky-fs-01"}
	services := []string{"ssh", "ssh", "ssh", "http", "ftp", "smb", "telnet", "mysql"}
	events := []string{"login_attempt", "login_attempt", "command", "connection", "file_download", "port_scan"}
	users := []string{"root", "admin", "ubuntu", "oracle", "test", "pi", "postgres", "guest"}
	passwords := []string{"123456", "password", "admin", "toor", "qwerty", "letmein", "P@ssw0rd", "changeme"}
	commands := []string{"uname -a", "cat /etc/passwd", "wget http://203.0.113.9/x.sh", "id", "ls -la /tmp", "nproc"}
	ips := make([]string, 250)
	for i := range ips {
		ips[i] = fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(222), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	}
	step := benchLogSpan / time.Duration(n)
	out := make([]repository.Log, n)
	for i := range out {
		ts := benchLogStart.Add(time.Duration(i)*step + time.Duration(rng.Int64N(int64(step)))).Truncate(time.Microsecond)
		decky := deckies[rng.IntN(len(deckies))]
		svc := services[rng.IntN(len(services))]
		ev := events[rng.IntN(len(events))]
		ip := ips[rng.IntN(len(ips))]
		user := users[rng.IntN(len(users))]
		port := 1024 + rng.IntN(64511)
		fields := map[string]string{
			"username": user,
			"password": passwords[rng.IntN(len(passwords))],
			"src_port": fmt.Sprint(port),
		}
		if ev == "command" {
			fields["command"] = commands[rng.IntN(len(commands))]
		}
		raw := fmt.Sprintf("<134>1 %s %s %s %d %s [decnet@55555 src=%q user=%q port=\"%d\"] %s for %s from %s port %d",
			ts.Format(time.RFC3339Nano), decky, svc, 1000+rng.IntN(30000), ev, ip, user, port,
			"authentication failure", user, ip, port)
		out[i] = repository.Log{
			Timestamp:  ts,
			Decky:      decky,
			Service:    svc,
			EventType:  ev,
			AttackerIP: ip,
			RawLine:    raw,
			Fields:     fields,
			Msg:        ev + " from " + ip,
			TraceID:    fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()),
			SpanID:     fmt.Sprintf("%016x", rng.Uint64()),
		}
	}
	return out
}

// rawLogArgs returns the values a hand-written program binds for l, in
// rawLogCols order: what our repository binds.
func rawLogArgs(l repository.Log) []any {
	fields := "{}"
	if len(l.Fields) > 0 {
		b, err := json.Marshal(l.Fields)
		if err != nil {
			panic(err)
		}
		fields = string(b)
	}
	return []any{repository.FormatTextTime(l.Timestamp), l.Decky, l.Service, l.EventType, l.AttackerIP,
		l.RawLine, fields, l.Msg, l.TraceID, l.SpanID}
}

// openBenchRepo opens and initializes our SQLite repository on the file
// path through the registry. The caller closes it.
func openBenchRepo(b *testing.B, path string) repository.Repository {
	cfg := testConfig("sqlite")
	cfg.Path = path
	return openBenchConfig(b, cfg)
}

// openBenchConfig opens and initializes the repository of cfg through the
// registry. The caller closes it.
func openBenchConfig(b *testing.B, cfg config.Config) repository.Repository {
	b.Helper()
	r, err := registry.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Initialize(context.Background()); err != nil {
		_ = r.Close()
		b.Fatal(err)
	}
	return r
}

// openBenchRaw creates our schema in the file path (by initializing our
// repository on it and closing it) and opens it with openRawDB.
func openBenchRaw(b *testing.B, path string) *sql.DB {
	b.Helper()
	if err := openBenchRepo(b, path).Close(); err != nil {
		b.Fatal(err)
	}
	return openRawDB(b, path)
}

// openRawDB opens the file path with plain database/sql and
// mattn/go-sqlite3, with rawDSNOptions. The pool is unlimited; the caller
// sizes and closes it.
func openRawDB(b *testing.B, path string) *sql.DB {
	b.Helper()
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+rawDSNOptions)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		_ = db.Close()
		b.Fatal(err)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		_ = db.Close()
		b.Fatalf("raw journal_mode = %q, %v; want wal", mode, err)
	}
	return db
}

// removeDB deletes a database file and its WAL and shared-memory files.
func removeDB(b *testing.B, path string) {
	b.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
}

// benchPath returns a new database file name in a new temporary directory.
func benchPath(b *testing.B) string {
	return filepath.Join(b.TempDir(), "bench.db")
}

// benchSide is one sub-benchmark of a comparison: repo or a raw variant.
type benchSide struct {
	name string
	fn   func(b *testing.B)
}

// benchRotate is which side each comparison runs first. go test runs the
// leaves of a benchmark -count times in a row, so a noisy machine's drift
// lands on one side; to interleave, run the test binary several times with
// -count 1 and a different -bench.rotate each time.
var benchRotate = flag.Int("bench.rotate", 0, "run the sides of each benchmark comparison starting at side `n` (mod their number)")

// runSides runs the sides as sub-benchmarks, starting at side
// -bench.rotate.
func runSides(b *testing.B, sides ...benchSide) {
	for i := range sides {
		s := sides[(i+*benchRotate)%len(sides)]
		b.Run(s.name, s.fn)
	}
}

// addEach stores one of logs per iteration with add, timed from a fresh
// heap, and reports rows/s.
func addEach(b *testing.B, logs []repository.Log, add func(repository.Log) error) {
	runtime.GC()
	b.ResetTimer()
	for i := range b.N {
		if err := add(logs[i%len(logs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRows(b, 1)
}

// repoAddLog is add of addEach and addConcurrently for r's AddLog.
func repoAddLog(r repository.Repository) func(repository.Log) error {
	return func(l repository.Log) error {
		_, err := r.AddLog(context.Background(), l)
		return err
	}
}

// repoAddLogs is open's result for addBatchesEach on r: its AddLogs, and
// its Close.
func repoAddLogs(r repository.Repository) (insert func([]repository.Log) error, closeDB func() error) {
	return func(l []repository.Log) error { return r.AddLogs(context.Background(), l) }, r.Close
}

// addBatchesEach runs b.N iterations, each inserting all of logs, in
// batches of size, into a new database file made by open; it times only
// the inserts, each iteration from a fresh heap, and reports rows/s.
func addBatchesEach(b *testing.B, logs []repository.Log, size int,
	open func(path string) (insert func([]repository.Log) error, closeDB func() error)) {
	dir := b.TempDir()
	for i := range b.N {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("%d.db", i))
		insert, closeDB := open(path)
		runtime.GC() // leave no garbage of the previous run to this one
		b.StartTimer()
		for start := 0; start < len(logs); start += size {
			if err := insert(logs[start:min(start+size, len(logs))]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if err := closeDB(); err != nil {
			b.Fatal(err)
		}
		removeDB(b, path)
		b.StartTimer()
	}
	b.StopTimer()
	reportRows(b, len(logs))
}

// addConcurrently makes b.N calls of add, spread over benchWriters
// goroutines, timed, and reports rows/s. Each error goes to onErr; the
// goroutine that got it stops when onErr returns true.
func addConcurrently(b *testing.B, logs []repository.Log, add func(repository.Log) error, onErr func(error) (stop bool)) {
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range benchWriters {
		n := b.N / benchWriters
		if g < b.N%benchWriters {
			n++
		}
		wg.Go(func() {
			for i := range n {
				if err := add(logs[(g+i*benchWriters)%len(logs)]); err != nil && onErr(err) {
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	reportRows(b, 1)
}

// reportRows reports rows/s for rowsPerOp rows per iteration.
func reportRows(b *testing.B, rowsPerOp int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(rowsPerOp)*float64(b.N)/s, "rows/s")
	}
}

// rawAddLogsPrepared inserts logs in one transaction with a prepared
// single-row INSERT executed per row.
func rawAddLogsPrepared(ctx context.Context, db *sql.DB, logs []repository.Log) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	st, err := tx.PrepareContext(ctx, rawInsertLog)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, l := range logs {
		if _, err := st.ExecContext(ctx, rawLogArgs(l)...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// rawMultiRow inserts logs with multi-row INSERT statements of at most
// perStmt rows. With full set, full chunks run that statement, prepared
// once on the pool; without, every chunk sends its text to db.Exec, which
// prepares and finalizes it each time (what SQLRepository.AddLogs does).
type rawMultiRow struct {
	db      *sql.DB
	perStmt int
	text    string    // the INSERT of perStmt rows
	full    *sql.Stmt // text prepared, or nil
	// args returns the values bound for a log; newRawMultiRow sets
	// rawLogArgs.
	args func(repository.Log) []any
}

func newRawMultiRow(b *testing.B, db *sql.DB, perStmt int, prepared bool) *rawMultiRow {
	b.Helper()
	m := &rawMultiRow{db: db, perStmt: perStmt, text: rawInsertLogs(perStmt), args: rawLogArgs}
	if prepared {
		st, err := db.Prepare(m.text)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		m.full = st
	}
	return m
}

// close closes the prepared statement, if any.
func (m *rawMultiRow) close() {
	if m.full != nil {
		_ = m.full.Close()
	}
}

// addLogs inserts logs in one transaction.
func (m *rawMultiRow) addLogs(ctx context.Context, logs []repository.Log) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var full *sql.Stmt
	if m.full != nil {
		full = tx.StmtContext(ctx, m.full)
		defer full.Close()
	}
	args := make([]any, 0, m.perStmt*10)
	for start := 0; start < len(logs); start += m.perStmt {
		chunk := logs[start:min(start+m.perStmt, len(logs))]
		args = args[:0]
		for _, l := range chunk {
			args = append(args, m.args(l)...)
		}
		switch {
		case len(chunk) == m.perStmt && full != nil:
			_, err = full.ExecContext(ctx, args...)
		case len(chunk) == m.perStmt:
			_, err = tx.ExecContext(ctx, m.text, args...)
		default:
			_, err = tx.ExecContext(ctx, rawInsertLogs(len(chunk)), args...)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// rawTime parses a timestamp column as stored by our SQLite driver.
func rawTime(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02 15:04:05.999999999", s, time.UTC)
}

// rawLogs runs rawFirstPage and decodes the rows as a hand-written program
// would to get the same []repository.Log: time parsed, fields unmarshalled.
func rawLogs(ctx context.Context, db *sql.DB, limit, offset int) ([]repository.Log, error) {
	rows, err := db.QueryContext(ctx, rawFirstPage, limit, offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]repository.Log, 0, limit)
	for rows.Next() {
		var (
			l          repository.Log
			ts, fields string
		)
		if err := rows.Scan(&l.ID, &ts, &l.Decky, &l.Service, &l.EventType, &l.AttackerIP,
			&l.RawLine, &fields, &l.Msg, &l.TraceID, &l.SpanID); err != nil {
			return nil, err
		}
		if l.Timestamp, err = rawTime(ts); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fields), &l.Fields); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// rawHistogram runs rawHistogram1h.
func rawHistogram(ctx context.Context, db *sql.DB) ([]repository.Bucket, error) {
	rows, err := db.QueryContext(ctx, rawHistogram1h)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []repository.Bucket{}
	for rows.Next() {
		var start, n int64
		if err := rows.Scan(&start, &n); err != nil {
			return nil, err
		}
		out = append(out, repository.Bucket{Start: time.Unix(start, 0).UTC(), Count: n})
	}
	return out, rows.Err()
}
