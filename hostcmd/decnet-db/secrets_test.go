package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestNoPasswordPrintedByDataCommands runs every data command with
// distinctive passwords in the configuration, successfully on SQLite and
// failing against a MySQL server that is not there, and checks that no
// output contains a password.
func TestNoPasswordPrintedByDataCommands(t *testing.T) {
	t.Parallel()
	env, _ := sqliteEnv(t)
	env["DECNET_DB_PASSWORD"] = dbPassword
	env["DECNET_ADMIN_PASSWORD"] = adminPassword
	dir := t.TempDir()
	archive := filepath.Join(dir, "a.jsonl")
	sample := filepath.Join("testdata", "collector.json")
	mysql := map[string]string{
		"DECNET_DB_TYPE":        "mysql",
		"DECNET_DB_URL":         "mysql://decnet:" + urlPassword + "@127.0.0.1:1/decnet",
		"DECNET_ADMIN_PASSWORD": adminPassword,
	}
	runs := []struct {
		env  map[string]string
		args []string
	}{
		{env, []string{"init"}},
		{env, []string{"ingest", "--status-interval", "1ns", sample}},
		{env, []string{"logs", "--json"}},
		{env, []string{"stats"}},
		{env, []string{"histogram"}},
		{env, []string{"bounties"}},
		{env, []string{"attackers"}},
		{env, []string{"state", "list"}},
		{env, []string{"users", "list", "--json"}},
		{env, []string{"export", "--status-interval", "1ns", "--out", archive}},
		{env, []string{"import", archive}},
		{env, []string{"reset"}},
	}
	for _, args := range [][]string{
		{"ingest", sample}, {"logs"}, {"stats"}, {"histogram"}, {"bounties"}, {"attackers"},
		{"state", "get", "k"}, {"users", "list"}, {"export", "--out", archive + ".x"}, {"import", archive},
		{"reset", "--i-know-what-im-doing"},
	} {
		runs = append(runs, struct {
			env  map[string]string
			args []string
		}{mysql, args})
		runs = append(runs, struct {
			env  map[string]string
			args []string
		}{env, append([]string{"--url", "mysql://u:" + urlPassword + "@127.0.0.1:1/x", "--type", "mysql"}, args...)})
	}
	for _, rr := range runs {
		r := runEnv(t, rr.env, rr.args...)
		for _, s := range secretForms() {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("%v: output contains the secret %q\nstdout:\n%s\nstderr:\n%s", rr.args, s, r.stdout, r.stderr)
			}
		}
		if rr.env["DECNET_DB_TYPE"] == "mysql" || rr.args[0] == "--url" {
			if r.code != exitFail {
				t.Errorf("%v: exit code %d, want 1\n%s%s", rr.args, r.code, r.stdout, r.stderr)
			}
			wantOneLineError(t, r)
		}
	}
	b, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secretForms() {
		if strings.Contains(string(b), s) {
			t.Errorf("the archive contains the secret %q", s)
		}
	}
}

// TestNoFlagShadowsAGlobalOne checks that no command defines a flag of
// the same name as a global one (--config, --type, --path, --url): the
// command's would win, and "decnet-db --type mysql bounties" would read
// the SQLite file.
func TestNoFlagShadowsAGlobalOne(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&app{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if root.PersistentFlags().Lookup(f.Name) != nil {
				t.Errorf("%s: --%s shadows the global --%s", c.CommandPath(), f.Name, f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
