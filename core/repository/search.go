package repository

import (
	"strings"
)

// TermKind says what a search term matches.
type TermKind int

// The kinds of search terms.
const (
	// TermText is a bare word: a substring (case-insensitive for ASCII) of
	// the raw line, decky, service or attacker IP.
	TermText TermKind = iota
	// TermColumn is decky:, service:, event:, attacker:, attacker-ip: or
	// attacker_ip:, matching that column exactly.
	TermColumn
	// TermField is any other key:value, matching the JSON field Key of a
	// log's fields exactly.
	TermField
)

// Term is one token of a parsed search.
type Term struct {
	Kind TermKind
	// Column is the column a TermColumn matches: decky, service, event_type
	// or attacker_ip.
	Column string
	// Key is the JSON field a TermField matches, reduced to [A-Za-z0-9_].
	Key string
	// Value is the word, or the value after the colon. It is always bound
	// as a parameter, never written into SQL.
	Value string
}

// searchColumns maps the search keys that name a column to that column.
var searchColumns = map[string]string{
	"decky":       "decky",
	"service":     "service",
	"event":       "event_type",
	"attacker":    "attacker_ip",
	"attacker-ip": "attacker_ip",
	"attacker_ip": "attacker_ip",
}

// ParseSearch parses DECNET's log search syntax. Tokens are separated by
// white space; single or double quotes group words (`decky:"web 01"`), and a
// backslash escapes the next character outside single quotes. When the
// quotes do not balance, the search is split on white space alone. A token
// key:value whose key names a column (decky, service, event, attacker,
// attacker-ip, attacker_ip; case-insensitive) matches that column exactly;
// any other key:value matches the JSON field named by the key reduced to
// [A-Za-z0-9_]; a token whose reduced key is empty, or with no colon, is a
// bare word. Every term must hold.
func ParseSearch(search string) []Term {
	tokens, ok := splitQuoted(search)
	if !ok {
		tokens = strings.Fields(search)
	}
	terms := make([]Term, 0, len(tokens))
	for _, tok := range tokens {
		terms = append(terms, parseTerm(tok))
	}
	return terms
}

func parseTerm(tok string) Term {
	key, value, found := strings.Cut(tok, ":")
	if !found {
		return Term{Kind: TermText, Value: tok}
	}
	if col, ok := searchColumns[strings.ToLower(key)]; ok {
		return Term{Kind: TermColumn, Column: col, Value: value}
	}
	if k := sanitizeKey(key); k != "" {
		return Term{Kind: TermField, Key: k, Value: value}
	}
	return Term{Kind: TermText, Value: tok}
}

// sanitizeKey keeps only [A-Za-z0-9_] so that the key can be written into a
// JSON path of SQL text safely.
func sanitizeKey(key string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return -1
	}, key)
}

// splitQuoted splits s as a POSIX shell would (Python's shlex.split): it
// reports false for an unbalanced quote or a trailing backslash.
func splitQuoted(s string) ([]string, bool) {
	var (
		tokens []string
		cur    strings.Builder
		inTok  bool
		quote  rune
	)
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(runes) && (runes[i+1] == '"' || runes[i+1] == '\\'):
				i++
				cur.WriteRune(runes[i])
			default:
				cur.WriteRune(r)
			}
		case r == '\\':
			if i+1 == len(runes) {
				return nil, false
			}
			i++
			cur.WriteRune(runes[i])
			inTok = true
		case r == '\'' || r == '"':
			quote = r
			inTok = true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			if inTok {
				tokens = append(tokens, cur.String())
				cur.Reset()
				inTok = false
			}
		default:
			cur.WriteRune(r)
			inTok = true
		}
	}
	if quote != 0 {
		return nil, false
	}
	if inTok {
		tokens = append(tokens, cur.String())
	}
	return tokens, true
}
