package repository

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Purge deletes every log, bounty, behavior and attacker, children first.
// DELETE, not TRUNCATE, so that log ids never restart.
func (r *SQLRepository) Purge(ctx context.Context) (PurgeResult, error) {
	const op = "purge"
	if err := r.check(ctx, op); err != nil {
		return PurgeResult{}, err
	}
	var res PurgeResult
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range []struct {
			table string
			n     *int64
		}{{TableBehaviors, &res.Behaviors}, {TableAttackers, &res.Attackers}, {TableBounties, &res.Bounties}, {TableLogs, &res.Logs}} {
			db := r.d.Flavor().NewDeleteBuilder()
			db.DeleteFrom(t.table)
			q, args := db.Build()
			n, err := affected(tx.ExecContext(ctx, q, args...))
			if err != nil {
				return err
			}
			*t.n = n
		}
		return nil
	})
	if err != nil {
		return PurgeResult{}, r.fail(ctx, op, err)
	}
	return res, nil
}

// importRows converts every row of b to column values, by table in
// schema order, checking each row.
func (r *SQLRepository) importRows(b Batch) (map[string][][]any, error) {
	rows := map[string][][]any{}
	add := func(table string, vals []any, err error, what string, i int) error {
		if err != nil {
			return fmt.Errorf("%s %d: %w", what, i, err)
		}
		rows[table] = append(rows[table], vals)
		return nil
	}
	for i, l := range b.Logs {
		if l.ID <= 0 {
			return nil, invalidf(fmt.Sprintf("log %d: log.id", i), "%d is not positive", l.ID)
		}
		vals, err := r.logArgs([]any{l.ID}, l)
		if err := add(TableLogs, vals, err, "log", i); err != nil {
			return nil, err
		}
	}
	for i, x := range b.Bounties {
		if x.ID <= 0 {
			return nil, invalidf(fmt.Sprintf("bounty %d: bounty.id", i), "%d is not positive", x.ID)
		}
		vals, err := r.bountyArgs(x)
		if err := add(TableBounties, append([]any{x.ID}, vals...), err, "bounty", i); err != nil {
			return nil, err
		}
	}
	keys := make([]string, 0, len(b.State))
	for k := range b.State {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		err := ValidateState(k, b.State[k])
		if err := add(TableState, []any{k, string(b.State[k]), r.d.BindTime(now())}, err, "state", i); err != nil {
			return nil, err
		}
	}
	for i, d := range b.Deckies {
		d.UpdatedAt = keepOrNow(d.UpdatedAt)
		if err := add(TableDeckies, r.deckyArgs(d), d.Validate(), "decky", i); err != nil {
			return nil, err
		}
	}
	for i, u := range b.Users {
		u.CreatedAt = keepOrNow(u.CreatedAt)
		err := u.Validate()
		if err == nil && u.UUID == "" {
			err = invalidf("user.uuid", "is empty")
		}
		if err := add(TableUsers, r.userValues(u), err, "user", i); err != nil {
			return nil, err
		}
	}
	for i, a := range b.Attackers {
		a.UpdatedAt = keepOrNow(a.UpdatedAt)
		vals, err := r.attackerArgs(a)
		if err == nil && a.UUID == "" {
			err = invalidf("attacker.uuid", "is empty")
		}
		if err := add(TableAttackers, vals, err, "attacker", i); err != nil {
			return nil, err
		}
	}
	for i, x := range b.Behaviors {
		x.UpdatedAt = keepOrNow(x.UpdatedAt)
		vals, err := r.behaviorArgs(x.AttackerUUID, x)
		if err == nil && x.AttackerUUID == "" {
			err = invalidf("behavior.attacker_uuid", "is empty")
		}
		if err := add(TableBehaviors, vals, err, "behavior", i); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// keepOrNow returns t, or now when t is zero.
func keepOrNow(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

// Import writes every row of b in one transaction, keeping keys and
// times. See Archiver.
func (r *SQLRepository) Import(ctx context.Context, b Batch) error {
	const op = "import"
	if err := r.check(ctx, op); err != nil {
		return err
	}
	rows, err := r.importRows(b)
	if err != nil {
		return r.fail(ctx, op, err)
	}
	full := map[string]*sql.Stmt{}
	for _, t := range Schema {
		if len(rows[t.Name]) > 0 {
			if full[t.Name], err = r.chunkStmt(ctx, t.Name, t.columnNames()); err != nil {
				return r.fail(ctx, op, err)
			}
		}
	}
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range Schema {
			if len(rows[t.Name]) == 0 {
				continue
			}
			if err := r.insertRows(ctx, tx, full[t.Name], t.Name, t.columnNames(), len(rows[t.Name]), rowsOf(rows[t.Name])); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			if t.Columns[0].Kind == KindID {
				for _, q := range r.d.SyncIDs(t.Name, t.Columns[0].Name) {
					if _, err := tx.ExecContext(ctx, q); err != nil {
						return fmt.Errorf("%s: sync ids: %w", t.Name, err)
					}
				}
			}
		}
		return nil
	})
	return r.fail(ctx, op, err)
}

// Describe returns the backend's version and settings.
func (r *SQLRepository) Describe(ctx context.Context) (BackendInfo, error) {
	const op = "describe"
	if err := r.check(ctx, op); err != nil {
		return BackendInfo{}, err
	}
	info, err := r.d.Describe(ctx, r.read)
	info.Driver = r.d.Name()
	return info, r.fail(ctx, op, err)
}

// tableExists reports whether table exists.
func (r *SQLRepository) tableExists(ctx context.Context, ex execer, table string) (bool, error) {
	q, args := r.d.TableExists(table)
	var n int64
	if err := ex.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// TableCounts returns the row count of every table of the schema.
func (r *SQLRepository) TableCounts(ctx context.Context) ([]TableCount, error) {
	const op = "table counts"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	out := make([]TableCount, 0, len(Schema))
	for _, t := range Schema {
		ok, err := r.tableExists(ctx, r.read, t.Name)
		if err != nil {
			return nil, r.fail(ctx, op, err)
		}
		tc := TableCount{Table: t.Name, Missing: !ok}
		if ok {
			sb := r.selectBuilder()
			sb.Select("COUNT(*)").From(t.Name)
			if tc.Rows, err = r.count(ctx, sb); err != nil {
				return nil, r.fail(ctx, op+" "+t.Name, err)
			}
		}
		out = append(out, tc)
	}
	return out, nil
}

// Reset empties the database: every row, or every table. See Maintainer.
func (r *SQLRepository) Reset(ctx context.Context, mode ResetMode) error {
	const op = "reset"
	if err := r.check(ctx, op); err != nil {
		return err
	}
	if mode != ResetTruncate && mode != ResetDropTables {
		return r.fail(ctx, op, invalidf("mode", "%q is not one of truncate, drop-tables", string(mode)))
	}
	r.dropStatements()
	return r.withSchemaLock(ctx, op, func(conn *sql.Conn) error {
		for _, t := range slices.Backward(Schema) {
			q := "DROP TABLE IF EXISTS " + t.Name
			if mode == ResetTruncate {
				ok, err := r.tableExists(ctx, conn, t.Name)
				if err != nil {
					return r.fail(ctx, op, err)
				}
				if !ok {
					continue
				}
				q = r.d.Truncate(t.Name)
			}
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return r.fail(ctx, op+" "+t.Name, err)
			}
		}
		return nil
	})
}

// dropStatements closes the prepared statements, which a schema change may
// invalidate; they are prepared again on use.
func (r *SQLRepository) dropStatements() {
	r.stmtMu.Lock()
	defer r.stmtMu.Unlock()
	if r.stmts == nil {
		return
	}
	for q, s := range r.stmts {
		_ = s.Close()
		delete(r.stmts, q)
	}
}
