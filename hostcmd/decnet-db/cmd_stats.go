package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// statsJSON is the --json output of stats.
type statsJSON struct {
	TotalLogs       int64 `json:"total_logs"`
	UniqueAttackers int64 `json:"unique_attackers"`
	ActiveDeckies   int64 `json:"active_deckies"`
	DeployedDeckies int64 `json:"deployed_deckies"`
}

// newStatsCmd returns the stats command.
func newStatsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print the dashboard's headline numbers",
		Long: `stats prints the numbers at the top of DECNET's dashboard: the number of events
(logs), of distinct attacker IPs among them, of distinct deckies among them
(active), and of deckies in the deployment metadata (deployed).

With --json it prints one JSON object instead:
  {"total_logs": 1234, "unique_attackers": 56, "active_deckies": 4, "deployed_deckies": 5}`,
		Example: `  decnet-db stats
  decnet-db stats --json | jq .unique_attackers`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				s, err := d.repo.Stats(d.ctx)
				if err != nil {
					return d.fail("stats", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					return writeJSON(out, statsJSON{TotalLogs: s.TotalLogs, UniqueAttackers: s.UniqueAttackers,
						ActiveDeckies: s.ActiveDeckies, DeployedDeckies: s.DeployedDeckies})
				}
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "events (logs):\t%d\n", s.TotalLogs)
				fmt.Fprintf(tw, "unique attackers:\t%d\n", s.UniqueAttackers)
				fmt.Fprintf(tw, "active deckies:\t%d\n", s.ActiveDeckies)
				fmt.Fprintf(tw, "deployed deckies:\t%d\n", s.DeployedDeckies)
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object (shape above) instead of a table")
	return cmd
}
