package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// RunStore closes the check lists of consolidation runs. R is a closed
// check list as the store answers it (the run and its reconciliation).
type RunStore[R any] interface {
	// CloseRun locks the run a run or bag number names, asks check whether
	// it may be closed, and closes it in the same transaction: every parcel
	// of the bag not seen is reported missing from its bag, the extras are
	// listed. Errors: run.not_found, those of check.
	CloseRun(ctx context.Context, code shipment.Code, a shipment.Actor, now time.Time, check func(Run) error) (R, error)
}

// RunMakeStore makes consolidation runs.
type RunMakeStore interface {
	// Leg reads a leg of the route network. Errors: route.not_found.
	Leg(ctx context.Context, id int64) (shipment.Leg, error)
	// MakeRun makes the run of a leg for a slot, set-based, with the
	// courier's booking queued in the same transaction. A slot already made
	// answers tracking.ErrSlotTaken; nothing waiting, a nil run.
	MakeRun(ctx context.Context, leg shipment.Leg, slot time.Time, madeBy string) (*tracking.RunView, error)
}

// RunReadStore reads consolidation runs.
type RunReadStore interface {
	// ListRuns lists runs, newest first, as f says.
	ListRuns(ctx context.Context, f tracking.RunFilter) ([]tracking.RunView, error)
	// RunByCode reads the run a run or bag number names. Errors:
	// run.not_found.
	RunByCode(ctx context.Context, code shipment.Code) (*tracking.RunView, error)
	// RunDetail adds a run's items, extras and booking to r.
	RunDetail(ctx context.Context, r *tracking.RunView) error
	// ManifestParcels lists a run's parcels for its manifest.
	ManifestParcels(ctx context.Context, runID int64) ([]labels.ManifestParcel, error)
}

// BookingStore records what became of a run's booking.
type BookingStore interface {
	// MarkBooking records a change of a run's booking in its history.
	// Errors: booking.state (conflict: the booking's state does not allow it).
	MarkBooking(ctx context.Context, runID int64, m tracking.BookingMark) (tracking.BookingState, error)
}

// RunCancelStore cancels runs.
type RunCancelStore interface {
	// CancelRun locks the run code names, asks check whether it may be
	// cancelled, and cancels it in the same transaction: its parcels wait
	// for the next run (each with an event), its booking is cancelled at the
	// courier by a queued job. Errors: run.not_found, those of check.
	CancelRun(ctx context.Context, code shipment.Code, a shipment.Actor, reason string, src shipment.Source, now time.Time,
		check func(Run) error) (*tracking.RunView, error)
}

// Runs lists and shows consolidation runs with their manifests and bag
// labels, makes them by hand, cancels them before pickup and closes their
// check lists.
type Runs[R any] struct {
	Store     RunStore[R]
	Maker     RunMakeStore
	Reader    RunReadStore
	Canceller RunCancelStore
	Bookings  BookingStore
	Ref       labels.Places
	Now       func() time.Time
}

// Run statuses, as lists filter by them.
var RunStatuses = []string{"sealed", "picked_up", "arrived", "closed", "cancelled"}

// MaxBookingRef bounds a booking reference typed in by hand.
const MaxBookingRef = 40

// BookByHand records a booking made by telephone while the courier's API is
// down, or after the booking failed: the courier's reference (a waybill
// number, or what the dispatcher quoted) and a note. Admins book any run;
// clerks, staff and hall leads those leaving their site. The booking's
// queued attempts then leave it be (it is booked).
//
// Errors: code.* and run.not_run, booking.ref_required, parcel.text_too_long
// (invalid); run.not_found; scan.other_site, action.role_forbidden
// (forbidden); booking.state (conflict: booked already, or cancelled).
func (s *Runs[R]) BookByHand(ctx context.Context, a shipment.Actor, no, ref, note string) (*tracking.RunView, error) {
	ref, note = strings.TrimSpace(ref), strings.TrimSpace(note)
	if ref == "" {
		return nil, apperr.New(apperr.Invalid, "booking.ref_required").OnField("ref")
	}
	if len([]rune(ref)) > MaxBookingRef {
		return nil, apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("ref").With("field", "ref")
	}
	if len([]rune(note)) > MaxCancelReason {
		return nil, apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("note").With("field", "note")
	}
	switch a.Role {
	case shipment.RoleAdmin, shipment.RoleClerk, shipment.RoleStaff, shipment.RoleHallLead:
	default:
		return nil, apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", "book_by_hand")
	}
	r, err := s.visible(ctx, a, no)
	if err != nil {
		return nil, err
	}
	if a.Role.HasSite() && a.Site != r.FromSite {
		return nil, apperr.New(apperr.Forbidden, "scan.other_site").With("site", a.Site)
	}
	if r.Status == "cancelled" {
		return nil, apperr.New(apperr.Conflict, "booking.state").With("booking_status", tracking.BookingCancelled).With("to_status", tracking.BookingBooked)
	}
	if _, err := s.Bookings.MarkBooking(ctx, r.ID, tracking.BookingMark{Status: tracking.BookingBooked, Carrier: "manual",
		Ref: ref, Note: joinText("booked by hand", note), Actor: a.Username}); err != nil {
		return nil, err
	}
	return s.Run(ctx, a, no)
}

func joinText(a, b string) string {
	if b == "" {
		return a
	}
	return a + ": " + b
}

// MaxCancelReason bounds the reason a run is cancelled for.
const MaxCancelReason = 200

// CancelRun cancels a run its courier has not yet picked up (the courier
// will not come, the slot was made by mistake): its parcels wait for the
// next run of their leg, and its booking is cancelled at the courier (or
// marked for a person to cancel by telephone where the courier offers no
// cancel). Admins cancel any run; clerks, staff and hall leads those
// leaving their site.
//
// Errors: code.* and run.not_run, reason.required, parcel.text_too_long
// (invalid); run.not_found; scan.other_site, action.role_forbidden
// (forbidden); run.not_cancellable (conflict: picked up already, or
// cancelled).
func (s *Runs[R]) CancelRun(ctx context.Context, a shipment.Actor, no, reason string, src shipment.Source) (*tracking.RunView, error) {
	code, err := runCode(no)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, apperr.New(apperr.Invalid, "reason.required").OnField("reason")
	}
	if len([]rune(reason)) > MaxCancelReason {
		return nil, apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("reason").With("field", "reason")
	}
	switch a.Role {
	case shipment.RoleAdmin, shipment.RoleClerk, shipment.RoleStaff, shipment.RoleHallLead:
	default:
		return nil, apperr.New(apperr.Forbidden, "action.role_forbidden").With("action", "cancel_run")
	}
	return s.Canceller.CancelRun(ctx, code, a, reason, src, clock(s.Now).Truncate(time.Microsecond), func(r Run) error {
		if a.Role.HasSite() && a.Site != r.FromSite {
			return apperr.New(apperr.Forbidden, "scan.other_site").With("site", a.Site)
		}
		if r.Status != "sealed" {
			return apperr.New(apperr.Conflict, "run.not_cancellable").With("run_status", r.Status)
		}
		return nil
	})
}

// Bounds of a list of runs.
const (
	DefaultRunList = 50
	MaxRunList     = 200
)

// List lists runs, newest first: clerks, staff and hall leads see those
// from or to their own site, whatever site they ask for.
//
// Errors: request.bad_query (invalid: a status or limit out of range).
func (s *Runs[R]) List(ctx context.Context, a shipment.Actor, site, status string, limit int) ([]tracking.RunView, error) {
	if status != "" && !slices.Contains(RunStatuses, status) {
		return nil, apperr.New(apperr.Invalid, "request.bad_query").OnField("status").With("field", "status")
	}
	switch {
	case limit == 0:
		limit = DefaultRunList
	case limit < 1 || limit > MaxRunList:
		return nil, apperr.New(apperr.Invalid, "request.bad_query").OnField("limit").With("field", "limit")
	}
	if a.Role.HasSite() {
		site = a.Site
	}
	return s.Reader.ListRuns(ctx, tracking.RunFilter{Site: site, Status: status, Limit: limit})
}

// Run shows a run with its items, extras and booking to those who may act
// on it (shipment.Actor.MayActOnRun).
//
// Errors: code.* and run.not_run (invalid); run.not_found; scan.other_site
// (forbidden).
func (s *Runs[R]) Run(ctx context.Context, a shipment.Actor, no string) (*tracking.RunView, error) {
	r, err := s.visible(ctx, a, no)
	if err != nil {
		return nil, err
	}
	if err := s.Reader.RunDetail(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// visible reads the run no names, without its items, for those who may act
// on it. Errors: those of Run.
func (s *Runs[R]) visible(ctx context.Context, a shipment.Actor, no string) (*tracking.RunView, error) {
	code, err := runCode(no)
	if err != nil {
		return nil, err
	}
	r, err := s.Reader.RunByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if !a.MayActOnRun(r.FromSite, r.ToSite) {
		return nil, apperr.New(apperr.Forbidden, "scan.other_site").With("site", a.Site)
	}
	return r, nil
}

// Manifest is the handover manifest of a run. Errors: those of Run.
func (s *Runs[R]) Manifest(ctx context.Context, a shipment.Actor, no string) (labels.Manifest, error) {
	r, err := s.visible(ctx, a, no)
	if err != nil {
		return labels.Manifest{}, err
	}
	m := labels.Manifest{RunNo: r.RunNo, BagNo: r.BagNo, SealNo: r.SealNo, CreatedAt: r.CreatedAt,
		Origin: s.place(r.FromSite), Destination: s.place(r.ToSite), Route: r.FromSite + " → " + r.ToSite}
	m.Parcels, err = s.Reader.ManifestParcels(ctx, r.ID)
	return m, err
}

// BagLabel is the label of a run's bag. Errors: those of Run.
func (s *Runs[R]) BagLabel(ctx context.Context, a shipment.Actor, no string) (labels.BagLabel, error) {
	r, err := s.visible(ctx, a, no)
	if err != nil {
		return labels.BagLabel{}, err
	}
	return labels.BagLabel{BagNo: r.BagNo, RunNo: r.RunNo, SealNo: r.SealNo, Parcels: r.ParcelCount, SealedAt: r.CreatedAt,
		Origin: s.place(r.FromSite), Destination: s.place(r.ToSite), Route: r.FromSite + " → " + r.ToSite}, nil
}

func (s *Runs[R]) place(code string) labels.Place {
	site, _ := s.Ref.Site(code)
	return labels.Place{Code: code, Name: site.NameZH}
}

// runCode reads a run's or its bag's number. Errors: code.* and run.not_run
// (invalid).
func runCode(no string) (shipment.Code, error) {
	code, err := shipment.ParseCode(no)
	if err != nil {
		return code, err
	}
	if code.Kind == shipment.KindParcel {
		return code, apperr.New(apperr.Invalid, "run.not_run")
	}
	return code, nil
}

// MakeRunNow makes the run of an active leg now, by hand: what waits for the
// leg goes, with its booking, as the schedule's runs do; the run's slot is
// now, so the schedule's own slot later still makes its run.
//
// Errors: route.not_found; route.inactive, run.slot_taken (conflict);
// run.empty (invalid: nothing waits for the leg).
func (s *Runs[R]) MakeRunNow(ctx context.Context, a shipment.Actor, legID int64) (*tracking.RunView, error) {
	leg, err := s.Maker.Leg(ctx, legID)
	if err != nil {
		return nil, err
	}
	if !leg.Active {
		return nil, apperr.New(apperr.Conflict, "route.inactive").With("id", legID)
	}
	run, err := s.Maker.MakeRun(ctx, leg, clock(s.Now).Truncate(time.Microsecond), "admin:"+a.Username)
	if errors.Is(err, tracking.ErrSlotTaken) {
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

// CloseRun closes a bag's check list at the receiving site: every parcel
// not seen is reported as an exception (missing from its bag), every extra
// parcel scanned while the list was open is listed.
//
// Errors: code.* and run.not_run (invalid); run.not_found; scan.other_site
// (forbidden); run.closed, run.not_arrived (conflict).
func (s *Runs[R]) CloseRun(ctx context.Context, a shipment.Actor, no string) (R, error) {
	var none R
	code, err := runCode(no)
	if err != nil {
		return none, err
	}
	return s.Store.CloseRun(ctx, code, a, clock(s.Now).Truncate(time.Microsecond), func(r Run) error { return mayClose(a, r) })
}

// mayClose: the check list is closed at the receiving site, once, after
// the bag arrived.
func mayClose(a shipment.Actor, r Run) error {
	if a.Role.HasSite() && a.Site != r.ToSite {
		return apperr.New(apperr.Forbidden, "scan.other_site").With("site", a.Site)
	}
	if r.Status == "closed" {
		return apperr.New(apperr.Conflict, "run.closed")
	}
	if r.Status != "arrived" {
		return apperr.New(apperr.Conflict, "run.not_arrived").With("status", r.Status)
	}
	return nil
}
