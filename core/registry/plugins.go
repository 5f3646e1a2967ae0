package registry

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/plugin"
	"github.com/decnet/decnet-db/core/repository"
)

// PluginPrefix starts the file name of every plugin binary:
// decnet-db-driver-<type>.
const PluginPrefix = plugin.BinaryPrefix

// ChecksumSuffix ends the name of a plugin's checksum file, beside it:
// decnet-db-driver-<type>.sha256, as sha256sum writes it.
const ChecksumSuffix = ".sha256"

// ErrChecksum is wrapped by the errors of a plugin binary that Open refuses
// to start: its checksum is missing, malformed, or does not match (a
// *plugin.ChecksumError).
var ErrChecksum = plugin.ErrChecksum

// The checksum statuses of PluginInfo.
const (
	ChecksumOK       = "ok"       // the binary's SHA-256 is the expected one
	ChecksumMismatch = "mismatch" // it is not
	ChecksumMissing  = "missing"  // nothing to check it against
	ChecksumInvalid  = "invalid"  // the checksum file is malformed or unreadable
)

// findPlugin looks for the plugin binary of name in cfg.PluginDirs, in
// order: the first executable regular file named PluginPrefix+name wins.
// found is false when there is none; err is set when one exists but cannot
// be used: not executable, or without a checksum to verify it with (the
// expected SHA-256 is cfg.PluginSHA256 when set, else the content of
// <binary>.sha256). The driver's Open and Scratch verify the binary's
// SHA-256 right before they start it, and refuse a mismatch with a
// *plugin.ChecksumError; the binary is hashed once per start.
func findPlugin(cfg config.Config, name string) (d Driver, found bool, err error) {
	path, err := lookPlugin(cfg.PluginDirs, name)
	if err != nil || path == "" {
		return nil, path != "", err
	}
	want, source, err := expectedSHA256(cfg, path)
	if err != nil {
		return nil, true, err
	}
	sum, _ := hex.DecodeString(want)
	return &pluginDriver{opts: plugin.Options{Path: path, SHA256: sum, SHA256Source: source}}, true, nil
}

// lookPlugin returns the absolute path of the first executable regular
// file PluginPrefix+name in dirs, "" when there is none. A file of that
// name that cannot be run is an error when no directory has one that can.
func lookPlugin(dirs []string, name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", nil
	}
	var unusable []string
	for _, dir := range dirs {
		p := filepath.Join(dir, PluginPrefix+name)
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if why := unrunnable(fi); why != "" {
			unusable = append(unusable, p+" "+why)
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("registry: plugin %s: %w", p, err)
		}
		return abs, nil
	}
	if len(unusable) > 0 {
		return "", fmt.Errorf("registry: no usable plugin for type %q: %s", name, strings.Join(unusable, "; "))
	}
	return "", nil
}

// unrunnable says why the file fi cannot be run as a plugin, "" when it
// can.
func unrunnable(fi os.FileInfo) string {
	switch {
	case !fi.Mode().IsRegular():
		return "is not a regular file"
	case fi.Mode().Perm()&0o111 == 0:
		return "is not executable (chmod +x it)"
	}
	return ""
}

// expectedSHA256 returns the expected digest of the plugin at path, in
// lower-case hex, and where it comes from: cfg.PluginSHA256, else the
// checksum file beside the binary.
func expectedSHA256(cfg config.Config, path string) (digest, source string, err error) {
	if cfg.PluginSHA256 != "" {
		d := strings.ToLower(strings.TrimSpace(cfg.PluginSHA256))
		if !config.IsSHA256Hex(d) {
			return "", "", checksumErrorf(ChecksumInvalid, "registry: %s is not a SHA-256 digest (64 hexadecimal digits)", config.VarPluginSHA256)
		}
		return d, config.VarPluginSHA256, nil
	}
	file := path + ChecksumSuffix
	d, err := readChecksumFile(file, filepath.Base(path))
	if errors.Is(err, os.ErrNotExist) {
		base := filepath.Base(path)
		return "", "", checksumErrorf(ChecksumMissing, "registry: plugin %s: checksum missing: neither %s nor %s is set; refusing to start it. "+
			"Create the file beside the binary (cd %s && sha256sum %s > %s%s) or set %s to its digest",
			path, file, config.VarPluginSHA256, filepath.Dir(path), base, base, ChecksumSuffix, config.VarPluginSHA256)
	}
	if err != nil {
		return "", "", err
	}
	return d, file, nil
}

// readChecksumFile reads a checksum file: its first line holds a hex
// SHA-256 digest, optionally followed by whitespace and a file name (as
// sha256sum writes it), which must then be the binary's.
func readChecksumFile(file, binary string) (string, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err != nil {
		return "", checksumErrorf(ChecksumInvalid, "registry: checksum file %s: %v", file, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := ""
	for sc.Scan() {
		if line = strings.TrimSpace(sc.Text()); line != "" {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return "", checksumErrorf(ChecksumInvalid, "registry: checksum file %s: %v", file, err)
	}
	fields := strings.Fields(line)
	digest := ""
	if len(fields) > 0 {
		digest = strings.ToLower(fields[0])
	}
	if !config.IsSHA256Hex(digest) {
		return "", checksumErrorf(ChecksumInvalid, "registry: checksum file %s: the first line is not a SHA-256 digest "+
			"(64 hexadecimal digits, optionally followed by the file name, as sha256sum writes it)", file)
	}
	if len(fields) > 1 {
		named := filepath.Base(strings.TrimPrefix(strings.Join(fields[1:], " "), "*"))
		if named != binary {
			return "", checksumErrorf(ChecksumInvalid, "registry: checksum file %s: it is the checksum of %q, not of %q", file, named, binary)
		}
	}
	return digest, nil
}

// checksumError is an error of a plugin's checksum; it wraps ErrChecksum
// and knows its PluginInfo status.
type checksumError struct {
	status string
	msg    string
}

func checksumErrorf(status, format string, args ...any) error {
	return &checksumError{status: status, msg: fmt.Sprintf(format, args...)}
}

func (e *checksumError) Error() string { return e.msg }
func (e *checksumError) Unwrap() error { return ErrChecksum }

// pluginDriver opens repositories served by a plugin binary, one process
// per Open; go-plugin verifies the binary's checksum right before each
// start.
type pluginDriver struct {
	opts plugin.Options
}

var (
	_ Driver    = (*pluginDriver)(nil)
	_ Scratcher = (*pluginDriver)(nil)
)

func (d *pluginDriver) Open(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	return plugin.Open(ctx, d.opts, cfg)
}

func (d *pluginDriver) Scratch(ctx context.Context, cfg config.Config) (config.Config, func(context.Context) error, error) {
	return plugin.Scratch(ctx, d.opts, cfg)
}

// PluginInfo describes a plugin binary found in a plugin directory, for
// `decnet-db drivers`.
type PluginInfo struct {
	// Name is the file name, PluginPrefix+Type.
	Name string
	// Type is the DECNET_DB_TYPE value that selects it.
	Type string
	// Path is the binary's absolute path.
	Path string
	// Checksum is ChecksumOK, ChecksumMismatch, ChecksumMissing or
	// ChecksumInvalid; ChecksumSource says what it was checked against
	// (the .sha256 file, or DECNET_DB_PLUGIN_SHA256 for the configured
	// type), SHA256 is the binary's digest.
	Checksum       string
	ChecksumSource string
	SHA256         string
	// Protocols are the protocol versions the plugin offers (it is run
	// with --decnet-plugin-info, only when Checksum is ok); empty when
	// unknown.
	Protocols []int
	// Shadowed is set when Open does not use this binary for Type: a
	// built-in driver has the type, or an earlier directory has a binary
	// for it.
	Shadowed bool
	// Runnable is set for an executable regular file; Open skips the
	// others (Err says why), and they are not run for their protocols.
	Runnable bool
	// Err says why the file cannot be run, Checksum is not ok or Protocols
	// is empty; empty when all is well.
	Err string
}

// Plugins lists the plugin binaries in cfg.PluginDirs, directory by
// directory in order, by name within one: every file named
// PluginPrefix+<type> (checksum files left out), with its checksum status
// and, when it is an executable regular file whose checksum is ok, the
// protocol versions it offers (each binary runs at most a few seconds for
// that). A file that cannot be run is listed with the reason, so that an
// operator who forgot chmod +x sees why it is not used. A directory that
// cannot be read is left out.
func Plugins(cfg config.Config) []PluginInfo {
	var out []PluginInfo
	seen := map[string]bool{}
	for _, dir := range cfg.PluginDirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			typ := strings.TrimPrefix(name, PluginPrefix)
			if !strings.HasPrefix(name, PluginPrefix) || typ == "" || strings.HasSuffix(name, ChecksumSuffix) {
				continue
			}
			p := filepath.Join(dir, name)
			fi, err := os.Stat(p)
			if err != nil {
				continue
			}
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			info := PluginInfo{Name: name, Type: typ, Path: p}
			// The configured type is lower-case (as DECNET_DB_TYPE is
			// matched), so a name with upper-case letters is never opened.
			_, builtin := Lookup(typ)
			info.Shadowed = builtin || seen[typ] || typ != strings.ToLower(typ)
			why := unrunnable(fi)
			info.Runnable = why == ""
			if info.Runnable {
				seen[typ] = true
			}
			checkPlugin(cfg, &info)
			if !info.Runnable {
				info.Err = strings.TrimSuffix(why+"; "+info.Err, "; ")
			}
			out = append(out, info)
		}
	}
	return out
}

// checkPlugin fills the checksum fields and the protocols of info.
func checkPlugin(cfg config.Config, info *PluginInfo) {
	c := cfg
	if info.Type != typeOf(cfg) {
		c.PluginSHA256 = "" // the variable is the configured plugin's
	}
	sum, err := plugin.FileSHA256(info.Path)
	if err != nil {
		info.Checksum, info.Err = ChecksumInvalid, err.Error()
		return
	}
	info.SHA256 = sum
	want, source, err := expectedSHA256(c, info.Path)
	if err != nil {
		info.Checksum, info.Err = ChecksumInvalid, err.Error()
		if ce := (*checksumError)(nil); errors.As(err, &ce) {
			info.Checksum = ce.status
		}
		return
	}
	info.ChecksumSource = source
	if want != sum {
		info.Checksum = ChecksumMismatch
		info.Err = fmt.Sprintf("expected %s (from %s), the file has %s", want, source, sum)
		return
	}
	info.Checksum = ChecksumOK
	if !info.Runnable {
		return
	}
	pi, err := plugin.ReadInfo(context.Background(), info.Path)
	if err != nil {
		info.Err = err.Error()
		return
	}
	info.Protocols = pi.Protocols
}
