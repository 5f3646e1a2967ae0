package plugin

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
	"github.com/decnet/decnet-db/core/repository"
)

// codecLogs are logs with every field set, and with none.
func codecLogs() []repository.Log {
	logs := []repository.Log{
		{},
		{ID: -1, Timestamp: time.Unix(-62135596800, 1).UTC()},
		{ID: math.MaxInt64, Timestamp: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for i := range 20 {
		logs = append(logs, repository.Log{
			ID: int64(i), Timestamp: time.Date(2025, 3, 3, 0, 0, i, i*1000, time.UTC),
			Decky: "decky-" + fmt.Sprint(i), Service: "ssh", EventType: "login", AttackerIP: "10.0.0." + fmt.Sprint(i),
			RawLine: "raw \xff\x00 line", Fields: map[string]string{"user": "root", "": "", "bad\xff": fmt.Sprint(i)},
			Msg: "m", TraceID: "t", SpanID: "s",
		})
	}
	return logs
}

// TestServiceDecodesAddLogsIntoLogs checks that the served AddLogs handler
// is addLogsHandler, which has the codec decode into the contract's logs.
func TestServiceDecodesAddLogsIntoLogs(t *testing.T) {
	for _, m := range serviceDesc.Methods {
		if m.MethodName == "AddLogs" {
			if reflect.ValueOf(m.Handler).Pointer() != reflect.ValueOf(addLogsHandler).Pointer() {
				t.Error("the AddLogs handler served is not addLogsHandler")
			}
			return
		}
	}
	t.Error("the service has no AddLogs")
}

// withFields returns logs with nil Fields made empty, as every decoder
// returns them.
func withFields(logs []repository.Log) []repository.Log {
	for i := range logs {
		if logs[i].Fields == nil {
			logs[i].Fields = map[string]string{}
		}
	}
	return logs
}

// viaProto decodes buf with proto.Unmarshal and logsFromPB: what the
// server's decoder must give.
func viaProto(buf []byte) ([]repository.Log, error) {
	var req pb.AddLogsRequest
	if err := proto.Unmarshal(buf, &req); err != nil {
		return nil, err
	}
	return logsFromPB(req.GetLogs()), nil
}

// TestDecodeAddLogsMatchesProto checks that the server's decoder of
// AddLogsRequest gives what proto.Unmarshal and logsFromPB give, and what
// the host sent.
func TestDecodeAddLogsMatchesProto(t *testing.T) {
	buf, err := proto.Marshal(&pb.AddLogsRequest{Logs: logsToPB(codecLogs())})
	if err != nil {
		t.Fatal(err)
	}
	want, err := viaProto(buf)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := decodeAddLogs(append([]byte(nil), buf...))
	if !ok {
		t.Fatal("decodeAddLogs refused what proto.Marshal wrote")
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("decodeAddLogs differs from proto.Unmarshal:\nwant %#v\n got %#v", want, got)
	}
	if in := withFields(codecLogs()); !reflect.DeepEqual(in, got) {
		t.Errorf("round trip:\nsent     %#v\nreceived %#v", in, got)
	}
}

// TestCodecFallsBack checks that the codec hands what its decoder does not
// expect (an unknown field) to proto.Unmarshal.
func TestCodecFallsBack(t *testing.T) {
	req := &pb.AddLogsRequest{Logs: logsToPB(codecLogs()[3:5])}
	buf, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	buf = append(buf, 0x7a, 0x01, 'x') // field 15, bytes, "x": unknown
	if _, ok := decodeAddLogs(append([]byte(nil), buf...)); ok {
		t.Fatal("decodeAddLogs accepted an unknown field")
	}
	var viaCodec addLogsWire
	if err := newCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(buf)}, &viaCodec); err != nil {
		t.Fatal(err)
	}
	if want := withFields(codecLogs()[3:5]); !reflect.DeepEqual(viaCodec.logs, want) {
		t.Errorf("codec fallback:\n got %#v\nwant %#v", viaCodec.logs, want)
	}
	if err := newCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0x0a, 0x05})}, &viaCodec); err == nil {
		t.Error("codec accepted a truncated request")
	}
}

// FuzzDecodeAddLogs checks that whatever decodeAddLogs accepts,
// proto.Unmarshal accepts too and decodes the same.
func FuzzDecodeAddLogs(f *testing.F) {
	for _, logs := range [][]repository.Log{nil, codecLogs()[:1], codecLogs()[1:4], codecLogs()[5:7]} {
		buf, err := proto.Marshal(&pb.AddLogsRequest{Logs: logsToPB(logs)})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf)
	}
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, buf []byte) {
		got, ok := decodeAddLogs(append([]byte(nil), buf...))
		if !ok {
			return
		}
		want, err := viaProto(buf)
		if err != nil {
			t.Fatalf("decodeAddLogs accepted what proto.Unmarshal refuses: %v", err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("decodeAddLogs differs from proto.Unmarshal:\nwant %#v\n got %#v", want, got)
		}
	})
}

// encoded returns the host's encoding of logs.
func encoded(logs []repository.Log) []byte { return encodeAddLogs(logs, nil).ReadOnlyData() }

// TestEncodeAddLogs checks that the host's encoder writes the
// AddLogsRequest that proto.Marshal would (up to the order of the fields
// of a log, a map), that the server's decoder takes it, and that a large
// batch is encoded into a buffer of the pool it is given.
func TestEncodeAddLogs(t *testing.T) {
	in := withFields(codecLogs())
	buf := encoded(in)
	fromProto, err := viaProto(buf)
	if err != nil {
		t.Fatalf("proto.Unmarshal of the encoded batch: %v", err)
	}
	fromFast, ok := decodeAddLogs(append([]byte(nil), buf...))
	if !ok {
		t.Fatal("decodeAddLogs refused the encoded batch")
	}
	for name, got := range map[string][]repository.Log{"proto.Unmarshal": fromProto, "decodeAddLogs": fromFast} {
		if !reflect.DeepEqual(got, in) {
			t.Errorf("%s of the encoded batch:\n got %#v\nwant %#v", name, got, in)
		}
	}
	want, err := proto.Marshal(&pb.AddLogsRequest{Logs: logsToPB(in[:3])}) // no fields: one order
	if err != nil {
		t.Fatal(err)
	}
	if got := encoded(in[:3]); string(got) != string(want) {
		t.Errorf("encodeAddLogs differs from proto.Marshal:\n got %x\nwant %x", got, want)
	}
	if len(encoded(nil)) != 0 {
		t.Error("an empty batch is not empty on the wire")
	}

	pool := &countingPool{BufferPool: mem.DefaultBufferPool()}
	b := encodeAddLogs(in, pool)
	if got, ok := decodeAddLogs(append([]byte(nil), b.ReadOnlyData()...)); !ok || !reflect.DeepEqual(got, in) {
		t.Errorf("pooled encoding decodes to %#v (ok %v), want %#v", got, ok, in)
	}
	b.Free()
	if pool.gets != 1 || pool.puts != 1 {
		t.Errorf("a %d-byte batch took %d buffers from the pool and gave back %d, want 1 and 1", len(buf), pool.gets, pool.puts)
	}
}

// countingPool counts the buffers taken and given back.
type countingPool struct {
	mem.BufferPool
	gets, puts int
}

func (p *countingPool) Get(n int) *[]byte { p.gets++; return p.BufferPool.Get(n) }
func (p *countingPool) Put(b *[]byte)     { p.puts++; p.BufferPool.Put(b) }
