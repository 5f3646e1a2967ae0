package repository

import (
	"context"
	"database/sql"
	"encoding/json"
)

var deckyCols = tableByName(TableDeckies).columnNames()

// State returns the value of key, or ErrNotFound.
func (r *SQLRepository) State(ctx context.Context, key string) (json.RawMessage, error) {
	const op = "state"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	sb := r.selectBuilder()
	sb.Select("value").From(TableState).Where(sb.Equal("name", key))
	q, args := sb.Build()
	var v json.RawMessage
	err := r.read.QueryRowContext(ctx, q, args...).Scan(rawCol{&v})
	if err != nil {
		return nil, r.fail(ctx, op+" "+quoteKey(key), notFound(err))
	}
	return v, nil
}

func quoteKey(k string) string {
	b, _ := json.Marshal(k)
	return string(b)
}

// SetState inserts or replaces the value of key.
func (r *SQLRepository) SetState(ctx context.Context, key string, value json.RawMessage) error {
	const op = "set state"
	if err := r.check(ctx, op); err != nil {
		return err
	}
	if err := ValidateState(key, value); err != nil {
		return r.fail(ctx, op, err)
	}
	cols := []string{"name", "value", "updated_at"}
	q := r.insertSQL(TableState, cols, 1, r.d.Upsert(cols[:1], cols[1:]), false)
	_, err := r.write.ExecContext(ctx, q, key, string(value), r.d.BindTime(now()))
	return r.fail(ctx, op+" "+quoteKey(key), err)
}

// StateKeys returns every key, sorted.
func (r *SQLRepository) StateKeys(ctx context.Context) ([]string, error) {
	const op = "state keys"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	sb := r.selectBuilder()
	sb.Select("name").From(TableState).OrderBy("name ASC")
	out, err := collect(ctx, r, sb, func(rows *sql.Rows) (string, error) {
		var k string
		return k, rows.Scan(&k)
	})
	return out, r.fail(ctx, op, err)
}

// deckyArgs returns the values of deckyCols for d.
func (r *SQLRepository) deckyArgs(d Decky) []any {
	services := d.Services
	if services == nil {
		services = []string{}
	}
	return []any{d.Name, d.Host, d.IP, d.Hostname, d.Distro, d.Archetype, mustJSON(services), d.Status,
		nullRaw(d.Metadata), r.d.BindTime(normTime(d.UpdatedAt))}
}

func scanDecky(rows *sql.Rows) (Decky, error) {
	var d Decky
	err := rows.Scan(&d.Name, &d.Host, &d.IP, &d.Hostname, &d.Distro, &d.Archetype, jsonCol{&d.Services},
		&d.Status, rawCol{&d.Metadata}, timeCol{&d.UpdatedAt})
	return d, err
}

// UpsertDecky inserts or replaces the decky and sets its UpdatedAt.
func (r *SQLRepository) UpsertDecky(ctx context.Context, d Decky) error {
	const op = "upsert decky"
	if err := r.check(ctx, op); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return r.fail(ctx, op, err)
	}
	d.UpdatedAt = now()
	q := r.insertSQL(TableDeckies, deckyCols, 1, r.d.Upsert(deckyCols[:1], deckyCols[1:]), false)
	_, err := r.write.ExecContext(ctx, q, r.deckyArgs(d)...)
	return r.fail(ctx, op+" "+quoteKey(d.Name), err)
}

// Deckies returns every decky, by name.
func (r *SQLRepository) Deckies(ctx context.Context) ([]Decky, error) {
	const op = "deckies"
	if err := r.check(ctx, op); err != nil {
		return nil, err
	}
	sb := r.selectBuilder()
	sb.Select(deckyCols...).From(TableDeckies).OrderBy("name ASC")
	out, err := collect(ctx, r, sb, scanDecky)
	return out, r.fail(ctx, op, err)
}

// DeleteDecky deletes the decky and reports whether it existed.
func (r *SQLRepository) DeleteDecky(ctx context.Context, name string) (bool, error) {
	return r.deleteByKey(ctx, "delete decky", TableDeckies, "name", name)
}

// deleteByKey deletes the row of table whose column equals key.
func (r *SQLRepository) deleteByKey(ctx context.Context, op, table, column, key string) (bool, error) {
	if err := r.check(ctx, op); err != nil {
		return false, err
	}
	db := r.d.Flavor().NewDeleteBuilder()
	db.DeleteFrom(table).Where(db.Equal(column, key))
	q, args := db.Build()
	n, err := affected(r.write.ExecContext(ctx, q, args...))
	return n > 0, r.fail(ctx, op+" "+quoteKey(key), err)
}
