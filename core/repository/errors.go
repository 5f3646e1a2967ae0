package repository

import "errors"

// Sentinel errors. Every backend returns errors that wrap exactly one of
// these where the condition applies, so callers match them with errors.Is,
// whatever the backend and across the plugin boundary.
var (
	// ErrNotFound is returned when the addressed row does not exist:
	// State of an absent key, UserByUsername, UserByUUID, AttackerByUUID,
	// AttackerBehavior, AttackerCommands and UpsertAttackerBehavior of an
	// unknown attacker, UpdateUserPassword and UpdateUserRole of an unknown
	// user.
	ErrNotFound = errors.New("not found")

	// ErrConflict is returned when a write would break a uniqueness rule,
	// such as CreateUser with a username that is taken.
	ErrConflict = errors.New("conflict")

	// ErrInvalid is returned for bad input, before any SQL runs. The message
	// names the field: "repository: limit: -1 is negative: invalid argument".
	ErrInvalid = errors.New("invalid argument")

	// ErrTooLarge is returned when a value exceeds the size its column
	// holds (see the Max* constants); the message names the field.
	ErrTooLarge = errors.New("value too large")

	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("repository is closed")

	// ErrUnknownDriver is returned by registry.Open when DECNET_DB_TYPE names
	// no registered driver and no plugin; the message lists both.
	ErrUnknownDriver = errors.New("unknown driver")

	// ErrUnavailable is returned when the backend cannot be reached: a
	// database server that refuses connections or a plugin process that
	// exited. The call may succeed when retried later.
	ErrUnavailable = errors.New("backend unavailable")
)

// Sentinels lists every sentinel error, for code that maps them to another
// representation (the plugin protocol) and for tests of that mapping.
func Sentinels() []error {
	return []error{ErrNotFound, ErrConflict, ErrInvalid, ErrTooLarge, ErrClosed, ErrUnknownDriver, ErrUnavailable}
}
