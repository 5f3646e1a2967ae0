package conformance

import (
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/decnet/decnet-db/core/repository"
)

func init() {
	register(
		Check{Name: "user_create_assigns", Run: checkUserCreateAssigns},
		Check{Name: "user_create_keeps_given", Run: checkUserCreateKeepsGiven},
		Check{Name: "user_conflict", Run: checkUserConflict},
		Check{Name: "user_case_sensitive", Run: checkUserCaseSensitive},
		Check{Name: "user_invalid", Run: checkUserInvalid},
		Check{Name: "user_not_found", Run: checkUserNotFound},
		Check{Name: "users_sorted", Run: checkUsersSorted},
		Check{Name: "user_update_password", Run: checkUserUpdatePassword},
		Check{Name: "user_update_role", Run: checkUserUpdateRole},
		Check{Name: "user_delete", Run: checkUserDelete},
		Check{Name: "admin_seeded", Run: checkAdminSeeded},
		Check{Name: "admin_initialize_idempotent", Run: checkAdminInitializeIdempotent},
		Check{Name: "admin_resync", Run: checkAdminResync},
		Check{Name: "admin_no_resync_after_change", Run: checkAdminNoResyncAfterChange},
	)
}

// expectUser reports every field in which got differs from want; the UUID
// is compared when want.UUID is set, CreatedAt when it is not zero.
func expectUser(t T, what string, got, want repository.User) {
	t.Helper()
	if want.UUID != "" && got.UUID != want.UUID {
		t.Errorf("%s: uuid %q, want %q", what, got.UUID, want.UUID)
	}
	if got.Username != want.Username {
		t.Errorf("%s: username %q, want %q", what, got.Username, want.Username)
	}
	if got.PasswordHash != want.PasswordHash {
		t.Errorf("%s: password hash %q, want %q", what, got.PasswordHash, want.PasswordHash)
	}
	if got.Role != want.Role {
		t.Errorf("%s: role %q, want %q", what, got.Role, want.Role)
	}
	if got.MustChangePassword != want.MustChangePassword {
		t.Errorf("%s: must change password %v, want %v", what, got.MustChangePassword, want.MustChangePassword)
	}
	if !want.CreatedAt.IsZero() {
		expectTime(t, what+": created_at", got.CreatedAt, want.CreatedAt)
	}
}

func checkUserCreateAssigns(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	in := newUser("alice")
	in.MustChangePassword = true
	u := createUser(t, r, in)
	expectUUID(t, "CreateUser: assigned uuid", u.UUID)
	expectNow(t, "CreateUser: assigned created_at", u.CreatedAt)
	expectUser(t, "CreateUser result", u, in)
	if byUUID, ok := got(r.UserByUUID(ctx, u.UUID)).ok(t, "UserByUUID"); ok {
		expectUser(t, "UserByUUID", byUUID, u)
	}
	if byName, ok := got(r.UserByUsername(ctx, "alice")).ok(t, "UserByUsername"); ok {
		expectUser(t, "UserByUsername", byName, u)
	}
	u2 := createUser(t, r, newUser("bob"))
	if u2.UUID == u.UUID {
		t.Errorf("two users got the same uuid %q", u.UUID)
	}
}

func checkUserCreateKeepsGiven(t T, h *Harness) {
	r := h.Repo(t)
	in := repository.User{
		UUID:               "0b9e9c1e-6d3c-4c43-9f57-3e3f3b1d2a10",
		Username:           "carol",
		PasswordHash:       testHash(),
		Role:               repository.RoleAdmin,
		MustChangePassword: false,
		CreatedAt:          time.Date(2023, 2, 3, 4, 5, 6, 789000000, zone),
	}
	u := createUser(t, r, in)
	expectUser(t, "CreateUser result", u, in)
	if back, ok := got(r.UserByUUID(t.Context(), in.UUID)).ok(t, "UserByUUID"); ok {
		expectUser(t, "UserByUUID", back, in)
	}
}

func checkUserConflict(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	first := createUser(t, r, newUser("dave"))
	_, err := r.CreateUser(ctx, newUser("dave"))
	expectErr(t, err, repository.ErrConflict, "CreateUser with a taken username")
	_, err = r.CreateUser(ctx, newUser(DefaultAdmin.User))
	expectErr(t, err, repository.ErrConflict, "CreateUser with the admin's username")
	sameUUID := newUser("erin")
	sameUUID.UUID = first.UUID
	_, err = r.CreateUser(ctx, sameUUID)
	expectErr(t, err, repository.ErrConflict, "CreateUser with a taken uuid")
	if u, ok := got(r.UserByUUID(ctx, first.UUID)).ok(t, "UserByUUID"); ok && u.Username != "dave" {
		t.Errorf("after conflicts: uuid %s belongs to %q, want dave", first.UUID, u.Username)
	}
	_, err = r.UserByUsername(ctx, "erin")
	expectErr(t, err, repository.ErrNotFound, "UserByUsername of a user whose creation conflicted")
}

func checkUserCaseSensitive(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	upper := createUser(t, r, newUser("Alice"))
	lower, err := r.CreateUser(ctx, newUser("alice"))
	if !expectOK(t, err, `CreateUser "alice" after "Alice" (usernames are case-sensitive)`) {
		return
	}
	if upper.UUID == lower.UUID {
		t.Errorf("Alice and alice share uuid %s", upper.UUID)
	}
	for _, c := range []struct{ name, uuid string }{{"Alice", upper.UUID}, {"alice", lower.UUID}} {
		if u, ok := got(r.UserByUsername(ctx, c.name)).ok(t, "UserByUsername "+c.name); ok && (u.UUID != c.uuid || u.Username != c.name) {
			t.Errorf("UserByUsername(%q): %q (%s), want %q (%s)", c.name, u.Username, u.UUID, c.name, c.uuid)
		}
	}
	_, err = r.UserByUsername(ctx, "ALICE")
	expectErr(t, err, repository.ErrNotFound, `UserByUsername("ALICE")`)
}

func checkUserInvalid(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	for _, c := range []struct {
		name   string
		edit   func(*repository.User)
		target error
		field  string
	}{
		{"an empty username", func(u *repository.User) { u.Username = "" }, repository.ErrInvalid, "username"},
		{"an unknown role", func(u *repository.User) { u.Role = "root" }, repository.ErrInvalid, "role"},
		{"an empty role", func(u *repository.User) { u.Role = "" }, repository.ErrInvalid, "role"},
		{"an empty password hash", func(u *repository.User) { u.PasswordHash = "" }, repository.ErrInvalid, "password_hash"},
		{"a username over MaxShortLen", func(u *repository.User) { u.Username = strings.Repeat("u", repository.MaxShortLen+1) }, repository.ErrTooLarge, "username"},
	} {
		u := newUser("frank")
		c.edit(&u)
		_, err := r.CreateUser(ctx, u)
		expectErrField(t, err, c.target, c.field, "CreateUser with "+c.name)
	}
	if us := got(r.Users(ctx)).must(t, "Users"); len(us) != 1 {
		t.Errorf("Users after rejected users: %d users, want only the admin", len(us))
	}
}

func checkUserNotFound(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	_, err := r.UserByUsername(ctx, "nobody")
	expectErr(t, err, repository.ErrNotFound, "UserByUsername of an unknown user")
	_, err = r.UserByUUID(ctx, "00000000-0000-4000-8000-000000000000")
	expectErr(t, err, repository.ErrNotFound, "UserByUUID of an unknown uuid")
}

func checkUsersSorted(t T, h *Harness) {
	r := h.Repo(t)
	for _, n := range []string{"zed", "bob", "aaron", "carol"} {
		createUser(t, r, newUser(n))
	}
	var names []string
	for _, u := range got(r.Users(t.Context())).must(t, "Users") {
		names = append(names, u.Username)
	}
	expectStrings(t, "Users", names, []string{"aaron", DefaultAdmin.User, "bob", "carol", "zed"})
}

func checkUserUpdatePassword(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	u := createUser(t, r, newUser("gina"))
	other := createUser(t, r, newUser("hank"))
	newHash := hashOf(t, "gina-new-pw")
	mustOK(t, r.UpdateUserPassword(ctx, u.UUID, newHash, true), "UpdateUserPassword")
	want := u
	want.PasswordHash, want.MustChangePassword = newHash, true
	if back, ok := got(r.UserByUUID(ctx, u.UUID)).ok(t, "UserByUUID"); ok {
		expectUser(t, "after UpdateUserPassword", back, want)
	}
	// the same values again: the row exists, so it is not ErrNotFound
	expectOK(t, r.UpdateUserPassword(ctx, u.UUID, newHash, true), "UpdateUserPassword with unchanged values")
	mustOK(t, r.UpdateUserPassword(ctx, u.UUID, newHash, false), "UpdateUserPassword clearing must-change")
	want.MustChangePassword = false
	if back, ok := got(r.UserByUUID(ctx, u.UUID)).ok(t, "UserByUUID"); ok {
		expectUser(t, "after clearing must-change", back, want)
	}
	if back, ok := got(r.UserByUUID(ctx, other.UUID)).ok(t, "UserByUUID other"); ok {
		expectUser(t, "the other user", back, other)
	}
	err := r.UpdateUserPassword(ctx, "00000000-0000-4000-8000-000000000000", newHash, false)
	expectErr(t, err, repository.ErrNotFound, "UpdateUserPassword of an unknown uuid")
}

func checkUserUpdateRole(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	u := createUser(t, r, newUser("ivan"))
	mustOK(t, r.UpdateUserRole(ctx, u.UUID, repository.RoleAdmin), "UpdateUserRole admin")
	want := u
	want.Role = repository.RoleAdmin
	if back, ok := got(r.UserByUUID(ctx, u.UUID)).ok(t, "UserByUUID"); ok {
		expectUser(t, "after UpdateUserRole", back, want)
	}
	expectOK(t, r.UpdateUserRole(ctx, u.UUID, repository.RoleAdmin), "UpdateUserRole with the unchanged role")
	expectErrField(t, r.UpdateUserRole(ctx, u.UUID, "superuser"), repository.ErrInvalid, "role", "UpdateUserRole to an unknown role")
	if back, ok := got(r.UserByUUID(ctx, u.UUID)).ok(t, "UserByUUID"); ok && back.Role != repository.RoleAdmin {
		t.Errorf("after a rejected role: role %q, want admin", back.Role)
	}
	mustOK(t, r.UpdateUserRole(ctx, u.UUID, repository.RoleViewer), "UpdateUserRole viewer")
	if back, ok := got(r.UserByUUID(ctx, u.UUID)).ok(t, "UserByUUID"); ok && back.Role != repository.RoleViewer {
		t.Errorf("after UpdateUserRole viewer: role %q", back.Role)
	}
	err := r.UpdateUserRole(ctx, "00000000-0000-4000-8000-000000000000", repository.RoleViewer)
	expectErr(t, err, repository.ErrNotFound, "UpdateUserRole of an unknown uuid")
}

func checkUserDelete(t T, h *Harness) {
	r := h.Repo(t)
	ctx := t.Context()
	u := createUser(t, r, newUser("judy"))
	if ok := got(r.DeleteUser(ctx, u.UUID)).must(t, "DeleteUser"); !ok {
		t.Errorf("DeleteUser of an existing user: false, want true")
	}
	if ok := got(r.DeleteUser(ctx, u.UUID)).must(t, "DeleteUser again"); ok {
		t.Errorf("DeleteUser of a deleted user: true, want false")
	}
	_, err := r.UserByUUID(ctx, u.UUID)
	expectErr(t, err, repository.ErrNotFound, "UserByUUID of a deleted user")
	_, err = r.UserByUsername(ctx, "judy")
	expectErr(t, err, repository.ErrNotFound, "UserByUsername of a deleted user")
	again := createUser(t, r, newUser("judy"))
	if again.UUID == "" {
		t.Errorf("CreateUser of a deleted username: no uuid")
	}
}

// expectAdmin reports a failure unless u is the seeded admin whose hash
// matches password.
func expectAdmin(t T, what string, u repository.User, password string) {
	t.Helper()
	if u.Username != DefaultAdmin.User {
		t.Errorf("%s: username %q, want %q", what, u.Username, DefaultAdmin.User)
	}
	if u.Role != repository.RoleAdmin {
		t.Errorf("%s: role %q, want admin", what, u.Role)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)); err != nil {
		t.Errorf("%s: the hash does not match the configured password: %v", what, err)
	}
}

func checkAdminSeeded(t T, h *Harness) {
	r := h.Repo(t)
	u := adminUser(t, r)
	expectAdmin(t, "seeded admin", u, DefaultAdmin.Password)
	if !u.MustChangePassword {
		t.Errorf("seeded admin: must change password false, want true")
	}
	expectUUID(t, "seeded admin uuid", u.UUID)
	if strings.Contains(u.PasswordHash, DefaultAdmin.Password) {
		t.Errorf("seeded admin: the hash contains the password")
	}
	if us := got(r.Users(t.Context())).must(t, "Users"); len(us) != 1 {
		t.Errorf("Users after Initialize: %d users, want only the admin", len(us))
	}
}

func checkAdminInitializeIdempotent(t T, h *Harness) {
	r := h.Repo(t)
	first := adminUser(t, r)
	mustOK(t, r.Initialize(t.Context()), "Initialize again")
	addLog(t, r, sampleLog(0))
	mustOK(t, r.Initialize(t.Context()), "Initialize a third time")
	us := got(r.Users(t.Context())).must(t, "Users")
	if len(us) != 1 {
		t.Errorf("Users after three Initialize calls: %d users, want 1", len(us))
	}
	again := adminUser(t, r)
	if again.UUID != first.UUID {
		t.Errorf("Initialize again changed the admin's uuid: %s, want %s", again.UUID, first.UUID)
	}
	if !again.MustChangePassword || again.Role != repository.RoleAdmin {
		t.Errorf("Initialize again changed the admin: %+v", again)
	}
	if n := countLogs(t, r, repository.LogFilter{}); n != 1 {
		t.Errorf("Initialize again changed the data: CountLogs %d, want 1", n)
	}
}

func checkAdminResync(t T, h *Harness) {
	r := h.Repo(t)
	first := adminUser(t, r)
	r2 := h.Open(t, Admin{User: DefaultAdmin.User, Password: "new-pw"})
	u := adminUser(t, r2)
	if u.UUID != first.UUID {
		t.Errorf("re-sync changed the admin's uuid: %s, want %s", u.UUID, first.UUID)
	}
	expectAdmin(t, "re-synced admin", u, "new-pw")
	if !u.MustChangePassword {
		t.Errorf("re-synced admin: must change password false, want true")
	}
	if us := got(r2.Users(t.Context())).must(t, "Users"); len(us) != 1 {
		t.Errorf("Users after a re-sync: %d users, want 1", len(us))
	}
}

func checkAdminNoResyncAfterChange(t T, h *Harness) {
	r := h.Repo(t)
	admin := adminUser(t, r)
	own := hashOf(t, "the-admins-own-pw")
	mustOK(t, r.UpdateUserPassword(t.Context(), admin.UUID, own, false), "UpdateUserPassword")
	r2 := h.Open(t, Admin{User: DefaultAdmin.User, Password: "another-configured-pw"})
	u := adminUser(t, r2)
	if u.PasswordHash != own {
		t.Errorf("Initialize replaced the hash of an admin who changed their password: %q, want %q", u.PasswordHash, own)
	}
	if u.MustChangePassword {
		t.Errorf("Initialize set must change password again on an admin who changed their password")
	}
}
