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
// and those returning to their department not yet taken away: in no run
// by the waiting index (migration 00015), in a run sealed here but not
// picked up through the run's items (the bag still to be packed).
const onShelfSQL = `SELECT waybill_no, status, slot FROM (
	SELECT waybill_no, status, coalesce(slot, '') AS slot FROM parcels
	WHERE (code_site = $1 AND (status = 'ready' OR slot IS NOT NULL))
	   OR (wait_from = $1 AND status = 'returning' AND NOT leg_moving)
	UNION ALL
	SELECT p.waybill_no, p.status, coalesce(p.slot, '') FROM runs r JOIN run_items ri ON ri.run_id = r.id
	JOIN parcels p ON p.id = ri.parcel_id AND p.current_run = r.id
	WHERE r.from_site = $1 AND r.status = 'sealed' AND p.status = 'returning' AND NOT p.leg_moving) s
	ORDER BY slot = '', slot, waybill_no`

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
