package repository

import (
	"context"
	"database/sql"

	"github.com/google/uuid"
)

var userCols = tableByName(TableUsers).columnNames()

func (r *SQLRepository) userValues(u User) []any {
	return []any{u.UUID, u.Username, u.PasswordHash, string(u.Role), u.MustChangePassword, r.d.BindTime(normTime(u.CreatedAt))}
}

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var role string
	err := row.Scan(&u.UUID, &u.Username, &u.PasswordHash, &role, &u.MustChangePassword, timeCol{&u.CreatedAt})
	u.Role = Role(role)
	return u, err
}

// CreateUser stores u; ErrConflict when the username or UUID is taken.
func (r *SQLRepository) CreateUser(ctx context.Context, u User) (User, error) {
	const op = "create user"
	if err := r.check(ctx, op); err != nil {
		return User{}, err
	}
	if u.UUID == "" {
		u.UUID = uuid.NewString()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.CreatedAt = normTime(u.CreatedAt)
	if err := u.Validate(); err != nil {
		return User{}, r.fail(ctx, op, err)
	}
	q := r.insertSQL(TableUsers, userCols, 1, "", false)
	if _, err := r.write.ExecContext(ctx, q, r.userValues(u)...); err != nil {
		return User{}, r.fail(ctx, op+" "+quoteKey(u.Username), err)
	}
	return u, nil
}

// userBy returns the user whose column equals value, or ErrNotFound.
func (r *SQLRepository) userBy(ctx context.Context, ex execer, column, value string) (User, error) {
	sb := r.selectBuilder()
	sb.Select(userCols...).From(TableUsers).Where(sb.Equal(column, value))
	q, args := sb.Build()
	u, err := scanUser(ex.QueryRowContext(ctx, q, args...))
	return u, notFound(err)
}

// UserByUsername returns the user, or ErrNotFound.
func (r *SQLRepository) UserByUsername(ctx context.Context, username string) (User, error) {
	return r.getUser(ctx, "user by username", "username", username)
}

// UserByUUID returns the user, or ErrNotFound.
func (r *SQLRepository) UserByUUID(ctx context.Context, id string) (User, error) {
	return r.getUser(ctx, "user by uuid", "uuid", id)
}

func (r *SQLRepository) getUser(ctx context.Context, op, column, value string) (User, error) {
	if err := r.check(ctx, op); err != nil {
		return User{}, err
	}
	u, err := r.userBy(ctx, r.read, column, value)
	if err != nil {
		return User{}, r.fail(ctx, op+" "+quoteKey(value), err)
	}
	return u, nil
}

// Users returns every user, by username.
func (r *SQLRepository) Users(ctx context.Context) ([]User, error) {
	const op = "users"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	sb := r.selectBuilder()
	sb.Select(userCols...).From(TableUsers).OrderBy("username ASC")
	out, err := collect(ctx, r, sb, func(rows *sql.Rows) (User, error) { return scanUser(rows) })
	return out, r.fail(ctx, op, err)
}

// UpdateUserPassword sets the hash and MustChangePassword.
func (r *SQLRepository) UpdateUserPassword(ctx context.Context, id, passwordHash string, mustChange bool) error {
	if err := checkShort("user.password_hash", passwordHash, true); err != nil {
		return r.fail(ctx, "update user password", err)
	}
	return r.updateUser(ctx, "update user password", id, map[string]any{"password_hash": passwordHash, "must_change_password": mustChange})
}

// UpdateUserRole sets the role.
func (r *SQLRepository) UpdateUserRole(ctx context.Context, id string, role Role) error {
	if err := checkRole(role); err != nil {
		return r.fail(ctx, "update user role", err)
	}
	return r.updateUser(ctx, "update user role", id, map[string]any{"role": string(role)})
}

// updateUser sets columns of the user id; ErrNotFound when there is none.
// Some backends count only changed rows as affected, so zero affected rows
// is confirmed with a lookup.
func (r *SQLRepository) updateUser(ctx context.Context, op, id string, set map[string]any) error {
	if err := r.check(ctx, op); err != nil {
		return err
	}
	ub := r.d.Flavor().NewUpdateBuilder()
	ub.Update(TableUsers)
	for _, c := range userCols {
		if v, ok := set[c]; ok {
			ub.SetMore(ub.Assign(c, v))
		}
	}
	ub.Where(ub.Equal("uuid", id))
	q, args := ub.Build()
	n, err := affected(r.write.ExecContext(ctx, q, args...))
	if err == nil && n == 0 {
		var ok bool
		if ok, err = r.exists(ctx, r.write, TableUsers, "uuid", id); err == nil && !ok {
			err = ErrNotFound
		}
	}
	return r.fail(ctx, op+" "+quoteKey(id), err)
}

// DeleteUser deletes the user and reports whether it existed.
func (r *SQLRepository) DeleteUser(ctx context.Context, id string) (bool, error) {
	return r.deleteByKey(ctx, "delete user", TableUsers, "uuid", id)
}
