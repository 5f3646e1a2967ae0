package testsuite

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/decnet/decnet-db/core/registry"
)

// TestPluginCommand drives a plugin with the real command: drivers lists
// it with its path, protocol versions and checksum status (and a binary
// without checksum as refused, a file that cannot be run with the reason),
// and init, doctor and conformance work through it.
func TestPluginCommand(t *testing.T) {
	bin := commandBinary(t)
	dir, path := installPlugin(t, examplePlugin.build(t), "example", true)
	unchecked := filepath.Join(dir, registry.PluginPrefix+"unchecked")
	copyFile(t, path, unchecked)
	noexec := filepath.Join(dir, registry.PluginPrefix+"noexec")
	writeFile(t, noexec, "#!/bin/sh\n")
	work := t.TempDir()
	typ := "example"
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DECNET_DB_TYPE=" + typ, "DECNET_DB_PLUGIN_DIR=" + dir,
			"DECNET_DB_PATH=" + filepath.Join(work, "plugin.db"), "DECNET_ADMIN_PASSWORD=plugin-cmd-pw"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("decnet-db %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("drivers")
	for _, re := range []string{
		`(?m)^example\s+` + regexp.QuoteMeta(path) + `\s+configured, protocols 1, checksum ok$`,
		`(?m)^unchecked\s+` + regexp.QuoteMeta(unchecked) + `\s+checksum missing, .*sha256sum`,
		`(?m)^sqlite\s+built-in\s+default$`,
		`(?m)^noexec\s+` + regexp.QuoteMeta(noexec) + `\s+checksum missing, is not executable \(chmod \+x it\)`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("drivers output does not match %s:\n%s", re, out)
		}
	}
	// Configured, the file that cannot be run is the configured entry
	// (Open finds it and says why it refuses it), not "not found".
	typ = "noexec"
	out = run("drivers")
	if re := `(?m)^noexec\s+` + regexp.QuoteMeta(noexec) + `\s+configured, checksum missing, is not executable`; !regexp.MustCompile(re).MatchString(out) ||
		regexp.MustCompile(`not found`).MatchString(out) {
		t.Errorf("drivers with the file that cannot be run configured:\n%s", out)
	}
	typ = "example"
	run("init")
	if out := run("doctor"); !regexp.MustCompile(`(?m)^\s*logs\s+0$`).MatchString(out) {
		t.Errorf("doctor through the plugin:\n%s", out)
	}
	if out := run("conformance", "--run", "bounty"); !regexp.MustCompile(`checks, 0 failed`).MatchString(out) {
		t.Errorf("conformance through the plugin:\n%s", out)
	}
}
