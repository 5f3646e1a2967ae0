package main

import (
	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/config"
)

// newRootCmd builds the command tree. A new command is a newXxxCmd(a)
// function in its own cmd_xxx.go file, added below; it has Short, Long and
// Example, Args (noArgs when it takes none), and a RunE that returns errors
// instead of printing them. It must not set PersistentPreRunE (the root's
// marks the start of the command's own code, see app.started). A command
// that only holds subcommands goes through group.
func newRootCmd(a *app) *cobra.Command {
	root := group(&cobra.Command{
		Use:   "decnet-db",
		Short: "Manage the storage of DECNET, the honeypot deception-network framework",
		Long: `decnet-db manages the storage of DECNET: it lists the backends it can open,
creates the schema and the admin user, diagnoses the configured backend, runs
the conformance suite that every backend passes, and empties it (reset). It
ingests DECNET's collector output (ingest), queries the data (logs, stats,
histogram, bounties, attackers, state), manages the dashboard's accounts
(users), and moves every table between backends (export, then import).
Query commands print tables, or one documented JSON shape with --json.

The backend is chosen with DECNET_DB_TYPE (default sqlite) and configured with
DECNET's variables: DECNET_DB_PATH (the SQLite file, default decnet.db),
DECNET_DB_URL, or DECNET_DB_HOST, _PORT, _NAME, _USER and _PASSWORD, the
DECNET_DB_POOL_* settings, DECNET_ADMIN_USER and DECNET_ADMIN_PASSWORD.
Settings are resolved highest first: flags, the DECNET_* environment, the
config file (--config or DECNET_DB_CONFIG; TOML or YAML, keys are the variable
names without DECNET_ in lower case, e.g. db_path), the defaults.

Exit codes:
  0  success
  1  the operation failed (the backend cannot be reached, a check failed, a
     line could not be ingested, ...)
  2  usage or configuration error (unknown command or flag, bad DECNET_* value,
     unknown backend type)

Errors are printed as one line on stderr, "decnet-db: <message>". Passwords are
never printed. SIGINT or SIGTERM stops the command cleanly; a second one ends
it at once.`,
		Example: `  # list the backends this binary can open
  decnet-db drivers

  # create the schema and the admin user in /var/lib/decnet/decnet.db
  DECNET_ADMIN_PASSWORD='change me' decnet-db init --path /var/lib/decnet/decnet.db

  # check the backend configured in a file
  decnet-db doctor --config /etc/decnet/db.toml

  # run the conformance suite on scratch storage of the configured type
  decnet-db conformance

  # store the collector's output, then query it
  decnet-db ingest /var/log/decnet/decnet.json
  decnet-db logs --search 'service:ssh attacker:203.0.113.7'

  # move every table from SQLite to MySQL
  decnet-db export --out decnet.jsonl.gz
  DECNET_DB_TYPE=mysql DECNET_DB_URL='mysql://decnet:pw@db:3306/decnet' decnet-db import decnet.jsonl.gz`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			a.started = true
			return nil
		},
	})
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })

	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.config, "config", "",
		"read settings from `FILE` (TOML or YAML); overrides "+config.VarConfig)
	pf.StringVar(&a.flags.typ, "type", "",
		"backend `TYPE` (see 'decnet-db drivers'); overrides "+config.VarType+" (default "+config.DefaultType+")")
	pf.StringVar(&a.flags.path, "path", "",
		"SQLite database `FILE`; overrides "+config.VarPath+" (default "+config.DefaultPath+")")
	pf.StringVar(&a.flags.url, "url", "",
		"connection `URL` of a server backend; overrides "+config.VarURL+
			"; other local users can see flags, so give a URL with a password in "+config.VarURL)

	root.AddCommand(
		newDriversCmd(a),
		newInitCmd(a),
		newDoctorCmd(a),
		newConformanceCmd(a),
		newResetCmd(a),
		newIngestCmd(a),
		newLogsCmd(a),
		newStatsCmd(a),
		newHistogramCmd(a),
		newBountiesCmd(a),
		newAttackersCmd(a),
		newStateCmd(a),
		newUsersCmd(a),
		newExportCmd(a),
		newImportCmd(a),
	)
	root.SetHelpCommand(newHelpCmd())
	addCompletionExamples(root)
	return root
}

// group makes cmd a command that only holds subcommands: without one it
// prints its help, and an unknown one is a usage error (cobra would print
// the help and succeed).
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = unknownCommand
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return cmd
}

// newHelpCmd replaces cobra's help command, which exits the process on an
// error and has no example.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "help prints the help of a command: its flags, examples and, for decnet-db itself, the exit codes.",
		Example: `  decnet-db help
  decnet-db help conformance`,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return usagef("unknown help topic %q", args)
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}

// addCompletionExamples adds cobra's completion command now, so that its
// help and its shells' get an example like every other command.
func addCompletionExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = `  decnet-db completion bash > /etc/bash_completion.d/decnet-db
  decnet-db completion zsh > "${fpath[1]}/_decnet-db"`
		for _, sh := range c.Commands() {
			sh.Example = completionExample(sh.Name())
		}
	}
}

// completionExample loads the completion script of shell in the current
// session.
func completionExample(shell string) string {
	switch shell {
	case "fish":
		return "  decnet-db completion fish | source"
	case "powershell":
		return "  decnet-db completion powershell | Out-String | Invoke-Expression"
	default:
		return "  source <(decnet-db completion " + shell + ")"
	}
}
