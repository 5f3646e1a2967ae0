package repository

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of paging. A Limit of 0 means DefaultLimit; a negative Limit or
// Offset, or a Limit above MaxLimit, is ErrInvalid.
const (
	DefaultLimit = 50
	MaxLimit     = 10000
)

// Size limits of stored values, the same on every backend. A value over its
// limit is ErrTooLarge naming the field, before any SQL runs.
const (
	// MaxShortLen is the longest short text (names, addresses, types), in
	// characters.
	MaxShortLen = 255
	// MaxTextLen is the longest text (a log's raw line and message), in bytes.
	MaxTextLen = 1<<16 - 1
	// MaxLargeLen is the longest large value (a state value, a log's
	// fields, a bounty's payload, an attacker's lists), in bytes: 16 MiB
	// less one byte, what a MySQL MEDIUMTEXT holds.
	MaxLargeLen = 1<<24 - 1
)

// LogFilter selects logs. The zero value selects all logs.
type LogFilter struct {
	// Search uses DECNET's search syntax; see ParseSearch.
	Search string
	// Since and Until bound the timestamp, both inclusive; the zero time
	// leaves that side open.
	Since time.Time
	Until time.Time
}

// LogQuery is a LogFilter with paging. Logs come newest first (timestamp,
// then id, both descending), so pages never overlap.
type LogQuery struct {
	LogFilter
	Limit  int // 0 means DefaultLimit
	Offset int
}

// BountyFilter selects bounties. The zero value selects all bounties.
type BountyFilter struct {
	// BountyType, when set, matches the bounty type exactly.
	BountyType string
	// Search, when set, matches a substring (case-insensitive for ASCII) of
	// the attacker IP, decky, service or payload.
	Search string
}

// BountyQuery is a BountyFilter with paging, newest first.
type BountyQuery struct {
	BountyFilter
	Limit  int
	Offset int
}

// AttackerSort orders Attackers.
type AttackerSort string

// The orders of Attackers. Ties are broken by UUID so that pages are stable.
const (
	// SortRecent orders by last seen, newest first. It is the default.
	SortRecent AttackerSort = "recent"
	// SortActive orders by event count, largest first.
	SortActive AttackerSort = "active"
	// SortTraversals puts attackers that traversed deckies first, then
	// orders by last seen, newest first.
	SortTraversals AttackerSort = "traversals"
)

// AttackerFilter selects attackers. The zero value selects all attackers.
type AttackerFilter struct {
	// Search matches a substring of the IP.
	Search string
	// Service, when set, keeps attackers whose services include it exactly.
	Service string
}

// AttackerQuery is an AttackerFilter with an order and paging.
type AttackerQuery struct {
	AttackerFilter
	Sort   AttackerSort // empty means SortRecent
	Limit  int
	Offset int
}

// invalidf returns an ErrInvalid naming the field.
func invalidf(field, format string, args ...any) error {
	return fmt.Errorf("repository: %s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalid)
}

// tooLarge returns an ErrTooLarge naming the field.
func tooLarge(field string, size, limit int, unit string) error {
	return fmt.Errorf("repository: %s: %d %s exceeds the limit of %d: %w", field, size, unit, limit, ErrTooLarge)
}

// Page checks a limit and offset and returns the limit to use: DefaultLimit
// for 0. It is exported for backends that do not use SQLRepository.
func Page(limit, offset int) (int, error) {
	switch {
	case limit < 0:
		return 0, invalidf("limit", "%d is negative", limit)
	case limit > MaxLimit:
		return 0, invalidf("limit", "%d exceeds the maximum %d", limit, MaxLimit)
	case offset < 0:
		return 0, invalidf("offset", "%d is negative", offset)
	case limit == 0:
		return DefaultLimit, nil
	}
	return limit, nil
}

// Validate checks the time bounds of f.
func (f LogFilter) Validate() error {
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until) {
		return invalidf("since", "%s is after until %s", f.Since.UTC().Format(time.RFC3339Nano), f.Until.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// Validate checks s and returns the order to use (SortRecent for empty).
func (s AttackerSort) Validate() (AttackerSort, error) {
	switch s {
	case "":
		return SortRecent, nil
	case SortRecent, SortActive, SortTraversals:
		return s, nil
	}
	return "", invalidf("sort", "%q is not one of recent, active, traversals", string(s))
}

// validText checks that v is text every backend stores unchanged: valid
// UTF-8 without NUL characters (PostgreSQL cannot store NUL in text).
func validText(field, v string) error {
	if !utf8.ValidString(v) {
		return invalidf(field, "is not valid UTF-8")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalidf(field, "contains a NUL character")
	}
	return nil
}

func checkShort(field, v string, required bool) error {
	if required && v == "" {
		return invalidf(field, "is empty")
	}
	if len(v) > MaxShortLen { // fewer bytes cannot be more characters
		if n := utf8.RuneCountInString(v); n > MaxShortLen {
			return tooLarge(field, n, MaxShortLen, "characters")
		}
	}
	return validText(field, v)
}

func checkText(field, v string, limit int) error {
	if len(v) > limit {
		return tooLarge(field, len(v), limit, "bytes")
	}
	return validText(field, v)
}

func checkJSON(field string, v json.RawMessage, required bool) error {
	if len(v) == 0 {
		if required {
			return invalidf(field, "is empty")
		}
		return nil
	}
	if len(v) > MaxLargeLen {
		return tooLarge(field, len(v), MaxLargeLen, "bytes")
	}
	if !json.Valid(v) {
		return invalidf(field, "is not valid JSON")
	}
	return nil
}

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return invalidf(field, "is zero")
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return invalidf(field, "year %d is outside 1970..9999", y)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a log before it is stored.
func (l Log) Validate() error {
	for k, v := range l.Fields {
		if err := checkUTF8("log.fields", k, v); err != nil {
			return err
		}
	}
	return firstErr(
		checkTime("log.timestamp", l.Timestamp),
		checkShort("log.decky", l.Decky, false),
		checkShort("log.service", l.Service, false),
		checkShort("log.event_type", l.EventType, false),
		checkShort("log.attacker_ip", l.AttackerIP, false),
		checkShort("log.trace_id", l.TraceID, false),
		checkShort("log.span_id", l.SpanID, false),
		checkText("log.raw_line", l.RawLine, MaxTextLen),
		checkText("log.msg", l.Msg, MaxTextLen),
	)
}

// Validate checks a bounty before it is stored.
func (b Bounty) Validate() error {
	return firstErr(
		checkTime("bounty.timestamp", b.Timestamp),
		checkShort("bounty.bounty_type", b.BountyType, true),
		checkShort("bounty.attacker_ip", b.AttackerIP, false),
		checkShort("bounty.decky", b.Decky, false),
		checkShort("bounty.service", b.Service, false),
		checkJSON("bounty.payload", b.Payload, true),
	)
}

// Validate checks a decky before it is stored.
func (d Decky) Validate() error {
	errs := []error{
		checkShort("decky.name", d.Name, true),
		checkShort("decky.host", d.Host, false),
		checkShort("decky.ip", d.IP, false),
		checkShort("decky.hostname", d.Hostname, false),
		checkShort("decky.distro", d.Distro, false),
		checkShort("decky.archetype", d.Archetype, false),
		checkShort("decky.status", d.Status, false),
		checkJSON("decky.metadata", d.Metadata, false),
	}
	for _, s := range d.Services {
		errs = append(errs, checkShort("decky.services", s, true))
	}
	return firstErr(errs...)
}

// Validate checks a user before it is stored.
func (u User) Validate() error {
	return firstErr(
		checkShort("user.username", u.Username, true),
		checkShort("user.uuid", u.UUID, false),
		checkShort("user.password_hash", u.PasswordHash, true),
		checkRole(u.Role),
	)
}

func checkRole(r Role) error {
	if !r.Valid() {
		return invalidf("role", "%q is not one of admin, viewer", string(r))
	}
	return nil
}

// checkUTF8 checks that every string is valid UTF-8.
func checkUTF8(field string, strs ...string) error {
	for _, v := range strs {
		if err := validText(field, v); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks an attacker before it is stored.
func (a Attacker) Validate() error {
	var cmdText []string
	for _, c := range a.Commands {
		cmdText = append(cmdText, c.Service, c.Decky, c.Command)
	}
	return firstErr(
		checkUTF8("attacker.services", a.Services...),
		checkUTF8("attacker.deckies", a.Deckies...),
		checkUTF8("attacker.commands", cmdText...),
		checkShort("attacker.ip", a.IP, true),
		checkShort("attacker.uuid", a.UUID, false),
		checkText("attacker.traversal_path", a.TraversalPath, MaxTextLen),
		checkJSON("attacker.fingerprints", a.Fingerprints, false),
	)
}

// Validate checks a behavior before it is stored.
func (b Behavior) Validate() error {
	return firstErr(
		checkUTF8("behavior.tool_guesses", b.ToolGuesses...),
		checkShort("behavior.os_guess", b.OSGuess, false),
		checkShort("behavior.behavior_class", b.BehaviorClass, false),
		checkJSON("behavior.tcp_fingerprint", b.TCPFingerprint, false),
		checkJSON("behavior.timing_stats", b.TimingStats, false),
		checkJSON("behavior.phase_sequence", b.PhaseSequence, false),
	)
}

// ValidateState checks a dashboard state key and value before they are
// stored: a non-empty key and a JSON value of at most MaxLargeLen bytes.
func ValidateState(key string, value json.RawMessage) error {
	return firstErr(checkShort("state.key", key, true), checkJSON("state.value", value, true))
}
