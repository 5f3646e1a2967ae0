package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

// openWith opens the backend of cfg through the registry, like a.open.
func (a *app) openWith(ctx context.Context, cfg config.Config) (repository.Repository, error) {
	repo, err := registry.Open(ctx, cfg)
	if errors.Is(err, repository.ErrUnknownDriver) {
		return nil, fmt.Errorf("backend type (%s or --type): %w", config.VarType, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open the %s backend at %s: %w", cfg.Type, where(cfg), err)
	}
	return repo, nil
}

// noSchemaErr is the error of op on the database of cfg, whose tables
// missing do not exist: it says to run 'decnet-db init'.
func noSchemaErr(op string, cfg config.Config, missing []string) error {
	return fmt.Errorf("%s: the %s database at %s has no schema (missing tables: %s); run 'decnet-db init'",
		op, cfg.Type, where(cfg), strings.Join(missing, ", "))
}

// withData opens the configured backend for a command that reads or
// writes data in an existing database, runs fn with it and closes it (see
// withRepo). A SQLite file that does not exist is an error naming it (it
// is not created: 'decnet-db init' does that).
func (a *app) withData(ctx context.Context, fn func(d *dataCtx) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if missing, ok := missingSQLiteFile(cfg); ok {
		return fmt.Errorf("the database file %s does not exist; run 'decnet-db init' to create it", missing)
	}
	return a.withRepo(ctx, cfg, fn)
}

// withRepo opens the backend of cfg, runs fn with it and closes it once fn
// returns: fn must not keep d or the repository. It returns the error of
// the open, else fn's, else that of Close (as closeRepo). fn passes the
// errors of its repository calls through d.fail.
func (a *app) withRepo(ctx context.Context, cfg config.Config, fn func(d *dataCtx) error) (err error) {
	repo, err := a.openWith(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeRepo(repo, &err)
	return fn(&dataCtx{ctx: ctx, repo: repo, cfg: cfg})
}

// dataCtx is what withData hands its callback: the command's context, the
// open repository and the configuration it was opened with.
type dataCtx struct {
	ctx  context.Context
	repo repository.Repository
	cfg  config.Config
}

// fail wraps err, the error of op on d.repo: nil stays nil, cancellation
// is returned as is (so that run says "interrupted"), and when the schema
// is missing (the usual reason a query fails on a reachable backend) the
// message says to run 'decnet-db init' instead of quoting the backend's
// "no such table". Call it before fn returns, while the repository is open.
func (d *dataCtx) fail(op string, err error) error {
	if err == nil || d.ctx.Err() != nil {
		return err
	}
	if counts, cerr := d.repo.TableCounts(d.ctx); cerr == nil {
		if missing := missingOf(counts); len(missing) > 0 {
			return noSchemaErr(op, d.cfg, missing)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// missingOf returns the tables of counts that do not exist.
func missingOf(counts []repository.TableCount) []string {
	var out []string
	for _, tc := range counts {
		if tc.Missing {
			out = append(out, tc.Table)
		}
	}
	return out
}

// timeLayouts are the forms --since and --until accept, besides RFC 3339.
const (
	layoutDateTime = "2006-01-02 15:04:05"
	layoutDate     = "2006-01-02"
)

// parseTimeFlag parses the value of a time flag: RFC 3339, "YYYY-MM-DD
// HH:MM:SS" (UTC, optional fraction) or "YYYY-MM-DD" (midnight UTC). A bad
// value is a usage error naming the flag.
func parseTimeFlag(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.ParseInLocation(layoutDateTime, v, time.UTC); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(layoutDate, v, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--%s %q: want RFC 3339 (2024-01-15T12:00:00Z), \"YYYY-MM-DD HH:MM:SS\" (UTC) or YYYY-MM-DD", flag, v)
}

// checkPage checks --limit and --offset as the repository would, as usage
// errors naming the flags.
func checkPage(limit, offset int) error {
	switch {
	case limit < 1 || limit > repository.MaxLimit:
		return usagef("--limit must be between 1 and %d, got %d", repository.MaxLimit, limit)
	case offset < 0:
		return usagef("--offset must not be negative, got %d", offset)
	}
	return nil
}

// writeJSON writes v as indented JSON with a final newline; HTML
// characters are not escaped.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether v is a file that is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// fmtTime formats t for a table: UTC, to the second.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(layoutDateTime)
}

// jsonTime formats t for JSON output and archives: RFC 3339 in UTC with
// the fraction the backend stored (trailing zeros dropped).
func jsonTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// truncate shortens s to at most n characters for a table, marking the cut
// with "...", and puts it on one line.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// orDash returns s, or "-" when it is empty, for a table cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
