package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/repository"
)

// bountiesJSON is the --json output of bounties.
type bountiesJSON struct {
	Total    int64        `json:"total"`
	Limit    int          `json:"limit"`
	Offset   int          `json:"offset"`
	Bounties []bountyJSON `json:"bounties"`
}

// bountyJSON is a bounty of the bounties command's JSON; the payload is
// the JSON value itself.
type bountyJSON struct {
	ID         int64           `json:"id"`
	Timestamp  string          `json:"timestamp"`
	Decky      string          `json:"decky"`
	Service    string          `json:"service"`
	AttackerIP string          `json:"attacker_ip"`
	BountyType string          `json:"bounty_type"`
	Payload    json.RawMessage `json:"payload"`
}

// newBountiesCmd returns the bounties command.
func newBountiesCmd(a *app) *cobra.Command {
	var (
		typ, search   string
		limit, offset int
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "bounties",
		Short: "List the captures (bounties: credentials, payloads, files), newest first",
		Long: `bounties prints a page of the captures ("bounties") of the configured database,
newest first: ID, TIME (UTC), TYPE, ATTACKER, DECKY, SERVICE and PAYLOAD
(shortened), then how many match in all. --bounty-type keeps one bounty type
exactly; --search keeps those whose attacker IP, decky, service or payload
contains the text (case-insensitive for ASCII).

With --json it prints one JSON object instead:
  {"total": 12, "limit": 50, "offset": 0,
   "bounties": [{"id": 3, "timestamp": "2024-01-15T12:00:00Z", "decky": "...",
                 "service": "...", "attacker_ip": "...", "bounty_type": "credential",
                 "payload": {"username": "root", "password": "123456"}}]}
payload is the captured JSON value.`,
		Example: `  decnet-db bounties
  decnet-db bounties --bounty-type credential --search 203.0.113.7
  decnet-db bounties --json --limit 500 | jq '.bounties[].payload'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkPage(limit, offset); err != nil {
				return err
			}
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				f := repository.BountyFilter{BountyType: typ, Search: search}
				bs, err := d.repo.Bounties(d.ctx, repository.BountyQuery{BountyFilter: f, Limit: limit, Offset: offset})
				if err != nil {
					return d.fail("bounties", err)
				}
				total, err := d.repo.CountBounties(d.ctx, f)
				if err != nil {
					return d.fail("bounties: count", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					res := bountiesJSON{Total: total, Limit: limit, Offset: offset, Bounties: make([]bountyJSON, len(bs))}
					for i, b := range bs {
						res.Bounties[i] = bountyJSON{ID: b.ID, Timestamp: jsonTime(b.Timestamp), Decky: b.Decky, Service: b.Service,
							AttackerIP: b.AttackerIP, BountyType: b.BountyType, Payload: b.Payload}
					}
					return writeJSON(out, res)
				}
				if len(bs) > 0 {
					tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tTIME (UTC)\tTYPE\tATTACKER\tDECKY\tSERVICE\tPAYLOAD")
					for _, b := range bs {
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, fmtTime(b.Timestamp), truncate(b.BountyType, 20),
							orDash(b.AttackerIP), orDash(truncate(b.Decky, 24)), orDash(truncate(b.Service, 16)), truncate(string(b.Payload), 60))
					}
					if err := tw.Flush(); err != nil {
						return err
					}
				}
				return printPaging(out, "bounties", len(bs), total, offset)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&typ, "bounty-type", "", "only bounties of `TYPE` (e.g. credential); --type is the backend's")
	fl.StringVar(&search, "search", "", "only bounties whose attacker IP, decky, service or payload contains `TEXT`")
	fl.IntVar(&limit, "limit", repository.DefaultLimit, fmt.Sprintf("print at most `N` bounties (1 to %d)", repository.MaxLimit))
	fl.IntVar(&offset, "offset", 0, "skip the first `N` matching bounties (for the next page)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object (shape above) instead of a table")
	return cmd
}
