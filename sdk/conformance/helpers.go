package conformance

// Helpers shared by the checks. They take the check's T, call t.Helper, and
// either report a failure (expect*) or end the check (must*, .must).

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/decnet/decnet-db/core/repository"
)

// base is the time most checks put their rows at: whole seconds, UTC.
var base = time.Date(2024, time.May, 1, 12, 0, 0, 0, time.UTC)

// zone is a zone other than UTC, for checks that give times in local form.
var zone = time.FixedZone("x", 5*3600)

// at returns base plus sec seconds.
func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

// unicodeText is non-ASCII text of 2-, 3- and 4-byte runes.
const unicodeText = "Ünïcödé ✓ 🐝 中文"

// result holds the values of a call returning (V, error), so that a check
// can write got(r.Logs(ctx, q)).must(t, "Logs").
type result[V any] struct {
	v   V
	err error
}

// got captures the results of a call.
func got[V any](v V, err error) result[V] { return result[V]{v: v, err: err} }

// must returns the value, ending the check when the call failed.
func (r result[V]) must(t T, what string) V {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: unexpected error: %v", what, r.err)
	}
	return r.v
}

// ok returns the value and whether the call succeeded, reporting a failure
// when it did not.
func (r result[V]) ok(t T, what string) (V, bool) {
	t.Helper()
	if r.err != nil {
		t.Errorf("%s: unexpected error: %v", what, r.err)
		return r.v, false
	}
	return r.v, true
}

// mustOK ends the check when err is not nil.
func mustOK(t T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// expectOK reports a failure when err is not nil.
func expectOK(t T, err error, what string) bool {
	t.Helper()
	if err != nil {
		t.Errorf("%s: unexpected error: %v", what, err)
		return false
	}
	return true
}

// expectErr reports a failure unless err wraps target.
func expectErr(t T, err, target error, what string) bool {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one wrapping %q", what, err, target)
		return false
	}
	return true
}

// expectErrField reports a failure unless err wraps target and its message
// names field (compared without case, dots and underscores, so that
// "log.raw_line" and "RawLine" both name "raw_line").
func expectErrField(t T, err, target error, field, what string) {
	t.Helper()
	if !expectErr(t, err, target, what) {
		return
	}
	norm := func(s string) string {
		return strings.NewReplacer("_", "", ".", "", "-", "", " ", "").Replace(strings.ToLower(s))
	}
	if !strings.Contains(norm(err.Error()), norm(field)) {
		t.Errorf("%s: error %q does not name the field %q", what, err, field)
	}
}

// expectEqual reports a failure unless got and want are deeply equal.
func expectEqual[V any](t T, what string, got, want V) bool {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return false
	}
	return true
}

// expectStrings reports a failure unless the lists hold the same strings in
// the same order; nil and empty are the same.
func expectStrings(t T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// expectTime reports a failure unless got is in UTC and within a
// millisecond of want.
func expectTime(t T, what string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s: location %v, want UTC", what, got.Location())
	}
	d := got.Sub(want)
	if d < 0 {
		d = -d
	}
	if d > time.Millisecond {
		t.Errorf("%s: got %s, want %s (off by %s)", what, got.Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano), d)
	}
}

// expectExactTime reports a failure unless got is in UTC and equal to want
// at microsecond precision.
func expectExactTime(t T, what string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s: location %v, want UTC", what, got.Location())
	}
	if !got.Truncate(time.Microsecond).Equal(want.Truncate(time.Microsecond)) {
		t.Errorf("%s: got %s, want exactly %s", what, got.Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	}
}

// expectNow reports a failure unless got is in UTC and within a minute of
// the current time.
func expectNow(t T, what string, got time.Time) {
	t.Helper()
	if got.IsZero() {
		t.Errorf("%s: is zero, want the current time", what)
		return
	}
	if got.Location() != time.UTC {
		t.Errorf("%s: location %v, want UTC", what, got.Location())
	}
	if d := time.Since(got); d > time.Minute || d < -time.Minute {
		t.Errorf("%s: %s is not within a minute of now", what, got.Format(time.RFC3339Nano))
	}
}

// jsonEqual reports whether a and b are the same JSON value; two empty
// values are equal.
func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// expectJSON reports a failure unless got and want are the same JSON value.
func expectJSON(t T, what string, got, want []byte) {
	t.Helper()
	if !jsonEqual(got, want) {
		t.Errorf("%s: got JSON %s, want %s", what, clip(string(got)), clip(string(want)))
	}
}

// clip shortens s for a failure message.
func clip(s string) string {
	if len(s) <= 120 {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:120], len(s))
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// expectUUID reports a failure unless s is a UUID in its text form.
func expectUUID(t T, what, s string) {
	t.Helper()
	if !uuidRE.MatchString(s) {
		t.Errorf("%s: %q is not a UUID", what, s)
	}
}

// testHash returns a bcrypt hash (of "conformance-user-pw", at
// bcrypt.MinCost) for users the checks create.
var testHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("conformance-user-pw"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

// hashOf returns a bcrypt hash of pw at bcrypt.MinCost.
func hashOf(t T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("bcrypt: %v", err)
	}
	return string(h)
}

// ---- logs ----

var sampleServices = []string{"ssh", "http", "ftp"}

// sampleLog returns a valid log, every field set, that differs with i: the
// timestamp is at(i), the service cycles through ssh, http, ftp (i%3).
func sampleLog(i int) repository.Log {
	return repository.Log{
		Timestamp:  at(i),
		Decky:      fmt.Sprintf("decky-%02d", i%3),
		Service:    sampleServices[i%3],
		EventType:  "login_attempt",
		AttackerIP: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1),
		RawLine:    fmt.Sprintf("sample line %d", i),
		Fields:     map[string]string{"n": fmt.Sprint(i), "user": "root"},
		Msg:        fmt.Sprintf("message %d", i),
		TraceID:    fmt.Sprintf("trace-%d", i),
		SpanID:     fmt.Sprintf("span-%d", i),
	}
}

// sampleLogs returns sampleLog(0..n-1).
func sampleLogs(n int) []repository.Log {
	out := make([]repository.Log, n)
	for i := range out {
		out[i] = sampleLog(i)
	}
	return out
}

// addLog adds l, ending the check on error, and returns its id.
func addLog(t T, r repository.Repository, l repository.Log) int64 {
	t.Helper()
	return got(r.AddLog(t.Context(), l)).must(t, "AddLog")
}

// addLogs adds each log with AddLog and returns the ids, in order.
func addLogs(t T, r repository.Repository, ls ...repository.Log) []int64 {
	t.Helper()
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = addLog(t, r, l)
	}
	return ids
}

// listLogs returns the logs that match f, newest first (one page of
// MaxLimit).
func listLogs(t T, r repository.Repository, f repository.LogFilter) []repository.Log {
	t.Helper()
	return got(r.Logs(t.Context(), repository.LogQuery{LogFilter: f, Limit: repository.MaxLimit})).must(t, "Logs")
}

// countLogs returns CountLogs(f), ending the check on error.
func countLogs(t T, r repository.Repository, f repository.LogFilter) int64 {
	t.Helper()
	return got(r.CountLogs(t.Context(), f)).must(t, "CountLogs")
}

// logIDs returns the ids of ls, in order.
func logIDs(ls []repository.Log) []int64 {
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	return ids
}

// sortedIDs returns a sorted copy of ids.
func sortedIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// expectIDs reports a failure unless got and want are the same ids in the
// same order; nil and empty are the same.
func expectIDs(t T, what string, got, want []int64) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got ids %v, want %v", what, got, want)
	}
}

// expectUnique reports a failure when ids holds a duplicate.
func expectUnique(t T, what string, ids []int64) {
	t.Helper()
	s := sortedIDs(ids)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			t.Errorf("%s: id %d appears twice", what, s[i])
			return
		}
	}
}

// expectFields reports a failure unless two log field maps hold the same
// pairs; nil and empty are the same.
func expectFields(t T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: fields %q, want %q", what, got, want)
	}
}

// expectLog reports every field in which got differs from want; the id is
// compared when want.ID is set, the timestamp to the millisecond.
func expectLog(t T, what string, got, want repository.Log) {
	t.Helper()
	if want.ID != 0 && got.ID != want.ID {
		t.Errorf("%s: id %d, want %d", what, got.ID, want.ID)
	}
	expectTime(t, what+": timestamp", got.Timestamp, want.Timestamp)
	for _, f := range []struct{ name, got, want string }{
		{"decky", got.Decky, want.Decky},
		{"service", got.Service, want.Service},
		{"event_type", got.EventType, want.EventType},
		{"attacker_ip", got.AttackerIP, want.AttackerIP},
		{"raw_line", got.RawLine, want.RawLine},
		{"msg", got.Msg, want.Msg},
		{"trace_id", got.TraceID, want.TraceID},
		{"span_id", got.SpanID, want.SpanID},
	} {
		if f.got != f.want {
			t.Errorf("%s: %s %q, want %q", what, f.name, clip(f.got), clip(f.want))
		}
	}
	expectFields(t, what, got.Fields, want.Fields)
}

// ---- bounties ----

// newBounty returns a valid bounty.
func newBounty(typ, ip, payload string, ts time.Time) repository.Bounty {
	return repository.Bounty{
		Timestamp:  ts,
		Decky:      "decky-01",
		Service:    "ssh",
		AttackerIP: ip,
		BountyType: typ,
		Payload:    json.RawMessage(payload),
	}
}

// addBounty adds b, ending the check on error, and returns added.
func addBounty(t T, r repository.Repository, b repository.Bounty) bool {
	t.Helper()
	return got(r.AddBounty(t.Context(), b)).must(t, "AddBounty")
}

// listBounties returns the bounties that match f, newest first.
func listBounties(t T, r repository.Repository, f repository.BountyFilter) []repository.Bounty {
	t.Helper()
	return got(r.Bounties(t.Context(), repository.BountyQuery{BountyFilter: f, Limit: repository.MaxLimit})).must(t, "Bounties")
}

// bountyIDs returns the ids of bs, in order.
func bountyIDs(bs []repository.Bounty) []int64 {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

// ---- users ----

// newUser returns a valid viewer named name.
func newUser(name string) repository.User {
	return repository.User{Username: name, PasswordHash: testHash(), Role: repository.RoleViewer}
}

// createUser creates u, ending the check on error.
func createUser(t T, r repository.Repository, u repository.User) repository.User {
	t.Helper()
	return got(r.CreateUser(t.Context(), u)).must(t, "CreateUser "+u.Username)
}

// adminUser returns the seeded admin, ending the check when it is missing.
func adminUser(t T, r repository.Repository) repository.User {
	t.Helper()
	return got(r.UserByUsername(t.Context(), DefaultAdmin.User)).must(t, "UserByUsername(admin)")
}

// ---- attackers ----

// sampleAttacker returns an attacker with every field set, varying with i.
func sampleAttacker(ip string, i int) repository.Attacker {
	seen := at(i * 60)
	return repository.Attacker{
		IP:              ip,
		FirstSeen:       seen.Add(-time.Hour),
		LastSeen:        seen,
		EventCount:      int64(10 + i),
		ServiceCount:    2,
		DeckyCount:      1,
		Services:        []string{"ssh", "http"},
		Deckies:         []string{"decky-01"},
		TraversalPath:   "",
		IsTraversal:     false,
		BountyCount:     int64(i),
		CredentialCount: 1,
		Fingerprints:    json.RawMessage(fmt.Sprintf(`[{"type":"ja3","value":"abc%d"}]`, i)),
		Commands: []repository.Command{
			{Timestamp: seen.Add(-time.Minute), Service: "ssh", Decky: "decky-01", Command: "uname -a"},
			{Timestamp: seen, Service: "ssh", Decky: "decky-01", Command: fmt.Sprintf("echo %d", i)},
		},
	}
}

// upsertAttacker upserts a, ending the check on error, and returns its UUID.
func upsertAttacker(t T, r repository.Repository, a repository.Attacker) string {
	t.Helper()
	return got(r.UpsertAttacker(t.Context(), a)).must(t, "UpsertAttacker "+a.IP)
}

// expectCommands reports the differences between two command lists.
func expectCommands(t T, what string, got, want []repository.Command) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d commands, want %d", what, len(got), len(want))
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Service != w.Service || g.Decky != w.Decky || g.Command != w.Command {
			t.Errorf("%s: command %d is {%q %q %q}, want {%q %q %q}", what, i,
				g.Service, g.Decky, clip(g.Command), w.Service, w.Decky, clip(w.Command))
		}
		expectTime(t, fmt.Sprintf("%s: command %d timestamp", what, i), g.Timestamp, w.Timestamp)
	}
}

// expectAttacker reports every field in which got differs from want; the
// UUID is compared when want.UUID is set, times to the millisecond.
func expectAttacker(t T, what string, got, want repository.Attacker) {
	t.Helper()
	if want.UUID != "" && got.UUID != want.UUID {
		t.Errorf("%s: uuid %q, want %q", what, got.UUID, want.UUID)
	}
	if got.IP != want.IP {
		t.Errorf("%s: ip %q, want %q", what, got.IP, want.IP)
	}
	expectTime(t, what+": first_seen", got.FirstSeen, want.FirstSeen)
	expectTime(t, what+": last_seen", got.LastSeen, want.LastSeen)
	for _, f := range []struct {
		name      string
		got, want int64
	}{
		{"event_count", got.EventCount, want.EventCount},
		{"service_count", got.ServiceCount, want.ServiceCount},
		{"decky_count", got.DeckyCount, want.DeckyCount},
		{"bounty_count", got.BountyCount, want.BountyCount},
		{"credential_count", got.CredentialCount, want.CredentialCount},
	} {
		if f.got != f.want {
			t.Errorf("%s: %s %d, want %d", what, f.name, f.got, f.want)
		}
	}
	expectStrings(t, what+": services", got.Services, want.Services)
	expectStrings(t, what+": deckies", got.Deckies, want.Deckies)
	if got.TraversalPath != want.TraversalPath {
		t.Errorf("%s: traversal_path %q, want %q", what, got.TraversalPath, want.TraversalPath)
	}
	if got.IsTraversal != want.IsTraversal {
		t.Errorf("%s: is_traversal %v, want %v", what, got.IsTraversal, want.IsTraversal)
	}
	expectJSON(t, what+": fingerprints", got.Fingerprints, want.Fingerprints)
	expectCommands(t, what, got.Commands, want.Commands)
}

// attackerIPs returns the IPs of as, in order.
func attackerIPs(as []repository.Attacker) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.IP
	}
	return out
}

// listAttackers returns the attackers of q (Limit MaxLimit when 0).
func listAttackers(t T, r repository.Repository, q repository.AttackerQuery) []repository.Attacker {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = repository.MaxLimit
	}
	return got(r.Attackers(t.Context(), q)).must(t, fmt.Sprintf("Attackers(%+v)", q))
}

// ---- behaviors ----

func ptr[V any](v V) *V { return &v }

// sampleBehavior returns a behavior with every field set.
func sampleBehavior() repository.Behavior {
	return repository.Behavior{
		OSGuess:         "Linux 5.x",
		HopDistance:     ptr(int64(7)),
		TCPFingerprint:  json.RawMessage(`{"mss":1460,"wscale":7,"opts":["mss","sack"]}`),
		RetransmitCount: 3,
		BehaviorClass:   "scanner",
		BeaconIntervalS: ptr(30.5),
		BeaconJitterPct: ptr(2.25),
		ToolGuesses:     []string{"nmap", "masscan"},
		TimingStats:     json.RawMessage(`{"mean":1.5,"stdev":0.25}`),
		PhaseSequence:   json.RawMessage(`["recon","exploit"]`),
	}
}

// expectOptional reports a failure unless two optional values are both nil
// or both set and equal.
func expectOptional[V comparable](t T, what string, got, want *V) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s: got %v, want %v", what, fmtPtr(got), fmtPtr(want))
	case *got != *want:
		t.Errorf("%s: got %v, want %v", what, *got, *want)
	}
}

func fmtPtr[V any](p *V) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// expectBehavior reports every field in which got differs from want.
func expectBehavior(t T, what string, got, want repository.Behavior) {
	t.Helper()
	if want.AttackerUUID != "" && got.AttackerUUID != want.AttackerUUID {
		t.Errorf("%s: attacker_uuid %q, want %q", what, got.AttackerUUID, want.AttackerUUID)
	}
	if got.OSGuess != want.OSGuess {
		t.Errorf("%s: os_guess %q, want %q", what, got.OSGuess, want.OSGuess)
	}
	if got.BehaviorClass != want.BehaviorClass {
		t.Errorf("%s: behavior_class %q, want %q", what, got.BehaviorClass, want.BehaviorClass)
	}
	if got.RetransmitCount != want.RetransmitCount {
		t.Errorf("%s: retransmit_count %d, want %d", what, got.RetransmitCount, want.RetransmitCount)
	}
	expectOptional(t, what+": hop_distance", got.HopDistance, want.HopDistance)
	expectOptional(t, what+": beacon_interval_s", got.BeaconIntervalS, want.BeaconIntervalS)
	expectOptional(t, what+": beacon_jitter_pct", got.BeaconJitterPct, want.BeaconJitterPct)
	expectStrings(t, what+": tool_guesses", got.ToolGuesses, want.ToolGuesses)
	expectJSON(t, what+": tcp_fingerprint", got.TCPFingerprint, want.TCPFingerprint)
	expectJSON(t, what+": timing_stats", got.TimingStats, want.TimingStats)
	expectJSON(t, what+": phase_sequence", got.PhaseSequence, want.PhaseSequence)
}

// ---- tables ----

// tableCounts returns TableCounts by table name.
func tableCounts(t T, r repository.Repository) map[string]repository.TableCount {
	t.Helper()
	tcs := got(r.TableCounts(t.Context())).must(t, "TableCounts")
	out := make(map[string]repository.TableCount, len(tcs))
	for _, tc := range tcs {
		out[tc.Table] = tc
	}
	return out
}
