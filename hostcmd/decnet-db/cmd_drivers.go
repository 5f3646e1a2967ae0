package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
)

// newDriversCmd returns the drivers command.
func newDriversCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "drivers",
		Short: "List the backends this binary can open",
		Long: `drivers lists the backend types this binary can open, one a line: the type
name (a value of DECNET_DB_TYPE), where it comes from, and notes: "configured"
for the type the configuration selects, "default" for ` + config.DefaultType + `.

Built-in drivers come first. Then the plugins found in DECNET_DB_PLUGIN_DIR
(executables named decnet-db-driver-<type>), each with its path, the protocol
versions it offers, and its checksum status: "checksum ok", or "checksum
mismatch" / "checksum missing" / "checksum invalid" with the reason — such a
plugin is refused. A plugin is "shadowed" when a built-in driver or an earlier
directory has the same type. A configured type that nothing provides is
listed last as "not found".`,
		Example: `  decnet-db drivers
  DECNET_DB_PLUGIN_DIR=/opt/decnet/plugins DECNET_DB_TYPE=mydb decnet-db drivers`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			return printDrivers(cmd.OutOrStdout(), driverEntries(cfg))
		},
	}
}

// driverEntry is one line of the drivers command.
type driverEntry struct {
	Name       string
	Source     string // "built-in", the plugin's path, or "not found"
	Configured bool   // the type the configuration selects
	Default    bool   // config.DefaultType
	Details    []string
}

// driverEntries returns the registered drivers, sorted, then the plugins
// found, then the configured type when nothing provides it. The configured
// entry is the one Open uses: a built-in driver, else the first runnable
// plugin, else the first plugin file that cannot be run (Open says why).
func driverEntries(cfg config.Config) []driverEntry {
	var out []driverEntry
	found := false
	for _, name := range registry.Drivers() {
		e := driverEntry{Name: name, Source: "built-in", Configured: name == cfg.Type, Default: name == config.DefaultType}
		found = found || e.Configured
		out = append(out, e)
	}
	unusable := -1 // the entry of the configured type's file that cannot be run
	for _, p := range registry.Plugins(cfg) {
		opened := p.Type == cfg.Type && !p.Shadowed // what Open finds, if it can run it
		e := driverEntry{Name: p.Type, Source: p.Path, Configured: opened && p.Runnable}
		found = found || e.Configured
		if opened && !p.Runnable && unusable < 0 {
			unusable = len(out)
		}
		if len(p.Protocols) > 0 {
			vs := make([]string, len(p.Protocols))
			for i, v := range p.Protocols {
				vs[i] = fmt.Sprint(v)
			}
			e.Details = append(e.Details, "protocols "+strings.Join(vs, ","))
		}
		e.Details = append(e.Details, "checksum "+p.Checksum)
		if p.Shadowed {
			e.Details = append(e.Details, "shadowed")
		}
		if p.Err != "" {
			e.Details = append(e.Details, p.Err)
		}
		out = append(out, e)
	}
	switch {
	case found:
	case unusable >= 0: // what Open finds, and refuses
		out[unusable].Configured = true
	default:
		out = append(out, driverEntry{Name: cfg.Type, Source: "not found", Configured: true, Default: cfg.Type == config.DefaultType})
	}
	return out
}

// printDrivers prints one driver a line: name, source, notes.
func printDrivers(w io.Writer, entries []driverEntry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range entries {
		var notes []string
		if e.Configured {
			notes = append(notes, "configured")
		}
		if e.Default {
			notes = append(notes, "default")
		}
		notes = append(notes, e.Details...)
		line := e.Name + "\t" + e.Source
		if len(notes) > 0 {
			line += "\t" + strings.Join(notes, ", ")
		}
		if _, err := fmt.Fprintln(tw, line); err != nil {
			return err
		}
	}
	return tw.Flush()
}
