package plugin

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
	"github.com/decnet/decnet-db/core/repository"
)

// wire marshals and unmarshals m, as the transport does.
func wire[M proto.Message](t *testing.T, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	out := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

var (
	t0  = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	bad = "bad\xff\xfe utf-8 and a NUL \x00"
)

// TestConvertRoundTrip sends every model over the wire and back: every
// field, invalid UTF-8 and NUL included, times to the nanosecond and in
// UTC, JSON nil apart from empty, optional numbers nil apart from zero.
func TestConvertRoundTrip(t *testing.T) {
	local := time.FixedZone("X", 3600)
	t.Run("log", func(t *testing.T) {
		in := repository.Log{ID: 7, Timestamp: t0.In(local), Decky: bad, Service: "ssh", EventType: "e", AttackerIP: "::1",
			RawLine: "raw", Fields: map[string]string{bad: bad, "k": ""}, Msg: "m", TraceID: "t", SpanID: "s"}
		out := logFromPB(wire(t, logToPB(&in)))
		in.Timestamp = t0
		if !reflect.DeepEqual(out, in) {
			t.Errorf("got %#v\nwant %#v", out, in)
		}
		zero := logFromPB(wire(t, logToPB(&repository.Log{})))
		if !reflect.DeepEqual(zero, repository.Log{Fields: map[string]string{}}) {
			t.Errorf("zero log: %#v", zero)
		}
	})
	t.Run("bounty", func(t *testing.T) {
		for _, payload := range []json.RawMessage{nil, {}, json.RawMessage(`{"a":1}`)} {
			in := repository.Bounty{ID: 1, Timestamp: t0, Decky: "d", Service: "s", AttackerIP: "ip", BountyType: "credential", Payload: payload}
			out := bountyFromPB(wire(t, bountyToPB(&in)))
			if !reflect.DeepEqual(out, in) {
				t.Errorf("got %#v\nwant %#v", out, in)
			}
		}
	})
	t.Run("decky", func(t *testing.T) {
		in := repository.Decky{Name: "n", Host: "h", IP: "i", Hostname: "hn", Distro: "d", Archetype: "a",
			Services: []string{"ssh", bad, ""}, Status: "up", Metadata: json.RawMessage(`[]`), UpdatedAt: t0}
		out := deckyFromPB(wire(t, deckyToPB(&in)))
		if !reflect.DeepEqual(out, in) {
			t.Errorf("got %#v\nwant %#v", out, in)
		}
	})
	t.Run("user", func(t *testing.T) {
		in := repository.User{UUID: "u", Username: bad, PasswordHash: "$2a$", Role: repository.RoleViewer, MustChangePassword: true, CreatedAt: t0}
		out := userFromPB(wire(t, userToPB(&in)))
		if !reflect.DeepEqual(out, in) {
			t.Errorf("got %#v\nwant %#v", out, in)
		}
	})
	t.Run("attacker", func(t *testing.T) {
		in := repository.Attacker{UUID: "u", IP: "1.2.3.4", FirstSeen: t0, LastSeen: t0.Add(time.Hour), EventCount: 1, ServiceCount: 2,
			DeckyCount: 3, Services: []string{"a"}, Deckies: []string{"b", "c"}, TraversalPath: "a>b", IsTraversal: true,
			BountyCount: 4, CredentialCount: 5, Fingerprints: json.RawMessage(`[{"x":1}]`),
			Commands: []repository.Command{{Timestamp: t0, Service: "ssh", Decky: "d", Command: bad}}, UpdatedAt: t0}
		out := attackerFromPB(wire(t, attackerToPB(&in)))
		if !reflect.DeepEqual(out, in) {
			t.Errorf("got %#v\nwant %#v", out, in)
		}
	})
	t.Run("behavior", func(t *testing.T) {
		for _, in := range []repository.Behavior{
			{AttackerUUID: "u", OSGuess: "linux", HopDistance: ptr(int64(0)), TCPFingerprint: json.RawMessage(`{}`), RetransmitCount: 3,
				BehaviorClass: "c", BeaconIntervalS: ptr(0.0), BeaconJitterPct: ptr(12.5), ToolGuesses: []string{"nmap"},
				TimingStats: json.RawMessage{}, PhaseSequence: json.RawMessage(`["a"]`), UpdatedAt: t0},
			{AttackerUUID: "u", ToolGuesses: []string{}},
		} {
			out := behaviorFromPB(wire(t, behaviorToPB(&in)))
			if !reflect.DeepEqual(out, in) {
				t.Errorf("got %#v\nwant %#v", out, in)
			}
		}
	})
	t.Run("batch", func(t *testing.T) {
		in := repository.Batch{
			Logs:      []repository.Log{{ID: 1, Timestamp: t0, Fields: map[string]string{}}},
			Bounties:  []repository.Bounty{{ID: 2, Timestamp: t0, BountyType: "x", Payload: json.RawMessage(`1`)}},
			State:     map[string]json.RawMessage{"a": json.RawMessage(`1`), bad: json.RawMessage(`"x"`)},
			Deckies:   []repository.Decky{{Name: "d", Services: []string{}}},
			Users:     []repository.User{{UUID: "u", Username: "n"}},
			Attackers: []repository.Attacker{{UUID: "a", IP: "i", Services: []string{}, Deckies: []string{}, Commands: []repository.Command{}}},
			Behaviors: []repository.Behavior{{AttackerUUID: "a", ToolGuesses: []string{}}},
		}
		out := batchFromPB(wire(t, batchToPB(in)))
		if !reflect.DeepEqual(out, in) {
			t.Errorf("got %#v\nwant %#v", out, in)
		}
	})
	t.Run("filters_and_info", func(t *testing.T) {
		f := repository.LogFilter{Search: bad, Since: t0, Until: t0.Add(time.Nanosecond)}
		if out := logFilterFromPB(wire(t, logFilterToPB(f))); out != f {
			t.Errorf("log filter: got %#v, want %#v", out, f)
		}
		bf := repository.BountyFilter{BountyType: "t", Search: bad}
		if out := bountyFilterFromPB(wire(t, bountyFilterToPB(bf))); out != bf {
			t.Errorf("bounty filter: got %#v, want %#v", out, bf)
		}
		af := repository.AttackerFilter{Search: "1.", Service: bad}
		if out := attackerFilterFromPB(wire(t, attackerFilterToPB(af))); out != af {
			t.Errorf("attacker filter: got %#v, want %#v", out, af)
		}
		info := repository.BackendInfo{Driver: "d", Version: "v", Settings: []repository.Setting{{Name: "a", Value: bad}}}
		if out := infoFromPB(wire(t, infoToPB(info))); !reflect.DeepEqual(out, info) {
			t.Errorf("backend info: got %#v, want %#v", out, info)
		}
	})
	t.Run("results", func(t *testing.T) {
		b := repository.Bucket{Start: t0, Count: 7}
		if out := bucketFromPB(wire(t, bucketToPB(&b))); out != b {
			t.Errorf("bucket: got %#v, want %#v", out, b)
		}
		st := repository.Stats{TotalLogs: 1, UniqueAttackers: 2, ActiveDeckies: 3, DeployedDeckies: 4}
		if out := statsFromPB(wire(t, statsToPB(st))); out != st {
			t.Errorf("stats: got %#v, want %#v", out, st)
		}
		pr := repository.PurgeResult{Logs: 1, Bounties: 2, Behaviors: 3, Attackers: 4}
		if out := purgeFromPB(wire(t, purgeToPB(pr))); out != pr {
			t.Errorf("purge result: got %#v, want %#v", out, pr)
		}
		tc := repository.TableCount{Table: bad, Rows: 5, Missing: true}
		if out := tableCountFromPB(wire(t, tableCountToPB(&tc))); out != tc {
			t.Errorf("table count: got %#v, want %#v", out, tc)
		}
	})
	t.Run("ips", func(t *testing.T) {
		for _, ips := range [][]string{nil, {}, {"1.1.1.1", bad}} {
			all, list := ipsToPB(ips)
			req := wire(t, &pb.BountiesByIPRequest{All: all, Ips: list})
			out := ipsFromPB(req.GetAll(), req.GetIps())
			if (out == nil) != (ips == nil) || !slices.Equal(out, ips) {
				t.Errorf("ips %#v came back as %#v", ips, out)
			}
		}
	})
}

// TestTimeEdges checks times the contract rejects: they must reach the
// backend unchanged so that it can say so.
func TestTimeEdges(t *testing.T) {
	for _, in := range []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1924, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(99999, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		p := &pb.Log{Timestamp: ts(in)}
		if out := tm(wire(t, p).GetTimestamp()); !out.Equal(in) || out.Location() != time.UTC {
			t.Errorf("%v came back as %v", in, out)
		}
	}
}
