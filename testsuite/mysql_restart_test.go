package testsuite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// privateMariaDB is a MariaDB server of the test's own, on a free port and
// a data directory in t.TempDir(), so that the test can kill and restart it
// without disturbing the shared server other tests use.
type privateMariaDB struct {
	t       *testing.T
	dir     string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

func startPrivateMariaDB(t *testing.T) *privateMariaDB {
	t.Helper()
	mysqlURL(t) // runs only where the MySQL tests run
	bin, err := exec.LookPath("mariadbd")
	if err != nil {
		bin = "/usr/sbin/mariadbd"
	}
	install, err := exec.LookPath("mariadb-install-db")
	if _, statErr := os.Stat(bin); err != nil || statErr != nil {
		t.Fatalf("this test starts its own MariaDB: mariadbd and mariadb-install-db are needed (apt-get install mariadb-server)")
	}
	m := &privateMariaDB{t: t, dir: t.TempDir()}
	out, err := exec.Command(install, "--no-defaults", "--datadir="+filepath.Join(m.dir, "data"), "--user=root",
		"--skip-test-db", "--auth-root-authentication-method=normal").CombinedOutput()
	if err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	m.logPath = filepath.Join(m.dir, "error.log")
	m.start(bin)
	t.Cleanup(m.kill)
	return m
}

func (m *privateMariaDB) start(bin string) {
	m.t.Helper()
	m.cmd = exec.Command(bin, "--no-defaults", "--datadir="+filepath.Join(m.dir, "data"),
		"--port="+strconv.Itoa(m.port), "--bind-address=127.0.0.1", "--socket="+filepath.Join(m.dir, "sock"),
		"--user=root", "--skip-grant-tables", "--log-error="+m.logPath, "--innodb-buffer-pool-size=16M")
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(m.cmd, m.exited)
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/", m.port))
	if err != nil {
		m.t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err = db.Exec("CREATE DATABASE IF NOT EXISTS decnet"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(m.logPath)
			m.t.Fatalf("private MariaDB did not start: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill crashes the server (SIGKILL), as a power cut would.
func (m *privateMariaDB) kill() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
}

// TestMySQLServerRestart crashes the server under a running repository:
// calls fail promptly with ErrUnavailable while it is down, work again
// without reopening once it is back, and every acknowledged write is there.
func TestMySQLServerRestart(t *testing.T) {
	m := startPrivateMariaDB(t)
	cfg := testConfig("mysql")
	cfg.URL = fmt.Sprintf("mysql://root@127.0.0.1:%d/decnet", m.port)
	ctx := context.Background()
	repo, err := registry.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if err := repo.Initialize(ctx); err != nil {
		t.Fatal(err)
	}

	// Writers run across the crash; every id they were given must survive.
	var (
		mu    sync.Mutex
		acked []int64
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				id, err := repo.AddLog(cctx, repository.Log{Timestamp: time.Now(), Decky: "d", RawLine: fmt.Sprintf("w%d-%d", w, i)})
				cancel()
				if err == nil {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				} else {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	m.kill()

	// While it is down, calls fail promptly and say so.
	start := time.Now()
	_, err = repo.CountLogs(ctx, repository.LogFilter{})
	if !errors.Is(err, repository.ErrUnavailable) {
		t.Errorf("CountLogs while down: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("CountLogs while down took %s", d)
	}
	time.Sleep(300 * time.Millisecond)

	bin, _ := exec.LookPath("mariadbd")
	if bin == "" {
		bin = "/usr/sbin/mariadbd"
	}
	m.start(bin)

	// Back: the same repository works again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err = repo.CountLogs(ctx, repository.LogFilter{}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("repository did not recover after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // writers succeed again
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	have := map[int64]bool{}
	for after := int64(0); ; {
		logs, err := repo.LogsAfterID(ctx, after, repository.MaxLimit, repository.LogFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) == 0 {
			break
		}
		for _, l := range logs {
			have[l.ID] = true
		}
		after = logs[len(logs)-1].ID
	}
	lost := 0
	for _, id := range acked {
		if !have[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged writes lost in the crash", lost, len(acked))
	}
	t.Logf("%d acknowledged writes, all present after the crash and restart", len(acked))
}
