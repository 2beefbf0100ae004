package postgres

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// Reference schedules (Asia/Shanghai): departments hand over at 09:30 and
// 14:30 on working days, the hub forwards at 11:00 and 16:00, halls send
// materials and returns at 10:00 and 15:00.
const (
	scheduleDepartments = "30 9,14 * * *"
	scheduleHub         = "0 11,16 * * *"
	scheduleHalls       = "0 10,15 * * *"
)

// ReferenceLegs are the routes of the product brief: department → city
// window direct; department → hub → county/district hall; hall → hub →
// department for application materials and returns.
func ReferenceLegs() []shipment.Leg {
	var out []shipment.Leg
	leg := func(from, to, sched string, sla int) {
		out = append(out, shipment.Leg{From: from, To: to, Schedule: sched, SLAHours: sla, Active: true})
	}
	var halls, depts []string
	for _, s := range ReferenceSites {
		switch s.Kind {
		case shipment.SiteHall:
			halls = append(halls, s.Code)
		case shipment.SiteDepartment:
			depts = append(depts, s.Code)
		}
	}
	for _, d := range depts {
		leg(d, "CC-WIN", scheduleDepartments, 24)
		leg(d, "CC-HUB", scheduleDepartments, 24)
		leg("CC-HUB", d, scheduleHub, 24)
		leg("CC-WIN", d, scheduleHalls, 24)
	}
	for _, h := range halls {
		if h != "CC-WIN" {
			leg("CC-HUB", h, scheduleHub, 48)
		}
		leg(h, "CC-HUB", scheduleHalls, 48)
	}
	return out
}

// Routes reads and edits the legs. Every instance keeps the legs for a few
// seconds (LegsTTL), so an administrator's edit reaches all of them soon.
type Routes struct {
	Pool *pgxpool.Pool
	Ref  *RefData
	Now  func() time.Time

	mu      sync.Mutex
	legs    []shipment.Leg
	fetched time.Time
}

// LegsTTL is how long an instance trusts its copy of the legs.
const LegsTTL = 5 * time.Second

// Legs returns every leg, active or not.
func (r *Routes) Legs(ctx context.Context) ([]shipment.Leg, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.legs != nil && time.Since(r.fetched) < LegsTTL {
		return r.legs, nil
	}
	rows, err := r.Pool.Query(ctx, `SELECT id, from_site, to_site, schedule, sla_hours, active FROM legs ORDER BY id`)
	if err != nil {
		return nil, translate(err, "route")
	}
	legs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (shipment.Leg, error) {
		var l shipment.Leg
		err := row.Scan(&l.ID, &l.From, &l.To, &l.Schedule, &l.SLAHours, &l.Active)
		return l, err
	})
	if err != nil {
		return nil, translate(err, "route")
	}
	r.legs, r.fetched = legs, time.Now()
	return legs, nil
}

func (r *Routes) forget() {
	r.mu.Lock()
	r.legs = nil
	r.mu.Unlock()
}

// Path is the shortest path over the active legs. Errors: route.none.
func (r *Routes) Path(ctx context.Context, from, to string) ([]string, error) {
	legs, err := r.Legs(ctx)
	if err != nil {
		return nil, err
	}
	return shipment.ShortestPath(legs, from, to)
}

// Leg returns one leg. Errors: route.not_found.
func (r *Routes) Leg(ctx context.Context, id int64) (shipment.Leg, error) {
	var l shipment.Leg
	err := r.Pool.QueryRow(ctx, `SELECT id, from_site, to_site, schedule, sla_hours, active FROM legs WHERE id = $1`, id).
		Scan(&l.ID, &l.From, &l.To, &l.Schedule, &l.SLAHours, &l.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, apperr.New(apperr.NotFound, "route.not_found").With("id", id)
	}
	return l, translate(err, "route")
}

// SaveLeg creates a leg (ID 0) or changes one, checked by
// service.Settings.SaveLeg, audited as by's. Errors: route.duplicate
// (conflict), route.not_found. Deactivating a leg flags the parcels whose
// path needs it.
func (r *Routes) SaveLeg(ctx context.Context, by shipment.Actor, l shipment.Leg) (shipment.Leg, error) {
	now := r.Now().UTC()
	err := WithTx(ctx, r.Pool, func(tx pgx.Tx) error {
		var err error
		var before *shipment.Leg
		if l.ID == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO legs (from_site, to_site, schedule, sla_hours, active, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, l.From, l.To, l.Schedule, l.SLAHours, l.Active, now).Scan(&l.ID)
		} else {
			var old shipment.Leg
			err = tx.QueryRow(ctx, `SELECT id, from_site, to_site, schedule, sla_hours, active FROM legs WHERE id = $1 FOR UPDATE`, l.ID).
				Scan(&old.ID, &old.From, &old.To, &old.Schedule, &old.SLAHours, &old.Active)
			if errors.Is(err, pgx.ErrNoRows) {
				return apperr.New(apperr.NotFound, "route.not_found").With("id", l.ID)
			}
			if err != nil {
				return err
			}
			before = &old
			_, err = tx.Exec(ctx, `UPDATE legs SET from_site = $2, to_site = $3, schedule = $4, sla_hours = $5,
				active = $6, updated_at = $7 WHERE id = $1`, l.ID, l.From, l.To, l.Schedule, l.SLAHours, l.Active, now)
		}
		if isUnique(err, "") {
			return apperr.New(apperr.Conflict, "route.duplicate").With("from", l.From).With("to", l.To)
		}
		if err != nil {
			return err
		}
		if err := flagBrokenPaths(ctx, tx, now); err != nil {
			return err
		}
		c := Change{By: by, Entity: EntityRoute, Key: strconv.FormatInt(l.ID, 10), After: l}
		if before != nil {
			c.Before = *before
		}
		return RecordChange(ctx, tx, now, c)
	})
	r.forget()
	if err != nil {
		return l, translate(err, "route")
	}
	return l, nil
}

// pathNoteEvents notes on each parcel of u that its path broke or is whole
// again.
var pathNoteEvents = insertEvents("u", ev{"parcel_id": "u.id", "seq": "u.event_seq", "action": "'note'",
	"status_before": "u.status", "status_after": "u.status", "actor_role": "'system'", "source": "'schedule'",
	"server_time": "$1", "reason": "CASE WHEN u.broken THEN 'path_broken' ELSE 'path_restored' END"})

// flagBrokenPaths marks parcels still on their way whose next leg no longer
// exists (and clears the mark where it exists again), with a note event:
// flagged, not lost.
func flagBrokenPaths(ctx context.Context, tx pgx.Tx, now time.Time) error {
	_, err := tx.Exec(ctx, `WITH c AS (
		SELECT p.id, p.status, NOT EXISTS (SELECT 1 FROM legs l WHERE l.active AND l.from_site = p.path[p.path_idx + 1]
			AND l.to_site = p.path[p.path_idx + 2]) AS broken
		FROM parcels p
		WHERE p.journey_ended_at IS NULL AND p.path_idx + 1 < cardinality(p.path)
		  AND p.status IN ('registered', 'awaiting_pickup', 'arrived', 'returning', 'exception')
		ORDER BY p.id FOR UPDATE OF p),
	u AS (
		UPDATE parcels p SET path_broken = c.broken, event_seq = event_seq + 1 FROM c
		WHERE p.id = c.id AND p.path_broken IS DISTINCT FROM c.broken
		RETURNING p.id, p.event_seq, c.status, c.broken)
	`+pathNoteEvents, now)
	return err
}
