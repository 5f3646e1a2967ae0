package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/repository"
)

// newResetCmd returns the reset command, DECNET's db-reset.
func newResetCmd(a *app) *cobra.Command {
	var (
		mode    string
		execute bool
	)
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Empty the configured database (a dry run unless --i-know-what-im-doing)",
		Long: `reset is DECNET's db-reset, for every backend: it empties the configured
database. Each backend empties a table its own way (TRUNCATE on MySQL, DELETE
on SQLite).

By default it is a dry run: it prints the row count of every table of the
schema ("missing" for a table that does not exist) and what it would do, and
changes nothing. Add --i-know-what-im-doing to execute.

  --mode truncate     (default) delete every row of every table, users and
                      dashboard state included, and keep the schema; run
                      'decnet-db init' afterwards to seed the admin again
  --mode drop-tables  drop every table; 'decnet-db init' creates them again

The global --url (DECNET_DB_URL) selects another database than the
configured one. A SQLite file that does not exist is not created.

Exit codes: 0 done (or dry run), 1 the reset failed (the reason is printed),
2 a bad --mode or configuration.`,
		Example: `  # what would be deleted (changes nothing)
  decnet-db reset

  # empty every table, keep the schema, then seed the admin again
  decnet-db reset --i-know-what-im-doing && decnet-db init

  # drop the tables of a MySQL database
  DECNET_DB_TYPE=mysql DECNET_DB_URL='mysql://decnet:pw@db:3306/decnet' \
    decnet-db reset --mode drop-tables --i-know-what-im-doing`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := repository.ResetMode(mode)
			if m != repository.ResetTruncate && m != repository.ResetDropTables {
				return usagef("--mode %q: want truncate or drop-tables", mode)
			}
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "backend:  %s\nlocation: %s\n", d.cfg.Type, where(d.cfg))
				counts, err := d.repo.TableCounts(d.ctx)
				if err != nil {
					return fmt.Errorf("reset: count the rows of the tables: %w", err)
				}
				if err := printTableCounts(out, counts); err != nil {
					return err
				}
				var rows int64
				present := 0
				for _, tc := range counts {
					rows += tc.Rows
					if !tc.Missing {
						present++
					}
				}
				what, done := "delete", "deleted"
				scope := fmt.Sprintf("%d rows from %d tables, keeping the schema", rows, present)
				if m == repository.ResetDropTables {
					what, done = "drop", "dropped"
					scope = fmt.Sprintf("%d tables holding %d rows", present, rows)
				}
				if !execute {
					_, err := fmt.Fprintf(out, "\ndry run: reset --mode %s would %s %s; nothing was changed.\nRun again with --i-know-what-im-doing to do it.\n", m, what, scope)
					return err
				}
				if err := d.repo.Reset(d.ctx, m); err != nil {
					return fmt.Errorf("reset --mode %s of the %s database at %s failed: %w", m, d.cfg.Type, where(d.cfg), err)
				}
				fmt.Fprintf(out, "\nreset --mode %s: %s %s.\n", m, done, scope)
				if m == repository.ResetTruncate {
					_, err = fmt.Fprintln(out, "Every user was deleted: run 'decnet-db init' to seed the admin again.")
				} else {
					_, err = fmt.Fprintln(out, "Run 'decnet-db init' to create the schema and seed the admin again.")
				}
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", string(repository.ResetTruncate), "reset `MODE`: truncate (delete every row, keep the schema) or drop-tables")
	f.BoolVar(&execute, "i-know-what-im-doing", false, "execute the reset; without it reset is a dry run")
	return cmd
}
