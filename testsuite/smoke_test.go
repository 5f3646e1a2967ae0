package testsuite

import (
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/registry"
	"github.com/decnet/decnet-db/core/repository"
)

func TestSmoke(t *testing.T) {
	for _, path := range []string{t.TempDir() + "/x.db", ":memory:"} {
		cfg := testConfig("sqlite")
		cfg.Path = path
		r, err := registry.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Initialize(t.Context()); err != nil {
			t.Fatal(err)
		}
		id, err := r.AddLog(t.Context(), repository.Log{Timestamp: time.Now(), Decky: "d1", Fields: map[string]string{"user": "bob"}, RawLine: "hello SSH"})
		t.Log(id, err)
		logs, err := r.Logs(t.Context(), repository.LogQuery{LogFilter: repository.LogFilter{Search: "user:bob ssh"}})
		t.Log(logs, err)
		h, err := r.LogHistogram(t.Context(), repository.LogFilter{}, time.Minute)
		t.Log(h, err)
		info, err := r.Describe(t.Context())
		t.Log(info, err)
		tc, err := r.TableCounts(t.Context())
		t.Log(tc, err)
		r.Close()
	}
}
