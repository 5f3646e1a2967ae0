package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// maxRSS is the memory bound of export and import, whatever the size of
// the database.
const maxRSS = 150 << 20

// TestLarge moves a million events through the real command and measures
// it: ingest of a 1M-line collector file into SQLite against AddLogs in
// batches of the same size (the target is at least 0.8x), then export and
// import on SQLite, and on MySQL when DECNET_TEST_MYSQL_URL is set, each
// below maxRSS of peak RSS. It takes minutes: it runs only with
// DECNET_TEST_LARGE=1 (DECNET_TEST_LARGE_N changes the number of events),
// not with -short, and not under the race detector, which multiplies
// memory. The numbers are logged (go test -v).
func TestLarge(t *testing.T) {
	if testing.Short() || os.Getenv("DECNET_TEST_LARGE") == "" {
		t.Skip("a million events take minutes: set DECNET_TEST_LARGE=1 to run this test")
	}
	if raceEnabled {
		t.Skip("the race detector inflates memory: run without -race")
	}
	n := 1_000_000
	if s := os.Getenv("DECNET_TEST_LARGE_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("DECNET_TEST_LARGE_N: %v", err)
		}
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "collector.json")
	writeLines(t, input, n)
	const batch = defaultIngestBatch

	// The baseline: AddLogs in batches of the same size, parsing not timed.
	addLogsRate := addLogsBaseline(t, input, filepath.Join(dir, "baseline.db"), batch)
	t.Logf("AddLogs (SQLite, batches of %d): %.0f logs/s", batch, addLogsRate)

	src := filepath.Join(dir, "src.db")
	env := []string{"DECNET_DB_PATH=" + src}
	runMeasured(t, env, "init")
	m := runMeasured(t, env, "ingest", "--quiet", "--batch", strconv.Itoa(batch), input)
	ingestRate := float64(n) / m.elapsed.Seconds()
	t.Logf("ingest (SQLite, %d lines): %s, %.0f logs/s = %.2fx AddLogs; peak RSS %s",
		n, m.elapsed.Round(time.Millisecond), ingestRate, ingestRate/addLogsRate, mib(m.rss))
	if ingestRate < 0.8*addLogsRate {
		t.Errorf("ingest stores %.0f logs/s, less than 0.8x AddLogs (%.0f logs/s)", ingestRate, addLogsRate)
	}

	archive := filepath.Join(dir, "sqlite.jsonl")
	m = runMeasured(t, env, "export", "--quiet", "--out", archive)
	t.Logf("export (SQLite, %d events): %s, peak RSS %s", n, m.elapsed.Round(time.Millisecond), mib(m.rss))
	checkRSS(t, "export from SQLite", m.rss)

	m = runMeasured(t, []string{"DECNET_DB_PATH=" + filepath.Join(dir, "dst.db")}, "import", "--quiet", archive)
	t.Logf("import (SQLite, %d events): %s, peak RSS %s", n, m.elapsed.Round(time.Millisecond), mib(m.rss))
	checkRSS(t, "import into SQLite", m.rss)

	server := os.Getenv("DECNET_TEST_MYSQL_URL")
	if server == "" {
		t.Log("no MySQL: set DECNET_TEST_MYSQL_URL to measure it too")
		return
	}
	u, drop, err := scratchMySQL(server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	menv := []string{"DECNET_DB_TYPE=mysql", "DECNET_DB_URL=" + u}
	m = runMeasured(t, menv, "import", "--quiet", archive)
	t.Logf("import (MySQL, %d events): %s, peak RSS %s", n, m.elapsed.Round(time.Millisecond), mib(m.rss))
	checkRSS(t, "import into MySQL", m.rss)
	marchive := filepath.Join(dir, "mysql.jsonl")
	m = runMeasured(t, menv, "export", "--quiet", "--out", marchive)
	t.Logf("export (MySQL, %d events): %s, peak RSS %s", n, m.elapsed.Round(time.Millisecond), mib(m.rss))
	checkRSS(t, "export from MySQL", m.rss)
	sameRecords(t, archive, marchive)
}

// measured is what one run of the command cost.
type measured struct {
	elapsed time.Duration
	rss     int64 // peak resident set size, bytes
}

// runMeasured runs decnet-db with args and env added to the test's
// environment, fails the test unless it exits 0, and returns its wall
// time and peak RSS.
func runMeasured(t *testing.T, env []string, args ...string) measured {
	t.Helper()
	cmd := exec.Command(decnetDB(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("decnet-db %v: %v\n%s", args, err, stderr.String())
	}
	el := time.Since(start)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage on this system")
	}
	return measured{elapsed: el, rss: ru.Maxrss * 1024} // Linux reports KiB
}

func checkRSS(t *testing.T, what string, rss int64) {
	t.Helper()
	if rss > maxRSS {
		t.Errorf("%s: peak RSS %s, over the bound of %s", what, mib(rss), mib(maxRSS))
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// writeLines writes n generated collector lines to path.
func writeLines(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		if _, err := w.Write(collectorLineN(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// addLogsBaseline stores the lines of input into a new SQLite database
// at path with AddLogs in batches of size, and returns the rate counting
// only the time spent in AddLogs.
func addLogsBaseline(t *testing.T, input, path string, size int) float64 {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.Path = path
	repo, err := registry.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if err := repo.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, maxIngestLine)
	var (
		spent time.Duration
		n     int
	)
	logs := make([]repository.Log, 0, size)
	flush := func() {
		start := time.Now()
		if err := repo.AddLogs(ctx, logs); err != nil {
			t.Fatal(err)
		}
		spent += time.Since(start)
		n += len(logs)
		logs = logs[:0]
	}
	for sc.Scan() {
		l, err := parseCollectorJSON(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if logs = append(logs, l); len(logs) == size {
			flush()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(logs) > 0 {
		flush()
	}
	return float64(n) / spent.Seconds()
}

// sameRecords checks that two archives hold the same records, streaming.
func sameRecords(t *testing.T, a, b string) {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ra, rb := newArchiveReader(fa), newArchiveReader(fb)
	if _, err := ra.header(); err != nil {
		t.Fatal(err)
	}
	if _, err := rb.header(); err != nil {
		t.Fatal(err)
	}
	for {
		la, erra := ra.next()
		lb, errb := rb.next()
		if erra != nil || errb != nil {
			if erra != errb {
				t.Errorf("%s and %s end differently: %v, %v", a, b, erra, errb)
			}
			return
		}
		if !bytes.Equal(la, lb) {
			t.Fatalf("line %d differs:\n%s\n%s", ra.line, la, lb)
		}
	}
}
