// Package config loads decnet-db's configuration with koanf, in DECNET's
// variable names and meanings, and resolves and redacts connection URLs.
//
// Layers, lowest first: defaults, an optional config file (DECNET_DB_CONFIG,
// TOML or YAML, keys are the variable names without DECNET_ in lower case:
// db_type, db_url, admin_user, ...), the DECNET_* environment, and explicit
// overrides given in code (the command's flags). Drivers never read the
// environment: configuration reaches them as a Config.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// ErrConfig is wrapped by every error about a bad configuration value; the
// message names the variable.
var ErrConfig = errors.New("bad configuration")

// Defaults of the settings, DECNET's.
const (
	DefaultType        = "sqlite"
	DefaultPath        = "decnet.db"
	DefaultHost        = "localhost"
	DefaultName        = "decnet"
	DefaultUser        = "decnet"
	DefaultPoolSize    = 20
	DefaultMaxOverflow = 40
	DefaultPoolRecycle = 3600 * time.Second
	DefaultAdminUser   = "admin"
	// DefaultAdminPassword is DECNET's; the admin must change it at first
	// login (MustChangePassword).
	DefaultAdminPassword = "admin"
)

// Config is the resolved configuration. The zero value is not useful; start
// from Default or Load.
type Config struct {
	// Type is the backend (DECNET_DB_TYPE), lower case: sqlite, mysql, or
	// any registered or plugin type. Default sqlite.
	Type string
	// Path is the SQLite file (DECNET_DB_PATH), or ":memory:". Default
	// decnet.db in the working directory.
	Path string
	// URL is the full connection URL (DECNET_DB_URL); when set it wins over
	// the components below.
	URL string
	// Host, Port, Name, User and Password are the URL's components
	// (DECNET_DB_HOST, _PORT, _NAME, _USER, _PASSWORD). Port 0 means the
	// backend's standard port.
	Host     string
	Port     int
	Name     string
	User     string
	Password string
	// PoolSize is the number of idle connections kept (DECNET_DB_POOL_SIZE,
	// default 20); at most PoolSize+MaxOverflow are open
	// (DECNET_DB_MAX_OVERFLOW, default 40).
	PoolSize    int
	MaxOverflow int
	// PoolRecycle is the longest a connection lives
	// (DECNET_DB_POOL_RECYCLE, seconds, default 3600).
	PoolRecycle time.Duration
	// PoolPrePing (DECNET_DB_POOL_PRE_PING) checks a pooled connection
	// before use; nil leaves the backend's default (on for MySQL, off for
	// SQLite).
	PoolPrePing *bool
	// AdminUser and AdminPassword are the seeded admin's
	// (DECNET_ADMIN_USER, default admin; DECNET_ADMIN_PASSWORD, default admin).
	AdminUser     string
	AdminPassword string
	// PluginDirs are searched for decnet-db-driver-<type> binaries
	// (DECNET_DB_PLUGIN_DIR, a colon-separated list).
	PluginDirs []string
	// PluginSHA256 is the expected SHA-256 of the plugin binary, hex
	// (DECNET_DB_PLUGIN_SHA256); when empty, <binary>.sha256 must exist.
	PluginSHA256 string
	// Tracing turns telemetry on (DECNET_DEVELOPER_TRACING).
	Tracing bool
	// File is the config file that was read, if any (DECNET_DB_CONFIG).
	File string
	// BcryptCost is the cost of the admin's seeded hash; 0 means
	// bcrypt.DefaultCost. Settable in code only (tests lower it).
	BcryptCost int
}

// Default returns the configuration with every default applied.
func Default() Config {
	return Config{
		Type:          DefaultType,
		Path:          DefaultPath,
		Host:          DefaultHost,
		Name:          DefaultName,
		User:          DefaultUser,
		PoolSize:      DefaultPoolSize,
		MaxOverflow:   DefaultMaxOverflow,
		PoolRecycle:   DefaultPoolRecycle,
		AdminUser:     DefaultAdminUser,
		AdminPassword: DefaultAdminPassword,
	}
}

// The variables, by their name in the environment.
const (
	VarConfig        = "DECNET_DB_CONFIG"
	VarType          = "DECNET_DB_TYPE"
	VarPath          = "DECNET_DB_PATH"
	VarURL           = "DECNET_DB_URL"
	VarHost          = "DECNET_DB_HOST"
	VarPort          = "DECNET_DB_PORT"
	VarName          = "DECNET_DB_NAME"
	VarUser          = "DECNET_DB_USER"
	VarPassword      = "DECNET_DB_PASSWORD"
	VarPoolSize      = "DECNET_DB_POOL_SIZE"
	VarMaxOverflow   = "DECNET_DB_MAX_OVERFLOW"
	VarPoolRecycle   = "DECNET_DB_POOL_RECYCLE"
	VarPoolPrePing   = "DECNET_DB_POOL_PRE_PING"
	VarAdminUser     = "DECNET_ADMIN_USER"
	VarAdminPassword = "DECNET_ADMIN_PASSWORD"
	VarPluginDir     = "DECNET_DB_PLUGIN_DIR"
	VarPluginSHA256  = "DECNET_DB_PLUGIN_SHA256"
	VarTracing       = "DECNET_DEVELOPER_TRACING"
)

// Variables lists every variable Load reads, in documentation order.
func Variables() []string {
	return []string{VarType, VarPath, VarURL, VarHost, VarPort, VarName, VarUser, VarPassword,
		VarPoolSize, VarMaxOverflow, VarPoolRecycle, VarPoolPrePing, VarAdminUser, VarAdminPassword,
		VarPluginDir, VarPluginSHA256, VarTracing, VarConfig}
}

// keyOf turns a variable name into its koanf key: DECNET_DB_TYPE -> db_type.
func keyOf(v string) string { return strings.ToLower(strings.TrimPrefix(v, "DECNET_")) }

// varOf turns a koanf key back into the variable name for messages.
func varOf(k string) string { return "DECNET_" + strings.ToUpper(k) }

// Options tune Load.
type Options struct {
	// Environ returns the environment as KEY=value strings; nil means
	// os.Environ. Tests inject their own.
	Environ func() []string
	// File is the config file to read; empty means DECNET_DB_CONFIG from
	// Overrides, then from the environment, and no file when that is empty
	// too.
	File string
	// Overrides win over every other layer, keyed by variable name
	// (DECNET_DB_URL) or key (db_url), in any case. Empty strings are
	// ignored, so that an unset flag does not hide the environment.
	Overrides map[string]string
}

// Load reads the configuration: defaults < config file < DECNET_*
// environment < overrides. A variable that is set but empty (blank, except
// for the passwords) counts as unset in every layer, so that
// DECNET_DB_PATH= does not replace decnet.db by "". An error wraps ErrConfig
// and names the variable; it never contains a password. Several bad values
// are reported together.
func Load(opts Options) (Config, error) {
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ
	}
	ko := koanf.New(".")
	if err := ko.Load(confmap.Provider(defaultMap(), "."), nil); err != nil {
		return Config{}, fmt.Errorf("config: defaults: %w", err)
	}

	over := map[string]any{}
	var errs []error
	for _, k := range sortedKeys(opts.Overrides) {
		v := opts.Overrides[k]
		key := strings.ToLower(k)
		if strings.HasPrefix(key, "decnet_") {
			key = keyOf(strings.ToUpper(k))
		}
		if !known(key) {
			errs = append(errs, fmt.Errorf("config: unknown override %q: %w", k, ErrConfig))
			continue
		}
		if unset(key, v) {
			continue
		}
		over[key] = v
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}

	envMap := map[string]string{}
	for _, kv := range environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			envMap[k] = v
		}
	}
	path := opts.File
	if path == "" {
		path, _ = over[keyOf(VarConfig)].(string)
	}
	if path == "" {
		path = strings.TrimSpace(envMap[VarConfig])
	}
	delete(over, keyOf(VarConfig))
	if path != "" {
		if err := loadFile(ko, path); err != nil {
			return Config{}, err
		}
	}

	err := ko.Load(env.Provider(".", env.Opt{
		Prefix:      "DECNET_",
		EnvironFunc: environ,
		TransformFunc: func(k, v string) (string, any) {
			key := keyOf(k)
			if !strings.HasPrefix(k, "DECNET_") || k == VarConfig || !known(key) || unset(key, v) {
				return "", nil
			}
			return key, v
		},
	}), nil)
	if err != nil {
		return Config{}, fmt.Errorf("config: environment: %w", err)
	}

	if err := ko.Load(confmap.Provider(over, "."), nil); err != nil {
		return Config{}, fmt.Errorf("config: overrides: %w", err)
	}

	cfg, err := fromKoanf(ko)
	if err != nil {
		return Config{}, err
	}
	cfg.File = path
	return cfg, nil
}

// loadFile merges the config file at path into ko. Every unknown key is
// reported; a list is accepted for db_plugin_dir only; empty values count
// as unset.
func loadFile(ko *koanf.Koanf, path string) error {
	var parser koanf.Parser
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		parser = toml.Parser()
	case ".yaml", ".yml":
		parser = yaml.Parser()
	default:
		return fmt.Errorf("config: %s %q: the extension must be .toml, .yaml or .yml: %w", VarConfig, path, ErrConfig)
	}
	fk := koanf.New(".")
	if err := fk.Load(file.Provider(path), parser); err != nil {
		return fmt.Errorf("config: %s %q: %w: %w", VarConfig, path, ErrConfig, err)
	}
	var errs []error
	vals := map[string]any{}
	for _, k := range fk.Keys() {
		if !known(k) || k == keyOf(VarConfig) {
			errs = append(errs, fmt.Errorf("config: %s %q: unknown key %q (keys are the variable names without DECNET_, lower case): %w", VarConfig, path, k, ErrConfig))
			continue
		}
		v := fk.Get(k)
		if list, ok := v.([]any); ok {
			if k != keyOf(VarPluginDir) {
				errs = append(errs, fmt.Errorf("config: %s %q: %s: a list is not allowed here: %w", VarConfig, path, varOf(k), ErrConfig))
				continue
			}
			parts := make([]string, 0, len(list))
			for _, d := range list {
				parts = append(parts, fmt.Sprint(d))
			}
			v = strings.Join(parts, ":")
		}
		if v == nil {
			continue
		}
		if s, ok := v.(string); ok && unset(k, s) {
			continue
		}
		vals[k] = v
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := ko.Load(confmap.Provider(vals, "."), nil); err != nil {
		return fmt.Errorf("config: %s %q: %w", VarConfig, path, err)
	}
	return nil
}

// known reports whether key is the key of one of Variables.
func known(key string) bool {
	for _, v := range Variables() {
		if keyOf(v) == key {
			return true
		}
	}
	return false
}

// unset reports whether v, the value of key, counts as not set: empty for a
// password (spaces are a password's own), blank for anything else.
func unset(key, v string) bool {
	if key == keyOf(VarPassword) || key == keyOf(VarAdminPassword) {
		return v == ""
	}
	return strings.TrimSpace(v) == ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func defaultMap() map[string]any {
	d := Default()
	return map[string]any{
		keyOf(VarType):          d.Type,
		keyOf(VarPath):          d.Path,
		keyOf(VarHost):          d.Host,
		keyOf(VarName):          d.Name,
		keyOf(VarUser):          d.User,
		keyOf(VarPoolSize):      strconv.Itoa(d.PoolSize),
		keyOf(VarMaxOverflow):   strconv.Itoa(d.MaxOverflow),
		keyOf(VarPoolRecycle):   strconv.Itoa(int(d.PoolRecycle / time.Second)),
		keyOf(VarAdminUser):     d.AdminUser,
		keyOf(VarAdminPassword): d.AdminPassword,
	}
}

// fromKoanf converts the merged layers to a Config, checking each value.
func fromKoanf(ko *koanf.Koanf) (Config, error) {
	str := func(v string) string {
		x := ko.Get(keyOf(v))
		if x == nil {
			return ""
		}
		return strings.TrimSpace(fmt.Sprint(x))
	}
	var errs []error
	integer := func(v string, lo, hi int) int {
		s := str(v)
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %q is not a whole number: %w", v, s, ErrConfig))
			return 0
		}
		if n < lo || n > hi {
			errs = append(errs, fmt.Errorf("config: %s: %d is outside %d..%d: %w", v, n, lo, hi, ErrConfig))
			return 0
		}
		return n
	}
	boolean := func(v string) *bool {
		s := str(v)
		if s == "" {
			return nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %q is not true or false: %w", v, s, ErrConfig))
			return nil
		}
		return &b
	}

	// In documentation order, so that errors are too.
	cfg := Config{
		Type:          strings.ToLower(str(VarType)),
		Path:          str(VarPath),
		URL:           str(VarURL),
		Host:          str(VarHost),
		Port:          integer(VarPort, 1, 65535),
		Name:          str(VarName),
		User:          str(VarUser),
		Password:      rawStr(ko, VarPassword),
		PoolSize:      integer(VarPoolSize, 0, 100000),
		MaxOverflow:   integer(VarMaxOverflow, 0, 100000),
		PoolRecycle:   time.Duration(integer(VarPoolRecycle, 0, 1<<31-1)) * time.Second,
		PoolPrePing:   boolean(VarPoolPrePing),
		AdminUser:     str(VarAdminUser),
		AdminPassword: rawStr(ko, VarAdminPassword),
	}
	for _, d := range strings.Split(str(VarPluginDir), ":") {
		if d = strings.TrimSpace(d); d != "" {
			cfg.PluginDirs = append(cfg.PluginDirs, d)
		}
	}
	cfg.PluginSHA256 = strings.ToLower(str(VarPluginSHA256))
	if cfg.PluginSHA256 != "" && !IsSHA256Hex(cfg.PluginSHA256) {
		errs = append(errs, fmt.Errorf("config: %s: not 64 hexadecimal digits: %w", VarPluginSHA256, ErrConfig))
	}
	if t := boolean(VarTracing); t != nil {
		cfg.Tracing = *t
	}
	if cfg.Type == "" {
		cfg.Type = DefaultType
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// rawStr returns a value without trimming: passwords may have spaces.
func rawStr(ko *koanf.Koanf, v string) string {
	x := ko.Get(keyOf(v))
	if x == nil {
		return ""
	}
	return fmt.Sprint(x)
}

// IsSHA256Hex reports whether s is a SHA-256 digest in lower-case hex.
func IsSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// MaxOpen is the most connections a pool opens: PoolSize + MaxOverflow, at
// least 1.
func (c Config) MaxOpen() int { return max(1, c.PoolSize+c.MaxOverflow) }

// PrePing returns PoolPrePing, or def when it is unset.
func (c Config) PrePing(def bool) bool {
	if c.PoolPrePing == nil {
		return def
	}
	return *c.PoolPrePing
}

// String shows the configuration with every password replaced by ***.
func (c Config) String() string {
	var b strings.Builder
	for _, kv := range c.Fields() {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	return b.String()
}

// Fields returns the configuration as variable/value pairs in documentation
// order, passwords replaced by ***. Unset values are empty.
func (c Config) Fields() [][2]string {
	prePing := ""
	if c.PoolPrePing != nil {
		prePing = strconv.FormatBool(*c.PoolPrePing)
	}
	port := ""
	if c.Port != 0 {
		port = strconv.Itoa(c.Port)
	}
	return [][2]string{
		{VarType, c.Type},
		{VarPath, c.Path},
		{VarURL, RedactURL(c.URL)},
		{VarHost, c.Host},
		{VarPort, port},
		{VarName, c.Name},
		{VarUser, c.User},
		{VarPassword, mask(c.Password)},
		{VarPoolSize, strconv.Itoa(c.PoolSize)},
		{VarMaxOverflow, strconv.Itoa(c.MaxOverflow)},
		{VarPoolRecycle, strconv.Itoa(int(c.PoolRecycle / time.Second))},
		{VarPoolPrePing, prePing},
		{VarAdminUser, c.AdminUser},
		{VarAdminPassword, mask(c.AdminPassword)},
		{VarPluginDir, strings.Join(c.PluginDirs, ":")},
		{VarPluginSHA256, c.PluginSHA256},
		{VarTracing, strconv.FormatBool(c.Tracing)},
		{VarConfig, c.File},
	}
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// Redact replaces every password of c in s with ***: DECNET_DB_PASSWORD,
// DECNET_ADMIN_PASSWORD and the password of URL (user info or a password
// query parameter), each as given, as written in URL, and percent-encoded
// (query, path and user info forms). Code that puts a URL, a DSN or a
// driver's message into an error passes it through Redact.
func (c Config) Redact(s string) string {
	for _, p := range c.secrets() {
		s = strings.ReplaceAll(s, p, "***")
	}
	return s
}

// secrets returns the forms of every password, longest first so that an
// encoded form is not half-replaced, without duplicates or empty strings.
func (c Config) secrets() []string {
	var plain []string
	admin := c.AdminPassword
	if admin == DefaultAdminPassword {
		// DECNET's default is public; masking it would turn every "admin"
		// in a message into ***.
		admin = ""
	}
	for _, p := range append([]string{c.Password, admin}, urlSecrets(c.URL)...) {
		if p != "" {
			plain = append(plain, p)
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range plain {
		for _, f := range []string{p, url.QueryEscape(p), url.PathEscape(p), url.UserPassword("", p).String()[1:]} {
			if f != "" && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
