package postgres

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The entities administrators edit. Each names its rows in the audit log
// and its version in settings_version, which every instance watches.
const (
	EntitySite     = "site"
	EntityRoute    = "route"
	EntityCalendar = "calendar"
	EntityJob      = "job"
	EntityUser     = "user"
	EntitySlots    = "slots" // a hall's shelf slots and slot setting
	// EntityCourierMapping is a courier's event → stage mapping.
	EntityCourierMapping = "courier_mapping"
)

// Change is one administrator's edit of one record. Before is nil for a
// creation, After nil for a deletion. Both are encoded as JSON for the audit
// log: pass views that hold no password hashes and no citizen's personal
// data (usernames are fine).
type Change struct {
	By     shipment.Actor
	Entity string
	Key    string
	Before any
	After  any
}

// RecordChange appends c to the audit log and moves its entity's settings
// version, in tx, the transaction of the edit itself: the change, its audit
// row and the signal for other instances commit or roll back together. An
// edit that changes nothing (Before and After encode the same) records
// nothing. Call it from every administrator's edit (user disable, password
// reset, role change, slots, …) with its own entity name.
func RecordChange(ctx context.Context, tx pgx.Tx, at time.Time, c Change) error {
	before, err := auditJSON(c.Before)
	if err != nil {
		return err
	}
	after, err := auditJSON(c.After)
	if err != nil {
		return err
	}
	action := "update"
	switch {
	case before == nil && after == nil:
		return errors.New("postgres: audit: a change needs a before or an after")
	case before == nil:
		action = "create"
	case after == nil:
		action = "delete"
	case bytes.Equal(before, after):
		return nil
	}
	var actorID *int64
	if c.By.ID != 0 {
		actorID = &c.By.ID
	}
	role := string(c.By.Role)
	if role == "" {
		role = string(shipment.RoleSystem)
	}
	by := c.By.Username
	if by == "" {
		by = shipment.SystemActor.Username
	}
	_, err = tx.Exec(ctx, `WITH a AS (
		INSERT INTO audit_log (at, actor_id, actor_username, actor_role, entity, entity_key, action, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9))
	INSERT INTO settings_version AS v (entity, version, changed_at) VALUES ($5, 1, $1)
	ON CONFLICT (entity) DO UPDATE SET version = v.version + 1, changed_at = excluded.changed_at`,
		at.UTC(), actorID, by, role, c.Entity, c.Key, action, before, after)
	if err != nil {
		return fmt.Errorf("postgres: audit %s %s: %w", c.Entity, c.Key, err)
	}
	return nil
}

func auditJSON(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit: %w", err)
	}
	if string(b) == "null" {
		return nil, nil
	}
	return b, nil
}

// DefaultWatchInterval is how often an instance asks whether settings
// changed: one query on a table of a few rows.
const DefaultWatchInterval = time.Second

// Watcher makes every instance see every administrator's edit within
// seconds: each Check (every DefaultWatchInterval) reads settings_version
// and, for each entity whose version moved, calls what reloads that
// entity's in-memory copy (reference data, legs, resolved tokens). A reload
// that fails is tried again at the next Check.
type Watcher struct {
	Pool *pgxpool.Pool

	mu      sync.Mutex
	seen    map[string]int64
	reloads map[string][]func(ctx context.Context) error
}

// On registers fn to run when entity's version moves.
func (w *Watcher) On(entity string, fn func(ctx context.Context) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.reloads == nil {
		w.reloads = map[string][]func(context.Context) error{}
	}
	w.reloads[entity] = append(w.reloads[entity], fn)
}

// Check polls once and reloads what changed since the last poll (at the
// first poll: everything). It returns the entities reloaded.
func (w *Watcher) Check(ctx context.Context) ([]string, error) {
	rows, err := w.Pool.Query(ctx, `SELECT entity, version FROM settings_version`)
	if err != nil {
		return nil, fmt.Errorf("postgres: settings version: %w", err)
	}
	versions := map[string]int64{}
	var e string
	var v int64
	_, err = pgx.ForEachRow(rows, []any{&e, &v}, func() error { versions[e] = v; return nil })
	if err != nil {
		return nil, fmt.Errorf("postgres: settings version: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[string]int64{}
	}
	var changed []string
	var errs []error
	for entity, version := range versions {
		if have, ok := w.seen[entity]; ok && have == version {
			continue
		}
		var failed bool
		for _, fn := range w.reloads[entity] {
			if err := fn(ctx); err != nil {
				errs = append(errs, fmt.Errorf("reload %s: %w", entity, err))
				failed = true
			}
		}
		if !failed {
			w.seen[entity] = version
			changed = append(changed, entity)
		}
	}
	return changed, errors.Join(errs...)
}

// Forget drops this instance's copy of the legs, so the next read sees the
// database.
func (r *Routes) Forget(context.Context) error {
	r.forget()
	return nil
}

// ForgetTokens drops the tokens this instance resolved, so the next request
// of each asks the database again (a disabled user, a changed role).
func (u *Users) ForgetTokens(context.Context) error {
	u.cache.Clear()
	u.cached.Store(0)
	return nil
}

// Settings edits the sites and reads the audit log.
type Settings struct {
	Pool *pgxpool.Pool
	Ref  *RefData
	Now  func() time.Time
}

const siteCols = `code, kind, name_zh, name_en, province, city, district, street, detail, phone, hours_zh, hours_en,
	windows, active, coalesce(to_char(quiet_start, 'HH24:MI'), ''), coalesce(to_char(quiet_end, 'HH24:MI'), ''),
	notice_zh, notice_en`

func scanSite(row pgx.Row) (shipment.Site, error) {
	var s shipment.Site
	var qs, qe string
	err := row.Scan(&s.Code, &s.Kind, &s.NameZH, &s.NameEN, &s.Province, &s.City, &s.District, &s.Street, &s.Detail,
		&s.Phone, &s.HoursZH, &s.HoursEN, &s.Windows, &s.Active, &qs, &qe, &s.NoticeZH, &s.NoticeEN)
	if qs != "" {
		s.QuietHours = &shipment.QuietHours{Start: qs, End: qe}
	}
	if s.Windows == nil {
		s.Windows = []shipment.Window{}
	}
	return s, err
}

// SaveSite locks a site, asks change for its names, address, phone, hours,
// active flag and hall settings as they should be, writes them audited, and
// reloads this instance's reference data at once (the others within
// seconds, through their Watcher). Errors: site.not_found, those of change.
func (st *Settings) SaveSite(ctx context.Context, by shipment.Actor, code string,
	change func(cur shipment.Site) (shipment.Site, error)) (shipment.Site, error) {
	var after shipment.Site
	err := WithTx(ctx, st.Pool, func(tx pgx.Tx) error {
		before, err := scanSite(tx.QueryRow(ctx, `SELECT `+siteCols+` FROM sites WHERE code = $1 FOR UPDATE`, code))
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "site.not_found").With("site", code)
		}
		if err != nil {
			return err
		}
		if after, err = change(before); err != nil {
			return err
		}
		var qs, qe string
		if q := after.QuietHours; q != nil {
			qs, qe = q.Start, q.End
		}
		now := st.Now().UTC()
		if _, err := tx.Exec(ctx, `UPDATE sites SET name_zh = $2, name_en = $3, province = $4, city = $5, district = $6,
			street = $7, detail = $8, phone = $9, hours_zh = $10, hours_en = $11, active = $12,
			quiet_start = NULLIF($13::text, '')::time, quiet_end = NULLIF($14::text, '')::time,
			notice_zh = $15, notice_en = $16, updated_at = $17 WHERE code = $1`,
			code, after.NameZH, after.NameEN, after.Province, after.City, after.District, after.Street, after.Detail,
			after.Phone, after.HoursZH, after.HoursEN, after.Active, qs, qe, after.NoticeZH, after.NoticeEN, now); err != nil {
			return err
		}
		return RecordChange(ctx, tx, now, Change{By: by, Entity: EntitySite, Key: code, Before: before, After: after})
	})
	if err != nil {
		return shipment.Site{}, translate(err, "site")
	}
	// The edit is committed: should this reload fail, the Watcher's next
	// poll reloads (the version moved), so the answer is still the change.
	_ = st.Ref.Reload(ctx, st.Pool)
	return after, nil
}

// Audit lists the audit log, newest first, as f (checked by
// shipment.AuditFilter.Check) says. Errors: request.bad_cursor (invalid).
func (st *Settings) Audit(ctx context.Context, f shipment.AuditFilter) (tracking.Page[shipment.AuditEntry], error) {
	out := tracking.Page[shipment.AuditEntry]{Items: []shipment.AuditEntry{}}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var after int64
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err == nil {
			after, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil || after <= 0 {
			return out, apperr.New(apperr.Invalid, "request.bad_cursor")
		}
	}
	rows, err := st.Pool.Query(ctx, `SELECT id, at, coalesce(actor_id, 0), actor_username, actor_role, entity, entity_key,
		action, before, after FROM audit_log
		WHERE ($1 = '' OR entity = $1) AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
		  AND ($4 = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`, f.Entity, f.From, f.To, after, f.Limit+1)
	if err != nil {
		return out, translate(err, "audit")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shipment.AuditEntry, error) {
		var a shipment.AuditEntry
		err := r.Scan(&a.ID, &a.At, &a.ActorID, &a.ActorUsername, &a.ActorRole, &a.Entity, &a.Key, &a.Action, &a.Before, &a.After)
		a.At = tracking.Local(a.At)
		return a, err
	})
	if err != nil {
		return out, translate(err, "audit")
	}
	if len(items) > f.Limit {
		items = items[:f.Limit]
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(items[len(items)-1].ID, 10)))
	}
	out.Items = items
	return out, nil
}

// CourierMapping reads a courier's event → stage mapping (false: none
// saved, the carrier's default holds).
func (st *Settings) CourierMapping(ctx context.Context, carrier string) (tracking.StageMapping, bool, error) {
	var m tracking.StageMapping
	var raw []byte
	err := st.Pool.QueryRow(ctx, `SELECT mapping FROM courier_mappings WHERE carrier = $1`, carrier).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, translate(err, "courier_mapping")
	}
	return m, true, json.Unmarshal(raw, &m)
}

// SaveCourierMapping keeps a courier's mapping (checked by
// tracking.CheckStageMapping), audited as by's; every instance reloads it.
func (st *Settings) SaveCourierMapping(ctx context.Context, by shipment.Actor, carrier string, before, m tracking.StageMapping) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	now := st.Now().UTC()
	return translate(WithTx(ctx, st.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO courier_mappings (carrier, mapping, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (carrier) DO UPDATE SET mapping = EXCLUDED.mapping, updated_at = EXCLUDED.updated_at`, carrier, raw, now); err != nil {
			return err
		}
		return RecordChange(ctx, tx, now, Change{By: by, Entity: EntityCourierMapping, Key: carrier, Before: before, After: m})
	}), "courier_mapping")
}
