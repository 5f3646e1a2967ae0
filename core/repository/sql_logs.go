package repository

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/huandu/go-sqlbuilder"
)

var (
	logCols       = tableByName(TableLogs).columnNames()
	logInsertCols = tableByName(TableLogs).insertColumns()
)

// logArgs checks l and appends the values of logInsertCols for it to dst.
func (r *SQLRepository) logArgs(dst []any, l Log) ([]any, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return r.appendLog(dst, l)
}

// appendLog appends the values of logInsertCols for l, already checked,
// to dst.
func (r *SQLRepository) appendLog(dst []any, l Log) ([]any, error) {
	fields := "{}"
	if len(l.Fields) > 0 {
		fields = mustJSON(l.Fields)
		if len(fields) > MaxLargeLen {
			return nil, tooLarge("log.fields", len(fields), MaxLargeLen, "bytes")
		}
	}
	return append(dst, r.d.BindTime(normTime(l.Timestamp)), l.Decky, l.Service, l.EventType, l.AttackerIP,
		l.RawLine, fields, l.Msg, l.TraceID, l.SpanID), nil
}

func scanLog(rows *sql.Rows) (Log, error) {
	var l Log
	err := rows.Scan(&l.ID, timeCol{&l.Timestamp}, &l.Decky, &l.Service, &l.EventType, &l.AttackerIP,
		&l.RawLine, jsonCol{&l.Fields}, &l.Msg, &l.TraceID, &l.SpanID)
	return l, err
}

// AddLog stores one log; concurrent calls share commits. See LogStore.
func (r *SQLRepository) AddLog(ctx context.Context, l Log) (int64, error) {
	const op = "add log"
	if err := r.check(ctx, op); err != nil {
		return 0, err
	}
	args, err := r.logArgs(make([]any, 0, len(logInsertCols)), l)
	if err != nil {
		return 0, r.fail(ctx, op, err)
	}
	id, err := r.logs.add(ctx, args)
	return id, r.fail(ctx, op, err)
}

// AddLogs stores logs in one transaction. See LogStore.
func (r *SQLRepository) AddLogs(ctx context.Context, logs []Log) error {
	const op = "add logs"
	if err := r.check(ctx, op); err != nil {
		return err
	}
	if len(logs) == 0 {
		return nil
	}
	// Check every log first, so that a bad one costs no transaction.
	for i, l := range logs {
		if err := l.Validate(); err != nil {
			return r.fail(ctx, fmt.Sprintf("%s: log %d", op, i), err)
		}
	}
	full, err := r.chunkStmt(ctx, TableLogs, logInsertCols)
	if err != nil {
		return r.fail(ctx, op, err)
	}
	return r.fail(ctx, op, r.inTx(ctx, func(tx *sql.Tx) error {
		return r.insertRows(ctx, tx, full, TableLogs, logInsertCols, len(logs), func(dst []any, i int) ([]any, error) {
			out, err := r.appendLog(dst, logs[i])
			if err != nil {
				return nil, fmt.Errorf("log %d: %w", i, err)
			}
			return out, nil
		})
	}))
}

// whereLogs adds the conditions of f to sb.
func (r *SQLRepository) whereLogs(sb *sqlbuilder.SelectBuilder, f LogFilter) {
	if !f.Since.IsZero() {
		sb.Where(sb.GreaterEqualThan("timestamp", r.d.BindTime(normTime(f.Since))))
	}
	if !f.Until.IsZero() {
		sb.Where(sb.LessEqualThan("timestamp", r.d.BindTime(normTime(f.Until))))
	}
	for _, t := range ParseSearch(f.Search) {
		switch t.Kind {
		case TermColumn:
			sb.Where(sb.Equal(t.Column, t.Value))
		case TermField:
			sb.Where(r.d.JSONFieldEquals("fields", t.Key, sb.Var(t.Value)))
		default:
			sb.Where(r.containsAny(sb, t.Value, "raw_line", "decky", "service", "attacker_ip"))
		}
	}
}

// containsAny is a condition: any of columns contains word.
func (r *SQLRepository) containsAny(sb *sqlbuilder.SelectBuilder, word string, columns ...string) string {
	conds := make([]string, len(columns))
	for i, c := range columns {
		conds[i] = r.d.ContainsFold(c, sb.Var(likePattern(word)))
	}
	return sb.Or(conds...)
}

// Logs returns a page of logs, newest first. See LogStore.
func (r *SQLRepository) Logs(ctx context.Context, q LogQuery) ([]Log, error) {
	const op = "logs"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	limit, err := Page(q.Limit, q.Offset)
	if err == nil {
		err = q.LogFilter.Validate()
	}
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	sb := r.selectBuilder()
	sb.Select(logCols...).From(TableLogs)
	r.whereLogs(sb, q.LogFilter)
	sb.OrderBy("timestamp DESC", "id DESC").Limit(limit).Offset(q.Offset)
	return r.queryLogs(ctx, op, sb)
}

func (r *SQLRepository) queryLogs(ctx context.Context, op string, sb *sqlbuilder.SelectBuilder) ([]Log, error) {
	out, err := collect(ctx, r, sb, scanLog)
	return out, r.fail(ctx, op, err)
}

// CountLogs counts the logs that match. See LogStore.
func (r *SQLRepository) CountLogs(ctx context.Context, f LogFilter) (int64, error) {
	const op = "count logs"
	if err := r.check(ctx, op); err != nil {
		return 0, err
	}
	if err := f.Validate(); err != nil {
		return 0, r.fail(ctx, op, err)
	}
	sb := r.selectBuilder()
	sb.Select("COUNT(*)").From(TableLogs)
	r.whereLogs(sb, f)
	n, err := r.count(ctx, sb)
	return n, r.fail(ctx, op, err)
}

// MaxLogID returns the largest log id, 0 when there is none.
func (r *SQLRepository) MaxLogID(ctx context.Context) (int64, error) {
	const op = "max log id"
	if err := r.check(ctx, op); err != nil {
		return 0, err
	}
	sb := r.selectBuilder()
	sb.Select("COALESCE(MAX(id), 0)").From(TableLogs)
	n, err := r.count(ctx, sb)
	return n, r.fail(ctx, op, err)
}

// LogsAfterID returns logs with id > afterID, id ascending. See LogStore.
func (r *SQLRepository) LogsAfterID(ctx context.Context, afterID int64, limit int, f LogFilter) ([]Log, error) {
	const op = "logs after id"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	limit, err := Page(limit, 0)
	if err == nil {
		err = f.Validate()
	}
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	sb := r.selectBuilder()
	sb.Select(logCols...).From(TableLogs).Where(sb.GreaterThan("id", afterID))
	r.whereLogs(sb, f)
	sb.OrderBy("id ASC").Limit(limit)
	return r.queryLogs(ctx, op, sb)
}

// LogHistogram counts matching logs per epoch-aligned interval. See
// LogStore.
func (r *SQLRepository) LogHistogram(ctx context.Context, f LogFilter, interval time.Duration) ([]Bucket, error) {
	const op = "log histogram"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	err := f.Validate()
	if err == nil && (interval < time.Second || interval%time.Second != 0) {
		err = invalidf("interval", "%s is not a whole number of seconds, at least 1s", interval)
	}
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	sb := r.selectBuilder()
	sb.Select(r.d.TimeBucket("timestamp", int64(interval/time.Second))+" AS bucket", "COUNT(*)").From(TableLogs)
	r.whereLogs(sb, f)
	sb.GroupBy("bucket").OrderBy("bucket ASC")
	out := []Bucket{}
	err = r.queryAll(ctx, r.read, sb, func(rows *sql.Rows) error {
		var start, n int64
		if err := rows.Scan(&start, &n); err != nil {
			return err
		}
		out = append(out, Bucket{Start: time.Unix(start, 0).UTC(), Count: n})
		return nil
	})
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	return out, nil
}

// Stats returns the dashboard's headline numbers.
func (r *SQLRepository) Stats(ctx context.Context) (Stats, error) {
	const op = "stats"
	if err := r.check(ctx, op); err != nil {
		return Stats{}, err
	}
	sb := r.selectBuilder()
	sb.Select(
		"(SELECT COUNT(*) FROM "+TableLogs+")",
		"(SELECT COUNT(DISTINCT attacker_ip) FROM "+TableLogs+" WHERE attacker_ip <> '')",
		"(SELECT COUNT(DISTINCT decky) FROM "+TableLogs+" WHERE decky <> '')",
		"(SELECT COUNT(*) FROM "+TableDeckies+")",
	)
	q, args := sb.Build()
	var s Stats
	err := r.read.QueryRowContext(ctx, q, args...).Scan(&s.TotalLogs, &s.UniqueAttackers, &s.ActiveDeckies, &s.DeployedDeckies)
	return s, r.fail(ctx, op, err)
}
