package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its two ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	return m, s
}

// TestProgressBarOnTerminal runs ingest, export and import with stderr on
// a terminal: each draws a progress bar with a rate (and, when the total
// is known, an ETA), and prints no status lines.
func TestProgressBarOnTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := filepath.Join(dir, "lines.json")
	writeLines(t, input, 20000)
	env := []string{"DECNET_DB_PATH=" + filepath.Join(dir, "a.db")}
	archive := filepath.Join(dir, "a.jsonl")
	for _, args := range [][]string{
		{"init"},
		{"ingest", "--batch", "100", input},
		{"export", "--out", archive},
		{"--path", filepath.Join(dir, "b.db"), "import", archive},
	} {
		master, slave := openPTY(t)
		cmd := exec.Command(decnetDB(t), args...)
		cmd.Env = append(os.Environ(), env...)
		var stdout bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, slave
		var tty bytes.Buffer
		copied := make(chan struct{})
		go func() {
			_, _ = io.Copy(&tty, master) // ends with EIO once the child is gone
			close(copied)
		}()
		err := cmd.Run()
		_ = slave.Close()
		<-copied
		_ = master.Close()
		if err != nil {
			t.Fatalf("decnet-db %v: %v\nstdout:\n%s\nterminal:\n%s", args, err, stdout.String(), tty.String())
		}
		if args[0] == "init" {
			continue
		}
		out := tty.String()
		name := args[0]
		if name == "--path" {
			name = "import"
		}
		if !strings.Contains(out, name) || !strings.Contains(out, "%") || !strings.Contains(out, "/s") {
			t.Errorf("%s: no progress bar with a rate on the terminal:\n%q", name, out)
		}
		if strings.Contains(out, name+": ") && strings.Contains(out, " of ") && strings.Count(out, "\n") > 2 {
			t.Errorf("%s: status lines on a terminal:\n%q", name, out)
		}
	}
}
