package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/repository"
)

// newInitCmd returns the init command.
func newInitCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the schema and the admin user in the configured backend",
		Long: `init opens the configured backend, creates the tables that are missing and
seeds the admin user (DECNET_ADMIN_USER, default admin) with a bcrypt hash of
DECNET_ADMIN_PASSWORD and "must change password" set. While that admin has not
changed its password, init re-syncs the hash from DECNET_ADMIN_PASSWORD.

init is idempotent: running it again changes nothing that exists. A new SQLite
file is created with mode 0600. It prints the backend, where the data lives
(the SQLite file, or the URL with the password masked) and what it did.`,
		Example: `  # ./decnet.db, admin "admin" with the password "admin" (to change at first login)
  decnet-db init

  # a chosen file and admin password
  DECNET_ADMIN_PASSWORD='s3cret!' decnet-db init --path /var/lib/decnet/decnet.db`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			ctx := cmd.Context()
			repo, cfg, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer closeRepo(repo, &err)

			// What exists before, to say what Initialize did.
			before := map[string]bool{}
			counts, countErr := repo.TableCounts(ctx)
			for _, tc := range counts {
				before[tc.Table] = !tc.Missing
			}
			adminExisted := false
			if cfg.AdminUser != "" && before[repository.TableUsers] {
				_, err := repo.UserByUsername(ctx, cfg.AdminUser)
				adminExisted = err == nil
			}

			if err := repo.Initialize(ctx); err != nil {
				return fmt.Errorf("initialize the %s backend at %s: %w", cfg.Type, where(cfg), err)
			}

			var created []string
			for _, t := range repository.Schema {
				if !before[t.Name] {
					created = append(created, t.Name)
				}
			}
			schema := fmt.Sprintf("up to date (%d tables)", len(repository.Schema))
			switch {
			case countErr != nil:
				schema = fmt.Sprintf("created where missing (%d tables)", len(repository.Schema))
			case len(created) > 0:
				schema = fmt.Sprintf("created %d of %d tables (%s)", len(created), len(repository.Schema), strings.Join(created, ", "))
			}
			admin, err := adminStatus(ctx, repo, cfg, adminExisted)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "backend:\t%s\n", cfg.Type)
			fmt.Fprintf(tw, "location:\t%s\n", where(cfg))
			fmt.Fprintf(tw, "schema:\t%s\n", schema)
			fmt.Fprintf(tw, "admin:\t%s\n", admin)
			return tw.Flush()
		},
	}
}

// adminStatus describes the seeded admin after Initialize.
func adminStatus(ctx context.Context, repo repository.Repository, cfg config.Config, existed bool) (string, error) {
	if cfg.AdminUser == "" {
		return "none seeded (" + config.VarAdminUser + " is empty)", nil
	}
	u, err := repo.UserByUsername(ctx, cfg.AdminUser)
	if errors.Is(err, repository.ErrNotFound) {
		return "", fmt.Errorf("initialize: admin %q was not seeded: %w", cfg.AdminUser, err)
	}
	if err != nil {
		return "", fmt.Errorf("initialize: look up admin %q: %w", cfg.AdminUser, err)
	}
	s := u.Username
	if existed {
		s += " (already present"
	} else {
		s += " (created"
	}
	if u.MustChangePassword {
		s += "; must change the password at first login"
		if cfg.AdminPassword == config.DefaultAdminPassword {
			s += "; the password is DECNET's default, set " + config.VarAdminPassword
		}
	}
	return s + ")", nil
}
