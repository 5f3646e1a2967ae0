package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "lifecycle_ping", Run: checkLifecyclePing},
		Check{Name: "lifecycle_reopen_sees_data", Run: checkLifecycleReopenSeesData},
		Check{Name: "lifecycle_context_canceled", Run: checkLifecycleContextCanceled},
		Check{Name: "lifecycle_context_canceled_all", Run: checkLifecycleContextCanceledAll},
		Check{Name: "lifecycle_concurrent_add_log", Run: checkLifecycleConcurrentAddLog},
		Check{Name: "lifecycle_concurrent_read_write", Run: checkLifecycleConcurrentReadWrite},
		Check{Name: "lifecycle_close_twice", Destructive: true, Run: checkLifecycleCloseTwice},
		Check{Name: "lifecycle_closed_errors", Destructive: true, Run: checkLifecycleClosedErrors},
	)
}

// call is one method of Repository called with valid arguments.
type call struct {
	name string
	fn   func(ctx context.Context) error
}

// allCalls returns one call of every method of r that takes a context,
// each with valid input, so that the only reason to fail is the state of r
// or of ctx. uuid is an existing user's and attacker's UUID.
func allCalls(r repository.Repository, userUUID, attackerUUID string) []call {
	discard := func(_ any, err error) error { return err }
	lf := repository.LogFilter{Search: "service:ssh"}
	return []call{
		{"Initialize", r.Initialize},
		{"Ping", r.Ping},
		{"AddLog", func(ctx context.Context) error { return discard(r.AddLog(ctx, sampleLog(100))) }},
		{"AddLogs", func(ctx context.Context) error { return r.AddLogs(ctx, sampleLogs(3)) }},
		{"Logs", func(ctx context.Context) error { return discard(r.Logs(ctx, repository.LogQuery{LogFilter: lf})) }},
		{"CountLogs", func(ctx context.Context) error { return discard(r.CountLogs(ctx, lf)) }},
		{"MaxLogID", func(ctx context.Context) error { return discard(r.MaxLogID(ctx)) }},
		{"LogsAfterID", func(ctx context.Context) error { return discard(r.LogsAfterID(ctx, 0, 10, lf)) }},
		{"LogHistogram", func(ctx context.Context) error { return discard(r.LogHistogram(ctx, lf, time.Hour)) }},
		{"Stats", func(ctx context.Context) error { return discard(r.Stats(ctx)) }},
		{"AddBounty", func(ctx context.Context) error {
			return discard(r.AddBounty(ctx, newBounty("credential", "10.9.0.1", `{"k":"v"}`, at(0))))
		}},
		{"Bounties", func(ctx context.Context) error { return discard(r.Bounties(ctx, repository.BountyQuery{})) }},
		{"CountBounties", func(ctx context.Context) error { return discard(r.CountBounties(ctx, repository.BountyFilter{})) }},
		{"BountiesByIP", func(ctx context.Context) error { return discard(r.BountiesByIP(ctx, nil)) }},
		{"BountiesAfterID", func(ctx context.Context) error { return discard(r.BountiesAfterID(ctx, 0, 10)) }},
		{"State", func(ctx context.Context) error { return discard(r.State(ctx, "existing")) }},
		{"SetState", func(ctx context.Context) error { return r.SetState(ctx, "k", json.RawMessage(`1`)) }},
		{"StateKeys", func(ctx context.Context) error { return discard(r.StateKeys(ctx)) }},
		{"UpsertDecky", func(ctx context.Context) error { return r.UpsertDecky(ctx, sampleDecky("d")) }},
		{"Deckies", func(ctx context.Context) error { return discard(r.Deckies(ctx)) }},
		{"DeleteDecky", func(ctx context.Context) error { return discard(r.DeleteDecky(ctx, "existing")) }},
		{"CreateUser", func(ctx context.Context) error { return discard(r.CreateUser(ctx, newUser("newcomer"))) }},
		{"UserByUsername", func(ctx context.Context) error { return discard(r.UserByUsername(ctx, DefaultAdmin.User)) }},
		{"UserByUUID", func(ctx context.Context) error { return discard(r.UserByUUID(ctx, userUUID)) }},
		{"Users", func(ctx context.Context) error { return discard(r.Users(ctx)) }},
		{"UpdateUserPassword", func(ctx context.Context) error { return r.UpdateUserPassword(ctx, userUUID, testHash(), true) }},
		{"UpdateUserRole", func(ctx context.Context) error { return r.UpdateUserRole(ctx, userUUID, repository.RoleAdmin) }},
		{"DeleteUser", func(ctx context.Context) error { return discard(r.DeleteUser(ctx, userUUID)) }},
		{"UpsertAttacker", func(ctx context.Context) error { return discard(r.UpsertAttacker(ctx, sampleAttacker("10.9.0.2", 0))) }},
		{"AttackerByUUID", func(ctx context.Context) error { return discard(r.AttackerByUUID(ctx, attackerUUID)) }},
		{"Attackers", func(ctx context.Context) error { return discard(r.Attackers(ctx, repository.AttackerQuery{})) }},
		{"CountAttackers", func(ctx context.Context) error { return discard(r.CountAttackers(ctx, repository.AttackerFilter{})) }},
		{"AttackerCommands", func(ctx context.Context) error { return discard(r.AttackerCommands(ctx, attackerUUID, "", 10, 0)) }},
		{"UpsertAttackerBehavior", func(ctx context.Context) error {
			return r.UpsertAttackerBehavior(ctx, attackerUUID, sampleBehavior())
		}},
		{"AttackerBehavior", func(ctx context.Context) error { return discard(r.AttackerBehavior(ctx, attackerUUID)) }},
		{"BehaviorsByIP", func(ctx context.Context) error { return discard(r.BehaviorsByIP(ctx, nil)) }},
		{"Purge", func(ctx context.Context) error { return discard(r.Purge(ctx)) }},
		{"Import", func(ctx context.Context) error {
			return r.Import(ctx, repository.Batch{State: map[string]json.RawMessage{"imported": json.RawMessage(`1`)}})
		}},
		{"Describe", func(ctx context.Context) error { return discard(r.Describe(ctx)) }},
		{"TableCounts", func(ctx context.Context) error { return discard(r.TableCounts(ctx)) }},
		{"Reset", func(ctx context.Context) error { return r.Reset(ctx, repository.ResetTruncate) }},
	}
}

// seedForCalls stores one row of each kind for allCalls and returns a
// viewer's UUID and an attacker's UUID.
func seedForCalls(t T, r repository.Repository) (userUUID, attackerUUID string) {
	t.Helper()
	ctx := t.Context()
	addLog(t, r, sampleLog(0))
	addBounty(t, r, newBounty("credential", "10.0.0.1", `1`, at(0)))
	mustOK(t, r.SetState(ctx, "existing", json.RawMessage(`true`)), "SetState")
	mustOK(t, r.UpsertDecky(ctx, sampleDecky("existing")), "UpsertDecky")
	u := createUser(t, r, newUser("viewer"))
	a := upsertAttacker(t, r, sampleAttacker("10.0.0.1", 0))
	mustOK(t, r.UpsertAttackerBehavior(ctx, a, sampleBehavior()), "UpsertAttackerBehavior")
	return u.UUID, a
}

func checkLifecyclePing(t T, h *Harness) {
	r := h.Repo(t)
	expectOK(t, r.Ping(t.Context()), "Ping")
	expectOK(t, r.Ping(t.Context()), "Ping again")
}

func checkLifecycleReopenSeesData(t T, h *Harness) {
	r := h.Repo(t)
	id := addLog(t, r, sampleLog(0))
	mustOK(t, r.SetState(t.Context(), "k", json.RawMessage(`"v"`)), "SetState")
	r2 := h.Repo(t)
	if ls := listLogs(t, r2, repository.LogFilter{}); len(ls) != 1 || ls[0].ID != id {
		t.Errorf("a second repository on the same storage: logs %v, want [%d]", logIDs(ls), id)
	}
	if v, ok := got(r2.State(t.Context(), "k")).ok(t, "State via the second repository"); ok {
		expectJSON(t, "State via the second repository", v, []byte(`"v"`))
	}
	if us := got(r2.Users(t.Context())).must(t, "Users"); len(us) != 1 {
		t.Errorf("a second Initialize on the same storage: %d users, want 1", len(us))
	}
	id2 := addLog(t, r2, sampleLog(1))
	if id2 <= id {
		t.Errorf("AddLog via the second repository: id %d, want > %d", id2, id)
	}
	if n := countLogs(t, r, repository.LogFilter{}); n != 2 {
		t.Errorf("CountLogs via the first repository: %d, want 2", n)
	}
}

// canceled returns a context that is already canceled.
func canceled(t T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func checkLifecycleContextCanceled(t T, h *Harness) {
	r := h.Repo(t)
	u, a := seedForCalls(t, r)
	want := map[string]bool{"AddLog": true, "Logs": true, "CountLogs": true, "SetState": true, "AddBounty": true, "CreateUser": true, "UpsertAttacker": true}
	ctx := canceled(t)
	for _, c := range allCalls(r, u, a) {
		if want[c.name] {
			expectErr(t, c.fn(ctx), context.Canceled, c.name+" with a canceled context")
		}
	}
	expectOK(t, r.Ping(t.Context()), "Ping after canceled calls")
}

func checkLifecycleContextCanceledAll(t T, h *Harness) {
	r := h.Repo(t)
	u, a := seedForCalls(t, r)
	before := tableCounts(t, r)
	ctx := canceled(t)
	for _, c := range allCalls(r, u, a) {
		expectErr(t, c.fn(ctx), context.Canceled, c.name+" with a canceled context")
	}
	expectOK(t, r.Ping(t.Context()), "Ping after canceled calls")
	after := tableCounts(t, r)
	for name, tc := range before {
		if after[name] != tc {
			t.Errorf("canceled calls changed table %s: %+v, want %+v", name, after[name], tc)
		}
	}
}

func checkLifecycleConcurrentAddLog(t T, h *Harness) {
	r := h.Repo(t)
	const workers, each = 8, 500
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  []int64
		errs []error
		sent = map[int64]string{} // id -> the raw line of the call that got it
	)
	for w := range workers {
		wg.Go(func() {
			mine := make([]int64, 0, each)
			lines := make([]string, 0, each)
			for i := range each {
				l := sampleLog(w*each + i)
				id, err := r.AddLog(t.Context(), l)
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("worker %d, log %d: %w", w, i, err))
					mu.Unlock()
					return
				}
				mine = append(mine, id)
				lines = append(lines, l.RawLine)
			}
			mu.Lock()
			ids = append(ids, mine...)
			for i, id := range mine {
				sent[id] = lines[i]
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == 5 {
			t.Errorf("... and %d more errors", len(errs)-i)
			break
		}
		t.Errorf("concurrent AddLog: %v", err)
	}
	if len(ids) != workers*each {
		t.Errorf("concurrent AddLog: %d ids returned, want %d", len(ids), workers*each)
	}
	expectUnique(t, "concurrent AddLog ids", ids)
	if n := countLogs(t, r, repository.LogFilter{}); n != workers*each {
		t.Errorf("CountLogs after concurrent AddLog: %d, want %d", n, workers*each)
	}
	// Concurrent calls may share a commit; each must still get the id of
	// its own row.
	wrong := 0
	for after := int64(0); ; {
		page := got(r.LogsAfterID(t.Context(), after, repository.MaxLimit, repository.LogFilter{})).must(t, "LogsAfterID")
		if len(page) == 0 {
			break
		}
		for _, l := range page {
			if line, ok := sent[l.ID]; ok && line != l.RawLine {
				if wrong++; wrong <= 3 {
					t.Errorf("AddLog returned id %d for %q, but row %d is %q", l.ID, line, l.ID, l.RawLine)
				}
			}
		}
		after = page[len(page)-1].ID
	}
	if wrong > 3 {
		t.Errorf("... %d ids in all belong to another call's row", wrong)
	}
	if len(ids) > 0 {
		s := sortedIDs(ids)
		if max := got(r.MaxLogID(t.Context())).must(t, "MaxLogID"); max != s[len(s)-1] {
			t.Errorf("MaxLogID: %d, want the largest returned id %d", max, s[len(s)-1])
		}
	}
}

func checkLifecycleConcurrentReadWrite(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	const writers, readers, rounds = 4, 4, 50
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				if _, err := r.AddLog(ctx, sampleLog(w*rounds+i)); err != nil {
					fail(fmt.Errorf("AddLog: %w", err))
					return
				}
				if err := r.SetState(ctx, fmt.Sprintf("w%d", w), json.RawMessage(fmt.Sprint(i))); err != nil {
					fail(fmt.Errorf("SetState: %w", err))
					return
				}
				if _, err := r.AddBounty(ctx, newBounty("credential", "10.0.0.1", fmt.Sprint(i), at(i))); err != nil {
					fail(fmt.Errorf("AddBounty: %w", err))
					return
				}
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range rounds {
				if _, err := r.Logs(ctx, repository.LogQuery{Limit: 20}); err != nil {
					fail(fmt.Errorf("Logs: %w", err))
					return
				}
				if _, err := r.CountLogs(ctx, repository.LogFilter{Search: "service:ssh"}); err != nil {
					fail(fmt.Errorf("CountLogs: %w", err))
					return
				}
				if _, err := r.Stats(ctx); err != nil {
					fail(fmt.Errorf("Stats: %w", err))
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	if n := countLogs(t, r, repository.LogFilter{}); n != writers*rounds {
		t.Errorf("CountLogs: %d, want %d", n, writers*rounds)
	}
	if n := got(r.CountBounties(ctx, repository.BountyFilter{})).must(t, "CountBounties"); n != rounds {
		t.Errorf("CountBounties: %d, want %d (each payload added by %d writers)", n, rounds, writers)
	}
}

func checkLifecycleCloseTwice(t T, h *Harness) {
	r := h.Repo(t)
	expectOK(t, r.Close(), "Close")
	expectOK(t, r.Close(), "Close again")
}

func checkLifecycleClosedErrors(t T, h *Harness) {
	r := h.Repo(t)
	u, a := seedForCalls(t, r)
	mustOK(t, r.Close(), "Close")
	for _, c := range allCalls(r, u, a) {
		err := c.fn(t.Context())
		expectErr(t, err, repository.ErrClosed, c.name+" after Close")
		if errors.Is(err, repository.ErrClosed) && err.Error() == "" {
			t.Errorf("%s after Close: empty message", c.name)
		}
	}
	expectOK(t, r.Close(), "Close after the calls")
}
