package web

import (
	"context"

	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/shipment"
)

// fakeIntegrity answers the digests and checks as the service would.
type fakeIntegrity struct{}

func (fakeIntegrity) Digests(context.Context, string, string) (any, error) {
	return []postgres.DigestView{{Day: "2026-03-15", Digest: "00", CreatedAt: fakeAt}}, nil
}

func (fakeIntegrity) StartVerify(_ context.Context, a shipment.Actor, from, to, waybill string) (any, error) {
	return postgres.VerifyRun{ID: 12, RequestedBy: a.Username, Status: "queued", CreatedAt: fakeAt,
		Scope: postgres.VerifyScope{From: from, To: to, Waybill: waybill}}, nil
}

func (fakeIntegrity) VerifyRun(_ context.Context, id int64) (any, error) {
	return postgres.VerifyRun{ID: id, RequestedBy: "admin", Status: "clean", CreatedAt: fakeAt,
		Result: &postgres.VerifyReport{Parcels: 1, Events: 3}}, nil
}
