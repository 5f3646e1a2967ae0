package main

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/decnet/decnet-db/core/repository"
)

// collectorParser parses collector JSON lines. Its fast path reads the
// shape DECNET's collector writes (an object of strings, "fields" an
// object of strings) without reflection, and shares the copies of the
// short strings that repeat from line to line (deckies, services, event
// types, addresses, field names); any other shape goes to encoding/json,
// so that every line parses exactly as encoding/json parses it. It is not
// safe for concurrent use.
type collectorParser struct {
	intern map[string]string
}

// A collectorParser shares at most maxInterned strings of at most
// maxInternLen bytes.
const (
	maxInterned  = 8192
	maxInternLen = 64
)

func newCollectorParser() *collectorParser {
	return &collectorParser{intern: make(map[string]string, 256)}
}

// parse parses one line like parseCollectorJSON.
func (p *collectorParser) parse(line []byte) (repository.Log, error) {
	var c collectorLine
	if !p.fast(line, &c) {
		return parseCollectorJSON(line)
	}
	return c.log()
}

// str returns b as a string, shared when it is short.
func (p *collectorParser) str(b []byte) string {
	if len(b) > maxInternLen {
		return string(b)
	}
	if s, ok := p.intern[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(p.intern) >= maxInterned {
		clear(p.intern)
	}
	p.intern[s] = s
	return s
}

// The fields of collectorLine by JSON name.
const (
	keyTimestamp = "timestamp"
	keyDecky     = "decky"
	keyService   = "service"
	keyEventType = "event_type"
	keyAttacker  = "attacker_ip"
	keyFields    = "fields"
	keyMsg       = "msg"
	keyRawLine   = "raw_line"
	keyTraceID   = "trace_id"
	keySpanID    = "span_id"
)

var collectorKeys = [...]string{keyTimestamp, keyDecky, keyService, keyEventType, keyAttacker, keyFields, keyMsg, keyRawLine, keyTraceID, keySpanID}

// fast parses line into c and reports whether it could: false for any
// line that is not an object of plain strings with "fields" an object of
// strings, or that encoding/json would read differently (a key matching
// one of c's in another case, "fields" twice).
func (p *collectorParser) fast(line []byte, c *collectorLine) bool {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return skipWS(line, i+1) == len(line)
	}
	sawFields := false
	for {
		key, j, ok := p.scanString(line, i, true)
		if !ok {
			return false
		}
		i = skipWS(line, j)
		if i >= len(line) || line[i] != ':' {
			return false
		}
		i = skipWS(line, i+1)
		if i >= len(line) {
			return false
		}
		if key == keyFields {
			if sawFields || line[i] != '{' {
				return false
			}
			sawFields = true
			if i, ok = p.scanFields(line, i, c); !ok {
				return false
			}
		} else {
			if line[i] != '"' {
				return false
			}
			v, j, ok := p.scanString(line, i, key != keyMsg && key != keyRawLine)
			if !ok {
				return false
			}
			i = j
			switch key {
			case keyTimestamp:
				c.Timestamp = v
			case keyDecky:
				c.Decky = v
			case keyService:
				c.Service = v
			case keyEventType:
				c.EventType = v
			case keyAttacker:
				c.AttackerIP = v
			case keyMsg:
				c.Msg = v
			case keyRawLine:
				c.RawLine = v
			case keyTraceID:
				c.TraceID = v
			case keySpanID:
				c.SpanID = v
			default:
				// encoding/json matches keys case-insensitively, with
				// Unicode folding for non-ASCII keys.
				for j := range len(key) {
					if key[j] >= utf8.RuneSelf {
						return false
					}
				}
				for _, k := range collectorKeys {
					if strings.EqualFold(k, key) {
						return false
					}
				}
			}
		}
		i = skipWS(line, i)
		if i >= len(line) {
			return false
		}
		switch line[i] {
		case ',':
			i = skipWS(line, i+1)
		case '}':
			return skipWS(line, i+1) == len(line)
		default:
			return false
		}
	}
}

// scanFields reads the object of strings at line[i] into c.Fields.
func (p *collectorParser) scanFields(line []byte, i int, c *collectorLine) (int, bool) {
	c.Fields = make(map[string]string, 8)
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return i + 1, true
	}
	for {
		k, j, ok := p.scanString(line, i, true)
		if !ok {
			return 0, false
		}
		i = skipWS(line, j)
		if i >= len(line) || line[i] != ':' {
			return 0, false
		}
		i = skipWS(line, i+1)
		v, j, ok := p.scanString(line, i, true)
		if !ok {
			return 0, false
		}
		c.Fields[k] = v
		i = skipWS(line, j)
		if i >= len(line) {
			return 0, false
		}
		switch line[i] {
		case ',':
			i = skipWS(line, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// scanString reads the JSON string at line[i] and returns its value and
// the index after it, decoded as encoding/json decodes it (invalid UTF-8
// and lone surrogates become U+FFFD); share allows a short value to be
// shared.
func (p *collectorParser) scanString(line []byte, i int, share bool) (string, int, bool) {
	if i >= len(line) || line[i] != '"' {
		return "", 0, false
	}
	plain := true
	for j := i + 1; j < len(line); j++ {
		switch c := line[j]; {
		case c == '"':
			if !plain {
				s, ok := unquote(line[i+1 : j])
				return s, j + 1, ok
			}
			if share {
				return p.str(line[i+1 : j]), j + 1, true
			}
			return string(line[i+1 : j]), j + 1, true
		case c == '\\':
			plain = false
			j++ // the escaped character cannot end the string
		case c < 0x20:
			return "", 0, false // invalid JSON: encoding/json reports it
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return "", 0, false
}

// unquote decodes the body of a JSON string with escapes or non-ASCII
// bytes like encoding/json: the escapes \" \\ \/ \b \f \n \r \t \uXXXX
// (a surrogate pair is one character, a lone surrogate U+FFFD), invalid
// UTF-8 replaced by U+FFFD. ok is false for what is not valid JSON.
func unquote(s []byte) (string, bool) {
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			if r+1 >= len(s) {
				return "", false
			}
			switch s[r+1] {
			case '"', '\\', '/':
				b = append(b, s[r+1])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := getu4(s[r:])
				if rr < 0 {
					return "", false
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					if rr1 := getu4(s[r:]); rr1 >= 0 {
						if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
							r += 6
							b = utf8.AppendRune(b, dec)
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default:
				return "", false
			}
			r += 2
		case c == '"' || c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			j := r + 1
			for j < len(s) && s[j] >= 0x20 && s[j] < utf8.RuneSelf && s[j] != '\\' && s[j] != '"' {
				j++
			}
			b = append(b, s[r:j]...)
			r = j
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b), true
}

// getu4 decodes the \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// skipWS returns the index of the first non-blank byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
