// Package jobs runs the scheduled work, once across every instance: the
// consolidation runs of each leg at its slots, and the housekeeping jobs
// (reminders, returns, SLA alerts, purges).
//
// Every instance ticks; the database decides. A slot is claimed by a unique
// key (run_slots for legs, job_slots for jobs), so three instances ticking
// at once make one run per slot, and an instance starting after every
// instance was down makes one catch-up run, for the most recent missed slot
// only (schedule.Latest). robfig/cron parses the times of day (in Beijing
// time); the administrators' calendar decides which days count. Durable work
// that follows a claim (the courier booking, a job's run) goes through River,
// the PostgreSQL job queue, enqueued in the same transaction, with retries
// and backoff.
//
// The package defines what it needs of the database as interfaces over the
// database's transaction type TTx (Store, OpsStore, IntegrityStore, Routes);
// internal/postgres implements them with pgx.Tx, and keeps all the SQL.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/schedule"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// RunMaker makes the run of one leg for one slot, calling hook in the
// transaction that made it. A slot already made answers
// tracking.ErrSlotTaken; a slot with nothing waiting, a nil run.
type RunMaker[TTx any] interface {
	MakeRun(ctx context.Context, leg shipment.Leg, slot time.Time, madeBy string,
		hook func(ctx context.Context, tx TTx, runID int64) error) (*tracking.RunView, error)
}

// JobStore records the jobs' runs and does their work, each job a few
// set-based statements.
type JobStore interface {
	// JobParams reads a job's parameters. Errors: job.not_found.
	JobParams(ctx context.Context, name string) (tracking.JobParams, error)
	StartJobRun(ctx context.Context, name string) (tracking.JobRun, error)
	// FinishJobRun records what the run did and fills run as the history
	// shows it.
	FinishJobRun(ctx context.Context, run *tracking.JobRun, rep tracking.JobReport, jerr error) error
	RemindReady(ctx context.Context, firstAfter, every time.Duration) (tracking.JobReport, error)
	AlertSLA(ctx context.Context) (tracking.JobReport, error)
	PurgePersonal(ctx context.Context, after time.Duration) (tracking.JobReport, error)
	MakeDigests(ctx context.Context) (tracking.JobReport, error)
}

// UseCases are the jobs that are use cases of the service layer
// (service.Parcels): the schedule acts through it as every door does.
type UseCases interface {
	// ReturnExpired returns the parcels held past their hold-until date.
	ReturnExpired(ctx context.Context) (tracking.JobReport, error)
}

// CourierSync is the use case of the reconciliation job, when the
// UseCases have it (service.Couriers).
type CourierSync interface {
	// SyncCouriers queries the routes of the bookings whose courier went
	// quiet.
	SyncCouriers(ctx context.Context, quiet time.Duration) (tracking.JobReport, error)
}

// Store is what the scheduler and its workers need of the database. A claim
// and the job it enqueues commit together: the store calls back in its
// transaction.
type Store[TTx any] interface {
	RunMaker[TTx]
	JobStore
	Calendar(ctx context.Context) (map[string]string, error)
	JobSettings(ctx context.Context) ([]tracking.JobSetting, error)
	// ClaimJobSlot claims a job's slot once across instances, calling then
	// in the claiming transaction; false: claimed already.
	ClaimJobSlot(ctx context.Context, name string, slot time.Time, then func(ctx context.Context, tx TTx) error) (bool, error)
	// QueueVerify records a check of the event log, calling then with its
	// id in the same transaction.
	QueueVerify(ctx context.Context, requestedBy string, s tracking.VerifyScope,
		then func(ctx context.Context, tx TTx, id int64) error) (tracking.VerifyRun, error)
	RunQueuedVerify(ctx context.Context, id int64) error
	// RunBooking reads a run's booking.
	RunBooking(ctx context.Context, runID int64) (tracking.BookingState, error)
	// MarkBooking records a change of a run's booking in its history.
	MarkBooking(ctx context.Context, runID int64, m tracking.BookingMark) (tracking.BookingState, error)
	// ParcelBooking reads an express parcel's booking and its order.
	ParcelBooking(ctx context.Context, parcelID int64) (tracking.BookingState, tracking.ExpressOrder, error)
	// MarkParcelBooking records a change of an express parcel's booking.
	MarkParcelBooking(ctx context.Context, parcelID int64, m tracking.BookingMark) (tracking.BookingState, error)
}

// LegLister lists the legs of the route network.
type LegLister interface {
	Legs(ctx context.Context) ([]shipment.Leg, error)
}

// BookRunArgs asks for the courier booking of a run.
type BookRunArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind names the job in River.
func (BookRunArgs) Kind() string { return "book_run" }

// BookParcelArgs asks for the courier booking of an express parcel.
type BookParcelArgs struct {
	ParcelID int64 `json:"parcel_id"`
}

// Kind names the job in River.
func (BookParcelArgs) Kind() string { return "book_parcel" }

// CancelBookingArgs asks for the cancel of a cancelled run's booking.
type CancelBookingArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind names the job in River.
func (CancelBookingArgs) Kind() string { return "cancel_booking" }

// HousekeepingArgs runs one housekeeping job for one slot.
type HousekeepingArgs struct {
	Name string    `json:"name"`
	Slot time.Time `json:"slot"`
}

// Kind names the job in River.
func (HousekeepingArgs) Kind() string { return "housekeeping" }

// VerifyArgs runs a check of the event log an admin started.
type VerifyArgs struct {
	ID int64 `json:"id"`
}

// Kind names the job in River.
func (VerifyArgs) Kind() string { return "verify" }

type verifyWorker[TTx any] struct {
	river.WorkerDefaults[VerifyArgs]
	store Store[TTx]
}

func (w *verifyWorker[TTx]) Work(ctx context.Context, job *river.Job[VerifyArgs]) error {
	return w.store.RunQueuedVerify(ctx, job.Args.ID)
}

func (w *verifyWorker[TTx]) Timeout(*river.Job[VerifyArgs]) time.Duration { return time.Hour }

// StartVerify queues a check of the event log (chains and digests) for any
// instance's queue to run; its result is read with Integrity.VerifyRun.
func (s *Service[TTx]) StartVerify(ctx context.Context, requestedBy string, scope tracking.VerifyScope) (tracking.VerifyRun, error) {
	return s.Store.QueueVerify(ctx, requestedBy, scope, func(ctx context.Context, tx TTx, id int64) error {
		_, err := s.River.InsertTx(ctx, tx, VerifyArgs{ID: id}, &river.InsertOpts{MaxAttempts: 3})
		return err
	})
}

// Carriers are the couriers bookings are made with: Legs books the runs;
// a booking is cancelled by the carrier it was made with (by name).
type Carriers struct {
	Legs    tracking.Carrier
	Express tracking.ExpressCarrier // books express parcels (nil: none are)
	Named   map[string]tracking.Carrier
}

// Of is the carrier named (nil: none).
func (c Carriers) Of(name string) tracking.Carrier {
	if c.Legs != nil && c.Legs.Name() == name {
		return c.Legs
	}
	return c.Named[name]
}

type bookRunWorker[TTx any] struct {
	river.WorkerDefaults[BookRunArgs]
	store    Store[TTx]
	carriers Carriers
	river    func() *river.Client[TTx]
}

// Work books a run's bag once: a booking booked, cancelled or being
// cancelled is left; the courier's answer is recorded in the booking's
// history; an answer retrying cannot change, or the last attempt, fails the
// booking for a person to book by hand.
func (w *bookRunWorker[TTx]) Work(ctx context.Context, job *river.Job[BookRunArgs]) error {
	b, err := w.store.RunBooking(ctx, job.Args.RunID)
	if err != nil {
		return err
	}
	if b.Status != tracking.BookingPending && b.Status != tracking.BookingFailed || b.RunStatus == "cancelled" {
		return nil
	}
	carrier := w.carriers.Legs
	ref, berr := carrier.Book(ctx, b.Booking)
	if berr == nil {
		st, err := w.store.MarkBooking(ctx, job.Args.RunID, tracking.BookingMark{Status: tracking.BookingBooked,
			Carrier: carrier.Name(), Ref: ref, Attempt: true})
		if apperr.CodeOf(err) == "booking.state" {
			// Booked by hand meanwhile: the courier's order is one too many.
			b.Ref = ref
			if cerr := carrier.Cancel(ctx, b.Booking); cerr != nil && !errors.Is(cerr, tracking.ErrManualStep) {
				return cerr
			}
			return nil
		}
		if err != nil {
			return err
		}
		if st.Status == tracking.BookingCancelling {
			// Booked while its run was being cancelled: cancel it too.
			_, err = w.river().Insert(ctx, CancelBookingArgs{RunID: job.Args.RunID}, &river.InsertOpts{MaxAttempts: 8})
		}
		return err
	}
	return failedAttempt(job.JobRow, carrier.Name(), berr, func(m tracking.BookingMark) error {
		_, err := w.store.MarkBooking(ctx, job.Args.RunID, m)
		return err
	})
}

// failedAttempt records a booking's failed attempt (pending, to be tried
// again; failed when retrying cannot help or it was the last) and answers
// the job's error: retried, or cancelled for good.
func failedAttempt(job *rivertype.JobRow, carrier string, berr error, mark func(tracking.BookingMark) error) error {
	final := errors.Is(berr, tracking.ErrPermanent) || job.Attempt >= job.MaxAttempts
	status := tracking.BookingPending
	if final {
		status = tracking.BookingFailed
	}
	if err := mark(tracking.BookingMark{Status: status, Carrier: carrier, Note: fmt.Sprintf("attempt %d: %v", job.Attempt, berr),
		Attempt: true}); err != nil && apperr.CodeOf(err) != "booking.state" {
		return err
	}
	if final {
		return river.JobCancel(berr)
	}
	return berr
}

func (w *bookRunWorker[TTx]) Timeout(*river.Job[BookRunArgs]) time.Duration { return time.Minute }

type bookParcelWorker[TTx any] struct {
	river.WorkerDefaults[BookParcelArgs]
	store    Store[TTx]
	carriers Carriers
}

// Work books an express parcel's delivery once, as a run's booking is
// made: the answer recorded in the booking's history, a final refusal (or
// the last attempt) failing it for a person.
func (w *bookParcelWorker[TTx]) Work(ctx context.Context, job *river.Job[BookParcelArgs]) error {
	b, o, err := w.store.ParcelBooking(ctx, job.Args.ParcelID)
	if err != nil {
		return err
	}
	if b.Status != tracking.BookingPending && b.Status != tracking.BookingFailed || b.ParcelStatus == shipment.Cancelled {
		return nil
	}
	carrier := w.carriers.Express
	if carrier == nil {
		return river.JobCancel(errors.New("jobs: no courier books express parcels"))
	}
	ref, berr := carrier.BookExpress(ctx, o)
	if berr == nil {
		_, err := w.store.MarkParcelBooking(ctx, job.Args.ParcelID, tracking.BookingMark{Status: tracking.BookingBooked,
			Carrier: carrier.Name(), Ref: ref, Attempt: true})
		return err
	}
	return failedAttempt(job.JobRow, carrier.Name(), berr, func(m tracking.BookingMark) error {
		_, err := w.store.MarkParcelBooking(ctx, job.Args.ParcelID, m)
		return err
	})
}

func (w *bookParcelWorker[TTx]) Timeout(*river.Job[BookParcelArgs]) time.Duration { return time.Minute }

type cancelBookingWorker[TTx any] struct {
	river.WorkerDefaults[CancelBookingArgs]
	store    Store[TTx]
	carriers Carriers
}

// Work cancels a cancelled run's booking at its courier; a courier with no
// cancel a program may call (or one that keeps refusing) leaves it to a
// person, and the booking's history says so.
func (w *cancelBookingWorker[TTx]) Work(ctx context.Context, job *river.Job[CancelBookingArgs]) error {
	b, err := w.store.RunBooking(ctx, job.Args.RunID)
	if err != nil {
		return err
	}
	if b.Status != tracking.BookingCancelling {
		return nil
	}
	carrier := w.carriers.Of(b.Carrier)
	cerr := tracking.ErrManualStep
	if carrier != nil {
		cerr = carrier.Cancel(ctx, b.Booking)
	}
	mark := tracking.BookingMark{Status: tracking.BookingCancelled}
	switch {
	case cerr == nil:
	case errors.Is(cerr, tracking.ErrManualStep):
		mark = tracking.BookingMark{Status: tracking.BookingCancelManual, Note: "cancel with the courier by telephone"}
	case job.Attempt >= job.MaxAttempts:
		mark = tracking.BookingMark{Status: tracking.BookingCancelManual, Note: fmt.Sprintf("the courier's cancel failed (%v): cancel by telephone", cerr)}
	default:
		return cerr
	}
	_, err = w.store.MarkBooking(ctx, job.Args.RunID, mark)
	return err
}

type housekeepingWorker[TTx any] struct {
	river.WorkerDefaults[HousekeepingArgs]
	store Store[TTx]
	uc    UseCases
}

func (w *housekeepingWorker[TTx]) Work(ctx context.Context, job *river.Job[HousekeepingArgs]) error {
	_, err := RunJob(ctx, w.store, w.uc, job.Args.Name)
	return err
}

func (w *housekeepingWorker[TTx]) Timeout(*river.Job[HousekeepingArgs]) time.Duration {
	return 30 * time.Minute
}

// RunWorkers is how many runs (of different legs) an instance makes at
// once: run creation is a few large statements, so overlapping them keeps
// both PostgreSQL's CPU and the disk busy.
const RunWorkers = 4

// Due is a leg's slot that is due.
type Due struct {
	Leg  shipment.Leg
	Slot time.Time
}

// MakeRuns makes the runs of the due slots, workers at a time. Slots another
// instance already made are skipped; empty slots make no run. It returns the
// runs made and the errors joined.
func MakeRuns[TTx any](ctx context.Context, l RunMaker[TTx], due []Due, workers int,
	hook func(ctx context.Context, tx TTx, runID int64) error) ([]tracking.RunView, error) {
	var (
		mu   sync.Mutex
		made []tracking.RunView
		errs []error
		wg   sync.WaitGroup
	)
	next := make(chan Due)
	for range max(1, min(workers, len(due))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range next {
				run, err := l.MakeRun(ctx, d.Leg, d.Slot, "schedule", hook)
				mu.Lock()
				switch {
				case errors.Is(err, tracking.ErrSlotTaken):
				case err != nil:
					errs = append(errs, fmt.Errorf("leg %d slot %s: %w", d.Leg.ID, d.Slot.Format(time.RFC3339), err))
				case run != nil:
					made = append(made, *run)
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range due {
		next <- d
	}
	close(next)
	wg.Wait()
	return made, errors.Join(errs...)
}

// Service is the scheduler of one instance.
type Service[TTx any] struct {
	Store    Store[TTx]
	UseCases UseCases
	Routes   LegLister
	River    *river.Client[TTx]
	Log      *slog.Logger
	Now      func() time.Time
	Interval time.Duration // how often the instance asks what is due (15 s); 0: never
}

// New builds the River client on driver (riverpgxv5 on the service's pool)
// with the workers; Start starts it.
func New[TTx any](driver riverdriver.Driver[TTx], store Store[TTx], uc UseCases, routes LegLister, carriers Carriers,
	log *slog.Logger, now func() time.Time, opts ...Option) (*Service[TTx], error) {
	workers := river.NewWorkers()
	var svc *Service[TTx]
	if err := river.AddWorkerSafely(workers, &bookRunWorker[TTx]{store: store, carriers: carriers,
		river: func() *river.Client[TTx] { return svc.River }}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &cancelBookingWorker[TTx]{store: store, carriers: carriers}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &bookParcelWorker[TTx]{store: store, carriers: carriers}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &housekeepingWorker[TTx]{store: store, uc: uc}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &verifyWorker[TTx]{store: store}); err != nil {
		return nil, err
	}
	cfg := &river.Config{
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:       workers,
		Logger:        log.With("component", "river"),
		MaxAttempts:   10,
		JobTimeout:    5 * time.Minute,
		FetchCooldown: 200 * time.Millisecond,
		// The service's role owns no index: River's reindexer (REINDEX needs
		// the owner) reindexes none.
		ReindexerIndexNames: []string{},
	}
	for _, o := range opts {
		o(cfg)
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: river: %w", err)
	}
	svc = &Service[TTx]{Store: store, UseCases: uc, Routes: routes, River: client, Log: log, Now: now, Interval: 15 * time.Second}
	return svc, nil
}

// ExpressHook queues an express parcel's booking in the transaction that
// registered it.
func (s *Service[TTx]) ExpressHook(ctx context.Context, tx TTx, parcelID int64) error {
	_, err := s.River.InsertTx(ctx, tx, BookParcelArgs{ParcelID: parcelID}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// Option changes the job queue's configuration.
type Option func(*river.Config)

// RetryAfter retries a failed job after d, whatever its attempt (tests:
// the courier failing for a while catches up in seconds, not hours).
func RetryAfter(d time.Duration) Option {
	return func(c *river.Config) { c.RetryPolicy = fixedRetry(d) }
}

type fixedRetry time.Duration

func (r fixedRetry) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Duration(r))
}

// CancelHook queues the courier's cancel of a cancelled run's booking in
// the transaction that cancelled the run.
func (s *Service[TTx]) CancelHook(ctx context.Context, tx TTx, runID int64) error {
	_, err := s.River.InsertTx(ctx, tx, CancelBookingArgs{RunID: runID}, &river.InsertOpts{MaxAttempts: 8})
	return err
}

// BookHook enqueues the courier booking of a run in the transaction that
// made it.
func (s *Service[TTx]) BookHook(ctx context.Context, tx TTx, runID int64) error {
	_, err := s.River.InsertTx(ctx, tx, BookRunArgs{RunID: runID}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// Tick asks what is due now and makes it: the runs of every active leg's
// latest slot, and the housekeeping jobs' latest slots. It returns the runs
// this instance made.
func (s *Service[TTx]) Tick(ctx context.Context) ([]tracking.RunView, error) {
	now := s.Now()
	days, err := s.Store.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	kinds := make(map[string]schedule.DayKind, len(days))
	for d, k := range days {
		kinds[d] = schedule.DayKind(k)
	}
	cal, err := schedule.NewCalendar(kinds)
	if err != nil {
		return nil, err
	}
	legs, err := s.Routes.Legs(ctx)
	if err != nil {
		return nil, err
	}
	var due []Due
	for _, leg := range legs {
		if !leg.Active {
			continue
		}
		sched, err := schedule.Parse(leg.Schedule)
		if err != nil {
			s.Log.Warn("leg schedule does not parse", "leg", leg.ID, "schedule", leg.Schedule, "err", err)
			continue
		}
		if slot, ok := schedule.Latest(sched, cal, now, schedule.DefaultLookback); ok {
			due = append(due, Due{Leg: leg, Slot: slot})
		}
	}
	made, err := MakeRuns(ctx, s.Store, due, RunWorkers, s.BookHook)
	for _, run := range made {
		s.Log.Info("run made", "run_no", run.RunNo, "leg", run.LegID, "slot", run.Slot, "parcels", run.ParcelCount)
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	settings, err := s.Store.JobSettings(ctx)
	if err != nil {
		return made, errors.Join(append(errs, err)...)
	}
	for _, js := range settings {
		if !js.Enabled {
			continue
		}
		sched, err := schedule.Parse(js.Schedule)
		if err != nil {
			s.Log.Warn("job schedule does not parse", "job", js.Name, "schedule", js.Schedule, "err", err)
			continue
		}
		slot, ok := schedule.Latest(sched, schedule.EveryDay, now, 2*24*time.Hour)
		if !ok {
			continue
		}
		if err := s.claimJob(ctx, js.Name, slot); err != nil {
			errs = append(errs, err)
		}
	}
	return made, errors.Join(errs...)
}

// claimJob claims a job's slot and enqueues its run, in one transaction.
func (s *Service[TTx]) claimJob(ctx context.Context, name string, slot time.Time) error {
	_, err := s.Store.ClaimJobSlot(ctx, name, slot, func(ctx context.Context, tx TTx) error {
		_, err := s.River.InsertTx(ctx, tx, HousekeepingArgs{Name: name, Slot: slot.UTC()},
			&river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}})
		return err
	})
	return err
}

// Start starts the job queue's workers and the ticker. The ticker stops
// when ctx is done; the workers when Stop is called.
func (s *Service[TTx]) Start(ctx context.Context) error {
	// The queue stops gracefully through Stop, not when ctx ends.
	if err := s.River.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start river: %w", err)
	}
	if s.Interval <= 0 {
		return nil // this instance serves and works the queue, but schedules nothing
	}
	go func() {
		t := time.NewTicker(s.Interval)
		defer t.Stop()
		for {
			if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.Log.Warn("scheduler tick", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop stops the workers, waiting for running jobs at most until ctx ends.
func (s *Service[TTx]) Stop(ctx context.Context) error {
	return s.River.Stop(ctx)
}

// RunJob runs a housekeeping job by name now and records the run in the
// history. A job that fails answers its recorded run and its error.
// Errors: job.not_found.
func RunJob(ctx context.Context, st JobStore, uc UseCases, name string) (tracking.JobRun, error) {
	p, err := st.JobParams(ctx, name)
	if err != nil {
		return tracking.JobRun{}, err
	}
	var fn func(context.Context) (tracking.JobReport, error)
	switch name {
	case tracking.JobReminder:
		first, every := days(p.FirstAfterDays, 3), days(p.EveryDays, 7)
		fn = func(ctx context.Context) (tracking.JobReport, error) { return st.RemindReady(ctx, first, every) }
	case tracking.JobReturn:
		fn = uc.ReturnExpired
	case tracking.JobSLA:
		fn = st.AlertSLA
	case tracking.JobPurge:
		after := days(p.AfterDays, 180)
		fn = func(ctx context.Context) (tracking.JobReport, error) { return st.PurgePersonal(ctx, after) }
	case tracking.JobDigest:
		fn = st.MakeDigests
	case tracking.JobCourierSync:
		quiet := time.Duration(p.QuietMinutes) * time.Minute
		if quiet <= 0 {
			quiet = time.Hour
		}
		cs, ok := uc.(CourierSync)
		if !ok {
			return tracking.JobRun{}, errors.New("jobs: courier_sync: no couriers configured")
		}
		fn = func(ctx context.Context) (tracking.JobReport, error) { return cs.SyncCouriers(ctx, quiet) }
	default:
		return tracking.JobRun{}, apperr.New(apperr.NotFound, "job.not_found").With("name", name)
	}
	run, err := st.StartJobRun(ctx, name)
	if err != nil {
		return run, err
	}
	rep, jerr := fn(ctx)
	if err := st.FinishJobRun(ctx, &run, rep, jerr); err != nil {
		return run, err
	}
	return run, jerr
}

func days(n, def int) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * 24 * time.Hour
}
