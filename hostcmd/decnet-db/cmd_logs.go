package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/repository"
)

// logFilterFlags are the --search, --since and --until flags of logs and
// histogram.
type logFilterFlags struct {
	search, since, until string
}

func (f *logFilterFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.search, "search", "", "DECNET's search `QUERY` (see above)")
	fl.StringVar(&f.since, "since", "", "only events at or after `TIME` (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" UTC, or YYYY-MM-DD)")
	fl.StringVar(&f.until, "until", "", "only events at or before `TIME` (same forms as --since)")
}

// filter parses the flags; bad times are usage errors naming the flag.
func (f *logFilterFlags) filter() (repository.LogFilter, error) {
	since, err := parseTimeFlag("since", f.since)
	if err != nil {
		return repository.LogFilter{}, err
	}
	until, err := parseTimeFlag("until", f.until)
	if err != nil {
		return repository.LogFilter{}, err
	}
	if !since.IsZero() && !until.IsZero() && since.After(until) {
		return repository.LogFilter{}, usagef("--since %s is after --until %s", f.since, f.until)
	}
	return repository.LogFilter{Search: f.search, Since: since, Until: until}, nil
}

// searchHelp documents DECNET's search syntax for the commands' help.
const searchHelp = `--search takes DECNET's search syntax: whitespace-separated tokens (quotes
group words), all of which must hold. decky:X, service:X, event:X and
attacker:X (or attacker-ip:X, attacker_ip:X) match those columns exactly; any
other key:value matches the field "key" of the event's fields exactly; a bare
word matches a substring of the raw line, decky, service or attacker IP.
--since and --until bound the timestamp, both inclusive: RFC 3339
(2024-01-15T12:00:00Z), "YYYY-MM-DD HH:MM:SS" (UTC) or YYYY-MM-DD (midnight
UTC).`

// logsJSON is the --json output of logs.
type logsJSON struct {
	Total  int64        `json:"total"`
	Limit  int          `json:"limit"`
	Offset int          `json:"offset"`
	Logs   []archiveLog `json:"logs"`
}

// newLogsCmd returns the logs command.
func newLogsCmd(a *app) *cobra.Command {
	var (
		ff            logFilterFlags
		limit, offset int
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "List the events (logs) that match, newest first",
		Long: `logs prints a page of the events of the configured database that match, newest
first (by timestamp, then id), as a table: ID, TIME (UTC), DECKY, SERVICE,
EVENT, ATTACKER and MSG (shortened), then how many match in all.

` + searchHelp + `

With --json it prints one JSON object instead:
  {"total": 1234, "limit": 50, "offset": 0,
   "logs": [{"id": 7, "timestamp": "2024-01-15T12:00:00.123456Z", "decky": "...",
             "service": "...", "event_type": "...", "attacker_ip": "...",
             "raw_line": "...", "fields": {"k": "v"}, "msg": "...",
             "trace_id": "...", "span_id": "..."}]}
total counts every match; timestamps are RFC 3339 in UTC.`,
		Example: `  decnet-db logs
  decnet-db logs --search 'service:ssh event:login_attempt username:root' --limit 20
  decnet-db logs --search 'attacker:203.0.113.7' --since 2024-01-15 --until '2024-01-16 12:00:00'
  decnet-db logs --json --limit 1000 --offset 1000 | jq '.logs[].attacker_ip'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ff.filter()
			if err != nil {
				return err
			}
			if err := checkPage(limit, offset); err != nil {
				return err
			}
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				logs, err := d.repo.Logs(d.ctx, repository.LogQuery{LogFilter: f, Limit: limit, Offset: offset})
				if err != nil {
					return d.fail("logs", err)
				}
				total, err := d.repo.CountLogs(d.ctx, f)
				if err != nil {
					return d.fail("logs: count", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					res := logsJSON{Total: total, Limit: limit, Offset: offset, Logs: make([]archiveLog, len(logs))}
					for i, l := range logs {
						res.Logs[i] = toArchiveLog(l)
					}
					return writeJSON(out, res)
				}
				return printLogs(out, logs, total, offset)
			})
		},
	}
	ff.add(cmd)
	fl := cmd.Flags()
	fl.IntVar(&limit, "limit", repository.DefaultLimit, fmt.Sprintf("print at most `N` events (1 to %d)", repository.MaxLimit))
	fl.IntVar(&offset, "offset", 0, "skip the first `N` matching events (for the next page)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object (shape above) instead of a table")
	return cmd
}

// printLogs prints the logs as a table and the paging line.
func printLogs(w io.Writer, logs []repository.Log, total int64, offset int) error {
	if len(logs) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME (UTC)\tDECKY\tSERVICE\tEVENT\tATTACKER\tMSG")
		for _, l := range logs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, fmtTime(l.Timestamp), orDash(truncate(l.Decky, 24)),
				orDash(truncate(l.Service, 16)), orDash(truncate(l.EventType, 20)), orDash(l.AttackerIP), orDash(truncate(l.Msg, 60)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return printPaging(w, "events", len(logs), total, offset)
}

// printPaging prints "N of TOTAL things", and how to get the next page.
func printPaging(w io.Writer, things string, n int, total int64, offset int) error {
	var err error
	switch {
	case total == 0:
		_, err = fmt.Fprintf(w, "no %s match\n", things)
	case n == 0:
		_, err = fmt.Fprintf(w, "no %s at offset %d (%d match)\n", things, offset, total)
	case int64(offset+n) < total:
		_, err = fmt.Fprintf(w, "\n%s %d-%d of %d; next page: --offset %d\n", things, offset+1, offset+n, total, offset+n)
	default:
		_, err = fmt.Fprintf(w, "\n%s %d-%d of %d\n", things, offset+1, offset+n, total)
	}
	return err
}
