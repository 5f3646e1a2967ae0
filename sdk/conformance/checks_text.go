package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "text_unicode_log", Run: checkTextUnicodeLog},
		Check{Name: "text_unicode_bounty", Run: checkTextUnicodeBounty},
		Check{Name: "text_unicode_state", Run: checkTextUnicodeState},
		Check{Name: "text_unicode_user", Run: checkTextUnicodeUser},
		Check{Name: "text_unicode_attacker", Run: checkTextUnicodeAttacker},
		Check{Name: "text_unicode_decky", Run: checkTextUnicodeDecky},
		Check{Name: "text_invalid_utf8", Run: checkTextInvalidUTF8},
		Check{Name: "limits_short_fields", Run: checkLimitsShortFields},
		Check{Name: "limits_text_fields", Run: checkLimitsTextFields},
		Check{Name: "time_utc_precision", Run: checkTimeUTCPrecision},
	)
}

func checkTextUnicodeLog(t T, h *Harness) {
	r := h.Repo(t)
	want := repository.Log{
		Timestamp:  base,
		Decky:      "décky-" + unicodeText,
		Service:    "ßervice",
		EventType:  "événement",
		AttackerIP: "fe80::1%eth0",
		RawLine:    "raw " + unicodeText + " tab\tand newline\nend",
		Fields:     map[string]string{"clé " + unicodeText: "valeur " + unicodeText, "plain": "🐝🐝"},
		Msg:        "msg " + unicodeText,
		TraceID:    "τ",
		SpanID:     "σ",
	}
	want.ID = addLog(t, r, want)
	ls := listLogs(t, r, repository.LogFilter{})
	if len(ls) != 1 {
		t.Fatalf("Logs: %d logs, want 1", len(ls))
	}
	expectLog(t, "unicode log", ls[0], want)
	found := listLogs(t, r, repository.LogFilter{Search: fmt.Sprintf("decky:%q", want.Decky)})
	expectIDs(t, "search by a unicode decky", logIDs(found), []int64{want.ID})
	found = listLogs(t, r, repository.LogFilter{Search: "plain:🐝🐝"})
	expectIDs(t, "search by a unicode field value", logIDs(found), []int64{want.ID})
}

func checkTextUnicodeBounty(t T, h *Harness) {
	r := h.Repo(t)
	payload := fmt.Sprintf(`{"user":%q,"pass":"pässwörd ✓","file":"🐝.txt"}`, unicodeText)
	b := newBounty("credential", "10.0.0.1", payload, at(0))
	b.Decky, b.Service = "décky "+unicodeText, "ßsh"
	if !addBounty(t, r, b) {
		t.Errorf("AddBounty: added false, want true")
	}
	if addBounty(t, r, b) {
		t.Errorf("AddBounty of the same unicode bounty: added true, want false")
	}
	bs := listBounties(t, r, repository.BountyFilter{})
	if len(bs) != 1 {
		t.Fatalf("Bounties: %d bounties, want 1", len(bs))
	}
	expectJSON(t, "unicode payload", bs[0].Payload, b.Payload)
	if bs[0].Decky != b.Decky || bs[0].Service != b.Service {
		t.Errorf("decky, service: %q %q, want %q %q", bs[0].Decky, bs[0].Service, b.Decky, b.Service)
	}
	if n := got(r.CountBounties(t.Context(), repository.BountyFilter{Search: "pässwörd"})).must(t, "CountBounties"); n != 1 {
		t.Errorf("CountBounties(search a unicode payload substring): %d, want 1", n)
	}
}

func checkTextUnicodeState(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	key := "état " + unicodeText
	value := json.RawMessage(fmt.Sprintf(`{"label":%q,"list":["ä","🐝"]}`, unicodeText))
	mustOK(t, r.SetState(ctx, key, value), "SetState")
	if v, ok := got(r.State(ctx, key)).ok(t, "State"); ok {
		expectJSON(t, "unicode state", v, value)
	}
	keys := got(r.StateKeys(ctx)).must(t, "StateKeys")
	found := false
	for _, k := range keys {
		found = found || k == key
	}
	if !found {
		t.Errorf("StateKeys %q does not list %q", keys, key)
	}
}

func checkTextUnicodeUser(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	name := "ünïcödé-🐝-中文"
	u := createUser(t, r, newUser(name))
	if back, ok := got(r.UserByUsername(ctx, name)).ok(t, "UserByUsername"); ok && (back.UUID != u.UUID || back.Username != name) {
		t.Errorf("UserByUsername(%q): %q %s, want %s", name, back.Username, back.UUID, u.UUID)
	}
	if back, ok := got(r.UserByUUID(ctx, u.UUID)).ok(t, "UserByUUID"); ok && back.Username != name {
		t.Errorf("UserByUUID: username %q, want %q", back.Username, name)
	}
	_, err := r.UserByUsername(ctx, "unicode-🐝-中文")
	expectErr(t, err, repository.ErrNotFound, "UserByUsername of a similar name")
}

func checkTextUnicodeAttacker(t T, h *Harness) {
	r := h.Repo(t)
	a := sampleAttacker("fe80::🐝", 0)
	a.Services = []string{"ßsh", "http"}
	a.Deckies = []string{"décky-" + unicodeText}
	a.TraversalPath = "décky → 中文"
	a.Fingerprints = json.RawMessage(fmt.Sprintf(`[{"banner":%q}]`, unicodeText))
	a.Commands = []repository.Command{{Timestamp: at(1), Service: "ßsh", Decky: "décky", Command: "echo " + unicodeText}}
	id := upsertAttacker(t, r, a)
	a.UUID = id
	expectAttacker(t, "unicode attacker", attackerByUUID(t, r, id), a)
	expectAttackerFilter(t, r, repository.AttackerFilter{Search: "🐝"}, a.IP)
	expectAttackerFilter(t, r, repository.AttackerFilter{Service: "ßsh"}, a.IP)
	if p, ok := got(r.AttackerCommands(t.Context(), id, "ßsh", 10, 0)).ok(t, "AttackerCommands"); ok {
		expectCommands(t, "AttackerCommands(ßsh)", p.Commands, a.Commands)
	}
}

func checkTextUnicodeDecky(t T, h *Harness) {
	r := h.Repo(t)
	d := sampleDecky("décky-" + unicodeText)
	d.Hostname, d.Services = "hôte", []string{"ßsh", "中文"}
	d.Metadata = json.RawMessage(fmt.Sprintf(`{"note":%q}`, unicodeText))
	mustOK(t, r.UpsertDecky(t.Context(), d), "UpsertDecky")
	if g, ok := deckyNamed(t, r, d.Name); ok {
		expectDecky(t, "unicode decky", g, d)
	} else {
		t.Errorf("Deckies: %q missing", d.Name)
	}
}

func checkTextInvalidUTF8(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	const bad = "bad\xff\xfe"
	l := sampleLog(0)
	l.RawLine = bad
	_, err := r.AddLog(ctx, l)
	expectErrField(t, err, repository.ErrInvalid, "raw_line", "AddLog with invalid UTF-8 in raw_line")
	_, err = r.CreateUser(ctx, newUser(bad))
	expectErrField(t, err, repository.ErrInvalid, "username", "CreateUser with invalid UTF-8")
	_, err = r.UpsertAttacker(ctx, sampleAttacker(bad, 0))
	expectErrField(t, err, repository.ErrInvalid, "ip", "UpsertAttacker with invalid UTF-8")
}

// limitCase is one short field at its limit: set stores a row with v in
// the field, and read returns the stored value.
type limitCase struct {
	field string
	set   func(v string) error
	read  func() (string, error)
}

// shortLimitCases returns, for a few short fields of several tables, how to
// store and read them back.
func shortLimitCases(t T, r repository.Repository) []limitCase {
	ctx := t.Context()
	return []limitCase{
		{
			field: "decky",
			set: func(v string) error {
				l := sampleLog(0)
				l.Decky = v
				_, err := r.AddLog(ctx, l)
				return err
			},
			read: func() (string, error) {
				ls, err := r.Logs(ctx, repository.LogQuery{Limit: 1})
				if err != nil || len(ls) == 0 {
					return "", err
				}
				return ls[0].Decky, nil
			},
		},
		{
			field: "bounty_type",
			set: func(v string) error {
				_, err := r.AddBounty(ctx, newBounty(v, "10.0.0.1", `1`, at(0)))
				return err
			},
			read: func() (string, error) {
				bs, err := r.Bounties(ctx, repository.BountyQuery{Limit: 1})
				if err != nil || len(bs) == 0 {
					return "", err
				}
				return bs[0].BountyType, nil
			},
		},
		{
			field: "username",
			set: func(v string) error {
				_, err := r.CreateUser(ctx, newUser(v))
				return err
			},
			read: func() (string, error) {
				us, err := r.Users(ctx)
				for _, u := range us {
					if u.Username != DefaultAdmin.User {
						return u.Username, err
					}
				}
				return "", err
			},
		},
		{
			field: "name",
			set:   func(v string) error { return r.UpsertDecky(ctx, repository.Decky{Name: v}) },
			read: func() (string, error) {
				ds, err := r.Deckies(ctx)
				if err != nil || len(ds) == 0 {
					return "", err
				}
				return ds[0].Name, nil
			},
		},
		{
			field: "ip",
			set: func(v string) error {
				_, err := r.UpsertAttacker(ctx, sampleAttacker(v, 0))
				return err
			},
			read: func() (string, error) {
				as, err := r.Attackers(ctx, repository.AttackerQuery{Limit: 1})
				if err != nil || len(as) == 0 {
					return "", err
				}
				return as[0].IP, nil
			},
		},
	}
}

func checkLimitsShortFields(t T, h *Harness) {
	r := h.Repo(t)
	exact := strings.Repeat("é", repository.MaxShortLen) // 255 characters, 510 bytes
	over := exact + "é"
	for _, c := range shortLimitCases(t, r) {
		expectErrField(t, c.set(over), repository.ErrTooLarge, c.field, fmt.Sprintf("%s of MaxShortLen+1 characters", c.field))
		if !expectOK(t, c.set(exact), fmt.Sprintf("%s of MaxShortLen multi-byte characters", c.field)) {
			continue
		}
		if v, ok := got(c.read()).ok(t, "read "+c.field); ok && v != exact {
			t.Errorf("%s of MaxShortLen characters: read back %d characters (%d bytes), want it unchanged", c.field, len([]rune(v)), len(v))
		}
	}
	ctx := t.Context()
	key := strings.Repeat("🐝", repository.MaxShortLen)
	if expectOK(t, r.SetState(ctx, key, json.RawMessage(`1`)), "SetState with a key of MaxShortLen 4-byte characters") {
		if v, ok := got(r.State(ctx, key)).ok(t, "State"); ok {
			expectJSON(t, "State of a long key", v, []byte(`1`))
		}
	}
}

func checkLimitsTextFields(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	exact := strings.Repeat("中", repository.MaxTextLen/3) // 3-byte runes, exactly MaxTextLen bytes
	if len(exact) != repository.MaxTextLen {
		t.Fatalf("test bug: %d bytes", len(exact))
	}
	l := sampleLog(0)
	l.RawLine, l.Msg = exact, exact
	l.ID = addLog(t, r, l)
	if ls := listLogs(t, r, repository.LogFilter{}); len(ls) == 1 {
		expectLog(t, "log with raw_line and msg of MaxTextLen bytes", ls[0], l)
	} else {
		t.Errorf("Logs: %d logs, want 1", len(ls))
	}
	for _, c := range []struct {
		field string
		edit  func(*repository.Log)
	}{
		{"raw_line", func(l *repository.Log) { l.RawLine = exact + "a" }},
		{"msg", func(l *repository.Log) { l.Msg = exact + "a" }},
	} {
		over := sampleLog(1)
		c.edit(&over)
		_, err := r.AddLog(ctx, over)
		expectErrField(t, err, repository.ErrTooLarge, c.field, c.field+" of MaxTextLen+1 bytes")
	}
	a := sampleAttacker("10.0.0.1", 0)
	a.TraversalPath = strings.Repeat("→", repository.MaxTextLen/3)
	id := upsertAttacker(t, r, a)
	if back := attackerByUUID(t, r, id); back.TraversalPath != a.TraversalPath {
		t.Errorf("traversal_path of MaxTextLen bytes: read back %d bytes", len(back.TraversalPath))
	}
	a.TraversalPath += "x"
	_, err := r.UpsertAttacker(ctx, a)
	expectErrField(t, err, repository.ErrTooLarge, "traversal_path", "traversal_path of MaxTextLen+1 bytes")
}

func checkTimeUTCPrecision(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	in := time.Date(2024, 7, 8, 9, 10, 11, 123456789, zone)
	l := sampleLog(0)
	l.Timestamp = in
	addLog(t, r, l)
	if ls := listLogs(t, r, repository.LogFilter{}); len(ls) == 1 {
		expectTime(t, "log timestamp", ls[0].Timestamp, in)
	}
	addBounty(t, r, newBounty("credential", "10.0.0.1", `1`, in))
	if bs := listBounties(t, r, repository.BountyFilter{}); len(bs) == 1 {
		expectTime(t, "bounty timestamp", bs[0].Timestamp, in)
	}
	u := newUser("kate")
	u.CreatedAt = in
	createUser(t, r, u)
	if back, ok := got(r.UserByUsername(ctx, "kate")).ok(t, "UserByUsername"); ok {
		expectTime(t, "user created_at", back.CreatedAt, in)
	}
	a := sampleAttacker("10.0.0.1", 0)
	a.FirstSeen, a.LastSeen = in, in.Add(time.Hour)
	a.Commands = []repository.Command{{Timestamp: in, Service: "ssh", Command: "id"}}
	id := upsertAttacker(t, r, a)
	back := attackerByUUID(t, r, id)
	expectTime(t, "attacker first_seen", back.FirstSeen, a.FirstSeen)
	expectTime(t, "attacker last_seen", back.LastSeen, a.LastSeen)
	if len(back.Commands) == 1 {
		expectTime(t, "command timestamp", back.Commands[0].Timestamp, in)
	}
	expectNow(t, "attacker updated_at", back.UpdatedAt)
	if p, ok := got(r.AttackerCommands(ctx, id, "", 10, 0)).ok(t, "AttackerCommands"); ok && len(p.Commands) == 1 {
		expectTime(t, "AttackerCommands timestamp", p.Commands[0].Timestamp, in)
	}
	if bs, ok := got(r.LogHistogram(ctx, repository.LogFilter{}, time.Hour)).ok(t, "LogHistogram"); ok && len(bs) == 1 {
		expectTime(t, "bucket start", bs[0].Start, in.Truncate(time.Hour))
	}
}
