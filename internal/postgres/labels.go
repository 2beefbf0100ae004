package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
)

// LabelParcels reads the parcels with the given numbers and their
// recipients' particulars, by number, for their labels
// (service.Labels.LabelsFor).
func (l *Ledger) LabelParcels(ctx context.Context, numbers []string) (map[string]service.LabelParcel, error) {
	rows, err := l.Pool.Query(ctx, `SELECT `+parcelCols+`, coalesce(pp.name, ''), coalesce(pp.phone, ''),
		pp.address, coalesce(pp.purged_at IS NOT NULL, false),
		EXISTS (SELECT 1 FROM handover_people h WHERE h.parcel_id = p.id)
		FROM parcels p LEFT JOIN parcel_people pp ON pp.parcel_id = p.id WHERE p.waybill_no = ANY($1)`, numbers)
	if err != nil {
		return nil, translate(err, "parcel")
	}
	defer rows.Close()
	found := map[string]service.LabelParcel{}
	for rows.Next() {
		var r service.LabelParcel
		if r.Parcel, err = scanParcel(rows, &r.Name, &r.Phone, &r.Address, &r.Purged, &r.Proxy); err != nil {
			return nil, translate(err, "parcel")
		}
		found[r.Parcel.WaybillNo] = r
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "parcel")
	}
	return found, nil
}

// printedEvents appends a label_printed event to each parcel of u.
var printedEvents = insertEvents("u", ev{"parcel_id": "u.id", "seq": "u.event_seq", "action": "'label_printed'",
	"status_before": "u.status", "status_after": "u.status", "site_code": "$2", "actor_id": "$3", "actor_role": "$4",
	"source": "'web'", "server_time": "$5", "detail": "jsonb_build_object('layout', $6::text)"})

// RecordPrinted appends a label_printed event to each parcel (reprints
// too), all in one statement: every parcel gets its event or none does.
func (l *Ledger) RecordPrinted(ctx context.Context, a shipment.Actor, numbers []string, layout string) error {
	var actor *int64
	if a.ID != 0 {
		actor = &a.ID
	}
	uniq := slices.Clone(numbers)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	var n int
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		// Rows are locked in id order, as every multi-parcel statement does.
		err := tx.QueryRow(ctx, `WITH l AS (
			SELECT id FROM parcels WHERE waybill_no = ANY($1) ORDER BY id FOR UPDATE),
		u AS (
			UPDATE parcels p SET event_seq = event_seq + 1 FROM l WHERE p.id = l.id RETURNING p.id, p.event_seq, p.status),
		e AS (`+printedEvents+` RETURNING 1)
		SELECT count(*) FROM e`, uniq, a.Site, actor, a.Role, l.now(), layout).Scan(&n)
		if err == nil && n != len(uniq) {
			err = fmt.Errorf("ledger: label_printed would be recorded on %d of %d parcels", n, len(uniq))
		}
		return err
	})
	return translate(err, "parcel")
}
