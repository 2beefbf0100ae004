package jobs

import (
	"context"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// OpsStore is what the API's operations need of the database: the runs, the
// calendar and the jobs' settings and history.
type OpsStore[TTx any] interface {
	RunMaker[TTx]
	JobStore
	Calendar(ctx context.Context) (map[string]string, error)
	JobSettings(ctx context.Context) ([]tracking.JobSetting, error)
	JobRuns(ctx context.Context, name string, limit int) ([]tracking.JobRun, error)
}

// Routes keeps the legs of the route network.
type Routes interface {
	LegLister
	Leg(ctx context.Context, id int64) (shipment.Leg, error)
	Path(ctx context.Context, from, to string) ([]string, error)
}

// RunCloser closes a bag's check list (the service's use case).
type RunCloser interface {
	CloseRun(ctx context.Context, a shipment.Actor, no string) (tracking.CloseResult, error)
}

// RunReader lists and shows runs, their manifests and bag labels (the
// service's use cases).
type RunReader interface {
	List(ctx context.Context, a shipment.Actor, site, status string, limit int) ([]tracking.RunView, error)
	Run(ctx context.Context, a shipment.Actor, no string) (*tracking.RunView, error)
	Manifest(ctx context.Context, a shipment.Actor, no string) (labels.Manifest, error)
	BagLabel(ctx context.Context, a shipment.Actor, no string) (labels.BagLabel, error)
}

// RunBookings cancels runs and books them by hand (the service's use cases).
type RunBookings interface {
	CancelRun(ctx context.Context, a shipment.Actor, no, reason string, src shipment.Source) (*tracking.RunView, error)
	BookByHand(ctx context.Context, a shipment.Actor, no, ref, note string) (*tracking.RunView, error)
}

// RunMakerNow makes a leg's run by hand (the service's use case).
type RunMakerNow interface {
	MakeRunNow(ctx context.Context, a shipment.Actor, legID int64) (*tracking.RunView, error)
}

// RunCanceller cancels a run, calling hook in the transaction that did.
type RunCanceller[TTx any] interface {
	CancelRun(ctx context.Context, code shipment.Code, a shipment.Actor, reason string, src shipment.Source, now time.Time,
		check func(service.Run) error, hook func(ctx context.Context, tx TTx, runID int64) error) (*tracking.RunView, error)
}

// Booked makes runs with their courier booking queued in the same
// transaction, and cancels them with the courier's cancel queued likewise,
// through the scheduler's queue: the store of the service's runs made by
// hand and cancelled (service.RunMakeStore, service.RunCancelStore).
type Booked[TTx any] struct {
	Store   RunMaker[TTx]
	Cancels RunCanceller[TTx]
	Routes  Routes
	Sched   *Service[TTx]
}

// CancelRun cancels a run and queues its booking's cancel.
func (b *Booked[TTx]) CancelRun(ctx context.Context, code shipment.Code, a shipment.Actor, reason string, src shipment.Source,
	now time.Time, check func(service.Run) error) (*tracking.RunView, error) {
	return b.Cancels.CancelRun(ctx, code, a, reason, src, now, check, b.Sched.CancelHook)
}

// Leg reads a leg. Errors: route.not_found.
func (b *Booked[TTx]) Leg(ctx context.Context, id int64) (shipment.Leg, error) {
	return b.Routes.Leg(ctx, id)
}

// MakeRun makes the run of leg for slot and queues its booking.
func (b *Booked[TTx]) MakeRun(ctx context.Context, leg shipment.Leg, slot time.Time, madeBy string) (*tracking.RunView, error) {
	return b.Store.MakeRun(ctx, leg, slot, madeBy, b.Sched.BookHook)
}

// SiteKinds answers which sites exist.
type SiteKinds interface {
	SiteKind(code string) (shipment.SiteKind, bool)
}

// Operations answers the API's routes, consolidation runs, calendar and
// scheduled jobs (web.Operations); making a run by hand and closing a check
// list are the service's use cases, and so are the edits of legs, the
// calendar and the jobs' settings (service.Settings).
type Operations[TTx any] struct {
	Store  OpsStore[TTx]
	Closer RunCloser
	Reader RunReader
	Maker  RunMakerNow
	// Bookings cancels runs and books them by hand.
	Bookings RunBookings
	Routes   Routes
	Sites    SiteKinds
	Sched    *Service[TTx]
}

// CancelRun cancels a run not yet picked up.
func (o *Operations[TTx]) CancelRun(ctx context.Context, a shipment.Actor, no, reason string, src shipment.Source) (*tracking.RunView, error) {
	return o.Bookings.CancelRun(ctx, a, no, reason, src)
}

// BookByHand records a booking made by telephone.
func (o *Operations[TTx]) BookByHand(ctx context.Context, a shipment.Actor, no, ref, note string) (*tracking.RunView, error) {
	return o.Bookings.BookByHand(ctx, a, no, ref, note)
}

func (o *Operations[TTx]) Legs(ctx context.Context) ([]shipment.Leg, error) {
	return o.Routes.Legs(ctx)
}

func (o *Operations[TTx]) Path(ctx context.Context, from, to string) ([]string, error) {
	for _, s := range []string{from, to} {
		if _, ok := o.Sites.SiteKind(s); !ok {
			return nil, apperr.New(apperr.Invalid, "site.unknown").With("site", s)
		}
	}
	return o.Routes.Path(ctx, from, to)
}

// RunLegNow makes the run of an active leg now, by hand (the service's use
// case).
func (o *Operations[TTx]) RunLegNow(ctx context.Context, a shipment.Actor, id int64) (*tracking.RunView, error) {
	return o.Maker.MakeRunNow(ctx, a, id)
}

func (o *Operations[TTx]) Runs(ctx context.Context, a shipment.Actor, site, status string, limit int) ([]tracking.RunView, error) {
	return o.Reader.List(ctx, a, site, status, limit)
}

func (o *Operations[TTx]) Run(ctx context.Context, a shipment.Actor, no string) (*tracking.RunView, error) {
	return o.Reader.Run(ctx, a, no)
}

func (o *Operations[TTx]) CloseRun(ctx context.Context, a shipment.Actor, no string) (tracking.CloseResult, error) {
	return o.Closer.CloseRun(ctx, a, no)
}

func (o *Operations[TTx]) Manifest(ctx context.Context, a shipment.Actor, no string) (labels.Manifest, error) {
	return o.Reader.Manifest(ctx, a, no)
}

func (o *Operations[TTx]) BagLabel(ctx context.Context, a shipment.Actor, no string) (labels.BagLabel, error) {
	return o.Reader.BagLabel(ctx, a, no)
}

func (o *Operations[TTx]) Calendar(ctx context.Context) (map[string]string, error) {
	return o.Store.Calendar(ctx)
}

// Jobs lists the jobs' settings and every job's 20 newest runs.
func (o *Operations[TTx]) Jobs(ctx context.Context) (tracking.JobsView, error) {
	settings, err := o.Store.JobSettings(ctx)
	if err != nil {
		return tracking.JobsView{}, err
	}
	runs, err := o.Store.JobRuns(ctx, "", 20)
	if err != nil {
		return tracking.JobsView{}, err
	}
	return tracking.JobsView{Items: settings, RecentRuns: runs}, nil
}

// JobRuns lists a job's newest runs. Errors: job.not_found.
func (o *Operations[TTx]) JobRuns(ctx context.Context, name string, limit int) ([]tracking.JobRun, error) {
	found := false
	for _, j := range tracking.DefaultJobs {
		found = found || j.Name == name
	}
	if !found {
		return nil, apperr.New(apperr.NotFound, "job.not_found").With("name", name)
	}
	return o.Store.JobRuns(ctx, name, limit)
}

// RunJobNow runs a job by hand. A job that fails is answered with its
// recorded run (outcome "failed", the error in its history), not a 500.
func (o *Operations[TTx]) RunJobNow(ctx context.Context, name string) (tracking.JobRun, error) {
	run, err := RunJob(ctx, o.Store, o.Sched.UseCases, name)
	if err != nil && run.ID != 0 {
		return run, nil
	}
	return run, err
}

// IntegrityStore reads the event log's digests and the background checks.
type IntegrityStore interface {
	Digests(ctx context.Context, from, to string) ([]tracking.DigestView, error)
	VerifyRunByID(ctx context.Context, id int64) (tracking.VerifyRun, error)
}

// Integrity answers the event log's digests and its checks (web.Integrity);
// a check runs in the background on any instance's queue.
type Integrity[TTx any] struct {
	Store IntegrityStore
	Sched *Service[TTx]
}

func (o *Integrity[TTx]) Digests(ctx context.Context, from, to string) ([]tracking.DigestView, error) {
	return o.Store.Digests(ctx, from, to)
}

func (o *Integrity[TTx]) StartVerify(ctx context.Context, a shipment.Actor, from, to, waybill string) (tracking.VerifyRun, error) {
	return o.Sched.StartVerify(ctx, a.Username, tracking.VerifyScope{From: from, To: to, Waybill: waybill})
}

func (o *Integrity[TTx]) VerifyRun(ctx context.Context, id int64) (tracking.VerifyRun, error) {
	return o.Store.VerifyRunByID(ctx, id)
}
