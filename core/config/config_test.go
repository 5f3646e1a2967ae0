package config_test

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/config"
)

// environ returns an Options.Environ that yields exactly kv.
func environ(kv ...string) func() []string {
	return func() []string { return append([]string(nil), kv...) }
}

// writeFile writes body to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// userinfo is user:password as a URL has it, percent-encoded.
func userinfo(user, password string) string { return url.UserPassword(user, password).String() }

func ptr[T any](v T) *T { return &v }

// forms returns s and its percent-encoded forms (query, path, user info).
func forms(s string) []string {
	return []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("", s).String()[1:]}
}

// assertNoSecret fails when text contains any form of any secret.
func assertNoSecret(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, f := range forms(s) {
			if f != "" && strings.Contains(text, f) {
				t.Errorf("%s contains the secret %q (form %q):\n%s", what, s, f, text)
			}
		}
	}
}

// expected is the configuration Load gives with an empty environment.
func expected() config.Config {
	return config.Config{
		Type:          "sqlite",
		Path:          "decnet.db",
		Host:          "localhost",
		Name:          "decnet",
		User:          "decnet",
		PoolSize:      20,
		MaxOverflow:   40,
		PoolRecycle:   3600 * time.Second,
		AdminUser:     "admin",
		AdminPassword: "admin",
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	if got, want := config.Default(), expected(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() = %#v\nwant %#v", got, want)
	}
	if config.Default().PoolPrePing != nil {
		t.Error("Default().PoolPrePing is set, want nil (the backend decides)")
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"empty environment", nil},
		{"unrelated variables", []string{"HOME=/root", "DB_TYPE=mysql", "DECNET_OTHER=1", "decnet_db_type=mysql", "NOEQUALS"}},
		{"every variable empty", []string{
			"DECNET_DB_TYPE=", "DECNET_DB_PATH=", "DECNET_DB_URL=", "DECNET_DB_HOST=", "DECNET_DB_PORT=",
			"DECNET_DB_NAME=", "DECNET_DB_USER=", "DECNET_DB_PASSWORD=", "DECNET_DB_POOL_SIZE=",
			"DECNET_DB_MAX_OVERFLOW=", "DECNET_DB_POOL_RECYCLE=", "DECNET_DB_POOL_PRE_PING=",
			"DECNET_ADMIN_USER=", "DECNET_ADMIN_PASSWORD=", "DECNET_DB_PLUGIN_DIR=", "DECNET_DB_PLUGIN_SHA256=",
			"DECNET_DEVELOPER_TRACING=", "DECNET_DB_CONFIG=",
		}},
		{"blank values", []string{"DECNET_DB_TYPE=  ", "DECNET_DB_PATH= ", "DECNET_DB_POOL_SIZE=\t", "DECNET_ADMIN_USER= "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.Load(config.Options{Environ: environ(tc.env...)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if want := expected(); !reflect.DeepEqual(got, want) {
				t.Errorf("Load() = %#v\nwant %#v", got, want)
			}
			if got.PoolPrePing != nil {
				t.Errorf("PoolPrePing = %v, want nil", *got.PoolPrePing)
			}
		})
	}
}

func TestLoadEnvironment(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name string
		env  []string
		want func(*config.Config) // applied to expected()
	}{
		{"type mysql", []string{"DECNET_DB_TYPE=mysql"}, func(c *config.Config) { c.Type = "mysql" }},
		{"type mixed case", []string{"DECNET_DB_TYPE=MySQL"}, func(c *config.Config) { c.Type = "mysql" }},
		{"type upper case, spaces", []string{"DECNET_DB_TYPE= POSTGRES "}, func(c *config.Config) { c.Type = "postgres" }},
		{"type plugin", []string{"DECNET_DB_TYPE=Clickhouse"}, func(c *config.Config) { c.Type = "clickhouse" }},
		{"path", []string{"DECNET_DB_PATH=/var/lib/decnet/decnet.db"}, func(c *config.Config) { c.Path = "/var/lib/decnet/decnet.db" }},
		{"path memory", []string{"DECNET_DB_PATH=:memory:"}, func(c *config.Config) { c.Path = ":memory:" }},
		{"url", []string{"DECNET_DB_URL=mysql+asyncmy://u:p%40ss@h:3306/db"}, func(c *config.Config) { c.URL = "mysql+asyncmy://u:p%40ss@h:3306/db" }},
		{"url value with =", []string{"DECNET_DB_URL=mysql://u:pw@h/db?a=b&c=d"}, func(c *config.Config) { c.URL = "mysql://u:pw@h/db?a=b&c=d" }},
		{"components", []string{
			"DECNET_DB_HOST=db.internal", "DECNET_DB_PORT=3307", "DECNET_DB_NAME=prod",
			"DECNET_DB_USER=svc", "DECNET_DB_PASSWORD=s3cr3t",
		}, func(c *config.Config) {
			c.Host, c.Port, c.Name, c.User, c.Password = "db.internal", 3307, "prod", "svc", "s3cr3t"
		}},
		{"port bounds low", []string{"DECNET_DB_PORT=1"}, func(c *config.Config) { c.Port = 1 }},
		{"port bounds high", []string{"DECNET_DB_PORT=65535"}, func(c *config.Config) { c.Port = 65535 }},
		{"port spaces", []string{"DECNET_DB_PORT= 5432 "}, func(c *config.Config) { c.Port = 5432 }},
		{"pool", []string{"DECNET_DB_POOL_SIZE=5", "DECNET_DB_MAX_OVERFLOW=0", "DECNET_DB_POOL_RECYCLE=60"}, func(c *config.Config) {
			c.PoolSize, c.MaxOverflow, c.PoolRecycle = 5, 0, time.Minute
		}},
		{"pool size zero", []string{"DECNET_DB_POOL_SIZE=0"}, func(c *config.Config) { c.PoolSize = 0 }},
		{"pre-ping true", []string{"DECNET_DB_POOL_PRE_PING=true"}, func(c *config.Config) { c.PoolPrePing = ptr(true) }},
		{"pre-ping TRUE", []string{"DECNET_DB_POOL_PRE_PING=TRUE"}, func(c *config.Config) { c.PoolPrePing = ptr(true) }},
		{"pre-ping 1", []string{"DECNET_DB_POOL_PRE_PING=1"}, func(c *config.Config) { c.PoolPrePing = ptr(true) }},
		{"pre-ping false", []string{"DECNET_DB_POOL_PRE_PING=false"}, func(c *config.Config) { c.PoolPrePing = ptr(false) }},
		{"pre-ping 0", []string{"DECNET_DB_POOL_PRE_PING=0"}, func(c *config.Config) { c.PoolPrePing = ptr(false) }},
		{"admin", []string{"DECNET_ADMIN_USER=root", "DECNET_ADMIN_PASSWORD=hunter2"}, func(c *config.Config) {
			c.AdminUser, c.AdminPassword = "root", "hunter2"
		}},
		{"password spaces kept", []string{"DECNET_DB_PASSWORD=  pw with spaces  ", "DECNET_ADMIN_PASSWORD= adm "}, func(c *config.Config) {
			c.Password, c.AdminPassword = "  pw with spaces  ", " adm "
		}},
		{"password only spaces kept", []string{"DECNET_DB_PASSWORD=   "}, func(c *config.Config) { c.Password = "   " }},
		{"password with =", []string{"DECNET_DB_PASSWORD=a=b=="}, func(c *config.Config) { c.Password = "a=b==" }},
		{"plugin dirs", []string{"DECNET_DB_PLUGIN_DIR=/opt/a:/opt/b"}, func(c *config.Config) { c.PluginDirs = []string{"/opt/a", "/opt/b"} }},
		{"plugin dirs empty parts", []string{"DECNET_DB_PLUGIN_DIR=::/opt/a:::/opt/b:"}, func(c *config.Config) { c.PluginDirs = []string{"/opt/a", "/opt/b"} }},
		{"plugin dirs blank parts", []string{"DECNET_DB_PLUGIN_DIR= : /opt/a : "}, func(c *config.Config) { c.PluginDirs = []string{"/opt/a"} }},
		{"plugin dirs only colons", []string{"DECNET_DB_PLUGIN_DIR=:::"}, func(*config.Config) {}},
		{"plugin sha256", []string{"DECNET_DB_PLUGIN_SHA256=" + sha}, func(c *config.Config) { c.PluginSHA256 = sha }},
		{"plugin sha256 upper case", []string{"DECNET_DB_PLUGIN_SHA256=" + strings.ToUpper(sha)}, func(c *config.Config) { c.PluginSHA256 = sha }},
		{"tracing", []string{"DECNET_DEVELOPER_TRACING=true"}, func(c *config.Config) { c.Tracing = true }},
		{"tracing off", []string{"DECNET_DEVELOPER_TRACING=false"}, func(*config.Config) {}},
		{"later entry wins", []string{"DECNET_DB_HOST=first", "DECNET_DB_HOST=second"}, func(c *config.Config) { c.Host = "second" }},
		{"lower-case name ignored", []string{"decnet_db_host=nope"}, func(*config.Config) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.Load(config.Options{Environ: environ(tc.env...)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := expected()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load() = %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	const tomlFile = `
db_type = "MySQL"
db_host = "file-host"
db_port = 3307
db_name = "file-db"
db_user = "file-user"
db_password = " file pw "
db_pool_size = 7
db_pool_pre_ping = false
db_url = "mysql://file:filepw@file-url/db"
admin_user = "file-admin"
`
	const yamlFile = `
db_type: MySQL
db_host: file-host
db_port: 3307
db_name: file-db
db_user: file-user
db_password: " file pw "
db_pool_size: 7
db_pool_pre_ping: false
db_url: mysql://file:filepw@file-url/db
admin_user: file-admin
`
	fromFile := func(c *config.Config) {
		c.Type, c.Host, c.Port, c.Name, c.User, c.Password = "mysql", "file-host", 3307, "file-db", "file-user", " file pw "
		c.PoolSize, c.PoolPrePing, c.URL, c.AdminUser = 7, ptr(false), "mysql://file:filepw@file-url/db", "file-admin"
	}
	for _, tc := range []struct {
		name      string
		files     map[string]string // written in the test's directory
		env       []string          // $DIR is the test's directory
		file      string            // Options.File, $DIR as above
		overrides map[string]string
		want      func(c *config.Config, dir string)
	}{
		{
			name:  "toml file over defaults",
			files: map[string]string{"c.toml": tomlFile},
			env:   []string{"DECNET_DB_CONFIG=$DIR/c.toml"},
			want:  func(c *config.Config, dir string) { fromFile(c); c.File = filepath.Join(dir, "c.toml") },
		},
		{
			name:  "yaml file over defaults",
			files: map[string]string{"c.yaml": yamlFile},
			env:   []string{"DECNET_DB_CONFIG=$DIR/c.yaml"},
			want:  func(c *config.Config, dir string) { fromFile(c); c.File = filepath.Join(dir, "c.yaml") },
		},
		{
			name:  "yml extension, upper case",
			files: map[string]string{"c.YML": yamlFile},
			file:  "$DIR/c.YML",
			want:  func(c *config.Config, dir string) { fromFile(c); c.File = filepath.Join(dir, "c.YML") },
		},
		{
			name:  "Options.File",
			files: map[string]string{"c.toml": tomlFile},
			file:  "$DIR/c.toml",
			want:  func(c *config.Config, dir string) { fromFile(c); c.File = filepath.Join(dir, "c.toml") },
		},
		{
			name:  "Options.File over DECNET_DB_CONFIG",
			files: map[string]string{"c.toml": tomlFile, "other.toml": `db_host = "other-host"`},
			env:   []string{"DECNET_DB_CONFIG=$DIR/other.toml"},
			file:  "$DIR/c.toml",
			want:  func(c *config.Config, dir string) { fromFile(c); c.File = filepath.Join(dir, "c.toml") },
		},
		{
			name:      "DECNET_DB_CONFIG override over the environment's",
			files:     map[string]string{"c.toml": tomlFile, "other.toml": `db_host = "other-host"`},
			env:       []string{"DECNET_DB_CONFIG=$DIR/other.toml"},
			overrides: map[string]string{"DECNET_DB_CONFIG": "$DIR/c.toml"},
			want:      func(c *config.Config, dir string) { fromFile(c); c.File = filepath.Join(dir, "c.toml") },
		},
		{
			name:  "environment over file",
			files: map[string]string{"c.toml": tomlFile},
			env: []string{"DECNET_DB_CONFIG=$DIR/c.toml", "DECNET_DB_HOST=env-host", "DECNET_DB_PORT=3308",
				"DECNET_DB_PASSWORD=envpw", "DECNET_DB_POOL_PRE_PING=true", "DECNET_DB_URL=mysql://env:envpw@env-url/db"},
			want: func(c *config.Config, dir string) {
				fromFile(c)
				c.Host, c.Port, c.Password, c.PoolPrePing, c.URL = "env-host", 3308, "envpw", ptr(true), "mysql://env:envpw@env-url/db"
				c.File = filepath.Join(dir, "c.toml")
			},
		},
		{
			name:  "yaml: environment over file",
			files: map[string]string{"c.yaml": yamlFile},
			env:   []string{"DECNET_DB_CONFIG=$DIR/c.yaml", "DECNET_DB_TYPE=sqlite", "DECNET_DB_POOL_SIZE=9"},
			want: func(c *config.Config, dir string) {
				fromFile(c)
				c.Type, c.PoolSize, c.File = "sqlite", 9, filepath.Join(dir, "c.yaml")
			},
		},
		{
			name:  "empty environment value does not hide the file",
			files: map[string]string{"c.toml": tomlFile},
			env:   []string{"DECNET_DB_CONFIG=$DIR/c.toml", "DECNET_DB_HOST=", "DECNET_DB_PASSWORD="},
			want:  func(c *config.Config, dir string) { fromFile(c); c.File = filepath.Join(dir, "c.toml") },
		},
		{
			name:  "empty file value does not hide the default",
			files: map[string]string{"c.toml": "db_path = \"\"\nadmin_user = \"  \"\ndb_pool_size = \"\"\n"},
			file:  "$DIR/c.toml",
			want:  func(c *config.Config, dir string) { c.File = filepath.Join(dir, "c.toml") },
		},
		{
			name:  "null yaml value is unset",
			files: map[string]string{"c.yaml": "db_path:\ndb_host: ~\n"},
			file:  "$DIR/c.yaml",
			want:  func(c *config.Config, dir string) { c.File = filepath.Join(dir, "c.yaml") },
		},
		{
			name:  "file plugin dir as a list",
			files: map[string]string{"c.toml": `db_plugin_dir = ["/opt/a", "", "/opt/b"]`},
			file:  "$DIR/c.toml",
			want: func(c *config.Config, dir string) {
				c.PluginDirs, c.File = []string{"/opt/a", "/opt/b"}, filepath.Join(dir, "c.toml")
			},
		},
		{
			name:  "file plugin dir as a string",
			files: map[string]string{"c.yaml": "db_plugin_dir: /opt/a:/opt/b\n"},
			file:  "$DIR/c.yaml",
			want: func(c *config.Config, dir string) {
				c.PluginDirs, c.File = []string{"/opt/a", "/opt/b"}, filepath.Join(dir, "c.yaml")
			},
		},
		{
			name:  "file numbers and booleans as strings",
			files: map[string]string{"c.toml": "db_port = \"3309\"\ndb_pool_pre_ping = \"true\"\ndb_pool_recycle = 30\ndeveloper_tracing = true\n"},
			file:  "$DIR/c.toml",
			want: func(c *config.Config, dir string) {
				c.Port, c.PoolPrePing, c.PoolRecycle, c.Tracing, c.File = 3309, ptr(true), 30*time.Second, true, filepath.Join(dir, "c.toml")
			},
		},
		{
			name:      "override variable name over environment",
			env:       []string{"DECNET_DB_URL=mysql://env:envpw@env-url/db", "DECNET_DB_TYPE=sqlite"},
			overrides: map[string]string{"DECNET_DB_URL": "mysql://flag:flagpw@flag-url/db", "DECNET_DB_TYPE": "MySQL"},
			want: func(c *config.Config, _ string) {
				c.URL, c.Type = "mysql://flag:flagpw@flag-url/db", "mysql"
			},
		},
		{
			name:      "override key over environment",
			env:       []string{"DECNET_DB_URL=mysql://env:envpw@env-url/db"},
			overrides: map[string]string{"db_url": "mysql://flag:flagpw@flag-url/db", "db_path": "/flag.db"},
			want:      func(c *config.Config, _ string) { c.URL, c.Path = "mysql://flag:flagpw@flag-url/db", "/flag.db" },
		},
		{
			name:      "override keys in other cases",
			overrides: map[string]string{"DB_HOST": "h1", "decnet_db_name": "n1", "Decnet_Admin_User": "a1"},
			want:      func(c *config.Config, _ string) { c.Host, c.Name, c.AdminUser = "h1", "n1", "a1" },
		},
		{
			name:      "override over file and environment",
			files:     map[string]string{"c.toml": tomlFile},
			env:       []string{"DECNET_DB_CONFIG=$DIR/c.toml", "DECNET_DB_HOST=env-host"},
			overrides: map[string]string{"DECNET_DB_HOST": "flag-host", "db_port": "3310"},
			want: func(c *config.Config, dir string) {
				fromFile(c)
				c.Host, c.Port, c.File = "flag-host", 3310, filepath.Join(dir, "c.toml")
			},
		},
		{
			name:      "empty overrides do not hide the environment",
			env:       []string{"DECNET_DB_URL=mysql://env:envpw@env-url/db", "DECNET_DB_TYPE=mysql", "DECNET_DB_PASSWORD=envpw"},
			overrides: map[string]string{"DECNET_DB_URL": "", "db_type": "", "DECNET_DB_PATH": "  ", "DECNET_DB_PASSWORD": "", "DECNET_DB_CONFIG": ""},
			want: func(c *config.Config, _ string) {
				c.URL, c.Type, c.Password = "mysql://env:envpw@env-url/db", "mysql", "envpw"
			},
		},
		{
			name:      "override password keeps its spaces",
			overrides: map[string]string{"DECNET_DB_PASSWORD": " flag pw "},
			want:      func(c *config.Config, _ string) { c.Password = " flag pw " },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, body := range tc.files {
				writeFile(t, dir, name, body)
			}
			sub := func(s string) string { return strings.ReplaceAll(s, "$DIR", dir) }
			var env []string
			for _, kv := range tc.env {
				env = append(env, sub(kv))
			}
			over := map[string]string{}
			for k, v := range tc.overrides {
				over[k] = sub(v)
			}
			got, err := config.Load(config.Options{Environ: environ(env...), File: sub(tc.file), Overrides: over})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := expected()
			tc.want(&want, dir)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load() = %#v\nwant %#v", got, want)
			}
		})
	}
}

// Passwords set around every bad value in TestLoadErrors: no error may
// contain them.
const (
	dbPW    = "Db-S3cr3t pw!"
	adminPW = "Adm1n#S3cr3t"
	urlPW   = "p@ss:w/rd-Url"
	filePW  = "F1le-S3cr3t"
)

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	secretsEnv := []string{
		"DECNET_DB_PASSWORD=" + dbPW,
		"DECNET_ADMIN_PASSWORD=" + adminPW,
		"DECNET_DB_URL=mysql://" + userinfo("u", urlPW) + "@h:3306/db",
	}
	for _, tc := range []struct {
		name      string
		files     map[string]string
		env       []string
		file      string
		overrides map[string]string
		want      []string // substrings of the error, in this order
		notExist  bool     // errors.Is(err, fs.ErrNotExist) too
	}{
		{name: "port 0", env: []string{"DECNET_DB_PORT=0"}, want: []string{"DECNET_DB_PORT", "0 is outside 1..65535"}},
		{name: "port 70000", env: []string{"DECNET_DB_PORT=70000"}, want: []string{"DECNET_DB_PORT", "70000 is outside 1..65535"}},
		{name: "port -1", env: []string{"DECNET_DB_PORT=-1"}, want: []string{"DECNET_DB_PORT", "-1 is outside"}},
		{name: "port abc", env: []string{"DECNET_DB_PORT=abc"}, want: []string{"DECNET_DB_PORT", `"abc" is not a whole number`}},
		{name: "port 3306.5", env: []string{"DECNET_DB_PORT=3306.5"}, want: []string{"DECNET_DB_PORT", `"3306.5" is not a whole number`}},
		{name: "pool size twenty", env: []string{"DECNET_DB_POOL_SIZE=twenty"}, want: []string{"DECNET_DB_POOL_SIZE", `"twenty" is not a whole number`}},
		{name: "pool size negative", env: []string{"DECNET_DB_POOL_SIZE=-1"}, want: []string{"DECNET_DB_POOL_SIZE", "-1 is outside 0..100000"}},
		{name: "max overflow", env: []string{"DECNET_DB_MAX_OVERFLOW=lots"}, want: []string{"DECNET_DB_MAX_OVERFLOW", `"lots"`}},
		{name: "pool recycle with a unit", env: []string{"DECNET_DB_POOL_RECYCLE=1h"}, want: []string{"DECNET_DB_POOL_RECYCLE", `"1h" is not a whole number`}},
		{name: "pre-ping maybe", env: []string{"DECNET_DB_POOL_PRE_PING=maybe"}, want: []string{"DECNET_DB_POOL_PRE_PING", `"maybe" is not true or false`}},
		{name: "tracing maybe", env: []string{"DECNET_DEVELOPER_TRACING=maybe"}, want: []string{"DECNET_DEVELOPER_TRACING", `"maybe"`}},
		{name: "sha256 short", env: []string{"DECNET_DB_PLUGIN_SHA256=abc123"}, want: []string{"DECNET_DB_PLUGIN_SHA256", "not 64 hexadecimal digits"}},
		{name: "sha256 63 digits", env: []string{"DECNET_DB_PLUGIN_SHA256=" + strings.Repeat("a", 63)}, want: []string{"DECNET_DB_PLUGIN_SHA256"}},
		{name: "sha256 65 digits", env: []string{"DECNET_DB_PLUGIN_SHA256=" + strings.Repeat("a", 65)}, want: []string{"DECNET_DB_PLUGIN_SHA256"}},
		{name: "sha256 not hex", env: []string{"DECNET_DB_PLUGIN_SHA256=" + strings.Repeat("g", 64)}, want: []string{"DECNET_DB_PLUGIN_SHA256"}},
		{name: "bad value in the file", files: map[string]string{"c.toml": `db_port = 0`}, file: "$DIR/c.toml", want: []string{"DECNET_DB_PORT", "outside"}},
		{name: "bad override", overrides: map[string]string{"DECNET_DB_POOL_SIZE": "x"}, want: []string{"DECNET_DB_POOL_SIZE", `"x"`}},
		{
			name:  "unknown key in toml",
			files: map[string]string{"c.toml": "db_typ = \"mysql\"\ndb_password = \"" + filePW + "\"\n"},
			file:  "$DIR/c.toml", want: []string{"DECNET_DB_CONFIG", `unknown key "db_typ"`},
		},
		{
			name:  "unknown key in yaml, nested",
			files: map[string]string{"c.yaml": "db:\n  type: mysql\n"},
			file:  "$DIR/c.yaml", want: []string{"DECNET_DB_CONFIG", `unknown key "db.type"`},
		},
		{
			name:  "upper-case key",
			files: map[string]string{"c.toml": `DB_TYPE = "mysql"`},
			file:  "$DIR/c.toml", want: []string{`unknown key "DB_TYPE"`},
		},
		{
			name:  "db_config key in the file",
			files: map[string]string{"c.toml": `db_config = "other.toml"`},
			file:  "$DIR/c.toml", want: []string{`unknown key "db_config"`},
		},
		{
			name:  "every unknown key",
			files: map[string]string{"c.toml": "zzz = 1\naaa = 2\ndb_type = \"mysql\"\n"},
			file:  "$DIR/c.toml", want: []string{`unknown key "aaa"`, `unknown key "zzz"`},
		},
		{
			name:  "list for a single value",
			files: map[string]string{"c.toml": `db_host = ["a", "b"]`},
			file:  "$DIR/c.toml", want: []string{"DECNET_DB_HOST", "a list is not allowed"},
		},
		{name: "json extension", files: map[string]string{"c.json": `{"db_type": "mysql"}`}, file: "$DIR/c.json", want: []string{"DECNET_DB_CONFIG", "c.json", "extension must be .toml, .yaml or .yml"}},
		{name: "no extension", files: map[string]string{"config": `db_type = "mysql"`}, env: []string{"DECNET_DB_CONFIG=$DIR/config"}, want: []string{"DECNET_DB_CONFIG", "extension"}},
		{name: "missing file", file: "$DIR/absent.toml", want: []string{"DECNET_DB_CONFIG", "absent.toml"}, notExist: true},
		{name: "missing file from the environment", env: []string{"DECNET_DB_CONFIG=$DIR/absent.yaml"}, want: []string{"DECNET_DB_CONFIG", "absent.yaml"}, notExist: true},
		{
			name:  "toml does not parse",
			files: map[string]string{"c.toml": "db_password = \"" + filePW + "\"\ndb_type = = mysql\n"},
			file:  "$DIR/c.toml", want: []string{"DECNET_DB_CONFIG", "c.toml", "toml"},
		},
		{
			name:  "yaml does not parse",
			files: map[string]string{"c.yaml": "db_password: \"" + filePW + "\"\ndb_type: [mysql\n"},
			file:  "$DIR/c.yaml", want: []string{"DECNET_DB_CONFIG", "c.yaml", "yaml"},
		},
		{
			name:  "toml unterminated password",
			files: map[string]string{"c.toml": "db_password = \"" + filePW + "\n"},
			file:  "$DIR/c.toml", want: []string{"DECNET_DB_CONFIG", "toml"},
		},
		{name: "unknown override name", overrides: map[string]string{"DECNET_DB_NOPE": "1"}, want: []string{`unknown override "DECNET_DB_NOPE"`}},
		{name: "unknown override key", overrides: map[string]string{"type": "mysql"}, want: []string{`unknown override "type"`}},
		{
			name: "several bad values, all reported in documentation order",
			env: []string{"DECNET_DEVELOPER_TRACING=maybe", "DECNET_DB_PLUGIN_SHA256=xyz", "DECNET_DB_POOL_PRE_PING=maybe",
				"DECNET_DB_POOL_SIZE=twenty", "DECNET_DB_PORT=abc", "DECNET_DB_POOL_RECYCLE=-5"},
			want: []string{"DECNET_DB_PORT", "DECNET_DB_POOL_SIZE", "DECNET_DB_POOL_RECYCLE", "DECNET_DB_POOL_PRE_PING",
				"DECNET_DB_PLUGIN_SHA256", "DECNET_DEVELOPER_TRACING"},
		},
		{
			name:      "several unknown overrides",
			overrides: map[string]string{"b_nope": "1", "a_nope": "2"},
			want:      []string{`"a_nope"`, `"b_nope"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, body := range tc.files {
				writeFile(t, dir, name, body)
			}
			sub := func(s string) string { return strings.ReplaceAll(s, "$DIR", dir) }
			env := append([]string(nil), secretsEnv...)
			for _, kv := range tc.env {
				env = append(env, sub(kv))
			}
			over := map[string]string{}
			for k, v := range tc.overrides {
				over[k] = sub(v)
			}
			got, err := config.Load(config.Options{Environ: environ(env...), File: sub(tc.file), Overrides: over})
			if err == nil {
				t.Fatalf("Load() = %v, want an error", got)
			}
			if !errors.Is(err, config.ErrConfig) {
				t.Errorf("error %q does not wrap ErrConfig", err)
			}
			if tc.notExist && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %q does not wrap fs.ErrNotExist", err)
			}
			if !reflect.DeepEqual(got, config.Config{}) {
				t.Errorf("Load() returned %#v with its error, want the zero Config", got)
			}
			msg, at := err.Error(), 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Errorf("error %q lacks %q after offset %d", msg, w, at)
					continue
				}
				at += i + len(w)
			}
			assertNoSecret(t, "the error", msg, dbPW, adminPW, urlPW, filePW)
		})
	}
}

// specialPasswords have every character that needs care in a URL or a
// config file.
var specialPasswords = []string{
	"p@ss", "p:ss", "p/ss", "p!ss", "p#ss", "p%ss", "p+ss", "p ss", "p?ss", "p&ss=x",
	"p%40ss", "p%zz", " lead", "trail ", "@:/!#%+ all of them", "p[ss]", "ü-ünicode",
}

func TestFieldsAndStringHidePasswords(t *testing.T) {
	t.Parallel()
	for _, pw := range specialPasswords {
		t.Run(pw, func(t *testing.T) {
			t.Parallel()
			db, admin, inURL := pw+"-db", pw+"-admin", pw+"-url"
			env := []string{
				"DECNET_DB_PASSWORD=" + db,
				"DECNET_ADMIN_PASSWORD=" + admin,
				"DECNET_DB_URL=mysql+asyncmy://" + userinfo("u", inURL) + "@db.internal:3306/decnet?charset=utf8mb4",
			}
			cfg, err := config.Load(config.Options{Environ: environ(env...)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.Password != db || cfg.AdminPassword != admin {
				t.Errorf("Password, AdminPassword = %q, %q, want %q, %q", cfg.Password, cfg.AdminPassword, db, admin)
			}
			s := cfg.String()
			assertNoSecret(t, "String()", s, db, admin, inURL)
			fields := map[string]string{}
			for _, kv := range cfg.Fields() {
				assertNoSecret(t, "Fields()["+kv[0]+"]", kv[1], db, admin, inURL)
				fields[kv[0]] = kv[1]
			}
			for k, want := range map[string]string{
				config.VarPassword:      "***",
				config.VarAdminPassword: "***",
				config.VarURL:           "mysql+asyncmy://u:***@db.internal:3306/decnet?charset=utf8mb4",
			} {
				if fields[k] != want {
					t.Errorf("Fields()[%s] = %q, want %q", k, fields[k], want)
				}
				if line := k + "=" + want + "\n"; !strings.Contains(s, line) {
					t.Errorf("String() lacks the line %q:\n%s", line, s)
				}
			}
		})
	}
}

func TestFieldsAndString(t *testing.T) {
	t.Parallel()
	full := config.Config{
		Type: "mysql", Path: "/x.db", URL: "mysql://u:pw@h:3306/db", Host: "h", Port: 3306, Name: "db", User: "u",
		Password: "pw", PoolSize: 5, MaxOverflow: 6, PoolRecycle: 90 * time.Second, PoolPrePing: ptr(false),
		AdminUser: "root", AdminPassword: "apw", PluginDirs: []string{"/a", "/b"},
		PluginSHA256: strings.Repeat("ab", 32), Tracing: true, File: "/etc/decnet.toml",
	}
	for _, tc := range []struct {
		name string
		cfg  config.Config
		want [][2]string
	}{
		{"full", full, [][2]string{
			{"DECNET_DB_TYPE", "mysql"}, {"DECNET_DB_PATH", "/x.db"}, {"DECNET_DB_URL", "mysql://u:***@h:3306/db"},
			{"DECNET_DB_HOST", "h"}, {"DECNET_DB_PORT", "3306"}, {"DECNET_DB_NAME", "db"}, {"DECNET_DB_USER", "u"},
			{"DECNET_DB_PASSWORD", "***"}, {"DECNET_DB_POOL_SIZE", "5"}, {"DECNET_DB_MAX_OVERFLOW", "6"},
			{"DECNET_DB_POOL_RECYCLE", "90"}, {"DECNET_DB_POOL_PRE_PING", "false"}, {"DECNET_ADMIN_USER", "root"},
			{"DECNET_ADMIN_PASSWORD", "***"}, {"DECNET_DB_PLUGIN_DIR", "/a:/b"},
			{"DECNET_DB_PLUGIN_SHA256", strings.Repeat("ab", 32)}, {"DECNET_DEVELOPER_TRACING", "true"},
			{"DECNET_DB_CONFIG", "/etc/decnet.toml"},
		}},
		{"defaults", config.Default(), [][2]string{
			{"DECNET_DB_TYPE", "sqlite"}, {"DECNET_DB_PATH", "decnet.db"}, {"DECNET_DB_URL", ""},
			{"DECNET_DB_HOST", "localhost"}, {"DECNET_DB_PORT", ""}, {"DECNET_DB_NAME", "decnet"}, {"DECNET_DB_USER", "decnet"},
			{"DECNET_DB_PASSWORD", ""}, {"DECNET_DB_POOL_SIZE", "20"}, {"DECNET_DB_MAX_OVERFLOW", "40"},
			{"DECNET_DB_POOL_RECYCLE", "3600"}, {"DECNET_DB_POOL_PRE_PING", ""}, {"DECNET_ADMIN_USER", "admin"},
			{"DECNET_ADMIN_PASSWORD", "***"}, {"DECNET_DB_PLUGIN_DIR", ""},
			{"DECNET_DB_PLUGIN_SHA256", ""}, {"DECNET_DEVELOPER_TRACING", "false"},
			{"DECNET_DB_CONFIG", ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.cfg.Fields()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Fields() = %q\nwant %q", got, tc.want)
			}
			var b strings.Builder
			for _, kv := range tc.want {
				b.WriteString(kv[0] + "=" + kv[1] + "\n")
			}
			if s := tc.cfg.String(); s != b.String() {
				t.Errorf("String() = %q\nwant %q", s, b.String())
			}
		})
	}
}

func TestVariables(t *testing.T) {
	t.Parallel()
	want := []string{
		"DECNET_DB_TYPE", "DECNET_DB_PATH", "DECNET_DB_URL", "DECNET_DB_HOST", "DECNET_DB_PORT", "DECNET_DB_NAME",
		"DECNET_DB_USER", "DECNET_DB_PASSWORD", "DECNET_DB_POOL_SIZE", "DECNET_DB_MAX_OVERFLOW", "DECNET_DB_POOL_RECYCLE",
		"DECNET_DB_POOL_PRE_PING", "DECNET_ADMIN_USER", "DECNET_ADMIN_PASSWORD", "DECNET_DB_PLUGIN_DIR",
		"DECNET_DB_PLUGIN_SHA256", "DECNET_DEVELOPER_TRACING", "DECNET_DB_CONFIG",
	}
	if got := config.Variables(); !reflect.DeepEqual(got, want) {
		t.Errorf("Variables() = %q\nwant %q", got, want)
	}
	var names []string
	for _, kv := range config.Default().Fields() {
		names = append(names, kv[0])
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("Fields() names = %q\nwant %q", names, want)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  config.Config
		in   string
		want string
	}{
		{"db password raw", config.Config{Password: "s3cr3t"}, "auth failed for s3cr3t.", "auth failed for ***."},
		{"every occurrence", config.Config{Password: "s3cr3t"}, "s3cr3t s3cr3t", "*** ***"},
		{"admin password", config.Config{AdminPassword: "adm1n-pw"}, "seed adm1n-pw", "seed ***"},
		{"query-escaped", config.Config{Password: "p@ss w+rd"}, "x=p%40ss+w%2Brd", "x=***"},
		{"path-escaped", config.Config{Password: "p ss/x?"}, "/p%20ss%2Fx%3F", "/***"},
		{"userinfo-escaped", config.Config{Password: "p@ss:w/rd"}, "mysql://u:p%40ss%3Aw%2Frd@h/db", "mysql://u:***@h/db"},
		{"spaces kept", config.Config{Password: " pw "}, "[ pw ]", "[***]"},
		{"url password decoded", config.Config{URL: "mysql://u:p%40ss%3Aw%2Frd@h/db"}, "bad p@ss:w/rd!", "bad ***!"},
		{"url password as written", config.Config{URL: "mysql://u:p%40ss%3aw@h/db"}, "dsn u:p%40ss%3aw@tcp(h)/db", "dsn u:***@tcp(h)/db"},
		{"url password lower-case hex decoded", config.Config{URL: "mysql://u:p%40ss%3aw@h/db"}, "p@ss:w", "***"},
		{"url plus stays a plus", config.Config{URL: "mysql://u:a+b@h/db"}, "a+b and a b", "*** and a b"},
		{"url that does not parse", config.Config{URL: "mysql://u:p%ss-word@h/db"}, "driver: p%ss-word rejected", "driver: *** rejected"},
		{"url with unescaped @", config.Config{URL: "mysql://u:p@ss-word@h/db"}, "p@ss-word", "***"},
		{"dsn", config.Config{URL: "u:dsn-pw@tcp(h:3306)/db"}, "using dsn-pw", "using ***"},
		{"url query password", config.Config{URL: "postgres://u@h/db?password=q%20pw&sslmode=disable"}, "q pw, q%20pw", "***, ***"},
		{"all three", config.Config{Password: "one1", AdminPassword: "two2", URL: "mysql://u:three3@h/db"}, "one1 two2 three3", "*** *** ***"},
		{"longest first", config.Config{Password: "ab", AdminPassword: "abcd"}, "abcd ab", "*** ***"},
		{"nothing to hide", config.Config{}, "plain message", "plain message"},
		{"public default admin password kept", config.Config{AdminPassword: config.DefaultAdminPassword}, "seed user admin", "seed user admin"},
		{"url without password", config.Config{URL: "mysql://u@h/db"}, "mysql://u@h/db", "mysql://u@h/db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.cfg.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactSpecialPasswords(t *testing.T) {
	t.Parallel()
	for _, pw := range specialPasswords {
		t.Run(pw, func(t *testing.T) {
			t.Parallel()
			cfg := config.Config{Password: pw, User: "u", Host: "h", Name: "db"}
			u, err := cfg.ConnURL("mysql", 3306)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range append(forms(pw), u.String(), "error: "+pw+" at "+u.String()) {
				got := cfg.Redact(in)
				assertNoSecret(t, "Redact("+in+")", got, pw)
				if !strings.Contains(got, "***") {
					t.Errorf("Redact(%q) = %q, want ***", in, got)
				}
			}
			if got, want := cfg.Redact(u.String()), "mysql://u:***@h:3306/db"; got != want {
				t.Errorf("Redact(%q) = %q, want %q", u, got, want)
			}
		})
	}
}

func TestMaxOpen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		size, overflow, want int
	}{
		{20, 40, 60},
		{5, 0, 5},
		{0, 5, 5},
		{0, 0, 1},
		{1, 0, 1},
		{-3, 1, 1},
	} {
		c := config.Config{PoolSize: tc.size, MaxOverflow: tc.overflow}
		if got := c.MaxOpen(); got != tc.want {
			t.Errorf("Config{PoolSize: %d, MaxOverflow: %d}.MaxOpen() = %d, want %d", tc.size, tc.overflow, got, tc.want)
		}
	}
	if got := config.Default().MaxOpen(); got != 60 {
		t.Errorf("Default().MaxOpen() = %d, want 60", got)
	}
}

func TestPrePing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		set  *bool
		def  bool
		want bool
	}{
		{"unset, default on", nil, true, true},
		{"unset, default off", nil, false, false},
		{"off over default on", ptr(false), true, false},
		{"on over default off", ptr(true), false, true},
		{"on, default on", ptr(true), true, true},
		{"off, default off", ptr(false), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := config.Config{PoolPrePing: tc.set}
			if got := c.PrePing(tc.def); got != tc.want {
				t.Errorf("PrePing(%v) = %v, want %v", tc.def, got, tc.want)
			}
		})
	}
}

func TestLoadPrePingFromEnvironment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value           string
		mysqlOn, sqlite bool // PrePing(true), PrePing(false)
	}{
		{"", true, false},
		{"false", false, false},
		{"true", true, true},
	} {
		cfg, err := config.Load(config.Options{Environ: environ("DECNET_DB_POOL_PRE_PING=" + tc.value)})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got := cfg.PrePing(true); got != tc.mysqlOn {
			t.Errorf("%q: PrePing(true) = %v, want %v", tc.value, got, tc.mysqlOn)
		}
		if got := cfg.PrePing(false); got != tc.sqlite {
			t.Errorf("%q: PrePing(false) = %v, want %v", tc.value, got, tc.sqlite)
		}
	}
}

// TestLoadConcurrent runs Load from many goroutines (for -race): Load has
// no shared state.
func TestLoadConcurrent(t *testing.T) {
	t.Parallel()
	path := writeFile(t, t.TempDir(), "c.toml", `db_host = "file-host"`)
	done := make(chan error)
	for i := range 8 {
		go func() {
			cfg, err := config.Load(config.Options{File: path, Environ: environ("DECNET_DB_PORT=" + string(rune('1'+i)))})
			if err == nil && (cfg.Host != "file-host" || cfg.Port != i+1) {
				err = errors.New("wrong configuration: " + cfg.String())
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
