package main

import (
	"context"

	"github.com/changchun-gov/courier/internal/jobs"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/shipment"
)

// integrityAPI adapts the ledger and the job queue to web.Integrity.
type integrityAPI struct {
	ledger *postgres.Ledger
	sched  *jobs.Service
}

func (o *integrityAPI) Digests(ctx context.Context, from, to string) (any, error) {
	return o.ledger.Digests(ctx, from, to)
}

func (o *integrityAPI) StartVerify(ctx context.Context, a shipment.Actor, from, to, waybill string) (any, error) {
	return o.sched.StartVerify(ctx, a.Username, postgres.VerifyScope{From: from, To: to, Waybill: waybill})
}

func (o *integrityAPI) VerifyRun(ctx context.Context, id int64) (any, error) {
	return o.ledger.VerifyRunByID(ctx, id)
}
