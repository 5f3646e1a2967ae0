// Package conformance is the suite every decnet-db backend passes. Run
// runs it under go test; RunChecks runs it anywhere (the decnet-db
// conformance command) and returns a Report.
//
// Every check gets new, empty storage from the Factory, so checks are
// independent of each other and of their order; destructive checks (Close)
// run last. A check that fails keeps going where it can, so that one run
// reports every failure.
package conformance

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

// T is the part of *testing.T the checks use. *testing.T implements it; the
// Runner supplies its own. All methods are safe for concurrent use.
type T interface {
	Helper()
	Name() string
	Context() context.Context
	Cleanup(func())
	Log(args ...any)
	Logf(format string, args ...any)
	Error(args ...any)
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Failed() bool
}

// Admin is the admin account a repository seeds (DECNET_ADMIN_USER and
// DECNET_ADMIN_PASSWORD).
type Admin struct {
	User     string
	Password string
}

// DefaultAdmin is the admin of the repositories the checks open.
var DefaultAdmin = Admin{User: "admin", Password: "conformance-admin-pw"}

// Opener opens a new repository, not yet initialized, on one check's
// storage, seeding the given admin when it is initialized. Every call opens
// the SAME storage, so that a check can reopen it (the admin re-sync check
// does). The suite closes what it opens.
type Opener func(ctx context.Context, admin Admin) (repository.Repository, error)

// Factory creates new, empty storage for one check, registers its removal
// with t.Cleanup, and returns the Opener for it. It calls t.Fatal when the
// storage cannot be made.
type Factory func(t T) Opener

// Check is one named check of the suite.
type Check struct {
	Name string
	// Destructive checks run after all others.
	Destructive bool
	Run         func(t T, h *Harness)
}

// Harness gives a check its repositories.
type Harness struct {
	t    T
	open Opener
}

// Open opens a repository on the check's storage with the given admin,
// initializes it, and closes it when the check ends.
func (h *Harness) Open(t T, admin Admin) repository.Repository {
	t.Helper()
	r, err := h.open(t.Context(), admin)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if err := r.Initialize(t.Context()); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return r
}

// Repo opens an initialized repository with DefaultAdmin.
func (h *Harness) Repo(t T) repository.Repository {
	t.Helper()
	return h.Open(t, DefaultAdmin)
}

// OpenRaw opens a repository without initializing it; the check closes it.
func (h *Harness) OpenRaw(t T, admin Admin) repository.Repository {
	t.Helper()
	r, err := h.open(t.Context(), admin)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return r
}

var (
	checksMu sync.Mutex
	checks   []Check
)

// register adds checks to the suite; each checks_*.go file calls it from
// init. Names must be unique.
func register(cs ...Check) {
	checksMu.Lock()
	defer checksMu.Unlock()
	checks = append(checks, cs...)
}

// Checks returns the suite's checks in the order they run: sorted by name,
// destructive checks last.
func Checks() []Check {
	checksMu.Lock()
	defer checksMu.Unlock()
	out := append([]Check(nil), checks...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Destructive != out[j].Destructive {
			return !out[i].Destructive
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Run runs every check as a subtest of t, each on new storage from f.
func Run(t *testing.T, f Factory) {
	t.Helper()
	for _, c := range Checks() {
		t.Run(c.Name, func(t *testing.T) {
			c.Run(t, &Harness{t: t, open: f(t)})
		})
	}
}

// Result is the outcome of one check.
type Result struct {
	Name     string
	Passed   bool
	Duration time.Duration
	// Messages are what the check logged and its failures, in order.
	Messages []string
}

// Report is the outcome of RunChecks.
type Report struct {
	Results []Result
}

// Passed reports whether every check passed.
func (r Report) Passed() bool {
	for _, res := range r.Results {
		if !res.Passed {
			return false
		}
	}
	return true
}

// Failed returns the number of checks that failed.
func (r Report) Failed() int {
	n := 0
	for _, res := range r.Results {
		if !res.Passed {
			n++
		}
	}
	return n
}

// RunOptions tune RunChecks.
type RunOptions struct {
	// Filter, when set, runs only the checks whose name contains it.
	Filter string
	// Progress, when set, is called after each check.
	Progress func(Result)
}

// RunChecks runs the suite outside go test, each check on new storage from
// f, and returns the report. It stops early only when ctx is done.
func RunChecks(ctx context.Context, f Factory, opts RunOptions) Report {
	var rep Report
	for _, c := range Checks() {
		if opts.Filter != "" && !strings.Contains(c.Name, opts.Filter) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		res := runOne(ctx, c, f)
		rep.Results = append(rep.Results, res)
		if opts.Progress != nil {
			opts.Progress(res)
		}
	}
	return rep
}

func runOne(ctx context.Context, c Check, f Factory) Result {
	rt := &runnerT{name: c.Name}
	rt.ctx, rt.cancel = context.WithCancel(ctx)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				rt.Errorf("panic: %v", p)
			}
		}()
		c.Run(rt, &Harness{t: rt, open: f(rt)})
	}()
	<-done
	rt.cancel()
	rt.runCleanups()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return Result{Name: c.Name, Passed: !rt.failed, Duration: time.Since(start), Messages: rt.msgs}
}

// runnerT implements T outside go test. Fatal ends the check's goroutine
// with runtime.Goexit, as testing does.
type runnerT struct {
	name     string
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex
	failed   bool
	msgs     []string
	cleanups []func()
}

func (r *runnerT) Helper()                  {}
func (r *runnerT) Name() string             { return r.name }
func (r *runnerT) Context() context.Context { return r.ctx }

func (r *runnerT) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *runnerT) runCleanups() {
	for {
		r.mu.Lock()
		if len(r.cleanups) == 0 {
			r.mu.Unlock()
			return
		}
		f := r.cleanups[len(r.cleanups)-1]
		r.cleanups = r.cleanups[:len(r.cleanups)-1]
		r.mu.Unlock()
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.Errorf("cleanup panic: %v", p)
				}
			}()
			f()
		}()
	}
}

func (r *runnerT) log(fail bool, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
	if fail {
		r.failed = true
	}
}

func (r *runnerT) Log(args ...any)                 { r.log(false, fmt.Sprint(args...)) }
func (r *runnerT) Logf(format string, args ...any) { r.log(false, fmt.Sprintf(format, args...)) }
func (r *runnerT) Error(args ...any)               { r.log(true, fmt.Sprint(args...)) }
func (r *runnerT) Errorf(format string, args ...any) {
	r.log(true, fmt.Sprintf(format, args...))
}

func (r *runnerT) Fatal(args ...any) {
	r.log(true, fmt.Sprint(args...))
	runtime.Goexit()
}

func (r *runnerT) Fatalf(format string, args ...any) {
	r.log(true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *runnerT) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
