package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/repository"
)

// Limits of ingest.
const (
	defaultIngestBatch = 1000
	// maxIngestLine is the longest input line: a log's fields may hold up
	// to repository.MaxLargeLen bytes, its raw line and message up to
	// repository.MaxTextLen each, all JSON-escaped.
	maxIngestLine = 48 << 20
)

// ingestOptions are the flags of ingest.
type ingestOptions struct {
	format   string
	batch    int
	skip     int64
	strict   bool
	flush    time.Duration
	progress progressFlags
}

// newIngestCmd returns the ingest command.
func newIngestCmd(a *app) *cobra.Command {
	var o ingestOptions
	cmd := &cobra.Command{
		Use:   "ingest [FILE|-]",
		Short: "Store DECNET collector lines (JSON or RFC 5424 syslog) as logs",
		Long: `ingest reads DECNET's collector output from FILE (gzip when it ends in .gz),
or from stdin when FILE is - or absent, and stores every line as a log of the
configured database, in batches of --batch lines (each batch one transaction).
A partial batch is stored after --flush-interval without new input, so that
'tail -F collector.json | decnet-db ingest' keeps up.

--format json (default): one JSON object a line, as DECNET's collector writes
them:
  {"timestamp": "2024-01-15 12:00:00", "decky": "decky-01", "service": "ssh",
   "event_type": "login_attempt", "attacker_ip": "203.0.113.7",
   "fields": {"username": "root", "password": "123456"},
   "msg": "...", "raw_line": "<134>1 ...", "trace_id": "...", "span_id": "..."}
timestamp (YYYY-MM-DD HH:MM:SS in UTC, or RFC 3339), decky, service,
event_type and attacker_ip are required and not empty; fields (an object of
strings; other JSON values are kept as their JSON text), msg, raw_line,
trace_id and span_id may be absent.

--format rfc5424: DECNET's syslog lines,
  <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [decnet@55555 k="v" ...] MSG
parsed as DECNET's collector does: decky = HOSTNAME, service = APP-NAME,
event_type = MSGID, fields = the parameters of the decnet@55555 element
(escapes \" \\ \] undone), msg = MSG, raw_line = the line, attacker_ip = the
first of src_ip, src, client_ip, remote_ip, remote_addr, target_ip and ip
("Unknown" when none is there).

A bad line (not JSON or not RFC 5424, a required field missing, a bad
timestamp, a value over a size limit) is reported on stderr as
"FILE:LINE: reason" and counted, and the other lines are stored; ingest then
exits 1. With --strict it stops at the first bad line, after storing the lines
before it. Blank lines are ignored.

On Ctrl-C (SIGINT) or SIGTERM, ingest stops reading, lets the batch being
written commit, and says how many logs were committed and the --skip N that
resumes after them: every line up to N is stored (or was reported bad), no
line after N is.

Progress: a bar with rate and ETA when stderr is a terminal, else a status
line every --status-interval; --quiet shows neither. The summary goes to
stdout.`,
		Example: `  # the collector's JSON output
  decnet-db ingest /var/log/decnet/decnet.json

  # syslog lines, stopping at the first bad one
  decnet-db ingest --format rfc5424 --strict /var/log/decnet/decnet.log

  # follow the live collector
  tail -F /var/log/decnet/decnet.json | decnet-db ingest -

  # resume an interrupted ingest after its first 250000 lines
  decnet-db ingest --skip 250000 decnet.json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != formatJSON && o.format != formatRFC5424 {
				return usagef("--format %q: want json or rfc5424", o.format)
			}
			if o.batch < 1 || o.batch > repository.MaxLimit {
				return usagef("--batch must be between 1 and %d, got %d", repository.MaxLimit, o.batch)
			}
			if o.skip < 0 {
				return usagef("--skip must not be negative, got %d", o.skip)
			}
			if o.flush <= 0 {
				return usagef("--flush-interval must be positive, got %s", o.flush)
			}
			name := "-"
			if len(args) == 1 {
				name = args[0]
			} else if isTerminal(a.stdin) {
				return usagef("ingest reads FILE, or stdin when it is not a terminal; give a FILE, or - to type lines")
			}
			return a.ingest(cmd.Context(), cmd.OutOrStdout(), name, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", formatJSON, "input `FORMAT`: json (DECNET's collector lines) or rfc5424 (its syslog lines)")
	f.IntVar(&o.batch, "batch", defaultIngestBatch, "store `N` lines per transaction")
	f.Int64Var(&o.skip, "skip", 0, "skip the first `N` lines of the input (to resume an interrupted ingest)")
	f.BoolVar(&o.strict, "strict", false, "stop at the first bad line")
	f.DurationVar(&o.flush, "flush-interval", time.Second, "store a partial batch after `DURATION` without new input")
	o.progress.add(cmd)
	return cmd
}

// ingestItem is one parsed input line: a log, or why the line is bad.
type ingestItem struct {
	line int64
	log  repository.Log
	bad  string // the reason the line is bad; empty for a log
}

// ingestGroup is what the reader hands the writer: the lines parsed since
// the previous group, in order.
type ingestGroup struct {
	items []ingestItem
	end   int64 // the number of the last line read (skipped lines included)
	bytes int64 // input bytes read so far
	err   error // a read error: the input ends here
	stop  bool  // --strict stopped at a bad line: the input ends here
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// ingest reads name ("-" for stdin) and stores its lines; see newIngestCmd.
func (a *app) ingest(ctx context.Context, out io.Writer, name string, o ingestOptions) error {
	display := name
	var src io.Reader = a.stdin
	size := int64(-1)
	if name == "-" {
		display = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		defer f.Close()
		src = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	counter := &countingReader{r: src}
	var in io.Reader = counter
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(counter)
		if err != nil {
			return fmt.Errorf("ingest: %s: %w", name, err)
		}
		in = zr
	}

	return a.withData(ctx, func(d *dataCtx) error {
		unit, total := "", size
		if size < 0 {
			unit = "lines"
		}
		prog := a.newProgress(o.progress, "ingest", unit, total)
		w := &ingestWriter{repo: d.repo, o: o, display: display, prog: prog, resume: o.skip, start: time.Now()}
		prog.detail = func() string { return fmt.Sprintf("%d logs committed, %d bad lines", w.committed, w.bad) }

		groups := make(chan ingestGroup, 4)
		done := make(chan struct{})
		defer close(done)
		parse := newCollectorParser().parse
		if o.format == formatRFC5424 {
			parse = parseRFC5424
		}
		go readIngest(in, counter, parse, o, groups, done)

		runErr := w.run(d.ctx, groups, size >= 0)
		prog.Finish()
		w.summary(out)
		switch {
		case d.ctx.Err() != nil:
			// Not wrapping ctx.Err(): run would replace this message by
			// "interrupted".
			return fmt.Errorf("ingest interrupted: %d logs committed; resume with --skip %d", w.committed, w.resume)
		case runErr != nil:
			return d.fail("ingest", fmt.Errorf("%w; %d logs committed; resume with --skip %d", runErr, w.committed, w.resume))
		case w.bad > 0:
			return fmt.Errorf("ingest: %d bad lines were not stored (reported above); the other %d logs are committed", w.bad, w.committed)
		}
		return nil
	})
}

// readIngest reads lines from in, skips the first o.skip, parses the rest
// and sends them in groups: at most o.batch lines, and whatever is parsed
// before a read that may block (so that a slow stream is not held back).
// It closes groups at the end of the input, and returns early when done
// is closed.
func readIngest(in io.Reader, counter *countingReader, parse func([]byte) (repository.Log, error), o ingestOptions, groups chan<- ingestGroup, done <-chan struct{}) {
	defer close(groups)
	br := bufio.NewReaderSize(in, 1<<20)
	var g ingestGroup
	send := func() bool {
		g.bytes = counter.n.Load()
		select {
		case groups <- g:
			g = ingestGroup{end: g.end}
			return true
		case <-done:
			return false
		}
	}
	var (
		long     []byte // a line longer than the buffer, being assembled
		overLong bool   // that line exceeds maxIngestLine: its bytes are dropped
	)
	for {
		if len(g.items) > 0 && br.Buffered() == 0 {
			if !send() {
				return
			}
		}
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if overLong = overLong || len(long)+len(chunk) > maxIngestLine; overLong {
				long = long[:0]
			} else {
				long = append(long, chunk...)
			}
			continue
		}
		if len(chunk) == 0 && err != nil {
			if !errors.Is(err, io.EOF) {
				g.err = err
			}
			send()
			return
		}
		line := chunk
		tooLong := overLong || len(long)+len(chunk) > maxIngestLine
		if long != nil {
			line = append(long, chunk...)
			long, overLong = nil, false
		}
		g.end++
		if g.end > o.skip {
			line = trimEOL(line)
			switch {
			case tooLong:
				g.items = append(g.items, ingestItem{line: g.end, bad: fmt.Sprintf("the line is longer than %d MiB", maxIngestLine>>20)})
			case len(strings.TrimSpace(string(line))) == 0:
			default:
				l, perr := parse(line)
				if perr == nil {
					perr = l.Validate()
				}
				if perr != nil {
					g.items = append(g.items, ingestItem{line: g.end, bad: strings.TrimPrefix(perr.Error(), "repository: ")})
				} else {
					g.items = append(g.items, ingestItem{line: g.end, log: l})
				}
			}
			if o.strict && len(g.items) > 0 && g.items[len(g.items)-1].bad != "" {
				g.stop = true
				send()
				return
			}
		}
		if err != nil { // the last line had no newline
			if !errors.Is(err, io.EOF) {
				g.err = err
			}
			send()
			return
		}
		if len(g.items) >= o.batch {
			if !send() {
				return
			}
		}
	}
}

// trimEOL removes the line's "\n" or "\r\n".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// ingestWriter stores the groups readIngest sends, in batches.
type ingestWriter struct {
	repo    repository.Repository
	o       ingestOptions
	display string
	prog    *progress
	start   time.Time

	pending   []repository.Log
	lastLine  int64 // the line of the last pending log
	since     time.Time
	committed int64
	bad       int64
	end       int64 // the last line read
	resume    int64 // every line up to resume is stored or reported bad
}

// run stores every group until the input ends, a batch fails, --strict
// stops, or ctx is cancelled.
func (w *ingestWriter) run(ctx context.Context, groups <-chan ingestGroup, byBytes bool) error {
	tick := time.NewTicker(w.o.flush / 2)
	defer tick.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if len(w.pending) > 0 && time.Since(w.since) >= w.o.flush {
				if err := w.flush(ctx); err != nil {
					return err
				}
			}
		case g, ok := <-groups:
			if !ok {
				return w.flush(ctx)
			}
			if err := w.take(ctx, g); err != nil {
				return err
			}
			if byBytes {
				w.prog.Set(g.bytes)
			} else {
				w.prog.Set(w.end - w.o.skip)
			}
			if g.err != nil || g.stop {
				ferr := w.flush(ctx)
				if g.err != nil {
					return errors.Join(fmt.Errorf("read %s after line %d: %w", w.display, g.end, g.err), ferr)
				}
				if ferr != nil {
					return ferr
				}
				bad := g.items[len(g.items)-1]
				w.resume = bad.line - 1
				return fmt.Errorf("%s:%d: %s (--strict)", w.display, bad.line, bad.bad)
			}
			if len(w.pending) == 0 && w.end > w.resume {
				// Nothing pending: every line read is stored or reported.
				w.resume = w.end
			}
		}
	}
}

// take adds the items of g to the pending batch, storing it whenever it is
// full, and reports the bad lines.
func (w *ingestWriter) take(ctx context.Context, g ingestGroup) error {
	for _, it := range g.items {
		if it.bad != "" {
			w.bad++
			if !w.o.strict { // --strict reports it in its error
				w.prog.Printf("%s:%d: %s\n", w.display, it.line, it.bad)
			}
			continue
		}
		if len(w.pending) == 0 {
			w.since = time.Now()
		}
		w.pending = append(w.pending, it.log)
		w.lastLine = it.line
		if len(w.pending) >= w.o.batch {
			if err := w.flush(ctx); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
		}
	}
	w.end = g.end
	return nil
}

// flush stores the pending batch in one transaction. It is not cancelled
// with the command: a batch that started commits (or fails) as a whole,
// and the summary counts it.
func (w *ingestWriter) flush(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	if err := w.repo.AddLogs(context.WithoutCancel(ctx), w.pending); err != nil {
		return fmt.Errorf("store the logs of lines %d-%d: %w", w.resume+1, w.lastLine, err)
	}
	w.committed += int64(len(w.pending))
	w.resume = w.lastLine
	clear(w.pending) // drop references to the stored logs
	w.pending = w.pending[:0]
	return nil
}

// summary prints what was stored.
func (w *ingestWriter) summary(out io.Writer) {
	el := time.Since(w.start)
	rate := float64(w.committed) / max(el.Seconds(), 1e-9)
	lines := "no lines"
	if w.end > w.o.skip {
		lines = fmt.Sprintf("lines %d-%d", w.o.skip+1, w.end)
	}
	fmt.Fprintf(out, "ingested %d logs from %s of %s in %s (%.0f logs/s)\n",
		w.committed, lines, w.display, el.Round(time.Millisecond), rate)
	if w.bad > 0 && !w.o.strict {
		fmt.Fprintf(out, "%d bad lines were not stored (reported on stderr)\n", w.bad)
	}
	if w.o.skip > 0 {
		fmt.Fprintf(out, "skipped the first %d lines (--skip)\n", w.o.skip)
	}
}
