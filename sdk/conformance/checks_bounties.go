package conformance

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "bounty_dedup", Run: checkBountyDedup},
		Check{Name: "bounty_distinct_keys", Run: checkBountyDistinctKeys},
		Check{Name: "bounty_payload_canonical", Run: checkBountyPayloadCanonical},
		Check{Name: "bounty_concurrent_dedup", Run: checkBountyConcurrentDedup},
		Check{Name: "bounty_round_trip", Run: checkBountyRoundTrip},
		Check{Name: "bounty_order_paging", Run: checkBountyOrderPaging},
		Check{Name: "bounty_paging_invalid", Run: checkBountyPagingInvalid},
		Check{Name: "bounty_filter", Run: checkBountyFilter},
		Check{Name: "bounty_by_ip", Run: checkBountyByIP},
		Check{Name: "bounty_after_id", Run: checkBountyAfterID},
		Check{Name: "bounty_invalid", Run: checkBountyInvalid},
	)
}

func checkBountyDedup(t T, h *Harness) {
	r := h.Repo(t)
	b := newBounty("credential", "10.0.0.1", `{"user":"root","pass":"toor"}`, at(0))
	if !addBounty(t, r, b) {
		t.Errorf("AddBounty of a new bounty: added false, want true")
	}
	if addBounty(t, r, b) {
		t.Errorf("AddBounty of the same bounty again: added true, want false")
	}
	later := b
	later.Timestamp, later.Decky, later.Service = at(3600), "decky-02", "telnet"
	if addBounty(t, r, later) {
		t.Errorf("AddBounty with the same type, IP and payload but another time, decky and service: added true, want false")
	}
	if n := got(r.CountBounties(t.Context(), repository.BountyFilter{})).must(t, "CountBounties"); n != 1 {
		t.Errorf("CountBounties: %d, want 1", n)
	}
}

func checkBountyDistinctKeys(t T, h *Harness) {
	r := h.Repo(t)
	first := newBounty("credential", "10.0.0.1", `{"user":"root","pass":"toor"}`, at(0))
	addBounty(t, r, first)
	for _, c := range []struct {
		name string
		b    repository.Bounty
	}{
		{"another type", newBounty("payload", "10.0.0.1", `{"user":"root","pass":"toor"}`, at(1))},
		{"another IP", newBounty("credential", "10.0.0.2", `{"user":"root","pass":"toor"}`, at(2))},
		{"another payload", newBounty("credential", "10.0.0.1", `{"user":"root","pass":"toor2"}`, at(3))},
		{"a payload with another key", newBounty("credential", "10.0.0.1", `{"user":"root","password":"toor"}`, at(4))},
	} {
		if added, ok := got(r.AddBounty(t.Context(), c.b)).ok(t, "AddBounty "+c.name); ok && !added {
			t.Errorf("AddBounty with %s: added false, want true", c.name)
		}
	}
	if n := got(r.CountBounties(t.Context(), repository.BountyFilter{})).must(t, "CountBounties"); n != 5 {
		t.Errorf("CountBounties: %d, want 5", n)
	}
}

func checkBountyPayloadCanonical(t T, h *Harness) {
	r := h.Repo(t)
	for i, c := range []struct {
		in, same, want string
	}{
		{`{ "b": 1, "a": "x" }`, `{"a":"x","b":1}`, `{"a":"x","b":1}`},
		{"{\n  \"user\": \"root\",\n  \"pass\": \"toor\"\n}", `{"pass":"toor","user":"root"}`, `{"pass":"toor","user":"root"}`},
		{`{"z": {"y": [3, {"q": true, "p": null}], "x": "s"}, "a": []}`, `{"a":[],"z":{"x":"s","y":[3,{"p":null,"q":true}]}}`,
			`{"a":[],"z":{"x":"s","y":[3,{"p":null,"q":true}]}}`},
		{`[ 1, 2, "three" ]`, `[1,2,"three"]`, `[1,2,"three"]`},
		{` "just a string" `, `"just a string"`, `"just a string"`},
	} {
		typ := fmt.Sprintf("canonical-%d", i)
		if !addBounty(t, r, newBounty(typ, "10.0.0.1", c.in, at(i))) {
			t.Errorf("AddBounty %s: added false, want true", c.in)
		}
		if addBounty(t, r, newBounty(typ, "10.0.0.1", c.same, at(i))) {
			t.Errorf("AddBounty %s after %s: added true, want false (the same payload)", c.same, c.in)
		}
		bs := listBounties(t, r, repository.BountyFilter{BountyType: typ})
		if len(bs) != 1 {
			t.Errorf("Bounties(type %s): %d bounties, want 1", typ, len(bs))
			continue
		}
		if string(bs[0].Payload) != c.want {
			t.Errorf("payload of %s: stored %s, want the canonical %s", c.in, bs[0].Payload, c.want)
		}
	}
}

func checkBountyConcurrentDedup(t T, h *Harness) {
	r := h.Repo(t)
	const n = 50
	b := newBounty("credential", "10.0.0.1", `{"user":"root","pass":"toor"}`, at(0))
	var (
		wg    sync.WaitGroup
		added atomic.Int64
		mu    sync.Mutex
		errs  []error
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			ok, err := r.AddBounty(t.Context(), b)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			if ok {
				added.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent AddBounty: %v", err)
	}
	if a := added.Load(); a != 1 {
		t.Errorf("%d concurrent identical AddBounty calls: %d reported added, want exactly 1", n, a)
	}
	if c := got(r.CountBounties(t.Context(), repository.BountyFilter{})).must(t, "CountBounties"); c != 1 {
		t.Errorf("CountBounties: %d, want 1", c)
	}
}

func checkBountyRoundTrip(t T, h *Harness) {
	r := h.Repo(t)
	want := repository.Bounty{
		Timestamp:  base.In(zone).Add(123456789),
		Decky:      "web-01",
		Service:    "ssh",
		AttackerIP: "203.0.113.9",
		BountyType: "credential",
		Payload:    []byte(`{"pass":"hunter2","user":"root"}`),
	}
	addBounty(t, r, want)
	bs := listBounties(t, r, repository.BountyFilter{})
	if len(bs) != 1 {
		t.Fatalf("Bounties: %d bounties, want 1", len(bs))
	}
	g := bs[0]
	if g.ID <= 0 {
		t.Errorf("id %d, want > 0", g.ID)
	}
	expectTime(t, "timestamp", g.Timestamp, want.Timestamp)
	expectEqual(t, "decky, service, attacker ip, type",
		[]string{g.Decky, g.Service, g.AttackerIP, g.BountyType},
		[]string{want.Decky, want.Service, want.AttackerIP, want.BountyType})
	expectJSON(t, "payload", g.Payload, want.Payload)
	after := got(r.BountiesAfterID(t.Context(), 0, 10)).must(t, "BountiesAfterID")
	if len(after) != 1 || after[0].ID != g.ID || !jsonEqual(after[0].Payload, want.Payload) {
		t.Errorf("BountiesAfterID(0): %+v, want the bounty %+v", after, g)
	}
}

// addBountiesAtOffsets adds one distinct bounty per offset (seconds after
// base) and returns a map from attacker IP to offset.
func addBountiesAtOffsets(t T, r repository.Repository, offsets []int) map[string]int {
	t.Helper()
	ts := make(map[string]int, len(offsets))
	for i, off := range offsets {
		ip := fmt.Sprintf("10.1.0.%d", i+1)
		addBounty(t, r, newBounty("credential", ip, fmt.Sprintf(`{"n":%d}`, i), at(off)))
		ts[ip] = off
	}
	return ts
}

func checkBountyOrderPaging(t T, h *Harness) {
	r := h.Repo(t)
	ts := addBountiesAtOffsets(t, r, []int{7, 2, 11, 0, 5, 9, 1, 10, 3, 8, 4, 6})
	all := listBounties(t, r, repository.BountyFilter{})
	if len(all) != len(ts) {
		t.Fatalf("Bounties: %d bounties, want %d", len(all), len(ts))
	}
	for i := 1; i < len(all); i++ {
		if ts[all[i].AttackerIP] > ts[all[i-1].AttackerIP] {
			t.Errorf("Bounties: not newest first: %s (at %d) after %s (at %d)",
				all[i].AttackerIP, ts[all[i].AttackerIP], all[i-1].AttackerIP, ts[all[i-1].AttackerIP])
		}
	}
	want := bountyIDs(all)
	for _, n := range []int{1, 5, 12} {
		var ids []int64
		for off := 0; ; off += n {
			page := got(r.Bounties(t.Context(), repository.BountyQuery{Limit: n, Offset: off})).must(t, fmt.Sprintf("Bounties(limit %d, offset %d)", n, off))
			ids = append(ids, bountyIDs(page)...)
			if len(page) < n || off > 100 {
				break
			}
		}
		expectIDs(t, fmt.Sprintf("Bounties in pages of %d", n), ids, want)
	}
	if def := got(r.Bounties(t.Context(), repository.BountyQuery{})).must(t, "Bounties(limit 0)"); len(def) != len(ts) {
		t.Errorf("Bounties(limit 0): %d bounties, want %d", len(def), len(ts))
	}
}

func checkBountyPagingInvalid(t T, h *Harness) {
	r := h.Repo(t)
	for _, q := range []repository.BountyQuery{{Limit: -1}, {Offset: -1}, {Limit: repository.MaxLimit + 1}} {
		_, err := r.Bounties(t.Context(), q)
		expectErr(t, err, repository.ErrInvalid, fmt.Sprintf("Bounties(limit %d, offset %d)", q.Limit, q.Offset))
	}
	_, err := r.BountiesAfterID(t.Context(), 0, -1)
	expectErr(t, err, repository.ErrInvalid, "BountiesAfterID(limit -1)")
}

func checkBountyFilter(t T, h *Harness) {
	r := h.Repo(t)
	for _, b := range []repository.Bounty{
		{Timestamp: at(0), BountyType: "credential", AttackerIP: "10.0.0.1", Decky: "web-01", Service: "ssh", Payload: []byte(`{"user":"root"}`)},
		{Timestamp: at(1), BountyType: "cred", AttackerIP: "10.0.0.2", Decky: "db-01", Service: "mysql", Payload: []byte(`{"file":"Passwd.TXT"}`)},
		{Timestamp: at(2), BountyType: "file", AttackerIP: "192.168.0.7", Decky: "web-02", Service: "ftp", Payload: []byte(`{"name":"x"}`)},
	} {
		addBounty(t, r, b)
	}
	for _, c := range []struct {
		f    repository.BountyFilter
		want []string // attacker IPs
	}{
		{repository.BountyFilter{}, []string{"10.0.0.1", "10.0.0.2", "192.168.0.7"}},
		{repository.BountyFilter{BountyType: "cred"}, []string{"10.0.0.2"}},
		{repository.BountyFilter{BountyType: "credential"}, []string{"10.0.0.1"}},
		{repository.BountyFilter{BountyType: "nope"}, nil},
		{repository.BountyFilter{Search: "10.0.0"}, []string{"10.0.0.1", "10.0.0.2"}},
		{repository.BountyFilter{Search: "WEB-0"}, []string{"10.0.0.1", "192.168.0.7"}},
		{repository.BountyFilter{Search: "mysql"}, []string{"10.0.0.2"}},
		{repository.BountyFilter{Search: "passwd.txt"}, []string{"10.0.0.2"}},
		{repository.BountyFilter{Search: "root"}, []string{"10.0.0.1"}},
		{repository.BountyFilter{Search: "%"}, nil},
		{repository.BountyFilter{Search: "_"}, nil},
		{repository.BountyFilter{Search: "' OR 1=1 --"}, nil},
		{repository.BountyFilter{BountyType: "credential", Search: "10.0.0"}, []string{"10.0.0.1"}},
		{repository.BountyFilter{BountyType: "file", Search: "10.0.0"}, nil},
	} {
		what := fmt.Sprintf("filter %+v", c.f)
		var gotIPs []string
		for _, b := range listBounties(t, r, c.f) {
			gotIPs = append(gotIPs, b.AttackerIP)
		}
		sort.Strings(gotIPs)
		expectStrings(t, "Bounties "+what, gotIPs, c.want)
		if n, ok := got(r.CountBounties(t.Context(), c.f)).ok(t, "CountBounties "+what); ok && n != int64(len(c.want)) {
			t.Errorf("CountBounties %s: %d, want %d", what, n, len(c.want))
		}
	}
}

func checkBountyByIP(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	for _, c := range []struct {
		ip  string
		off int
	}{
		{"10.0.0.1", 20}, {"10.0.0.2", 5}, {"10.0.0.1", 0}, {"10.0.0.3", 7}, {"10.0.0.1", 10}, {"10.0.0.3", 1},
	} {
		addBounty(t, r, newBounty("credential", c.ip, fmt.Sprintf(`{"at":%d}`, c.off), at(c.off)))
	}
	wantLen := map[string]int{"10.0.0.1": 3, "10.0.0.2": 1, "10.0.0.3": 2}
	check := func(what string, m map[string][]repository.Bounty, want map[string]int) {
		t.Helper()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		wantKeys := make([]string, 0, len(want))
		for k := range want {
			wantKeys = append(wantKeys, k)
		}
		sort.Strings(wantKeys)
		expectStrings(t, what+": IPs", keys, wantKeys)
		for ip, bs := range m {
			if len(bs) != want[ip] {
				t.Errorf("%s: %s has %d bounties, want %d", what, ip, len(bs), want[ip])
			}
			for i, b := range bs {
				if b.AttackerIP != ip {
					t.Errorf("%s: bounty of %s under %s", what, b.AttackerIP, ip)
				}
				if i > 0 && b.Timestamp.Before(bs[i-1].Timestamp) {
					t.Errorf("%s: %s: not oldest first: %s after %s", what, ip, b.Timestamp, bs[i-1].Timestamp)
				}
			}
		}
	}
	if m, ok := got(r.BountiesByIP(ctx, nil)).ok(t, "BountiesByIP(nil)"); ok {
		check("BountiesByIP(nil)", m, wantLen)
	}
	if m, ok := got(r.BountiesByIP(ctx, []string{"10.0.0.1", "203.0.113.99"})).ok(t, "BountiesByIP(some)"); ok {
		check("BountiesByIP(10.0.0.1, unknown)", m, map[string]int{"10.0.0.1": 3})
	}
	if m, ok := got(r.BountiesByIP(ctx, []string{"10.0.0.2", "10.0.0.3"})).ok(t, "BountiesByIP(two)"); ok {
		check("BountiesByIP(10.0.0.2, 10.0.0.3)", m, map[string]int{"10.0.0.2": 1, "10.0.0.3": 2})
	}
	if m, ok := got(r.BountiesByIP(ctx, []string{})).ok(t, "BountiesByIP(empty)"); ok && len(m) != 0 {
		t.Errorf("BountiesByIP(empty list): %d IPs, want none", len(m))
	}
	if m, ok := got(r.BountiesByIP(ctx, []string{"203.0.113.99"})).ok(t, "BountiesByIP(unknown)"); ok && len(m) != 0 {
		t.Errorf("BountiesByIP(unknown IP): %d IPs, want none", len(m))
	}
}

func checkBountyAfterID(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	addBountiesAtOffsets(t, r, []int{5, 1, 4, 0, 3, 2})
	all := got(r.BountiesAfterID(ctx, 0, 100)).must(t, "BountiesAfterID(0)")
	if len(all) != 6 {
		t.Fatalf("BountiesAfterID(0): %d bounties, want 6", len(all))
	}
	ids := bountyIDs(all)
	if !slices.IsSorted(ids) {
		t.Errorf("BountiesAfterID(0): ids %v not ascending", ids)
	}
	expectUnique(t, "BountiesAfterID(0)", ids)
	// ids follow insertion order: the IPs are 10.1.0.1 .. 10.1.0.6
	for i, b := range all {
		if want := fmt.Sprintf("10.1.0.%d", i+1); b.AttackerIP != want {
			t.Errorf("BountiesAfterID(0)[%d]: %s, want %s (insertion order)", i, b.AttackerIP, want)
		}
	}
	page := got(r.BountiesAfterID(ctx, ids[1], 3)).must(t, "BountiesAfterID(ids[1], 3)")
	expectIDs(t, "BountiesAfterID(ids[1], limit 3)", bountyIDs(page), ids[2:5])
	end := got(r.BountiesAfterID(ctx, ids[5], 10)).must(t, "BountiesAfterID(max)")
	if len(end) != 0 {
		t.Errorf("BountiesAfterID(max id): %d bounties, want none", len(end))
	}
}

func checkBountyInvalid(t T, h *Harness) {
	r := h.Repo(t)
	ok := newBounty("credential", "10.0.0.1", `{"a":1}`, at(0))
	for _, c := range []struct {
		name   string
		edit   func(*repository.Bounty)
		target error
		field  string
	}{
		{"invalid payload JSON", func(b *repository.Bounty) { b.Payload = []byte(`{"a":`) }, repository.ErrInvalid, "payload"},
		{"payload not JSON", func(b *repository.Bounty) { b.Payload = []byte(`user=root`) }, repository.ErrInvalid, "payload"},
		{"empty payload", func(b *repository.Bounty) { b.Payload = nil }, repository.ErrInvalid, "payload"},
		{"empty bounty type", func(b *repository.Bounty) { b.BountyType = "" }, repository.ErrInvalid, "bounty_type"},
		{"zero timestamp", func(b *repository.Bounty) { b.Timestamp = time.Time{} }, repository.ErrInvalid, "timestamp"},
		{"bounty type too long", func(b *repository.Bounty) { b.BountyType = strings.Repeat("t", repository.MaxShortLen+1) }, repository.ErrTooLarge, "bounty_type"},
	} {
		b := ok
		c.edit(&b)
		_, err := r.AddBounty(t.Context(), b)
		expectErrField(t, err, c.target, c.field, "AddBounty with "+c.name)
	}
	if n := got(r.CountBounties(t.Context(), repository.BountyFilter{})).must(t, "CountBounties"); n != 0 {
		t.Errorf("CountBounties after rejected bounties: %d, want 0", n)
	}
}
