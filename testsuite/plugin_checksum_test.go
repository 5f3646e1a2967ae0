package testsuite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/plugin"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// TestPluginChecksum checks that the host starts a plugin only when its
// SHA-256 is the expected one, from <binary>.sha256 or
// DECNET_DB_PLUGIN_SHA256, and says what is wrong otherwise.
func TestPluginChecksum(t *testing.T) {
	bin := probePlugin.build(t)
	const wrong = "0000000000000000000000000000000000000000000000000000000000000000"
	for _, c := range []struct {
		name string
		// file is the content of the .sha256 file: "" for none, "ok" for
		// the binary's digest as sha256sum writes it.
		file string
		env  string // DECNET_DB_PLUGIN_SHA256: "ok" for the digest
		// want are the substrings of the error; none means Open works.
		want []string
		// mismatch: the error is a *plugin.ChecksumError expecting wrong.
		mismatch bool
	}{
		{name: "file", file: "ok"},
		{name: "file_digest_only", file: "digest-only"},
		{name: "env", env: "ok"},
		{name: "env_wins_over_a_wrong_file", file: wrong, env: "ok"},
		{name: "missing", want: []string{"checksum missing", registry.ChecksumSuffix, config.VarPluginSHA256, "sha256sum decnet-db-driver-probe > decnet-db-driver-probe.sha256", "refusing to start"}},
		{name: "file_mismatch", file: wrong, want: []string{"checksum mismatch", "expected SHA-256 " + wrong, registry.ChecksumSuffix + ")", "the file has", "refusing to start"}, mismatch: true},
		{name: "env_mismatch", file: "ok", env: wrong, want: []string{"checksum mismatch", "expected SHA-256 " + wrong, "(from " + config.VarPluginSHA256 + ")"}, mismatch: true},
		{name: "file_malformed", file: "not a digest", want: []string{registry.ChecksumSuffix, "not a SHA-256 digest"}},
		{name: "file_of_another_binary", file: "other", want: []string{"checksum of \"decnet-db-driver-other\", not of \"decnet-db-driver-probe\""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, path := installPlugin(t, bin, "probe", false)
			digest := fileSHA256(t, path)
			switch c.file {
			case "":
			case "ok":
				writeChecksum(t, path, digest)
			case "digest-only":
				writeFile(t, path+registry.ChecksumSuffix, digest+"\n")
			case "other":
				writeFile(t, path+registry.ChecksumSuffix, digest+"  decnet-db-driver-other\n")
			default:
				writeFile(t, path+registry.ChecksumSuffix, c.file+"\n")
			}
			cfg := pluginConfig("probe", dir)
			cfg.Path = filepath.Join(t.TempDir(), "db")
			switch c.env {
			case "":
			case "ok":
				cfg.PluginSHA256 = digest
			default:
				cfg.PluginSHA256 = c.env
			}
			if len(c.want) == 0 {
				r, err := registry.Open(t.Context(), cfg)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer r.Close()
				if err := r.Ping(t.Context()); err != nil {
					t.Errorf("ping: %v", err)
				}
				return
			}
			err := openRefused(t, t.Context(), cfg, fmt.Sprintf("one saying %q", c.want))
			if !errors.Is(err, registry.ErrChecksum) {
				t.Errorf("error %q does not wrap registry.ErrChecksum", err)
			}
			errorSays(t, err, c.want...)
			if c.mismatch {
				var ce *plugin.ChecksumError
				if !errors.As(err, &ce) || ce.Actual != digest || ce.Expected != wrong {
					t.Errorf("error %v: want a *plugin.ChecksumError expecting %s, actual %s", err, wrong, digest)
				}
			}
		})
	}
}

// TestPluginChecksumRefusesToStart checks that a binary whose checksum is
// wrong or missing never runs: the binary is a script that leaves a mark
// when it runs. With its checksum right it does run (and fails the
// handshake), which proves the mark would show.
func TestPluginChecksumRefusesToStart(t *testing.T) {
	for _, c := range []struct {
		name     string
		checksum string // "ok", "wrong" or "" (none)
		runs     bool
	}{
		{"checksum_ok", "ok", true},
		{"checksum_wrong", "wrong", false},
		{"checksum_missing", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			mark := filepath.Join(dir, "ran")
			path := filepath.Join(dir, registry.PluginPrefix+"script")
			if err := os.WriteFile(path, []byte("#!/bin/sh\n: > '"+mark+"'\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			switch c.checksum {
			case "ok":
				writeChecksum(t, path, fileSHA256(t, path))
			case "wrong":
				writeChecksum(t, path, strings.Repeat("ab", 32))
			}
			err := openRefused(t, t.Context(), pluginConfig("script", dir), "one")
			_, statErr := os.Stat(mark)
			if ran := statErr == nil; ran != c.runs {
				t.Errorf("the binary ran: %v, want %v (open: %v)", ran, c.runs, err)
			}
			if c.runs && !strings.Contains(err.Error(), "before the handshake") {
				t.Errorf("error %q: want it to say the plugin exited before the handshake", err)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPluginUnknownType checks the error for a type that is neither built
// in nor a plugin: it lists the built-in drivers and the directories
// searched.
func TestPluginUnknownType(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	_, err := registry.Open(t.Context(), pluginConfig("nosuch", d1, d2))
	if !errors.Is(err, repository.ErrUnknownDriver) {
		t.Fatalf("open: %v, want ErrUnknownDriver", err)
	}
	errorSays(t, err, `"nosuch"`, "sqlite", "decnet-db-driver-nosuch", d1, d2)
	_, err = registry.Open(t.Context(), pluginConfig("nosuch"))
	if err == nil || !strings.Contains(err.Error(), config.VarPluginDir) {
		t.Errorf("open without plugin directories: %v; want it to name %s", err, config.VarPluginDir)
	}
}

// TestPluginNotExecutable checks that a plugin file that cannot be run is
// reported, not silently skipped.
func TestPluginNotExecutable(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, registry.PluginPrefix+"noexec"), "#!/bin/sh\n")
	_, err := registry.Open(t.Context(), pluginConfig("noexec", dir))
	if err == nil || !strings.Contains(err.Error(), "not executable") {
		t.Errorf("open: %v, want an error saying the plugin is not executable", err)
	}
}

// TestPluginsList checks registry.Plugins, what `decnet-db drivers` shows,
// a file that cannot be run included.
func TestPluginsList(t *testing.T) {
	bin := probePlugin.build(t)
	d1, okPath := installPlugin(t, bin, "probe", true)
	badPath := filepath.Join(d1, registry.PluginPrefix+"bad")
	copyFile(t, bin, badPath)
	writeChecksum(t, badPath, strings.Repeat("0", 64))
	nosumPath := filepath.Join(d1, registry.PluginPrefix+"nosum")
	copyFile(t, bin, nosumPath)
	noexecPath := filepath.Join(d1, registry.PluginPrefix+"noexec")
	writeFile(t, noexecPath, "#!/bin/sh\n")
	writeFile(t, filepath.Join(d1, "unrelated"), "")
	d2, shadowedPath := installPlugin(t, bin, "probe", true)
	builtinPath := filepath.Join(d2, registry.PluginPrefix+"sqlite")
	copyFile(t, bin, builtinPath)
	writeChecksum(t, builtinPath, fileSHA256(t, builtinPath))

	got := registry.Plugins(pluginConfig("sqlite", d1, d2, filepath.Join(d1, "absent")))
	type row struct {
		Type, Path, Checksum string
		Protocols            []int
		Shadowed             bool
	}
	var rows []row
	for _, p := range got {
		rows = append(rows, row{p.Type, p.Path, p.Checksum, p.Protocols, p.Shadowed})
		if p.Name != registry.PluginPrefix+p.Type {
			t.Errorf("%s: name %q", p.Path, p.Name)
		}
		if (p.Checksum == registry.ChecksumOK) != (p.Err == "") && len(p.Protocols) > 0 {
			t.Errorf("%s: checksum %s with error %q", p.Path, p.Checksum, p.Err)
		}
	}
	want := []row{
		{"bad", badPath, registry.ChecksumMismatch, nil, false},
		{"noexec", noexecPath, registry.ChecksumMissing, nil, false},
		{"nosum", nosumPath, registry.ChecksumMissing, nil, false},
		{"probe", okPath, registry.ChecksumOK, plugin.Protocols, false},
		{"probe", shadowedPath, registry.ChecksumOK, plugin.Protocols, true},
		{"sqlite", builtinPath, registry.ChecksumOK, plugin.Protocols, true},
	}
	if !slices.EqualFunc(rows, want, func(a, b row) bool {
		return a.Type == b.Type && a.Path == b.Path && a.Checksum == b.Checksum && slices.Equal(a.Protocols, b.Protocols) && a.Shadowed == b.Shadowed
	}) {
		t.Errorf("Plugins:\n got %+v\nwant %+v", rows, want)
	}
	for _, p := range got {
		if p.Type == "nosum" && !strings.Contains(p.Err, "sha256sum") {
			t.Errorf("missing checksum: error %q does not say how to make it", p.Err)
		}
		if p.Type == "bad" && !strings.Contains(p.Err, fileSHA256(t, badPath)) {
			t.Errorf("mismatch: error %q does not give the actual digest", p.Err)
		}
		if p.Runnable != (p.Type != "noexec") {
			t.Errorf("%s: runnable %v", p.Path, p.Runnable)
		}
		if p.Type == "noexec" && !strings.Contains(p.Err, "not executable (chmod +x it)") {
			t.Errorf("not executable: error %q does not say so", p.Err)
		}
	}
}
