package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/decnet/decnet-db/core/repository"
)

// The number of rows export reads at once: logs and bounties by id,
// attackers (whose command lists may be long) by offset.
const (
	exportPage         = 5000
	exportAttackerPage = 1000
)

// newExportCmd returns the export command.
func newExportCmd(a *app) *cobra.Command {
	var (
		out string
		pf  progressFlags
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every table of the configured database to an archive",
		Long: `export writes every row of every table of the configured database (logs,
bounties, dashboard state, deckies, users with their password hashes,
attackers and their behaviors) to an archive that 'decnet-db import' loads
into a database of any backend. With --out FILE it writes FILE (gzip when the
name ends in .gz; created with mode 0600, since it holds password hashes; the
file appears only once the export is complete), else stdout.

The archive is JSON lines: a header naming the format ("decnet-db-archive"),
its version (1), the source backend and the tables' row counts, one record a
row ({"t":"log","v":{...}}), and an end record with the number of records of
each table. Rows are read in pages and streamed, so memory does not grow with
the database. Stop DECNET's writers for an exact copy: rows written during
the export may or may not be in it (the end record counts what is).

Progress: a bar with rate and ETA when stderr is a terminal, else a status
line every --status-interval; --quiet shows neither. A summary with the
counts is printed on stderr.`,
		Example: `  # a compressed archive of the configured (SQLite) database
  decnet-db export --out decnet-backup.jsonl.gz

  # from MySQL, to stdout
  DECNET_DB_TYPE=mysql DECNET_DB_URL='mysql://decnet:pw@db:3306/decnet' decnet-db export > decnet.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" && isTerminal(cmd.OutOrStdout()) {
				return usagef("stdout is a terminal: give --out FILE, or redirect stdout to a file")
			}
			return a.export(cmd.Context(), cmd.OutOrStdout(), out, pf)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the archive to `FILE` (gzip when it ends in .gz) instead of stdout")
	pf.add(cmd)
	return cmd
}

// export writes the archive of the configured database to out, or to
// stdout when out is empty.
func (a *app) export(ctx context.Context, stdout io.Writer, out string, pf progressFlags) error {
	return a.withData(ctx, func(d *dataCtx) error {
		info, err := d.repo.Describe(d.ctx)
		if err != nil {
			return d.fail("export: describe the backend", err)
		}
		counts, err := d.repo.TableCounts(d.ctx)
		if err != nil {
			return fmt.Errorf("export: count the rows: %w", err)
		}
		if missing := missingOf(counts); len(missing) > 0 {
			return noSchemaErr("export", d.cfg, missing)
		}
		header := archiveHeader{Format: archiveFormat, Version: archiveVersion, Created: jsonTime(time.Now()),
			Source: archiveSource{Driver: info.Driver, Version: info.Version}, Counts: map[string]int64{}}
		var total int64
		for _, tc := range counts {
			header.Counts[tc.Table] = tc.Rows
			total += tc.Rows
		}

		// The destination: stdout, or a temporary file renamed into place once
		// the archive is complete.
		w := stdout
		var tmp *os.File
		if out != "" {
			tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			defer func() {
				if tmp != nil {
					_ = tmp.Close()
					_ = os.Remove(tmp.Name())
				}
			}()
			if err := tmp.Chmod(0o600); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			w = tmp
		}
		var zw *gzip.Writer
		if strings.HasSuffix(out, ".gz") {
			zw = gzip.NewWriter(w)
			w = zw
		}

		prog := a.newProgress(pf, "export", "rows", total)
		start := time.Now()
		aw := newArchiveWriter(w)
		ex := &exporter{repo: d.repo, aw: aw, prog: prog, counts: map[string]int64{}}
		err = ex.run(d.ctx, header)
		prog.Finish()
		if err != nil {
			return d.fail("export", err)
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
		if tmp != nil {
			if err := tmp.Sync(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := tmp.Close(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			tmp = nil
		}
		dest := out
		if dest == "" {
			dest = "stdout"
		}
		fmt.Fprintf(a.stderr, "exported %d rows from %s (%s) to %s in %s: %s\n", ex.done, d.cfg.Type, where(d.cfg), dest,
			time.Since(start).Round(time.Millisecond), fmtCounts(ex.counts))
		if changed := diffCounts(header.Counts, ex.counts, "at the start", "exported"); changed != "" {
			fmt.Fprintf(a.stderr, "note: the database changed during the export (%s); the archive's end record counts what it holds\n", changed)
		}
		return nil
	})
}

// exporter streams the tables to an archive.
type exporter struct {
	repo   repository.Repository
	aw     *archiveWriter
	prog   *progress
	counts map[string]int64 // records written, by table
	done   int64
}

// run writes the header, every table in schema order, and the end record.
func (ex *exporter) run(ctx context.Context, h archiveHeader) error {
	if err := ex.aw.header(h); err != nil {
		return err
	}
	for _, t := range repository.Schema {
		ex.counts[t.Name] = 0
		var err error
		switch t.Name {
		case repository.TableLogs:
			err = ex.logs(ctx)
		case repository.TableBounties:
			err = ex.bounties(ctx)
		case repository.TableState:
			err = ex.state(ctx)
		case repository.TableDeckies:
			err = ex.deckies(ctx)
		case repository.TableUsers:
			err = ex.users(ctx)
		case repository.TableAttackers:
			err = ex.attackers(ctx)
		case repository.TableBehaviors:
			err = ex.behaviors(ctx)
		default:
			err = errors.New("this decnet-db does not know how to export it")
		}
		if err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	if err := ex.aw.record(recEnd, archiveEnd{Counts: ex.counts}); err != nil {
		return err
	}
	return ex.aw.Flush()
}

// put writes one record of table.
func (ex *exporter) put(table, typ string, v any) error {
	if err := ex.aw.record(typ, v); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	ex.counts[table]++
	ex.done++
	if ex.done%1000 == 0 {
		ex.prog.Set(ex.done)
	}
	return nil
}

func (ex *exporter) logs(ctx context.Context) error {
	var after int64
	for {
		page, err := ex.repo.LogsAfterID(ctx, after, exportPage, repository.LogFilter{})
		if err != nil {
			return err
		}
		for _, l := range page {
			if err := ex.put(repository.TableLogs, recLog, toArchiveLog(l)); err != nil {
				return err
			}
			after = l.ID
		}
		if len(page) < exportPage {
			return nil
		}
	}
}

func (ex *exporter) bounties(ctx context.Context) error {
	var after int64
	for {
		page, err := ex.repo.BountiesAfterID(ctx, after, exportPage)
		if err != nil {
			return err
		}
		for _, b := range page {
			if err := ex.put(repository.TableBounties, recBounty, toArchiveBounty(b)); err != nil {
				return err
			}
			after = b.ID
		}
		if len(page) < exportPage {
			return nil
		}
	}
}

func (ex *exporter) state(ctx context.Context) error {
	keys, err := ex.repo.StateKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		v, err := ex.repo.State(ctx, k)
		if errors.Is(err, repository.ErrNotFound) {
			continue // deleted since StateKeys
		}
		if err != nil {
			return err
		}
		if err := ex.put(repository.TableState, recState, archiveState{Key: k, Value: string(v)}); err != nil {
			return err
		}
	}
	return nil
}

func (ex *exporter) deckies(ctx context.Context) error {
	ds, err := ex.repo.Deckies(ctx)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if err := ex.put(repository.TableDeckies, recDecky, toArchiveDecky(d)); err != nil {
			return err
		}
	}
	return nil
}

func (ex *exporter) users(ctx context.Context) error {
	us, err := ex.repo.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range us {
		if err := ex.put(repository.TableUsers, recUser, toArchiveUser(u)); err != nil {
			return err
		}
	}
	return nil
}

// attackers pages through the attackers by offset. An attacker upserted
// during the export may move between pages: seen keeps it from being
// written twice.
func (ex *exporter) attackers(ctx context.Context) error {
	seen := map[string]struct{}{}
	for offset := 0; ; offset += exportAttackerPage {
		page, err := ex.repo.Attackers(ctx, repository.AttackerQuery{Limit: exportAttackerPage, Offset: offset})
		if err != nil {
			return err
		}
		for _, at := range page {
			if _, dup := seen[at.UUID]; dup {
				continue
			}
			seen[at.UUID] = struct{}{}
			if err := ex.put(repository.TableAttackers, recAttacker, toArchiveAttacker(at)); err != nil {
				return err
			}
		}
		if len(page) < exportAttackerPage {
			return nil
		}
	}
}

// behaviors writes every behavior, by attacker IP.
func (ex *exporter) behaviors(ctx context.Context) error {
	all, err := ex.repo.BehaviorsByIP(ctx, nil)
	if err != nil {
		return err
	}
	ips := make([]string, 0, len(all))
	for ip := range all {
		ips = append(ips, ip)
	}
	slices.Sort(ips)
	for _, ip := range ips {
		if err := ex.put(repository.TableBehaviors, recBehavior, toArchiveBehavior(all[ip])); err != nil {
			return err
		}
	}
	return nil
}
