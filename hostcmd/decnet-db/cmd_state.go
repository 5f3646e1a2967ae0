package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/repository"
)

// newStateCmd returns the state command and its subcommands.
func newStateCmd(a *app) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "state",
		Short: "Read and write the dashboard's state (JSON values by key)",
		Long: `state reads and writes DECNET's dashboard state: JSON values (up to 16 MiB) by
key, such as the deployment DECNET keeps between runs.`,
		Example: `  decnet-db state list
  decnet-db state get deployment
  decnet-db state set maintenance '{"enabled": true}'`,
	})
	cmd.AddCommand(newStateListCmd(a), newStateGetCmd(a), newStateSetCmd(a))
	return cmd
}

// newStateListCmd returns state list.
func newStateListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the keys of the dashboard's state",
		Long: `state list prints the keys of the dashboard's state, sorted, one a line.

With --json it prints one JSON object instead: {"keys": ["deployment", ...]}.`,
		Example: `  decnet-db state list
  decnet-db state list --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				keys, err := d.repo.StateKeys(d.ctx)
				if err != nil {
					return d.fail("state list", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					return writeJSON(out, struct {
						Keys []string `json:"keys"`
					}{orEmpty(keys)})
				}
				for _, k := range keys {
					if _, err := fmt.Fprintln(out, k); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"keys": [...]} instead of one key a line`)
	return cmd
}

// newStateGetCmd returns state get.
func newStateGetCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print the JSON value of a key of the dashboard's state",
		Long: `state get prints the value of KEY exactly as it is stored (JSON), followed by a
newline. A key that does not exist is an error (exit 1).

With --json it prints one JSON object instead: {"key": "KEY", "value": VALUE}.`,
		Example: `  decnet-db state get deployment
  decnet-db state get deployment | jq .deckies`,
		Args: exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				v, err := d.repo.State(d.ctx, args[0])
				if errors.Is(err, repository.ErrNotFound) {
					return fmt.Errorf("state get: no key %q (see 'decnet-db state list')", args[0])
				}
				if err != nil {
					return d.fail("state get", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					return writeJSON(out, struct {
						Key   string          `json:"key"`
						Value json.RawMessage `json:"value"`
					}{args[0], v})
				}
				_, err = fmt.Fprintf(out, "%s\n", v)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"key": KEY, "value": VALUE} instead of the value`)
	return cmd
}

// newStateSetCmd returns state set.
func newStateSetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "set KEY [JSON|-]",
		Short: "Set a key of the dashboard's state to a JSON value",
		Long: `state set stores JSON as the value of KEY, replacing the value it had. The value
is the second argument or, when it is - or absent, stdin (without its final
newline). It must be valid JSON (exit 2 otherwise) of at most 16 MiB; it is
stored exactly as given, whitespace included.`,
		Example: `  decnet-db state set maintenance '{"enabled": true, "until": "2024-02-01"}'
  decnet-db state set deployment - < deployment.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usagef("%q takes KEY and an optional JSON value, got %d argument(s)", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			key := args[0]
			var value []byte
			if len(args) == 2 && args[1] != "-" {
				value = []byte(args[1])
			} else {
				if isTerminal(a.stdin) {
					return usagef("give the JSON value as an argument, or pipe it to stdin")
				}
				if value, err = io.ReadAll(io.LimitReader(a.stdin, repository.MaxLargeLen+2)); err != nil {
					return fmt.Errorf("state set: read stdin: %w", err)
				}
				value = bytes.TrimRight(value, "\r\n")
			}
			if !json.Valid(value) {
				var v any
				jerr := json.Unmarshal(value, &v)
				return usagef("state set %q: the value is not valid JSON: %v", key, jerr)
			}
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				if err := d.repo.SetState(d.ctx, key, value); err != nil {
					return d.fail("state set", err)
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "state %q set (%d bytes)\n", key, len(value))
				return err
			})
		},
	}
}
