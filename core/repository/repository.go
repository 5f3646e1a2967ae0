package repository

import (
	"context"
	"encoding/json"
	"time"
)

// Lifecycle opens, checks and closes a repository.
type Lifecycle interface {
	// Initialize creates the schema and seeds the admin user. It is
	// idempotent and safe to run from several processes at once. The admin
	// (Config.AdminUser) is created with a bcrypt hash of
	// Config.AdminPassword and MustChangePassword true; while that admin
	// still has MustChangePassword, Initialize re-syncs the hash from the
	// configured password.
	Initialize(ctx context.Context) error
	// Ping checks that the backend answers.
	Ping(ctx context.Context) error
	// Close releases the repository. It is safe to call twice; every other
	// method returns ErrClosed afterwards.
	Close() error
}

// LogStore holds events ("logs").
type LogStore interface {
	// AddLog stores one log and returns its id once it is committed.
	AddLog(ctx context.Context, log Log) (int64, error)
	// AddLogs stores logs in one transaction: all or none.
	AddLogs(ctx context.Context, logs []Log) error
	// Logs returns a page of the logs that match, newest first.
	Logs(ctx context.Context, q LogQuery) ([]Log, error)
	// CountLogs counts the logs that match.
	CountLogs(ctx context.Context, f LogFilter) (int64, error)
	// MaxLogID returns the largest log id, 0 when there is none.
	MaxLogID(ctx context.Context) (int64, error)
	// LogsAfterID returns up to limit logs with id > afterID that match,
	// id ascending (for tailing and streaming).
	LogsAfterID(ctx context.Context, afterID int64, limit int, f LogFilter) ([]Log, error)
	// LogHistogram counts the logs that match per interval, in buckets
	// aligned to the Unix epoch, ascending, empty buckets left out. The
	// interval is a whole number of seconds, at least one.
	LogHistogram(ctx context.Context, f LogFilter, interval time.Duration) ([]Bucket, error)
	// Stats returns the dashboard's headline numbers.
	Stats(ctx context.Context) (Stats, error)
}

// BountyStore holds captures ("bounties").
type BountyStore interface {
	// AddBounty stores a bounty unless one with the same type, attacker IP
	// and payload exists; added reports which. It is atomic: of many
	// identical concurrent calls exactly one reports added.
	AddBounty(ctx context.Context, b Bounty) (added bool, err error)
	// Bounties returns a page of the bounties that match, newest first.
	Bounties(ctx context.Context, q BountyQuery) ([]Bounty, error)
	// CountBounties counts the bounties that match.
	CountBounties(ctx context.Context, f BountyFilter) (int64, error)
	// BountiesByIP groups the bounties of the given attacker IPs by IP,
	// oldest first; nil ips means every IP.
	BountiesByIP(ctx context.Context, ips []string) (map[string][]Bounty, error)
	// BountiesAfterID returns up to limit bounties with id > afterID, id
	// ascending (for streaming).
	BountiesAfterID(ctx context.Context, afterID int64, limit int) ([]Bounty, error)
}

// StateStore holds the dashboard's state: JSON values by key.
type StateStore interface {
	// State returns the value of key, or ErrNotFound.
	State(ctx context.Context, key string) (json.RawMessage, error)
	// SetState inserts or replaces the value of key. The value is JSON of
	// at most MaxLargeLen bytes.
	SetState(ctx context.Context, key string, value json.RawMessage) error
	// StateKeys returns every key, sorted.
	StateKeys(ctx context.Context) ([]string, error)
}

// DeckyStore holds deployment metadata.
type DeckyStore interface {
	// UpsertDecky inserts or replaces the decky with d.Name and sets its
	// UpdatedAt.
	UpsertDecky(ctx context.Context, d Decky) error
	// Deckies returns every decky, by name.
	Deckies(ctx context.Context) ([]Decky, error)
	// DeleteDecky deletes the decky and reports whether it existed.
	DeleteDecky(ctx context.Context, name string) (bool, error)
}

// UserStore holds dashboard accounts.
type UserStore interface {
	// CreateUser stores u, assigning a UUID when empty and CreatedAt when
	// zero; ErrConflict when the username or UUID is taken.
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByUsername returns the user, or ErrNotFound.
	UserByUsername(ctx context.Context, username string) (User, error)
	// UserByUUID returns the user, or ErrNotFound.
	UserByUUID(ctx context.Context, uuid string) (User, error)
	// Users returns every user, by username.
	Users(ctx context.Context) ([]User, error)
	// UpdateUserPassword sets the hash and MustChangePassword; ErrNotFound
	// for an unknown uuid.
	UpdateUserPassword(ctx context.Context, uuid, passwordHash string, mustChange bool) error
	// UpdateUserRole sets the role; ErrNotFound for an unknown uuid,
	// ErrInvalid for an unknown role.
	UpdateUserRole(ctx context.Context, uuid string, role Role) error
	// DeleteUser deletes the user and reports whether it existed.
	DeleteUser(ctx context.Context, uuid string) (bool, error)
}

// AttackerStore holds attacker profiles and their behaviors.
type AttackerStore interface {
	// UpsertAttacker inserts or updates the attacker with a.IP and returns
	// its UUID, which stays the same across upserts. Every other field is
	// replaced by a's; UpdatedAt is set.
	UpsertAttacker(ctx context.Context, a Attacker) (string, error)
	// AttackerByUUID returns the attacker, or ErrNotFound.
	AttackerByUUID(ctx context.Context, uuid string) (Attacker, error)
	// Attackers returns a page of the attackers that match, in q.Sort order.
	Attackers(ctx context.Context, q AttackerQuery) ([]Attacker, error)
	// CountAttackers counts the attackers that match.
	CountAttackers(ctx context.Context, f AttackerFilter) (int64, error)
	// AttackerCommands returns a page of the attacker's commands, in the
	// order they were stored, filtered by service when it is not empty;
	// ErrNotFound for an unknown uuid.
	AttackerCommands(ctx context.Context, uuid, service string, limit, offset int) (CommandPage, error)
	// UpsertAttackerBehavior inserts or replaces the behavior of the
	// attacker uuid and sets its UpdatedAt; ErrNotFound for an unknown
	// attacker.
	UpsertAttackerBehavior(ctx context.Context, uuid string, b Behavior) error
	// AttackerBehavior returns the behavior of the attacker, or ErrNotFound.
	AttackerBehavior(ctx context.Context, uuid string) (Behavior, error)
	// BehaviorsByIP returns the behaviors of the attackers with the given
	// IPs, by IP; IPs without a behavior are absent; nil ips means all.
	BehaviorsByIP(ctx context.Context, ips []string) (map[string]Behavior, error)
}

// Purger deletes what was observed of attackers.
type Purger interface {
	// Purge deletes every log, bounty, behavior and attacker (children
	// first) and returns the counts. Users, state and deckies stay; log ids
	// continue after the largest ever assigned.
	Purge(ctx context.Context) (PurgeResult, error)
}

// Batch is a set of rows to Import, each kept exactly as given.
type Batch struct {
	Logs      []Log
	Bounties  []Bounty
	State     map[string]json.RawMessage
	Deckies   []Decky
	Users     []User
	Attackers []Attacker
	Behaviors []Behavior
}

// Len returns the number of rows in b.
func (b Batch) Len() int {
	return len(b.Logs) + len(b.Bounties) + len(b.State) + len(b.Deckies) + len(b.Users) + len(b.Attackers) + len(b.Behaviors)
}

// Archiver restores rows exported from another repository.
type Archiver interface {
	// Import writes every row of b in one transaction, keeping ids, UUIDs,
	// hashes and timestamps as given (UpdatedAt and CreatedAt included);
	// ErrConflict when a key exists. Later AddLog calls continue after the
	// largest imported log id.
	Import(ctx context.Context, b Batch) error
}

// ResetMode says how Reset empties the database.
type ResetMode string

// The modes of Reset.
const (
	// ResetTruncate deletes every row and keeps the schema.
	ResetTruncate ResetMode = "truncate"
	// ResetDropTables drops every table of the schema.
	ResetDropTables ResetMode = "drop-tables"
)

// TableCount is the number of rows of one table of the schema.
type TableCount struct {
	Table   string
	Rows    int64
	Missing bool // the table does not exist
}

// Setting is one named setting of the backend, for diagnostics.
type Setting struct {
	Name  string
	Value string
}

// BackendInfo describes a backend for diagnostics.
type BackendInfo struct {
	Driver   string    // the registered type name
	Version  string    // the server or library version
	Settings []Setting // e.g. journal_mode for SQLite
}

// Maintainer is what an operator's tools need beyond the data itself.
type Maintainer interface {
	// Describe returns the backend's version and settings.
	Describe(ctx context.Context) (BackendInfo, error)
	// TableCounts returns the row count of every table of the schema, in
	// schema order; a table that does not exist is marked Missing.
	TableCounts(ctx context.Context) ([]TableCount, error)
	// Reset empties the database: ResetTruncate deletes every row of every
	// table (users and state included) and keeps the schema;
	// ResetDropTables drops the tables. It does not seed the admin; run
	// Initialize for that.
	Reset(ctx context.Context, mode ResetMode) error
}

// Repository is DECNET's storage contract. Every backend implements it and
// passes the conformance suite (sdk/conformance). A backend:
//
//  1. returns errors that wrap the sentinels of this package where they
//     apply (ErrNotFound, ErrConflict, ErrInvalid, ErrTooLarge, ErrClosed,
//     ErrUnavailable), so that callers match them with errors.Is;
//  2. validates input before any I/O, with the Validate methods and Page
//     of this package, and stores every value of the size limits
//     (MaxShortLen, MaxTextLen, MaxLargeLen) unchanged;
//  3. stores and returns times in UTC with at least millisecond precision,
//     and text as UTF-8 (text with invalid UTF-8 or a NUL character is
//     ErrInvalid: not every backend can store it);
//  4. honours ctx on every method that takes one;
//  5. is safe for concurrent use by many goroutines;
//  6. returns ErrClosed from every method after Close, and never returns a
//     password in an error.
//
// SQL backends get all of this by embedding SQLRepository and supplying a
// Dialect.
type Repository interface {
	Lifecycle
	LogStore
	BountyStore
	StateStore
	DeckyStore
	UserStore
	AttackerStore
	Purger
	Archiver
	Maintainer
}
