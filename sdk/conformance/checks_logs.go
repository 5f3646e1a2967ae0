package conformance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "logs_add_ids_increase", Run: checkLogsAddIDsIncrease},
		Check{Name: "logs_max_id_empty", Run: checkLogsMaxIDEmpty},
		Check{Name: "logs_round_trip", Run: checkLogsRoundTrip},
		Check{Name: "logs_order_newest_first", Run: checkLogsOrderNewestFirst},
		Check{Name: "logs_paging", Run: checkLogsPaging},
		Check{Name: "logs_default_limit", Run: checkLogsDefaultLimit},
		Check{Name: "logs_paging_invalid", Run: checkLogsPagingInvalid},
		Check{Name: "logs_count", Run: checkLogsCount},
		Check{Name: "logs_after_id", Run: checkLogsAfterID},
		Check{Name: "logs_batch_atomic", Run: checkLogsBatchAtomic},
		Check{Name: "logs_batch_large", Run: checkLogsBatchLarge},
		Check{Name: "logs_batch_empty", Run: checkLogsBatchEmpty},
		Check{Name: "logs_batch_round_trip", Run: checkLogsBatchRoundTrip},
		Check{Name: "logs_fields_empty", Run: checkLogsFieldsEmpty},
		Check{Name: "logs_invalid", Run: checkLogsInvalid},
		Check{Name: "stats_counts", Run: checkStatsCounts},
	)
}

func checkLogsAddIDsIncrease(t T, h *Harness) {
	r := h.Repo(t)
	var prev int64
	for i := range 5 {
		id := addLog(t, r, sampleLog(i))
		if id <= prev {
			t.Errorf("AddLog #%d: id %d, want > %d", i, id, prev)
		}
		prev = id
	}
	if max := got(r.MaxLogID(t.Context())).must(t, "MaxLogID"); max != prev {
		t.Errorf("MaxLogID: %d, want the last id %d", max, prev)
	}
}

func checkLogsMaxIDEmpty(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	if max, ok := got(r.MaxLogID(ctx)).ok(t, "MaxLogID"); ok && max != 0 {
		t.Errorf("MaxLogID of an empty repository: %d, want 0", max)
	}
	if n := countLogs(t, r, repository.LogFilter{}); n != 0 {
		t.Errorf("CountLogs of an empty repository: %d, want 0", n)
	}
	if ls := listLogs(t, r, repository.LogFilter{}); len(ls) != 0 {
		t.Errorf("Logs of an empty repository: %d logs, want none", len(ls))
	}
	if ls, ok := got(r.LogsAfterID(ctx, 0, 10, repository.LogFilter{})).ok(t, "LogsAfterID"); ok && len(ls) != 0 {
		t.Errorf("LogsAfterID of an empty repository: %d logs, want none", len(ls))
	}
}

func checkLogsRoundTrip(t T, h *Harness) {
	r := h.Repo(t)
	want := repository.Log{
		Timestamp:  base.In(zone).Add(123456789),
		Decky:      "web-01",
		Service:    "ssh",
		EventType:  "login_attempt",
		AttackerIP: "203.0.113.7",
		RawLine:    "Failed password for root from 203.0.113.7 port 4242 ssh2",
		Fields:     map[string]string{"user": "root", "pass": "toor", "empty": "", "port": "4242"},
		Msg:        "login failed",
		TraceID:    "4bf92f3577b34da6a3ce929d0e0e4736",
		SpanID:     "00f067aa0ba902b7",
	}
	want.ID = addLog(t, r, want)
	ls := listLogs(t, r, repository.LogFilter{})
	if len(ls) != 1 {
		t.Fatalf("Logs: %d logs, want 1", len(ls))
	}
	expectLog(t, "Logs", ls[0], want)
	after := got(r.LogsAfterID(t.Context(), 0, 10, repository.LogFilter{})).must(t, "LogsAfterID")
	if len(after) != 1 {
		t.Fatalf("LogsAfterID: %d logs, want 1", len(after))
	}
	expectLog(t, "LogsAfterID", after[0], want)
}

// newestFirst returns ids ordered as Logs orders them: by timestamp, then
// id, both descending, where ts maps an id to its timestamp offset.
func newestFirst(ids []int64, ts map[int64]int) []int64 {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b int64) int {
		if ts[a] != ts[b] {
			return ts[b] - ts[a]
		}
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	return out
}

// addLogsAtOffsets adds one log per offset (seconds after base) and returns
// the ids and a map from id to offset.
func addLogsAtOffsets(t T, r repository.Repository, offsets []int) ([]int64, map[int64]int) {
	t.Helper()
	ids := make([]int64, len(offsets))
	ts := make(map[int64]int, len(offsets))
	for i, off := range offsets {
		l := sampleLog(i)
		l.Timestamp = at(off)
		ids[i] = addLog(t, r, l)
		ts[ids[i]] = off
	}
	return ids, ts
}

func checkLogsOrderNewestFirst(t T, h *Harness) {
	r := h.Repo(t)
	ids, ts := addLogsAtOffsets(t, r, []int{5, 1, 3, 3, 5, 1, 2, 3, 0, 5})
	got := listLogs(t, r, repository.LogFilter{})
	expectIDs(t, "Logs order (timestamp desc, then id desc)", logIDs(got), newestFirst(ids, ts))
	for i := 1; i < len(got); i++ {
		if got[i].Timestamp.After(got[i-1].Timestamp) {
			t.Errorf("Logs: log %d (%s) is newer than log %d (%s)", i, got[i].Timestamp, i-1, got[i-1].Timestamp)
		}
	}
}

// pageLogs reads every page of size n of the logs that match f.
func pageLogs(t T, r repository.Repository, f repository.LogFilter, n int) []int64 {
	t.Helper()
	var ids []int64
	for off := 0; ; off += n {
		page := got(r.Logs(t.Context(), repository.LogQuery{LogFilter: f, Limit: n, Offset: off})).must(t, fmt.Sprintf("Logs(limit %d, offset %d)", n, off))
		if len(page) > n {
			t.Fatalf("Logs(limit %d, offset %d): %d logs, more than the limit", n, off, len(page))
		}
		ids = append(ids, logIDs(page)...)
		if len(page) < n {
			return ids
		}
		if off > 10*repository.MaxLimit {
			t.Fatalf("Logs: paging does not end")
		}
	}
}

func checkLogsPaging(t T, h *Harness) {
	r := h.Repo(t)
	offsets := make([]int, 23)
	for i := range offsets {
		offsets[i] = (i * 7 % 23) / 4 // many equal timestamps, inserted out of order
	}
	ids, ts := addLogsAtOffsets(t, r, offsets)
	want := newestFirst(ids, ts)
	expectIDs(t, "Logs (one page)", logIDs(listLogs(t, r, repository.LogFilter{})), want)
	for _, n := range []int{1, 5, 7, 23, 30} {
		for round := range 2 {
			got := pageLogs(t, r, repository.LogFilter{}, n)
			expectIDs(t, fmt.Sprintf("pages of %d (round %d)", n, round+1), got, want)
		}
	}
	past := got(r.Logs(t.Context(), repository.LogQuery{Limit: 5, Offset: 100})).must(t, "Logs(offset past the end)")
	if len(past) != 0 {
		t.Errorf("Logs(offset past the end): %d logs, want none", len(past))
	}
}

func checkLogsDefaultLimit(t T, h *Harness) {
	r := h.Repo(t)
	mustOK(t, r.AddLogs(t.Context(), sampleLogs(repository.DefaultLimit+10)), "AddLogs")
	def := got(r.Logs(t.Context(), repository.LogQuery{})).must(t, "Logs(limit 0)")
	if len(def) != repository.DefaultLimit {
		t.Errorf("Logs(limit 0): %d logs, want DefaultLimit %d", len(def), repository.DefaultLimit)
	}
	all := listLogs(t, r, repository.LogFilter{})
	if len(all) >= repository.DefaultLimit && len(def) == repository.DefaultLimit {
		expectIDs(t, "Logs(limit 0) vs the first page", logIDs(def), logIDs(all[:repository.DefaultLimit]))
	}
}

func checkLogsPagingInvalid(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	addLog(t, r, sampleLog(0))
	for _, q := range []repository.LogQuery{
		{Limit: -1},
		{Offset: -1},
		{Limit: 10, Offset: -5},
		{Limit: repository.MaxLimit + 1},
	} {
		_, err := r.Logs(ctx, q)
		expectErr(t, err, repository.ErrInvalid, fmt.Sprintf("Logs(limit %d, offset %d)", q.Limit, q.Offset))
	}
	if ls, ok := got(r.Logs(ctx, repository.LogQuery{Limit: repository.MaxLimit})).ok(t, "Logs(limit MaxLimit)"); ok && len(ls) != 1 {
		t.Errorf("Logs(limit MaxLimit): %d logs, want 1", len(ls))
	}
	for _, limit := range []int{-1, repository.MaxLimit + 1} {
		_, err := r.LogsAfterID(ctx, 0, limit, repository.LogFilter{})
		expectErr(t, err, repository.ErrInvalid, fmt.Sprintf("LogsAfterID(limit %d)", limit))
	}
}

func checkLogsCount(t T, h *Harness) {
	r := h.Repo(t)
	addLogs(t, r, sampleLogs(9)...) // at(0..8); services ssh, http, ftp in turn
	for _, c := range []struct {
		name string
		f    repository.LogFilter
		want int64
	}{
		{"no filter", repository.LogFilter{}, 9},
		{"service:ssh", repository.LogFilter{Search: "service:ssh"}, 3},
		{"since at(6)", repository.LogFilter{Since: at(6)}, 3},
		{"until at(2)", repository.LogFilter{Until: at(2)}, 3},
		{"since = until", repository.LogFilter{Since: at(4), Until: at(4)}, 1},
		{"service:http since at(4)", repository.LogFilter{Search: "service:http", Since: at(4)}, 2},
		{"no match", repository.LogFilter{Search: "service:nothing"}, 0},
	} {
		if n, ok := got(r.CountLogs(t.Context(), c.f)).ok(t, "CountLogs "+c.name); ok && n != c.want {
			t.Errorf("CountLogs %s: %d, want %d", c.name, n, c.want)
		}
	}
}

func checkLogsAfterID(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	// timestamps out of id order, so that sorting by time would show
	ids, _ := addLogsAtOffsets(t, r, []int{9, 3, 7, 1, 8, 0, 6, 2, 5, 4})
	all := got(r.LogsAfterID(ctx, 0, 100, repository.LogFilter{})).must(t, "LogsAfterID(0)")
	expectIDs(t, "LogsAfterID(0)", logIDs(all), ids)
	page := got(r.LogsAfterID(ctx, ids[3], 4, repository.LogFilter{})).must(t, "LogsAfterID(ids[3], 4)")
	expectIDs(t, "LogsAfterID(ids[3], limit 4)", logIDs(page), ids[4:8])
	// sampleLog(i) has service ssh when i%3 == 0: i = 0, 3, 6, 9
	ssh := got(r.LogsAfterID(ctx, ids[3], 100, repository.LogFilter{Search: "service:ssh"})).must(t, "LogsAfterID(service:ssh)")
	expectIDs(t, "LogsAfterID(ids[3], service:ssh)", logIDs(ssh), []int64{ids[6], ids[9]})
	since := got(r.LogsAfterID(ctx, 0, 100, repository.LogFilter{Since: at(8)})).must(t, "LogsAfterID(since)")
	expectIDs(t, "LogsAfterID(0, since at(8))", logIDs(since), []int64{ids[0], ids[4]})
	end := got(r.LogsAfterID(ctx, ids[len(ids)-1], 100, repository.LogFilter{})).must(t, "LogsAfterID(max)")
	if len(end) != 0 {
		t.Errorf("LogsAfterID(max id): %d logs, want none", len(end))
	}
	if len(all) == len(ids) {
		want := sampleLog(0)
		want.Timestamp = at(9)
		want.ID = ids[0]
		expectLog(t, "LogsAfterID(0)[0]", all[0], want)
	}
}

func checkLogsBatchAtomic(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	batch := sampleLogs(10)
	batch[5] = repository.Log{Decky: "zero-time"} // zero Timestamp
	expectErr(t, r.AddLogs(ctx, batch), repository.ErrInvalid, "AddLogs with a zero timestamp in row 5")
	if n := countLogs(t, r, repository.LogFilter{}); n != 0 {
		t.Errorf("after a failed AddLogs: CountLogs %d, want 0 (all or nothing)", n)
	}
	big := sampleLogs(10)
	big[9].RawLine = strings.Repeat("x", repository.MaxTextLen+1)
	expectErrField(t, r.AddLogs(ctx, big), repository.ErrTooLarge, "raw_line", "AddLogs with a raw line over MaxTextLen in row 9")
	if n := countLogs(t, r, repository.LogFilter{}); n != 0 {
		t.Errorf("after a failed AddLogs: CountLogs %d, want 0 (all or nothing)", n)
	}
	mustOK(t, r.AddLogs(ctx, sampleLogs(3)), "AddLogs of valid logs after failures")
	if n := countLogs(t, r, repository.LogFilter{}); n != 3 {
		t.Errorf("CountLogs: %d, want 3", n)
	}
}

func checkLogsBatchLarge(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	const n = 5000
	logs := sampleLogs(n)
	mustOK(t, r.AddLogs(ctx, logs), fmt.Sprintf("AddLogs of %d logs", n))
	if c := countLogs(t, r, repository.LogFilter{}); c != n {
		t.Errorf("CountLogs: %d, want %d", c, n)
	}
	var all []repository.Log
	after := int64(0)
	for {
		page := got(r.LogsAfterID(ctx, after, 2000, repository.LogFilter{})).must(t, "LogsAfterID")
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
		if len(all) > 2*n {
			t.Fatalf("LogsAfterID does not end")
		}
	}
	if len(all) != n {
		t.Fatalf("LogsAfterID read %d logs, want %d", len(all), n)
	}
	ids := logIDs(all)
	if !slices.IsSorted(ids) {
		t.Errorf("LogsAfterID: ids not ascending")
	}
	expectUnique(t, "AddLogs ids", ids)
	if max := got(r.MaxLogID(ctx)).must(t, "MaxLogID"); max != ids[len(ids)-1] {
		t.Errorf("MaxLogID: %d, want %d", max, ids[len(ids)-1])
	}
	seen := make(map[string]bool, n)
	for _, l := range all {
		seen[l.RawLine] = true
	}
	for i, l := range logs {
		if !seen[l.RawLine] {
			t.Errorf("log %d (%q) was not stored", i, l.RawLine)
			break
		}
	}
}

func checkLogsBatchEmpty(t T, h *Harness) {
	r := h.Repo(t)
	expectOK(t, r.AddLogs(t.Context(), nil), "AddLogs(nil)")
	expectOK(t, r.AddLogs(t.Context(), []repository.Log{}), "AddLogs(empty)")
	if n := countLogs(t, r, repository.LogFilter{}); n != 0 {
		t.Errorf("CountLogs: %d, want 0", n)
	}
}

func checkLogsBatchRoundTrip(t T, h *Harness) {
	r := h.Repo(t)
	batch := sampleLogs(4)
	batch[1].Timestamp = base.In(zone).Add(987654321)
	batch[2].Fields = map[string]string{"cmd": "wget http://x/y.sh", "user": "admin"}
	batch[3].Fields = nil
	mustOK(t, r.AddLogs(t.Context(), batch), "AddLogs")
	byLine := make(map[string]repository.Log)
	for _, l := range listLogs(t, r, repository.LogFilter{}) {
		byLine[l.RawLine] = l
	}
	for i, want := range batch {
		got, ok := byLine[want.RawLine]
		if !ok {
			t.Errorf("batch log %d (%q) not found", i, want.RawLine)
			continue
		}
		expectLog(t, fmt.Sprintf("batch log %d", i), got, want)
	}
}

func checkLogsFieldsEmpty(t T, h *Harness) {
	r := h.Repo(t)
	a, b := sampleLog(0), sampleLog(1)
	a.Fields, b.Fields = nil, map[string]string{}
	addLogs(t, r, a, b)
	for _, l := range listLogs(t, r, repository.LogFilter{}) {
		if len(l.Fields) != 0 {
			t.Errorf("log %d: fields %q, want none", l.ID, l.Fields)
		}
	}
	if n, ok := got(r.CountLogs(t.Context(), repository.LogFilter{Search: "user:root"})).ok(t, "CountLogs(user:root)"); ok && n != 0 {
		t.Errorf("CountLogs(user:root) over logs without fields: %d, want 0", n)
	}
}

func checkLogsInvalid(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	old := sampleLog(0)
	old.Timestamp = base.AddDate(-100, 0, 0) // 1924: before the Unix epoch
	_, err := r.AddLog(ctx, repository.Log{RawLine: "no timestamp"})
	expectErrField(t, err, repository.ErrInvalid, "timestamp", "AddLog with a zero timestamp")
	_, err = r.AddLog(ctx, old)
	expectErrField(t, err, repository.ErrInvalid, "timestamp", "AddLog with a timestamp before 1970")
	bad := sampleLog(0)
	bad.Decky = "bad\xff\xfeutf8"
	_, err = r.AddLog(ctx, bad)
	expectErrField(t, err, repository.ErrInvalid, "decky", "AddLog with invalid UTF-8 in decky")
	long := sampleLog(0)
	long.Msg = strings.Repeat("m", repository.MaxTextLen+1)
	_, err = r.AddLog(ctx, long)
	expectErrField(t, err, repository.ErrTooLarge, "msg", "AddLog with a msg over MaxTextLen")
	if n := countLogs(t, r, repository.LogFilter{}); n != 0 {
		t.Errorf("CountLogs after rejected logs: %d, want 0", n)
	}
}

func checkStatsCounts(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	if s, ok := got(r.Stats(ctx)).ok(t, "Stats (empty)"); ok && s != (repository.Stats{}) {
		t.Errorf("Stats of an empty repository: %+v, want all zero", s)
	}
	var logs []repository.Log
	for i, c := range []struct{ decky, ip string }{
		{"decky-a", "10.0.0.1"}, {"decky-a", "10.0.0.1"}, {"decky-a", "10.0.0.2"},
		{"decky-b", "10.0.0.3"}, {"decky-b", "10.0.0.1"},
	} {
		l := sampleLog(i)
		l.Decky, l.AttackerIP = c.decky, c.ip
		logs = append(logs, l)
	}
	addLogs(t, r, logs...)
	for _, name := range []string{"decky-a", "decky-x", "decky-y", "decky-z"} {
		mustOK(t, r.UpsertDecky(ctx, repository.Decky{Name: name}), "UpsertDecky "+name)
	}
	mustOK(t, r.UpsertDecky(ctx, repository.Decky{Name: "decky-z", Status: "running"}), "UpsertDecky decky-z again")
	want := repository.Stats{TotalLogs: 5, UniqueAttackers: 3, ActiveDeckies: 2, DeployedDeckies: 4}
	if s, ok := got(r.Stats(ctx)).ok(t, "Stats"); ok && s != want {
		t.Errorf("Stats: %+v, want %+v", s, want)
	}
}
