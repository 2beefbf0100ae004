package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/jobs"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/schedule"
	svc "github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
)

// runsAPI adapts the ledger, the routes and the scheduler to web.Operations.
type runsAPI struct {
	ledger *postgres.Ledger
	runs   *svc.Runs[postgres.CloseResult]
	routes *postgres.Routes
	sched  *jobs.Service
}

func (o *runsAPI) Legs(ctx context.Context) ([]shipment.Leg, error) { return o.routes.Legs(ctx) }

func (o *runsAPI) Path(ctx context.Context, from, to string) ([]string, error) {
	for _, s := range []string{from, to} {
		if _, ok := o.ledger.Ref.SiteKind(s); !ok {
			return nil, apperr.New(apperr.Invalid, "site.unknown").With("site", s)
		}
	}
	return o.routes.Path(ctx, from, to)
}

func (o *runsAPI) SaveLeg(ctx context.Context, by shipment.Actor, l shipment.Leg) (shipment.Leg, error) {
	return o.routes.Save(ctx, by, l)
}

func (o *runsAPI) RunLegNow(ctx context.Context, a shipment.Actor, id int64) (any, error) {
	leg, err := o.routes.Leg(ctx, id)
	if err != nil {
		return nil, err
	}
	if !leg.Active {
		return nil, apperr.New(apperr.Conflict, "route.inactive").With("id", id)
	}
	run, err := o.ledger.MakeRun(ctx, leg, time.Now(), "admin:"+a.Username, o.sched.BookHook)
	if errors.Is(err, postgres.ErrSlotTaken) {
		return nil, apperr.New(apperr.Conflict, "run.slot_taken")
	}
	if err != nil {
		return nil, err
	}
	if run == nil {
		return nil, apperr.New(apperr.Invalid, "run.empty").With("from", leg.From).With("to", leg.To)
	}
	return run, nil
}

func (o *runsAPI) Runs(ctx context.Context, a shipment.Actor, site, status string, limit int) (any, error) {
	return o.ledger.Runs(ctx, a, postgres.RunFilter{Site: site, Status: status, Limit: limit})
}

func (o *runsAPI) Run(ctx context.Context, a shipment.Actor, no string) (any, error) {
	return o.ledger.Run(ctx, a, no)
}

func (o *runsAPI) CloseRun(ctx context.Context, a shipment.Actor, no string) (any, error) {
	return o.runs.CloseRun(ctx, a, no)
}

func (o *runsAPI) Manifest(ctx context.Context, a shipment.Actor, no string) (labels.Manifest, error) {
	return o.ledger.ManifestFor(ctx, a, no)
}

func (o *runsAPI) BagLabel(ctx context.Context, a shipment.Actor, no string) (labels.BagLabel, error) {
	return o.ledger.BagLabelFor(ctx, a, no)
}

func (o *runsAPI) Calendar(ctx context.Context) (map[string]string, error) {
	return o.ledger.Calendar(ctx)
}

func (o *runsAPI) SetCalendarDay(ctx context.Context, by shipment.Actor, day, kind, note string) error {
	if _, err := schedule.ParseDate(day); err != nil {
		return err
	}
	return o.ledger.SetCalendarDay(ctx, by, day, kind, strings.TrimSpace(note))
}

func (o *runsAPI) Jobs(ctx context.Context) (any, error) {
	settings, err := o.ledger.JobSettings(ctx)
	if err != nil {
		return nil, err
	}
	runs, err := o.ledger.JobRuns(ctx, "", 20)
	if err != nil {
		return nil, err
	}
	return map[string]any{"items": settings, "recent_runs": runs}, nil
}

func (o *runsAPI) SaveJob(ctx context.Context, by shipment.Actor, name string, enabled bool, spec string, params []byte) (any, error) {
	if _, err := schedule.Parse(spec); err != nil {
		return nil, err
	}
	return o.ledger.SaveJobSetting(ctx, by, postgres.JobSetting{Name: name, Enabled: enabled, Schedule: spec,
		Params: json.RawMessage(params)})
}

func (o *runsAPI) JobRuns(ctx context.Context, name string, limit int) (any, error) {
	found := false
	for _, j := range postgres.DefaultJobs {
		found = found || j.Name == name
	}
	if !found {
		return nil, apperr.New(apperr.NotFound, "job.not_found").With("name", name)
	}
	return o.ledger.JobRuns(ctx, name, limit)
}

// RunJobNow runs a job by hand. A job that fails is answered with its
// recorded run (outcome "failed", the error in its history), not a 500.
func (o *runsAPI) RunJobNow(ctx context.Context, name string) (any, error) {
	run, err := o.ledger.RunJob(ctx, name)
	if err != nil && run.ID != 0 {
		return run, nil
	}
	return run, err
}
