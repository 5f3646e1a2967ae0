package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/repository"
	"github.com/decnet/decnet-db/core/telemetry"
)

// newDoctorCmd returns the doctor command.
func newDoctorCmd(a *app) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Show the configuration and check that the backend answers",
		Long: `doctor prints the resolved configuration (every DECNET_* variable, passwords
masked), then opens the configured backend and prints what it says about
itself (driver, version, settings such as SQLite's journal_mode), whether it
answers a ping, and the row count of every table of the schema ("missing" for
a table that does not exist yet: run 'decnet-db init').

doctor changes nothing: for SQLite it does not create a missing database file.
It exits 1, with the reason, when the backend cannot be reached.`,
		Example: `  decnet-db doctor
  decnet-db doctor --path /var/lib/decnet/decnet.db
  decnet-db doctor --config /etc/decnet/db.toml --timeout 5s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return usagef("--timeout must be positive, got %s", timeout)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := printConfig(out, cfg); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return a.diagnose(ctx, out, cfg)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up on the backend after `DURATION`")
	return cmd
}

// printConfig prints every variable with its resolved value, passwords
// masked (config.Fields).
func printConfig(w io.Writer, cfg config.Config) error {
	fmt.Fprintln(w, "configuration")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range cfg.Fields() {
		v := kv[1]
		if v == "" {
			v = "(not set)"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", kv[0], v)
	}
	return tw.Flush()
}

// diagnose opens the backend and prints its description, ping and table
// counts. It returns an error, after printing what it found, when the
// backend cannot be reached.
func (a *app) diagnose(ctx context.Context, w io.Writer, cfg config.Config) (err error) {
	fmt.Fprintln(w, "\nbackend")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer func() {
		if ferr := tw.Flush(); err == nil {
			err = ferr
		}
	}()
	fmt.Fprintf(tw, "  location\t%s\n", where(cfg))
	on, endpoint := telemetry.Status(cfg, a.getenv)
	if on {
		fmt.Fprintf(tw, "  telemetry\ton (%s=true): spans and metrics over OTLP to %s\n", config.VarTracing, endpoint)
	} else {
		fmt.Fprintf(tw, "  telemetry\toff (set %s=true to export over OTLP to %s)\n", config.VarTracing, endpoint)
	}

	if missing, ok := missingSQLiteFile(cfg); ok {
		fmt.Fprintf(tw, "  status\tthe database file does not exist (run 'decnet-db init')\n")
		return fmt.Errorf("backend unreachable: %s does not exist; run 'decnet-db init' to create it", missing)
	}
	repo, _, err := a.open(ctx)
	if err != nil {
		fmt.Fprintf(tw, "  status\tcannot open: %s\n", oneLine(a.redact(err.Error())))
		if errors.Is(err, repository.ErrUnknownDriver) {
			return err
		}
		return fmt.Errorf("backend unreachable: %w", err)
	}
	defer closeRepo(repo, &err)

	start := time.Now()
	if err := repo.Ping(ctx); err != nil {
		fmt.Fprintf(tw, "  ping\tFAILED: %s\n", oneLine(a.redact(err.Error())))
		return fmt.Errorf("backend unreachable: ping: %w", err)
	}
	fmt.Fprintf(tw, "  ping\tok (%s)\n", fmtDuration(time.Since(start)))

	info, err := repo.Describe(ctx)
	if err != nil {
		fmt.Fprintf(tw, "  describe\tFAILED: %s\n", oneLine(a.redact(err.Error())))
		return fmt.Errorf("describe the backend: %w", err)
	}
	fmt.Fprintf(tw, "  driver\t%s\n", info.Driver)
	fmt.Fprintf(tw, "  version\t%s\n", info.Version)
	for _, s := range info.Settings {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, a.redact(s.Value))
	}

	counts, err := repo.TableCounts(ctx)
	if err != nil {
		fmt.Fprintf(tw, "  tables\tFAILED: %s\n", oneLine(a.redact(err.Error())))
		return fmt.Errorf("count the rows of the tables: %w", err)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printTableCounts(w, counts)
}

// printTableCounts prints one table a line with its row count, or
// "missing".
func printTableCounts(w io.Writer, counts []repository.TableCount) error {
	fmt.Fprintln(w, "\ntables")
	width := len("TABLE")
	for _, tc := range counts {
		width = max(width, len(tc.Table))
	}
	fmt.Fprintf(w, "  %-*s  %10s\n", width, "TABLE", "ROWS")
	missing := missingOf(counts)
	for _, tc := range counts {
		rows := fmt.Sprint(tc.Rows)
		if tc.Missing {
			rows = "missing"
		}
		if _, err := fmt.Fprintf(w, "  %-*s  %10s\n", width, tc.Table, rows); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		_, err := fmt.Fprintf(w, "\n%d of %d tables are missing (%s): run 'decnet-db init'\n",
			len(missing), len(counts), strings.Join(missing, ", "))
		return err
	}
	return nil
}

// missingSQLiteFile returns the SQLite database file when the
// configuration selects one that does not exist: opening it would create
// it, and doctor changes nothing.
func missingSQLiteFile(cfg config.Config) (string, bool) {
	if cfg.Type != sqliteType {
		return "", false
	}
	p := where(cfg)
	if p == ":memory:" || strings.HasPrefix(p, "file:") {
		return "", false
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return p, true
	}
	return "", false
}

// fmtDuration formats d for a table: milliseconds with one decimal under a
// second, else seconds with two.
func fmtDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
