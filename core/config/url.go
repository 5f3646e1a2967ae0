package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ParseURL parses a connection URL such as mysql://user:pass@host:3306/db.
// DECNET's Python forms with a driver suffix (mysql+asyncmy://,
// postgresql+asyncpg://) are accepted and the suffix dropped from the
// scheme. The password must be percent-encoded where it has reserved
// characters. An error wraps ErrConfig and shows the URL with the password
// replaced by ***.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		reason := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			reason = ue.Err.Error()
		}
		if p := textualPassword(raw); p != "" {
			reason = strings.ReplaceAll(reason, p, "***")
		}
		return nil, fmt.Errorf("malformed URL %s: %s (percent-encode reserved characters of the password, e.g. @ as %%40): %w", RedactURL(raw), reason, ErrConfig)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("malformed URL %s: want scheme://user:password@host:port/database: %w", RedactURL(raw), ErrConfig)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("malformed URL %s: port %q is outside 1..65535: %w", RedactURL(raw), p, ErrConfig)
		}
	}
	if base, _, ok := strings.Cut(u.Scheme, "+"); ok {
		u.Scheme = base
	}
	return u, nil
}

// RedactURL returns raw with its password replaced by ***. It works on URLs
// that do not parse and on Go driver DSNs (user:pass@tcp(host)/db) too.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil && u.Host != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "***")
			return u.String()
		}
		return raw
	}
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	user := rest[:at]
	if c := strings.Index(user, ":"); c >= 0 {
		user = user[:c] + ":***"
	}
	return prefix + user + rest[at:]
}

// textualPassword finds the password of raw without parsing it, for
// redacting messages about URLs that do not parse.
func textualPassword(raw string) string {
	rest := raw
	if i := strings.Index(raw, "://"); i >= 0 {
		rest = raw[i+3:]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pass, ok := strings.Cut(rest[:at], ":")
	if !ok {
		return ""
	}
	return pass
}

// ConnURL returns the connection URL by DECNET's precedence: URL when set
// (an explicit override or DECNET_DB_URL), else one built from the
// components with the password percent-encoded. scheme and defaultPort fill
// what the components leave out.
func (c Config) ConnURL(scheme string, defaultPort int) (*url.URL, error) {
	if c.URL != "" {
		return ParseURL(c.URL)
	}
	port := c.Port
	if port == 0 {
		port = defaultPort
	}
	host := c.Host
	if host == "" {
		host = DefaultHost
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + c.Name}
	switch {
	case c.Password != "":
		u.User = url.UserPassword(c.User, c.Password)
	case c.User != "":
		u.User = url.User(c.User)
	}
	return u, nil
}
