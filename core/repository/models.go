package repository

import (
	"encoding/json"
	"time"
)

// Log is one event ("log" in DECNET) seen on a decky.
type Log struct {
	// ID is assigned by the repository; it is ignored on insert. IDs grow
	// monotonically and never restart, not even after Purge.
	ID        int64
	Timestamp time.Time // stored in UTC with microsecond precision
	Decky     string
	Service   string
	EventType string
	// AttackerIP is the source address as the collector saw it.
	AttackerIP string
	RawLine    string
	// Fields are the structured parameters of the event; the search syntax
	// matches them with key:value tokens.
	Fields  map[string]string
	Msg     string
	TraceID string
	SpanID  string
}

// Bounty is a capture ("bounty" in DECNET): a credential, a payload, a file.
// A second bounty with the same BountyType, AttackerIP and Payload is not
// stored.
type Bounty struct {
	ID         int64
	Timestamp  time.Time
	Decky      string
	Service    string
	AttackerIP string
	BountyType string
	// Payload is a JSON value. It is stored in a canonical form (compact,
	// object keys sorted), so two payloads that differ only in formatting
	// or key order are the same bounty.
	Payload json.RawMessage
}

// Decky is the deployment metadata of one decoy host.
type Decky struct {
	Name      string // the key
	Host      string // the SWARM host running it; empty on a single host
	IP        string
	Hostname  string
	Distro    string
	Archetype string
	Services  []string
	Status    string
	// Metadata is free-form JSON (DECNET's decky config); nil when absent.
	Metadata  json.RawMessage
	UpdatedAt time.Time // set by UpsertDecky
}

// Role is a user's role.
type Role string

// The roles a user can have.
const (
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleViewer }

// User is a dashboard account.
type User struct {
	UUID         string // assigned by CreateUser when empty
	Username     string
	PasswordHash string // bcrypt; never logged
	Role         Role
	// MustChangePassword is true until the user sets their own password.
	MustChangePassword bool
	CreatedAt          time.Time
}

// Command is one command an attacker ran, kept on the attacker's profile.
type Command struct {
	Timestamp time.Time `json:"timestamp"`
	Service   string    `json:"service"`
	Decky     string    `json:"decky"`
	Command   string    `json:"command"`
}

// CommandPage is one page of an attacker's commands and the total number of
// commands that matched the service filter.
type CommandPage struct {
	Total    int
	Commands []Command
}

// Attacker is the profile of one source address, unique by IP.
type Attacker struct {
	UUID            string // assigned on first upsert, kept afterwards
	IP              string
	FirstSeen       time.Time
	LastSeen        time.Time
	EventCount      int64
	ServiceCount    int64
	DeckyCount      int64
	Services        []string
	Deckies         []string
	TraversalPath   string
	IsTraversal     bool
	BountyCount     int64
	CredentialCount int64
	// Fingerprints is a JSON value (DECNET keeps a list of objects).
	Fingerprints json.RawMessage
	Commands     []Command
	UpdatedAt    time.Time // set by UpsertAttacker
}

// Behavior is the behavioural profile of an attacker (DECNET's
// attacker_behavior row), keyed by the attacker's UUID.
type Behavior struct {
	AttackerUUID    string
	OSGuess         string
	HopDistance     *int64 // nil when unknown
	TCPFingerprint  json.RawMessage
	RetransmitCount int64
	BehaviorClass   string
	BeaconIntervalS *float64 // nil when no beacon was seen
	BeaconJitterPct *float64
	ToolGuesses     []string
	TimingStats     json.RawMessage
	PhaseSequence   json.RawMessage
	UpdatedAt       time.Time // set by UpsertAttackerBehavior
}

// Bucket is one bar of a histogram: the events with Start <= timestamp <
// Start+interval.
type Bucket struct {
	Start time.Time
	Count int64
}

// Stats are the dashboard's headline numbers.
type Stats struct {
	TotalLogs       int64
	UniqueAttackers int64 // distinct attacker IPs among the logs
	ActiveDeckies   int64 // distinct deckies among the logs
	DeployedDeckies int64 // rows of deployment metadata (UpsertDecky)
}

// PurgeResult counts the rows Purge deleted.
type PurgeResult struct {
	Logs      int64
	Bounties  int64
	Behaviors int64
	Attackers int64
}
