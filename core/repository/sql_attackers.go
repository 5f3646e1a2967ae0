package repository

import (
	"context"
	"database/sql"

	"github.com/google/uuid"
	"github.com/huandu/go-sqlbuilder"
)

var (
	attackerCols = tableByName(TableAttackers).columnNames()
	behaviorCols = tableByName(TableBehaviors).columnNames()
)

func (r *SQLRepository) attackerArgs(a Attacker) ([]any, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	cmds := make([]Command, len(a.Commands))
	for i, c := range a.Commands {
		c.Timestamp = normTime(c.Timestamp)
		cmds[i] = c
	}
	services, deckies, commands := mustJSON(orEmpty(a.Services)), mustJSON(orEmpty(a.Deckies)), mustJSON(cmds)
	for _, v := range [][2]string{{"attacker.services", services}, {"attacker.deckies", deckies}, {"attacker.commands", commands}} {
		if len(v[1]) > MaxLargeLen {
			return nil, tooLarge(v[0], len(v[1]), MaxLargeLen, "bytes")
		}
	}
	return []any{a.UUID, a.IP, r.d.BindTime(normTime(a.FirstSeen)), r.d.BindTime(normTime(a.LastSeen)),
		a.EventCount, a.ServiceCount, a.DeckyCount, services, deckies, a.TraversalPath,
		a.IsTraversal, a.BountyCount, a.CredentialCount, nullRaw(a.Fingerprints), commands,
		r.d.BindTime(normTime(a.UpdatedAt))}, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func scanAttacker(row interface{ Scan(...any) error }) (Attacker, error) {
	var a Attacker
	err := row.Scan(&a.UUID, &a.IP, timeCol{&a.FirstSeen}, timeCol{&a.LastSeen}, &a.EventCount, &a.ServiceCount,
		&a.DeckyCount, jsonCol{&a.Services}, jsonCol{&a.Deckies}, &a.TraversalPath, &a.IsTraversal, &a.BountyCount,
		&a.CredentialCount, rawCol{&a.Fingerprints}, jsonCol{&a.Commands}, timeCol{&a.UpdatedAt})
	for i := range a.Commands {
		a.Commands[i].Timestamp = a.Commands[i].Timestamp.UTC()
	}
	return a, err
}

// UpsertAttacker inserts or updates the attacker with a.IP and returns its
// UUID, which an update keeps. See AttackerStore.
func (r *SQLRepository) UpsertAttacker(ctx context.Context, a Attacker) (string, error) {
	const op = "upsert attacker"
	if err := r.check(ctx, op); err != nil {
		return "", err
	}
	if a.UUID == "" {
		a.UUID = uuid.NewString()
	}
	a.UpdatedAt = now()
	args, err := r.attackerArgs(a)
	if err != nil {
		return "", r.fail(ctx, op, err)
	}
	// Keys: uuid, ip. The upsert keeps the uuid of an existing row.
	q := r.insertSQL(TableAttackers, attackerCols, 1, r.d.Upsert([]string{"ip"}, attackerCols[2:]), false)
	if _, err := r.write.ExecContext(ctx, q, args...); err != nil {
		return "", r.fail(ctx, op+" "+quoteKey(a.IP), err)
	}
	sb := r.selectBuilder()
	sb.Select("uuid").From(TableAttackers).Where(sb.Equal("ip", a.IP))
	sq, sargs := sb.Build()
	var id string
	err = r.write.QueryRowContext(ctx, sq, sargs...).Scan(&id)
	return id, r.fail(ctx, op+" "+quoteKey(a.IP), err)
}

// AttackerByUUID returns the attacker, or ErrNotFound.
func (r *SQLRepository) AttackerByUUID(ctx context.Context, id string) (Attacker, error) {
	const op = "attacker by uuid"
	if err := r.check(ctx, op); err != nil {
		return Attacker{}, err
	}
	sb := r.selectBuilder()
	sb.Select(attackerCols...).From(TableAttackers).Where(sb.Equal("uuid", id))
	q, args := sb.Build()
	a, err := scanAttacker(r.read.QueryRowContext(ctx, q, args...))
	if err != nil {
		return Attacker{}, r.fail(ctx, op+" "+quoteKey(id), notFound(err))
	}
	return a, nil
}

func (r *SQLRepository) whereAttackers(sb *sqlbuilder.SelectBuilder, f AttackerFilter) {
	if f.Search != "" {
		sb.Where(r.containsAny(sb, f.Search, "ip"))
	}
	if f.Service != "" {
		sb.Where(r.d.JSONArrayContains("services", sb.Var(f.Service)))
	}
}

// Attackers returns a page of attackers in q.Sort order.
func (r *SQLRepository) Attackers(ctx context.Context, q AttackerQuery) ([]Attacker, error) {
	const op = "attackers"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	limit, err := Page(q.Limit, q.Offset)
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	sort, err := q.Sort.Validate()
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	sb := r.selectBuilder()
	sb.Select(attackerCols...).From(TableAttackers)
	r.whereAttackers(sb, q.AttackerFilter)
	switch sort {
	case SortActive:
		sb.OrderBy("event_count DESC", "last_seen DESC", "uuid ASC")
	case SortTraversals:
		sb.OrderBy("is_traversal DESC", "last_seen DESC", "uuid ASC")
	default:
		sb.OrderBy("last_seen DESC", "uuid ASC")
	}
	sb.Limit(limit).Offset(q.Offset)
	out, err := collect(ctx, r, sb, func(rows *sql.Rows) (Attacker, error) { return scanAttacker(rows) })
	return out, r.fail(ctx, op, err)
}

// CountAttackers counts the attackers that match.
func (r *SQLRepository) CountAttackers(ctx context.Context, f AttackerFilter) (int64, error) {
	const op = "count attackers"
	if err := r.check(ctx, op); err != nil {
		return 0, err
	}
	sb := r.selectBuilder()
	sb.Select("COUNT(*)").From(TableAttackers)
	r.whereAttackers(sb, f)
	n, err := r.count(ctx, sb)
	return n, r.fail(ctx, op, err)
}

// AttackerCommands returns a page of the attacker's commands.
func (r *SQLRepository) AttackerCommands(ctx context.Context, id, service string, limit, offset int) (CommandPage, error) {
	const op = "attacker commands"
	if err := r.check(ctx, op); err != nil {
		return CommandPage{}, err
	}
	limit, err := Page(limit, offset)
	if err != nil {
		return CommandPage{}, r.fail(ctx, op, err)
	}
	sb := r.selectBuilder()
	sb.Select("commands").From(TableAttackers).Where(sb.Equal("uuid", id))
	q, args := sb.Build()
	var cmds []Command
	if err := r.read.QueryRowContext(ctx, q, args...).Scan(jsonCol{&cmds}); err != nil {
		return CommandPage{}, r.fail(ctx, op+" "+quoteKey(id), notFound(err))
	}
	matched := cmds[:0]
	for _, c := range cmds {
		if service == "" || c.Service == service {
			c.Timestamp = c.Timestamp.UTC()
			matched = append(matched, c)
		}
	}
	page := CommandPage{Total: len(matched), Commands: []Command{}}
	if offset < len(matched) {
		page.Commands = matched[offset:min(offset+limit, len(matched))]
	}
	return page, nil
}

func (r *SQLRepository) behaviorArgs(id string, b Behavior) ([]any, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return []any{id, b.OSGuess, b.HopDistance, nullRaw(b.TCPFingerprint), b.RetransmitCount, b.BehaviorClass,
		b.BeaconIntervalS, b.BeaconJitterPct, mustJSON(orEmpty(b.ToolGuesses)), nullRaw(b.TimingStats),
		nullRaw(b.PhaseSequence), r.d.BindTime(normTime(b.UpdatedAt))}, nil
}

func scanBehavior(row interface{ Scan(...any) error }, extra ...any) (Behavior, error) {
	var b Behavior
	dst := append(extra, &b.AttackerUUID, &b.OSGuess, &b.HopDistance, rawCol{&b.TCPFingerprint}, &b.RetransmitCount,
		&b.BehaviorClass, &b.BeaconIntervalS, &b.BeaconJitterPct, jsonCol{&b.ToolGuesses}, rawCol{&b.TimingStats},
		rawCol{&b.PhaseSequence}, timeCol{&b.UpdatedAt})
	err := row.Scan(dst...)
	return b, err
}

// UpsertAttackerBehavior inserts or replaces the attacker's behavior;
// ErrNotFound for an unknown attacker.
func (r *SQLRepository) UpsertAttackerBehavior(ctx context.Context, id string, b Behavior) error {
	const op = "upsert attacker behavior"
	if err := r.check(ctx, op); err != nil {
		return err
	}
	b.UpdatedAt = now()
	args, err := r.behaviorArgs(id, b)
	if err != nil {
		return r.fail(ctx, op, err)
	}
	q := r.insertSQL(TableBehaviors, behaviorCols, 1, r.d.Upsert(behaviorCols[:1], behaviorCols[1:]), false)
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		ok, err := r.exists(ctx, tx, TableAttackers, "uuid", id)
		if err == nil && !ok {
			err = ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, q, args...)
		return err
	})
	return r.fail(ctx, op+" "+quoteKey(id), err)
}

// AttackerBehavior returns the attacker's behavior, or ErrNotFound.
func (r *SQLRepository) AttackerBehavior(ctx context.Context, id string) (Behavior, error) {
	const op = "attacker behavior"
	if err := r.check(ctx, op); err != nil {
		return Behavior{}, err
	}
	sb := r.selectBuilder()
	sb.Select(behaviorCols...).From(TableBehaviors).Where(sb.Equal("attacker_uuid", id))
	q, args := sb.Build()
	b, err := scanBehavior(r.read.QueryRowContext(ctx, q, args...))
	if err != nil {
		return Behavior{}, r.fail(ctx, op+" "+quoteKey(id), notFound(err))
	}
	return b, nil
}

// BehaviorsByIP returns behaviors by attacker IP; nil ips means all.
func (r *SQLRepository) BehaviorsByIP(ctx context.Context, ips []string) (map[string]Behavior, error) {
	const op = "behaviors by ip"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	cols := make([]string, 0, len(behaviorCols)+1)
	cols = append(cols, "a.ip")
	for _, c := range behaviorCols {
		cols = append(cols, "b."+c)
	}
	out := map[string]Behavior{}
	err := r.byIPs(ips, func(in []any) error {
		sb := r.selectBuilder()
		sb.Select(cols...).From(TableBehaviors+" b").Join(TableAttackers+" a", "a.uuid = b.attacker_uuid")
		if in != nil {
			sb.Where(sb.In("a.ip", in...))
		}
		return r.queryAll(ctx, r.read, sb, func(rows *sql.Rows) error {
			var ip string
			b, err := scanBehavior(rows, &ip)
			out[ip] = b
			return err
		})
	})
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	return out, nil
}
