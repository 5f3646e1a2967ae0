package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
)

// TestMain makes the test binary the decnet-db program as well: the
// scripts of testdata/script run "exec decnet-db ...", a copy of this
// binary that runs mainCode, so every script exercises the real command
// line, streams, exit codes and signals. Inside it testing.Testing() is
// true, which is what lets MySQL's root account without a password be
// used (outside go test an empty MySQL password is an error).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"decnet-db": func() { os.Exit(mainCode()) }})
}

// scriptFixtures are the files of testdata/ copied into every script's
// work directory.
var scriptFixtures = []string{"collector.json", "collector.log", "archive-v1.jsonl"}

// scriptParams are the params shared by the SQLite and MySQL scripts:
// the fixtures in $WORK, DECNET_DB_PATH=$WORK/decnet.db, a known admin
// password, and the custom commands.
func scriptParams(t *testing.T, dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			for _, f := range scriptFixtures {
				b, err := os.ReadFile(filepath.Join("testdata", f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, f), b, 0o644); err != nil {
					return err
				}
			}
			env.Setenv("DECNET_DB_PATH", filepath.Join(env.WorkDir, "decnet.db"))
			env.Setenv("DECNET_ADMIN_PASSWORD", "script-admin-pw")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"cmparchive": cmdCmpArchive,
			"genlines":   cmdGenLines,
			"jsonfield":  cmdJSONField,
			"gzipfile":   cmdGzipFile,
		},
	}
}

// TestScripts runs every script of testdata/script on SQLite.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, scriptParams(t, "testdata/script"))
}

// TestScriptsMySQL runs the scripts of testdata/script-mysql, each with a
// scratch database of its own on the server of DECNET_TEST_MYSQL_URL
// ($MYSQL_URL in the script; DECNET_DB_PATH still names a SQLite file, for
// the scripts that move data between the two).
func TestScriptsMySQL(t *testing.T) {
	t.Parallel()
	server := mysqlServer(t)
	p := scriptParams(t, "testdata/script-mysql")
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		u, drop, err := scratchMySQL(server)
		if err != nil {
			return err
		}
		env.Defer(drop)
		env.Setenv("MYSQL_URL", u)
		return nil
	}
	testscript.Run(t, p)
}

// TestScriptsPostgres runs the scripts of testdata/script-postgres, each
// with a scratch database of its own on the server of
// DECNET_TEST_POSTGRES_URL ($POSTGRES_URL in the script), made and dropped
// by the postgres driver through the registry.
func TestScriptsPostgres(t *testing.T) {
	t.Parallel()
	server := serverURL(t, "DECNET_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	p := scriptParams(t, "testdata/script-postgres")
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		cfg := config.Default()
		cfg.Type, cfg.URL = "postgres", server
		ctx := context.Background()
		scratch, drop, err := registry.Scratch(ctx, cfg)
		if err != nil {
			return err
		}
		env.Defer(func() { _ = drop(context.Background()) })
		env.Setenv("POSTGRES_URL", scratch.URL)
		return nil
	}
	testscript.Run(t, p)
}

// mysqlServer returns the MySQL server of the tests; see serverURL.
func mysqlServer(t testing.TB) string {
	t.Helper()
	return serverURL(t, "DECNET_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
}

// serverURL returns the URL of a test server from the variable name, or
// skips the test saying how to run it; with DECNET_TEST_REQUIRE_SERVERS
// set (CI sets it) a missing server fails it.
func serverURL(t testing.TB, name, example string) string {
	t.Helper()
	if u := os.Getenv(name); u != "" {
		return u
	}
	if os.Getenv("DECNET_TEST_REQUIRE_SERVERS") != "" {
		t.Fatalf("DECNET_TEST_REQUIRE_SERVERS is set but %s is empty", name)
	}
	t.Skipf("no server: set %s (e.g. %s) to run this test", name, example)
	return ""
}

// scratchMySQL creates a new database on the server of serverURL
// (mysql://user[:pw]@host:port/db) and returns its URL and a function that
// drops it.
func scratchMySQL(serverURL string) (string, func(), error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("DECNET_TEST_MYSQL_URL: %w", err)
	}
	mc := mysqldrv.NewConfig()
	mc.Net, mc.Addr = "tcp", u.Host
	if u.Port() == "" {
		mc.Addr += ":3306"
	}
	mc.User = u.User.Username()
	mc.Passwd, _ = u.User.Password()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "decnet_cmd_" + hex.EncodeToString(b[:])
	exec := func(q string) error {
		conn, err := mysqldrv.NewConnector(mc)
		if err != nil {
			return err
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	if err := exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		return "", nil, fmt.Errorf("create the scratch database: %w", err)
	}
	out := *u
	out.Path = "/" + name
	out.RawQuery = ""
	return out.String(), func() { _ = exec("DROP DATABASE IF EXISTS `" + name + "`") }, nil
}

// cmdCmpArchive compares two archives (gzip or not) record by record:
//
//	cmparchive A B
//
// Every line but the header must be the same, and the headers must have
// the same format, version and counts (created and source may differ).
func cmdCmpArchive(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: cmparchive A B")
	}
	read := func(name string) (archiveHeader, []string) {
		a := &app{}
		in, closeFn, err := a.openArchive(ts.MkAbs(name))
		ts.Check(err)
		defer closeFn()
		var h archiveHeader
		var lines []string
		sc := bufio.NewScanner(in)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if h.Format == "" {
				ts.Check(json.Unmarshal(sc.Bytes(), &h))
				continue
			}
			lines = append(lines, sc.Text())
		}
		ts.Check(sc.Err())
		return h, lines
	}
	ha, la := read(args[0])
	hb, lb := read(args[1])
	var diffs []string
	if ha.Format != hb.Format || ha.Version != hb.Version || fmt.Sprint(ha.Counts) != fmt.Sprint(hb.Counts) {
		diffs = append(diffs, fmt.Sprintf("headers differ: %+v vs %+v", ha, hb))
	}
	if len(la) != len(lb) {
		diffs = append(diffs, fmt.Sprintf("%d records vs %d", len(la), len(lb)))
	}
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			diffs = append(diffs, fmt.Sprintf("line %d:\n  %s\n  %s", i+2, la[i], lb[i]))
			if len(diffs) > 5 {
				break
			}
		}
	}
	switch {
	case neg && len(diffs) == 0:
		ts.Fatalf("%s and %s have the same records", args[0], args[1])
	case !neg && len(diffs) > 0:
		ts.Fatalf("%s and %s differ:\n%s", args[0], args[1], strings.Join(diffs, "\n"))
	}
}

// cmdGenLines writes N realistic collector JSON lines, each unique:
//
//	genlines N FILE
func cmdGenLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: genlines N FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	f, err := os.Create(ts.MkAbs(args[1]))
	ts.Check(err)
	w := bufio.NewWriter(f)
	for i := range n {
		_, err := w.Write(collectorLineN(i))
		ts.Check(err)
	}
	ts.Check(w.Flush())
	ts.Check(f.Close())
}

// cmdGzipFile compresses a file:
//
//	gzipfile SRC DST
func cmdGzipFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gzipfile SRC DST")
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(ts.ReadFile(args[0])))
	ts.Check(err)
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), buf.Bytes(), 0o644))
}

// cmdJSONField checks a value in the JSON of the last command's stdout:
//
//	jsonfield PATH WANT
//
// PATH is dot-separated object keys and array indexes (logs.0.id).
func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jsonfield PATH WANT")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile("stdout")), &v))
	for _, k := range strings.Split(args[0], ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				ts.Fatalf("%s: no key %q", args[0], k)
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("%s: no index %q in an array of %d", args[0], k, len(x))
			}
			v = x[i]
		default:
			ts.Fatalf("%s: %q of a %T", args[0], k, v)
		}
	}
	got := fmt.Sprint(v)
	if b, err := json.Marshal(v); err == nil && (strings.HasPrefix(string(b), "[") || strings.HasPrefix(string(b), "{") || v == nil) {
		got = string(b)
	}
	if (got == args[1]) == neg {
		ts.Fatalf("%s = %s, want %s%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}

// collectorLineN returns the collector JSON line number i (from 0) of a
// generated stream: unique raw lines, a few deckies, services and
// attackers, timestamps one second apart from 2024-03-02 00:00:00 UTC.
func collectorLineN(i int) []byte {
	deckies := [...]string{"omega-decky", "relay-decky", "vault-decky"}
	services := [...]string{"ssh", "http", "ftp", "smb", "mysql"}
	events := [...]string{"login_attempt", "command", "request", "connection"}
	ts := time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	ip := fmt.Sprintf("203.0.113.%d", 1+i%250)
	decky, svc, ev := deckies[i%len(deckies)], services[i%len(services)], events[i%len(events)]
	user := [...]string{"root", "admin", "ubuntu", "pi"}[i%4]
	raw := fmt.Sprintf(`<132>1 %s %s %s - %s [decnet@55555 src_ip="%s" src_port="%d" username="%s" password="pw%d"] auth failure for %s from %s seq %d`,
		ts.Format(time.RFC3339), decky, svc, ev, ip, 1024+i%60000, user, i%97, user, ip, i)
	rec := map[string]any{
		"timestamp":   ts.Format("2006-01-02 15:04:05"),
		"decky":       decky,
		"service":     svc,
		"event_type":  ev,
		"attacker_ip": ip,
		"fields":      map[string]string{"src_ip": ip, "src_port": strconv.Itoa(1024 + i%60000), "username": user, "password": fmt.Sprintf("pw%d", i%97)},
		"msg":         fmt.Sprintf("auth failure for %s from %s", user, ip),
		"raw_line":    raw,
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}
