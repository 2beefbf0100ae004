package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// onShelfSQL selects the parcels a hall's shelves hold: ready, or in
// exception from the shelf (its slot kept), by the collection-code index;
// and those returning to their department not yet taken away, by the
// waiting index (migration 00015).
const onShelfSQL = `SELECT waybill_no, status, coalesce(slot, '') FROM parcels
	WHERE (code_site = $1 AND (status = 'ready' OR slot IS NOT NULL))
	   OR (wait_from = $1 AND status = 'returning' AND NOT leg_moving)
	ORDER BY slot NULLS LAST, waybill_no`

// ShelfParcels lists what a hall's shelves should hold now.
func (l *Ledger) ShelfParcels(ctx context.Context, site string) ([]tracking.ShelfItem, error) {
	rows, err := l.Pool.Query(ctx, onShelfSQL, site)
	if err != nil {
		return nil, translate(err, "parcel")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tracking.ShelfItem, error) {
		var it tracking.ShelfItem
		var st string
		err := r.Scan(&it.WaybillNo, &st, &it.Slot)
		it.Status = shipment.Status(st)
		return it, err
	})
	return items, translate(err, "parcel")
}

// SaveStocktake keeps a stocktake's result and returns its id.
func (l *Ledger) SaveStocktake(ctx context.Context, a shipment.Actor, r tracking.StocktakeResult, at time.Time) (int64, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	var actorID *int64
	if a.ID != 0 {
		actorID = &a.ID
	}
	var id int64
	err = l.Pool.QueryRow(ctx, `INSERT INTO stocktakes (site_code, actor_id, created_at, result) VALUES ($1, $2, $3, $4) RETURNING id`,
		r.Site, actorID, at, body).Scan(&id)
	return id, translate(err, "stocktake")
}
