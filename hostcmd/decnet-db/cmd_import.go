package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/repository"
)

// Chunks of import: a batch is imported when it holds importChunk rows or
// about importChunkBytes of archive.
const (
	importChunk      = 5000
	importChunkBytes = 32 << 20
)

// importOptions are the flags of import.
type importOptions struct {
	append   bool
	progress progressFlags
}

// newImportCmd returns the import command.
func newImportCmd(a *app) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Load an archive written by 'decnet-db export' into the configured database",
		Long: `import loads an archive written by 'decnet-db export' (from FILE, gzip or not,
or from stdin with -) into the configured database, of any backend. It creates
the schema where it is missing (without seeding an admin: the archive has the
users), and streams the records in chunks, each one transaction, so memory
does not grow with the archive.

Into an empty database (the default), every row is kept exactly: log and
bounty ids, UUIDs, password hashes, timestamps, JSON values. A database that
holds any row (even only the admin that 'decnet-db init' seeds) is refused:
import into a new database, or empty it first with
'decnet-db reset --i-know-what-im-doing'. At the end import checks that every
table holds as many rows as the archive's end record says.

--append merges the archive into a database that has data:
  logs       are added after the database's own, with new ids (AddLogs)
  bounties   are added with new ids, except those the database already has
             (same type, attacker IP and payload)
  state, deckies, users, attackers, behaviors
             are added keeping their keys, timestamps and hashes, except
             those whose key (state key, decky name, username or user UUID,
             attacker IP or UUID, the behavior's attacker) the database
             already has: the database's row is kept, and the archive's is
             counted as skipped
It is slower (rows other than logs are written one by one), and it counts what
was added and skipped instead of checking the tables' totals.

import refuses an archive of a newer format version than it reads, and one
without its end record (truncated). Rows already imported when it fails or is
interrupted stay: empty the database with reset before importing again.

Progress: a bar with rate and ETA when stderr is a terminal, else a status
line every --status-interval; --quiet shows neither. The summary goes to
stdout.`,
		Example: `  # move DECNET from SQLite to MySQL
  decnet-db export --out decnet.jsonl.gz
  DECNET_DB_TYPE=mysql DECNET_DB_URL='mysql://decnet:pw@db:3306/decnet' decnet-db import decnet.jsonl.gz

  # merge another sensor's data into the configured database
  decnet-db import --append sensor-2.jsonl.gz`,
		Args: exactArgs("FILE (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.importArchive(cmd.Context(), cmd.OutOrStdout(), args[0], o)
		},
	}
	cmd.Flags().BoolVar(&o.append, "append", false, "merge into a database that has data (see above) instead of refusing it")
	o.progress.add(cmd)
	return cmd
}

// openArchive opens name ("-" for stdin) for reading, decompressing gzip
// (told by its magic bytes).
func (a *app) openArchive(name string) (io.Reader, func(), error) {
	var src io.Reader = a.stdin
	closeFn := func() {}
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		src, closeFn = f, func() { _ = f.Close() }
	}
	br := bufio.NewReaderSize(src, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		return zr, closeFn, nil
	} else if strings.HasSuffix(name, ".gz") {
		closeFn()
		return nil, nil, fmt.Errorf("%s: the name ends in .gz but the file is not gzip", name)
	}
	return br, closeFn, nil
}

// importArchive loads the archive name into the configured database.
func (a *app) importArchive(ctx context.Context, out io.Writer, name string, o importOptions) (err error) {
	in, closeIn, err := a.openArchive(name)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer closeIn()
	ar := newArchiveReader(in)
	h, err := ar.header()
	if err != nil {
		return fmt.Errorf("import: %s: %w", name, err)
	}

	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	// The archive has the users: create the schema without seeding the
	// admin.
	cfg.AdminUser = ""
	return a.withRepo(ctx, cfg, func(d *dataCtx) error { return a.importInto(d, out, ar, h, o) })
}

// importInto loads the archive ar, whose header h was read, into d's
// database.
func (a *app) importInto(d *dataCtx, out io.Writer, ar *archiveReader, h archiveHeader, o importOptions) error {
	ctx, repo, cfg := d.ctx, d.repo, d.cfg
	if err := repo.Initialize(ctx); err != nil {
		return fmt.Errorf("import: create the schema of the %s database at %s: %w", cfg.Type, where(cfg), err)
	}
	before, err := repo.TableCounts(ctx)
	if err != nil {
		return fmt.Errorf("import: count the rows of the %s database at %s: %w", cfg.Type, where(cfg), err)
	}
	if !o.append {
		var nonEmpty []string
		for _, tc := range before {
			if tc.Rows > 0 {
				nonEmpty = append(nonEmpty, fmt.Sprintf("%s %d", tc.Table, tc.Rows))
			}
		}
		if len(nonEmpty) > 0 {
			return fmt.Errorf("import: the %s database at %s is not empty (it holds %s); import into an empty database, empty it with 'decnet-db reset --i-know-what-im-doing', or merge with --append",
				cfg.Type, where(cfg), strings.Join(nonEmpty, ", "))
		}
	}

	var total int64
	for _, n := range h.Counts {
		total += n
	}
	prog := a.newProgress(o.progress, "import", "rows", total)
	im := &importer{repo: repo, append: o.append, prog: prog, read: map[string]int64{},
		added: map[string]int64{}, skipped: map[string]int64{}}
	start := time.Now()

	chunks := make(chan importChunkOf, 1)
	done := make(chan struct{})
	defer close(done)
	go readArchive(ar, chunks, done)
	end, err := im.run(ctx, chunks)
	prog.Finish()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("import interrupted after %d rows; the database holds part of the archive: empty it with 'decnet-db reset --i-know-what-im-doing' before importing again", im.written)
	case errors.Is(err, repository.ErrConflict) && !o.append:
		return fmt.Errorf("import: %s: a row of the archive is already in the database (was it written during the import?); %d rows were imported: empty the database with 'decnet-db reset --i-know-what-im-doing' and import again", oneLine(err.Error()), im.written)
	case err != nil && im.written == 0:
		return d.fail("import", fmt.Errorf("%w; nothing was imported", err))
	case err != nil && o.append:
		return d.fail("import", fmt.Errorf("%w; %d rows were added before the error", err, im.written))
	case err != nil:
		return d.fail("import", fmt.Errorf("%w; %d rows were imported before the error: empty the database with 'decnet-db reset --i-know-what-im-doing' before importing again", err, im.written))
	}

	// The archive is complete: every table has as many records as its end
	// record says, and, into an empty database, as many rows.
	if diff := diffCounts(end.Counts, im.read, "in the end record", "records"); diff != "" {
		return fmt.Errorf("import: the archive is corrupt: its end record and its records disagree (%s)", diff)
	}
	if !o.append {
		after, err := repo.TableCounts(ctx)
		if err != nil {
			return fmt.Errorf("import: verify: %w", err)
		}
		got := map[string]int64{}
		for _, tc := range after {
			got[tc.Table] = tc.Rows
		}
		if diff := diffCounts(end.Counts, got, "in the archive", "in the database"); diff != "" {
			return fmt.Errorf("import: verify: the database's row counts differ from the archive's (%s)", diff)
		}
	}
	el := time.Since(start)
	fmt.Fprintf(out, "imported %d rows into %s (%s) in %s (%.0f rows/s)\n", im.written, cfg.Type, where(cfg),
		el.Round(time.Millisecond), float64(im.written)/max(el.Seconds(), 1e-9))
	if o.append {
		fmt.Fprintf(out, "added:   %s\nskipped: %s (the database already had them)\n", fmtCounts(im.added), fmtCounts(im.skipped))
	} else {
		fmt.Fprintf(out, "verified: %s\n", fmtCounts(end.Counts))
	}
	if diff := diffCounts(h.Counts, end.Counts, "in the header", "in the end record"); diff != "" {
		fmt.Fprintf(out, "note: the source changed during the export (%s); the end record's rows were imported\n", diff)
	}
	return nil
}

// importChunkOf is a chunk of an archive: a batch of rows, or the end.
type importChunkOf struct {
	batch      repository.Batch
	read       map[string]int64 // records of the batch, by table
	first, end int64            // the batch's first and last lines
	last       *archiveEnd      // the end record: the archive is complete
	err        error
}

// readArchive decodes the records of ar into chunks, and closes chunks at
// the end of the archive or at the first error. It returns early when
// done is closed.
func readArchive(ar *archiveReader, chunks chan<- importChunkOf, done <-chan struct{}) {
	defer close(chunks)
	var c importChunkOf
	var size int
	reset := func() {
		c = importChunkOf{read: map[string]int64{}}
		size = 0
	}
	reset()
	send := func() bool {
		select {
		case chunks <- c:
			reset()
			return true
		case <-done:
			return false
		}
	}
	fail := func(err error) {
		c.err = err
		send()
	}
	for {
		line, err := ar.next()
		if errors.Is(err, io.EOF) {
			fail(fmt.Errorf("the archive is truncated: it ends at line %d without its end record", ar.line))
			return
		}
		if err != nil {
			fail(fmt.Errorf("read the archive: %w", err))
			return
		}
		if c.first == 0 {
			c.first = ar.line
		}
		c.end = ar.line
		typ, v, err := splitRecord(line)
		if err == nil {
			err = c.add(typ, v)
		}
		if err != nil {
			fail(fmt.Errorf("archive line %d: %w", ar.line, err))
			return
		}
		if c.last != nil {
			if _, err := ar.next(); !errors.Is(err, io.EOF) {
				c.last, c.err = nil, fmt.Errorf("archive line %d: the end record is not the last line", ar.line)
			}
			send()
			return
		}
		size += len(line)
		if c.batch.Len() >= importChunk || size >= importChunkBytes {
			if !send() {
				return
			}
		}
	}
}

// add decodes one record into the chunk.
func (c *importChunkOf) add(typ string, v []byte) error {
	var err error
	b := &c.batch
	switch typ {
	case recLog:
		var r archiveLog
		if err = json.Unmarshal(v, &r); err == nil {
			var l repository.Log
			if l, err = r.model(); err == nil {
				b.Logs = append(b.Logs, l)
			}
		}
	case recBounty:
		var r archiveBounty
		if err = json.Unmarshal(v, &r); err == nil {
			var x repository.Bounty
			if x, err = r.model(); err == nil {
				b.Bounties = append(b.Bounties, x)
			}
		}
	case recState:
		var r archiveState
		if err = json.Unmarshal(v, &r); err == nil {
			if b.State == nil {
				b.State = map[string]json.RawMessage{}
			}
			if _, dup := b.State[r.Key]; dup {
				err = fmt.Errorf("state key %q appears twice", r.Key)
			}
			b.State[r.Key] = json.RawMessage(r.Value)
		}
	case recDecky:
		var r archiveDecky
		if err = json.Unmarshal(v, &r); err == nil {
			var x repository.Decky
			if x, err = r.model(); err == nil {
				b.Deckies = append(b.Deckies, x)
			}
		}
	case recUser:
		var r archiveUser
		if err = json.Unmarshal(v, &r); err == nil {
			var x repository.User
			if x, err = r.model(); err == nil {
				b.Users = append(b.Users, x)
			}
		}
	case recAttacker:
		var r archiveAttacker
		if err = json.Unmarshal(v, &r); err == nil {
			var x repository.Attacker
			if x, err = r.model(); err == nil {
				b.Attackers = append(b.Attackers, x)
			}
		}
	case recBehavior:
		var r archiveBehavior
		if err = json.Unmarshal(v, &r); err == nil {
			var x repository.Behavior
			if x, err = r.model(); err == nil {
				b.Behaviors = append(b.Behaviors, x)
			}
		}
	case recEnd:
		var e archiveEnd
		if err = json.Unmarshal(v, &e); err == nil {
			if e.Counts == nil {
				return errors.New("the end record has no counts")
			}
			c.last = &e
		}
		return err
	default:
		return fmt.Errorf("unknown record type %q (an archive of a newer decnet-db?)", typ)
	}
	if err != nil {
		return fmt.Errorf("%s record: %w", typ, err)
	}
	c.read[recordTable[typ]]++
	return nil
}

// importer writes the chunks of an archive.
type importer struct {
	repo    repository.Repository
	append  bool
	prog    *progress
	read    map[string]int64 // records read, by table
	added   map[string]int64 // rows added (--append), by table
	skipped map[string]int64 // rows skipped (--append), by table
	written int64            // rows written
}

// run imports every chunk and returns the end record.
func (im *importer) run(ctx context.Context, chunks <-chan importChunkOf) (archiveEnd, error) {
	for c := range chunks {
		if err := ctx.Err(); err != nil {
			return archiveEnd{}, err
		}
		if c.err != nil {
			// The records of this chunk before the error are not
			// imported: the archive is bad.
			return archiveEnd{}, c.err
		}
		if c.batch.Len() > 0 {
			var err error
			if im.append {
				err = im.merge(ctx, c.batch)
			} else {
				err = im.repo.Import(ctx, c.batch)
				if err == nil {
					im.written += int64(c.batch.Len())
				}
			}
			if err != nil {
				return archiveEnd{}, fmt.Errorf("import the records of archive lines %d-%d: %w", c.first, c.end, err)
			}
			for t, n := range c.read {
				im.read[t] += n
			}
			im.prog.Set(im.written + sum(im.skipped))
		}
		if c.last != nil {
			return *c.last, nil
		}
	}
	return archiveEnd{}, errors.New("the archive ended early")
}

// merge writes a batch into a database that has data; see --append.
func (im *importer) merge(ctx context.Context, b repository.Batch) error {
	if len(b.Logs) > 0 {
		logs := make([]repository.Log, len(b.Logs))
		for i, l := range b.Logs {
			l.ID = 0
			logs[i] = l
		}
		if err := im.repo.AddLogs(ctx, logs); err != nil {
			return err
		}
		im.count(repository.TableLogs, true, len(logs))
	}
	for _, x := range b.Bounties {
		x.ID = 0
		added, err := im.repo.AddBounty(ctx, x)
		if err != nil {
			return err
		}
		im.count(repository.TableBounties, added, 1)
	}
	// The keyed rows, one at a time, so that one the database has is
	// skipped alone.
	var one []repository.Batch
	for k, v := range b.State {
		one = append(one, repository.Batch{State: map[string]json.RawMessage{k: v}})
	}
	for _, d := range b.Deckies {
		one = append(one, repository.Batch{Deckies: []repository.Decky{d}})
	}
	for _, u := range b.Users {
		one = append(one, repository.Batch{Users: []repository.User{u}})
	}
	for _, at := range b.Attackers {
		one = append(one, repository.Batch{Attackers: []repository.Attacker{at}})
	}
	for _, x := range b.Behaviors {
		one = append(one, repository.Batch{Behaviors: []repository.Behavior{x}})
	}
	for _, row := range one {
		table := batchTable(row)
		if len(row.Behaviors) == 1 {
			// The attacker was skipped when the database has its IP under
			// another UUID: its behavior goes with it.
			_, err := im.repo.AttackerByUUID(ctx, row.Behaviors[0].AttackerUUID)
			if errors.Is(err, repository.ErrNotFound) {
				im.count(table, false, 1)
				continue
			}
			if err != nil {
				return err
			}
		}
		err := im.repo.Import(ctx, row)
		if err != nil && !errors.Is(err, repository.ErrConflict) {
			return err
		}
		im.count(table, err == nil, 1)
	}
	return nil
}

// count records n rows of table as added or skipped.
func (im *importer) count(table string, added bool, n int) {
	if added {
		im.added[table] += int64(n)
		im.written += int64(n)
	} else {
		im.skipped[table] += int64(n)
	}
}

// batchTable names the table of a one-row batch.
func batchTable(b repository.Batch) string {
	switch {
	case len(b.State) > 0:
		return repository.TableState
	case len(b.Deckies) > 0:
		return repository.TableDeckies
	case len(b.Users) > 0:
		return repository.TableUsers
	case len(b.Attackers) > 0:
		return repository.TableAttackers
	case len(b.Behaviors) > 0:
		return repository.TableBehaviors
	}
	return ""
}

// sum adds the counts.
func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
