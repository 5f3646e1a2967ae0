package plugin

import (
	"encoding/json"
	"time"
	"unsafe"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet-db/core/config"
	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
	"github.com/decnet/decnet-db/core/repository"
)

// Conversions between the contract's Go types and the wire. The rules are
// in the proto file: text is bytes, JSON values are optional bytes (nil vs
// empty kept), the zero time is an absent Timestamp, and empty lists and
// maps arrive as empty, non-nil values (what the SQL backends return).

// bs returns the bytes of a string for the wire without copying them: the
// slice shares the string's memory, which is fine because messages built
// for the wire are only marshalled (read), never changed.
func bs(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// str returns the string of bytes from the wire without copying them: the
// string shares the slice's memory. That is fine because the slice is one
// that proto.Unmarshal allocated for a message received (it copies what it
// decodes, and gRPC's codec relies on that to recycle its buffers), and a
// received message is read once, converted, and dropped.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// bss and strs convert lists of strings; fromPB maps any list.
func bss(ss []string) [][]byte { return fromPB(ss, bs) }

func strs(bb [][]byte) []string { return fromPB(bb, str) }

// ts returns t on the wire: exact to the nanosecond, nil for the zero time.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// tm returns the time of a Timestamp, in UTC; the zero time for nil.
func tm(p *timestamppb.Timestamp) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.AsTime()
}

// raw returns a JSON value for an optional bytes field: nil stays absent,
// empty stays present.
func raw(r json.RawMessage) []byte { return r }

// rawOf returns the JSON value of an optional bytes field: nil stays nil.
func rawOf(b []byte) json.RawMessage { return b }

// toPB converts a list for the wire with f, which gets a pointer to each
// element so as not to copy it. Empty input gives an empty, non-nil list.
func toPB[T, P any](in []T, f func(*T) P) []P {
	out := make([]P, len(in))
	for i := range in {
		out[i] = f(&in[i])
	}
	return out
}

// fromPB converts a list from the wire with f. Empty input gives an
// empty, non-nil list, as the SQL backends return.
func fromPB[P, T any](in []P, f func(P) T) []T {
	out := make([]T, len(in))
	for i, p := range in {
		out[i] = f(p)
	}
	return out
}

func configToPB(c config.Config) *pb.Config {
	return &pb.Config{
		Type:             bs(c.Type),
		Path:             bs(c.Path),
		Url:              bs(c.URL),
		Host:             bs(c.Host),
		Port:             int64(c.Port),
		Name:             bs(c.Name),
		User:             bs(c.User),
		Password:         bs(c.Password),
		PoolSize:         int64(c.PoolSize),
		MaxOverflow:      int64(c.MaxOverflow),
		PoolRecycleNanos: int64(c.PoolRecycle),
		PoolPrePing:      c.PoolPrePing,
		AdminUser:        bs(c.AdminUser),
		AdminPassword:    bs(c.AdminPassword),
		Tracing:          c.Tracing,
		File:             bs(c.File),
		BcryptCost:       int64(c.BcryptCost),
	}
}

func configFromPB(p *pb.Config) config.Config {
	c := config.Config{
		Type:          str(p.GetType()),
		Path:          str(p.GetPath()),
		URL:           str(p.GetUrl()),
		Host:          str(p.GetHost()),
		Port:          int(p.GetPort()),
		Name:          str(p.GetName()),
		User:          str(p.GetUser()),
		Password:      str(p.GetPassword()),
		PoolSize:      int(p.GetPoolSize()),
		MaxOverflow:   int(p.GetMaxOverflow()),
		PoolRecycle:   time.Duration(p.GetPoolRecycleNanos()),
		AdminUser:     str(p.GetAdminUser()),
		AdminPassword: str(p.GetAdminPassword()),
		Tracing:       p.GetTracing(),
		File:          str(p.GetFile()),
		BcryptCost:    int(p.GetBcryptCost()),
	}
	if p != nil {
		c.PoolPrePing = copyPtr(p.PoolPrePing)
	}
	return c
}

func logToPB(l *repository.Log) *pb.Log {
	p := &pb.Log{}
	n := len(l.Fields)
	fillLog(p, l, ts(l.Timestamp), make([]pb.Field, n), make([]*pb.Field, n))
	return p
}

// fillLog fills p, a new message, with l; stamp is l's timestamp, and
// fields and ptrs, of len(l.Fields) each, take l's Fields.
func fillLog(p *pb.Log, l *repository.Log, stamp *timestamppb.Timestamp, fields []pb.Field, ptrs []*pb.Field) {
	*p = pb.Log{
		Id:         l.ID,
		Timestamp:  stamp,
		Decky:      bs(l.Decky),
		Service:    bs(l.Service),
		EventType:  bs(l.EventType),
		AttackerIp: bs(l.AttackerIP),
		RawLine:    bs(l.RawLine),
		Msg:        bs(l.Msg),
		TraceId:    bs(l.TraceID),
		SpanId:     bs(l.SpanID),
	}
	if len(l.Fields) > 0 {
		i := 0
		for k, v := range l.Fields {
			fields[i].Key, fields[i].Value = bs(k), bs(v)
			ptrs[i] = &fields[i]
			i++
		}
		p.Fields = ptrs
	}
}

func logFromPB(p *pb.Log) repository.Log {
	l := repository.Log{
		ID:         p.GetId(),
		Timestamp:  tm(p.GetTimestamp()),
		Decky:      str(p.GetDecky()),
		Service:    str(p.GetService()),
		EventType:  str(p.GetEventType()),
		AttackerIP: str(p.GetAttackerIp()),
		RawLine:    str(p.GetRawLine()),
		Fields:     make(map[string]string, len(p.GetFields())),
		Msg:        str(p.GetMsg()),
		TraceID:    str(p.GetTraceId()),
		SpanID:     str(p.GetSpanId()),
	}
	for _, f := range p.GetFields() {
		l.Fields[str(f.GetKey())] = str(f.GetValue())
	}
	return l
}

// logsToPB converts a batch of logs with a few allocations for the whole
// batch: the messages, their timestamps and their Fields are allocated
// together.
func logsToPB(ls []repository.Log) []*pb.Log {
	out := make([]*pb.Log, len(ls))
	msgs := make([]pb.Log, len(ls))
	stamps := make([]timestamppb.Timestamp, len(ls))
	nFields := 0
	for i := range ls {
		nFields += len(ls[i].Fields)
	}
	fields := make([]pb.Field, nFields)
	ptrs := make([]*pb.Field, nFields)
	start := 0
	for i := range ls {
		var stamp *timestamppb.Timestamp
		if t := ls[i].Timestamp; !t.IsZero() {
			stamp = &stamps[i]
			stamp.Seconds, stamp.Nanos = t.Unix(), int32(t.Nanosecond())
		}
		// Capacity-limited: appending to one log's Fields must not write
		// into the next log's.
		end := start + len(ls[i].Fields)
		fillLog(&msgs[i], &ls[i], stamp, fields[start:end:end], ptrs[start:end:end])
		out[i] = &msgs[i]
		start = end
	}
	return out
}

func logsFromPB(ps []*pb.Log) []repository.Log { return fromPB(ps, logFromPB) }

func bountyToPB(b *repository.Bounty) *pb.Bounty {
	return &pb.Bounty{
		Id:         b.ID,
		Timestamp:  ts(b.Timestamp),
		Decky:      bs(b.Decky),
		Service:    bs(b.Service),
		AttackerIp: bs(b.AttackerIP),
		BountyType: bs(b.BountyType),
		Payload:    raw(b.Payload),
	}
}

func bountyFromPB(p *pb.Bounty) repository.Bounty {
	return repository.Bounty{
		ID:         p.GetId(),
		Timestamp:  tm(p.GetTimestamp()),
		Decky:      str(p.GetDecky()),
		Service:    str(p.GetService()),
		AttackerIP: str(p.GetAttackerIp()),
		BountyType: str(p.GetBountyType()),
		Payload:    rawOf(p.GetPayload()),
	}
}

func bountiesFromPB(ps []*pb.Bounty) []repository.Bounty { return fromPB(ps, bountyFromPB) }

func deckyToPB(d *repository.Decky) *pb.Decky {
	return &pb.Decky{
		Name:      bs(d.Name),
		Host:      bs(d.Host),
		Ip:        bs(d.IP),
		Hostname:  bs(d.Hostname),
		Distro:    bs(d.Distro),
		Archetype: bs(d.Archetype),
		Services:  bss(d.Services),
		Status:    bs(d.Status),
		Metadata:  raw(d.Metadata),
		UpdatedAt: ts(d.UpdatedAt),
	}
}

func deckyFromPB(p *pb.Decky) repository.Decky {
	return repository.Decky{
		Name:      str(p.GetName()),
		Host:      str(p.GetHost()),
		IP:        str(p.GetIp()),
		Hostname:  str(p.GetHostname()),
		Distro:    str(p.GetDistro()),
		Archetype: str(p.GetArchetype()),
		Services:  strs(p.GetServices()),
		Status:    str(p.GetStatus()),
		Metadata:  rawOf(p.GetMetadata()),
		UpdatedAt: tm(p.GetUpdatedAt()),
	}
}

func deckiesFromPB(ps []*pb.Decky) []repository.Decky { return fromPB(ps, deckyFromPB) }

func userToPB(u *repository.User) *pb.User {
	return &pb.User{
		Uuid:               bs(u.UUID),
		Username:           bs(u.Username),
		PasswordHash:       bs(u.PasswordHash),
		Role:               bs(string(u.Role)),
		MustChangePassword: u.MustChangePassword,
		CreatedAt:          ts(u.CreatedAt),
	}
}

func userFromPB(p *pb.User) repository.User {
	return repository.User{
		UUID:               str(p.GetUuid()),
		Username:           str(p.GetUsername()),
		PasswordHash:       str(p.GetPasswordHash()),
		Role:               repository.Role(str(p.GetRole())),
		MustChangePassword: p.GetMustChangePassword(),
		CreatedAt:          tm(p.GetCreatedAt()),
	}
}

func usersFromPB(ps []*pb.User) []repository.User { return fromPB(ps, userFromPB) }

func commandToPB(c *repository.Command) *pb.Command {
	return &pb.Command{Timestamp: ts(c.Timestamp), Service: bs(c.Service), Decky: bs(c.Decky), Command: bs(c.Command)}
}

func commandFromPB(p *pb.Command) repository.Command {
	return repository.Command{Timestamp: tm(p.GetTimestamp()), Service: str(p.GetService()), Decky: str(p.GetDecky()), Command: str(p.GetCommand())}
}

func commandsToPB(cs []repository.Command) []*pb.Command { return toPB(cs, commandToPB) }

func commandsFromPB(ps []*pb.Command) []repository.Command { return fromPB(ps, commandFromPB) }

func attackerToPB(a *repository.Attacker) *pb.Attacker {
	return &pb.Attacker{
		Uuid:            bs(a.UUID),
		Ip:              bs(a.IP),
		FirstSeen:       ts(a.FirstSeen),
		LastSeen:        ts(a.LastSeen),
		EventCount:      a.EventCount,
		ServiceCount:    a.ServiceCount,
		DeckyCount:      a.DeckyCount,
		Services:        bss(a.Services),
		Deckies:         bss(a.Deckies),
		TraversalPath:   bs(a.TraversalPath),
		IsTraversal:     a.IsTraversal,
		BountyCount:     a.BountyCount,
		CredentialCount: a.CredentialCount,
		Fingerprints:    raw(a.Fingerprints),
		Commands:        commandsToPB(a.Commands),
		UpdatedAt:       ts(a.UpdatedAt),
	}
}

func attackerFromPB(p *pb.Attacker) repository.Attacker {
	return repository.Attacker{
		UUID:            str(p.GetUuid()),
		IP:              str(p.GetIp()),
		FirstSeen:       tm(p.GetFirstSeen()),
		LastSeen:        tm(p.GetLastSeen()),
		EventCount:      p.GetEventCount(),
		ServiceCount:    p.GetServiceCount(),
		DeckyCount:      p.GetDeckyCount(),
		Services:        strs(p.GetServices()),
		Deckies:         strs(p.GetDeckies()),
		TraversalPath:   str(p.GetTraversalPath()),
		IsTraversal:     p.GetIsTraversal(),
		BountyCount:     p.GetBountyCount(),
		CredentialCount: p.GetCredentialCount(),
		Fingerprints:    rawOf(p.GetFingerprints()),
		Commands:        commandsFromPB(p.GetCommands()),
		UpdatedAt:       tm(p.GetUpdatedAt()),
	}
}

func attackersFromPB(ps []*pb.Attacker) []repository.Attacker { return fromPB(ps, attackerFromPB) }

func behaviorToPB(b *repository.Behavior) *pb.Behavior {
	return &pb.Behavior{
		AttackerUuid:    bs(b.AttackerUUID),
		OsGuess:         bs(b.OSGuess),
		HopDistance:     copyPtr(b.HopDistance),
		TcpFingerprint:  raw(b.TCPFingerprint),
		RetransmitCount: b.RetransmitCount,
		BehaviorClass:   bs(b.BehaviorClass),
		BeaconIntervalS: copyPtr(b.BeaconIntervalS),
		BeaconJitterPct: copyPtr(b.BeaconJitterPct),
		ToolGuesses:     bss(b.ToolGuesses),
		TimingStats:     raw(b.TimingStats),
		PhaseSequence:   raw(b.PhaseSequence),
		UpdatedAt:       ts(b.UpdatedAt),
	}
}

func behaviorFromPB(p *pb.Behavior) repository.Behavior {
	return repository.Behavior{
		AttackerUUID:    str(p.GetAttackerUuid()),
		OSGuess:         str(p.GetOsGuess()),
		HopDistance:     copyPtr(p.HopDistance),
		TCPFingerprint:  rawOf(p.GetTcpFingerprint()),
		RetransmitCount: p.GetRetransmitCount(),
		BehaviorClass:   str(p.GetBehaviorClass()),
		BeaconIntervalS: copyPtr(p.BeaconIntervalS),
		BeaconJitterPct: copyPtr(p.BeaconJitterPct),
		ToolGuesses:     strs(p.GetToolGuesses()),
		TimingStats:     rawOf(p.GetTimingStats()),
		PhaseSequence:   rawOf(p.GetPhaseSequence()),
		UpdatedAt:       tm(p.GetUpdatedAt()),
	}
}

// copyPtr copies an optional number, so that neither side aliases the
// other's.
func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func logFilterToPB(f repository.LogFilter) *pb.LogFilter {
	return &pb.LogFilter{Search: bs(f.Search), Since: ts(f.Since), Until: ts(f.Until)}
}

func logFilterFromPB(p *pb.LogFilter) repository.LogFilter {
	return repository.LogFilter{Search: str(p.GetSearch()), Since: tm(p.GetSince()), Until: tm(p.GetUntil())}
}

func bountyFilterToPB(f repository.BountyFilter) *pb.BountyFilter {
	return &pb.BountyFilter{BountyType: bs(f.BountyType), Search: bs(f.Search)}
}

func bountyFilterFromPB(p *pb.BountyFilter) repository.BountyFilter {
	return repository.BountyFilter{BountyType: str(p.GetBountyType()), Search: str(p.GetSearch())}
}

func attackerFilterToPB(f repository.AttackerFilter) *pb.AttackerFilter {
	return &pb.AttackerFilter{Search: bs(f.Search), Service: bs(f.Service)}
}

func attackerFilterFromPB(p *pb.AttackerFilter) repository.AttackerFilter {
	return repository.AttackerFilter{Search: str(p.GetSearch()), Service: str(p.GetService())}
}

func batchToPB(b repository.Batch) *pb.Batch {
	p := &pb.Batch{
		Logs:      logsToPB(b.Logs),
		Bounties:  toPB(b.Bounties, bountyToPB),
		Deckies:   toPB(b.Deckies, deckyToPB),
		Users:     toPB(b.Users, userToPB),
		Attackers: toPB(b.Attackers, attackerToPB),
		Behaviors: toPB(b.Behaviors, behaviorToPB),
	}
	for k, v := range b.State {
		p.State = append(p.State, &pb.StateEntry{Key: bs(k), Value: raw(v)})
	}
	return p
}

func batchFromPB(p *pb.Batch) repository.Batch {
	b := repository.Batch{
		Logs:      logsFromPB(p.GetLogs()),
		Bounties:  bountiesFromPB(p.GetBounties()),
		State:     make(map[string]json.RawMessage, len(p.GetState())),
		Deckies:   deckiesFromPB(p.GetDeckies()),
		Users:     usersFromPB(p.GetUsers()),
		Attackers: attackersFromPB(p.GetAttackers()),
		Behaviors: fromPB(p.GetBehaviors(), behaviorFromPB),
	}
	for _, e := range p.GetState() {
		b.State[str(e.GetKey())] = rawOf(e.GetValue())
	}
	return b
}

func bucketToPB(b *repository.Bucket) *pb.Bucket {
	return &pb.Bucket{Start: ts(b.Start), Count: b.Count}
}

func bucketFromPB(p *pb.Bucket) repository.Bucket {
	return repository.Bucket{Start: tm(p.GetStart()), Count: p.GetCount()}
}

func statsToPB(s repository.Stats) *pb.Stats {
	return &pb.Stats{TotalLogs: s.TotalLogs, UniqueAttackers: s.UniqueAttackers, ActiveDeckies: s.ActiveDeckies, DeployedDeckies: s.DeployedDeckies}
}

func statsFromPB(p *pb.Stats) repository.Stats {
	return repository.Stats{TotalLogs: p.GetTotalLogs(), UniqueAttackers: p.GetUniqueAttackers(),
		ActiveDeckies: p.GetActiveDeckies(), DeployedDeckies: p.GetDeployedDeckies()}
}

func purgeToPB(r repository.PurgeResult) *pb.PurgeResult {
	return &pb.PurgeResult{Logs: r.Logs, Bounties: r.Bounties, Behaviors: r.Behaviors, Attackers: r.Attackers}
}

func purgeFromPB(p *pb.PurgeResult) repository.PurgeResult {
	return repository.PurgeResult{Logs: p.GetLogs(), Bounties: p.GetBounties(), Behaviors: p.GetBehaviors(), Attackers: p.GetAttackers()}
}

func tableCountToPB(tc *repository.TableCount) *pb.TableCount {
	return &pb.TableCount{Table: bs(tc.Table), Rows: tc.Rows, Missing: tc.Missing}
}

func tableCountFromPB(p *pb.TableCount) repository.TableCount {
	return repository.TableCount{Table: str(p.GetTable()), Rows: p.GetRows(), Missing: p.GetMissing()}
}

func infoToPB(i repository.BackendInfo) *pb.BackendInfo {
	return &pb.BackendInfo{Driver: bs(i.Driver), Version: bs(i.Version), Settings: toPB(i.Settings, func(s *repository.Setting) *pb.Setting {
		return &pb.Setting{Name: bs(s.Name), Value: bs(s.Value)}
	})}
}

func infoFromPB(p *pb.BackendInfo) repository.BackendInfo {
	return repository.BackendInfo{Driver: str(p.GetDriver()), Version: str(p.GetVersion()), Settings: fromPB(p.GetSettings(), func(s *pb.Setting) repository.Setting {
		return repository.Setting{Name: str(s.GetName()), Value: str(s.GetValue())}
	})}
}

// ipsToPB encodes a list of IPs, keeping nil (every IP) apart from empty
// (no IP).
func ipsToPB(ips []string) (all bool, out [][]byte) {
	if ips == nil {
		return true, nil
	}
	return false, bss(ips)
}

func ipsFromPB(all bool, ips [][]byte) []string {
	if all {
		return nil
	}
	return strs(ips)
}
