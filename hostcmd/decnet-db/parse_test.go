package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func TestParseEventTime(t *testing.T) {
	t.Parallel()
	utc := func(s string) time.Time {
		tt, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tt.UTC()
	}
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2024-03-02 08:00:07", want: utc("2024-03-02T08:00:07Z")},
		{in: "2024-03-02 08:00:07.123456", want: utc("2024-03-02T08:00:07.123456Z")},
		{in: "2024-03-02T08:00:07", want: utc("2024-03-02T08:00:07Z")},
		{in: "2024-03-02T08:00:07Z", want: utc("2024-03-02T08:00:07Z")},
		{in: "2024-03-02T09:00:07.5+01:00", want: utc("2024-03-02T08:00:07.5Z")},
		{in: "2024-03-02 03:00:07-05:00", want: utc("2024-03-02T08:00:07Z")},
		{in: "2024-03-02", bad: true},
		{in: "", bad: true},
		{in: "2024-03-02 25:00:00", bad: true},
		{in: "02/03/2024 08:00:07", bad: true},
		{in: "2024-03-02 08:00:07 UTC", bad: true},
	}
	for _, tt := range tests {
		got, err := parseEventTime(tt.in)
		switch {
		case tt.bad && err == nil:
			t.Errorf("parseEventTime(%q) = %v, want an error", tt.in, got)
		case !tt.bad && err != nil:
			t.Errorf("parseEventTime(%q): %v", tt.in, err)
		case !tt.bad && !got.Equal(tt.want):
			t.Errorf("parseEventTime(%q) = %v, want %v", tt.in, got, tt.want)
		case !tt.bad && got.Location() != time.UTC:
			t.Errorf("parseEventTime(%q) is in %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestParseRFC5424(t *testing.T) {
	t.Parallel()
	ts := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		line string
		want repository.Log
		err  string
	}{
		{
			name: "decnet line",
			line: `<134>1 2024-01-15T12:00:00+00:00 decky-01 http - request [decnet@55555 src_ip="203.0.113.7" path="/a b"] GET /a b`,
			want: repository.Log{Timestamp: ts, Decky: "decky-01", Service: "http", EventType: "request", AttackerIP: "203.0.113.7",
				Fields: map[string]string{"src_ip": "203.0.113.7", "path": "/a b"}, Msg: "GET /a b"},
		},
		{
			name: "escapes, and a backslash before another character kept",
			line: `<134>1 2024-01-15T12:00:00Z d s - e [decnet@55555 ua="say \"hi\" [x\] \\ \n"]`,
			want: repository.Log{Timestamp: ts, Decky: "d", Service: "s", EventType: "e", AttackerIP: unknownIP,
				Fields: map[string]string{"ua": `say "hi" [x] \ \n`}},
		},
		{
			name: "no structured data, a BOM before the message",
			line: "<13>1 2024-01-15T13:00:00+01:00 d s - e - \uFEFFhello world ",
			want: repository.Log{Timestamp: ts, Decky: "d", Service: "s", EventType: "e", AttackerIP: unknownIP,
				Fields: map[string]string{}, Msg: "hello world"},
		},
		{
			name: "other elements ignored; the IP field order",
			line: `<134>1 2024-01-15T12:00:00Z d s 42 e [meta@1 src_ip="1.1.1.1"][decnet@55555 ip="9.9.9.9" remote_addr="8.8.8.8" target_ip="7.7.7.7"]`,
			want: repository.Log{Timestamp: ts, Decky: "d", Service: "s", EventType: "e", AttackerIP: "8.8.8.8",
				Fields: map[string]string{"ip": "9.9.9.9", "remote_addr": "8.8.8.8", "target_ip": "7.7.7.7"}},
		},
		{
			name: "an empty element",
			line: `<134>1 2024-01-15T12:00:00Z d s - e [decnet@55555] m`,
			want: repository.Log{Timestamp: ts, Decky: "d", Service: "s", EventType: "e", AttackerIP: unknownIP,
				Fields: map[string]string{}, Msg: "m"},
		},
		{
			name: "bash CMD becomes an ssh command",
			line: `<134>1 2024-01-15T12:00:00Z decky-01 bash - log [decnet@55555 src_ip="203.0.113.7"] CMD uid=0 pwd=/root cmd=ls -lah /tmp`,
			want: repository.Log{Timestamp: ts, Decky: "decky-01", Service: "ssh", EventType: "command", AttackerIP: "203.0.113.7",
				Fields: map[string]string{"src_ip": "203.0.113.7", "uid": "0", "pwd": "/root", "command": "ls -lah /tmp"},
				Msg:    "CMD uid=0 pwd=/root cmd=ls -lah /tmp"},
		},
		{
			name: "invalid UTF-8 replaced",
			line: "<134>1 2024-01-15T12:00:00Z d s - e - caf\xe9",
			want: repository.Log{Timestamp: ts, Decky: "d", Service: "s", EventType: "e", AttackerIP: unknownIP,
				Fields: map[string]string{}, Msg: "caf\uFFFD"},
		},
		{name: "not syslog", line: "hello", err: "no <PRI>"},
		{name: "bad PRI", line: "<999>1 2024-01-15T12:00:00Z d s - e -", err: "bad PRI"},
		{name: "version 2", line: "<13>2 2024-01-15T12:00:00Z d s - e -", err: "version is not 1"},
		{name: "short header", line: "<13>1 2024-01-15T12:00:00Z d s", err: "no APP-NAME"},
		{name: "nil timestamp", line: "<13>1 - d s - e -", err: "no timestamp"},
		{name: "bad timestamp", line: "<13>1 yesterday d s - e -", err: `bad timestamp "yesterday"`},
		{name: "unclosed value", line: `<13>1 2024-01-15T12:00:00Z d s - e [decnet@55555 a="x]`, err: "not closed by a quote"},
		{name: "unclosed element", line: `<13>1 2024-01-15T12:00:00Z d s - e [decnet@55555 a="x"`, err: "is not closed"},
		{name: "unquoted value", line: `<13>1 2024-01-15T12:00:00Z d s - e [decnet@55555 a=x]`, err: "not quoted"},
		{name: "no space before the message", line: `<13>1 2024-01-15T12:00:00Z d s - e [decnet@55555 a="x"]msg`, err: "no space before the message"},
		{name: "garbage structured data", line: `<13>1 2024-01-15T12:00:00Z d s - e {json}`, err: "want - or ["},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRFC5424([]byte(tt.line))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.RawLine = strings.ToValidUTF8(tt.line, "\uFFFD")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseCollectorJSON(t *testing.T) {
	t.Parallel()
	got, err := parseCollectorJSON([]byte(`{"timestamp": "2024-01-15 12:00:00", "decky": "d", "service": "s", "event_type": "e", "attacker_ip": "1.2.3.4", "fields": {"a": "b"}, "msg": "m", "raw_line": "r", "trace_id": "t", "span_id": "p", "extra": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := repository.Log{Timestamp: time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC), Decky: "d", Service: "s", EventType: "e",
		AttackerIP: "1.2.3.4", Fields: map[string]string{"a": "b"}, Msg: "m", RawLine: "r", TraceID: "t", SpanID: "p"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for _, tt := range []struct{ line, err string }{
		{`{"timestamp": "2024-01-15 12:00:00", "decky": "d", "service": "s", "event_type": "e"}`, `missing or empty field "attacker_ip"`},
		{`{"timestamp": 5, "decky": "d"}`, `field "timestamp" is a JSON number, want a string`},
		{`{"timestamp": "2024-01-15 12:00:00", "decky": "d", "service": "s", "event_type": "e", "attacker_ip": "x", "fields": [1]}`, `field "fields" is a JSON array, want an object of strings`},
		{`"a string"`, "not a JSON object (a JSON string)"},
		{`{"decky": "d"`, "not JSON: unexpected end of JSON input"},
		{`{"timestamp": "tomorrow", "decky": "d", "service": "s", "event_type": "e", "attacker_ip": "x"}`, `bad timestamp "tomorrow"`},
	} {
		_, err := parseCollectorJSON([]byte(tt.line))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("parseCollectorJSON(%s) error = %v, want one containing %q", tt.line, err, tt.err)
		}
	}
}

// TestSampleFilesAgree checks that the two sample files of testdata (the
// README's worked session uses them) are the same events in DECNET's two
// formats.
func TestSampleFilesAgree(t *testing.T) {
	t.Parallel()
	read := func(name string, parse func([]byte) (repository.Log, error)) []repository.Log {
		f, err := os.Open("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out []repository.Log
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l, err := parse(sc.Bytes())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := l.Validate(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, l)
		}
		return out
	}
	js, sl := read("collector.json", parseCollectorJSON), read("collector.log", parseRFC5424)
	if len(js) != 40 || !reflect.DeepEqual(js, sl) {
		t.Errorf("collector.json (%d lines) and collector.log (%d lines) differ", len(js), len(sl))
	}
}

func TestSplitRecord(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ line, typ, v, err string }{
		{`{"t":"log","v":{"id":1}}`, "log", `{"id":1}`, ""},
		{`{ "t": "log", "v": {"id": 1} }`, "log", `{"id": 1}`, ""},
		{`{"v":{"id":1},"t":"state"}`, "state", `{"id":1}`, ""},
		{`{"t":"log"}`, "", "", "not a record"},
		{`[1]`, "", "", "not a record"},
	} {
		typ, v, err := splitRecord([]byte(tt.line))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("splitRecord(%s) error = %v, want %q", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil || typ != tt.typ || string(v) != tt.v {
			t.Errorf("splitRecord(%s) = %q, %s, %v; want %q, %s", tt.line, typ, v, err, tt.typ, tt.v)
		}
	}
}

// TestArchiveReaderLongLines reads lines longer than the reader's buffer,
// and a last line without a newline.
func TestArchiveReaderLongLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3<<20)
	ar := newArchiveReader(strings.NewReader("a\r\n" + long + "\nlast"))
	for _, want := range []string{"a", long, "last"} {
		got, err := ar.next()
		if err != nil || string(got) != want {
			t.Fatalf("next() = %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
	}
	if _, err := ar.next(); err == nil {
		t.Error("no EOF after the last line")
	}
}

// TestReadIngestLongLine checks that a line over maxIngestLine is one bad
// line and the next line is read normally.
func TestReadIngestLongLine(t *testing.T) {
	t.Parallel()
	var in bytes.Buffer
	in.Write(collectorLineN(0))
	in.WriteString(strings.Repeat("y", maxIngestLine+10) + "\n")
	in.Write(collectorLineN(1))
	groups := make(chan ingestGroup, 100)
	counter := &countingReader{r: &in}
	readIngest(counter, counter, parseCollectorJSON, ingestOptions{batch: 1000}, groups, make(chan struct{}))
	var items []ingestItem
	for g := range groups {
		items = append(items, g.items...)
	}
	if len(items) != 3 || items[0].bad != "" || items[1].bad == "" || items[2].bad != "" || items[2].line != 3 {
		t.Fatalf("items = %+v", items)
	}
	if !strings.Contains(items[1].bad, "longer than") {
		t.Errorf("bad = %q", items[1].bad)
	}
}

func FuzzParseRFC5424(f *testing.F) {
	f.Add(`<134>1 2024-01-15T12:00:00+00:00 decky-01 http - request [decnet@55555 src_ip="203.0.113.7" ua="a \"b\" \] \\"] GET /`)
	f.Add(`<13>1 2024-01-15T12:00:00Z d s - e - m`)
	f.Add(`<13>1 2024-01-15T12:00:00Z d bash - e [x@1 a=""][decnet@55555 b="c"] CMD uid=0 pwd=/ cmd=id`)
	f.Fuzz(func(t *testing.T, line string) {
		l, err := parseRFC5424([]byte(line))
		if err != nil {
			return
		}
		if l.Timestamp.Location() != time.UTC {
			t.Errorf("timestamp not in UTC: %v", l.Timestamp)
		}
		if l.AttackerIP == "" && l.Fields != nil {
			for _, k := range ipFields {
				if _, ok := l.Fields[k]; ok {
					return
				}
			}
			t.Errorf("empty attacker IP without an IP field: %q", line)
		}
	})
}

func FuzzParseCollectorJSON(f *testing.F) {
	f.Add(string(collectorLineN(0)))
	f.Add(`{"timestamp": "2024-01-15T12:00:00Z", "decky": "d", "service": "s", "event_type": "e", "attacker_ip": "x", "fields": {"n": 1, "o": {"a": [1]}}}`)
	f.Fuzz(func(t *testing.T, line string) {
		l, err := parseCollectorJSON([]byte(line))
		if err != nil {
			return
		}
		if l.Decky == "" || l.Service == "" || l.EventType == "" || l.AttackerIP == "" || l.Timestamp.IsZero() {
			t.Errorf("accepted a line without a required field: %q -> %+v", line, l)
		}
	})
}

// BenchmarkParseCollectorJSON measures the parser of ingest alone (with
// the validation ingest does), to check that it is not what limits ingest
// (compare with the AddLogs benchmark's rows/s in testsuite).
func BenchmarkParseCollectorJSON(b *testing.B) {
	lines := make([][]byte, 1000)
	var size int
	for i := range lines {
		lines[i] = bytes.TrimSuffix(collectorLineN(i), []byte("\n"))
		size += len(lines[i])
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	p := newCollectorParser()
	for i := 0; b.Loop(); i++ {
		l, err := p.parse(lines[i%len(lines)])
		if err == nil {
			err = l.Validate()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkParseRFC5424(b *testing.B) {
	f, err := os.ReadFile("testdata/collector.log")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(f), []byte("\n"))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := parseRFC5424(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// FuzzCollectorParserFastPath checks that the fast path of the collector
// parser reads every line it accepts exactly as encoding/json does.
func FuzzCollectorParserFastPath(f *testing.F) {
	f.Add(string(collectorLineN(7)))
	f.Add(`{"timestamp":"2024-01-15 12:00:00","decky":"d\u00e9","service":"s\ud83d\udc1d","event_type":"\ud800x","attacker_ip":"a\"b\\c\/d\b\f\n\r\t","fields":{"k":"v","k":"w"},"msg":"caf` + "\xe9" + `"}`)
	f.Add(`{"Decky":"x","decky":"y"}`)
	f.Add(`{"fields":{},"fields":{"a":"b"}}`)
	f.Add(` { "msg" : "a" , "extra" : "b" } `)
	f.Add(`{"raw_line":"\u0000"}`)
	f.Fuzz(func(t *testing.T, line string) {
		var fast collectorLine
		if !newCollectorParser().fast([]byte(line), &fast) {
			return
		}
		var slow collectorLine
		if err := json.Unmarshal([]byte(line), &slow); err != nil {
			t.Fatalf("the fast path accepted %q, encoding/json: %v", line, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\njson %+v", line, fast, slow)
		}
	})
}
