package conformance

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "attacker_upsert_keeps_uuid", Run: checkAttackerUpsertKeepsUUID},
		Check{Name: "attacker_round_trip", Run: checkAttackerRoundTrip},
		Check{Name: "attacker_not_found", Run: checkAttackerNotFound},
		Check{Name: "attacker_invalid", Run: checkAttackerInvalid},
		Check{Name: "attacker_sort_recent", Run: checkAttackerSortRecent},
		Check{Name: "attacker_sort_active", Run: checkAttackerSortActive},
		Check{Name: "attacker_sort_traversals", Run: checkAttackerSortTraversals},
		Check{Name: "attacker_sort_invalid", Run: checkAttackerSortInvalid},
		Check{Name: "attacker_search_ip", Run: checkAttackerSearchIP},
		Check{Name: "attacker_filter_service", Run: checkAttackerFilterService},
		Check{Name: "attacker_paging", Run: checkAttackerPaging},
		Check{Name: "attacker_commands", Run: checkAttackerCommands},
		Check{Name: "attacker_commands_large", Run: checkAttackerCommandsLarge},
		Check{Name: "behavior_unknown_attacker", Run: checkBehaviorUnknownAttacker},
		Check{Name: "behavior_round_trip", Run: checkBehaviorRoundTrip},
		Check{Name: "behavior_replace", Run: checkBehaviorReplace},
		Check{Name: "behavior_not_found", Run: checkBehaviorNotFound},
		Check{Name: "behavior_invalid", Run: checkBehaviorInvalid},
		Check{Name: "behaviors_by_ip", Run: checkBehaviorsByIP},
	)
}

// attackerByUUID returns the attacker, ending the check on error.
func attackerByUUID(t T, r repository.Repository, uuid string) repository.Attacker {
	t.Helper()
	return got(r.AttackerByUUID(t.Context(), uuid)).must(t, "AttackerByUUID "+uuid)
}

func checkAttackerUpsertKeepsUUID(t T, h *Harness) {
	r := h.Repo(t)
	a := sampleAttacker("203.0.113.5", 1)
	id := upsertAttacker(t, r, a)
	expectUUID(t, "UpsertAttacker", id)
	b := sampleAttacker("203.0.113.5", 9)
	b.EventCount, b.IsTraversal, b.TraversalPath = 99, true, "web-01 -> db-01"
	b.Services = []string{"ftp"}
	b.Fingerprints = nil
	b.Commands = nil
	id2 := upsertAttacker(t, r, b)
	if id2 != id {
		t.Errorf("second UpsertAttacker of the same IP: uuid %s, want the first %s", id2, id)
	}
	b.UUID = id
	expectAttacker(t, "after the second upsert", attackerByUUID(t, r, id), b)
	other := upsertAttacker(t, r, sampleAttacker("203.0.113.6", 2))
	if other == id {
		t.Errorf("two IPs got the same uuid %s", id)
	}
	if n := got(r.CountAttackers(t.Context(), repository.AttackerFilter{})).must(t, "CountAttackers"); n != 2 {
		t.Errorf("CountAttackers: %d, want 2", n)
	}
}

func checkAttackerRoundTrip(t T, h *Harness) {
	r := h.Repo(t)
	a := sampleAttacker("198.51.100.23", 3)
	a.FirstSeen = a.FirstSeen.In(zone).Add(123456789)
	a.LastSeen = a.LastSeen.In(zone).Add(987654321)
	a.TraversalPath = "web-01 -> db-01 -> mail-01"
	a.IsTraversal = true
	a.Deckies = []string{"web-01", "db-01", "mail-01"}
	a.Fingerprints = json.RawMessage(`[{"type":"hassh","value":"ec7378c1a92f5a8dde7e8b7a1ddf33d1"},{"type":"ja3","value":"x","extra":{"n":1}}]`)
	a.Commands = append(a.Commands, repository.Command{Timestamp: base.In(zone).Add(555), Service: "telnet", Decky: "db-01", Command: "cat /etc/passwd; echo 'done' \"now\" \\"})
	a.UpdatedAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // replaced by UpsertAttacker
	id := upsertAttacker(t, r, a)
	a.UUID = id
	back := attackerByUUID(t, r, id)
	expectAttacker(t, "AttackerByUUID", back, a)
	expectNow(t, "UpdatedAt", back.UpdatedAt)
	list := listAttackers(t, r, repository.AttackerQuery{})
	if len(list) != 1 {
		t.Fatalf("Attackers: %d attackers, want 1", len(list))
	}
	expectAttacker(t, "Attackers", list[0], a)
}

func checkAttackerNotFound(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	_, err := r.AttackerByUUID(ctx, "00000000-0000-4000-8000-000000000000")
	expectErr(t, err, repository.ErrNotFound, "AttackerByUUID of an unknown uuid")
	_, err = r.AttackerCommands(ctx, "00000000-0000-4000-8000-000000000000", "", 10, 0)
	expectErr(t, err, repository.ErrNotFound, "AttackerCommands of an unknown uuid")
}

func checkAttackerInvalid(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	for _, c := range []struct {
		name   string
		edit   func(*repository.Attacker)
		target error
		field  string
	}{
		{"an empty IP", func(a *repository.Attacker) { a.IP = "" }, repository.ErrInvalid, "ip"},
		{"invalid fingerprints", func(a *repository.Attacker) { a.Fingerprints = json.RawMessage(`[{`) }, repository.ErrInvalid, "fingerprints"},
		{"an IP over MaxShortLen", func(a *repository.Attacker) { a.IP = strings.Repeat("1", repository.MaxShortLen+1) }, repository.ErrTooLarge, "ip"},
	} {
		a := sampleAttacker("10.0.0.1", 0)
		c.edit(&a)
		_, err := r.UpsertAttacker(ctx, a)
		expectErrField(t, err, c.target, c.field, "UpsertAttacker with "+c.name)
	}
	if n := got(r.CountAttackers(ctx, repository.AttackerFilter{})).must(t, "CountAttackers"); n != 0 {
		t.Errorf("CountAttackers after rejected upserts: %d, want 0", n)
	}
}

// sortFixture adds four attackers for the sort checks:
//
//	ip        last seen  events  traversal
//	10.0.0.1  t+1m       50      yes
//	10.0.0.2  t+3m       10      no
//	10.0.0.3  t+2m       70      yes
//	10.0.0.4  t+0m       30      no
func sortFixture(t T, r repository.Repository) {
	t.Helper()
	for _, c := range []struct {
		ip     string
		seen   int
		events int64
		trav   bool
	}{
		{"10.0.0.1", 1, 50, true},
		{"10.0.0.2", 3, 10, false},
		{"10.0.0.3", 2, 70, true},
		{"10.0.0.4", 0, 30, false},
	} {
		a := sampleAttacker(c.ip, c.seen)
		a.EventCount, a.IsTraversal = c.events, c.trav
		upsertAttacker(t, r, a)
	}
}

// expectSortOrder reports a failure unless Attackers with sort lists IPs in
// the given order.
func expectSortOrder(t T, r repository.Repository, sort repository.AttackerSort, want ...string) {
	t.Helper()
	as := listAttackers(t, r, repository.AttackerQuery{Sort: sort})
	expectStrings(t, fmt.Sprintf("Attackers(sort %q)", sort), attackerIPs(as), want)
}

func checkAttackerSortRecent(t T, h *Harness) {
	r := h.Repo(t)
	sortFixture(t, r)
	expectSortOrder(t, r, repository.SortRecent, "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.4")
	expectSortOrder(t, r, "", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.4")
}

func checkAttackerSortActive(t T, h *Harness) {
	r := h.Repo(t)
	sortFixture(t, r)
	expectSortOrder(t, r, repository.SortActive, "10.0.0.3", "10.0.0.1", "10.0.0.4", "10.0.0.2")
}

func checkAttackerSortTraversals(t T, h *Harness) {
	r := h.Repo(t)
	sortFixture(t, r)
	expectSortOrder(t, r, repository.SortTraversals, "10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.4")
}

func checkAttackerSortInvalid(t T, h *Harness) {
	r := h.Repo(t)
	sortFixture(t, r)
	_, err := r.Attackers(t.Context(), repository.AttackerQuery{Sort: "oldest"})
	expectErrField(t, err, repository.ErrInvalid, "sort", "Attackers with an unknown sort")
	for _, q := range []repository.AttackerQuery{{Limit: -1}, {Offset: -1}, {Limit: repository.MaxLimit + 1}} {
		_, err := r.Attackers(t.Context(), q)
		expectErr(t, err, repository.ErrInvalid, fmt.Sprintf("Attackers(limit %d, offset %d)", q.Limit, q.Offset))
	}
}

// expectAttackerFilter reports a failure unless Attackers and
// CountAttackers with f find exactly the IPs in want.
func expectAttackerFilter(t T, r repository.Repository, f repository.AttackerFilter, want ...string) {
	t.Helper()
	what := fmt.Sprintf("filter %+v", f)
	ips := attackerIPs(listAttackers(t, r, repository.AttackerQuery{AttackerFilter: f}))
	sort.Strings(ips)
	sort.Strings(want)
	expectStrings(t, "Attackers "+what, ips, want)
	if n, ok := got(r.CountAttackers(t.Context(), f)).ok(t, "CountAttackers "+what); ok && n != int64(len(want)) {
		t.Errorf("CountAttackers %s: %d, want %d", what, n, len(want))
	}
}

func checkAttackerSearchIP(t T, h *Harness) {
	r := h.Repo(t)
	for _, ip := range []string{"10.0.0.1", "10.0.0.12", "192.168.1.10", "2001:db8::1", "172.16.5.4"} {
		upsertAttacker(t, r, sampleAttacker(ip, 0))
	}
	expectAttackerFilter(t, r, repository.AttackerFilter{}, "10.0.0.1", "10.0.0.12", "192.168.1.10", "2001:db8::1", "172.16.5.4")
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: "10.0.0"}, "10.0.0.1", "10.0.0.12")
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: "1.1"}, "192.168.1.10")
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: ".1"}, "10.0.0.1", "10.0.0.12", "192.168.1.10", "172.16.5.4")
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: "db8::"}, "2001:db8::1")
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: "%"})
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: "10_0"})
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: "' OR 1=1 --"})
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: "8.8.8.8"})
}

func checkAttackerFilterService(t T, h *Harness) {
	r := h.Repo(t)
	for _, c := range []struct {
		ip       string
		services []string
	}{
		{"10.0.0.1", []string{"ssh", "http"}},
		{"10.0.0.2", []string{"sshd"}},
		{"10.0.0.3", []string{"http", "ftp"}},
		{"10.0.0.4", nil},
		{"10.0.0.5", []string{"my ssh", "ssh2"}},
		{"10.0.0.6", []string{"SSH"}},
	} {
		a := sampleAttacker(c.ip, 0)
		a.Services = c.services
		upsertAttacker(t, r, a)
	}
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: "ssh"}, "10.0.0.1")
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: "sshd"}, "10.0.0.2")
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: "http"}, "10.0.0.1", "10.0.0.3")
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: "ss"})
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: "my ssh"}, "10.0.0.5")
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: "%"})
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: `"ssh"`})
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: "http", Search: "10.0.0.3"}, "10.0.0.3")
}

func checkAttackerPaging(t T, h *Harness) {
	r := h.Repo(t)
	const n = 11
	for i := range n {
		a := sampleAttacker(fmt.Sprintf("10.2.0.%d", i+1), 0) // all tie on last seen and events
		a.IsTraversal = i%2 == 0
		upsertAttacker(t, r, a)
	}
	for _, s := range []repository.AttackerSort{repository.SortRecent, repository.SortActive, repository.SortTraversals} {
		all := attackerIPs(listAttackers(t, r, repository.AttackerQuery{Sort: s}))
		if len(all) != n {
			t.Errorf("Attackers(sort %s): %d attackers, want %d", s, len(all), n)
			continue
		}
		for _, size := range []int{1, 3, 4} {
			var paged []string
			for off := 0; off < 2*n; off += size {
				page := got(r.Attackers(t.Context(), repository.AttackerQuery{Sort: s, Limit: size, Offset: off})).must(t, "Attackers page")
				paged = append(paged, attackerIPs(page)...)
				if len(page) < size {
					break
				}
			}
			expectStrings(t, fmt.Sprintf("Attackers(sort %s) in pages of %d", s, size), paged, all)
		}
	}
	if def := got(r.Attackers(t.Context(), repository.AttackerQuery{})).must(t, "Attackers(limit 0)"); len(def) != n {
		t.Errorf("Attackers(limit 0): %d attackers, want %d", len(def), n)
	}
}

func checkAttackerCommands(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	a := sampleAttacker("10.0.0.1", 0)
	a.Commands = nil
	for i := range 10 {
		svc := "ssh"
		if i%2 == 1 {
			svc = "telnet"
		}
		a.Commands = append(a.Commands, repository.Command{
			Timestamp: at(i), Service: svc, Decky: "decky-01", Command: fmt.Sprintf("cmd %d", i),
		})
	}
	id := upsertAttacker(t, r, a)
	filter := func(svc string) []repository.Command {
		var out []repository.Command
		for _, c := range a.Commands {
			if svc == "" || c.Service == svc {
				out = append(out, c)
			}
		}
		return out
	}
	for _, c := range []struct {
		service       string
		limit, offset int
		total         int
		want          []repository.Command
	}{
		{"", 100, 0, 10, filter("")},
		{"", 0, 0, 10, filter("")},
		{"", 3, 0, 10, filter("")[:3]},
		{"", 3, 9, 10, filter("")[9:]},
		{"ssh", 100, 0, 5, filter("ssh")},
		{"ssh", 2, 1, 5, filter("ssh")[1:3]},
		{"telnet", 2, 4, 5, filter("telnet")[4:]},
		{"telnet", 2, 5, 5, nil},
		{"http", 10, 0, 0, nil},
		{"sshd", 10, 0, 0, nil},
	} {
		what := fmt.Sprintf("AttackerCommands(service %q, limit %d, offset %d)", c.service, c.limit, c.offset)
		p, ok := got(r.AttackerCommands(ctx, id, c.service, c.limit, c.offset)).ok(t, what)
		if !ok {
			continue
		}
		if p.Total != c.total {
			t.Errorf("%s: total %d, want %d", what, p.Total, c.total)
		}
		expectCommands(t, what, p.Commands, c.want)
	}
	for _, lo := range [][2]int{{-1, 0}, {10, -1}, {repository.MaxLimit + 1, 0}} {
		_, err := r.AttackerCommands(ctx, id, "", lo[0], lo[1])
		expectErr(t, err, repository.ErrInvalid, fmt.Sprintf("AttackerCommands(limit %d, offset %d)", lo[0], lo[1]))
	}
}

func checkAttackerCommandsLarge(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	a := sampleAttacker("10.0.0.1", 0)
	a.Commands = make([]repository.Command, 500)
	for i := range a.Commands {
		head := fmt.Sprintf("cmd %03d ", i)
		a.Commands[i] = repository.Command{
			Timestamp: at(i),
			Service:   sampleServices[i%3],
			Decky:     "decky-01",
			Command:   head + strings.Repeat(string(rune('a'+i%26)), 512-len(head)),
		}
	}
	id := upsertAttacker(t, r, a)
	a.UUID = id
	expectAttacker(t, "AttackerByUUID with 500 commands", attackerByUUID(t, r, id), a)
	if p, ok := got(r.AttackerCommands(ctx, id, "", 500, 0)).ok(t, "AttackerCommands(500)"); ok {
		if p.Total != 500 {
			t.Errorf("AttackerCommands: total %d, want 500", p.Total)
		}
		expectCommands(t, "AttackerCommands(limit 500)", p.Commands, a.Commands)
	}
	var paged []repository.Command
	for off := 0; off < 500; off += 200 {
		p := got(r.AttackerCommands(ctx, id, "", 200, off)).must(t, "AttackerCommands page")
		paged = append(paged, p.Commands...)
	}
	expectCommands(t, "AttackerCommands in pages of 200", paged, a.Commands)
	var ssh []repository.Command
	for _, c := range a.Commands {
		if c.Service == "ssh" {
			ssh = append(ssh, c)
		}
	}
	if p, ok := got(r.AttackerCommands(ctx, id, "ssh", 500, 0)).ok(t, "AttackerCommands(ssh)"); ok {
		if p.Total != len(ssh) {
			t.Errorf("AttackerCommands(ssh): total %d, want %d", p.Total, len(ssh))
		}
		expectCommands(t, "AttackerCommands(ssh)", p.Commands, ssh)
	}
}

func checkBehaviorUnknownAttacker(t T, h *Harness) {
	r := h.Repo(t)
	err := r.UpsertAttackerBehavior(t.Context(), "00000000-0000-4000-8000-000000000000", sampleBehavior())
	expectErr(t, err, repository.ErrNotFound, "UpsertAttackerBehavior of an unknown attacker")
	if m := got(r.BehaviorsByIP(t.Context(), nil)).must(t, "BehaviorsByIP"); len(m) != 0 {
		t.Errorf("BehaviorsByIP after a rejected upsert: %d behaviors, want none", len(m))
	}
}

func checkBehaviorRoundTrip(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	id := upsertAttacker(t, r, sampleAttacker("10.0.0.1", 0))
	b := sampleBehavior()
	b.UpdatedAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // replaced by the upsert
	mustOK(t, r.UpsertAttackerBehavior(ctx, id, b), "UpsertAttackerBehavior")
	b.AttackerUUID = id
	back := got(r.AttackerBehavior(ctx, id)).must(t, "AttackerBehavior")
	expectBehavior(t, "AttackerBehavior", back, b)
	expectNow(t, "UpdatedAt", back.UpdatedAt)

	id2 := upsertAttacker(t, r, sampleAttacker("10.0.0.2", 0))
	bare := repository.Behavior{OSGuess: "unknown"} // no optional value set
	mustOK(t, r.UpsertAttackerBehavior(ctx, id2, bare), "UpsertAttackerBehavior (bare)")
	bare.AttackerUUID = id2
	expectBehavior(t, "AttackerBehavior (bare)", got(r.AttackerBehavior(ctx, id2)).must(t, "AttackerBehavior"), bare)

	id3 := upsertAttacker(t, r, sampleAttacker("10.0.0.3", 0))
	zeroes := repository.Behavior{HopDistance: ptr(int64(0)), BeaconIntervalS: ptr(0.0), BeaconJitterPct: ptr(0.0)}
	mustOK(t, r.UpsertAttackerBehavior(ctx, id3, zeroes), "UpsertAttackerBehavior (zeroes)")
	zeroes.AttackerUUID = id3
	expectBehavior(t, "AttackerBehavior (set to zero, not nil)", got(r.AttackerBehavior(ctx, id3)).must(t, "AttackerBehavior"), zeroes)
}

func checkBehaviorReplace(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	id := upsertAttacker(t, r, sampleAttacker("10.0.0.1", 0))
	mustOK(t, r.UpsertAttackerBehavior(ctx, id, sampleBehavior()), "UpsertAttackerBehavior")
	next := repository.Behavior{
		OSGuess:         "Windows",
		HopDistance:     nil,
		RetransmitCount: 0,
		BehaviorClass:   "beacon",
		BeaconIntervalS: ptr(60.0),
		BeaconJitterPct: nil,
		ToolGuesses:     []string{"cobalt-strike"},
		TimingStats:     json.RawMessage(`{"mean":60}`),
	}
	mustOK(t, r.UpsertAttackerBehavior(ctx, id, next), "UpsertAttackerBehavior again")
	next.AttackerUUID = id
	expectBehavior(t, "after replace", got(r.AttackerBehavior(ctx, id)).must(t, "AttackerBehavior"), next)
	if m := got(r.BehaviorsByIP(ctx, nil)).must(t, "BehaviorsByIP"); len(m) != 1 {
		t.Errorf("BehaviorsByIP after two upserts of one attacker: %d behaviors, want 1", len(m))
	}
}

func checkBehaviorNotFound(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	id := upsertAttacker(t, r, sampleAttacker("10.0.0.1", 0))
	_, err := r.AttackerBehavior(ctx, id)
	expectErr(t, err, repository.ErrNotFound, "AttackerBehavior of an attacker without one")
	_, err = r.AttackerBehavior(ctx, "00000000-0000-4000-8000-000000000000")
	expectErr(t, err, repository.ErrNotFound, "AttackerBehavior of an unknown attacker")
}

func checkBehaviorInvalid(t T, h *Harness) {
	r := h.Repo(t)
	id := upsertAttacker(t, r, sampleAttacker("10.0.0.1", 0))
	b := sampleBehavior()
	b.TimingStats = json.RawMessage(`{"mean":`)
	expectErrField(t, r.UpsertAttackerBehavior(t.Context(), id, b), repository.ErrInvalid, "timing_stats", "UpsertAttackerBehavior with invalid JSON")
	_, err := r.AttackerBehavior(t.Context(), id)
	expectErr(t, err, repository.ErrNotFound, "AttackerBehavior after a rejected upsert")
}

func checkBehaviorsByIP(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	uuids := map[string]string{}
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		uuids[ip] = upsertAttacker(t, r, sampleAttacker(ip, i))
	}
	b1, b2 := sampleBehavior(), repository.Behavior{OSGuess: "other", ToolGuesses: []string{"hydra"}}
	mustOK(t, r.UpsertAttackerBehavior(ctx, uuids["10.0.0.1"], b1), "UpsertAttackerBehavior 1")
	mustOK(t, r.UpsertAttackerBehavior(ctx, uuids["10.0.0.2"], b2), "UpsertAttackerBehavior 2")
	b1.AttackerUUID, b2.AttackerUUID = uuids["10.0.0.1"], uuids["10.0.0.2"]
	want := map[string]repository.Behavior{"10.0.0.1": b1, "10.0.0.2": b2}
	check := func(what string, ips []string, wantIPs ...string) {
		t.Helper()
		m, ok := got(r.BehaviorsByIP(ctx, ips)).ok(t, what)
		if !ok {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		expectStrings(t, what+": IPs", keys, wantIPs)
		for ip, b := range m {
			if w, ok := want[ip]; ok {
				expectBehavior(t, what+": "+ip, b, w)
			}
		}
	}
	check("BehaviorsByIP(nil)", nil, "10.0.0.1", "10.0.0.2")
	check("BehaviorsByIP(10.0.0.2, 10.0.0.3, unknown)", []string{"10.0.0.2", "10.0.0.3", "203.0.113.1"}, "10.0.0.2")
	check("BehaviorsByIP(empty)", []string{})
	check("BehaviorsByIP(unknown)", []string{"203.0.113.1"})
}
