package plugin

import (
	"time"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/decnet/decnet-db/core/plugin/proto/decnetdb/v1"
	"github.com/decnet/decnet-db/core/repository"
)

// The codecs of the hot path of event ingestion, AddLogs: the host encodes
// the batch straight from []repository.Log (hostCodec) and the plugin
// decodes it without an allocation per field (codec). Both speak the
// protocol's AddLogsRequest exactly; everything else goes through gRPC's
// proto codec.

// codec is the gRPC codec of a plugin's server: gRPC's proto codec, except
// for AddLogsRequest, which it decodes without an allocation per field: it
// copies the request once, points every bytes field of every log into that
// copy, and allocates the messages of a batch together. What it decodes is what proto.Unmarshal
// would (TestDecodeAddLogsMatchesProto, FuzzDecodeAddLogs); a request it
// does not expect (an unknown field, say, from a newer host) falls back to
// proto.Unmarshal.
//
// The strings the server makes of those bytes (str) share the copy: it
// lives as long as any of them. A backend that keeps a log's strings
// after AddLogs returns keeps the whole request's copy.
type codec struct {
	encoding.CodecV2
}

func newCodec() codec { return codec{encoding.GetCodecV2("proto")} }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if req, ok := v.(*pb.AddLogsRequest); ok {
		if decodeAddLogs(data.Materialize(), req) {
			return nil
		}
		req.Reset()
	}
	return c.CodecV2.Unmarshal(data, v)
}

// The field numbers of AddLogsRequest, Log, Timestamp and Field, as in
// repository.proto (TestEncodeAddLogs and TestDecodeAddLogsMatchesProto
// fail when they drift).
const (
	fieldAddLogsLogs = 1

	fieldLogID         = 1
	fieldLogTimestamp  = 2
	fieldLogDecky      = 3
	fieldLogService    = 4
	fieldLogEventType  = 5
	fieldLogAttackerIP = 6
	fieldLogRawLine    = 7
	fieldLogFields     = 8
	fieldLogMsg        = 9
	fieldLogTraceID    = 10
	fieldLogSpanID     = 11

	fieldTimestampSeconds = 1
	fieldTimestampNanos   = 2

	fieldFieldKey   = 1
	fieldFieldValue = 2
)

// decodeAddLogs decodes buf, an AddLogsRequest on the wire, into req,
// which it owns from then on (its bytes fields point into buf). It reports
// false, leaving req in any state, when buf holds anything but the fields
// above with their wire types.
func decodeAddLogs(buf []byte, req *pb.AddLogsRequest) bool {
	// First pass: count the logs and their fields, and check the shape.
	nLogs, nFields := 0, 0
	for b := buf; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != fieldAddLogsLogs || typ != protowire.BytesType {
			return false
		}
		b = b[n:]
		m, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		f, ok := countLogFields(m)
		if !ok {
			return false
		}
		nLogs++
		nFields += f
	}
	// Second pass: fill messages allocated together.
	msgs := make([]pb.Log, nLogs)
	ptrs := make([]*pb.Log, nLogs)
	stamps := make([]timestamppb.Timestamp, nLogs)
	fields := make([]pb.Field, nFields)
	fieldPtrs := make([]*pb.Field, nFields)
	i, fi := 0, 0
	for b := buf; len(b) > 0; i++ {
		_, _, n := protowire.ConsumeTag(b)
		b = b[n:]
		m, n := protowire.ConsumeBytes(b)
		b = b[n:]
		fi = fillLogFromWire(m, &msgs[i], &stamps[i], fields, fieldPtrs, fi)
		ptrs[i] = &msgs[i]
	}
	req.Logs = ptrs
	return true
}

// countLogFields checks the shape of a Log on the wire and counts its
// Fields.
func countLogFields(m []byte) (int, bool) {
	fields := 0
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		if n < 0 {
			return 0, false
		}
		m = m[n:]
		switch {
		case num == fieldLogID && typ == protowire.VarintType:
			_, n = protowire.ConsumeVarint(m)
		case num == fieldLogTimestamp && typ == protowire.BytesType:
			var sub []byte
			sub, n = protowire.ConsumeBytes(m)
			if n >= 0 && !checkPairs(sub, fieldTimestampSeconds, fieldTimestampNanos, protowire.VarintType) {
				return 0, false
			}
		case num == fieldLogFields && typ == protowire.BytesType:
			var sub []byte
			sub, n = protowire.ConsumeBytes(m)
			if n >= 0 && !checkPairs(sub, fieldFieldKey, fieldFieldValue, protowire.BytesType) {
				return 0, false
			}
			fields++
		case num >= fieldLogDecky && num <= fieldLogSpanID && typ == protowire.BytesType:
			_, n = protowire.ConsumeBytes(m)
		default:
			return 0, false
		}
		if n < 0 {
			return 0, false
		}
		m = m[n:]
	}
	return fields, true
}

// checkPairs checks that m holds only fields a and b, of wire type typ.
func checkPairs(m []byte, a, b protowire.Number, typ protowire.Type) bool {
	for len(m) > 0 {
		num, t, n := protowire.ConsumeTag(m)
		if n < 0 || (num != a && num != b) || t != typ {
			return false
		}
		m = m[n:]
		n = protowire.ConsumeFieldValue(num, t, m)
		if n < 0 {
			return false
		}
		m = m[n:]
	}
	return true
}

// fillLogFromWire fills p from m, a Log on the wire that countLogFields
// accepted, taking its Fields from fields[fi:], and returns the next fi.
func fillLogFromWire(m []byte, p *pb.Log, stamp *timestamppb.Timestamp, fields []pb.Field, fieldPtrs []*pb.Field, fi int) int {
	first := fi
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		m = m[n:]
		if typ == protowire.VarintType { // the id
			v, n := protowire.ConsumeVarint(m)
			m = m[n:]
			p.Id = int64(v)
			continue
		}
		v, n := protowire.ConsumeBytes(m)
		m = m[n:]
		v = v[:len(v):len(v)] // appending to a field must not write into the next
		switch num {
		case fieldLogTimestamp:
			for len(v) > 0 {
				sn, _, k := protowire.ConsumeTag(v)
				v = v[k:]
				x, k := protowire.ConsumeVarint(v)
				v = v[k:]
				if sn == fieldTimestampSeconds {
					stamp.Seconds = int64(x)
				} else {
					stamp.Nanos = int32(x)
				}
			}
			p.Timestamp = stamp
		case fieldLogFields:
			f := &fields[fi]
			for len(v) > 0 {
				sn, _, k := protowire.ConsumeTag(v)
				v = v[k:]
				x, k := protowire.ConsumeBytes(v)
				v = v[k:]
				x = x[:len(x):len(x)]
				if sn == fieldFieldKey {
					f.Key = x
				} else {
					f.Value = x
				}
			}
			fieldPtrs[fi] = f
			fi++
		case fieldLogDecky:
			p.Decky = v
		case fieldLogService:
			p.Service = v
		case fieldLogEventType:
			p.EventType = v
		case fieldLogAttackerIP:
			p.AttackerIp = v
		case fieldLogRawLine:
			p.RawLine = v
		case fieldLogMsg:
			p.Msg = v
		case fieldLogTraceID:
			p.TraceId = v
		case fieldLogSpanID:
			p.SpanId = v
		}
	}
	if fi > first {
		p.Fields = fieldPtrs[first:fi:fi]
	}
	return fi
}

// addLogsWire is the AddLogsRequest the host sends: the logs as they are,
// which hostCodec encodes straight from the contract's type (the same
// message on the wire as a pb.AddLogsRequest, without building one).
type addLogsWire struct {
	logs []repository.Log
}

// hostCodec is the codec of the host's AddLogs calls: it encodes an
// *addLogsWire itself, in one allocation, and leaves every other message
// to gRPC's proto codec.
type hostCodec struct {
	encoding.CodecV2
}

func newHostCodec() hostCodec { return hostCodec{encoding.GetCodecV2("proto")} }

func (c hostCodec) Marshal(v any) (mem.BufferSlice, error) {
	if w, ok := v.(*addLogsWire); ok {
		return mem.BufferSlice{mem.SliceBuffer(encodeAddLogs(w.logs))}, nil
	}
	return c.CodecV2.Marshal(v)
}

// wireLog is a log ready to encode: its fields taken out of the map once,
// and its encoded size.
type wireLog struct {
	l      *repository.Log
	fields [][2]string
	size   int
}

// encodeAddLogs returns the AddLogsRequest of logs on the wire.
func encodeAddLogs(logs []repository.Log) []byte {
	ws := make([]wireLog, len(logs))
	var kv [][2]string // the fields of every log, in one slice
	n := 0
	for i := range logs {
		n += len(logs[i].Fields)
	}
	kv = make([][2]string, 0, n)
	total := 0
	for i := range logs {
		l := &logs[i]
		start := len(kv)
		for k, v := range l.Fields {
			kv = append(kv, [2]string{k, v})
		}
		w := &ws[i]
		w.l, w.fields = l, kv[start:len(kv):len(kv)]
		w.size = logWireSize(l, w.fields)
		total += protowire.SizeTag(fieldAddLogsLogs) + protowire.SizeBytes(w.size)
	}
	b := make([]byte, 0, total)
	for i := range ws {
		b = protowire.AppendTag(b, fieldAddLogsLogs, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(ws[i].size))
		b = appendLog(b, ws[i].l, ws[i].fields)
	}
	return b
}

func sizeText(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func appendText(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func sizeVarint(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// timestampSize returns the encoded size of the Timestamp of t, -1 for the
// zero time, which is not sent (as ts does).
func timestampSize(t time.Time) int {
	if t.IsZero() {
		return -1
	}
	return sizeVarint(fieldTimestampSeconds, uint64(t.Unix())) + sizeVarint(fieldTimestampNanos, uint64(t.Nanosecond()))
}

func logWireSize(l *repository.Log, fields [][2]string) int {
	n := sizeVarint(fieldLogID, uint64(l.ID))
	if ts := timestampSize(l.Timestamp); ts >= 0 {
		n += protowire.SizeTag(fieldLogTimestamp) + protowire.SizeBytes(ts)
	}
	n += sizeText(fieldLogDecky, l.Decky) + sizeText(fieldLogService, l.Service) + sizeText(fieldLogEventType, l.EventType) +
		sizeText(fieldLogAttackerIP, l.AttackerIP) + sizeText(fieldLogRawLine, l.RawLine) + sizeText(fieldLogMsg, l.Msg) +
		sizeText(fieldLogTraceID, l.TraceID) + sizeText(fieldLogSpanID, l.SpanID)
	for _, f := range fields {
		n += protowire.SizeTag(fieldLogFields) + protowire.SizeBytes(sizeText(fieldFieldKey, f[0])+sizeText(fieldFieldValue, f[1]))
	}
	return n
}

// appendLog appends the fields of a Log in field-number order.
func appendLog(b []byte, l *repository.Log, fields [][2]string) []byte {
	b = appendVarint(b, fieldLogID, uint64(l.ID))
	if ts := timestampSize(l.Timestamp); ts >= 0 {
		b = protowire.AppendTag(b, fieldLogTimestamp, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(ts))
		b = appendVarint(b, fieldTimestampSeconds, uint64(l.Timestamp.Unix()))
		b = appendVarint(b, fieldTimestampNanos, uint64(l.Timestamp.Nanosecond()))
	}
	b = appendText(b, fieldLogDecky, l.Decky)
	b = appendText(b, fieldLogService, l.Service)
	b = appendText(b, fieldLogEventType, l.EventType)
	b = appendText(b, fieldLogAttackerIP, l.AttackerIP)
	b = appendText(b, fieldLogRawLine, l.RawLine)
	for _, f := range fields {
		b = protowire.AppendTag(b, fieldLogFields, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeText(fieldFieldKey, f[0])+sizeText(fieldFieldValue, f[1])))
		b = appendText(b, fieldFieldKey, f[0])
		b = appendText(b, fieldFieldValue, f[1])
	}
	b = appendText(b, fieldLogMsg, l.Msg)
	b = appendText(b, fieldLogTraceID, l.TraceID)
	return appendText(b, fieldLogSpanID, l.SpanID)
}
