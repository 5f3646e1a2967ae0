package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/repository"
)

// newUsersCmd returns the users command and its subcommands.
func newUsersCmd(a *app) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "users",
		Short: "Manage the dashboard's accounts",
		Long: `users lists, creates and changes the accounts of DECNET's dashboard. Roles are
admin and viewer. Passwords are never taken as a flag or an argument (other
local users can see those): they are read from the terminal (typed twice,
not echoed) or, when stdin is not a terminal, as one line of stdin. They are
stored as bcrypt hashes (cost 10) and never printed.`,
		Example: `  decnet-db users list
  decnet-db users add alice --role admin
  printf '%s\n' "$NEW_PASSWORD" | decnet-db users passwd alice`,
	})
	cmd.AddCommand(newUsersListCmd(a), newUsersAddCmd(a), newUsersPasswdCmd(a), newUsersRoleCmd(a), newUsersRmCmd(a))
	return cmd
}

// userJSON is a user of the users list command's JSON (never the hash).
type userJSON struct {
	UUID               string `json:"uuid"`
	Username           string `json:"username"`
	Role               string `json:"role"`
	MustChangePassword bool   `json:"must_change_password"`
	CreatedAt          string `json:"created_at"`
}

// newUsersListCmd returns users list.
func newUsersListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the dashboard's accounts",
		Long: `users list prints every account, by username: USERNAME, ROLE, MUST CHANGE
(whether the user must choose a new password at the next login), CREATED (UTC)
and UUID. Password hashes are never printed.

With --json it prints one JSON object instead:
  {"users": [{"uuid": "...", "username": "admin", "role": "admin",
              "must_change_password": true, "created_at": "2024-01-15T12:00:00Z"}]}`,
		Example: `  decnet-db users list
  decnet-db users list --json | jq -r '.users[] | select(.role == "admin") | .username'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				us, err := d.repo.Users(d.ctx)
				if err != nil {
					return d.fail("users list", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					res := struct {
						Users []userJSON `json:"users"`
					}{make([]userJSON, len(us))}
					for i, u := range us {
						res.Users[i] = userJSON{UUID: u.UUID, Username: u.Username, Role: string(u.Role),
							MustChangePassword: u.MustChangePassword, CreatedAt: jsonTime(u.CreatedAt)}
					}
					return writeJSON(out, res)
				}
				if len(us) == 0 {
					_, err := fmt.Fprintln(out, "no users (run 'decnet-db init' to seed the admin)")
					return err
				}
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tROLE\tMUST CHANGE\tCREATED (UTC)\tUUID")
				for _, u := range us {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, yesNo(u.MustChangePassword), fmtTime(u.CreatedAt), u.UUID)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object (shape above) instead of a table")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseRole checks a role given on the command line.
func parseRole(flag, s string) (repository.Role, error) {
	r := repository.Role(strings.ToLower(s))
	if !r.Valid() {
		return "", usagef("%s %q: want admin or viewer", flag, s)
	}
	return r, nil
}

// newUsersAddCmd returns users add.
func newUsersAddCmd(a *app) *cobra.Command {
	var (
		role       string
		mustChange bool
	)
	cmd := &cobra.Command{
		Use:   "add USERNAME",
		Short: "Create an account, reading its password from the terminal or stdin",
		Long: `users add creates the account USERNAME with --role (default viewer). The
password is read from the terminal (typed twice) or, when stdin is not a
terminal, as the first line of stdin; it is stored as a bcrypt hash.

The user must choose a new password at the first login, unless
--must-change=false: the operator chose this one. A taken username is an
error (exit 1).`,
		Example: `  decnet-db users add alice --role admin
  printf '%s\n' "$PASSWORD" | decnet-db users add ci-viewer --must-change=false`,
		Args: exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := parseRole("--role", role)
			if err != nil {
				return err
			}
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				if _, err := d.repo.UserByUsername(d.ctx, args[0]); err == nil {
					return fmt.Errorf("users add: user %q exists (change it with 'decnet-db users passwd' or 'users role')", args[0])
				}
				hash, err := a.newPasswordHash(d.cfg, args[0])
				if err != nil {
					return err
				}
				u, err := d.repo.CreateUser(d.ctx, repository.User{Username: args[0], PasswordHash: hash, Role: r, MustChangePassword: mustChange})
				if errors.Is(err, repository.ErrConflict) {
					return fmt.Errorf("users add: user %q exists", args[0])
				}
				if err != nil {
					return d.fail("users add", err)
				}
				msg := fmt.Sprintf("created user %s (%s", u.Username, u.Role)
				if u.MustChangePassword {
					msg += "; must change the password at the first login"
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), msg+")")
				return err
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", string(repository.RoleViewer), "`ROLE` of the account: admin or viewer")
	cmd.Flags().BoolVar(&mustChange, "must-change", true, "make the user choose a new password at the first login")
	return cmd
}

// newUsersPasswdCmd returns users passwd.
func newUsersPasswdCmd(a *app) *cobra.Command {
	var mustChange bool
	cmd := &cobra.Command{
		Use:   "passwd USERNAME",
		Short: "Set an account's password, reading it from the terminal or stdin",
		Long: `users passwd sets the password of USERNAME, read from the terminal (typed
twice) or, when stdin is not a terminal, as the first line of stdin; it is
stored as a bcrypt hash.

By default the user is not asked to change it again (the operator set a
password the user knows, e.g. their own after a lockout); with --must-change
the user must choose a new one at the next login. Note that 'decnet-db init'
re-syncs the seeded admin's hash from DECNET_ADMIN_PASSWORD while that admin
must change its password.`,
		Example: `  decnet-db users passwd admin
  printf '%s\n' "$TEMPORARY" | decnet-db users passwd bob --must-change`,
		Args: exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				u, err := lookupUser(d, "users passwd", args[0])
				if err != nil {
					return err
				}
				hash, err := a.newPasswordHash(d.cfg, u.Username)
				if err != nil {
					return err
				}
				if err := d.repo.UpdateUserPassword(d.ctx, u.UUID, hash, mustChange); err != nil {
					return d.fail("users passwd", err)
				}
				msg := "password of " + u.Username + " changed"
				if mustChange {
					msg += " (must change it at the next login)"
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), msg)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&mustChange, "must-change", false, "make the user choose a new password at the next login")
	return cmd
}

// newUsersRoleCmd returns users role.
func newUsersRoleCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "role USERNAME ROLE",
		Short: "Set an account's role (admin or viewer)",
		Long: `users role sets the role of USERNAME to ROLE, admin or viewer. Demoting the only
admin is refused: add or promote another admin first.`,
		Example: `  decnet-db users role bob admin
  decnet-db users role alice viewer`,
		Args: exactArgs("USERNAME", "ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := parseRole("ROLE", args[1])
			if err != nil {
				return err
			}
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				u, err := lookupUser(d, "users role", args[0])
				if err != nil {
					return err
				}
				if u.Role == repository.RoleAdmin && r != repository.RoleAdmin {
					if err := notLastAdmin(d, "users role", u); err != nil {
						return err
					}
				}
				if err := d.repo.UpdateUserRole(d.ctx, u.UUID, r); err != nil {
					return d.fail("users role", err)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "role of %s: %s (was %s)\n", u.Username, r, u.Role)
				return err
			})
		},
	}
}

// newUsersRmCmd returns users rm.
func newUsersRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rm USERNAME",
		Short: "Delete an account",
		Long: `users rm deletes the account USERNAME. Deleting the only admin is refused: add
or promote another admin first.`,
		Example: `  decnet-db users rm bob`,
		Args:    exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				u, err := lookupUser(d, "users rm", args[0])
				if err != nil {
					return err
				}
				if u.Role == repository.RoleAdmin {
					if err := notLastAdmin(d, "users rm", u); err != nil {
						return err
					}
				}
				ok, err := d.repo.DeleteUser(d.ctx, u.UUID)
				if err != nil {
					return d.fail("users rm", err)
				}
				if !ok {
					return fmt.Errorf("users rm: no user %q", args[0])
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted user %s\n", u.Username)
				return err
			})
		},
	}
}

// lookupUser returns the user named username; a missing one is an error
// that says how to list them.
func lookupUser(d *dataCtx, op, username string) (repository.User, error) {
	u, err := d.repo.UserByUsername(d.ctx, username)
	if errors.Is(err, repository.ErrNotFound) {
		return u, fmt.Errorf("%s: no user %q (see 'decnet-db users list')", op, username)
	}
	if err != nil {
		return u, d.fail(op, err)
	}
	return u, nil
}

// notLastAdmin refuses to take the admin role from u when u is the only
// admin.
func notLastAdmin(d *dataCtx, op string, u repository.User) error {
	us, err := d.repo.Users(d.ctx)
	if err != nil {
		return d.fail(op, err)
	}
	for _, o := range us {
		if o.Role == repository.RoleAdmin && o.UUID != u.UUID {
			return nil
		}
	}
	return fmt.Errorf("%s: %s is the only admin; add or promote another admin first", op, u.Username)
}

// newPasswordHash reads a new password for username and returns its
// bcrypt hash: from the terminal, typed twice without echo, or else the
// first line of stdin.
func (a *app) newPasswordHash(cfg config.Config, username string) (string, error) {
	var pw []byte
	if isTerminal(a.stdin) {
		f := a.stdin.(*os.File)
		read := func(prompt string) ([]byte, error) {
			fmt.Fprint(a.stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(a.stderr)
			return b, err
		}
		first, err := read("New password for " + username + ": ")
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		again, err := read("Repeat it: ")
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		if string(first) != string(again) {
			return "", errors.New("the two passwords differ; nothing was changed")
		}
		pw = first
	} else {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the password from stdin: %w", err)
		}
		pw = []byte(strings.TrimRight(line, "\r\n"))
	}
	if len(pw) == 0 {
		return "", usagef("the password is empty: type it at the prompt, or give it as the first line of stdin")
	}
	if len(pw) > 72 {
		return "", usagef("the password is %d bytes long; bcrypt uses at most 72", len(pw))
	}
	cost := cfg.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	hash, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	return string(hash), nil
}
