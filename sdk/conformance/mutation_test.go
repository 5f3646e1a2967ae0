package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/decnet/decnet-db/core/config"
	"github.com/decnet/decnet-db/core/repository"
	_ "github.com/decnet/decnet-db/drivers/sqlite"
	"github.com/decnet/decnet-db/sdk/conformance"
)

// broken wraps a working repository and breaks the one behaviour named by
// mode, so that TestChecksCatchBrokenBackends can prove that the checks
// fail when a backend gets that behaviour wrong.
type broken struct {
	repository.Repository
	mode   string
	closed bool
}

func (b *broken) Logs(ctx context.Context, q repository.LogQuery) ([]repository.Log, error) {
	if b.mode == "search ignored" {
		q.Search = ""
	}
	ls, err := b.Repository.Logs(ctx, q)
	switch b.mode {
	case "oldest first":
		slices.Reverse(ls)
	case "local time":
		for i := range ls {
			ls[i].Timestamp = ls[i].Timestamp.In(time.FixedZone("x", 3600))
		}
	case "field lost":
		for i := range ls {
			delete(ls[i].Fields, "user")
		}
	}
	return ls, err
}

func (b *broken) CountLogs(ctx context.Context, f repository.LogFilter) (int64, error) {
	if b.mode == "since ignored" {
		f.Since = time.Time{}
	}
	return b.Repository.CountLogs(ctx, f)
}

func (b *broken) LogsAfterID(ctx context.Context, after int64, limit int, f repository.LogFilter) ([]repository.Log, error) {
	if b.mode == "tail filter ignored" {
		f = repository.LogFilter{}
	}
	return b.Repository.LogsAfterID(ctx, after, limit, f)
}

func (b *broken) MaxLogID(ctx context.Context) (int64, error) {
	n, err := b.Repository.MaxLogID(ctx)
	if b.mode == "max id off by one" {
		n++
	}
	return n, err
}

func (b *broken) AddBounty(ctx context.Context, bo repository.Bounty) (bool, error) {
	added, err := b.Repository.AddBounty(ctx, bo)
	if b.mode == "always added" {
		added = true
	}
	return added, err
}

func (b *broken) Bounties(ctx context.Context, q repository.BountyQuery) ([]repository.Bounty, error) {
	bs, err := b.Repository.Bounties(ctx, q)
	if b.mode == "payload not canonical" {
		for i := range bs {
			bs[i].Payload = append(json.RawMessage(" "), bs[i].Payload...)
		}
	}
	return bs, err
}

func (b *broken) BountiesByIP(ctx context.Context, ips []string) (map[string][]repository.Bounty, error) {
	if b.mode == "empty ips mean all" && ips != nil && len(ips) == 0 {
		ips = nil
	}
	return b.Repository.BountiesByIP(ctx, ips)
}

func (b *broken) State(ctx context.Context, key string) (json.RawMessage, error) {
	v, err := b.Repository.State(ctx, key)
	if b.mode == "absent state is nil" && errors.Is(err, repository.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

func (b *broken) LogHistogram(ctx context.Context, f repository.LogFilter, interval time.Duration) ([]repository.Bucket, error) {
	bs, err := b.Repository.LogHistogram(ctx, f, interval)
	if b.mode == "buckets not aligned" {
		for i := range bs {
			bs[i].Start = bs[i].Start.Add(time.Second)
		}
	}
	return bs, err
}

func (b *broken) UpsertAttacker(ctx context.Context, a repository.Attacker) (string, error) {
	id, err := b.Repository.UpsertAttacker(ctx, a)
	if b.mode == "new uuid per upsert" {
		id = strings.ToUpper(id)
	}
	return id, err
}

func (b *broken) Attackers(ctx context.Context, q repository.AttackerQuery) ([]repository.Attacker, error) {
	if b.mode == "service ignored" {
		q.Service = ""
	}
	return b.Repository.Attackers(ctx, q)
}

func (b *broken) AttackerCommands(ctx context.Context, uuid, service string, limit, offset int) (repository.CommandPage, error) {
	p, err := b.Repository.AttackerCommands(ctx, uuid, service, limit, offset)
	if b.mode == "total is page size" {
		p.Total = len(p.Commands)
	}
	return p, err
}

func (b *broken) Users(ctx context.Context) ([]repository.User, error) {
	us, err := b.Repository.Users(ctx)
	if b.mode == "users unsorted" {
		slices.Reverse(us)
	}
	return us, err
}

func (b *broken) UpdateUserPassword(ctx context.Context, uuid, hash string, mustChange bool) error {
	if b.mode == "unchanged update not found" {
		if u, err := b.Repository.UserByUUID(ctx, uuid); err == nil && u.PasswordHash == hash && u.MustChangePassword == mustChange {
			return repository.ErrNotFound
		}
	}
	return b.Repository.UpdateUserPassword(ctx, uuid, hash, mustChange)
}

func (b *broken) DeleteUser(ctx context.Context, uuid string) (bool, error) {
	ok, err := b.Repository.DeleteUser(ctx, uuid)
	if b.mode == "delete always true" {
		ok = true
	}
	return ok, err
}

func (b *broken) Purge(ctx context.Context) (repository.PurgeResult, error) {
	res, err := b.Repository.Purge(ctx)
	if b.mode == "purge miscounts" {
		res.Behaviors = 0
	}
	return res, err
}

func (b *broken) Describe(ctx context.Context) (repository.BackendInfo, error) {
	info, err := b.Repository.Describe(ctx)
	if b.mode == "no version" {
		info.Version = ""
	}
	return info, err
}

func (b *broken) TableCounts(ctx context.Context) ([]repository.TableCount, error) {
	tcs, err := b.Repository.TableCounts(ctx)
	if b.mode == "table left out" && len(tcs) > 0 {
		tcs = tcs[1:]
	}
	return tcs, err
}

func (b *broken) AddLog(ctx context.Context, l repository.Log) (int64, error) {
	switch {
	case b.mode == "context ignored":
		ctx = context.WithoutCancel(ctx)
	case b.mode == "closed not wrapped" && b.closed:
		return 0, errors.New("closed")
	}
	return b.Repository.AddLog(ctx, l)
}

func (b *broken) Close() error {
	b.closed = true
	return b.Repository.Close()
}

// TestChecksCatchBrokenBackends runs checks on SQLite repositories that
// each get one thing wrong: the check must fail, and pass on the working
// repository.
func TestChecksCatchBrokenBackends(t *testing.T) {
	cfg := config.Default()
	cfg.Type = "sqlite"
	cfg.BcryptCost = bcrypt.MinCost
	base := conformance.RegistryFactory(cfg)
	factory := func(mode string) conformance.Factory {
		return func(t conformance.T) conformance.Opener {
			open := base(t)
			return func(ctx context.Context, admin conformance.Admin) (repository.Repository, error) {
				r, err := open(ctx, admin)
				if err != nil {
					return nil, err
				}
				return &broken{Repository: r, mode: mode}, nil
			}
		}
	}
	run := func(mode, check string) bool {
		rep := conformance.RunChecks(t.Context(), factory(mode), conformance.RunOptions{Filter: check})
		for _, res := range rep.Results {
			if res.Name == check {
				return res.Passed
			}
		}
		t.Fatalf("no check named %q", check)
		return false
	}
	for _, c := range []struct{ mode, check string }{
		{"search ignored", "search_json_two_fields"},
		{"search ignored", "search_sql_metachars"},
		{"oldest first", "logs_order_newest_first"},
		{"oldest first", "logs_paging"},
		{"local time", "time_utc_precision"},
		{"field lost", "logs_round_trip"},
		{"since ignored", "search_since_until_inclusive"},
		{"tail filter ignored", "logs_after_id"},
		{"max id off by one", "logs_max_id_empty"},
		{"always added", "bounty_dedup"},
		{"always added", "bounty_concurrent_dedup"},
		{"payload not canonical", "bounty_payload_canonical"},
		{"empty ips mean all", "bounty_by_ip"},
		{"absent state is nil", "state_absent_not_found"},
		{"buckets not aligned", "histogram_buckets"},
		{"new uuid per upsert", "attacker_upsert_keeps_uuid"},
		{"service ignored", "attacker_filter_service"},
		{"total is page size", "attacker_commands"},
		{"users unsorted", "users_sorted"},
		{"unchanged update not found", "user_update_password"},
		{"delete always true", "user_delete"},
		{"purge miscounts", "purge_counts"},
		{"no version", "maint_describe"},
		{"table left out", "maint_table_counts"},
		{"context ignored", "lifecycle_context_canceled"},
		{"closed not wrapped", "lifecycle_closed_errors"},
	} {
		if !run("", c.check) {
			t.Errorf("%s fails on a working repository", c.check)
		}
		if run(c.mode, c.check) {
			t.Errorf("%s passes on a repository with %q", c.check, c.mode)
		}
	}
}
