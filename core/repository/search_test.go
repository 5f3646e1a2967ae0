package repository

import (
	"reflect"
	"testing"
)

func TestParseSearch(t *testing.T) {
	col := func(c, v string) Term { return Term{Kind: TermColumn, Column: c, Value: v} }
	field := func(k, v string) Term { return Term{Kind: TermField, Key: k, Value: v} }
	text := func(v string) Term { return Term{Kind: TermText, Value: v} }
	tests := []struct {
		name   string
		search string
		want   []Term
	}{
		{"empty", "", []Term{}},
		{"spaces only", "  \t ", []Term{}},
		{"columns", "decky:web service:ssh event:login attacker:1.2.3.4",
			[]Term{col("decky", "web"), col("service", "ssh"), col("event_type", "login"), col("attacker_ip", "1.2.3.4")}},
		{"attacker spellings", "attacker-ip:a attacker_ip:b ATTACKER:c",
			[]Term{col("attacker_ip", "a"), col("attacker_ip", "b"), col("attacker_ip", "c")}},
		{"json fields", "user:root pass:toor", []Term{field("user", "root"), field("pass", "toor")}},
		{"key reduced", "us-er.name:bob", []Term{field("username", "bob")}},
		{"key reduced to nothing", "-:x", []Term{text("-:x")}},
		{"value keeps colons", "url:http://x:8080/", []Term{field("url", "http://x:8080/")}},
		{"empty value", "decky:", []Term{col("decky", "")}},
		{"bare words", "Failed password", []Term{text("Failed"), text("password")}},
		{"double quotes group", `decky:"web 01" "two words"`, []Term{col("decky", "web 01"), text("two words")}},
		{"single quotes group", `msg:'a "b" c'`, []Term{field("msg", `a "b" c`)}},
		{"quotes mid-token", `ab"c d"e`, []Term{text("abc de")}},
		{"empty quotes", `decky:""`, []Term{col("decky", "")}},
		{"backslash escapes", `a\ b c\"d`, []Term{text("a b"), text(`c"d`)}},
		{"backslash in double quotes", `"a\"b\\c\d"`, []Term{text(`a"b\c\d`)}},
		{"unbalanced quote falls back", `decky:"web 01`, []Term{col("decky", `"web`), text("01")}},
		{"trailing backslash falls back", `abc\`, []Term{text(`abc\`)}},
		{"unicode", "lang:中文 🐝", []Term{field("lang", "中文"), text("🐝")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseSearch(tt.search); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseSearch(%q) = %+v, want %+v", tt.search, got, tt.want)
			}
		})
	}
}

func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{`decky:"web 01" user:root x`, `a\`, `"`, `'x y'`, `k:v:w`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, term := range ParseSearch(s) {
			if term.Kind == TermField && sanitizeKey(term.Key) != term.Key {
				t.Errorf("key %q of %q is not reduced to [A-Za-z0-9_]", term.Key, s)
			}
			if term.Kind == TermField && term.Key == "" {
				t.Errorf("empty key from %q", s)
			}
		}
	})
}
