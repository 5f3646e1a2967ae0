package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// histogramJSON is the --json output of histogram.
type histogramJSON struct {
	IntervalSeconds int64        `json:"interval_seconds"`
	Buckets         []bucketJSON `json:"buckets"`
}

type bucketJSON struct {
	Start string `json:"start"`
	Count int64  `json:"count"`
}

// newHistogramCmd returns the histogram command.
func newHistogramCmd(a *app) *cobra.Command {
	var (
		ff       logFilterFlags
		interval time.Duration
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "histogram",
		Short: "Count the events that match per time interval",
		Long: `histogram counts the events of the configured database that match per
--interval (a whole number of seconds, at least 1s; default 15m), in buckets
aligned to the Unix epoch, oldest first; empty buckets are left out. It prints
START (UTC), COUNT and a bar.

` + searchHelp + `

With --json it prints one JSON object instead:
  {"interval_seconds": 900,
   "buckets": [{"start": "2024-01-15T12:00:00Z", "count": 42}]}`,
		Example: `  decnet-db histogram
  decnet-db histogram --interval 1h --search service:ssh --since 2024-01-15
  decnet-db histogram --interval 24h --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ff.filter()
			if err != nil {
				return err
			}
			if interval < time.Second || interval%time.Second != 0 {
				return usagef("--interval must be a whole number of seconds, at least 1s, got %s", interval)
			}
			return a.withData(cmd.Context(), func(d *dataCtx) error {
				buckets, err := d.repo.LogHistogram(d.ctx, f, interval)
				if err != nil {
					return d.fail("histogram", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					res := histogramJSON{IntervalSeconds: int64(interval / time.Second), Buckets: make([]bucketJSON, len(buckets))}
					for i, b := range buckets {
						res.Buckets[i] = bucketJSON{Start: jsonTime(b.Start), Count: b.Count}
					}
					return writeJSON(out, res)
				}
				if len(buckets) == 0 {
					_, err := fmt.Fprintln(out, "no events match")
					return err
				}
				var most, total int64
				for _, b := range buckets {
					most = max(most, b.Count)
					total += b.Count
				}
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "START (UTC)\tCOUNT")
				for _, b := range buckets {
					bar := strings.Repeat("#", int((b.Count*40+most-1)/most))
					fmt.Fprintf(tw, "%s\t%d\t%s\n", fmtTime(b.Start), b.Count, bar)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				_, err = fmt.Fprintf(out, "\n%d events in %d buckets of %s\n", total, len(buckets), interval)
				return err
			})
		},
	}
	ff.add(cmd)
	cmd.Flags().DurationVar(&interval, "interval", 15*time.Minute, "bucket width `DURATION` (e.g. 30s, 15m, 1h, 24h)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object (shape above) instead of a table")
	return cmd
}
