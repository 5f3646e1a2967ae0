package registry

import (
	"github.com/decnet/decnet-db/core/config"
)

// PluginPrefix starts the file name of every plugin binary:
// decnet-db-driver-<type>.
const PluginPrefix = "decnet-db-driver-"

// findPlugin looks for the plugin binary of name in cfg.PluginDirs.
// found is false when there is none; err is set when one exists but cannot
// be used (for example a checksum mismatch).
func findPlugin(cfg config.Config, name string) (d Driver, found bool, err error) {
	return nil, false, nil
}
