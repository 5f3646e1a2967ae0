package repository

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPage(t *testing.T) {
	tests := []struct {
		limit, offset, want int
		err                 string // the field named, "" for success
	}{
		{0, 0, DefaultLimit, ""},
		{1, 0, 1, ""},
		{MaxLimit, 5, MaxLimit, ""},
		{-1, 0, 0, "limit"},
		{MaxLimit + 1, 0, 0, "limit"},
		{10, -1, 0, "offset"},
	}
	for _, tt := range tests {
		got, err := Page(tt.limit, tt.offset)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Page(%d, %d) = %d, %v; want %d", tt.limit, tt.offset, got, err, tt.want)
		case tt.err != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Page(%d, %d) error = %v; want ErrInvalid naming %s", tt.limit, tt.offset, err, tt.err)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		err   error
		is    error
		field string
	}{
		{"zero timestamp", Log{}.Validate(), ErrInvalid, "log.timestamp"},
		{"long decky", Log{Timestamp: now, Decky: strings.Repeat("é", MaxShortLen+1)}.Validate(), ErrTooLarge, "log.decky"},
		{"long raw line", Log{Timestamp: now, RawLine: strings.Repeat("x", MaxTextLen+1)}.Validate(), ErrTooLarge, "log.raw_line"},
		{"bad utf-8", Log{Timestamp: now, Msg: "\xff"}.Validate(), ErrInvalid, "log.msg"},
		{"nul", Log{Timestamp: now, Fields: map[string]string{"k": "a\x00b"}}.Validate(), ErrInvalid, "log.fields"},
		{"bounty type", Bounty{Timestamp: now, Payload: json.RawMessage(`{}`)}.Validate(), ErrInvalid, "bounty.bounty_type"},
		{"bounty payload", Bounty{Timestamp: now, BountyType: "x", Payload: json.RawMessage(`{`)}.Validate(), ErrInvalid, "bounty.payload"},
		{"username", User{Role: RoleAdmin, PasswordHash: "h"}.Validate(), ErrInvalid, "user.username"},
		{"role", User{Username: "u", Role: "root", PasswordHash: "h"}.Validate(), ErrInvalid, "role"},
		{"attacker ip", Attacker{}.Validate(), ErrInvalid, "attacker.ip"},
		{"state key", ValidateState("", json.RawMessage(`1`)), ErrInvalid, "state.key"},
		{"state value", ValidateState("k", json.RawMessage(`nope`)), ErrInvalid, "state.value"},
		{"state size", ValidateState("k", make(json.RawMessage, MaxLargeLen+1)), ErrTooLarge, "state.value"},
		{"since after until", LogFilter{Since: now, Until: now.Add(-time.Second)}.Validate(), ErrInvalid, "since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.is) || !strings.Contains(tt.err.Error(), tt.field) {
				t.Errorf("error %v; want %v naming %s", tt.err, tt.is, tt.field)
			}
		})
	}
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{ "b": 1, "a": "x" }`, `{"a":"x","b":1}`},
		{`{"z":{"y":[3, 2, {"b":null,"a":true}]}}`, `{"z":{"y":[3,2,{"a":true,"b":null}]}}`},
		{`12345678901234567890`, `12345678901234567890`},
		{`1.50`, `1.50`},
		{`"<a&b>"`, `"<a&b>"`},
		{`"\u00e9"`, `"é"`},
	}
	for _, tt := range tests {
		got, err := CanonicalJSON(json.RawMessage(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("CanonicalJSON(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`{"a":`, `{"a":1} {}`, `1 2`, ``} {
		if _, err := CanonicalJSON(json.RawMessage(bad)); err == nil {
			t.Errorf("CanonicalJSON(%q): no error", bad)
		}
	}
}

func TestLikePattern(t *testing.T) {
	if got := likePattern(`50%_a!b`); got != `%50!%!_a!!b%` {
		t.Errorf("likePattern = %q", got)
	}
}
