package plugin

import "testing"

// TestGCPercent checks the plugin process's GOGC: the default, the
// author's, and none when the environment sets GOGC.
func TestGCPercent(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	for _, c := range []struct {
		name   string
		sc     ServeConfig
		getenv func(string) string
		want   int
		set    bool
	}{
		{"default", ServeConfig{}, env(nil), DefaultGCPercent, true},
		{"author's", ServeConfig{GCPercent: 150}, env(nil), 150, true},
		{"not positive", ServeConfig{GCPercent: -1}, env(nil), DefaultGCPercent, true},
		{"GOGC set", ServeConfig{GCPercent: 150}, env(map[string]string{"GOGC": "off"}), 0, false},
	} {
		if got, set := gcPercent(c.sc, c.getenv); got != c.want || set != c.set {
			t.Errorf("%s: gcPercent = %d, %v; want %d, %v", c.name, got, set, c.want, c.set)
		}
	}
}
