package shipment

import (
	"slices"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

// ActCorrect (更正) undoes a mistaken scan: a new event that puts the parcel
// back as it was before the parcel's latest change, with a reason. It is not
// a row of the action table (it goes from any state back to the one before),
// so Decide does not take it: DecideCorrect does.
const ActCorrect Action = "correct"

// CorrectRoles may correct: a hall lead the changes made at their hall, an
// admin any.
var CorrectRoles = []Role{RoleAdmin, RoleHallLead}

// CorrectWindow is how long after a change it may still be corrected. Later,
// the personal data a correction would need may be gone, and what happened
// since is better put right by the actions themselves.
const CorrectWindow = 7 * 24 * time.Hour

// CorrectionReasons are the reasons a correction gives.
var CorrectionReasons = []string{
	"wrong_parcel", // 扫错件: another parcel was scanned than the one handled
	"wrong_action", // 操作选错: the station was set to the wrong action
	"too_early",    // 操作过早: recorded before it happened
	"other",
}

// correctable are the actions a correction may undo. Register is undone by
// cancel; book by the run that made it; a correction is not corrected (the
// parcel is scanned again as it really is).
var correctable = []Action{ActPickup, ActReceive, ActShelve, ActReslot, ActCollect, ActDispatch, ActDeliver,
	ActFail, ActReport, ActResolve, ActReturn, ActCancel}

// Change is a parcel's latest state change as a correction undoes it: the
// event's columns and what it recorded of the parcel before it.
type Change struct {
	Seq          int
	Action       Action
	StatusBefore Status
	StatusAfter  Status
	Site         string
	ActorRole    Role
	At           time.Time
	Before       Before
	// Slot is the slot a shelve or reslot put the parcel in, FromSlot the
	// one a reslot took it from.
	Slot, FromSlot string
}

// Before is what an event recorded of the parcel's columns that it changed
// and that its own columns do not say (status_before does for the status).
// A nil field was not changed by the event.
type Before struct {
	Path       []string   `json:"path,omitempty"`
	PathIdx    *int       `json:"path_idx,omitempty"`
	LegMoving  *bool      `json:"leg_moving,omitempty"`
	PrevStatus *Status    `json:"prev_status,omitempty"`
	Slot       *string    `json:"slot,omitempty"`
	Run        *int64     `json:"run,omitempty"`
	RunSealed  *bool      `json:"run_sealed,omitempty"`
	ReadySince *time.Time `json:"ready_since,omitempty"`
	HoldUntil  *time.Time `json:"hold_until,omitempty"`
}

// Empty reports whether the event changed nothing beyond its columns.
func (b Before) Empty() bool {
	return b.Path == nil && b.PathIdx == nil && b.LegMoving == nil && b.PrevStatus == nil && b.Slot == nil &&
		b.Run == nil && b.RunSealed == nil && b.ReadySince == nil && b.HoldUntil == nil
}

// LeavesRun reports whether the action takes a parcel out of the run it
// rides: received, or taken out of the normal way by an exception.
func (a Action) LeavesRun() bool { return slices.Contains(LeaveRunActions, a) }

// LeaveRunActions are the actions after which a parcel rides no run.
var LeaveRunActions = []Action{ActReceive, ActReport, ActFail, ActResolve, ActReturn, ActRecall}

// BeforeOf is what the event of outcome o on p records of p: each column the
// write changes whose old value the event's own columns do not hold.
func BeforeOf(p *Parcel, a Action, o Outcome) Before {
	var b Before
	if len(o.Path) > 0 && !slices.Equal(o.Path, p.Path) {
		b.Path = slices.Clone(p.Path)
	}
	if o.PathIdx != p.PathIdx {
		b.PathIdx = ptr(p.PathIdx)
	}
	if o.LegMoving != p.LegMoving {
		b.LegMoving = ptr(p.LegMoving)
	}
	if o.PrevStatus != p.PrevStatus {
		b.PrevStatus = ptr(p.PrevStatus)
	}
	// Off the shelf, or shelved over a slot it had (a reslot's event says
	// which slot it left as from_slot).
	if p.Slot != "" && (a == ActShelve || (!a.TakesSlot() && o.To != Ready && o.To != Exception)) {
		b.Slot = ptr(p.Slot)
	}
	if a.LeavesRun() {
		if p.CurrentRun != 0 {
			b.Run = ptr(p.CurrentRun)
		}
		if p.RunSealed {
			b.RunSealed = ptr(true)
		}
	}
	if a == ActShelve {
		b.ReadySince, b.HoldUntil = p.ReadySince, p.HoldUntil
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// Restore is what a correction writes: the parcel's columns as they were
// before the change it undoes.
type Restore struct {
	Outcome
	Undoes     Change
	Slot       string
	Run        int64
	RunSealed  bool
	Unshelve   bool // a shelve is undone: the code it made is revoked, the ready times are put back
	ReadySince *time.Time
	HoldUntil  *time.Time
}

// DecideCorrect decides a correction of the parcel's latest change last.
// c.Reason is the correction's reason; undo, when not 0, is the seq of the
// event the corrector saw as the latest (another change since is refused).
// The same correction again at the same site within the repeat window is a
// repeat.
//
// Errors: action.role_forbidden, scan.other_site, correct.other_site
// (forbidden); reason.required, reason.unknown (invalid);
// correct.nothing, correct.already, correct.not_latest, correct.not_allowed, correct.by_schedule,
// correct.too_late (conflict).
func DecideCorrect(p *Parcel, last Change, c Command, undo int) (Restore, error) {
	ref := func(kind apperr.Kind, code string) *apperr.Error {
		return apperr.New(kind, code).With("action", string(ActCorrect)).With("status", string(p.Status))
	}
	if !MayTake(c.Actor.Role, ActCorrect) {
		return Restore{}, ref(apperr.Forbidden, "action.role_forbidden").With("role", string(c.Actor.Role))
	}
	site := c.Site
	if c.Actor.Role.HasSite() {
		if site == "" {
			site = c.Actor.Site
		}
		if site != c.Actor.Site {
			return Restore{}, ref(apperr.Forbidden, "scan.other_site").With("site", site)
		}
	} else if site == "" {
		site = last.Site
		if last.Action == ActCorrect || site == "" {
			site = p.LastSite
		}
	}
	if p.LastAction == ActCorrect && p.LastSite == site && !c.Now.Before(p.LastAt) && c.Now.Sub(p.LastAt) < RepeatWindow {
		return Restore{Outcome: Outcome{Repeat: true, Site: site, From: p.Status, To: p.Status, Path: p.Path,
			PathIdx: p.PathIdx, LegMoving: p.LegMoving, PrevStatus: p.PrevStatus}}, nil
	}
	if c.Reason == "" {
		return Restore{}, apperr.New(apperr.Invalid, "reason.required").OnField("reason")
	}
	if !slices.Contains(CorrectionReasons, c.Reason) {
		return Restore{}, apperr.New(apperr.Invalid, "reason.unknown").OnField("reason").With("reason", c.Reason)
	}
	if undo != 0 && undo != last.Seq {
		return Restore{}, ref(apperr.Conflict, "correct.not_latest").With("seq", last.Seq).With("corrects", undo)
	}
	switch last.Action {
	case ActRegister:
		return Restore{}, ref(apperr.Conflict, "correct.nothing")
	case ActCorrect:
		return Restore{}, ref(apperr.Conflict, "correct.already").With("seq", last.Seq)
	}
	if !slices.Contains(correctable, last.Action) || last.StatusAfter != p.Status || !last.StatusBefore.Valid() {
		return Restore{}, ref(apperr.Conflict, "correct.not_allowed").With("last_action", string(last.Action))
	}
	if last.ActorRole == RoleSystem {
		return Restore{}, ref(apperr.Conflict, "correct.by_schedule").With("last_action", string(last.Action))
	}
	if c.Actor.Role.HasSite() && last.Site != c.Actor.Site {
		return Restore{}, ref(apperr.Forbidden, "correct.other_site").With("site", last.Site)
	}
	if c.Now.Sub(last.At) > CorrectWindow {
		return Restore{}, ref(apperr.Conflict, "correct.too_late").With("last_action", string(last.Action))
	}

	b := last.Before
	r := Restore{Undoes: last, Outcome: Outcome{Site: site, From: p.Status, To: last.StatusBefore,
		Path: p.Path, PathIdx: p.PathIdx, LegMoving: p.LegMoving, PrevStatus: p.PrevStatus},
		Slot: p.Slot, Run: p.CurrentRun, RunSealed: p.RunSealed}
	if b.Path != nil {
		r.Path = slices.Clone(b.Path)
	}
	if b.PathIdx != nil {
		r.PathIdx = *b.PathIdx
	} else if last.Action == ActReceive {
		r.PathIdx = max(p.PathIdx-1, 0) // an event from before detail.before was recorded
	}
	switch {
	case b.LegMoving != nil:
		r.LegMoving = *b.LegMoving
	case last.Action == ActPickup:
		r.LegMoving = false // a bag's set-based pickup records no before
	}
	if b.PrevStatus != nil {
		r.PrevStatus = *b.PrevStatus
	}
	switch {
	case last.Action == ActReslot:
		r.Slot = last.FromSlot
	case b.Slot != nil:
		r.Slot = *b.Slot
	case last.Action == ActShelve:
		r.Slot = ""
	}
	if b.Run != nil {
		r.Run = *b.Run
	}
	if b.RunSealed != nil {
		r.RunSealed = *b.RunSealed
	}
	if last.Action == ActShelve {
		r.Unshelve, r.ReadySince, r.HoldUntil = true, b.ReadySince, b.HoldUntil
	}
	if r.PathIdx >= len(r.Path) {
		return Restore{}, ref(apperr.Conflict, "correct.not_allowed").With("last_action", string(last.Action))
	}
	return r, nil
}
