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
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/schedule"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// BookRunArgs asks for the courier booking of a run.
type BookRunArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind names the job in River.
func (BookRunArgs) Kind() string { return "book_run" }

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

type verifyWorker struct {
	river.WorkerDefaults[VerifyArgs]
	ledger *postgres.Ledger
}

func (w *verifyWorker) Work(ctx context.Context, job *river.Job[VerifyArgs]) error {
	return w.ledger.RunQueuedVerify(ctx, job.Args.ID)
}

func (w *verifyWorker) Timeout(*river.Job[VerifyArgs]) time.Duration { return time.Hour }

// StartVerify queues a check of the event log (chains and digests) for any
// instance's queue to run; its result is read with Ledger.VerifyRunByID.
func (s *Service) StartVerify(ctx context.Context, requestedBy string, scope postgres.VerifyScope) (postgres.VerifyRun, error) {
	var run postgres.VerifyRun
	err := postgres.WithTx(ctx, s.Ledger.Pool, func(tx pgx.Tx) error {
		var err error
		if run, err = s.Ledger.QueueVerify(ctx, tx, requestedBy, scope); err != nil {
			return err
		}
		_, err = s.River.InsertTx(ctx, tx, VerifyArgs{ID: run.ID}, &river.InsertOpts{MaxAttempts: 3})
		return err
	})
	return run, err
}

type bookRunWorker struct {
	river.WorkerDefaults[BookRunArgs]
	ledger  *postgres.Ledger
	carrier tracking.Carrier
}

func (w *bookRunWorker) Work(ctx context.Context, job *river.Job[BookRunArgs]) error {
	b, status, err := w.ledger.RunBooking(ctx, job.Args.RunID)
	if err != nil {
		return err
	}
	if status == "booked" || status == "cancelled" {
		return nil
	}
	ref, berr := w.carrier.Book(ctx, b)
	if err := w.ledger.MarkBooking(ctx, job.Args.RunID, w.carrier.Name(), ref, berr); err != nil {
		return err
	}
	return berr
}

type housekeepingWorker struct {
	river.WorkerDefaults[HousekeepingArgs]
	ledger *postgres.Ledger
}

func (w *housekeepingWorker) Work(ctx context.Context, job *river.Job[HousekeepingArgs]) error {
	_, err := w.ledger.RunJob(ctx, job.Args.Name)
	return err
}

func (w *housekeepingWorker) Timeout(*river.Job[HousekeepingArgs]) time.Duration {
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
func MakeRuns(ctx context.Context, l *postgres.Ledger, due []Due, workers int, hook postgres.RunHook) ([]postgres.RunView, error) {
	var (
		mu   sync.Mutex
		made []postgres.RunView
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
				case errors.Is(err, postgres.ErrSlotTaken):
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
type Service struct {
	Ledger   *postgres.Ledger
	Routes   *postgres.Routes
	River    *river.Client[pgx.Tx]
	Log      *slog.Logger
	Now      func() time.Time
	Interval time.Duration // how often the instance asks what is due (15 s); 0: never
}

// New builds the River client with the workers; Start starts it.
func New(pool *pgxpool.Pool, ledger *postgres.Ledger, routes *postgres.Routes, carrier tracking.Carrier,
	log *slog.Logger, now func() time.Time) (*Service, error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &bookRunWorker{ledger: ledger, carrier: carrier}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &housekeepingWorker{ledger: ledger}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &verifyWorker{ledger: ledger}); err != nil {
		return nil, err
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:       workers,
		Logger:        log.With("component", "river"),
		MaxAttempts:   10,
		JobTimeout:    5 * time.Minute,
		FetchCooldown: 200 * time.Millisecond,
		// The service's role owns no index: River's reindexer (REINDEX needs
		// the owner) reindexes none.
		ReindexerIndexNames: []string{},
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: river: %w", err)
	}
	return &Service{Ledger: ledger, Routes: routes, River: client, Log: log, Now: now, Interval: 15 * time.Second}, nil
}

// BookHook enqueues the courier booking of a run in the transaction that
// made it.
func (s *Service) BookHook(ctx context.Context, tx pgx.Tx, runID int64) error {
	_, err := s.River.InsertTx(ctx, tx, BookRunArgs{RunID: runID}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// Tick asks what is due now and makes it: the runs of every active leg's
// latest slot, and the housekeeping jobs' latest slots. It returns the runs
// this instance made.
func (s *Service) Tick(ctx context.Context) ([]postgres.RunView, error) {
	now := s.Now()
	days, err := s.Ledger.Calendar(ctx)
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
	made, err := MakeRuns(ctx, s.Ledger, due, RunWorkers, s.BookHook)
	for _, run := range made {
		s.Log.Info("run made", "run_no", run.RunNo, "leg", run.LegID, "slot", run.Slot, "parcels", run.ParcelCount)
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	settings, err := s.Ledger.JobSettings(ctx)
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
func (s *Service) claimJob(ctx context.Context, name string, slot time.Time) error {
	return postgres.WithTx(ctx, s.Ledger.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO job_slots (name, slot, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			name, slot.UTC(), s.Now().UTC())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = s.River.InsertTx(ctx, tx, HousekeepingArgs{Name: name, Slot: slot.UTC()},
			&river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}})
		return err
	})
}

// Start starts the job queue's workers and the ticker. The ticker stops
// when ctx is done; the workers when Stop is called.
func (s *Service) Start(ctx context.Context) error {
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
func (s *Service) Stop(ctx context.Context) error {
	return s.River.Stop(ctx)
}
