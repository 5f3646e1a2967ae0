package testsuite

import (
	"os"
	"testing"
)

// serverURL returns the URL of a test server from the environment
// variable name, or skips the test saying how to run it. With
// DECNET_TEST_REQUIRE_SERVERS set (CI sets it), a missing URL fails the
// test instead.
func serverURL(t testing.TB, name, example string) string {
	t.Helper()
	if u := os.Getenv(name); u != "" {
		return u
	}
	if os.Getenv("DECNET_TEST_REQUIRE_SERVERS") != "" {
		t.Fatalf("DECNET_TEST_REQUIRE_SERVERS is set but %s is empty", name)
	}
	t.Skipf("no server: set %s (e.g. %s) to run this test; see CONTRIBUTING.md", name, example)
	return ""
}

// mysqlURL is the MySQL/MariaDB server of the tests; each test creates and
// drops its own scratch databases on it.
func mysqlURL(t testing.TB) string {
	return serverURL(t, "DECNET_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
}

// postgresURL is the PostgreSQL server of the tests; each test creates and
// drops its own scratch databases on it.
func postgresURL(t testing.TB) string {
	return serverURL(t, "DECNET_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}
