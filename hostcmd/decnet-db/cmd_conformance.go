package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/sdk/conformance"
)

// newConformanceCmd returns the conformance command.
func newConformanceCmd(a *app) *cobra.Command {
	var (
		filter string
		asJSON bool
		list   bool
	)
	cmd := &cobra.Command{
		Use:   "conformance",
		Short: "Run the conformance suite on scratch storage of the configured backend type",
		Long: `conformance runs the suite every decnet-db backend passes against the
configured backend TYPE. Each check runs on new scratch storage that the
driver creates and removes (a temporary SQLite file, a temporary database on
the configured server): the configured database's data is never read or
written, and a SQLite file that does not exist is not created.

It prints one row per check as it finishes (name, PASS or FAIL, duration),
the messages of a failed check indented below it, and a summary line
"N checks, M failed". With --json it prints one JSON document at the end
instead. It exits 1 when a check failed, and 2 when --run matches no check.`,
		Example: `  # the whole suite on SQLite
  decnet-db conformance

  # the checks whose name contains "bounty", as JSON
  decnet-db conformance --run bounty --json

  # the backend type of a config file (a server backend gets its own
  # scratch databases on that server)
  decnet-db conformance --config /etc/decnet/db.toml

  # the names of the checks
  decnet-db conformance --list`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			checks := selectChecks(filter)
			if len(checks) == 0 {
				return usagef("--run %q matches no check (see 'decnet-db conformance --list')", filter)
			}
			if list {
				for _, c := range checks {
					fmt.Fprintln(out, c.Name)
				}
				return nil
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if err := preflightScratch(cmd.Context(), cfg); err != nil {
				return err
			}
			// The scratch admin is throwaway: the cheapest hash keeps the
			// suite fast.
			cfg.BcryptCost = bcrypt.MinCost
			return a.runConformance(cmd.Context(), out, cfg, checks, filter, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&filter, "run", "", "run only the checks whose name contains `SUBSTRING`")
	f.BoolVar(&asJSON, "json", false, "print the report as one JSON document instead of a table")
	f.BoolVar(&list, "list", false, "print the names of the checks (those --run selects) and exit")
	return cmd
}

// selectChecks returns the checks RunChecks runs with filter, in order.
func selectChecks(filter string) []conformance.Check {
	var out []conformance.Check
	for _, c := range conformance.Checks() {
		if strings.Contains(c.Name, filter) {
			out = append(out, c)
		}
	}
	return out
}

// preflightScratch makes and removes scratch storage once, so that an
// unknown type or an unreachable server is one clear error instead of a
// failure of every check.
func preflightScratch(ctx context.Context, cfg config.Config) error {
	_, cleanup, err := registry.Scratch(ctx, cfg)
	if err != nil {
		return fmt.Errorf("conformance: scratch storage for %q: %w", cfg.Type, err)
	}
	if err := cleanup(ctx); err != nil {
		return fmt.Errorf("conformance: remove scratch storage for %q: %w", cfg.Type, err)
	}
	return nil
}

// runConformance runs the checks on scratch storage of cfg.Type and
// prints the report; an error when a check failed or ctx was cancelled.
func (a *app) runConformance(ctx context.Context, w io.Writer, cfg config.Config, checks []conformance.Check, filter string, asJSON bool) error {
	opts := conformance.RunOptions{Filter: filter}
	var table *resultTable
	if !asJSON {
		fmt.Fprintf(w, "conformance suite on %s scratch storage (the configured database is not touched)\n\n", cfg.Type)
		table = newResultTable(w, checks, a.redact)
		opts.Progress = table.row
	}
	rep := conformance.RunChecks(ctx, conformance.RegistryFactory(cfg), opts)

	if asJSON {
		if err := a.writeJSONReport(w, cfg.Type, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "\n%d checks, %d failed\n", len(rep.Results), rep.Failed())
		if table.err != nil {
			return table.err
		}
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("conformance: interrupted after %d of %d checks", len(rep.Results), len(checks))
	case rep.Failed() > 0:
		return fmt.Errorf("conformance: %d of %d checks failed on %s", rep.Failed(), len(rep.Results), cfg.Type)
	}
	return nil
}

// resultTable prints one row per check as it finishes. The name column is
// as wide as the longest selected name, so rows line up without buffering.
type resultTable struct {
	w      io.Writer
	width  int
	redact func(string) string
	err    error // the first write error
}

func newResultTable(w io.Writer, checks []conformance.Check, redact func(string) string) *resultTable {
	t := &resultTable{w: w, width: len("CHECK"), redact: redact}
	for _, c := range checks {
		t.width = max(t.width, len(c.Name))
	}
	t.printf("%-*s  %-6s  %9s\n", t.width, "CHECK", "RESULT", "DURATION")
	return t
}

func (t *resultTable) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// row prints res, and its messages indented below it when it failed.
func (t *resultTable) row(res conformance.Result) {
	status := "PASS"
	if !res.Passed {
		status = "FAIL"
	}
	t.printf("%-*s  %-6s  %9s\n", t.width, res.Name, status, fmtDuration(res.Duration))
	if res.Passed {
		return
	}
	for _, m := range res.Messages {
		for _, line := range strings.Split(strings.TrimRight(t.redact(m), "\n"), "\n") {
			t.printf("    %s\n", line)
		}
	}
}

// jsonReport is the --json output.
type jsonReport struct {
	Driver string       `json:"driver"`
	Passed bool         `json:"passed"`
	Total  int          `json:"total"`
	Failed int          `json:"failed"`
	Checks []jsonResult `json:"checks"`
}

type jsonResult struct {
	Name       string   `json:"name"`
	Passed     bool     `json:"passed"`
	DurationMS float64  `json:"duration_ms"`
	Messages   []string `json:"messages,omitempty"`
}

func (a *app) writeJSONReport(w io.Writer, driver string, rep conformance.Report) error {
	out := jsonReport{Driver: driver, Passed: rep.Passed(), Total: len(rep.Results), Failed: rep.Failed(), Checks: []jsonResult{}}
	for _, r := range rep.Results {
		jr := jsonResult{Name: r.Name, Passed: r.Passed, DurationMS: float64(r.Duration.Microseconds()) / 1000}
		for _, m := range r.Messages {
			jr.Messages = append(jr.Messages, a.redact(m))
		}
		out.Checks = append(out.Checks, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
