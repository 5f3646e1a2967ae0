package conformance

import (
	"regexp"
	"testing"
)

// TestChecks checks the suite itself: enough checks, unique names of the
// documented form, each with a function.
func TestChecks(t *testing.T) {
	cs := Checks()
	if len(cs) < 80 {
		t.Errorf("%d checks, want at least 80", len(cs))
	}
	name := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	seen := map[string]bool{}
	destructive := false
	for _, c := range cs {
		if !name.MatchString(c.Name) {
			t.Errorf("check name %q is not snake_case or CamelCase", c.Name)
		}
		if seen[c.Name] {
			t.Errorf("check name %q is registered twice", c.Name)
		}
		seen[c.Name] = true
		if c.Run == nil {
			t.Errorf("check %q has no Run", c.Name)
		}
		if destructive && !c.Destructive {
			t.Errorf("check %q runs after a destructive check", c.Name)
		}
		destructive = destructive || c.Destructive
	}
}
