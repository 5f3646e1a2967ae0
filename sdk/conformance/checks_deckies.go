package conformance

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "decky_upsert_replaces", Run: checkDeckyUpsertReplaces},
		Check{Name: "decky_updated_at", Run: checkDeckyUpdatedAt},
		Check{Name: "decky_sorted", Run: checkDeckySorted},
		Check{Name: "decky_delete", Run: checkDeckyDelete},
		Check{Name: "decky_invalid", Run: checkDeckyInvalid},
	)
}

// sampleDecky returns a decky with every field set.
func sampleDecky(name string) repository.Decky {
	return repository.Decky{
		Name:      name,
		Host:      "swarm-host-1",
		IP:        "192.168.50.10",
		Hostname:  name + ".corp.local",
		Distro:    "debian:12",
		Archetype: "linux-server",
		Services:  []string{"ssh", "http", "smb"},
		Status:    "running",
		Metadata:  json.RawMessage(`{"ports":{"ssh":22,"http":80},"tags":["dmz"]}`),
	}
}

// expectDecky reports every field in which got differs from want, except
// UpdatedAt.
func expectDecky(t T, what string, got, want repository.Decky) {
	t.Helper()
	expectEqual(t, what+": name, host, ip, hostname, distro, archetype, status",
		[]string{got.Name, got.Host, got.IP, got.Hostname, got.Distro, got.Archetype, got.Status},
		[]string{want.Name, want.Host, want.IP, want.Hostname, want.Distro, want.Archetype, want.Status})
	expectStrings(t, what+": services", got.Services, want.Services)
	expectJSON(t, what+": metadata", got.Metadata, want.Metadata)
}

// deckyNamed returns the decky called name from Deckies.
func deckyNamed(t T, r repository.Repository, name string) (repository.Decky, bool) {
	t.Helper()
	for _, d := range got(r.Deckies(t.Context())).must(t, "Deckies") {
		if d.Name == name {
			return d, true
		}
	}
	return repository.Decky{}, false
}

func checkDeckyUpsertReplaces(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	d := sampleDecky("web-01")
	mustOK(t, r.UpsertDecky(ctx, d), "UpsertDecky")
	if g, ok := deckyNamed(t, r, "web-01"); !ok {
		t.Errorf("Deckies: web-01 missing after UpsertDecky")
	} else {
		expectDecky(t, "after insert", g, d)
	}
	d2 := repository.Decky{
		Name:      "web-01",
		Host:      "swarm-host-2",
		IP:        "192.168.50.11",
		Hostname:  "web-01b",
		Distro:    "ubuntu:24.04",
		Archetype: "windows-workstation",
		Services:  []string{"rdp"},
		Status:    "stopped",
		Metadata:  nil,
	}
	mustOK(t, r.UpsertDecky(ctx, d2), "UpsertDecky again")
	ds := got(r.Deckies(ctx)).must(t, "Deckies")
	if len(ds) != 1 {
		t.Fatalf("Deckies after two upserts of one name: %d deckies, want 1", len(ds))
	}
	expectDecky(t, "after replace", ds[0], d2)
	if len(ds[0].Metadata) != 0 {
		t.Errorf("after replace with nil metadata: metadata %s, want nil", ds[0].Metadata)
	}
}

func checkDeckyUpdatedAt(t T, h *Harness) {
	r := h.Repo(t)
	d := sampleDecky("web-01")
	d.UpdatedAt = time.Date(2001, 1, 1, 0, 0, 0, 0, zone) // replaced by UpsertDecky
	mustOK(t, r.UpsertDecky(t.Context(), d), "UpsertDecky")
	if g, ok := deckyNamed(t, r, "web-01"); ok {
		expectNow(t, "UpdatedAt", g.UpdatedAt)
	} else {
		t.Errorf("Deckies: web-01 missing")
	}
}

func checkDeckySorted(t T, h *Harness) {
	r := h.Repo(t)
	for _, n := range []string{"web-02", "db-01", "web-01", "mail", "a-first", "zz"} {
		mustOK(t, r.UpsertDecky(t.Context(), repository.Decky{Name: n}), "UpsertDecky "+n)
	}
	var names []string
	for _, d := range got(r.Deckies(t.Context())).must(t, "Deckies") {
		names = append(names, d.Name)
	}
	expectStrings(t, "Deckies", names, []string{"a-first", "db-01", "mail", "web-01", "web-02", "zz"})
}

func checkDeckyDelete(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	mustOK(t, r.UpsertDecky(ctx, sampleDecky("web-01")), "UpsertDecky")
	mustOK(t, r.UpsertDecky(ctx, sampleDecky("web-02")), "UpsertDecky")
	if ok := got(r.DeleteDecky(ctx, "web-01")).must(t, "DeleteDecky"); !ok {
		t.Errorf("DeleteDecky of an existing decky: false, want true")
	}
	if ok := got(r.DeleteDecky(ctx, "web-01")).must(t, "DeleteDecky again"); ok {
		t.Errorf("DeleteDecky of a deleted decky: true, want false")
	}
	if ok := got(r.DeleteDecky(ctx, "never-was")).must(t, "DeleteDecky unknown"); ok {
		t.Errorf("DeleteDecky of an unknown decky: true, want false")
	}
	if _, ok := deckyNamed(t, r, "web-01"); ok {
		t.Errorf("Deckies still lists a deleted decky")
	}
	if _, ok := deckyNamed(t, r, "web-02"); !ok {
		t.Errorf("Deckies lost the decky that was not deleted")
	}
}

func checkDeckyInvalid(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	for _, c := range []struct {
		name   string
		d      repository.Decky
		target error
		field  string
	}{
		{"an empty name", repository.Decky{}, repository.ErrInvalid, "name"},
		{"invalid metadata", repository.Decky{Name: "x", Metadata: json.RawMessage(`{`)}, repository.ErrInvalid, "metadata"},
		{"a name over MaxShortLen", repository.Decky{Name: strings.Repeat("n", repository.MaxShortLen+1)}, repository.ErrTooLarge, "name"},
		{"an empty service", repository.Decky{Name: "x", Services: []string{"ssh", ""}}, repository.ErrInvalid, "services"},
	} {
		expectErrField(t, r.UpsertDecky(ctx, c.d), c.target, c.field, "UpsertDecky with "+c.name)
	}
	if ds := got(r.Deckies(ctx)).must(t, "Deckies"); len(ds) != 0 {
		t.Errorf("Deckies after rejected upserts: %d deckies, want none", len(ds))
	}
}
