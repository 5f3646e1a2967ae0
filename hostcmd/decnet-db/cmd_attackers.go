package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/repository"
)

// attackersJSON is the --json output of attackers.
type attackersJSON struct {
	Total     int64          `json:"total"`
	Limit     int            `json:"limit"`
	Offset    int            `json:"offset"`
	Attackers []attackerJSON `json:"attackers"`
}

// attackerJSON is an attacker profile of the attackers command's JSON:
// the archive's attacker record with the fingerprints as a JSON value and
// the number of commands instead of the commands.
type attackerJSON struct {
	UUID            string          `json:"uuid"`
	IP              string          `json:"ip"`
	FirstSeen       string          `json:"first_seen"`
	LastSeen        string          `json:"last_seen"`
	EventCount      int64           `json:"event_count"`
	ServiceCount    int64           `json:"service_count"`
	DeckyCount      int64           `json:"decky_count"`
	Services        []string        `json:"services"`
	Deckies         []string        `json:"deckies"`
	TraversalPath   string          `json:"traversal_path"`
	IsTraversal     bool            `json:"is_traversal"`
	BountyCount     int64           `json:"bounty_count"`
	CredentialCount int64           `json:"credential_count"`
	Fingerprints    json.RawMessage `json:"fingerprints"`
	CommandCount    int             `json:"command_count"`
	UpdatedAt       string          `json:"updated_at"`
}

// newAttackersCmd returns the attackers command.
func newAttackersCmd(a *app) *cobra.Command {
	var (
		search, service, sort string
		limit, offset         int
		asJSON                bool
	)
	cmd := &cobra.Command{
		Use:   "attackers",
		Short: "List the attacker profiles",
		Long: `attackers prints a page of the attacker profiles of the configured database:
IP, FIRST SEEN and LAST SEEN (UTC), EVENTS, SERVICES, DECKIES, BOUNTIES,
TRAVERSAL (the path across deckies, when there is one) and UUID, then how many
match in all. --search keeps the IPs that contain the text, --service the
attackers that used that service. --sort orders them: recent (last seen,
newest first; the default), active (most events first) or traversals (those
that moved between deckies first).

With --json it prints one JSON object instead:
  {"total": 56, "limit": 50, "offset": 0,
   "attackers": [{"uuid": "...", "ip": "203.0.113.7",
                  "first_seen": "2024-01-15T12:00:00Z", "last_seen": "...",
                  "event_count": 120, "service_count": 2, "decky_count": 3,
                  "services": ["ssh", "http"], "deckies": ["..."],
                  "traversal_path": "...", "is_traversal": true,
                  "bounty_count": 4, "credential_count": 3,
                  "fingerprints": [...] or null, "command_count": 17,
                  "updated_at": "..."}]}`,
		Example: `  decnet-db attackers
  decnet-db attackers --sort active --limit 10
  decnet-db attackers --service ssh --search 203.0.113. --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkPage(limit, offset); err != nil {
				return err
			}
			s, err := repository.AttackerSort(sort).Validate()
			if err != nil {
				return usagef("--sort %q: want recent, active or traversals", sort)
			}
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				f := repository.AttackerFilter{Search: search, Service: service}
				as, err := d.repo.Attackers(d.ctx, repository.AttackerQuery{AttackerFilter: f, Sort: s, Limit: limit, Offset: offset})
				if err != nil {
					return d.fail("attackers", err)
				}
				total, err := d.repo.CountAttackers(d.ctx, f)
				if err != nil {
					return d.fail("attackers: count", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					res := attackersJSON{Total: total, Limit: limit, Offset: offset, Attackers: make([]attackerJSON, len(as))}
					for i, at := range as {
						res.Attackers[i] = attackerJSON{UUID: at.UUID, IP: at.IP, FirstSeen: jsonTime(at.FirstSeen),
							LastSeen: jsonTime(at.LastSeen), EventCount: at.EventCount, ServiceCount: at.ServiceCount,
							DeckyCount: at.DeckyCount, Services: orEmpty(at.Services), Deckies: orEmpty(at.Deckies),
							TraversalPath: at.TraversalPath, IsTraversal: at.IsTraversal, BountyCount: at.BountyCount,
							CredentialCount: at.CredentialCount, Fingerprints: at.Fingerprints, CommandCount: len(at.Commands),
							UpdatedAt: jsonTime(at.UpdatedAt)}
						if res.Attackers[i].Fingerprints == nil {
							res.Attackers[i].Fingerprints = json.RawMessage("null")
						}
					}
					return writeJSON(out, res)
				}
				if len(as) > 0 {
					tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "IP\tFIRST SEEN\tLAST SEEN\tEVENTS\tSERVICES\tDECKIES\tBOUNTIES\tTRAVERSAL\tUUID")
					for _, at := range as {
						trav := "-"
						if at.IsTraversal {
							trav = orDash(truncate(at.TraversalPath, 40))
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\n", at.IP, fmtTime(at.FirstSeen), fmtTime(at.LastSeen),
							at.EventCount, orDash(truncate(strings.Join(at.Services, ","), 30)), at.DeckyCount, at.BountyCount, trav, at.UUID)
					}
					if err := tw.Flush(); err != nil {
						return err
					}
				}
				return printPaging(out, "attackers", len(as), total, offset)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&search, "search", "", "only attackers whose IP contains `TEXT`")
	fl.StringVar(&service, "service", "", "only attackers that used `SERVICE`")
	fl.StringVar(&sort, "sort", string(repository.SortRecent), "sort in `ORDER`: recent, active or traversals")
	fl.IntVar(&limit, "limit", repository.DefaultLimit, fmt.Sprintf("print at most `N` attackers (1 to %d)", repository.MaxLimit))
	fl.IntVar(&offset, "offset", 0, "skip the first `N` matching attackers (for the next page)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object (shape above) instead of a table")
	return cmd
}
