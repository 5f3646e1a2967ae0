package testsuite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/decnet/decnet-db/core/registry"
)

// commandBinary builds the decnet-db command once per test binary.
func commandBinary(t *testing.T) string {
	t.Helper()
	return decnetDBCommand.build(t)
}

// mysqlScratchUser creates a scratch database and a user with password on
// it (the command refuses an empty password outside go test), and returns
// the host:port, database, user and password; cleanup drops both.
func mysqlScratchUser(t *testing.T, password string) (addr, db, user string) {
	t.Helper()
	cfg := testConfig("mysql")
	cfg.URL = mysqlURL(t)
	scratch, cleanup, err := registry.Scratch(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cleanup(context.Background()) })
	mc, err := mysqldrv.ParseDSN(scratch.URL)
	if err != nil {
		t.Fatal(err)
	}
	root, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var b [4]byte
	_, _ = rand.Read(b[:])
	user = "decnet_t_" + hex.EncodeToString(b[:])
	for _, q := range []string{
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, strings.ReplaceAll(password, "'", "''")),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", mc.DBName, user),
	} {
		if _, err := root.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", mc.FormatDSN()); err == nil {
			_, _ = db.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", user))
			db.Close()
		}
	})
	return mc.Addr, mc.DBName, user
}

// TestMySQLConcurrentInit runs `decnet-db init` in ten processes at once on
// one database: all succeed (GET_LOCK serializes schema creation) and one
// admin exists. Half connect with the components and a password full of
// URL-reserved characters, half with the percent-encoded URL.
func TestMySQLConcurrentInit(t *testing.T) {
	bin := commandBinary(t)
	const password = "p@ss:w/rd !#%+x"
	addr, db, user := mysqlScratchUser(t, password)
	host, port, _ := strings.Cut(addr, ":")
	urlForm := (&url.URL{Scheme: "mysql", User: url.UserPassword(user, password), Host: addr, Path: "/" + db}).String()

	var wg sync.WaitGroup
	errs := make([]string, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "init")
			env := []string{"PATH=" + os.Getenv("PATH"), "DECNET_DB_TYPE=mysql", "DECNET_ADMIN_PASSWORD=init-test-admin"}
			if i%2 == 0 {
				env = append(env, "DECNET_DB_HOST="+host, "DECNET_DB_PORT="+port, "DECNET_DB_NAME="+db,
					"DECNET_DB_USER="+user, "DECNET_DB_PASSWORD="+password)
			} else {
				env = append(env, "DECNET_DB_URL="+urlForm)
			}
			cmd.Env = env
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Sprintf("process %d: %v\n%s", i, err, out.String())
			}
			if strings.Contains(out.String(), password) {
				errs[i] += fmt.Sprintf("process %d printed the password:\n%s", i, out.String())
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}

	cfg := testConfig("mysql")
	cfg.URL = urlForm
	repo, err := registry.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	users, err := repo.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].Username != "admin" {
		t.Errorf("users after 10 concurrent inits = %+v, want one admin", users)
	}
}

// TestMySQLEmptyPasswordRefused: outside go test, an empty MySQL password
// is a configuration error (exit 2) that names DECNET_DB_PASSWORD and the
// two ways to fix it.
func TestMySQLEmptyPasswordRefused(t *testing.T) {
	bin := commandBinary(t)
	cmd := exec.Command(bin, "init")
	cmd.Env = []string{"DECNET_DB_TYPE=mysql", "DECNET_DB_HOST=127.0.0.1"}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v, want exit status 2\n%s", err, out)
	}
	for _, want := range []string{"DECNET_DB_PASSWORD", "DECNET_DB_URL"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output %q does not name %s", out, want)
		}
	}
}
