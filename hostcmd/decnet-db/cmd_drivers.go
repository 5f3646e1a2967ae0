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
name (a value of DECNET_DB_TYPE), where it comes from (built-in), and notes:
"configured" for the type the configuration selects, "default" for ` + config.DefaultType + `.

A configured type that is not built in is listed last as "not built in": a
plugin binary, decnet-db-driver-<type> in DECNET_DB_PLUGIN_DIR, must provide
it ('decnet-db doctor' tries to open it).`,
		Example: `  decnet-db drivers
  DECNET_DB_TYPE=mysql decnet-db drivers`,
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
	Source     string // "built-in", or "not built in" for a configured type no driver has
	Configured bool   // the type the configuration selects
	Default    bool   // config.DefaultType
}

// driverEntries returns the registered drivers, sorted, then the
// configured type when no registered driver has it.
func driverEntries(cfg config.Config) []driverEntry {
	var out []driverEntry
	found := false
	for _, name := range registry.Drivers() {
		e := driverEntry{Name: name, Source: "built-in", Configured: name == cfg.Type, Default: name == config.DefaultType}
		found = found || e.Configured
		out = append(out, e)
	}
	if !found {
		out = append(out, driverEntry{Name: cfg.Type, Source: "not built in", Configured: true, Default: cfg.Type == config.DefaultType})
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
