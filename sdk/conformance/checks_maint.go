package conformance

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "purge_counts", Run: checkPurgeCounts},
		Check{Name: "purge_ids_continue", Run: checkPurgeIDsContinue},
		Check{Name: "purge_empty", Run: checkPurgeEmpty},
		Check{Name: "import_keeps_values", Run: checkImportKeepsValues},
		Check{Name: "import_ids_continue", Run: checkImportIDsContinue},
		Check{Name: "import_conflict_log_id", Run: checkImportConflictLogID},
		Check{Name: "import_conflict_username", Run: checkImportConflictUsername},
		Check{Name: "import_empty", Run: checkImportEmpty},
		Check{Name: "maint_describe", Run: checkMaintDescribe},
		Check{Name: "maint_table_counts", Run: checkMaintTableCounts},
		Check{Name: "maint_reset_truncate", Run: checkMaintResetTruncate},
		Check{Name: "maint_reset_drop_tables", Run: checkMaintResetDropTables},
		Check{Name: "maint_reset_invalid", Run: checkMaintResetInvalid},
	)
}

// fillAll stores logs, bounties, attackers (two with a behavior), state,
// deckies and a user, in the given numbers, and returns the largest log id.
func fillAll(t T, r repository.Repository, logs, bounties, attackers int) int64 {
	t.Helper()
	ctx := t.Context()
	ids := addLogs(t, r, sampleLogs(logs)...)
	for i := range bounties {
		addBounty(t, r, newBounty("credential", "10.0.0.1", fmt.Sprint(i), at(i)))
	}
	for i := range attackers {
		id := upsertAttacker(t, r, sampleAttacker(fmt.Sprintf("10.3.0.%d", i+1), i))
		if i < 2 {
			mustOK(t, r.UpsertAttackerBehavior(ctx, id, sampleBehavior()), "UpsertAttackerBehavior")
		}
	}
	mustOK(t, r.SetState(ctx, "kept", json.RawMessage(`{"kept":true}`)), "SetState")
	mustOK(t, r.UpsertDecky(ctx, sampleDecky("kept")), "UpsertDecky")
	createUser(t, r, newUser("kept"))
	if len(ids) == 0 {
		return 0
	}
	return sortedIDs(ids)[len(ids)-1]
}

func checkPurgeCounts(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	fillAll(t, r, 7, 4, 3)
	res := got(r.Purge(ctx)).must(t, "Purge")
	if want := (repository.PurgeResult{Logs: 7, Bounties: 4, Behaviors: 2, Attackers: 3}); res != want {
		t.Errorf("Purge: %+v, want %+v", res, want)
	}
	if n := countLogs(t, r, repository.LogFilter{}); n != 0 {
		t.Errorf("CountLogs after Purge: %d, want 0", n)
	}
	if n := got(r.CountBounties(ctx, repository.BountyFilter{})).must(t, "CountBounties"); n != 0 {
		t.Errorf("CountBounties after Purge: %d, want 0", n)
	}
	if n := got(r.CountAttackers(ctx, repository.AttackerFilter{})).must(t, "CountAttackers"); n != 0 {
		t.Errorf("CountAttackers after Purge: %d, want 0", n)
	}
	if m := got(r.BehaviorsByIP(ctx, nil)).must(t, "BehaviorsByIP"); len(m) != 0 {
		t.Errorf("BehaviorsByIP after Purge: %d, want none", len(m))
	}
	if _, err := r.State(ctx, "kept"); err != nil {
		t.Errorf("State after Purge: %v, want the state kept", err)
	}
	if _, ok := deckyNamed(t, r, "kept"); !ok {
		t.Errorf("Deckies after Purge: the decky is gone, want it kept")
	}
	if _, err := r.UserByUsername(ctx, "kept"); err != nil {
		t.Errorf("UserByUsername after Purge: %v, want the user kept", err)
	}
	if _, err := r.UserByUsername(ctx, DefaultAdmin.User); err != nil {
		t.Errorf("admin after Purge: %v, want the admin kept", err)
	}
	if res := got(r.Purge(ctx)).must(t, "Purge again"); res != (repository.PurgeResult{}) {
		t.Errorf("Purge of an empty repository: %+v, want all zero", res)
	}
}

func checkPurgeIDsContinue(t T, h *Harness) {
	r := h.Repo(t)
	maxBefore := fillAll(t, r, 5, 1, 1)
	got(r.Purge(t.Context())).must(t, "Purge")
	if id := addLog(t, r, sampleLog(10)); id <= maxBefore {
		t.Errorf("AddLog after Purge: id %d, want > %d (ids never restart)", id, maxBefore)
	}
	if max := got(r.MaxLogID(t.Context())).must(t, "MaxLogID"); max <= maxBefore {
		t.Errorf("MaxLogID after Purge and AddLog: %d, want > %d", max, maxBefore)
	}
}

func checkPurgeEmpty(t T, h *Harness) {
	r := h.Repo(t)
	if res := got(r.Purge(t.Context())).must(t, "Purge"); res != (repository.PurgeResult{}) {
		t.Errorf("Purge of an empty repository: %+v, want all zero", res)
	}
	if _, err := r.UserByUsername(t.Context(), DefaultAdmin.User); err != nil {
		t.Errorf("admin after Purge: %v", err)
	}
}

// importBatch returns a batch with every kind of row, ids, UUIDs and times
// set (at microsecond precision), none of them present in a fresh
// repository.
func importBatch() repository.Batch {
	t1 := time.Date(2022, 3, 4, 5, 6, 7, 123456000, time.UTC)
	t2 := time.Date(2022, 3, 5, 6, 7, 8, 654321000, zone)
	l1, l2 := sampleLog(1), sampleLog(2)
	l1.ID, l1.Timestamp = 100, t1
	l2.ID, l2.Timestamp = 250, t2
	b := newBounty("credential", "10.0.0.1", `{"pass":"x","user":"y"}`, t1)
	b.ID = 42
	d := sampleDecky("imported-decky")
	d.UpdatedAt = t1
	a := sampleAttacker("10.4.0.1", 0)
	a.UUID = "4d1f0c3e-2c7a-4b7e-9a0e-1f2d3c4b5a69"
	a.FirstSeen, a.LastSeen, a.UpdatedAt = t1, t2, t2
	a.Commands[0].Timestamp, a.Commands[1].Timestamp = t1, t2
	beh := sampleBehavior()
	beh.AttackerUUID, beh.UpdatedAt = a.UUID, t1
	return repository.Batch{
		Logs:      []repository.Log{l1, l2},
		Bounties:  []repository.Bounty{b},
		State:     map[string]json.RawMessage{"imported.key": json.RawMessage(`{"v":[1,2]}`)},
		Deckies:   []repository.Decky{d},
		Users:     []repository.User{{UUID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", Username: "imported-user", PasswordHash: "$2a$04$abcdefghijklmnopqrstuuFnqWVfTjVbm3vZPK8ZQwHQvxPJ5lAyO", Role: repository.RoleViewer, MustChangePassword: true, CreatedAt: t2}},
		Attackers: []repository.Attacker{a},
		Behaviors: []repository.Behavior{beh},
	}
}

func checkImportKeepsValues(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	b := importBatch()
	mustOK(t, r.Import(ctx, b), "Import")

	logs := got(r.LogsAfterID(ctx, 0, 100, repository.LogFilter{})).must(t, "LogsAfterID")
	if len(logs) != len(b.Logs) {
		t.Errorf("imported logs: %d, want %d", len(logs), len(b.Logs))
	}
	for i := 0; i < len(logs) && i < len(b.Logs); i++ {
		expectLog(t, fmt.Sprintf("imported log %d", b.Logs[i].ID), logs[i], b.Logs[i])
		expectExactTime(t, fmt.Sprintf("imported log %d timestamp", b.Logs[i].ID), logs[i].Timestamp, b.Logs[i].Timestamp)
	}

	bs := got(r.BountiesAfterID(ctx, 0, 100)).must(t, "BountiesAfterID")
	if len(bs) != 1 {
		t.Errorf("imported bounties: %d, want 1", len(bs))
	} else {
		if bs[0].ID != b.Bounties[0].ID {
			t.Errorf("imported bounty id %d, want %d", bs[0].ID, b.Bounties[0].ID)
		}
		expectExactTime(t, "imported bounty timestamp", bs[0].Timestamp, b.Bounties[0].Timestamp)
		expectJSON(t, "imported bounty payload", bs[0].Payload, b.Bounties[0].Payload)
	}

	if v, ok := got(r.State(ctx, "imported.key")).ok(t, "State"); ok {
		expectJSON(t, "imported state", v, b.State["imported.key"])
	}

	if d, ok := deckyNamed(t, r, "imported-decky"); ok {
		expectDecky(t, "imported decky", d, b.Deckies[0])
		expectExactTime(t, "imported decky updated_at", d.UpdatedAt, b.Deckies[0].UpdatedAt)
	} else {
		t.Errorf("imported decky missing")
	}

	wantU := b.Users[0]
	if u, ok := got(r.UserByUUID(ctx, wantU.UUID)).ok(t, "UserByUUID"); ok {
		expectUser(t, "imported user", u, wantU)
		expectExactTime(t, "imported user created_at", u.CreatedAt, wantU.CreatedAt)
	}

	wantA := b.Attackers[0]
	if a, ok := got(r.AttackerByUUID(ctx, wantA.UUID)).ok(t, "AttackerByUUID"); ok {
		expectAttacker(t, "imported attacker", a, wantA)
		expectExactTime(t, "imported attacker first_seen", a.FirstSeen, wantA.FirstSeen)
		expectExactTime(t, "imported attacker last_seen", a.LastSeen, wantA.LastSeen)
		expectExactTime(t, "imported attacker updated_at", a.UpdatedAt, wantA.UpdatedAt)
		for i := 0; i < len(a.Commands) && i < len(wantA.Commands); i++ {
			expectExactTime(t, fmt.Sprintf("imported command %d", i), a.Commands[i].Timestamp, wantA.Commands[i].Timestamp)
		}
	}

	wantB := b.Behaviors[0]
	if beh, ok := got(r.AttackerBehavior(ctx, wantB.AttackerUUID)).ok(t, "AttackerBehavior"); ok {
		expectBehavior(t, "imported behavior", beh, wantB)
		expectExactTime(t, "imported behavior updated_at", beh.UpdatedAt, wantB.UpdatedAt)
	}
	if m, ok := got(r.BehaviorsByIP(ctx, []string{wantA.IP})).ok(t, "BehaviorsByIP"); ok && len(m) != 1 {
		t.Errorf("BehaviorsByIP(imported attacker): %d behaviors, want 1", len(m))
	}
}

func checkImportIDsContinue(t T, h *Harness) {
	r := h.Repo(t)
	mustOK(t, r.Import(t.Context(), importBatch()), "Import")
	if max := got(r.MaxLogID(t.Context())).must(t, "MaxLogID"); max != 250 {
		t.Errorf("MaxLogID after importing ids 100 and 250: %d, want 250", max)
	}
	if id := addLog(t, r, sampleLog(0)); id <= 250 {
		t.Errorf("AddLog after importing id 250: id %d, want > 250", id)
	}
	mustOK(t, r.AddLogs(t.Context(), sampleLogs(3)), "AddLogs")
	for _, l := range got(r.LogsAfterID(t.Context(), 250, 100, repository.LogFilter{})).must(t, "LogsAfterID") {
		if l.ID <= 250 {
			t.Errorf("AddLogs after importing id 250: id %d", l.ID)
		}
	}
	if n := countLogs(t, r, repository.LogFilter{}); n != 6 {
		t.Errorf("CountLogs: %d, want 6", n)
	}
}

// expectNothingImported reports a failure when any row of importBatch is
// present.
func expectNothingImported(t T, r repository.Repository, what string) {
	t.Helper()
	ctx := t.Context()
	b := importBatch()
	_, err := r.State(ctx, "imported.key")
	expectErr(t, err, repository.ErrNotFound, what+": State of the batch's key")
	_, err = r.UserByUUID(ctx, b.Users[0].UUID)
	expectErr(t, err, repository.ErrNotFound, what+": UserByUUID of the batch's user")
	_, err = r.AttackerByUUID(ctx, b.Attackers[0].UUID)
	expectErr(t, err, repository.ErrNotFound, what+": AttackerByUUID of the batch's attacker")
	if _, ok := deckyNamed(t, r, "imported-decky"); ok {
		t.Errorf("%s: the batch's decky was imported", what)
	}
	if n := got(r.CountBounties(ctx, repository.BountyFilter{})).must(t, "CountBounties"); n != 0 {
		t.Errorf("%s: %d bounties imported, want none", what, n)
	}
}

func checkImportConflictLogID(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	existing := addLog(t, r, sampleLog(0))
	b := importBatch()
	b.Logs[0].ID = existing
	expectErr(t, r.Import(ctx, b), repository.ErrConflict, "Import of a log id that exists")
	expectNothingImported(t, r, "after a conflicting Import")
	if n := countLogs(t, r, repository.LogFilter{}); n != 1 {
		t.Errorf("CountLogs after a conflicting Import: %d, want 1", n)
	}
}

func checkImportConflictUsername(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	b := importBatch()
	b.Users[0].Username = DefaultAdmin.User
	expectErr(t, r.Import(ctx, b), repository.ErrConflict, "Import of a username that exists")
	expectNothingImported(t, r, "after a conflicting Import")
	if n := countLogs(t, r, repository.LogFilter{}); n != 0 {
		t.Errorf("CountLogs after a conflicting Import: %d, want 0", n)
	}
	if us := got(r.Users(ctx)).must(t, "Users"); len(us) != 1 {
		t.Errorf("Users after a conflicting Import: %d users, want only the admin", len(us))
	}
}

func checkImportEmpty(t T, h *Harness) {
	r := h.Repo(t)
	expectOK(t, r.Import(t.Context(), repository.Batch{}), "Import of an empty batch")
	if us := got(r.Users(t.Context())).must(t, "Users"); len(us) != 1 {
		t.Errorf("Users after an empty Import: %d users, want 1", len(us))
	}
}

func checkMaintDescribe(t T, h *Harness) {
	r := h.Repo(t)
	info := got(r.Describe(t.Context())).must(t, "Describe")
	if info.Driver == "" {
		t.Errorf("Describe: empty Driver")
	}
	if info.Version == "" {
		t.Errorf("Describe: empty Version")
	}
	for _, s := range info.Settings {
		if s.Name == "" {
			t.Errorf("Describe: a setting without a name (value %q)", s.Value)
		}
	}
}

// schemaNames returns the names of the schema's tables, in schema order.
func schemaNames() []string {
	out := make([]string, len(repository.Schema))
	for i, tb := range repository.Schema {
		out[i] = tb.Name
	}
	return out
}

// expectSchemaTables reports a failure unless TableCounts lists every table
// of the schema, in schema order, each Missing as given, and returns the
// counts by name.
func expectSchemaTables(t T, r repository.Repository, what string, missing bool) map[string]repository.TableCount {
	t.Helper()
	tcs := got(r.TableCounts(t.Context())).must(t, what+": TableCounts")
	byName := make(map[string]repository.TableCount, len(tcs))
	var order []string
	for _, tc := range tcs {
		byName[tc.Table] = tc
		order = append(order, tc.Table)
	}
	var listed []string
	for _, name := range order {
		for _, s := range schemaNames() {
			if name == s {
				listed = append(listed, name)
			}
		}
	}
	expectStrings(t, what+": TableCounts tables (schema order)", listed, schemaNames())
	for _, name := range schemaNames() {
		if tc, ok := byName[name]; ok && tc.Missing != missing {
			t.Errorf("%s: table %s: missing %v, want %v", what, name, tc.Missing, missing)
		}
	}
	return byName
}

func checkMaintTableCounts(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	before := expectSchemaTables(t, r, "after Initialize", false)
	if n := before[repository.TableUsers].Rows; n != 1 {
		t.Errorf("after Initialize: users has %d rows, want 1 (the admin)", n)
	}
	addLogs(t, r, sampleLogs(3)...)
	addBounty(t, r, newBounty("credential", "10.0.0.1", `1`, at(0)))
	addBounty(t, r, newBounty("credential", "10.0.0.1", `2`, at(0)))
	mustOK(t, r.SetState(ctx, "k", json.RawMessage(`1`)), "SetState")
	mustOK(t, r.UpsertDecky(ctx, sampleDecky("d")), "UpsertDecky")
	createUser(t, r, newUser("u"))
	id := upsertAttacker(t, r, sampleAttacker("10.0.0.1", 0))
	mustOK(t, r.UpsertAttackerBehavior(ctx, id, sampleBehavior()), "UpsertAttackerBehavior")
	after := expectSchemaTables(t, r, "after adding rows", false)
	for table, added := range map[string]int64{
		repository.TableLogs: 3, repository.TableBounties: 2, repository.TableState: 1, repository.TableDeckies: 1,
		repository.TableUsers: 1, repository.TableAttackers: 1, repository.TableBehaviors: 1,
	} {
		if d := after[table].Rows - before[table].Rows; d != added {
			t.Errorf("TableCounts: %s grew by %d rows, want %d", table, d, added)
		}
	}
}

func checkMaintResetTruncate(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	fillAll(t, r, 3, 2, 2)
	mustOK(t, r.Reset(ctx, repository.ResetTruncate), "Reset(truncate)")
	counts := expectSchemaTables(t, r, "after Reset(truncate)", false)
	for name, tc := range counts {
		if tc.Rows != 0 {
			t.Errorf("after Reset(truncate): table %s has %d rows, want 0", name, tc.Rows)
		}
	}
	_, err := r.UserByUsername(ctx, DefaultAdmin.User)
	expectErr(t, err, repository.ErrNotFound, "the admin after Reset(truncate)")
	mustOK(t, r.Initialize(ctx), "Initialize after Reset(truncate)")
	u := adminUser(t, r)
	if u.Role != repository.RoleAdmin || !u.MustChangePassword {
		t.Errorf("admin re-seeded after Reset(truncate): %+v", u)
	}
	addLog(t, r, sampleLog(0))
	if n := countLogs(t, r, repository.LogFilter{}); n != 1 {
		t.Errorf("CountLogs after Reset, Initialize and AddLog: %d, want 1", n)
	}
}

func checkMaintResetDropTables(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	fillAll(t, r, 3, 2, 2)
	mustOK(t, r.Reset(ctx, repository.ResetDropTables), "Reset(drop-tables)")
	expectSchemaTables(t, r, "after Reset(drop-tables)", true)
	mustOK(t, r.Initialize(ctx), "Initialize after Reset(drop-tables)")
	counts := expectSchemaTables(t, r, "after Initialize", false)
	if n := counts[repository.TableUsers].Rows; n != 1 {
		t.Errorf("after Reset(drop-tables) and Initialize: users has %d rows, want 1", n)
	}
	adminUser(t, r)
	addLog(t, r, sampleLog(0))
	addBounty(t, r, newBounty("credential", "10.0.0.1", `1`, at(0)))
	mustOK(t, r.SetState(ctx, "k", json.RawMessage(`1`)), "SetState after re-creation")
	upsertAttacker(t, r, sampleAttacker("10.0.0.1", 0))
	if n := countLogs(t, r, repository.LogFilter{}); n != 1 {
		t.Errorf("CountLogs after re-creation: %d, want 1", n)
	}
}

func checkMaintResetInvalid(t T, h *Harness) {
	r := h.Repo(t)
	addLog(t, r, sampleLog(0))
	for _, m := range []repository.ResetMode{"", "drop", "TRUNCATE", "everything"} {
		expectErr(t, r.Reset(t.Context(), m), repository.ErrInvalid, fmt.Sprintf("Reset(%q)", m))
	}
	if n := countLogs(t, r, repository.LogFilter{}); n != 1 {
		t.Errorf("CountLogs after rejected Resets: %d, want 1", n)
	}
}
