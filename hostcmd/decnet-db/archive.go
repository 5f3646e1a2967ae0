package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

// The archive format of export and import, version 1.
//
// An archive is UTF-8 JSON lines (gzip-compressed when its name ends in
// .gz). Line 1 is the header:
//
//	{"format":"decnet-db-archive","version":1,"created":"2024-01-15T12:00:00Z",
//	 "source":{"driver":"sqlite","version":"SQLite 3.46.1"},
//	 "counts":{"logs":N,"bounties":N,"state":N,"deckies":N,"users":N,"attackers":N,"attacker_behaviors":N}}
//
// The header's counts are the tables' row counts when the export started.
// Then comes one record a line, {"t":TYPE,"v":{...}}, table by table in
// schema order (logs, bounties, state, deckies, users, attackers,
// attacker_behaviors; logs and bounties by id), and last the end record
//
//	{"t":"end","v":{"counts":{...}}}
//
// whose counts are the records of each table the archive holds. An
// archive without it is truncated. The two sets of counts differ only when
// the database was written during the export; import trusts the end
// record, and checks it against the records it read and, into an empty
// database, against the tables' row counts at the end.
//
// The records' shapes ("v"), every time RFC 3339 in UTC with the stored
// fraction, every JSON value of a column (a bounty's payload, a state value,
// a decky's metadata, an attacker's fingerprints, a behavior's
// tcp_fingerprint, timing_stats and phase_sequence) a JSON string holding
// the stored JSON text byte for byte, null where the column is NULL:
//
//	log       {"id","timestamp","decky","service","event_type","attacker_ip",
//	           "raw_line","fields":{string:string},"msg","trace_id","span_id"}
//	bounty    {"id","timestamp","decky","service","attacker_ip","bounty_type","payload"}
//	state     {"key","value"}
//	decky     {"name","host","ip","hostname","distro","archetype","services":[string],
//	           "status","metadata","updated_at"}
//	user      {"uuid","username","password_hash","role","must_change_password","created_at"}
//	attacker  {"uuid","ip","first_seen","last_seen","event_count","service_count",
//	           "decky_count","services":[string],"deckies":[string],"traversal_path",
//	           "is_traversal","bounty_count","credential_count","fingerprints",
//	           "commands":[{"timestamp","service","decky","command"}],"updated_at"}
//	behavior  {"attacker_uuid","os_guess","hop_distance","tcp_fingerprint",
//	           "retransmit_count","behavior_class","beacon_interval_s",
//	           "beacon_jitter_pct","tool_guesses":[string],"timing_stats",
//	           "phase_sequence","updated_at"}
//
// A reader rejects a header of another format or of a newer version, and a
// record of a type it does not know. A later version may add fields to a
// record; version 1 readers ignore unknown fields.
const (
	archiveFormat  = "decnet-db-archive"
	archiveVersion = 1
)

// The record types of an archive.
const (
	recLog      = "log"
	recBounty   = "bounty"
	recState    = "state"
	recDecky    = "decky"
	recUser     = "user"
	recAttacker = "attacker"
	recBehavior = "behavior"
	recEnd      = "end"
)

// recordTable maps each record type to its table.
var recordTable = map[string]string{
	recLog:      repository.TableLogs,
	recBounty:   repository.TableBounties,
	recState:    repository.TableState,
	recDecky:    repository.TableDeckies,
	recUser:     repository.TableUsers,
	recAttacker: repository.TableAttackers,
	recBehavior: repository.TableBehaviors,
}

// archiveHeader is line 1 of an archive.
type archiveHeader struct {
	Format  string           `json:"format"`
	Version int              `json:"version"`
	Created string           `json:"created"`
	Source  archiveSource    `json:"source"`
	Counts  map[string]int64 `json:"counts"`
}

// archiveSource names the backend an archive was exported from.
type archiveSource struct {
	Driver  string `json:"driver"`
	Version string `json:"version"`
}

// archiveEnd is the value of the end record.
type archiveEnd struct {
	Counts map[string]int64 `json:"counts"`
}

// archiveLog is a log record, and a log of the logs command's JSON.
type archiveLog struct {
	ID         int64             `json:"id"`
	Timestamp  string            `json:"timestamp"`
	Decky      string            `json:"decky"`
	Service    string            `json:"service"`
	EventType  string            `json:"event_type"`
	AttackerIP string            `json:"attacker_ip"`
	RawLine    string            `json:"raw_line"`
	Fields     map[string]string `json:"fields"`
	Msg        string            `json:"msg"`
	TraceID    string            `json:"trace_id"`
	SpanID     string            `json:"span_id"`
}

// archiveBounty is a bounty record, and a bounty of the bounties
// command's JSON.
type archiveBounty struct {
	ID         int64  `json:"id"`
	Timestamp  string `json:"timestamp"`
	Decky      string `json:"decky"`
	Service    string `json:"service"`
	AttackerIP string `json:"attacker_ip"`
	BountyType string `json:"bounty_type"`
	Payload    string `json:"payload"`
}

// archiveState is a state record.
type archiveState struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// archiveDecky is a decky record.
type archiveDecky struct {
	Name      string   `json:"name"`
	Host      string   `json:"host"`
	IP        string   `json:"ip"`
	Hostname  string   `json:"hostname"`
	Distro    string   `json:"distro"`
	Archetype string   `json:"archetype"`
	Services  []string `json:"services"`
	Status    string   `json:"status"`
	Metadata  *string  `json:"metadata"`
	UpdatedAt string   `json:"updated_at"`
}

// archiveUser is a user record.
type archiveUser struct {
	UUID               string `json:"uuid"`
	Username           string `json:"username"`
	PasswordHash       string `json:"password_hash"`
	Role               string `json:"role"`
	MustChangePassword bool   `json:"must_change_password"`
	CreatedAt          string `json:"created_at"`
}

// archiveCommand is one command of an attacker record.
type archiveCommand struct {
	Timestamp string `json:"timestamp"`
	Service   string `json:"service"`
	Decky     string `json:"decky"`
	Command   string `json:"command"`
}

// archiveAttacker is an attacker record.
type archiveAttacker struct {
	UUID            string           `json:"uuid"`
	IP              string           `json:"ip"`
	FirstSeen       string           `json:"first_seen"`
	LastSeen        string           `json:"last_seen"`
	EventCount      int64            `json:"event_count"`
	ServiceCount    int64            `json:"service_count"`
	DeckyCount      int64            `json:"decky_count"`
	Services        []string         `json:"services"`
	Deckies         []string         `json:"deckies"`
	TraversalPath   string           `json:"traversal_path"`
	IsTraversal     bool             `json:"is_traversal"`
	BountyCount     int64            `json:"bounty_count"`
	CredentialCount int64            `json:"credential_count"`
	Fingerprints    *string          `json:"fingerprints"`
	Commands        []archiveCommand `json:"commands"`
	UpdatedAt       string           `json:"updated_at"`
}

// archiveBehavior is a behavior record.
type archiveBehavior struct {
	AttackerUUID    string   `json:"attacker_uuid"`
	OSGuess         string   `json:"os_guess"`
	HopDistance     *int64   `json:"hop_distance"`
	TCPFingerprint  *string  `json:"tcp_fingerprint"`
	RetransmitCount int64    `json:"retransmit_count"`
	BehaviorClass   string   `json:"behavior_class"`
	BeaconIntervalS *float64 `json:"beacon_interval_s"`
	BeaconJitterPct *float64 `json:"beacon_jitter_pct"`
	ToolGuesses     []string `json:"tool_guesses"`
	TimingStats     *string  `json:"timing_stats"`
	PhaseSequence   *string  `json:"phase_sequence"`
	UpdatedAt       string   `json:"updated_at"`
}

// rawText returns the JSON text of a nullable JSON column: nil for NULL.
func rawText(v json.RawMessage) *string {
	if v == nil {
		return nil
	}
	s := string(v)
	return &s
}

// textRaw is the inverse of rawText.
func textRaw(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

// orEmpty returns v, or an empty slice for nil, so that JSON has [].
func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func toArchiveLog(l repository.Log) archiveLog {
	f := l.Fields
	if f == nil {
		f = map[string]string{}
	}
	return archiveLog{ID: l.ID, Timestamp: jsonTime(l.Timestamp), Decky: l.Decky, Service: l.Service,
		EventType: l.EventType, AttackerIP: l.AttackerIP, RawLine: l.RawLine, Fields: f, Msg: l.Msg,
		TraceID: l.TraceID, SpanID: l.SpanID}
}

func toArchiveBounty(b repository.Bounty) archiveBounty {
	return archiveBounty{ID: b.ID, Timestamp: jsonTime(b.Timestamp), Decky: b.Decky, Service: b.Service,
		AttackerIP: b.AttackerIP, BountyType: b.BountyType, Payload: string(b.Payload)}
}

func toArchiveDecky(d repository.Decky) archiveDecky {
	return archiveDecky{Name: d.Name, Host: d.Host, IP: d.IP, Hostname: d.Hostname, Distro: d.Distro,
		Archetype: d.Archetype, Services: orEmpty(d.Services), Status: d.Status, Metadata: rawText(d.Metadata),
		UpdatedAt: jsonTime(d.UpdatedAt)}
}

func toArchiveUser(u repository.User) archiveUser {
	return archiveUser{UUID: u.UUID, Username: u.Username, PasswordHash: u.PasswordHash, Role: string(u.Role),
		MustChangePassword: u.MustChangePassword, CreatedAt: jsonTime(u.CreatedAt)}
}

func toArchiveAttacker(a repository.Attacker) archiveAttacker {
	cmds := make([]archiveCommand, len(a.Commands))
	for i, c := range a.Commands {
		cmds[i] = archiveCommand{Timestamp: jsonTime(c.Timestamp), Service: c.Service, Decky: c.Decky, Command: c.Command}
	}
	return archiveAttacker{UUID: a.UUID, IP: a.IP, FirstSeen: jsonTime(a.FirstSeen), LastSeen: jsonTime(a.LastSeen),
		EventCount: a.EventCount, ServiceCount: a.ServiceCount, DeckyCount: a.DeckyCount,
		Services: orEmpty(a.Services), Deckies: orEmpty(a.Deckies), TraversalPath: a.TraversalPath,
		IsTraversal: a.IsTraversal, BountyCount: a.BountyCount, CredentialCount: a.CredentialCount,
		Fingerprints: rawText(a.Fingerprints), Commands: cmds, UpdatedAt: jsonTime(a.UpdatedAt)}
}

func toArchiveBehavior(b repository.Behavior) archiveBehavior {
	return archiveBehavior{AttackerUUID: b.AttackerUUID, OSGuess: b.OSGuess, HopDistance: b.HopDistance,
		TCPFingerprint: rawText(b.TCPFingerprint), RetransmitCount: b.RetransmitCount, BehaviorClass: b.BehaviorClass,
		BeaconIntervalS: b.BeaconIntervalS, BeaconJitterPct: b.BeaconJitterPct, ToolGuesses: orEmpty(b.ToolGuesses),
		TimingStats: rawText(b.TimingStats), PhaseSequence: rawText(b.PhaseSequence), UpdatedAt: jsonTime(b.UpdatedAt)}
}

// parseArchiveTime parses a time of a record; field names it in errors.
func parseArchiveTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time", field, s)
	}
	return t.UTC(), nil
}

func (r archiveLog) model() (repository.Log, error) {
	ts, err := parseArchiveTime("timestamp", r.Timestamp)
	return repository.Log{ID: r.ID, Timestamp: ts, Decky: r.Decky, Service: r.Service, EventType: r.EventType,
		AttackerIP: r.AttackerIP, RawLine: r.RawLine, Fields: r.Fields, Msg: r.Msg, TraceID: r.TraceID,
		SpanID: r.SpanID}, err
}

func (r archiveBounty) model() (repository.Bounty, error) {
	ts, err := parseArchiveTime("timestamp", r.Timestamp)
	return repository.Bounty{ID: r.ID, Timestamp: ts, Decky: r.Decky, Service: r.Service, AttackerIP: r.AttackerIP,
		BountyType: r.BountyType, Payload: json.RawMessage(r.Payload)}, err
}

func (r archiveDecky) model() (repository.Decky, error) {
	ts, err := parseArchiveTime("updated_at", r.UpdatedAt)
	return repository.Decky{Name: r.Name, Host: r.Host, IP: r.IP, Hostname: r.Hostname, Distro: r.Distro,
		Archetype: r.Archetype, Services: r.Services, Status: r.Status, Metadata: textRaw(r.Metadata),
		UpdatedAt: ts}, err
}

func (r archiveUser) model() (repository.User, error) {
	ts, err := parseArchiveTime("created_at", r.CreatedAt)
	return repository.User{UUID: r.UUID, Username: r.Username, PasswordHash: r.PasswordHash,
		Role: repository.Role(r.Role), MustChangePassword: r.MustChangePassword, CreatedAt: ts}, err
}

func (r archiveAttacker) model() (repository.Attacker, error) {
	first, err1 := parseArchiveTime("first_seen", r.FirstSeen)
	last, err2 := parseArchiveTime("last_seen", r.LastSeen)
	upd, err3 := parseArchiveTime("updated_at", r.UpdatedAt)
	var cmds []repository.Command
	var errs []error
	if len(r.Commands) > 0 {
		cmds = make([]repository.Command, len(r.Commands))
		for i, c := range r.Commands {
			ts, err := parseArchiveTime(fmt.Sprintf("commands[%d].timestamp", i), c.Timestamp)
			errs = append(errs, err)
			cmds[i] = repository.Command{Timestamp: ts, Service: c.Service, Decky: c.Decky, Command: c.Command}
		}
	}
	return repository.Attacker{UUID: r.UUID, IP: r.IP, FirstSeen: first, LastSeen: last, EventCount: r.EventCount,
		ServiceCount: r.ServiceCount, DeckyCount: r.DeckyCount, Services: r.Services, Deckies: r.Deckies,
		TraversalPath: r.TraversalPath, IsTraversal: r.IsTraversal, BountyCount: r.BountyCount,
		CredentialCount: r.CredentialCount, Fingerprints: textRaw(r.Fingerprints), Commands: cmds,
		UpdatedAt: upd}, errors.Join(append([]error{err1, err2, err3}, errs...)...)
}

func (r archiveBehavior) model() (repository.Behavior, error) {
	ts, err := parseArchiveTime("updated_at", r.UpdatedAt)
	return repository.Behavior{AttackerUUID: r.AttackerUUID, OSGuess: r.OSGuess, HopDistance: r.HopDistance,
		TCPFingerprint: textRaw(r.TCPFingerprint), RetransmitCount: r.RetransmitCount,
		BehaviorClass: r.BehaviorClass, BeaconIntervalS: r.BeaconIntervalS, BeaconJitterPct: r.BeaconJitterPct,
		ToolGuesses: r.ToolGuesses, TimingStats: textRaw(r.TimingStats), PhaseSequence: textRaw(r.PhaseSequence),
		UpdatedAt: ts}, err
}

// archiveWriter writes the records of an archive, one a line.
type archiveWriter struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
}

func newArchiveWriter(w io.Writer) *archiveWriter {
	aw := &archiveWriter{w: bufio.NewWriterSize(w, 1<<20)}
	aw.enc = json.NewEncoder(&aw.buf)
	aw.enc.SetEscapeHTML(false)
	return aw
}

// header writes line 1.
func (aw *archiveWriter) header(h archiveHeader) error {
	aw.buf.Reset()
	if err := aw.enc.Encode(h); err != nil {
		return err
	}
	_, err := aw.w.Write(aw.buf.Bytes())
	return err
}

// record writes one {"t":typ,"v":v} line.
func (aw *archiveWriter) record(typ string, v any) error {
	aw.buf.Reset()
	aw.buf.WriteString(`{"t":"` + typ + `","v":`)
	if err := aw.enc.Encode(v); err != nil { // ends with "\n"
		return err
	}
	aw.buf.Truncate(aw.buf.Len() - 1)
	aw.buf.WriteString("}\n")
	_, err := aw.w.Write(aw.buf.Bytes())
	return err
}

// Flush writes what is buffered.
func (aw *archiveWriter) Flush() error { return aw.w.Flush() }

// archiveReader reads the lines of an archive.
type archiveReader struct {
	r    *bufio.Reader
	line int64
	long []byte
}

func newArchiveReader(r io.Reader) *archiveReader {
	return &archiveReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// maxArchiveLine bounds a line: a record holds at most a few columns of
// repository.MaxLargeLen bytes, JSON-escaped.
const maxArchiveLine = 256 << 20

// next returns the next line without its newline, valid until the next
// call; io.EOF at the end.
func (ar *archiveReader) next() ([]byte, error) {
	ar.long = ar.long[:0]
	for {
		chunk, err := ar.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(ar.long)+len(chunk) > maxArchiveLine {
				return nil, fmt.Errorf("line %d is longer than %d MiB", ar.line+1, maxArchiveLine>>20)
			}
			ar.long = append(ar.long, chunk...)
			continue
		}
		if len(chunk) == 0 && err != nil {
			if len(ar.long) > 0 {
				ar.line++
				return ar.long, nil
			}
			return nil, err
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		ar.line++
		line := chunk
		if len(ar.long) > 0 {
			ar.long = append(ar.long, chunk...)
			line = ar.long
		}
		return trimEOL(line), nil
	}
}

// header reads and checks line 1.
func (ar *archiveReader) header() (archiveHeader, error) {
	line, err := ar.next()
	if errors.Is(err, io.EOF) {
		return archiveHeader{}, errors.New("the archive is empty")
	}
	if err != nil {
		return archiveHeader{}, err
	}
	var h archiveHeader
	if err := json.Unmarshal(line, &h); err != nil || h.Format != archiveFormat {
		return archiveHeader{}, fmt.Errorf("not a decnet-db archive: line 1 is not a %q header", archiveFormat)
	}
	if h.Version > archiveVersion {
		return archiveHeader{}, fmt.Errorf("the archive is of format version %d, newer than this decnet-db reads (%d): import it with a newer decnet-db", h.Version, archiveVersion)
	}
	if h.Version < 1 {
		return archiveHeader{}, fmt.Errorf("the archive's format version %d is not valid", h.Version)
	}
	return h, nil
}

// envelope is a record line before its value is decoded.
type envelope struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v"`
}

// splitRecord returns the type and the value of a record line. Lines
// written by archiveWriter are split without decoding the value twice.
func splitRecord(line []byte) (string, []byte, error) {
	if bytes.HasPrefix(line, []byte(`{"t":"`)) {
		rest := line[len(`{"t":"`):]
		if i := bytes.IndexByte(rest, '"'); i > 0 && bytes.HasPrefix(rest[i:], []byte(`","v":`)) && bytes.HasSuffix(rest, []byte("}")) {
			return string(rest[:i]), rest[i+len(`","v":`) : len(rest)-1], nil
		}
	}
	var e envelope
	if err := json.Unmarshal(line, &e); err != nil {
		return "", nil, fmt.Errorf("not a record: %w", err)
	}
	if e.T == "" || len(e.V) == 0 {
		return "", nil, errors.New(`not a record: want {"t":TYPE,"v":VALUE}`)
	}
	return e.T, e.V, nil
}

// fmtCounts formats counts by table in schema order: "logs 10, bounties 2, ...".
func fmtCounts(counts map[string]int64) string {
	var parts []string
	for _, t := range repository.Schema {
		parts = append(parts, fmt.Sprintf("%s %d", t.Name, counts[t.Name]))
	}
	return strings.Join(parts, ", ")
}

// diffCounts describes the tables whose counts differ, naming each side
// ("logs: 40 at the start, 41 exported"), or returns "" when none do.
func diffCounts(a, b map[string]int64, aName, bName string) string {
	var parts []string
	for _, t := range repository.Schema {
		if a[t.Name] != b[t.Name] {
			parts = append(parts, fmt.Sprintf("%s: %d %s, %d %s", t.Name, a[t.Name], aName, b[t.Name], bName))
		}
	}
	return strings.Join(parts, "; ")
}
