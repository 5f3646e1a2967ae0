package conformance

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "state_absent_not_found", Run: checkStateAbsentNotFound},
		Check{Name: "state_round_trip", Run: checkStateRoundTrip},
		Check{Name: "state_upsert_replaces", Run: checkStateUpsertReplaces},
		Check{Name: "state_large_value", Run: checkStateLargeValue},
		Check{Name: "state_too_large", Run: checkStateTooLarge},
		Check{Name: "state_invalid", Run: checkStateInvalid},
		Check{Name: "state_keys_sorted", Run: checkStateKeysSorted},
	)
}

// jsonString returns a JSON string of exactly n bytes (n >= 2) of ASCII
// letters.
func jsonString(n int) json.RawMessage {
	var b bytes.Buffer
	b.Grow(n)
	b.WriteByte('"')
	for i := 0; i < n-2; i++ {
		b.WriteByte('a' + byte(i%26))
	}
	b.WriteByte('"')
	return b.Bytes()
}

func checkStateAbsentNotFound(t T, h *Harness) {
	r := h.Repo(t)
	v, err := r.State(t.Context(), "no-such-key")
	expectErr(t, err, repository.ErrNotFound, "State of an absent key")
	if len(v) != 0 {
		t.Errorf("State of an absent key: value %s, want none", v)
	}
}

func checkStateRoundTrip(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	for _, c := range []struct{ key, value string }{
		{"dashboard.layout", `{"panels":[{"id":1,"kind":"map"},{"id":2,"kind":"feed"}],"dark":true}`},
		{"number", `42`},
		{"string", `"hello"`},
		{"list", `[1,"two",null,{"three":3.5}]`},
		{"null", `null`},
		{"bool", `false`},
	} {
		mustOK(t, r.SetState(ctx, c.key, json.RawMessage(c.value)), "SetState "+c.key)
		if v, ok := got(r.State(ctx, c.key)).ok(t, "State "+c.key); ok {
			expectJSON(t, "State "+c.key, v, []byte(c.value))
		}
	}
}

func checkStateUpsertReplaces(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	mustOK(t, r.SetState(ctx, "k", json.RawMessage(`{"v":1,"old":true}`)), "SetState")
	mustOK(t, r.SetState(ctx, "k", json.RawMessage(`{"v":2}`)), "SetState again")
	if v, ok := got(r.State(ctx, "k")).ok(t, "State"); ok {
		expectJSON(t, "State after a second SetState", v, []byte(`{"v":2}`))
	}
	keys := got(r.StateKeys(ctx)).must(t, "StateKeys")
	n := 0
	for _, k := range keys {
		if k == "k" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("StateKeys lists %q %d times, want once", "k", n)
	}
}

func checkStateLargeValue(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	v := jsonString(4 << 20)
	mustOK(t, r.SetState(ctx, "big", v), "SetState of 4 MiB")
	back := got(r.State(ctx, "big")).must(t, "State of 4 MiB")
	if !bytes.Equal(back, v) {
		t.Errorf("State of a 4 MiB value: got %d bytes %s, want the %d bytes stored", len(back), clip(string(back)), len(v))
	}
}

func checkStateTooLarge(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	err := r.SetState(ctx, "huge", jsonString(repository.MaxLargeLen+1))
	expectErrField(t, err, repository.ErrTooLarge, "value", "SetState of MaxLargeLen+1 bytes")
	_, err = r.State(ctx, "huge")
	expectErr(t, err, repository.ErrNotFound, "State after a rejected SetState")
}

func checkStateInvalid(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	for _, c := range []struct {
		name, key string
		value     json.RawMessage
		target    error
		field     string
	}{
		{"invalid JSON", "k", json.RawMessage(`{"a":`), repository.ErrInvalid, "value"},
		{"text that is not JSON", "k", json.RawMessage(`hello`), repository.ErrInvalid, "value"},
		{"an empty value", "k", nil, repository.ErrInvalid, "value"},
		{"an empty key", "", json.RawMessage(`1`), repository.ErrInvalid, "key"},
		{"a key over MaxShortLen", strings.Repeat("k", repository.MaxShortLen+1), json.RawMessage(`1`), repository.ErrTooLarge, "key"},
	} {
		expectErrField(t, r.SetState(ctx, c.key, c.value), c.target, c.field, "SetState with "+c.name)
	}
	if keys := got(r.StateKeys(ctx)).must(t, "StateKeys"); slices.Contains(keys, "k") || slices.Contains(keys, "") {
		t.Errorf("StateKeys after rejected values: %q", keys)
	}
}

func checkStateKeysSorted(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	before := got(r.StateKeys(ctx)).must(t, "StateKeys")
	added := []string{"zeta", "alpha", "mid", "alpha2", "beta", "0num"}
	for _, k := range added {
		mustOK(t, r.SetState(ctx, k, json.RawMessage(`true`)), "SetState "+k)
	}
	keys := got(r.StateKeys(ctx)).must(t, "StateKeys")
	want := append(slices.Clone(before), added...)
	slices.Sort(want)
	if !slices.IsSorted(keys) {
		t.Errorf("StateKeys: %q is not sorted", keys)
	}
	gotSorted := slices.Clone(keys)
	slices.Sort(gotSorted)
	expectStrings(t, "StateKeys", gotSorted, want)
}
