package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decnet/decnet-db/core/config"
)

const digest = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"

// TestReadChecksumFile checks the formats of <binary>.sha256 accepted and
// refused.
func TestReadChecksumFile(t *testing.T) {
	for _, c := range []struct {
		name, content string
		ok            bool
	}{
		{"sha256sum", digest + "  decnet-db-driver-x\n", true},
		{"binary_mode", digest + " *decnet-db-driver-x\n", true},
		{"path", digest + "  /opt/plugins/decnet-db-driver-x\n", true},
		{"digest_only", digest, true},
		{"upper_case", strings.ToUpper(digest) + "\n", true},
		{"blank_lines_first", "\n\n  " + digest + "\n", true},
		{"other_binary", digest + "  decnet-db-driver-y\n", false},
		{"short", digest[:63] + "\n", false},
		{"not_hex", strings.Repeat("z", 64) + "\n", false},
		{"empty", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "decnet-db-driver-x.sha256")
			if err := os.WriteFile(file, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readChecksumFile(file, "decnet-db-driver-x")
			if c.ok {
				if err != nil || got != digest {
					t.Errorf("readChecksumFile = %q, %v; want %q", got, err, digest)
				}
				return
			}
			if !errors.Is(err, ErrChecksum) {
				t.Errorf("readChecksumFile = %q, %v; want an error wrapping ErrChecksum", got, err)
			}
		})
	}
}

// TestLookPluginNames checks that a type is a file name in a plugin
// directory, never a path.
func TestLookPluginNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"x", "../x", "sub/x"} {
		p := filepath.Join(dir, PluginPrefix+name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		found bool
	}{{"x", true}, {"../x", false}, {"sub/x", false}, {"", false}, {"..", false}} {
		path, err := lookPlugin([]string{filepath.Join(dir, "absent"), dir}, c.name)
		if err != nil || (path != "") != c.found {
			t.Errorf("lookPlugin(%q) = %q, %v; want found %v", c.name, path, err, c.found)
		}
	}
}

// TestExpectedSHA256 checks where the expected digest comes from: the
// variable wins over the file, and without either the error says how to
// make the file.
func TestExpectedSHA256(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, PluginPrefix+"x")
	cfg := config.Default()
	_, _, err := expectedSHA256(cfg, bin)
	var ce *checksumError
	if !errors.As(err, &ce) || ce.status != ChecksumMissing || !strings.Contains(err.Error(), "sha256sum decnet-db-driver-x > decnet-db-driver-x.sha256") {
		t.Errorf("no checksum: %v", err)
	}
	if err := os.WriteFile(bin+ChecksumSuffix, []byte(digest+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d, src, err := expectedSHA256(cfg, bin); err != nil || d != digest || src != bin+ChecksumSuffix {
		t.Errorf("from the file: %q %q %v", d, src, err)
	}
	cfg.PluginSHA256 = strings.Repeat("f", 64)
	if d, src, err := expectedSHA256(cfg, bin); err != nil || d != cfg.PluginSHA256 || src != config.VarPluginSHA256 {
		t.Errorf("from the variable: %q %q %v", d, src, err)
	}
}

// TestPluginsShadowedByCase checks that Plugins marks as shadowed exactly
// the binaries that Open would not use: the type is matched lower-case, so
// decnet-db-driver-MyDB is never opened, while decnet-db-driver-mydb in a
// later directory is.
func TestPluginsShadowedByCase(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	for _, p := range []string{filepath.Join(first, PluginPrefix+"MyDB"), filepath.Join(second, PluginPrefix+"mydb")} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Config{Type: "mydb", PluginDirs: []string{first, second}}
	got := map[string]bool{}
	for _, p := range Plugins(cfg) {
		got[p.Type] = p.Shadowed
	}
	if len(got) != 2 || !got["MyDB"] || got["mydb"] {
		t.Errorf("shadowed by type = %v, want MyDB shadowed and mydb not", got)
	}
	path, err := lookPlugin(cfg.PluginDirs, typeOf(cfg))
	if err != nil || filepath.Dir(path) != second {
		t.Errorf("lookPlugin = %q, %v; want the binary in %s", path, err, second)
	}
}
