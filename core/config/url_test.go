package config_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/decnet/decnet-db/core/config"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		raw                    string
		scheme, host, port     string
		user, password         string
		hasPassword            bool
		path, query, fragments string
	}{
		{name: "mysql", raw: "mysql://decnet:pw@db.internal:3306/decnet",
			scheme: "mysql", host: "db.internal", port: "3306", user: "decnet", password: "pw", hasPassword: true, path: "/decnet"},
		{name: "asyncmy suffix dropped", raw: "mysql+asyncmy://decnet:pw@db:3306/decnet",
			scheme: "mysql", host: "db", port: "3306", user: "decnet", password: "pw", hasPassword: true, path: "/decnet"},
		{name: "asyncpg suffix dropped", raw: "postgresql+asyncpg://u:pw@pg:5432/decnet?sslmode=disable",
			scheme: "postgresql", host: "pg", port: "5432", user: "u", password: "pw", hasPassword: true, path: "/decnet", query: "sslmode=disable"},
		{name: "scheme lower-cased", raw: "MySQL+AsyncMy://u:pw@h/db",
			scheme: "mysql", host: "h", user: "u", password: "pw", hasPassword: true, path: "/db"},
		{name: "percent-encoded password decoded", raw: "mysql://u:p%40ss%3Aw%2Frd@h:3306/db",
			scheme: "mysql", host: "h", port: "3306", user: "u", password: "p@ss:w/rd", hasPassword: true, path: "/db"},
		{name: "lower-case hex", raw: "mysql://u:p%40ss%3aw%2frd@h/db",
			scheme: "mysql", host: "h", user: "u", password: "p@ss:w/rd", hasPassword: true, path: "/db"},
		{name: "every special character encoded", raw: "mysql://u:%40%3A%2F%21%23%25%2B%20%3F@h/db",
			scheme: "mysql", host: "h", user: "u", password: "@:/!#%+ ?", hasPassword: true, path: "/db"},
		{name: "plus is a plus", raw: "mysql://u:a+b@h/db",
			scheme: "mysql", host: "h", user: "u", password: "a+b", hasPassword: true, path: "/db"},
		{name: "unescaped @ in the password", raw: "mysql://u:p@ss@h/db",
			scheme: "mysql", host: "h", user: "u", password: "p@ss", hasPassword: true, path: "/db"},
		{name: "unescaped ! in the password", raw: "mysql://u:p!ss@h/db",
			scheme: "mysql", host: "h", user: "u", password: "p!ss", hasPassword: true, path: "/db"},
		{name: "empty password", raw: "mysql://u:@h/db",
			scheme: "mysql", host: "h", user: "u", password: "", hasPassword: true, path: "/db"},
		{name: "user only", raw: "mysql://root@h:3306/db",
			scheme: "mysql", host: "h", port: "3306", user: "root", path: "/db"},
		{name: "no user info", raw: "mysql://h/db",
			scheme: "mysql", host: "h", path: "/db"},
		{name: "ipv6", raw: "mysql://u:pw@[::1]:3306/db",
			scheme: "mysql", host: "::1", port: "3306", user: "u", password: "pw", hasPassword: true, path: "/db"},
		{name: "query with @", raw: "postgres://h:5432/db?user=me@corp",
			scheme: "postgres", host: "h", port: "5432", path: "/db", query: "user=me@corp"},
		{name: "percent-encoded @ in the path", raw: "mysql://h/a%40b",
			scheme: "mysql", host: "h", path: "/a@b"},
		{name: "port 1", raw: "mysql://h:1/db", scheme: "mysql", host: "h", port: "1", path: "/db"},
		{name: "port 65535", raw: "mysql://h:65535/db", scheme: "mysql", host: "h", port: "65535", path: "/db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := config.ParseURL(tc.raw)
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.raw, err)
			}
			pw, hasPW := u.User.Password()
			got := []string{u.Scheme, u.Hostname(), u.Port(), u.User.Username(), pw, u.Path, u.RawQuery}
			want := []string{tc.scheme, tc.host, tc.port, tc.user, tc.password, tc.path, tc.query}
			for i, field := range []string{"scheme", "host", "port", "user", "password", "path", "query"} {
				if got[i] != want[i] {
					t.Errorf("ParseURL(%q): %s = %q, want %q", tc.raw, field, got[i], want[i])
				}
			}
			if hasPW != tc.hasPassword {
				t.Errorf("ParseURL(%q): has password = %v, want %v", tc.raw, hasPW, tc.hasPassword)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		raw    string
		want   []string // substrings of the error
		hidden []string // never in the error: the password and its pieces
	}{
		{"port too high", "mysql://u:S3cr3t@h:70000/db", []string{"mysql://u:***@h:70000/db", `port "70000" is outside 1..65535`}, []string{"S3cr3t"}},
		{"port 0", "mysql://u:S3cr3t@h:0/db", []string{"mysql://u:***@h:0/db", `port "0"`}, []string{"S3cr3t"}},
		{"port not a number", "mysql://u:S3cr3t@h:abc/db", []string{"mysql://u:***@h:abc/db", "invalid port"}, []string{"S3cr3t"}},
		{"missing host", "mysql://u:S3cr3t@/db", []string{"mysql://u:***@/db", "want scheme://user:password@host:port/database"}, []string{"S3cr3t"}},
		{"only a port", "mysql://u:S3cr3t@:3306/db", []string{"mysql://u:***@:3306/db", "want scheme://"}, []string{"S3cr3t"}},
		{"no authority", "mysql:///decnet", []string{"mysql:///decnet", "want scheme://"}, nil},
		{"no scheme", "//u:S3cr3t@h/db", []string{"//u:***@h/db", "want scheme://"}, []string{"S3cr3t"}},
		{"a path", "decnet.db", []string{"decnet.db"}, nil},
		{"empty", "", []string{"malformed URL"}, nil},
		{"dsn", "u:S3cr3t@tcp(h:3306)/db", []string{"u:***@tcp(h:3306)/db", "want scheme://"}, []string{"S3cr3t"}},
		{"unescaped %", "mysql://u:p%ss-S3cr3t@h/db", []string{"mysql://u:***@h/db", "invalid URL escape", "% as %25"}, []string{"p%ss-S3cr3t", "%ss", "S3cr3t"}},
		{"bad escape", "mysql://u:S3cr3t%zz@h/db", []string{"mysql://u:***@h/db", "invalid URL escape"}, []string{"S3cr3t", "%zz"}},
		{"unescaped / cut at the port", "mysql://u:pw/S3cr3t@h/db", []string{"mysql://u:***@h/db", "invalid port"}, []string{"pw/S3cr3t", ":pw", "S3cr3t"}},
		{"unescaped / with a numeric start", "mysql://u:1234/S3cr3t@h/db", []string{"mysql://u:***@h/db", "'@' after the host"}, []string{"1234", "S3cr3t"}},
		{"unescaped / with a too-high port", "mysql://u:70000/S3cr3t@h/db", []string{"mysql://u:***@h/db", "'@' after the host"}, []string{"70000", "S3cr3t"}},
		{"unescaped #", "mysql://root:#S3cr3t@h/db", []string{"mysql://root:***@h/db", "'@' after the host", "# as %23"}, []string{"S3cr3t"}},
		{"unescaped # mid-password", "mysql://u:a#S3cr3t@h/db", []string{"mysql://u:***@h/db"}, []string{"a#S3cr3t", "S3cr3t"}},
		{"unescaped ?", "mysql://u:12?S3cr3t@h/db", []string{"mysql://u:***@h/db", "'@' after the host"}, []string{"12?S3cr3t", "S3cr3t"}},
		{"unescaped space and /", "mysql://u:p w/S3cr3t@h/db", []string{"mysql://u:***@h/db"}, []string{"p w", "S3cr3t"}},
		{"control character", "mysql://u:S3cr3t\n@h/db", []string{"invalid control character"}, []string{"S3cr3t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := config.ParseURL(tc.raw)
			if err == nil {
				t.Fatalf("ParseURL(%q) = %v, want an error", tc.raw, u)
			}
			if u != nil {
				t.Errorf("ParseURL(%q) returned %v with its error", tc.raw, u)
			}
			if !errors.Is(err, config.ErrConfig) {
				t.Errorf("error %q does not wrap ErrConfig", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, h := range tc.hidden {
				if strings.Contains(msg, h) {
					t.Errorf("error %q contains %q, a piece of the password", msg, h)
				}
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"url", "mysql://u:S3cr3t@h:3306/db", "mysql://u:***@h:3306/db"},
		{"asyncmy form kept", "mysql+asyncmy://u:S3cr3t@h:3306/db", "mysql+asyncmy://u:***@h:3306/db"},
		{"rest byte for byte", "MySQL://u:S3cr3t@H:3306/db?parseTime=true&loc=UTC#frag", "MySQL://u:***@H:3306/db?parseTime=true&loc=UTC#frag"},
		{"percent-encoded", "mysql://u:p%40ss%3Aw%2Frd@h/db", "mysql://u:***@h/db"},
		{"unescaped @", "mysql://u:p@ss@h/db", "mysql://u:***@h/db"},
		{"unescaped % (does not parse)", "mysql://u:p%ss@h/db", "mysql://u:***@h/db"},
		{"unescaped / (does not parse)", "mysql://u:p/w@h/db", "mysql://u:***@h/db"},
		{"unescaped # (parses wrongly)", "mysql://root:#S3cr3t@h/db", "mysql://root:***@h/db"},
		{"unescaped / (parses wrongly)", "mysql://u:1/S3cr3t@h/db", "mysql://u:***@h/db"},
		{"unescaped ? (parses wrongly)", "mysql://u:1?S3cr3t@h/db", "mysql://u:***@h/db"},
		{"bad port (does not parse)", "mysql://u:S3cr3t@h:abc/db", "mysql://u:***@h:abc/db"},
		{"missing host", "mysql://u:S3cr3t@/db", "mysql://u:***@/db"},
		{"colon in the password", "mysql://u:a:b@h/db", "mysql://u:***@h/db"},
		{"query password", "postgres://u@h/db?sslmode=disable&password=S3cr3t", "postgres://u@h/db?sslmode=disable&password=***"},
		{"query password, any case", "postgres://h/db?PassWord=S3cr3t&x=1", "postgres://h/db?PassWord=***&x=1"},
		{"user info and query", "postgres://u:S3cr3t@h/db?sslpassword=K3y&pwd=x#f", "postgres://u:***@h/db?sslpassword=***&pwd=***#f"},
		{"empty query password kept", "postgres://h/db?password=&x=1", "postgres://h/db?password=&x=1"},
		{"dsn", "user:p@ss@tcp(host:3306)/db", "user:***@tcp(host:3306)/db"},
		{"dsn with a plain password", "decnet:S3cr3t@tcp(db.internal:3306)/decnet?parseTime=true", "decnet:***@tcp(db.internal:3306)/decnet?parseTime=true"},
		{"dsn with / in the password", "user:p/w@tcp(h)/db", "user:***@tcp(h)/db"},
		{"dsn with @ in the query", "user:S3cr3t@tcp(h:3306)/db?x=a@b", "user:***@tcp(h:3306)/db?x=a@b"},
		{"dsn with a url in the query", "user:S3cr3t@tcp(h)/db?x=http://a", "user:***@tcp(h)/db?x=http://a"},
		{"dsn unix socket", "user:S3cr3t@unix(/run/mysqld.sock)/db", "user:***@unix(/run/mysqld.sock)/db"},
		{"dsn without address", "user:S3cr3t@/db", "user:***@/db"},
		{"dsn without password", "user@tcp(h)/db", "user@tcp(h)/db"},
		{"empty password kept", "mysql://u:@h/db", "mysql://u:@h/db"},
		{"user only", "mysql://root@h:3306/db", "mysql://root@h:3306/db"},
		{"no credentials", "mysql://h:3306/db", "mysql://h:3306/db"},
		{"no credentials, @ in the query", "postgres://h:5432/db?user=me@corp", "postgres://h:5432/db?user=me@corp"},
		{"sqlite url", "sqlite:///var/lib/decnet.db", "sqlite:///var/lib/decnet.db"},
		{"file", "decnet.db", "decnet.db"},
		{"memory", ":memory:", ":memory:"},
		{"empty", "", ""},
		{"plain text", "no secrets here", "no secrets here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := config.RedactURL(tc.raw); got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestRedactURLSpecialPasswords(t *testing.T) {
	t.Parallel()
	for _, pw := range specialPasswords {
		t.Run(pw, func(t *testing.T) {
			t.Parallel()
			for _, raw := range []string{
				"mysql://" + userinfo("decnet", pw) + "@db:3306/decnet", // percent-encoded
				"mysql://decnet:" + pw + "@db:3306/decnet",              // as typed, often malformed
				"decnet:" + pw + "@tcp(db:3306)/decnet",                 // Go DSN
			} {
				got := config.RedactURL(raw)
				want := strings.Replace(raw, raw[strings.Index(raw, "decnet:")+len("decnet:"):strings.LastIndex(raw, "@")], "***", 1)
				if got != want {
					t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
				}
				assertNoSecret(t, "RedactURL", got, pw)
			}
		})
	}
}

func TestConnURL(t *testing.T) {
	t.Parallel()
	components := config.Config{Host: "db.internal", Port: 3307, Name: "decnet", User: "decnet", Password: "pw"}
	for _, tc := range []struct {
		name        string
		cfg         config.Config
		scheme      string
		defaultPort int
		want        string
	}{
		{"components", components, "mysql", 3306, "mysql://decnet:pw@db.internal:3307/decnet"},
		{"url wins over components", func() config.Config {
			c := components
			c.URL = "mysql+asyncmy://a:b@url-host:3310/url-db"
			return c
		}(), "mysql", 3306, "mysql://a:b@url-host:3310/url-db"},
		{"url keeps its own scheme and port", config.Config{URL: "postgresql+asyncpg://a:b@pg/x"}, "mysql", 3306, "postgresql://a:b@pg/x"},
		{"default port when Port is 0", config.Config{Host: "db", Name: "decnet", User: "u", Password: "pw"}, "mysql", 3306, "mysql://u:pw@db:3306/decnet"},
		{"no port at all", config.Config{Host: "db", Name: "decnet"}, "mysql", 0, "mysql://db/decnet"},
		{"localhost when Host is empty", config.Config{Name: "decnet"}, "postgres", 5432, "postgres://localhost:5432/decnet"},
		{"user without password", config.Config{Host: "db", Name: "decnet", User: "root"}, "mysql", 3306, "mysql://root@db:3306/decnet"},
		{"password without user", config.Config{Host: "db", Name: "decnet", Password: "pw"}, "mysql", 3306, "mysql://:pw@db:3306/decnet"},
		{"neither", config.Config{Host: "db", Name: "decnet"}, "mysql", 3306, "mysql://db:3306/decnet"},
		{"special password encoded", config.Config{Host: "db", Name: "decnet", User: "decnet", Password: "p@ss:w/rd"}, "mysql", 3306, "mysql://decnet:p%40ss%3Aw%2Frd@db:3306/decnet"},
		{"space and others encoded", config.Config{Host: "db", Name: "d", User: "u", Password: " !#%"}, "mysql", 3306, "mysql://u:%20%21%23%25@db:3306/d"},
		{"special user encoded", config.Config{Host: "db", Name: "d", User: "a@b:c"}, "mysql", 3306, "mysql://a%40b%3Ac@db:3306/d"},
		{"ipv6", config.Config{Host: "::1", Name: "d"}, "mysql", 3306, "mysql://[::1]:3306/d"},
		{"ipv6 in brackets", config.Config{Host: "[::1]", Name: "d"}, "mysql", 3306, "mysql://[::1]:3306/d"},
		{"ipv6 without port", config.Config{Host: "::1", Name: "d"}, "mysql", 0, "mysql://[::1]/d"},
		{"empty name", config.Config{Host: "db"}, "mysql", 3306, "mysql://db:3306/"},
		{"defaults", config.Default(), "mysql", 3306, "mysql://decnet@localhost:3306/decnet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := tc.cfg.ConnURL(tc.scheme, tc.defaultPort)
			if err != nil {
				t.Fatalf("ConnURL: %v", err)
			}
			if got := u.String(); got != tc.want {
				t.Errorf("ConnURL(%q, %d) = %q, want %q", tc.scheme, tc.defaultPort, got, tc.want)
			}
		})
	}
}

func TestConnURLErrors(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"mysql://u:p%ss-S3cr3t@h/db",
		"mysql://u:S3cr3t@h:99999/db",
		"mysql://u:S3cr3t@/db",
		"mysql://u:#S3cr3t@h/db",
	} {
		cfg := config.Config{URL: raw, Host: "fallback", Name: "db", Password: "component-pw"}
		u, err := cfg.ConnURL("mysql", 3306)
		if err == nil {
			t.Errorf("ConnURL with URL %q = %v, want an error (no fallback to the components)", raw, u)
			continue
		}
		if !errors.Is(err, config.ErrConfig) {
			t.Errorf("ConnURL with URL %q: error %q does not wrap ErrConfig", raw, err)
		}
		if strings.Contains(err.Error(), "S3cr3t") {
			t.Errorf("ConnURL with URL %q: error %q contains the password", raw, err)
		}
	}
}

// TestConnURLRoundTrip checks that every password survives the trip
// components -> URL -> url.Parse and ParseURL unchanged.
func TestConnURLRoundTrip(t *testing.T) {
	t.Parallel()
	for _, pw := range specialPasswords {
		t.Run(pw, func(t *testing.T) {
			t.Parallel()
			cfg := config.Config{Host: "db.internal", Name: "decnet", User: "decnet", Password: pw}
			u, err := cfg.ConnURL("mysql", 3306)
			if err != nil {
				t.Fatalf("ConnURL: %v", err)
			}
			s := u.String()
			back, err := url.Parse(s)
			if err != nil {
				t.Fatalf("url.Parse(%q): %v", s, err)
			}
			if got, _ := back.User.Password(); got != pw {
				t.Errorf("url.Parse(%q) password = %q, want %q", s, got, pw)
			}
			if got := back.User.Username(); got != "decnet" {
				t.Errorf("url.Parse(%q) user = %q, want decnet", s, got)
			}
			if back.Host != "db.internal:3306" || back.Path != "/decnet" {
				t.Errorf("url.Parse(%q) host, path = %q, %q, want db.internal:3306, /decnet", s, back.Host, back.Path)
			}
			// The same URL given as DECNET_DB_URL parses back too.
			cfg2 := config.Config{URL: s}
			u2, err := cfg2.ConnURL("mysql", 3306)
			if err != nil {
				t.Fatalf("ConnURL(URL %q): %v", s, err)
			}
			if got, _ := u2.User.Password(); got != pw {
				t.Errorf("ParseURL(%q) password = %q, want %q", s, got, pw)
			}
			if got, want := config.RedactURL(s), "mysql://decnet:***@db.internal:3306/decnet"; got != want {
				t.Errorf("RedactURL(%q) = %q, want %q", s, got, want)
			}
		})
	}
}
