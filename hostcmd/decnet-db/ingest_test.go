package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

// decnetDB returns the path of the decnet-db program TestMain installed:
// this test binary, run as the command.
func decnetDB(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("decnet-db")
	if err != nil {
		t.Fatalf("decnet-db is not in PATH (TestMain installs it): %v", err)
	}
	return p
}

// countLogs returns the number of logs of the SQLite database at path.
func countLogs(t *testing.T, env map[string]string) int64 {
	t.Helper()
	r := runEnv(t, env, "stats", "--json")
	wantCode(t, r, exitOK)
	var s statsJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("stats --json: %v\n%s", err, r.stdout)
	}
	return s.TotalLogs
}

// TestIngestInterrupt sends SIGINT to a real decnet-db ingest reading a
// pipe that stays open, after two batches are committed and while a third
// is half read. The summary must say what was committed and the --skip
// that resumes; the database must hold exactly that; and resuming with
// --skip must store the rest without duplicates.
func TestIngestInterrupt(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	wantCode(t, runEnv(t, env, "init"), exitOK)

	const total, batch = 2500, 1000
	var input bytes.Buffer
	for i := range total {
		input.Write(collectorLineN(i))
	}
	file := filepath.Join(t.TempDir(), "lines.json")
	if err := os.WriteFile(file, input.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(decnetDB(t), "ingest", "--batch", strconv.Itoa(batch), "--flush-interval", "1h", "--quiet", "-")
	cmd.Env = append(os.Environ(), "DECNET_DB_PATH="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// 2500 lines: two full batches commit, 500 lines wait for more input
	// (the flush interval is long).
	if _, err := stdin.Write(input.Bytes()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for countLogs(t, env) < 2*batch {
		if time.Now().After(deadline) {
			t.Fatalf("the first two batches were not committed in time; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("ingest did not stop after SIGINT; stderr:\n%s", stderr.String())
	}
	_ = stdin.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFail {
		t.Fatalf("ingest after SIGINT: %v, want exit 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	wantErr := fmt.Sprintf("decnet-db: ingest interrupted: %d logs committed; resume with --skip %d\n", 2*batch, 2*batch)
	if stderr.String() != wantErr {
		t.Errorf("stderr = %q, want %q", stderr.String(), wantErr)
	}
	if !strings.HasPrefix(stdout.String(), fmt.Sprintf("ingested %d logs ", 2*batch)) {
		t.Errorf("summary = %q, want it to start with %q", stdout.String(), fmt.Sprintf("ingested %d logs ", 2*batch))
	}
	if n := countLogs(t, env); n != 2*batch {
		t.Errorf("the database holds %d logs after the interrupt, the summary says %d", n, 2*batch)
	}

	// Resume: the rest, no duplicates.
	r := runEnv(t, env, "ingest", "--quiet", "--skip", strconv.Itoa(2*batch), file)
	wantCode(t, r, exitOK)
	if want := fmt.Sprintf("ingested %d logs from lines %d-%d of ", total-2*batch, 2*batch+1, total); !strings.HasPrefix(r.stdout, want) {
		t.Errorf("resume: stdout = %q, want %q...", r.stdout, want)
	}
	seen := map[string]bool{}
	for offset := 0; ; offset += repository.MaxLimit {
		r := runEnv(t, env, "logs", "--json", "--limit", strconv.Itoa(repository.MaxLimit), "--offset", strconv.Itoa(offset))
		wantCode(t, r, exitOK)
		var page logsJSON
		if err := json.Unmarshal([]byte(r.stdout), &page); err != nil {
			t.Fatal(err)
		}
		for _, l := range page.Logs {
			if seen[l.RawLine] {
				t.Errorf("line stored twice: %s", l.RawLine)
			}
			seen[l.RawLine] = true
		}
		if len(page.Logs) < repository.MaxLimit {
			break
		}
	}
	if len(seen) != total {
		t.Errorf("%d distinct logs stored, want %d", len(seen), total)
	}
}

// TestIngestFlushInterval checks that a partial batch from a stream that
// pauses is stored after --flush-interval, without the input ending.
func TestIngestFlushInterval(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	wantCode(t, runEnv(t, env, "init"), exitOK)
	cmd := exec.Command(decnetDB(t), "ingest", "--flush-interval", "100ms", "--quiet", "-")
	cmd.Env = append(os.Environ(), "DECNET_DB_PATH="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	for i := range 3 {
		if _, err := stdin.Write(collectorLineN(i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for countLogs(t, env) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("a partial batch was not stored after the flush interval")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

// TestExitCodes checks the documented exit codes of the new commands: 0
// ok, 1 the operation failed, 2 usage or configuration error.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	env, _ := sqliteEnv(t)
	wantCode(t, runEnv(t, env, "init"), exitOK)
	archive := filepath.Join("testdata", "archive-v1.jsonl")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
	}{
		{"reset dry run", []string{"reset"}, nil, exitOK},
		{"reset bad mode", []string{"reset", "--mode", "x"}, nil, exitUsage},
		{"reset bad configuration", []string{"reset"}, map[string]string{"DECNET_DB_POOL_SIZE": "-3"}, exitUsage},
		{"reset unknown type", []string{"reset", "--type", "nope"}, nil, exitUsage},
		{"reset fails", []string{"--type", "mysql", "--url", "mysql://u:p@127.0.0.1:1/x", "reset", "--i-know-what-im-doing"}, nil, exitFail},
		{"logs", []string{"logs"}, nil, exitOK},
		{"logs bad since", []string{"logs", "--since", "x"}, nil, exitUsage},
		{"logs bad limit", []string{"logs", "--limit", "-1"}, nil, exitUsage},
		{"histogram bad interval", []string{"histogram", "--interval", "10ms"}, nil, exitUsage},
		{"attackers bad sort", []string{"attackers", "--sort", "x"}, nil, exitUsage},
		{"stats", []string{"stats", "--json"}, nil, exitOK},
		{"bounties", []string{"bounties"}, nil, exitOK},
		{"state get missing", []string{"state", "get", "nope"}, nil, exitFail},
		{"state set bad JSON", []string{"state", "set", "k", "{"}, nil, exitUsage},
		{"users add bad role", []string{"users", "add", "x", "--role", "god"}, nil, exitUsage},
		{"users add empty password", []string{"users", "add", "x"}, nil, exitUsage},
		{"users rm unknown", []string{"users", "rm", "nobody"}, nil, exitFail},
		{"ingest bad format", []string{"ingest", "--format", "xml", "f"}, nil, exitUsage},
		{"ingest missing file", []string{"ingest", "no-such-file"}, nil, exitFail},
		{"import into non-empty", []string{"import", archive}, nil, exitFail},
		{"import no argument", []string{"import"}, nil, exitUsage},
		{"export unknown flag", []string{"export", "--bogus"}, nil, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			for k, v := range tt.env {
				e[k] = v
			}
			r := runEnv(t, e, tt.args...)
			wantCode(t, r, tt.code)
			if tt.code != exitOK {
				wantOneLineError(t, r)
			}
		})
	}
}

// TestExportFileMode checks that an archive, which holds password hashes,
// is readable by its owner only, and that an export that fails leaves no
// file behind.
func TestExportFileMode(t *testing.T) {
	t.Parallel()
	env, _ := sqliteEnv(t)
	wantCode(t, runEnv(t, env, "init"), exitOK)
	dir := t.TempDir()
	out := filepath.Join(dir, "a.jsonl.gz")
	wantCode(t, runEnv(t, env, "export", "--quiet", "--out", out), exitOK)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("archive mode %o, want 600", m)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("export left %d files in the directory, want 1", len(ents))
	}

	// Failed (the schema is missing): no archive, no temporary file.
	empty := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runEnv(t, map[string]string{"DECNET_DB_PATH": empty}, "export", "--out", filepath.Join(dir, "bad.jsonl"))
	wantCode(t, r, exitFail)
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("a failed export left files: %v", ents)
	}
}

// statusLine matches the status lines of ingest, export and import.
var statusLine = regexp.MustCompile(`^(ingest|export|import): `)

// TestSignalExitIsClean checks that SIGTERM stops an ingest like SIGINT.
func TestSignalExitIsClean(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	wantCode(t, runEnv(t, env, "init"), exitOK)
	cmd := exec.Command(decnetDB(t), "ingest", "--status-interval", "1ms", "-")
	cmd.Env = append(os.Environ(), "DECNET_DB_PATH="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if _, err := stdin.Write(collectorLineN(0)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for countLogs(t, env) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first line was not stored")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFail {
		t.Fatalf("ingest after SIGTERM: %v, want exit 1; stderr:\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	if last != "decnet-db: ingest interrupted: 1 logs committed; resume with --skip 1" {
		t.Errorf("last stderr line = %q", last)
	}
	for _, l := range lines[:len(lines)-1] {
		if !statusLine.MatchString(l) {
			t.Errorf("stderr line %q is neither a status line nor the error", l)
		}
	}
}
