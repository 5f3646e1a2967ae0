package testsuite

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

func openSQLite(t *testing.T, path string) repository.Repository {
	t.Helper()
	cfg := testConfig("sqlite")
	cfg.Path = path
	r, err := registry.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if err := r.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSQLiteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decnet.db")
	r := openSQLite(t, path)
	if _, err := r.AddLog(context.Background(), repository.Log{Timestamp: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
}

// TestSQLiteSettingsOnEveryConnection asks many read connections at once
// for their settings: each ran the connection set-up.
func TestSQLiteSettingsOnEveryConnection(t *testing.T) {
	r := openSQLite(t, filepath.Join(t.TempDir(), "decnet.db"))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info, err := r.Describe(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			want := map[string]string{"journal_mode": "wal", "synchronous": "NORMAL", "busy_timeout": "30000", "foreign_keys": "1"}
			for _, s := range info.Settings {
				if w, ok := want[s.Name]; ok && s.Value != w {
					t.Errorf("%s = %s, want %s", s.Name, s.Value, w)
				}
			}
		}()
	}
	wg.Wait()
}

// TestSQLiteMemory: each ":memory:" repository has its own database, which
// lives as long as the repository, across its connections.
func TestSQLiteMemory(t *testing.T) {
	ctx := context.Background()
	a, b := openSQLite(t, ":memory:"), openSQLite(t, ":memory:")
	logs := make([]repository.Log, 100)
	for i := range logs {
		logs[i] = repository.Log{Timestamp: time.Now(), Decky: "a"}
	}
	if err := a.AddLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := a.CountLogs(ctx, repository.LogFilter{}); err != nil || n != 100 {
				t.Errorf("CountLogs on a = %d, %v; want 100", n, err)
			}
		}()
	}
	wg.Wait()
	if n, err := b.CountLogs(ctx, repository.LogFilter{}); err != nil || n != 0 {
		t.Errorf("CountLogs on b = %d, %v; want 0 (a separate database)", n, err)
	}
}

// TestSQLiteTwoRepositoriesOneFile stands for two processes writing one
// file: the busy timeout makes them wait for each other, never fail.
func TestSQLiteTwoRepositoriesOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decnet.db")
	repos := []repository.Repository{openSQLite(t, path), openSQLite(t, path)}
	var wg sync.WaitGroup
	for _, r := range repos {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 200 {
					if _, err := r.AddLog(ctx, repository.Log{Timestamp: time.Now()}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if n, err := repos[0].CountLogs(ctx, repository.LogFilter{}); err != nil || n != 1600 {
		t.Errorf("CountLogs = %d, %v; want 1600", n, err)
	}
}
