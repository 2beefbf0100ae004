package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
)

// LabelsFor reads what the labels of the given parcels show, in the order
// asked. Every number must exist and be the actor's to print; the error
// names every offending number.
//
// Errors: label.unknown_items (not found), label.forbidden_items
// (forbidden), label.purged_items (invalid: personal data already purged).
func (l *Ledger) LabelsFor(ctx context.Context, a shipment.Actor, numbers []string) ([]labels.Label, error) {
	rows, err := l.Pool.Query(ctx, `SELECT `+parcelCols+`, coalesce(pp.name, ''), coalesce(pp.phone, ''),
		pp.address, coalesce(pp.purged_at IS NOT NULL, false)
		FROM parcels p LEFT JOIN parcel_people pp ON pp.parcel_id = p.id WHERE p.waybill_no = ANY($1)`, numbers)
	if err != nil {
		return nil, translate(err, "parcel")
	}
	type row struct {
		p      *shipment.Parcel
		name   string
		phone  string
		addr   *shipment.Address
		purged bool
	}
	found := map[string]row{}
	for rows.Next() {
		var r row
		p, err := scanParcel(rows, &r.name, &r.phone, &r.addr, &r.purged)
		if err != nil {
			rows.Close()
			return nil, translate(err, "parcel")
		}
		r.p = p
		found[p.WaybillNo] = r
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "parcel")
	}
	var unknown, forbidden, purged []string
	out := make([]labels.Label, 0, len(numbers))
	for _, no := range numbers {
		r, ok := found[no]
		switch {
		case !ok:
			unknown = append(unknown, no)
			continue
		case !a.CanSee(r.p):
			forbidden = append(forbidden, no)
			continue
		case r.purged || r.name == "":
			purged = append(purged, no)
			continue
		}
		out = append(out, l.label(r.p, r.name, r.phone, r.addr))
	}
	switch {
	case len(unknown) > 0:
		return nil, apperr.New(apperr.NotFound, "label.unknown_items").With("items", strings.Join(unknown, "、")).With("numbers", unknown)
	case len(forbidden) > 0:
		return nil, apperr.New(apperr.Forbidden, "label.forbidden_items").With("items", strings.Join(forbidden, "、")).With("numbers", forbidden)
	case len(purged) > 0:
		return nil, apperr.New(apperr.Invalid, "label.purged_items").With("items", strings.Join(purged, "、")).With("numbers", purged)
	}
	return out, nil
}

func (l *Ledger) label(p *shipment.Parcel, name, phone string, addr *shipment.Address) labels.Label {
	place := func(code string) labels.Place {
		s, _ := l.Ref.Site(code)
		return labels.Place{Code: code, Name: s.NameZH}
	}
	lb := labels.Label{WaybillNo: p.WaybillNo, Kind: p.Kind, Origin: place(p.OriginSite), RecipientName: name,
		Phone: phone, RegisteredAt: p.CreatedAt}
	if p.DestKind == shipment.DestAddress {
		lb.Express = true
		if addr != nil {
			lb.Address = *addr
		}
	} else {
		lb.Destination = place(p.DestSite)
		if s, ok := l.Ref.Site(p.DestSite); ok && len(s.Windows) > 0 {
			lb.Window = strings.TrimSpace(s.Windows[0].No + " " + s.Windows[0].Name)
		}
	}
	if ct, ok := l.Ref.CertType(p.CertType); ok {
		lb.CertType = ct.NameZH
	}
	if next := p.NextSite(); next != "" {
		lb.Leg = p.CurrentSite() + " → " + next
	}
	return lb
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
