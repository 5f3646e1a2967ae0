package conformance

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "search_column_exact", Run: checkSearchColumnExact},
		Check{Name: "search_exact_is_case_sensitive", Run: checkSearchExactCaseSensitive},
		Check{Name: "search_json_field", Run: checkSearchJSONField},
		Check{Name: "search_json_two_fields", Run: checkSearchJSONTwoFields},
		Check{Name: "search_bare_words", Run: checkSearchBareWords},
		Check{Name: "search_quoted", Run: checkSearchQuoted},
		Check{Name: "search_and", Run: checkSearchAnd},
		Check{Name: "search_unbalanced_quote", Run: checkSearchUnbalancedQuote},
		Check{Name: "search_key_reduced", Run: checkSearchKeyReduced},
		Check{Name: "search_sql_metachars", Run: checkSearchSQLMetachars},
		Check{Name: "search_unicode", Run: checkSearchUnicode},
		Check{Name: "search_empty", Run: checkSearchEmpty},
		Check{Name: "search_methods_agree", Run: checkSearchMethodsAgree},
		Check{Name: "search_since_until_inclusive", Run: checkSearchSinceUntilInclusive},
		Check{Name: "search_since_after_until", Run: checkSearchSinceAfterUntil},
		Check{Name: "search_time_zone", Run: checkSearchTimeZone},
		Check{Name: "search_parse", Run: checkSearchParse},
	)
}

// searchFixture is the set of logs the search checks query, by name.
var searchFixture = []struct {
	name string
	log  repository.Log
}{
	{"web01", repository.Log{Decky: "web-01", Service: "ssh", EventType: "login_attempt", AttackerIP: "10.0.0.1",
		RawLine: "Failed password for root from 10.0.0.1", Fields: map[string]string{"user": "root", "pass": "toor"}}},
	{"web010", repository.Log{Decky: "web-010", Service: "sshd", EventType: "login", AttackerIP: "10.0.0.10",
		RawLine: "Accepted publickey for admin", Fields: map[string]string{"user": "rooted", "pass": "root"}}},
	{"space", repository.Log{Decky: "web 01", Service: "http", EventType: "request", AttackerIP: "192.168.1.5",
		RawLine: "GET /two words HTTP/1.1", Fields: map[string]string{"path": "/index.html", "user": "toor"}}},
	{"meta", repository.Log{Decky: "db-01", Service: "mysql", EventType: "query", AttackerIP: "172.16.0.3",
		RawLine: `SELECT 50% discount; a_c 'quoted' back\slash x!y`, Fields: map[string]string{"user": "' OR 1=1 --", "pct": "50%"}}},
	{"plain", repository.Log{Decky: "db-02", Service: "ftp", EventType: "login_attempt", AttackerIP: "172.16.0.4",
		RawLine: "USER anonymous 500 abc words two xy", Fields: map[string]string{"user": "anonymous", "other": "root"}}},
	{"quote", repository.Log{Decky: "mail-01", Service: "smtp", EventType: "command", AttackerIP: "10.9.9.9",
		RawLine: `HELO say "hello there -:x`}},
	{"unicode", repository.Log{Decky: "Ünïcödé-🐝", Service: "telnet", EventType: "command", AttackerIP: "10.7.7.7",
		RawLine: "echo 中文 ✓", Fields: map[string]string{"lang": "中文"}}},
}

// fixture holds the ids of the search fixture's logs by name.
type fixture map[string]int64

// addSearchFixture adds the search fixture, one minute apart from base.
func addSearchFixture(t T, r repository.Repository) fixture {
	t.Helper()
	fx := make(fixture, len(searchFixture))
	for i, e := range searchFixture {
		l := e.log
		l.Timestamp = at(60 * i)
		fx[e.name] = addLog(t, r, l)
	}
	return fx
}

// names returns the fixture names of ids, sorted.
func (fx fixture) names(ids []int64) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		name := fmt.Sprintf("#%d", id)
		for n, fid := range fx {
			if fid == id {
				name = n
			}
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// expectSearch reports a failure unless Logs and CountLogs with the search
// find exactly the named fixture logs.
func expectSearch(t T, r repository.Repository, fx fixture, search string, want ...string) {
	t.Helper()
	sort.Strings(want)
	ls, err := r.Logs(t.Context(), repository.LogQuery{LogFilter: repository.LogFilter{Search: search}, Limit: repository.MaxLimit})
	if err != nil {
		t.Errorf("search %q: Logs: %v", search, err)
		return
	}
	if gotNames := fx.names(logIDs(ls)); !slices.Equal(gotNames, want) {
		t.Errorf("search %q: found %q, want %q", search, gotNames, want)
	}
	n, err := r.CountLogs(t.Context(), repository.LogFilter{Search: search})
	if err != nil {
		t.Errorf("search %q: CountLogs: %v", search, err)
	} else if n != int64(len(want)) {
		t.Errorf("search %q: CountLogs %d, want %d", search, n, len(want))
	}
}

func checkSearchColumnExact(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"decky:web-01", []string{"web01"}},
		{"DECKY:web-01", []string{"web01"}},
		{"decky:web", nil},
		{"service:ssh", []string{"web01"}},
		{"service:sshd", []string{"web010"}},
		{"event:login", []string{"web010"}},
		{"event:login_attempt", []string{"web01", "plain"}},
		{"attacker:10.0.0.1", []string{"web01"}},
		{"attacker-ip:10.0.0.1", []string{"web01"}},
		{"attacker_ip:10.0.0.1", []string{"web01"}},
		{"attacker_ip:10.0.0.10", []string{"web010"}},
		{"attacker:10.0.0", nil},
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

// checkSearchExactCaseSensitive: exact terms compare exactly on every
// backend (a case-insensitive collation must not leak through), while bare
// words fold ASCII case.
func checkSearchExactCaseSensitive(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"decky:WEB-01", nil},
		{"service:SSH", nil},
		{"attacker:10.0.0.1", []string{"web01"}},
		{"user:ROOT", nil},
		{"user:root", []string{"web01"}},
		{"FAILED", []string{"web01"}},
		{"failed", []string{"web01"}},
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchJSONField(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"user:root", []string{"web01"}},
		{"pass:root", []string{"web010"}},
		{"other:root", []string{"plain"}},
		{"user:roo", nil},
		{"missing:root", nil},
		{"path:/index.html", []string{"space"}},
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchJSONTwoFields(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"user:root pass:toor", []string{"web01"}},
		{"pass:toor user:root", []string{"web01"}},
		{"user:rooted pass:root", []string{"web010"}},
		{"user:root pass:root", nil},
		{"user:toor pass:root", nil},
		{"user:root user:rooted", nil},
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchBareWords(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"password", []string{"web01"}},                               // raw line
		{"PASSWORD", []string{"web01"}},                               // case-insensitive
		{"hTtP", []string{"space"}},                                   // service and raw line, case-insensitive
		{"MYSQL", []string{"meta"}},                                   // service, case-insensitive
		{"web-01", []string{"web01", "web010"}},                       // decky substring
		{"mail", []string{"quote"}},                                   // decky substring
		{"SSH", []string{"web01", "web010"}},                          // service substring
		{"172.16.0", []string{"meta", "plain"}},                       // attacker ip substring
		{"168.1", []string{"space"}},                                  // attacker ip substring
		{"10.0.0.1", []string{"web01", "web010"}},                     // ip and raw line
		{"1.1", []string{"space"}},                                    // raw line
		{"two", []string{"space", "plain"}},                           // raw line of two logs
		{"discount;", []string{"meta"}},                               // punctuation
		{"/two", []string{"space"}},                                   // slash
		{"ECHO", []string{"unicode"}},                                 // raw line with non-ASCII text
		{"Ünïcödé-🐝", []string{"unicode"}},                            // decky, non-ASCII
		{"web 01", []string{"web01", "web010", "space"}},              // two words, both in each decky
		{"01", []string{"web01", "web010", "space", "meta", "quote"}}, // decky substrings
		{"root", []string{"web01"}},                                   // raw line, not fields
		{"attempt", nil},                                              // event type is not searched by bare words
		{"nothing-matches-this", nil},                                 // no match
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchQuoted(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{`decky:"web 01"`, []string{"space"}},
		{`decky:'web 01'`, []string{"space"}},
		{`"decky:web 01"`, []string{"space"}},
		{`"two words"`, []string{"space"}},
		{`'two words'`, []string{"space"}},
		{`two words`, []string{"space", "plain"}},
		{`"words two"`, []string{"plain"}},
		{`"two  words"`, nil},
		{`"Failed password" root`, []string{"web01"}},
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchAnd(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"service:ssh password", []string{"web01"}},
		{"service:ssh anonymous", nil},
		{"event:login_attempt attacker:172.16.0.4", []string{"plain"}},
		{"event:login_attempt decky:web-01 user:root", []string{"web01"}},
		{"event:login_attempt decky:web-01 user:rooted", nil},
		{"words two 500", []string{"plain"}},
		{"words two 501", nil},
		{"  service:ssh\tpassword\n", []string{"web01"}},
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchUnbalancedQuote(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{`"hello`, []string{"quote"}},     // split on white space: the word "hello
		{`say "hello`, []string{"quote"}}, // two words
		{`decky:"web`, nil},               // decky equals "web, no log
		{`'quoted`, []string{"meta"}},     // the word 'quoted
		{`"two words`, nil},               // the words "two and words
		{`trailing\`, nil},                // a trailing backslash does not balance
		{`hello "`, []string{"quote"}},    // a lone quote is a word
		{`password 'x`, nil},              // 'x is in no log
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchKeyReduced(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"us-er:root", []string{"web01"}},
		{"u.s.e.r:rooted", []string{"web010"}},
		{"user':root", []string{"web01"}},
		{"$user;--:root", []string{"web01"}},
		{"-:x", []string{"quote"}}, // the key reduces to nothing: a bare word
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchSQLMetachars(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{`50%`, []string{"meta"}}, // not "500"
		{`%`, []string{"meta"}},
		{`5%0`, nil},
		{`a_c`, []string{"meta"}}, // not "abc"
		{`_`, []string{"meta"}},
		{`x!y`, []string{"meta"}}, // not "xy"
		{`!`, []string{"meta"}},
		{`'back\slash'`, []string{"meta"}},
		{`"back\\slash"`, []string{"meta"}},
		{`backslash`, nil},
		{`"'quoted'"`, []string{"meta"}},
		{`user:"' OR 1=1 --"`, []string{"meta"}},
		{`"' OR 1=1 --"`, nil},
		{`decky:"' OR '1'='1"`, nil},
		{`"x' OR 'x'='x"`, nil},
		{`pct:50%`, []string{"meta"}},
		{`pct:50_`, nil},
		{`pct:%`, nil},
		{`decky:db-0_`, nil},
		{`decky:db-0%`, nil},
		{`decky:%`, nil},
		{`service:"ssh' --"`, nil},
		{`user:root'`, nil},
		{`"; DROP TABLE logs; --"`, nil},
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
	if n := countLogs(t, r, repository.LogFilter{}); n != int64(len(searchFixture)) {
		t.Errorf("CountLogs after the searches: %d, want %d", n, len(searchFixture))
	}
}

func checkSearchUnicode(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	for _, c := range []struct {
		search string
		want   []string
	}{
		{"中文", []string{"unicode"}},
		{"✓", []string{"unicode"}},
		{"🐝", []string{"unicode"}},
		{"decky:Ünïcödé-🐝", []string{"unicode"}},
		{"lang:中文", []string{"unicode"}},
		{`"echo 中文 ✓"`, []string{"unicode"}},
	} {
		expectSearch(t, r, fx, c.search, c.want...)
	}
}

func checkSearchEmpty(t T, h *Harness) {
	r := h.Repo(t)
	fx := addSearchFixture(t, r)
	var all []string
	for _, e := range searchFixture {
		all = append(all, e.name)
	}
	for _, s := range []string{"", " ", "\t \n"} {
		expectSearch(t, r, fx, s, all...)
	}
}

// checkSearchMethodsAgree runs searches through every method that takes a
// LogFilter: Logs, CountLogs, LogsAfterID and LogHistogram must agree.
func checkSearchMethodsAgree(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	addSearchFixture(t, r)
	for _, f := range []repository.LogFilter{
		{},
		{Search: "user:root"},
		{Search: "web-01"},
		{Search: `decky:"web 01"`},
		{Search: "event:login_attempt"},
		{Search: "50%"},
		{Since: at(120), Until: at(300)},
		{Search: "for", Since: at(30)},
	} {
		what := fmt.Sprintf("filter %+v", f)
		ls, ok := got(r.Logs(ctx, repository.LogQuery{LogFilter: f, Limit: repository.MaxLimit})).ok(t, what+": Logs")
		if !ok {
			continue
		}
		want := sortedIDs(logIDs(ls))
		if n, ok := got(r.CountLogs(ctx, f)).ok(t, what+": CountLogs"); ok && n != int64(len(want)) {
			t.Errorf("%s: CountLogs %d, Logs found %d", what, n, len(want))
		}
		if after, ok := got(r.LogsAfterID(ctx, 0, repository.MaxLimit, f)).ok(t, what+": LogsAfterID"); ok {
			expectIDs(t, what+": LogsAfterID vs Logs", logIDs(after), want)
		}
		if bs, ok := got(r.LogHistogram(ctx, f, time.Hour)).ok(t, what+": LogHistogram"); ok {
			var sum int64
			for _, b := range bs {
				sum += b.Count
			}
			if sum != int64(len(want)) {
				t.Errorf("%s: LogHistogram counts %d logs, Logs found %d", what, sum, len(want))
			}
		}
	}
}

func checkSearchSinceUntilInclusive(t T, h *Harness) {
	r := h.Repo(t)
	offsets := []int{0, 10, 20, 30, 40}
	ids, _ := addLogsAtOffsets(t, r, offsets)
	sub := base.Add(500 * time.Millisecond)
	for _, c := range []struct {
		name string
		f    repository.LogFilter
		want []int64
	}{
		{"since 10 until 30", repository.LogFilter{Since: at(10), Until: at(30)}, []int64{ids[1], ids[2], ids[3]}},
		{"since 10", repository.LogFilter{Since: at(10)}, ids[1:]},
		{"until 30", repository.LogFilter{Until: at(30)}, ids[:4]},
		{"since = until = 20", repository.LogFilter{Since: at(20), Until: at(20)}, []int64{ids[2]}},
		{"since 11 until 29", repository.LogFilter{Since: at(11), Until: at(29)}, []int64{ids[2]}},
		{"since 41", repository.LogFilter{Since: at(41)}, nil},
		{"until -1", repository.LogFilter{Until: at(-1)}, nil},
		{"since half a second after 0", repository.LogFilter{Since: sub, Until: at(10)}, []int64{ids[1]}},
	} {
		ls, ok := got(r.Logs(t.Context(), repository.LogQuery{LogFilter: c.f, Limit: 100})).ok(t, c.name)
		if ok {
			expectIDs(t, "Logs "+c.name, sortedIDs(logIDs(ls)), c.want)
		}
		if n, ok := got(r.CountLogs(t.Context(), c.f)).ok(t, c.name); ok && n != int64(len(c.want)) {
			t.Errorf("CountLogs %s: %d, want %d", c.name, n, len(c.want))
		}
	}
}

func checkSearchSinceAfterUntil(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	addLog(t, r, sampleLog(0))
	f := repository.LogFilter{Since: at(10), Until: at(9)}
	_, err := r.Logs(ctx, repository.LogQuery{LogFilter: f})
	expectErr(t, err, repository.ErrInvalid, "Logs with since after until")
	_, err = r.CountLogs(ctx, f)
	expectErr(t, err, repository.ErrInvalid, "CountLogs with since after until")
	_, err = r.LogsAfterID(ctx, 0, 10, f)
	expectErr(t, err, repository.ErrInvalid, "LogsAfterID with since after until")
	_, err = r.LogHistogram(ctx, f, time.Hour)
	expectErr(t, err, repository.ErrInvalid, "LogHistogram with since after until")
}

func checkSearchTimeZone(t T, h *Harness) {
	r := h.Repo(t)
	ids, _ := addLogsAtOffsets(t, r, []int{0, 10, 20, 30, 40})
	f := repository.LogFilter{Since: at(10).In(zone), Until: at(30).In(zone)}
	want := []int64{ids[1], ids[2], ids[3]}
	if ls, ok := got(r.Logs(t.Context(), repository.LogQuery{LogFilter: f})).ok(t, "Logs"); ok {
		expectIDs(t, "Logs with since and until in UTC+5", sortedIDs(logIDs(ls)), want)
	}
	if n, ok := got(r.CountLogs(t.Context(), f)).ok(t, "CountLogs"); ok && n != 3 {
		t.Errorf("CountLogs with since and until in UTC+5: %d, want 3", n)
	}
	west := time.FixedZone("w", -7*3600-30*60)
	f = repository.LogFilter{Since: at(20).In(west)}
	if n, ok := got(r.CountLogs(t.Context(), f)).ok(t, "CountLogs"); ok && n != 3 {
		t.Errorf("CountLogs with since in UTC-7:30: %d, want 3", n)
	}
}

// checkSearchParse checks ParseSearch itself, which every backend shares.
func checkSearchParse(t T, _ *Harness) {
	text := func(v string) repository.Term { return repository.Term{Kind: repository.TermText, Value: v} }
	col := func(c, v string) repository.Term {
		return repository.Term{Kind: repository.TermColumn, Column: c, Value: v}
	}
	field := func(k, v string) repository.Term {
		return repository.Term{Kind: repository.TermField, Key: k, Value: v}
	}
	for _, c := range []struct {
		in   string
		want []repository.Term
	}{
		{"", nil},
		{"root", []repository.Term{text("root")}},
		{"decky:web-01", []repository.Term{col("decky", "web-01")}},
		{"Service:ssh", []repository.Term{col("service", "ssh")}},
		{"event:login", []repository.Term{col("event_type", "login")}},
		{"attacker:1.2.3.4 attacker-ip:5.6.7.8 attacker_ip:9.9.9.9", []repository.Term{
			col("attacker_ip", "1.2.3.4"), col("attacker_ip", "5.6.7.8"), col("attacker_ip", "9.9.9.9")}},
		{"user:root pass:toor", []repository.Term{field("user", "root"), field("pass", "toor")}},
		{"us-er:bob", []repository.Term{field("user", "bob")}},
		{`decky:"web 01"`, []repository.Term{col("decky", "web 01")}},
		{`"two words" x`, []repository.Term{text("two words"), text("x")}},
		{`'a\b'`, []repository.Term{text(`a\b`)}},
		{`"a\"b"`, []repository.Term{text(`a"b`)}},
		{`a\ b`, []repository.Term{text("a b")}},
		{`"unbalanced x`, []repository.Term{text(`"unbalanced`), text("x")}},
		{`-:x`, []repository.Term{text("-:x")}},
		{`url:http://x`, []repository.Term{field("url", "http://x")}},
		{"  a \t b\n", []repository.Term{text("a"), text("b")}},
	} {
		got := repository.ParseSearch(c.in)
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseSearch(%q): %+v, want %+v", c.in, got, c.want)
		}
	}
}
