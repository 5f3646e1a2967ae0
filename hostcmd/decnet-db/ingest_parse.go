package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/decnet/decnet-db/core/repository"
)

// The input formats of ingest.
const (
	formatJSON    = "json"
	formatRFC5424 = "rfc5424"
)

// unknownIP is the attacker IP DECNET's collector records when a syslog
// line names none.
const unknownIP = "Unknown"

// collectorLine is one line of DECNET's collector output (the .json file
// next to the collector's log file), as encoding/json decodes it.
type collectorLine struct {
	Timestamp  string            `json:"timestamp"`
	Decky      string            `json:"decky"`
	Service    string            `json:"service"`
	EventType  string            `json:"event_type"`
	AttackerIP string            `json:"attacker_ip"`
	Fields     map[string]string `json:"fields"`
	Msg        string            `json:"msg"`
	RawLine    string            `json:"raw_line"`
	TraceID    string            `json:"trace_id"`
	SpanID     string            `json:"span_id"`
}

// lenientLine is collectorLine with fields of any JSON type, for the
// rare line whose fields are not all strings.
type lenientLine struct {
	collectorLine
	Fields map[string]json.RawMessage `json:"fields"`
}

// parseCollectorJSON parses one collector JSON line. Required: timestamp,
// decky, service, event_type and attacker_ip, non-empty; fields, msg,
// raw_line, trace_id and span_id may be absent. A field value that is not
// a string is kept as its JSON text (a number, true, false; null is the
// empty string). The error says what is wrong with the line.
func parseCollectorJSON(line []byte) (repository.Log, error) {
	var c collectorLine
	err := json.Unmarshal(line, &c)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && strings.HasPrefix(te.Field, "fields") {
		c, err = parseLenient(line)
	}
	if err != nil {
		return repository.Log{}, jsonLineError(err)
	}
	return c.log()
}

// log checks the required fields and the timestamp and returns the log.
func (c collectorLine) log() (repository.Log, error) {
	for _, f := range [...]struct{ name, v string }{
		{"timestamp", c.Timestamp}, {"decky", c.Decky}, {"service", c.Service},
		{"event_type", c.EventType}, {"attacker_ip", c.AttackerIP},
	} {
		if f.v == "" {
			return repository.Log{}, fmt.Errorf("missing or empty field %q", f.name)
		}
	}
	ts, err := parseEventTime(c.Timestamp)
	if err != nil {
		return repository.Log{}, err
	}
	return repository.Log{
		Timestamp: ts, Decky: c.Decky, Service: c.Service, EventType: c.EventType, AttackerIP: c.AttackerIP,
		RawLine: c.RawLine, Fields: c.Fields, Msg: c.Msg, TraceID: c.TraceID, SpanID: c.SpanID,
	}, nil
}

// parseLenient decodes a line whose fields are not all strings.
func parseLenient(line []byte) (collectorLine, error) {
	var l lenientLine
	if err := json.Unmarshal(line, &l); err != nil {
		return collectorLine{}, err
	}
	c := l.collectorLine
	c.Fields = make(map[string]string, len(l.Fields))
	for k, raw := range l.Fields {
		var s string
		switch {
		case bytes.Equal(raw, []byte("null")):
		case len(raw) > 0 && raw[0] == '"':
			if err := json.Unmarshal(raw, &s); err != nil {
				return collectorLine{}, err
			}
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return collectorLine{}, err
			}
			s = buf.String()
		}
		c.Fields[k] = s
	}
	return c, nil
}

// jsonLineError says why a line is not a collector record.
func jsonLineError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("not JSON: %s at byte %d", se.Error(), se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("not a JSON object (a JSON %s)", te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("field %q is a JSON %s, want %s", te.Field, te.Value, jsonKind(te.Type.Kind().String()))
	}
	return fmt.Errorf("not JSON: %s", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "map":
		return "an object of strings"
	case "string":
		return "a string"
	}
	return goKind
}

// parseEventTime parses a collector timestamp: "YYYY-MM-DD HH:MM:SS" with
// an optional fraction, in UTC (what DECNET's collector writes), or RFC
// 3339 with any offset, converted to UTC. A "T" or a space may separate
// the date and the time in both forms.
func parseEventTime(s string) (time.Time, error) {
	if len(s) >= 19 && (s[10] == ' ' || s[10] == 'T') {
		zoned := strings.ContainsAny(s[19:], "Zz+-")
		var t time.Time
		var err error
		switch {
		case !zoned && s[10] == ' ':
			t, err = time.ParseInLocation("2006-01-02 15:04:05.999999999", s, time.UTC)
		case !zoned:
			t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
		case s[10] == ' ':
			t, err = time.Parse("2006-01-02 15:04:05.999999999Z07:00", s)
		default:
			t, err = time.Parse(time.RFC3339Nano, s)
		}
		if err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q: want \"YYYY-MM-DD HH:MM:SS\" (UTC) or RFC 3339", truncate(s, 40))
}

// decnetSDID is the SD-ID of DECNET's structured data (its private
// enterprise number).
const decnetSDID = "decnet@55555"

// ipFields are the parameters that name the attacker, in the order DECNET
// looks for them.
var ipFields = [...]string{"src_ip", "src", "client_ip", "remote_ip", "remote_addr", "target_ip", "ip"}

// bashCmd is the message of the SSH decky's PROMPT_COMMAND logger, which
// DECNET's collector turns into an ssh "command" event.
var bashCmd = regexp.MustCompile(`^CMD\s+uid=(\S+)\s+pwd=(\S+)\s+cmd=(.*)$`)

// parseRFC5424 parses one of DECNET's RFC 5424 syslog lines,
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [decnet@55555 k="v" ...] MSG
//
// as DECNET's collector does: the decky is the HOSTNAME, the service the
// APP-NAME, the event type the MSGID; the fields are the parameters of the
// decnet@55555 element (escapes \" \\ \] undone; other elements are
// ignored), the message is MSG without a BOM and surrounding blanks, the
// raw line is the line. The attacker IP is the first of src_ip, src,
// client_ip, remote_ip, remote_addr, target_ip and ip, else "Unknown". A
// bash "CMD uid=.. pwd=.. cmd=.." message becomes an ssh "command" event
// with the fields uid, pwd and command. Invalid UTF-8 is replaced by
// U+FFFD, as DECNET decodes it.
func parseRFC5424(line []byte) (repository.Log, error) {
	s := string(line)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	rest, ok := strings.CutPrefix(s, "<")
	if !ok {
		return repository.Log{}, errors.New("not an RFC 5424 line: no <PRI>")
	}
	end := strings.IndexByte(rest, '>')
	if end < 1 || end > 3 {
		return repository.Log{}, errors.New("not an RFC 5424 line: bad <PRI>")
	}
	if pri, err := strconv.Atoi(rest[:end]); err != nil || pri > 191 {
		return repository.Log{}, fmt.Errorf("not an RFC 5424 line: bad PRI %q", rest[:end])
	}
	rest = rest[end+1:]
	if rest, ok = strings.CutPrefix(rest, "1 "); !ok {
		return repository.Log{}, errors.New("not an RFC 5424 line: version is not 1")
	}
	var hdr [5]string // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
	names := [...]string{"TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID"}
	for i := range hdr {
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 {
			return repository.Log{}, fmt.Errorf("not an RFC 5424 line: no %s", names[i])
		}
		hdr[i], rest = rest[:sp], rest[sp+1:]
	}
	if hdr[0] == "-" {
		return repository.Log{}, errors.New("the line has no timestamp (-)")
	}
	ts, err := time.Parse(time.RFC3339Nano, hdr[0])
	if err != nil {
		return repository.Log{}, fmt.Errorf("bad timestamp %q: want RFC 3339", truncate(hdr[0], 40))
	}
	fields, rest, err := parseSD(rest)
	if err != nil {
		return repository.Log{}, err
	}
	msg := ""
	if rest != "" {
		if rest[0] != ' ' {
			return repository.Log{}, errors.New("bad structured data: no space before the message")
		}
		msg = strings.TrimSpace(strings.TrimPrefix(rest[1:], "\uFEFF"))
	}
	l := repository.Log{
		Timestamp: ts.UTC(), Decky: hdr[1], Service: hdr[2], EventType: hdr[4],
		AttackerIP: unknownIP, Fields: fields, Msg: msg, RawLine: s,
	}
	for _, k := range ipFields {
		if v, ok := fields[k]; ok {
			l.AttackerIP = v
			break
		}
	}
	if l.Service == "bash" && msg != "" {
		if m := bashCmd.FindStringSubmatch(msg); m != nil {
			l.Service, l.EventType = "ssh", "command"
			if l.Fields == nil {
				l.Fields = map[string]string{}
			}
			l.Fields["uid"], l.Fields["pwd"], l.Fields["command"] = m[1], m[2], m[3]
		}
	}
	return l, nil
}

// parseSD parses the STRUCTURED-DATA at the start of s ("-" or one or more
// [SD-ID name="value" ...] elements) and returns the parameters of
// DECNET's element and what follows the structured data.
func parseSD(s string) (map[string]string, string, error) {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return map[string]string{}, rest, nil
	}
	if s == "" || s[0] != '[' {
		return nil, "", errors.New("bad structured data: want - or [")
	}
	fields := map[string]string{}
	for len(s) > 0 && s[0] == '[' {
		s = s[1:]
		i := strings.IndexAny(s, " ]")
		if i <= 0 {
			return nil, "", errors.New("bad structured data: no SD-ID")
		}
		id := s[:i]
		s = s[i:]
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
			eq := strings.IndexByte(s, '=')
			if eq <= 0 || strings.ContainsAny(s[:eq], " ]\"") {
				return nil, "", fmt.Errorf("bad structured data in [%s]: want name=\"value\"", id)
			}
			name := s[:eq]
			s = s[eq+1:]
			if s == "" || s[0] != '"' {
				return nil, "", fmt.Errorf("bad structured data in [%s]: the value of %s is not quoted", id, name)
			}
			v, n, err := sdValue(s[1:])
			if err != nil {
				return nil, "", fmt.Errorf("bad structured data in [%s]: %s: %w", id, name, err)
			}
			s = s[1+n:]
			if id == decnetSDID {
				fields[name] = v
			}
		}
		if s == "" || s[0] != ']' {
			return nil, "", fmt.Errorf("bad structured data: [%s] is not closed", id)
		}
		s = s[1:]
	}
	return fields, s, nil
}

// sdValue reads a PARAM-VALUE up to its closing quote, undoing the escapes
// \" \\ \] (a backslash before any other character is kept, as RFC 5424
// says). It returns the value and the bytes consumed, closing quote
// included.
func sdValue(s string) (string, int, error) {
	var b strings.Builder
	plain := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			if plain {
				return s[:i], i + 1, nil
			}
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == ']') {
				if plain {
					plain = false
					b.WriteString(s[:i])
				}
				b.WriteByte(s[i+1])
				i++
				continue
			}
			fallthrough
		default:
			if !plain {
				b.WriteByte(c)
			}
		}
	}
	return "", 0, errors.New("the value is not closed by a quote")
}
