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
// the batch straight from []repository.Log into a pooled buffer
// (hostCodec), and the plugin decodes it straight into []repository.Log
// (codec), without the generated messages in between on either side. Both
// speak the protocol's AddLogsRequest exactly; everything else goes
// through gRPC's proto codec.

// addLogsWire is an AddLogsRequest as the contract's type: the host
// encodes one (hostCodec) and the plugin decodes into one (codec, and the
// server's AddLogs handler, addLogsHandler), the same message on the wire
// as a pb.AddLogsRequest without building one.
type addLogsWire struct {
	logs []repository.Log
}

// codec is the gRPC codec of a plugin's server: gRPC's proto codec, except
// for *addLogsWire, which it decodes without an allocation per field: it
// copies the request once and points every string of every log into that
// copy. What it decodes is what proto.Unmarshal and logsFromPB would
// (TestDecodeAddLogsMatchesProto, FuzzDecodeAddLogs); a request it does not
// expect (an unknown field, say, from a newer host) goes through
// proto.Unmarshal.
//
// The copy lives as long as any of those strings: a backend that keeps a
// log's strings after AddLogs returns keeps the whole request's copy.
type codec struct {
	encoding.CodecV2
}

func newCodec() codec { return codec{encoding.GetCodecV2("proto")} }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	w, ok := v.(*addLogsWire)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	if logs, ok := decodeAddLogs(data.Materialize()); ok {
		w.logs = logs
		return nil
	}
	var req pb.AddLogsRequest
	if err := c.CodecV2.Unmarshal(data, &req); err != nil {
		return err
	}
	w.logs = logsFromPB(req.GetLogs())
	return nil
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

// decodeAddLogs decodes buf, an AddLogsRequest on the wire, into logs
// whose strings point into buf: the caller must never write to buf again.
// It reports false when buf holds anything but the fields above with their
// wire types.
func decodeAddLogs(buf []byte) ([]repository.Log, bool) {
	nLogs := 0
	for b := buf; len(b) > 0; nLogs++ {
		_, n := consumeLog(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
	}
	logs := make([]repository.Log, nLogs)
	for i, b := 0, buf; len(b) > 0; i++ {
		m, n := consumeLog(b)
		if !fillLogFromWire(m, &logs[i]) {
			return nil, false
		}
		b = b[n:]
	}
	return logs, true
}

// consumeLog reads one field of an AddLogsRequest from b: a Log's bytes,
// and the length of the field, negative when b does not start with one.
func consumeLog(b []byte) ([]byte, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != fieldAddLogsLogs || typ != protowire.BytesType {
		return nil, -1
	}
	m, k := protowire.ConsumeBytes(b[n:])
	if k < 0 {
		return nil, -1
	}
	return m, n + k
}

// fillLogFromWire fills l from m, a Log on the wire, as proto.Unmarshal
// and logFromPB would: a field repeated takes its last value, a Timestamp
// repeated is merged, Fields is never nil. It reports false, leaving l in
// any state, when m holds anything but a Log's fields with their wire
// types.
func fillLogFromWire(m []byte, l *repository.Log) bool {
	l.Fields = make(map[string]string)
	var secs, nanos uint64
	stamped := false
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		if n < 0 {
			return false
		}
		m = m[n:]
		if num == fieldLogID && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(m)
			if n < 0 {
				return false
			}
			m = m[n:]
			l.ID = int64(v)
			continue
		}
		if typ != protowire.BytesType || num < fieldLogTimestamp || num > fieldLogSpanID {
			return false
		}
		v, n := protowire.ConsumeBytes(m)
		if n < 0 {
			return false
		}
		m = m[n:]
		switch num {
		case fieldLogTimestamp:
			stamped = true
			for len(v) > 0 {
				sn, st, k := protowire.ConsumeTag(v)
				if k < 0 || st != protowire.VarintType || (sn != fieldTimestampSeconds && sn != fieldTimestampNanos) {
					return false
				}
				v = v[k:]
				x, k := protowire.ConsumeVarint(v)
				if k < 0 {
					return false
				}
				v = v[k:]
				if sn == fieldTimestampSeconds {
					secs = x
				} else {
					nanos = x
				}
			}
		case fieldLogFields:
			var key, value []byte
			for len(v) > 0 {
				sn, st, k := protowire.ConsumeTag(v)
				if k < 0 || st != protowire.BytesType || (sn != fieldFieldKey && sn != fieldFieldValue) {
					return false
				}
				v = v[k:]
				x, k := protowire.ConsumeBytes(v)
				if k < 0 {
					return false
				}
				v = v[k:]
				if sn == fieldFieldKey {
					key = x
				} else {
					value = x
				}
			}
			l.Fields[str(key)] = str(value)
		case fieldLogDecky:
			l.Decky = str(v)
		case fieldLogService:
			l.Service = str(v)
		case fieldLogEventType:
			l.EventType = str(v)
		case fieldLogAttackerIP:
			l.AttackerIP = str(v)
		case fieldLogRawLine:
			l.RawLine = str(v)
		case fieldLogMsg:
			l.Msg = str(v)
		case fieldLogTraceID:
			l.TraceID = str(v)
		case fieldLogSpanID:
			l.SpanID = str(v)
		}
	}
	if stamped {
		l.Timestamp = tm(&timestamppb.Timestamp{Seconds: int64(secs), Nanos: int32(nanos)})
	}
	return true
}

// hostCodec is the codec of the host's AddLogs calls: it encodes an
// *addLogsWire itself, into a buffer of gRPC's pool, and leaves every
// other message to gRPC's proto codec.
type hostCodec struct {
	encoding.CodecV2
}

func newHostCodec() hostCodec { return hostCodec{encoding.GetCodecV2("proto")} }

func (c hostCodec) Marshal(v any) (mem.BufferSlice, error) {
	if w, ok := v.(*addLogsWire); ok {
		return mem.BufferSlice{encodeAddLogs(w.logs, mem.DefaultBufferPool())}, nil
	}
	return c.CodecV2.Marshal(v)
}

// encodeAddLogs returns the AddLogsRequest of logs on the wire, in a
// buffer of pool (nil: a new one) that goes back to the pool when freed,
// as gRPC does once it has sent it: a batch is hundreds of kilobytes, and
// a new buffer each time costs more in page faults than the encoding.
func encodeAddLogs(logs []repository.Log, pool mem.BufferPool) mem.Buffer {
	sizes := make([]int, len(logs))
	total := 0
	for i := range logs {
		sizes[i] = logWireSize(&logs[i])
		total += protowire.SizeTag(fieldAddLogsLogs) + protowire.SizeBytes(sizes[i])
	}
	var buf *[]byte
	if pool == nil || mem.IsBelowBufferPoolingThreshold(total) {
		b := make([]byte, 0, total)
		buf = &b
	} else {
		buf = pool.Get(total)
	}
	b := (*buf)[:0]
	for i := range logs {
		b = protowire.AppendTag(b, fieldAddLogsLogs, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizes[i]))
		b = appendLog(b, &logs[i])
	}
	*buf = b
	return mem.NewBuffer(buf, pool)
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
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
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

// logWireSize returns the encoded size of l, a Log.
func logWireSize(l *repository.Log) int {
	n := sizeVarint(fieldLogID, uint64(l.ID))
	if ts := timestampSize(l.Timestamp); ts >= 0 {
		n += protowire.SizeTag(fieldLogTimestamp) + protowire.SizeBytes(ts)
	}
	n += sizeText(fieldLogDecky, l.Decky) + sizeText(fieldLogService, l.Service) + sizeText(fieldLogEventType, l.EventType) +
		sizeText(fieldLogAttackerIP, l.AttackerIP) + sizeText(fieldLogRawLine, l.RawLine) + sizeText(fieldLogMsg, l.Msg) +
		sizeText(fieldLogTraceID, l.TraceID) + sizeText(fieldLogSpanID, l.SpanID)
	for k, v := range l.Fields {
		n += protowire.SizeTag(fieldLogFields) + protowire.SizeBytes(fieldWireSize(k, v))
	}
	return n
}

// fieldWireSize returns the encoded size of the Field of k and v.
func fieldWireSize(k, v string) int { return sizeText(fieldFieldKey, k) + sizeText(fieldFieldValue, v) }

// appendLog appends l, a Log, its fields in field-number order (the
// entries of Fields in the map's order).
func appendLog(b []byte, l *repository.Log) []byte {
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
	for k, v := range l.Fields {
		b = protowire.AppendTag(b, fieldLogFields, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(fieldWireSize(k, v)))
		b = appendText(b, fieldFieldKey, k)
		b = appendText(b, fieldFieldValue, v)
	}
	b = appendText(b, fieldLogMsg, l.Msg)
	b = appendText(b, fieldLogTraceID, l.TraceID)
	return appendText(b, fieldLogSpanID, l.SpanID)
}
