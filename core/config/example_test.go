package config_test

import (
	"errors"
	"fmt"

	"github.com/decnet/decnet-db/core/config"
)

// Load merges defaults, an optional config file, the DECNET_* environment
// and explicit overrides. Tests inject the environment with Environ.
func ExampleLoad() {
	cfg, err := config.Load(config.Options{
		Environ: func() []string {
			return []string{
				"DECNET_DB_TYPE=MySQL",
				"DECNET_DB_URL=mysql+asyncmy://decnet:p%40ss@db.internal:3306/decnet",
				"DECNET_DB_POOL_SIZE=10",
				"DECNET_ADMIN_PASSWORD=change me",
			}
		},
		// A flag given on the command line wins; an empty one is ignored.
		Overrides: map[string]string{config.VarPath: "", "db_max_overflow": "5"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Type, cfg.PoolSize, cfg.MaxOverflow, cfg.MaxOpen(), cfg.PoolRecycle, cfg.PrePing(true))
	u, _ := cfg.ConnURL("mysql", 3306)
	p, _ := u.User.Password()
	fmt.Println(u.Scheme, u.Host, p)
	for _, kv := range cfg.Fields()[:4] {
		fmt.Printf("%s=%s\n", kv[0], kv[1])
	}
	fmt.Println(cfg.Fields()[13])

	_, err = config.Load(config.Options{Environ: func() []string {
		return []string{"DECNET_DB_PORT=70000", "DECNET_DB_POOL_PRE_PING=maybe", "DECNET_DB_PASSWORD=s3cr3t"}
	}})
	fmt.Println(errors.Is(err, config.ErrConfig))
	fmt.Println(err)
	// Output:
	// mysql 10 5 15 1h0m0s true
	// mysql db.internal:3306 p@ss
	// DECNET_DB_TYPE=mysql
	// DECNET_DB_PATH=decnet.db
	// DECNET_DB_URL=mysql+asyncmy://decnet:***@db.internal:3306/decnet
	// DECNET_DB_HOST=localhost
	// [DECNET_ADMIN_PASSWORD ***]
	// true
	// config: DECNET_DB_PORT: 70000 is outside 1..65535: bad configuration
	// config: DECNET_DB_POOL_PRE_PING: "maybe" is not true or false: bad configuration
}

// RedactURL hides the password of URLs, of URLs that do not parse, and of
// Go driver DSNs; strings without credentials come back unchanged.
func ExampleRedactURL() {
	fmt.Println(config.RedactURL("mysql://decnet:s3cr3t@db.internal:3306/decnet"))
	fmt.Println(config.RedactURL("mysql+asyncmy://decnet:p%40ss%3Aw%2Frd@db:3306/decnet"))
	fmt.Println(config.RedactURL("mysql://decnet:50%off@db/decnet")) // unescaped %: does not parse
	fmt.Println(config.RedactURL("decnet:p@ss@tcp(db:3306)/decnet?parseTime=true"))
	fmt.Println(config.RedactURL("postgres://decnet@db/decnet?password=s3cr3t&sslmode=disable"))
	fmt.Println(config.RedactURL("postgres://db:5432/decnet"))
	fmt.Println(config.RedactURL("decnet.db"))
	// Output:
	// mysql://decnet:***@db.internal:3306/decnet
	// mysql+asyncmy://decnet:***@db:3306/decnet
	// mysql://decnet:***@db/decnet
	// decnet:***@tcp(db:3306)/decnet?parseTime=true
	// postgres://decnet@db/decnet?password=***&sslmode=disable
	// postgres://db:5432/decnet
	// decnet.db
}

// ParseURL accepts DECNET's Python URLs and decodes the password; its
// errors show the URL redacted.
func ExampleParseURL() {
	u, err := config.ParseURL("postgresql+asyncpg://decnet:p%40ss%3Aw%2Frd@db:5432/decnet")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := u.User.Password()
	fmt.Println(u.Scheme, u.Hostname(), u.Port(), p)

	_, err = config.ParseURL("mysql://decnet:s3cr3t@db:99999/decnet")
	fmt.Println(err)
	// Output:
	// postgresql db 5432 p@ss:w/rd
	// malformed URL mysql://decnet:***@db:99999/decnet: port "99999" is outside 1..65535: bad configuration
}

// ConnURL builds the URL from the components, percent-encoding the
// password, unless a full URL is configured.
func ExampleConfig_ConnURL() {
	cfg := config.Default()
	cfg.Host, cfg.Password = "db.internal", "p@ss:w/rd"
	u, _ := cfg.ConnURL("mysql", 3306)
	fmt.Println(u)
	fmt.Println(config.RedactURL(u.String()))
	// Output:
	// mysql://decnet:p%40ss%3Aw%2Frd@db.internal:3306/decnet
	// mysql://decnet:***@db.internal:3306/decnet
}

// Redact hides every configured password, in any encoding, in a message.
func ExampleConfig_Redact() {
	cfg := config.Config{Password: "p@ss word", URL: "mysql://u:t0k%2Fen@h/db"}
	fmt.Println(cfg.Redact("login p@ss word / p%40ss%20word / p%40ss+word failed; dsn u:t0k/en@tcp(h)/db"))
	// Output:
	// login *** / *** / *** failed; dsn u:***@tcp(h)/db
}
