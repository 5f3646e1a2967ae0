package plugin

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/prototext"
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

// TestDecodeAddLogsMatchesProto checks that the server's decoder of
// AddLogsRequest gives what proto.Unmarshal gives.
func TestDecodeAddLogsMatchesProto(t *testing.T) {
	buf, err := proto.Marshal(&pb.AddLogsRequest{Logs: logsToPB(codecLogs())})
	if err != nil {
		t.Fatal(err)
	}
	var want, got pb.AddLogsRequest
	if err := proto.Unmarshal(buf, &want); err != nil {
		t.Fatal(err)
	}
	if !decodeAddLogs(append([]byte(nil), buf...), &got) {
		t.Fatal("decodeAddLogs refused what proto.Marshal wrote")
	}
	if !proto.Equal(&want, &got) {
		t.Errorf("decodeAddLogs differs from proto.Unmarshal:\nwant %s\n got %s", prototext.Format(&want), prototext.Format(&got))
	}
	logs := logsFromPB(got.GetLogs())
	in := codecLogs()
	for i := range in {
		if in[i].Fields == nil {
			in[i].Fields = map[string]string{}
		}
	}
	if !reflect.DeepEqual(in, logs) {
		t.Errorf("round trip:\nsent     %#v\nreceived %#v", in, logs)
	}
}

// TestCodecFallsBack checks that the codec hands what its decoder does not
// expect (an unknown field) to proto.Unmarshal, which keeps it.
func TestCodecFallsBack(t *testing.T) {
	req := &pb.AddLogsRequest{Logs: logsToPB(codecLogs()[3:5])}
	buf, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	buf = append(buf, 0x7a, 0x01, 'x') // field 15, bytes, "x": unknown
	var got pb.AddLogsRequest
	if decodeAddLogs(append([]byte(nil), buf...), &got) {
		t.Fatal("decodeAddLogs accepted an unknown field")
	}
	var viaCodec pb.AddLogsRequest
	if err := newCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(buf)}, &viaCodec); err != nil {
		t.Fatal(err)
	}
	if len(viaCodec.GetLogs()) != 2 || len(viaCodec.ProtoReflect().GetUnknown()) == 0 {
		t.Errorf("codec fallback: %d logs, unknown %q", len(viaCodec.GetLogs()), viaCodec.ProtoReflect().GetUnknown())
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
		var got pb.AddLogsRequest
		if !decodeAddLogs(append([]byte(nil), buf...), &got) {
			return
		}
		var want pb.AddLogsRequest
		if err := proto.Unmarshal(buf, &want); err != nil {
			t.Fatalf("decodeAddLogs accepted what proto.Unmarshal refuses: %v", err)
		}
		if !proto.Equal(&want, &got) {
			t.Errorf("decodeAddLogs differs from proto.Unmarshal:\nwant %s\n got %s", prototext.Format(&want), prototext.Format(&got))
		}
	})
}

// TestEncodeAddLogs checks that the host's encoder writes the
// AddLogsRequest that proto.Marshal would (up to the order of the fields
// of a log, a map), and that the server's decoder takes it.
func TestEncodeAddLogs(t *testing.T) {
	in := codecLogs()
	buf := encodeAddLogs(in)
	var viaProto, viaFast pb.AddLogsRequest
	if err := proto.Unmarshal(buf, &viaProto); err != nil {
		t.Fatalf("proto.Unmarshal of the encoded batch: %v", err)
	}
	if !decodeAddLogs(append([]byte(nil), buf...), &viaFast) {
		t.Fatal("decodeAddLogs refused the encoded batch")
	}
	for i := range in {
		if in[i].Fields == nil {
			in[i].Fields = map[string]string{}
		}
	}
	for name, req := range map[string]*pb.AddLogsRequest{"proto.Unmarshal": &viaProto, "decodeAddLogs": &viaFast} {
		if got := logsFromPB(req.GetLogs()); !reflect.DeepEqual(got, in) {
			t.Errorf("%s of the encoded batch:\n got %#v\nwant %#v", name, got, in)
		}
	}
	want, err := proto.Marshal(&pb.AddLogsRequest{Logs: logsToPB(in[:3])}) // no fields: one order
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeAddLogs(in[:3]); string(got) != string(want) {
		t.Errorf("encodeAddLogs differs from proto.Marshal:\n got %x\nwant %x", got, want)
	}
	if len(encodeAddLogs(nil)) != 0 {
		t.Error("an empty batch is not empty on the wire")
	}
}
