package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/repository"
)

// hardPassword has every character that breaks naive URL handling.
const hardPassword = "p@ss:w/rd !#%+x"

func TestParseConfig(t *testing.T) {
	components := config.Default()
	components.Type = Name
	components.Host, components.Port, components.Name, components.User, components.Password = "db.example", 3307, "decnet", "decnet", hardPassword

	withURL := func(u string) config.Config {
		c := components
		c.URL = u
		return c
	}
	tests := []struct {
		name         string
		cfg          config.Config
		net, addr    string
		user, passwd string
		db           string
	}{
		{"components", components, "tcp", "db.example:3307", "decnet", hardPassword, "decnet"},
		{"components default port", func() config.Config { c := components; c.Port = 0; return c }(), "tcp", "db.example:3306", "decnet", hardPassword, "decnet"},
		{"url wins over components", withURL("mysql://u:pw@h1:3310/d1"), "tcp", "h1:3310", "u", "pw", "d1"},
		{"url percent-encoded password", withURL("mysql://u:p%40ss%3Aw%2Frd%20%21%23%25%2Bx@h1/d1"), "tcp", "h1:3306", "u", hardPassword, "d1"},
		{"python asyncmy form", withURL("mysql+asyncmy://decnet:pw@10.0.0.5:3306/decnet?charset=utf8mb4"), "tcp", "10.0.0.5:3306", "decnet", "pw", "decnet"},
		{"mariadb scheme", withURL("mariadb://u:pw@h1/d1"), "tcp", "h1:3306", "u", "pw", "d1"},
		{"go driver dsn", withURL("u:p@ss@tcp(h2:3308)/d2"), "tcp", "h2:3308", "u", "p@ss", "d2"},
		{"unix socket", withURL("mysql://u:pw@localhost/d1?unix_socket=/run/mysqld/mysqld.sock"), "unix", "/run/mysqld/mysqld.sock", "u", "pw", "d1"},
		{"ipv6 host", withURL("mysql://u:pw@[::1]:3306/d1"), "tcp", "[::1]:3306", "u", "pw", "d1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mc, err := ParseConfig(tt.cfg)
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if mc.Net != tt.net || mc.Addr != tt.addr || mc.User != tt.user || mc.Passwd != tt.passwd || mc.DBName != tt.db {
				t.Errorf("got %s %s user %q password %q db %q; want %s %s %q %q %q",
					mc.Net, mc.Addr, mc.User, mc.Passwd, mc.DBName, tt.net, tt.addr, tt.user, tt.passwd, tt.db)
			}
			if !mc.ParseTime || mc.Loc != time.UTC || mc.Collation != "utf8mb4_bin" || mc.InterpolateParams {
				t.Errorf("forced options not applied: parseTime %v loc %v collation %q interpolate %v", mc.ParseTime, mc.Loc, mc.Collation, mc.InterpolateParams)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, url string
		want      string // in the message
	}{
		{"bad escape", "mysql://u:se%zzcret@h/db", "***"},
		{"bad port", "mysql://u:secret@h:99999/db", "port"},
		{"wrong scheme", "postgres://u:secret@h/db", "scheme"},
		{"no host", "mysql:///db", "malformed"},
		{"bad dsn", "u:secret@tcp(h:3306", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.URL = tt.url
			_, err := ParseConfig(cfg)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, config.ErrConfig) {
				t.Errorf("error %v does not wrap config.ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "se%zzcret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// TestUnreachableServer checks that a refused connection is ErrUnavailable
// naming server and user, never the password, and that it comes promptly.
func TestUnreachableServer(t *testing.T) {
	cfg := config.Default()
	cfg.URL = "mysql://decnet:" + "s3cr3t-pw" + "@127.0.0.1:1/decnet"
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := Open(ctx, cfg)
	if !errors.Is(err, repository.ErrUnavailable) {
		t.Fatalf("Open: %v, want ErrUnavailable", err)
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1", `"decnet"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	if strings.Contains(msg, "s3cr3t-pw") {
		t.Errorf("error %q shows the password", msg)
	}
}
