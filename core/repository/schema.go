package repository

import (
	"strings"
)

// Column is one column of a table of the schema.
type Column struct {
	Name     string
	Kind     ColumnKind
	Nullable bool
}

// Index is one index of a table of the schema.
type Index struct {
	Name    string
	Columns []string
	Unique  bool
}

// Table is one table of the schema.
type Table struct {
	Name       string
	Columns    []Column
	PrimaryKey []string // empty when a KindID column is the key
	Indexes    []Index
	// References is the table that rows of this one belong to: this table
	// is emptied before it.
	References string
}

// The names of the tables.
const (
	TableLogs      = "logs"
	TableBounties  = "bounties"
	TableState     = "state"
	TableDeckies   = "deckies"
	TableUsers     = "users"
	TableAttackers = "attackers"
	TableBehaviors = "attacker_behaviors"
)

// Schema is every table, parents before children. DDL is rendered from it
// through the Dialect; no backend writes its own CREATE TABLE.
var Schema = []Table{
	{
		Name: TableLogs,
		Columns: []Column{
			{"id", KindID, false},
			{"timestamp", KindTime, false},
			{"decky", KindShort, false},
			{"service", KindShort, false},
			{"event_type", KindShort, false},
			{"attacker_ip", KindShort, false},
			{"raw_line", KindText, false},
			{"fields", KindLarge, false},
			{"msg", KindText, false},
			{"trace_id", KindShort, false},
			{"span_id", KindShort, false},
		},
		Indexes: []Index{
			{Name: "ix_logs_timestamp", Columns: []string{"timestamp", "id"}},
			{Name: "ix_logs_attacker_ip", Columns: []string{"attacker_ip"}},
			{Name: "ix_logs_decky", Columns: []string{"decky"}},
			{Name: "ix_logs_service", Columns: []string{"service"}},
			{Name: "ix_logs_event_type", Columns: []string{"event_type"}},
		},
	},
	{
		Name: TableBounties,
		Columns: []Column{
			{"id", KindID, false},
			{"timestamp", KindTime, false},
			{"decky", KindShort, false},
			{"service", KindShort, false},
			{"attacker_ip", KindShort, false},
			{"bounty_type", KindShort, false},
			{"payload", KindLarge, false},
			{"payload_hash", KindShort, false},
		},
		Indexes: []Index{
			{Name: "ux_bounties_dedup", Columns: []string{"bounty_type", "attacker_ip", "payload_hash"}, Unique: true},
			{Name: "ix_bounties_timestamp", Columns: []string{"timestamp", "id"}},
			{Name: "ix_bounties_attacker_ip", Columns: []string{"attacker_ip"}},
		},
	},
	{
		Name: TableState,
		Columns: []Column{
			{"name", KindShort, false},
			{"value", KindLarge, false},
			{"updated_at", KindTime, false},
		},
		PrimaryKey: []string{"name"},
	},
	{
		Name: TableDeckies,
		Columns: []Column{
			{"name", KindShort, false},
			{"host", KindShort, false},
			{"ip", KindShort, false},
			{"hostname", KindShort, false},
			{"distro", KindShort, false},
			{"archetype", KindShort, false},
			{"services", KindLarge, false},
			{"status", KindShort, false},
			{"metadata", KindLarge, true},
			{"updated_at", KindTime, false},
		},
		PrimaryKey: []string{"name"},
	},
	{
		Name: TableUsers,
		Columns: []Column{
			{"uuid", KindShort, false},
			{"username", KindShort, false},
			{"password_hash", KindShort, false},
			{"role", KindShort, false},
			{"must_change_password", KindBool, false},
			{"created_at", KindTime, false},
		},
		PrimaryKey: []string{"uuid"},
		Indexes:    []Index{{Name: "ux_users_username", Columns: []string{"username"}, Unique: true}},
	},
	{
		Name: TableAttackers,
		Columns: []Column{
			{"uuid", KindShort, false},
			{"ip", KindShort, false},
			{"first_seen", KindTime, false},
			{"last_seen", KindTime, false},
			{"event_count", KindInt, false},
			{"service_count", KindInt, false},
			{"decky_count", KindInt, false},
			{"services", KindLarge, false},
			{"deckies", KindLarge, false},
			{"traversal_path", KindText, false},
			{"is_traversal", KindBool, false},
			{"bounty_count", KindInt, false},
			{"credential_count", KindInt, false},
			{"fingerprints", KindLarge, true},
			{"commands", KindLarge, false},
			{"updated_at", KindTime, false},
		},
		PrimaryKey: []string{"uuid"},
		Indexes: []Index{
			{Name: "ux_attackers_ip", Columns: []string{"ip"}, Unique: true},
			{Name: "ix_attackers_last_seen", Columns: []string{"last_seen"}},
			{Name: "ix_attackers_event_count", Columns: []string{"event_count"}},
		},
	},
	{
		Name: TableBehaviors,
		Columns: []Column{
			{"attacker_uuid", KindShort, false},
			{"os_guess", KindShort, false},
			{"hop_distance", KindInt, true},
			{"tcp_fingerprint", KindLarge, true},
			{"retransmit_count", KindInt, false},
			{"behavior_class", KindShort, false},
			{"beacon_interval_s", KindFloat, true},
			{"beacon_jitter_pct", KindFloat, true},
			{"tool_guesses", KindLarge, false},
			{"timing_stats", KindLarge, true},
			{"phase_sequence", KindLarge, true},
			{"updated_at", KindTime, false},
		},
		PrimaryKey: []string{"attacker_uuid"},
		References: TableAttackers,
	},
}

// tableByName returns the schema's table.
func tableByName(name string) Table {
	for _, t := range Schema {
		if t.Name == name {
			return t
		}
	}
	panic("repository: no table " + name)
}

// columnNames returns the names of t's columns, in order.
func (t Table) columnNames() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// insertColumns returns t's columns without the auto-increment id.
func (t Table) insertColumns() []string {
	out := make([]string, 0, len(t.Columns))
	for _, c := range t.Columns {
		if c.Kind != KindID {
			out = append(out, c.Name)
		}
	}
	return out
}

// DDL renders the statements that create the schema through d, each
// idempotent (IF NOT EXISTS).
func DDL(d Dialect) []string {
	var out []string
	for _, t := range Schema {
		out = append(out, createTable(d, t)...)
	}
	return out
}

func createTable(d Dialect, t Table) []string {
	q := d.Flavor().Quote
	defs := make([]string, 0, len(t.Columns)+len(t.Indexes)+1)
	for _, c := range t.Columns {
		def := q(c.Name) + " " + d.ColumnType(c.Kind)
		if c.Kind != KindID && !c.Nullable {
			def += " NOT NULL"
		}
		defs = append(defs, def)
	}
	if len(t.PrimaryKey) > 0 {
		defs = append(defs, "PRIMARY KEY ("+quoteAll(q, t.PrimaryKey)+")")
	}
	var after []string
	for _, ix := range t.Indexes {
		if d.IndexesInline() {
			kw := "INDEX"
			if ix.Unique {
				kw = "UNIQUE INDEX"
			}
			defs = append(defs, kw+" "+q(ix.Name)+" ("+quoteAll(q, ix.Columns)+")")
			continue
		}
		kw := "CREATE INDEX IF NOT EXISTS "
		if ix.Unique {
			kw = "CREATE UNIQUE INDEX IF NOT EXISTS "
		}
		after = append(after, kw+q(ix.Name)+" ON "+q(t.Name)+" ("+quoteAll(q, ix.Columns)+")")
	}
	create := "CREATE TABLE IF NOT EXISTS " + q(t.Name) + " (\n  " + strings.Join(defs, ",\n  ") + "\n)" + d.TableOptions()
	return append([]string{create}, after...)
}

func quoteAll(q func(string) string, names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = q(n)
	}
	return strings.Join(out, ", ")
}
