package web

import (
	"context"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// fakeIntegrity answers the digests and checks as the service would.
type fakeIntegrity struct{}

func (fakeIntegrity) Digests(context.Context, string, string) ([]tracking.DigestView, error) {
	return []tracking.DigestView{{Day: "2026-03-15", Digest: "00", CreatedAt: fakeAt}}, nil
}

func (fakeIntegrity) StartVerify(_ context.Context, a shipment.Actor, from, to, waybill string) (tracking.VerifyRun, error) {
	return tracking.VerifyRun{ID: 12, RequestedBy: a.Username, Status: "queued", CreatedAt: fakeAt,
		Scope: tracking.VerifyScope{From: from, To: to, Waybill: waybill}}, nil
}

func (fakeIntegrity) VerifyRun(_ context.Context, id int64) (tracking.VerifyRun, error) {
	return tracking.VerifyRun{ID: id, RequestedBy: "admin", Status: "clean", CreatedAt: fakeAt,
		Result: &tracking.VerifyReport{Parcels: 1, Events: 3}}, nil
}
