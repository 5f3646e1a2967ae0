package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/sdk/conformance"
)

// result is what one run of the command produced.
type result struct {
	code           int
	stdout, stderr string
}

// runEnv runs the command in-process with args and exactly the
// environment env: the test's own DECNET_* variables never leak in.
func runEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runCtx(t, t.Context(), env, args...)
}

func runCtx(t *testing.T, ctx context.Context, env map[string]string, args ...string) result {
	t.Helper()
	environ := func() []string {
		kv := make([]string, 0, len(env))
		for k, v := range env {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr, environ)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// sqliteEnv returns an environment with DECNET_DB_PATH in a new temporary
// directory, and that path.
func sqliteEnv(t *testing.T) (map[string]string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "decnet.db")
	return map[string]string{"DECNET_DB_PATH": path}, path
}

// wantCode fails the test when r did not exit with code.
func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// wantOneLineError checks that stderr is exactly one "decnet-db: " line
// containing every part.
func wantOneLineError(t *testing.T, r result, parts ...string) {
	t.Helper()
	if !strings.HasPrefix(r.stderr, "decnet-db: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr is not one \"decnet-db: \" line: %q", r.stderr)
	}
	for _, p := range parts {
		if !strings.Contains(r.stderr, p) {
			t.Errorf("stderr %q does not contain %q", r.stderr, p)
		}
	}
}

func TestDrivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []*regexp.Regexp
	}{
		{
			name: "default",
			want: []*regexp.Regexp{regexp.MustCompile(`(?m)^sqlite\s+built-in\s+configured, default$`)},
		},
		{
			name: "configured elsewhere by flag",
			env:  map[string]string{"DECNET_DB_TYPE": "sqlite"},
			args: []string{"--type", "nope"},
			want: []*regexp.Regexp{
				regexp.MustCompile(`(?m)^sqlite\s+built-in\s+default$`),
				regexp.MustCompile(`(?m)^nope\s+not found\s+configured$`),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runEnv(t, tt.env, append([]string{"drivers"}, tt.args...)...)
			wantCode(t, r, exitOK)
			for _, re := range tt.want {
				if !re.MatchString(r.stdout) {
					t.Errorf("stdout does not match %s:\n%s", re, r.stdout)
				}
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want empty", r.stderr)
			}
		})
	}
}

func TestInitTwice(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	env["DECNET_ADMIN_USER"] = "root-op"
	env["DECNET_ADMIN_PASSWORD"] = "init-test-password"

	first := runEnv(t, env, "init")
	wantCode(t, first, exitOK)
	for _, want := range []string{"sqlite", path, "created 7 of 7 tables", "root-op (created; must change the password at first login)"} {
		if !strings.Contains(first.stdout, want) {
			t.Errorf("first init: stdout does not contain %q:\n%s", want, first.stdout)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode %o, want 600", mode)
	}

	second := runEnv(t, env, "init")
	wantCode(t, second, exitOK)
	for _, want := range []string{"up to date (7 tables)", "root-op (already present"} {
		if !strings.Contains(second.stdout, want) {
			t.Errorf("second init: stdout does not contain %q:\n%s", want, second.stdout)
		}
	}
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	wantCode(t, runEnv(t, env, "init"), exitOK)

	r := runEnv(t, env, "doctor")
	wantCode(t, r, exitOK)
	for _, re := range []string{
		`(?m)^configuration$`,
		`(?m)^\s+DECNET_DB_PATH\s+` + regexp.QuoteMeta(path) + `$`,
		`(?m)^\s+DECNET_DB_TYPE\s+sqlite$`,
		`(?m)^\s+driver\s+sqlite$`,
		`(?m)^\s+version\s+SQLite \d`,
		`(?m)^\s+journal_mode\s+wal$`,
		`(?m)^\s+ping\s+ok \(`,
		`(?m)^\s+telemetry\s+off \(set DECNET_DEVELOPER_TRACING=true to export over OTLP to localhost:4317\)$`,
		`(?m)^\s+TABLE\s+ROWS$`,
		`(?m)^\s+users\s+1$`,
		`(?m)^\s+logs\s+0$`,
		`(?m)^\s+attacker_behaviors\s+0$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("stdout does not match %s:\n%s", re, r.stdout)
		}
	}
}

func TestDoctorMissingTables(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	if err := os.WriteFile(path, nil, 0o600); err != nil { // an empty file is an empty database
		t.Fatal(err)
	}
	r := runEnv(t, env, "doctor")
	wantCode(t, r, exitOK)
	for _, re := range []string{`(?m)^\s+logs\s+missing$`, `7 of 7 tables are missing .*decnet-db init`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("stdout does not match %s:\n%s", re, r.stdout)
		}
	}
}

func TestDoctorMissingFile(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	r := runEnv(t, env, "doctor")
	wantCode(t, r, exitFail)
	wantOneLineError(t, r, path, "does not exist", "decnet-db init")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("doctor created %s (stat: %v)", path, err)
	}
}

func TestDoctorUnreachable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A directory is not a database file: the backend cannot be opened.
	r := runEnv(t, map[string]string{"DECNET_DB_PATH": dir}, "doctor")
	wantCode(t, r, exitFail)
	wantOneLineError(t, r, "backend unreachable")
	if !regexp.MustCompile(`(?m)^\s+(status|ping)\s+(cannot open|FAILED)`).MatchString(r.stdout) {
		t.Errorf("stdout does not show the failure:\n%s", r.stdout)
	}
}

// Distinctive passwords, with characters that are percent-encoded in URLs.
const (
	dbPassword    = "Db-Secret/Pw@42 #x"
	adminPassword = "Adm1n-Secret:Pw%z"
	urlPassword   = "Url-Secret-Pw"
)

// secretForms are the forms of the test passwords that must never be
// printed.
func secretForms() []string {
	var out []string
	for _, p := range []string{dbPassword, adminPassword, urlPassword} {
		out = append(out, p, strings.ReplaceAll(p, " ", "+"), strings.ReplaceAll(p, "/", "%2F"), strings.ReplaceAll(p, "@", "%40"))
		out = append(out, p[:len(p)/2+3]) // a distinctive prefix
	}
	return out
}

func TestNoPasswordPrinted(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	env["DECNET_DB_PASSWORD"] = dbPassword
	env["DECNET_ADMIN_PASSWORD"] = adminPassword
	env["DECNET_DB_URL"] = "mysql://decnet:" + urlPassword + "@db.internal:3306/decnet"
	bad := func(k, v string) map[string]string {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		e[k] = v
		return e
	}
	runs := []struct {
		env  map[string]string
		args []string
	}{
		{env, []string{"drivers"}},
		{env, []string{"doctor"}}, // before init: the file is missing
		{env, []string{"init"}},
		{env, []string{"init"}},
		{env, []string{"doctor"}},
		{env, []string{"conformance", "--run", "admin_seeded"}},
		{env, []string{"conformance", "--run", "admin_seeded", "--json"}},
		{env, []string{"--url", "mysql://u:" + urlPassword + "@h:1/db", "doctor"}},
		{bad("DECNET_DB_PORT", "x"+dbPassword), []string{"doctor"}},
		{bad("DECNET_DB_TYPE", "nope"), []string{"init"}},
		{bad("DECNET_DB_TYPE", "nope"), []string{"conformance"}},
		{bad("DECNET_DB_PATH", filepath.Dir(path)), []string{"doctor"}},
		{env, []string{"init", "--bogus"}},
	}
	for _, rr := range runs {
		r := runEnv(t, rr.env, rr.args...)
		for _, s := range secretForms() {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("%v: output contains the secret %q\nstdout:\n%s\nstderr:\n%s", rr.args, s, r.stdout, r.stderr)
			}
		}
	}
	r := runEnv(t, env, "doctor")
	for _, re := range []string{
		`(?m)^\s+DECNET_DB_PASSWORD\s+\*\*\*$`,
		`(?m)^\s+DECNET_ADMIN_PASSWORD\s+\*\*\*$`,
		// config.RedactURL currently percent-encodes the mask (%2A%2A%2A).
		`(?m)^\s+DECNET_DB_URL\s+mysql://decnet:(\*\*\*|%2A%2A%2A)@db.internal:3306/decnet$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("doctor stdout does not match %s:\n%s", re, r.stdout)
		}
	}
}

// TestRedact covers redaction before the configuration is loaded, when an
// error comes from cobra or from config.Load.
func TestRedact(t *testing.T) {
	t.Parallel()
	a := &app{environ: func() []string {
		return []string{"DECNET_DB_PASSWORD=" + dbPassword, "DECNET_ADMIN_PASSWORD=" + adminPassword}
	}}
	a.flags.url = "mysql://u:" + urlPassword + "@h/db"
	msg := a.redact("x " + dbPassword + " y " + adminPassword + " z " + urlPassword + " admin")
	if want := "x *** y *** z *** admin"; msg != want {
		t.Errorf("redact = %q, want %q", msg, want)
	}
	// DECNET's default admin password is public: "admin" stays readable.
	b := &app{environ: func() []string { return []string{"DECNET_ADMIN_PASSWORD=admin"} }}
	if got := b.redact("seed admin"); got != "seed admin" {
		t.Errorf("redact = %q, want the default admin password left alone", got)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"bad port, init", map[string]string{"DECNET_DB_PORT": "abc"}, []string{"init"}, []string{"DECNET_DB_PORT", `"abc"`}},
		{"bad port, doctor", map[string]string{"DECNET_DB_PORT": "99999"}, []string{"doctor"}, []string{"DECNET_DB_PORT"}},
		{"bad port, drivers", map[string]string{"DECNET_DB_PORT": "abc"}, []string{"drivers"}, []string{"DECNET_DB_PORT"}},
		{"bad port, conformance", map[string]string{"DECNET_DB_PORT": "abc"}, []string{"conformance"}, []string{"DECNET_DB_PORT"}},
		{"two bad values", map[string]string{"DECNET_DB_PORT": "abc", "DECNET_DB_POOL_SIZE": "-1"}, []string{"init"}, []string{"DECNET_DB_PORT", "DECNET_DB_POOL_SIZE"}},
		{"bad config file", map[string]string{"DECNET_DB_CONFIG": "/nonexistent/db.ini"}, []string{"init"}, []string{"DECNET_DB_CONFIG"}},
		{"unknown type, init", map[string]string{"DECNET_DB_TYPE": "nope"}, []string{"init"}, []string{"unknown driver", `"nope"`, "registered: mysql, postgres, sqlite"}},
		{"unknown type, doctor", map[string]string{"DECNET_DB_TYPE": "nope"}, []string{"doctor"}, []string{"unknown driver", "registered: mysql, postgres, sqlite"}},
		{"unknown type, conformance", map[string]string{"DECNET_DB_TYPE": "nope"}, []string{"conformance"}, []string{"unknown driver", "registered: mysql, postgres, sqlite"}},
		{"unknown type by flag", nil, []string{"--type", "NoPe", "init"}, []string{"unknown driver", `"nope"`, "registered: mysql, postgres, sqlite"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, path := sqliteEnv(t)
			for k, v := range tt.env {
				env[k] = v
			}
			r := runEnv(t, env, tt.args...)
			wantCode(t, r, exitUsage)
			wantOneLineError(t, r, tt.want...)
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("a configuration error created %s", path)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown flag", []string{"init", "--bogus"}, []string{"unknown flag: --bogus", "decnet-db init --help"}},
		{"unknown root flag", []string{"--bogus"}, []string{"unknown flag: --bogus", "decnet-db --help"}},
		{"flag without value", []string{"doctor", "--type"}, []string{"--type", "decnet-db doctor --help"}},
		{"bad flag value", []string{"doctor", "--timeout", "soon"}, []string{"--timeout"}},
		{"non-positive timeout", []string{"doctor", "--timeout", "0s"}, []string{"--timeout must be positive"}},
		{"unknown command", []string{"ini"}, []string{`unknown command "ini"`, `did you mean "init"?`}},
		{"extra argument", []string{"init", "now"}, []string{"takes no arguments", `"now"`}},
		{"run matches nothing", []string{"conformance", "--run", "no-such-check"}, []string{`--run "no-such-check" matches no check`}},
		{"unknown help topic", []string{"help", "nope"}, []string{"unknown help topic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, path := sqliteEnv(t)
			r := runEnv(t, env, tt.args...)
			wantCode(t, r, exitUsage)
			wantOneLineError(t, r, tt.want...)
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("a usage error created %s", path)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	filePath := filepath.Join(dir, "from-file.db")
	envPath := filepath.Join(dir, "from-env.db")
	flagPath := filepath.Join(dir, "from-flag.db")
	cfgFile := filepath.Join(dir, "db.toml")
	if err := os.WriteFile(cfgFile, []byte("db_path = \""+filePath+"\"\nadmin_user = \"file-admin\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantPath string
	}{
		{"config file by flag", nil, []string{"--config", cfgFile}, filePath},
		{"config file by variable", map[string]string{"DECNET_DB_CONFIG": cfgFile}, nil, filePath},
		{"environment over file", map[string]string{"DECNET_DB_CONFIG": cfgFile, "DECNET_DB_PATH": envPath}, nil, envPath},
		{"flag over environment", map[string]string{"DECNET_DB_PATH": envPath, "DECNET_DB_TYPE": "nope"}, []string{"--path", flagPath, "--type", "sqlite"}, flagPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(tt.wantPath)
			r := runEnv(t, tt.env, append(tt.args, "init")...)
			wantCode(t, r, exitOK)
			if !strings.Contains(r.stdout, tt.wantPath) {
				t.Errorf("stdout does not name %s:\n%s", tt.wantPath, r.stdout)
			}
			if _, err := os.Stat(tt.wantPath); err != nil {
				t.Errorf("init did not create %s: %v", tt.wantPath, err)
			}
		})
	}
	if r := runEnv(t, nil, "--config", cfgFile, "init"); !strings.Contains(r.stdout, "file-admin") {
		t.Errorf("the admin of the config file is not used:\n%s", r.stdout)
	}
}

var (
	headerRE  = regexp.MustCompile(`^CHECK\s+RESULT\s+DURATION$`)
	rowRE     = regexp.MustCompile(`^(\S+)\s+(PASS|FAIL)\s+\d+\.\d+m?s$`)
	summaryRE = regexp.MustCompile(`^(\d+) checks, (\d+) failed$`)
)

// parseTable checks the conformance table in stdout and returns the rows'
// names and results, and the summary's counts.
func parseTable(t *testing.T, stdout string) (rows map[string]string, total, failed int) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	rows = map[string]string{}
	header := -1
	for i, l := range lines {
		if headerRE.MatchString(l) {
			header = i
			break
		}
	}
	if header < 0 {
		t.Fatalf("no header line in:\n%s", stdout)
	}
	last := lines[len(lines)-1]
	m := summaryRE.FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q is not the summary", last)
	}
	for _, l := range lines[header+1 : len(lines)-1] {
		switch {
		case l == "":
		case strings.HasPrefix(l, "    "): // a failure's message
		default:
			rm := rowRE.FindStringSubmatch(l)
			if rm == nil {
				t.Errorf("line %q is not a row of the table", l)
				continue
			}
			rows[rm[1]] = rm[2]
		}
	}
	total, failed = atoi(t, m[1]), atoi(t, m[2])
	if total != len(rows) {
		t.Errorf("summary says %d checks, the table has %d rows", total, len(rows))
	}
	return rows, total, failed
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func TestConformance(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	r := runEnv(t, env, "conformance", "--run", "lifecycle_ping")
	wantCode(t, r, exitOK)
	rows, total, failed := parseTable(t, r.stdout)
	if total != 1 || failed != 0 || rows["lifecycle_ping"] != "PASS" {
		t.Errorf("rows %v, %d checks, %d failed; want lifecycle_ping PASS only", rows, total, failed)
	}
	if r.stderr != "" {
		t.Errorf("stderr = %q, want empty", r.stderr)
	}
	// The configured database is never touched, not even created.
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("conformance created the configured database %s (stat: %v)", path, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 0 {
		t.Errorf("conformance left files next to the configured database: %v", ents)
	}
}

// TestConformanceSeveral runs a few checks; whatever their outcome (the
// suite is still growing), the table and the exit code must agree.
func TestConformanceSeveral(t *testing.T) {
	t.Parallel()
	env, _ := sqliteEnv(t)
	r := runEnv(t, env, "conformance", "--run", "decky_")
	rows, total, failed := parseTable(t, r.stdout)
	if total < 2 {
		t.Errorf("--run decky_ ran %d checks (%v), want several", total, rows)
	}
	for name := range rows {
		if !strings.Contains(name, "decky_") {
			t.Errorf("check %q does not match the filter", name)
		}
	}
	if failed == 0 {
		wantCode(t, r, exitOK)
	} else {
		wantCode(t, r, exitFail)
		wantOneLineError(t, r, "checks failed")
	}
}

func TestConformanceJSON(t *testing.T) {
	t.Parallel()
	env, path := sqliteEnv(t)
	r := runEnv(t, env, "conformance", "--run", "lifecycle_ping", "--json")
	wantCode(t, r, exitOK)
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.stdout)
	}
	if rep.Driver != "sqlite" || !rep.Passed || rep.Total != 1 || rep.Failed != 0 ||
		len(rep.Checks) != 1 || rep.Checks[0].Name != "lifecycle_ping" || !rep.Checks[0].Passed {
		t.Errorf("report = %+v", rep)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("conformance created the configured database %s", path)
	}
}

func TestConformanceList(t *testing.T) {
	t.Parallel()
	r := runEnv(t, nil, "conformance", "--list", "--run", "lifecycle_")
	wantCode(t, r, exitOK)
	names := strings.Fields(r.stdout)
	if len(names) == 0 {
		t.Fatal("no checks listed")
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "lifecycle_") {
			t.Errorf("listed %q", n)
		}
	}
}

func TestConformanceInterrupted(t *testing.T) {
	t.Parallel()
	env, _ := sqliteEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := runCtx(t, ctx, env, "conformance", "--run", "decky_")
	wantCode(t, r, exitFail)
	wantOneLineError(t, r, "interrupted")
}

func TestResultTableFailure(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	checks := []conformance.Check{{Name: "short"}, {Name: "a_much_longer_name"}}
	tab := newResultTable(&buf, checks, func(s string) string { return strings.ReplaceAll(s, "hunter2", "***") })
	tab.row(conformance.Result{Name: "short", Passed: true, Duration: 1500 * time.Microsecond, Messages: []string{"a log line"}})
	tab.row(conformance.Result{Name: "a_much_longer_name", Duration: 2 * time.Second, Messages: []string{"first: got 1, want 2", "second\nspans lines with hunter2"}})
	want := "" +
		"CHECK               RESULT   DURATION\n" +
		"short               PASS        1.5ms\n" +
		"a_much_longer_name  FAIL        2.00s\n" +
		"    first: got 1, want 2\n" +
		"    second\n" +
		"    spans lines with ***\n"
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestNoArgsPrintsHelp(t *testing.T) {
	t.Parallel()
	r := runEnv(t, nil)
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Exit codes:") {
		t.Errorf("no help on stdout:\n%s", r.stdout)
	}
}

// TestHelp checks that the help of every command, cobra's included, has
// an example, and that the root's documents the exit codes.
func TestHelp(t *testing.T) {
	t.Parallel()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				walk(sub, append(append([]string(nil), path...), sub.Name()))
			}
		}
	}
	root := newRootCmd(&app{})
	walk(root, nil)
	if len(paths) < 6 {
		t.Fatalf("only %d commands: %v", len(paths), paths)
	}
	for _, p := range paths {
		t.Run(strings.Join(append([]string{"decnet-db"}, p...), " "), func(t *testing.T) {
			t.Parallel()
			r := runEnv(t, nil, append(p, "--help")...)
			wantCode(t, r, exitOK)
			if !strings.Contains(r.stdout, "Example") {
				t.Errorf("--help has no example:\n%s", r.stdout)
			}
			if len(p) == 0 {
				for _, want := range []string{"Exit codes:", "0  success", "1  the operation failed", "2  usage or configuration error"} {
					if !strings.Contains(r.stdout, want) {
						t.Errorf("root --help does not contain %q", want)
					}
				}
			}
		})
	}
	for _, flag := range []string{"--config", "--type", "--path", "--url"} {
		f := root.PersistentFlags().Lookup(strings.TrimPrefix(flag, "--"))
		if f == nil || !strings.Contains(f.Usage, "overrides DECNET_DB_") {
			t.Errorf("%s: help does not name the variable it overrides", flag)
		}
	}
}
