package conformance

import (
	"fmt"
	"sort"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "histogram_buckets", Run: checkHistogramBuckets},
		Check{Name: "histogram_filter", Run: checkHistogramFilter},
		Check{Name: "histogram_invalid_interval", Run: checkHistogramInvalidInterval},
		Check{Name: "histogram_empty", Run: checkHistogramEmpty},
	)
}

// histogramTimes are the timestamps of the histogram checks: bucket edges,
// the last microsecond of a bucket, and gaps.
var histogramTimes = []time.Time{
	time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
	time.Date(2024, 5, 1, 12, 0, 0, 500_000_000, time.UTC),
	time.Date(2024, 5, 1, 12, 59, 59, 999_000_000, time.UTC),
	time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC),
	time.Date(2024, 5, 1, 15, 30, 0, 0, time.UTC),
	time.Date(2024, 5, 1, 15, 59, 59, 0, time.UTC),
	time.Date(2024, 5, 2, 0, 0, 1, 0, time.UTC),
	time.Date(2024, 5, 3, 23, 59, 59, 0, time.UTC),
}

// expectedBuckets computes the histogram of times: epoch-aligned buckets,
// ascending, empty ones left out.
func expectedBuckets(times []time.Time, interval time.Duration) []repository.Bucket {
	sec := int64(interval / time.Second)
	counts := map[int64]int64{}
	for _, ts := range times {
		u := ts.Unix()
		start := u / sec * sec
		if u < 0 && u%sec != 0 {
			start -= sec
		}
		counts[start]++
	}
	out := make([]repository.Bucket, 0, len(counts))
	for s, n := range counts {
		out = append(out, repository.Bucket{Start: time.Unix(s, 0).UTC(), Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// expectBuckets reports the differences between two histograms.
func expectBuckets(t T, what string, got, want []repository.Bucket) {
	t.Helper()
	for _, b := range got {
		if b.Start.Location() != time.UTC {
			t.Errorf("%s: bucket %s: location %v, want UTC", what, b.Start, b.Start.Location())
			break
		}
	}
	same := len(got) == len(want)
	for i := 0; same && i < len(want); i++ {
		same = got[i].Start.Equal(want[i].Start) && got[i].Count == want[i].Count
	}
	if !same {
		t.Errorf("%s:\n got  %s\n want %s", what, fmtBuckets(got), fmtBuckets(want))
	}
}

func fmtBuckets(bs []repository.Bucket) string {
	s := "["
	for i, b := range bs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s:%d", b.Start.UTC().Format(time.RFC3339), b.Count)
	}
	return s + "]"
}

// addLogsAtTimes adds one log per time, given in a zone other than UTC,
// with the service cycling through ssh, http, ftp.
func addLogsAtTimes(t T, r repository.Repository, times []time.Time) {
	t.Helper()
	logs := make([]repository.Log, len(times))
	for i, ts := range times {
		logs[i] = sampleLog(i)
		logs[i].Timestamp = ts.In(zone)
	}
	addLogs(t, r, logs...)
}

func checkHistogramBuckets(t T, h *Harness) {
	r := h.Repo(t)
	addLogsAtTimes(t, r, histogramTimes)
	for _, iv := range []time.Duration{time.Second, time.Minute, 7 * time.Minute, time.Hour, 90 * time.Minute, 24 * time.Hour, 7 * 24 * time.Hour} {
		bs, ok := got(r.LogHistogram(t.Context(), repository.LogFilter{}, iv)).ok(t, fmt.Sprintf("LogHistogram(%s)", iv))
		if ok {
			expectBuckets(t, fmt.Sprintf("LogHistogram(%s)", iv), bs, expectedBuckets(histogramTimes, iv))
		}
	}
}

func checkHistogramFilter(t T, h *Harness) {
	r := h.Repo(t)
	addLogsAtTimes(t, r, histogramTimes)
	var ssh, window []time.Time
	since, until := histogramTimes[1], histogramTimes[5]
	for i, ts := range histogramTimes {
		if i%3 == 0 {
			ssh = append(ssh, ts)
		}
		if !ts.Before(since) && !ts.After(until) {
			window = append(window, ts)
		}
	}
	for _, c := range []struct {
		name  string
		f     repository.LogFilter
		times []time.Time
	}{
		{"service:ssh", repository.LogFilter{Search: "service:ssh"}, ssh},
		{"since and until", repository.LogFilter{Since: since, Until: until}, window},
		{"no match", repository.LogFilter{Search: "decky:none"}, nil},
	} {
		if bs, ok := got(r.LogHistogram(t.Context(), c.f, time.Hour)).ok(t, "LogHistogram "+c.name); ok {
			expectBuckets(t, "LogHistogram "+c.name, bs, expectedBuckets(c.times, time.Hour))
		}
	}
}

func checkHistogramInvalidInterval(t T, h *Harness) {
	r := h.Repo(t)
	addLog(t, r, sampleLog(0))
	for _, iv := range []time.Duration{0, -time.Hour, -time.Second, time.Nanosecond, 500 * time.Millisecond, 1500 * time.Millisecond, time.Hour + time.Millisecond} {
		_, err := r.LogHistogram(t.Context(), repository.LogFilter{}, iv)
		expectErr(t, err, repository.ErrInvalid, fmt.Sprintf("LogHistogram(interval %s)", iv))
	}
}

func checkHistogramEmpty(t T, h *Harness) {
	r := h.Repo(t)
	if bs, ok := got(r.LogHistogram(t.Context(), repository.LogFilter{}, time.Hour)).ok(t, "LogHistogram"); ok && len(bs) != 0 {
		t.Errorf("LogHistogram of an empty repository: %s, want no buckets", fmtBuckets(bs))
	}
}
