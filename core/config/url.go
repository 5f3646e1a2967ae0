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
// characters: a URL whose password spills into the host, path, query or
// fragment (an unescaped /, ?, # or %) is an error, not a wrong host. An
// error wraps ErrConfig and shows the URL with the password replaced by ***;
// it never contains the password or a piece of it.
func ParseURL(raw string) (*url.URL, error) {
	const hint = "percent-encode reserved characters of the password: @ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25"
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed URL %s: %s (%s): %w", RedactURL(raw), parseReason(raw, err), hint, ErrConfig)
	}
	if u.Scheme == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("malformed URL %s: want scheme://user:password@host:port/database: %w", RedactURL(raw), ErrConfig)
	}
	if misplacedUserinfo(u) {
		return nil, fmt.Errorf("malformed URL %s: '@' after the host (%s): %w", RedactURL(raw), hint, ErrConfig)
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

// parseReason is net/url's reason for rejecting raw. Its quoted details
// (`invalid port ":pw" after host`, `invalid URL escape "%ss"`) can be
// pieces of the password, so they are dropped when raw has user info.
func parseReason(raw string, err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return "the URL does not parse"
	}
	reason := ue.Err.Error()
	if !strings.Contains(raw, "@") {
		return reason
	}
	var b strings.Builder
	for i := 0; i < len(reason); {
		if reason[i] == '"' {
			if q, err := strconv.QuotedPrefix(reason[i:]); err == nil {
				i += len(q)
				continue
			}
			return strings.TrimSpace(b.String())
		}
		b.WriteByte(reason[i])
		i++
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// misplacedUserinfo reports whether an '@' follows the host: the sign of a
// password with an unescaped '/', '?' or '#' that net/url cut short, so
// that a piece of the password became the host, path, query or fragment.
func misplacedUserinfo(u *url.URL) bool {
	return strings.Contains(u.Opaque, "@") ||
		strings.Contains(u.EscapedPath(), "@") ||
		strings.Contains(u.EscapedFragment(), "@") ||
		(u.Path == "" && strings.Contains(u.RawQuery, "@"))
}

// RedactURL returns raw with its password replaced by ***, and the values
// of password query parameters (password, passwd, pwd, pass, sslpassword)
// too; the rest of raw is unchanged, byte for byte. It works on URLs that
// do not parse (everything between the first ':' of the user info and the
// last '@' is masked) and on Go driver DSNs (user:pass@tcp(host)/db).
// A string without credentials is returned as is.
func RedactURL(raw string) string {
	spans := secretSpans(raw)
	if len(spans) == 0 {
		return raw
	}
	var b strings.Builder
	last := 0
	for _, s := range spans {
		b.WriteString(raw[last:s[0]])
		b.WriteString("***")
		last = s[1]
	}
	b.WriteString(raw[last:])
	return b.String()
}

// secretParams are the query parameters that carry a password.
var secretParams = []string{"password", "passwd", "pwd", "pass", "sslpassword"}

// secretSpans returns where the secrets of raw are, as [start, end) byte
// offsets in ascending order: the password of the user info, then the
// values of password query parameters.
func secretSpans(raw string) [][2]int {
	var spans [][2]int
	from := 0
	if s, e, ok := passwordSpan(raw); ok {
		if s < e { // an empty password stays visibly empty
			spans = append(spans, [2]int{s, e})
		}
		from = e
	}
	tail := raw[from:]
	q := strings.Index(tail, "?")
	if q < 0 {
		return spans
	}
	start := from + q + 1
	query := raw[start:]
	if h := strings.Index(query, "#"); h >= 0 {
		query = query[:h]
	}
	off := start
	for _, param := range strings.Split(query, "&") {
		name, _, ok := strings.Cut(param, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		for _, p := range secretParams {
			if ok && strings.EqualFold(name, p) && len(param) > len(name)+1 {
				eq := strings.Index(param, "=")
				spans = append(spans, [2]int{off + eq + 1, off + len(param)})
				break
			}
		}
		off += len(param) + 1
	}
	return spans
}

// passwordSpan locates the password of the user info of raw, as written
// (percent-encoded or not): raw[start:end]. A URL that parses cleanly is
// read as net/url reads it; one that does not is read up to its last '@';
// a DSN (no scheme://) as go-sql-driver/mysql reads it, up to the last '@'
// before the last '/'.
func passwordSpan(raw string) (start, end int, ok bool) {
	off, rest := 0, raw
	isURL := false
	if i := strings.Index(raw, "://"); i > 0 && validScheme(raw[:i]) {
		off, rest, isURL = i+3, raw[i+3:], true
	}
	var at int
	switch {
	case isURL && parsesCleanly(raw):
		auth := rest
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			auth = rest[:j]
		}
		at = strings.LastIndex(auth, "@")
	case isURL:
		at = strings.LastIndex(rest, "@")
	default:
		head := rest
		if s := strings.LastIndex(rest, "/"); s > 0 {
			head = rest[:s]
		}
		at = strings.LastIndex(head, "@")
	}
	if at < 0 {
		return 0, 0, false
	}
	c := strings.Index(rest[:at], ":")
	if c < 0 {
		return 0, 0, false
	}
	return off + c + 1, off + at, true
}

func parsesCleanly(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && !misplacedUserinfo(u)
}

// validScheme reports whether s is an RFC 3986 scheme.
func validScheme(s string) bool {
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// urlSecrets returns the secrets of a URL or DSN as written in it and
// decoded, for Config.Redact.
func urlSecrets(raw string) []string {
	var out []string
	add := func(v string, unescape func(string) (string, error)) {
		out = append(out, v)
		if d, err := unescape(v); err == nil && d != v {
			out = append(out, d)
		}
	}
	spans := secretSpans(raw)
	if s, e, ok := passwordSpan(raw); ok && s < e {
		s := spans[0]
		add(raw[s[0]:s[1]], url.PathUnescape) // user info: '+' is a plus
		spans = spans[1:]
	}
	for _, s := range spans {
		add(raw[s[0]:s[1]], url.QueryUnescape)
	}
	return out
}

// ConnURL returns the connection URL by DECNET's precedence: URL when set
// (an explicit override or DECNET_DB_URL, checked by ParseURL), else one
// built from the components with the user and password percent-encoded.
// scheme and defaultPort fill what the components leave out: Port 0 means
// defaultPort, and with both 0 the URL has no port; an empty Host means
// localhost.
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
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1] // an IPv6 literal given in brackets
	}
	hostport := host
	if port != 0 {
		hostport = net.JoinHostPort(host, strconv.Itoa(port))
	} else if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	u := &url.URL{Scheme: scheme, Host: hostport, Path: "/" + c.Name}
	switch {
	case c.Password != "":
		u.User = url.UserPassword(c.User, c.Password)
	case c.User != "":
		u.User = url.User(c.User)
	}
	return u, nil
}
