package repository

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"

	"github.com/huandu/go-sqlbuilder"
)

var (
	bountyCols       = tableByName(TableBounties).columnNames()
	bountyInsertCols = tableByName(TableBounties).insertColumns()
	bountyDedupCols  = []string{"bounty_type", "attacker_ip", "payload_hash"}
)

// CanonicalJSON returns v compact, with object keys sorted and numbers
// kept as written, so that equal JSON values have equal bytes.
func CanonicalJSON(v json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// bountyArgs returns the values of bountyInsertCols for b, checking b.
func (r *SQLRepository) bountyArgs(b Bounty) ([]any, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	payload, err := CanonicalJSON(b.Payload)
	if err != nil {
		return nil, invalidf("bounty.payload", "is not valid JSON")
	}
	sum := sha256.Sum256(payload)
	return []any{r.d.BindTime(normTime(b.Timestamp)), b.Decky, b.Service, b.AttackerIP, b.BountyType,
		string(payload), hex.EncodeToString(sum[:])}, nil
}

func scanBounty(rows *sql.Rows) (Bounty, error) {
	var b Bounty
	var hash string
	err := rows.Scan(&b.ID, timeCol{&b.Timestamp}, &b.Decky, &b.Service, &b.AttackerIP, &b.BountyType, rawCol{&b.Payload}, &hash)
	return b, err
}

// AddBounty stores b unless the same bounty exists. See BountyStore.
func (r *SQLRepository) AddBounty(ctx context.Context, b Bounty) (bool, error) {
	const op = "add bounty"
	if err := r.check(ctx, op); err != nil {
		return false, err
	}
	args, err := r.bountyArgs(b)
	if err != nil {
		return false, r.fail(ctx, op, err)
	}
	q := r.insertSQL(TableBounties, bountyInsertCols, 1, r.d.InsertIgnore(bountyDedupCols), false)
	n, err := affected(r.write.ExecContext(ctx, q, args...))
	return n > 0, r.fail(ctx, op, err)
}

func (r *SQLRepository) whereBounties(sb *sqlbuilder.SelectBuilder, f BountyFilter) {
	if f.BountyType != "" {
		sb.Where(sb.Equal("bounty_type", f.BountyType))
	}
	if f.Search != "" {
		sb.Where(r.containsAny(sb, f.Search, "attacker_ip", "decky", "service", "payload"))
	}
}

// Bounties returns a page of bounties, newest first. See BountyStore.
func (r *SQLRepository) Bounties(ctx context.Context, q BountyQuery) ([]Bounty, error) {
	const op = "bounties"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	limit, err := Page(q.Limit, q.Offset)
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	sb := r.selectBuilder()
	sb.Select(bountyCols...).From(TableBounties)
	r.whereBounties(sb, q.BountyFilter)
	sb.OrderBy("timestamp DESC", "id DESC").Limit(limit).Offset(q.Offset)
	out, err := collect(ctx, r, sb, scanBounty)
	return out, r.fail(ctx, op, err)
}

// CountBounties counts the bounties that match.
func (r *SQLRepository) CountBounties(ctx context.Context, f BountyFilter) (int64, error) {
	const op = "count bounties"
	if err := r.check(ctx, op); err != nil {
		return 0, err
	}
	sb := r.selectBuilder()
	sb.Select("COUNT(*)").From(TableBounties)
	r.whereBounties(sb, f)
	n, err := r.count(ctx, sb)
	return n, r.fail(ctx, op, err)
}

// inChunk is how many values one IN list binds.
const inChunk = 500

// BountiesByIP groups bounties by attacker IP, oldest first. See
// BountyStore.
func (r *SQLRepository) BountiesByIP(ctx context.Context, ips []string) (map[string][]Bounty, error) {
	const op = "bounties by ip"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	out := map[string][]Bounty{}
	err := r.byIPs(ips, func(in []any) error {
		sb := r.selectBuilder()
		sb.Select(bountyCols...).From(TableBounties)
		if in != nil {
			sb.Where(sb.In("attacker_ip", in...))
		}
		sb.OrderBy("timestamp ASC", "id ASC")
		return r.queryAll(ctx, r.read, sb, func(rows *sql.Rows) error {
			b, err := scanBounty(rows)
			out[b.AttackerIP] = append(out[b.AttackerIP], b)
			return err
		})
	})
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	return out, nil
}

// byIPs calls fn with ips in chunks that fit an IN list, or once with nil
// when ips is nil (every IP). An empty, non-nil ips calls nothing.
func (r *SQLRepository) byIPs(ips []string, fn func(in []any) error) error {
	if ips == nil {
		return fn(nil)
	}
	for start := 0; start < len(ips); start += inChunk {
		chunk := ips[start:min(start+inChunk, len(ips))]
		in := make([]any, len(chunk))
		for i, ip := range chunk {
			in[i] = ip
		}
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}

// BountiesAfterID returns bounties with id > afterID, id ascending.
func (r *SQLRepository) BountiesAfterID(ctx context.Context, afterID int64, limit int) ([]Bounty, error) {
	const op = "bounties after id"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	limit, err := Page(limit, 0)
	if err != nil {
		return nil, r.fail(ctx, op, err)
	}
	sb := r.selectBuilder()
	sb.Select(bountyCols...).From(TableBounties).Where(sb.GreaterThan("id", afterID)).OrderBy("id ASC").Limit(limit)
	out, err := collect(ctx, r, sb, scanBounty)
	return out, r.fail(ctx, op, err)
}

// notFound turns sql.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
