package telemetry_test

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/decnet/decnet-db/core/repository"
)

// call is one call that reached the fake: the method and the span context
// its ctx carried (invalid for Close, which has none).
type call struct {
	method string
	span   trace.SpanContext
}

// fakeRepo is a repository.Repository that records every call and returns
// fixed, non-zero results and err. When child is set, every call with a
// context starts and ends a span named "child" from it, as a backend
// would.
type fakeRepo struct {
	err   error
	child func(ctx context.Context)

	mu    sync.Mutex
	calls []call
}

var _ repository.Repository = (*fakeRepo)(nil)

func (f *fakeRepo) hit(ctx context.Context, method string) error {
	f.mu.Lock()
	f.calls = append(f.calls, call{method: method, span: trace.SpanContextFromContext(ctx)})
	f.mu.Unlock()
	if f.child != nil {
		f.child(ctx)
	}
	return f.err
}

// Calls returns the calls so far.
func (f *fakeRepo) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

var fakeTime = time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)

func (f *fakeRepo) Initialize(ctx context.Context) error { return f.hit(ctx, "Initialize") }
func (f *fakeRepo) Ping(ctx context.Context) error       { return f.hit(ctx, "Ping") }
func (f *fakeRepo) Close() error                         { return f.hit(context.Background(), "Close") }

func (f *fakeRepo) AddLog(ctx context.Context, _ repository.Log) (int64, error) {
	return 42, f.hit(ctx, "AddLog")
}
func (f *fakeRepo) AddLogs(ctx context.Context, _ []repository.Log) error {
	return f.hit(ctx, "AddLogs")
}
func (f *fakeRepo) Logs(ctx context.Context, _ repository.LogQuery) ([]repository.Log, error) {
	return []repository.Log{{ID: 1, Timestamp: fakeTime, Decky: "decky-01"}}, f.hit(ctx, "Logs")
}
func (f *fakeRepo) CountLogs(ctx context.Context, _ repository.LogFilter) (int64, error) {
	return 7, f.hit(ctx, "CountLogs")
}
func (f *fakeRepo) MaxLogID(ctx context.Context) (int64, error) { return 99, f.hit(ctx, "MaxLogID") }
func (f *fakeRepo) LogsAfterID(ctx context.Context, _ int64, _ int, _ repository.LogFilter) ([]repository.Log, error) {
	return []repository.Log{{ID: 2, Service: "ssh"}}, f.hit(ctx, "LogsAfterID")
}
func (f *fakeRepo) LogHistogram(ctx context.Context, _ repository.LogFilter, _ time.Duration) ([]repository.Bucket, error) {
	return []repository.Bucket{{Start: fakeTime, Count: 3}}, f.hit(ctx, "LogHistogram")
}
func (f *fakeRepo) Stats(ctx context.Context) (repository.Stats, error) {
	return repository.Stats{TotalLogs: 5, UniqueAttackers: 2}, f.hit(ctx, "Stats")
}

func (f *fakeRepo) AddBounty(ctx context.Context, _ repository.Bounty) (bool, error) {
	return true, f.hit(ctx, "AddBounty")
}
func (f *fakeRepo) Bounties(ctx context.Context, _ repository.BountyQuery) ([]repository.Bounty, error) {
	return []repository.Bounty{{ID: 3, BountyType: "credential"}}, f.hit(ctx, "Bounties")
}
func (f *fakeRepo) CountBounties(ctx context.Context, _ repository.BountyFilter) (int64, error) {
	return 8, f.hit(ctx, "CountBounties")
}
func (f *fakeRepo) BountiesByIP(ctx context.Context, _ []string) (map[string][]repository.Bounty, error) {
	return map[string][]repository.Bounty{"192.0.2.1": {{ID: 4}}}, f.hit(ctx, "BountiesByIP")
}
func (f *fakeRepo) BountiesAfterID(ctx context.Context, _ int64, _ int) ([]repository.Bounty, error) {
	return []repository.Bounty{{ID: 5}}, f.hit(ctx, "BountiesAfterID")
}

func (f *fakeRepo) State(ctx context.Context, _ string) (json.RawMessage, error) {
	return json.RawMessage(`{"k":1}`), f.hit(ctx, "State")
}
func (f *fakeRepo) SetState(ctx context.Context, _ string, _ json.RawMessage) error {
	return f.hit(ctx, "SetState")
}
func (f *fakeRepo) StateKeys(ctx context.Context) ([]string, error) {
	return []string{"a", "b"}, f.hit(ctx, "StateKeys")
}

func (f *fakeRepo) UpsertDecky(ctx context.Context, _ repository.Decky) error {
	return f.hit(ctx, "UpsertDecky")
}
func (f *fakeRepo) Deckies(ctx context.Context) ([]repository.Decky, error) {
	return []repository.Decky{{Name: "decky-01"}}, f.hit(ctx, "Deckies")
}
func (f *fakeRepo) DeleteDecky(ctx context.Context, _ string) (bool, error) {
	return true, f.hit(ctx, "DeleteDecky")
}

func (f *fakeRepo) CreateUser(ctx context.Context, u repository.User) (repository.User, error) {
	return repository.User{UUID: "u-1", Username: "admin", Role: repository.RoleAdmin}, f.hit(ctx, "CreateUser")
}
func (f *fakeRepo) UserByUsername(ctx context.Context, _ string) (repository.User, error) {
	return repository.User{UUID: "u-2"}, f.hit(ctx, "UserByUsername")
}
func (f *fakeRepo) UserByUUID(ctx context.Context, _ string) (repository.User, error) {
	return repository.User{UUID: "u-3"}, f.hit(ctx, "UserByUUID")
}
func (f *fakeRepo) Users(ctx context.Context) ([]repository.User, error) {
	return []repository.User{{UUID: "u-4"}}, f.hit(ctx, "Users")
}
func (f *fakeRepo) UpdateUserPassword(ctx context.Context, _, _ string, _ bool) error {
	return f.hit(ctx, "UpdateUserPassword")
}
func (f *fakeRepo) UpdateUserRole(ctx context.Context, _ string, _ repository.Role) error {
	return f.hit(ctx, "UpdateUserRole")
}
func (f *fakeRepo) DeleteUser(ctx context.Context, _ string) (bool, error) {
	return true, f.hit(ctx, "DeleteUser")
}

func (f *fakeRepo) UpsertAttacker(ctx context.Context, _ repository.Attacker) (string, error) {
	return "a-1", f.hit(ctx, "UpsertAttacker")
}
func (f *fakeRepo) AttackerByUUID(ctx context.Context, _ string) (repository.Attacker, error) {
	return repository.Attacker{UUID: "a-2", IP: "192.0.2.2"}, f.hit(ctx, "AttackerByUUID")
}
func (f *fakeRepo) Attackers(ctx context.Context, _ repository.AttackerQuery) ([]repository.Attacker, error) {
	return []repository.Attacker{{UUID: "a-3"}}, f.hit(ctx, "Attackers")
}
func (f *fakeRepo) CountAttackers(ctx context.Context, _ repository.AttackerFilter) (int64, error) {
	return 9, f.hit(ctx, "CountAttackers")
}
func (f *fakeRepo) AttackerCommands(ctx context.Context, _, _ string, _, _ int) (repository.CommandPage, error) {
	return repository.CommandPage{Total: 1, Commands: []repository.Command{{Command: "id"}}}, f.hit(ctx, "AttackerCommands")
}
func (f *fakeRepo) UpsertAttackerBehavior(ctx context.Context, _ string, _ repository.Behavior) error {
	return f.hit(ctx, "UpsertAttackerBehavior")
}
func (f *fakeRepo) AttackerBehavior(ctx context.Context, _ string) (repository.Behavior, error) {
	return repository.Behavior{AttackerUUID: "a-4", OSGuess: "linux"}, f.hit(ctx, "AttackerBehavior")
}
func (f *fakeRepo) BehaviorsByIP(ctx context.Context, _ []string) (map[string]repository.Behavior, error) {
	return map[string]repository.Behavior{"192.0.2.3": {AttackerUUID: "a-5"}}, f.hit(ctx, "BehaviorsByIP")
}

func (f *fakeRepo) Purge(ctx context.Context) (repository.PurgeResult, error) {
	return repository.PurgeResult{Logs: 1, Bounties: 2, Behaviors: 3, Attackers: 4}, f.hit(ctx, "Purge")
}

func (f *fakeRepo) Import(ctx context.Context, _ repository.Batch) error { return f.hit(ctx, "Import") }

func (f *fakeRepo) Describe(ctx context.Context) (repository.BackendInfo, error) {
	return repository.BackendInfo{Driver: "fake", Version: "1"}, f.hit(ctx, "Describe")
}
func (f *fakeRepo) TableCounts(ctx context.Context) ([]repository.TableCount, error) {
	return []repository.TableCount{{Table: "logs", Rows: 1}}, f.hit(ctx, "TableCounts")
}
func (f *fakeRepo) Reset(ctx context.Context, _ repository.ResetMode) error {
	return f.hit(ctx, "Reset")
}
