package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/repository"
)

// usageError is a mistake on the command line: an unknown flag, command
// or argument, or a flag value that makes no sense. It exits 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with the formatted message.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// isUsage reports whether err is a command-line mistake: a usageError, or
// any error cobra returned before a command started (unknown command,
// missing required flag, ...).
func (a *app) isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue) || !a.started
}

// exitCode maps an error to the exit code: 2 for usage and configuration
// errors (config.ErrConfig, repository.ErrUnknownDriver), 1 for the rest.
func (a *app) exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case a.isUsage(err), errors.Is(err, config.ErrConfig), errors.Is(err, repository.ErrUnknownDriver):
		return exitUsage
	default:
		return exitFail
	}
}

// oneLine joins the non-empty lines of s with "; " (errors.Join puts one
// error a line).
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// noArgs is the Args of a command that takes no positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%q takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// unknownCommand is the Args of a command that only holds subcommands:
// cobra passes it the words that matched no subcommand.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", strings.Join(s, `" or "`))
	}
	return &usageError{errors.New(msg)}
}

// maxArgs is the Args of a command that takes at most n positional
// arguments.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%q takes at most %d argument(s), got %d: %q", cmd.CommandPath(), n, len(args), args)
		}
		return nil
	}
}

// exactArgs is the Args of a command that takes exactly the arguments
// named in use (e.g. "USERNAME").
func exactArgs(use ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(use) {
			return usagef("%q takes %s, got %d argument(s)", cmd.CommandPath(), strings.Join(use, " "), len(args))
		}
		return nil
	}
}
