package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// progressFlags are the flags of the commands that show progress (ingest,
// export, import).
type progressFlags struct {
	quiet    bool
	interval time.Duration // between status lines when stderr is not a terminal
}

func (p *progressFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&p.quiet, "quiet", "q", false, "show no progress bar or status lines")
	f.DurationVar(&p.interval, "status-interval", 5*time.Second,
		"print a status line every `DURATION` when stderr is not a terminal")
}

// progress shows how far a long command is: a progress bar with rate and
// ETA when stderr is a terminal, else a status line every interval, else
// nothing (--quiet). It counts units (rows or bytes) against a total that
// is unknown when negative. Messages printed through Printf do not tear
// the bar. It is safe for concurrent use.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	bar      *progressbar.ProgressBar // the terminal's bar, or nil
	lines    bool                     // status lines (not a terminal, not quiet)
	label    string                   // "ingest", "export", "import"
	unit     string                   // "rows", or "" for bytes
	total    int64
	done     int64
	start    time.Time
	interval time.Duration
	last     time.Time
	detail   func() string // extra words for status lines, or nil
}

// newProgress returns the progress of label on a.stderr, counting unit
// ("" for bytes) up to total (negative: unknown).
func (a *app) newProgress(pf progressFlags, label, unit string, total int64) *progress {
	p := &progress{w: a.stderr, label: label, unit: unit, total: total, start: time.Now(), interval: pf.interval}
	p.last = p.start
	switch {
	case pf.quiet:
	case isTerminal(a.stderr):
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200 * time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		}
		if unit == "" {
			opts = append(opts, progressbar.OptionShowBytes(true))
		} else {
			opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
		}
		max := total
		if max < 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max, opts...)
	default:
		p.lines = pf.interval > 0
	}
	return p
}

// Set records that n units are done, and prints a status line when one is
// due.
func (p *progress) Set(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = n
	if p.bar != nil {
		_ = p.bar.Set64(n)
		return
	}
	if p.lines && time.Since(p.last) >= p.interval {
		p.last = time.Now()
		fmt.Fprintln(p.w, p.status())
	}
}

// status is one status line: what is done, the rate, and the share and ETA
// when the total is known.
func (p *progress) status() string {
	el := time.Since(p.start)
	rate := float64(p.done) / max(el.Seconds(), 1e-9)
	s := p.label + ": " + p.amount(p.done)
	if p.total >= 0 {
		if p.unit != "" {
			s = fmt.Sprintf("%s: %d of %s", p.label, p.done, p.amount(p.total))
		} else {
			s += " of " + p.amount(p.total)
		}
	}
	s += ", " + p.amount(int64(rate)) + "/s"
	if p.total > 0 {
		s += fmt.Sprintf(", %.0f%%", 100*float64(p.done)/float64(p.total))
		if rate > 0 && p.done < p.total {
			eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			s += ", ETA " + eta.Round(time.Second).String()
		}
	}
	if p.detail != nil {
		s += "; " + p.detail()
	}
	return s
}

// amount formats n units.
func (p *progress) amount(n int64) string {
	if p.unit != "" {
		return fmt.Sprintf("%d %s", n, p.unit)
	}
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Printf prints one message line on stderr without tearing the bar.
func (p *progress) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, format, args...)
}

// Finish removes the bar. Status lines end with none: the command prints
// its summary.
func (p *progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
		p.bar = nil
	}
	p.lines = false
}
