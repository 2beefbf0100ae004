package shipment

import (
	"slices"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

// RepeatWindow is how long the same action at the same site counts as a repeat.
const RepeatWindow = 60 * time.Second

// Resolution says where a resolved exception goes.
type Resolution string

// The resolutions.
const (
	ResolveRestore Resolution = "restore" // back to the state it came from
	ResolveReroute Resolution = "reroute" // onward on a new path from where it is
	ResolveReturn  Resolution = "return"  // back to the origin
)

// CancelReasons are why a parcel is cancelled before pickup.
var CancelReasons = []string{
	"applicant_withdrew",    // 申请人撤回
	"registered_by_mistake", // 登记有误
	"duplicate",             // 重复登记
	"collected_in_person",   // 申请人已在部门现场领取
	"other",
}

// ReasonsFor are the reasons an action accepts.
func ReasonsFor(a Action) []string {
	if a == ActCancel {
		return CancelReasons
	}
	return Reasons
}

// Reasons are the codes accepted for report and fail (and return).
var Reasons = []string{"damaged", "missing_from_bag", "misrouted", "delivery_failed",
	"recipient_absent", "address_wrong", "refused", "lost", "uncollected", "other"}

// Command is one action on one parcel.
type Command struct {
	Action     Action
	Site       string // where it happens; defaults as Decide documents
	Actor      Actor
	Now        time.Time
	Reason     string
	Resolution Resolution
	// Route computes a path over the route table (nil: direct).
	Route func(from, to string) ([]string, error)
	// Slot is the shelf slot of a shelve or reslot, as ParseSlot returns it
	// (the adapter checks it is one of the hall's).
	Slot string
}

// Outcome is what Decide answers: the new state and path position, or Repeat
// when the command repeats the parcel's last action and changes nothing.
type Outcome struct {
	Repeat     bool
	Site       string
	From, To   Status
	Path       []string
	PathIdx    int
	LegMoving  bool
	PrevStatus Status
}

func refuse(kind apperr.Kind, code string, p *Parcel, c Command) *apperr.Error {
	return apperr.New(kind, code).With("action", string(c.Action)).With("status", string(p.Status))
}

// CheckAction refuses what is not an action a scan may take: register is
// not one (a parcel is registered, never scanned into being).
//
// Errors: action.unknown (invalid).
func CheckAction(a Action) error {
	if !a.Valid() || a == ActRegister {
		return apperr.New(apperr.Invalid, "action.unknown").With("action", string(a))
	}
	return nil
}

// MayCancel reports whether the actor may cancel the parcel now: Decide's
// answer to a cancel with a valid reason (the pages offer the form only then).
func MayCancel(p *Parcel, a Actor) bool {
	_, err := Decide(p, Command{Action: ActCancel, Actor: a, Reason: CancelReasons[0]})
	return err == nil
}

// Decide applies a command to a parcel's current state without side effects.
//
// The site defaults to the actor's home site for clerks and staff (who may act
// only there: scan.other_site), and for couriers, admins and the system to the
// site the action is expected at (the leg's origin for pickup, the next site
// for receive, the current site otherwise).
//
// Errors: action.unknown, action.role_forbidden, scan.other_site (forbidden);
// state.final, state.not_allowed, scan.wrong_site, cancel.not_owner,
// cancel.run_sealed, book.at_destination, shelve.not_destination,
// dispatch.not_express, return.at_origin, receive.not_picked_up,
// reslot.same_slot (conflict); reason.required, reason.unknown,
// resolution.unknown, slot.required (invalid).
func Decide(p *Parcel, c Command) (Outcome, error) {
	a := c.Action
	if err := CheckAction(a); err != nil {
		return Outcome{}, err
	}
	if !MayTake(c.Actor.Role, a) {
		return Outcome{}, refuse(apperr.Forbidden, "action.role_forbidden", p, c).With("role", string(c.Actor.Role))
	}
	site := c.Site
	if c.Actor.Role.HasSite() {
		if site == "" {
			site = c.Actor.Site
		}
		if site != c.Actor.Site {
			return Outcome{}, refuse(apperr.Forbidden, "scan.other_site", p, c).With("site", site)
		}
	} else if site == "" {
		site = expectedSite(p, a)
	}

	// A repeat is recognised before the state check: the first scan already
	// moved the parcel. Without a site given, the last one is the one meant.
	repeatSite := site
	if c.Site == "" && !c.Actor.Role.HasSite() {
		repeatSite = p.LastSite
	}
	// A shelve or reslot into another slot is not a repeat of the last one.
	sameSlot := (a != ActShelve && a != ActReslot) || c.Slot == p.Slot
	if p.LastAction == a && p.LastSite == repeatSite && sameSlot && !c.Now.Before(p.LastAt) && c.Now.Sub(p.LastAt) < RepeatWindow {
		return Outcome{Repeat: true, Site: repeatSite, From: p.Status, To: p.Status, Path: p.Path,
			PathIdx: p.PathIdx, LegMoving: p.LegMoving, PrevStatus: p.PrevStatus}, nil
	}
	if p.Status.Final() {
		return Outcome{}, refuse(apperr.Conflict, "state.final", p, c)
	}
	if !slices.Contains(From(a), p.Status) {
		return Outcome{}, refuse(apperr.Conflict, "state.not_allowed", p, c)
	}

	o := Outcome{Site: site, From: p.Status, Path: p.Path, PathIdx: p.PathIdx, LegMoving: p.LegMoving, PrevStatus: p.PrevStatus}
	wrongSite := func(expected string) (Outcome, error) {
		return Outcome{}, refuse(apperr.Conflict, "scan.wrong_site", p, c).With("site", site).With("expected", expected)
	}
	needReason := func() error {
		if c.Reason == "" {
			return apperr.New(apperr.Invalid, "reason.required").OnField("reason")
		}
		if !slices.Contains(ReasonsFor(a), c.Reason) {
			return apperr.New(apperr.Invalid, "reason.unknown").OnField("reason").With("reason", c.Reason)
		}
		return nil
	}
	last := len(p.Path) - 1

	switch a {
	case ActBook:
		if p.Status == Returning && p.LegMoving {
			return Outcome{}, refuse(apperr.Conflict, "state.not_allowed", p, c)
		}
		if p.Status == Arrived && p.PathIdx >= last {
			return Outcome{}, refuse(apperr.Conflict, "book.at_destination", p, c)
		}
		if site != p.CurrentSite() {
			return wrongSite(p.CurrentSite())
		}
		o.To = AwaitingPickup
		if p.Status == Returning {
			o.To = Returning
		}
	case ActPickup:
		if p.Status == Returning && p.LegMoving {
			return Outcome{}, refuse(apperr.Conflict, "state.not_allowed", p, c)
		}
		if site != p.CurrentSite() {
			return wrongSite(p.CurrentSite())
		}
		o.To = InTransit
		if p.Status == Returning {
			o.To, o.LegMoving = Returning, true
		}
	case ActReceive:
		if p.Status == Returning && !p.LegMoving {
			return Outcome{}, refuse(apperr.Conflict, "receive.not_picked_up", p, c)
		}
		next := p.NextSite()
		if next == "" || site != next {
			return wrongSite(next)
		}
		o.PathIdx = p.PathIdx + 1
		o.LegMoving = false
		switch {
		case p.Status == Returning && o.PathIdx == last:
			o.To = Returned
		case p.Status == Returning:
			o.To = Returning
		case o.PathIdx == last && p.DestKind == DestDepartment:
			o.To = Delivered
		default:
			o.To = Arrived
		}
	case ActShelve:
		if p.PathIdx != last || p.DestKind != DestHall {
			return Outcome{}, refuse(apperr.Conflict, "shelve.not_destination", p, c)
		}
		if site != p.CurrentSite() {
			return wrongSite(p.CurrentSite())
		}
		o.To = Ready
	case ActReslot:
		if site != p.CurrentSite() {
			return wrongSite(p.CurrentSite())
		}
		if c.Slot == "" {
			return Outcome{}, apperr.New(apperr.Invalid, "slot.required").OnField("slot")
		}
		if c.Slot == p.Slot {
			return Outcome{}, refuse(apperr.Conflict, "reslot.same_slot", p, c).With("slot", c.Slot)
		}
		o.To = Ready
	case ActRecall:
		// Still at its hall: the return's first leg not yet begun, the
		// return leaving from the hall the parcel was ready at.
		if p.DestKind != DestHall || p.PathIdx != 0 || p.LegMoving || len(p.Path) < 2 || p.Path[0] != p.DestSite {
			return Outcome{}, refuse(apperr.Conflict, "recall.left_hall", p, c)
		}
		if p.RunSealed {
			return Outcome{}, refuse(apperr.Conflict, "recall.run_sealed", p, c)
		}
		if site != p.CurrentSite() {
			return wrongSite(p.CurrentSite())
		}
		// Back on the way it came, at its end: the return path reversed.
		o.Path = slices.Clone(p.Path)
		slices.Reverse(o.Path)
		o.PathIdx, o.LegMoving, o.PrevStatus, o.To = len(o.Path)-1, false, "", Ready
	case ActCollect:
		if site != p.CurrentSite() {
			return wrongSite(p.CurrentSite())
		}
		o.To = Collected
	case ActDispatch:
		if p.DestKind != DestAddress {
			return Outcome{}, refuse(apperr.Conflict, "dispatch.not_express", p, c)
		}
		o.To = OutForDelivery
	case ActDeliver:
		o.To = Delivered
	case ActFail:
		if err := needReason(); err != nil {
			return Outcome{}, err
		}
		o.To, o.PrevStatus = Exception, p.Status
	case ActReport:
		if err := needReason(); err != nil {
			return Outcome{}, err
		}
		o.To, o.PrevStatus = Exception, p.Status
	case ActResolve:
		switch c.Resolution {
		case "", ResolveRestore:
			o.To, o.PrevStatus = p.PrevStatus, ""
			if !o.To.Valid() || o.To == Exception {
				o.To = Arrived
			}
		case ResolveReroute:
			cur := p.CurrentSite()
			if cur == p.DestSite && !p.Moving() {
				return Outcome{}, refuse(apperr.Conflict, "resolve.at_destination", p, c)
			}
			path, err := reroute(p, cur, c.Route)
			if err != nil {
				return Outcome{}, err
			}
			o.To, o.PrevStatus = AwaitingPickup, ""
			o.Path, o.PathIdx, o.LegMoving = path, 0, false
		case ResolveReturn:
			if atOrigin(p) {
				return Outcome{}, refuse(apperr.Conflict, "return.at_origin", p, c)
			}
			o.To, o.PrevStatus = Returning, ""
			o.Path, o.LegMoving = returnPath(p, c.Route)
			o.PathIdx = 0
		default:
			return Outcome{}, apperr.New(apperr.Invalid, "resolution.unknown").OnField("resolution")
		}
	case ActReturn:
		if c.Reason != "" {
			if err := needReason(); err != nil {
				return Outcome{}, err
			}
		}
		if atOrigin(p) {
			return Outcome{}, refuse(apperr.Conflict, "return.at_origin", p, c)
		}
		if p.Status != Exception && site != p.CurrentSite() {
			return wrongSite(p.CurrentSite())
		}
		o.To, o.PrevStatus = Returning, ""
		o.Path, o.LegMoving = returnPath(p, c.Route)
		o.PathIdx = 0
	case ActCancel:
		if err := needReason(); err != nil {
			return Outcome{}, err
		}
		if c.Actor.Role != RoleAdmin && c.Actor.ID != p.CreatedBy {
			return Outcome{}, refuse(apperr.Forbidden, "cancel.not_owner", p, c)
		}
		if p.RunSealed {
			return Outcome{}, refuse(apperr.Conflict, "cancel.run_sealed", p, c)
		}
		if p.PathIdx != 0 || p.CurrentSite() != p.OriginSite {
			// Only before the courier collected it.
			return Outcome{}, refuse(apperr.Conflict, "cancel.collected", p, c)
		}
		o.To = Cancelled
	}
	rule, ok := ruleFor(a, o.From, o.To)
	if !ok {
		// Decide and the table disagree: a programming error, never a user's.
		return Outcome{}, apperr.New(apperr.Internal, "internal").With("action", string(a))
	}
	if !slices.Contains(rule.Roles, c.Actor.Role) {
		return Outcome{}, refuse(apperr.Forbidden, "action.role_forbidden", p, c).With("role", string(c.Actor.Role))
	}
	return o, nil
}

// expectedSite is where an action is expected when a courier, admin or the
// system does not say.
func expectedSite(p *Parcel, a Action) string {
	if a == ActReceive {
		return p.NextSite()
	}
	return p.CurrentSite()
}

// atOrigin reports whether the parcel stands at its origin, where a return
// has nowhere to go (cancel it instead).
func atOrigin(p *Parcel) bool {
	return p.CurrentSite() == p.OriginSite && !p.Moving()
}

// ReturnPath is the way back from where the parcel is to its origin. A parcel
// already on its way back keeps the rest of that way; otherwise it retraces
// the sites it passed, ending at the origin.
func ReturnPath(p *Parcel) []string {
	if p.Status == Returning || p.PrevStatus == Returning {
		return slices.Clone(p.Path[min(p.PathIdx, len(p.Path)-1):])
	}
	n := min(p.PathIdx, len(p.Path)-1)
	back := slices.Clone(p.Path[:n+1])
	slices.Reverse(back)
	if p.OriginSite != "" && back[len(back)-1] != p.OriginSite {
		back = append(back, p.OriginSite)
	}
	return back
}

// returnPath is the way back to the origin: over the route table when
// there is one and it has a way, else ReturnPath. A parcel that is between
// two sites (in transit, out for delivery) goes back to the site it left:
// its path starts at the site it was heading for, on the leg back
// (moving=true), so the receive at the site it left counts as the first
// step home.
func returnPath(p *Parcel, route func(from, to string) ([]string, error)) (path []string, moving bool) {
	if p.Status == Returning || p.PrevStatus == Returning {
		return ReturnPath(p), p.LegMoving
	}
	back := ReturnPath(p)
	if route != nil && p.OriginSite != "" {
		if r, err := route(p.CurrentSite(), p.OriginSite); err == nil {
			back = r
		}
	}
	if p.Moving() {
		from := p.NextSite()
		if from == "" {
			from = p.CurrentSite() // out for delivery: the courier brings it back
		}
		return append([]string{from}, back...), true
	}
	return back, false
}

// reroute is a new path from the current site to the destination, over the
// route table when there is one (direct otherwise).
func reroute(p *Parcel, cur string, route func(from, to string) ([]string, error)) ([]string, error) {
	if p.DestKind == DestAddress || cur == p.DestSite {
		return []string{cur}, nil
	}
	if route != nil {
		return route(cur, p.DestSite)
	}
	return []string{cur, p.DestSite}, nil
}

// DecideRedirect decides the recipient's choice of express to the door: a
// certificate bound for a hall, not yet handed over nor on its way back.
// The parcel keeps its state and its way to the hall, except that one on
// the shelf comes off it (its collection code no longer opens it): the
// courier takes it from the hall. It answers the state after.
//
// Errors: redirect.not_allowed (conflict).
func DecideRedirect(p *Parcel) (Status, error) {
	if p.Kind != KindCertificate || p.DestKind != DestHall {
		return "", apperr.New(apperr.Conflict, "redirect.not_allowed").With("status", string(p.Status))
	}
	switch p.Status {
	case Registered, AwaitingPickup, InTransit, Arrived:
		return p.Status, nil
	case Ready:
		return Arrived, nil
	}
	return "", apperr.New(apperr.Conflict, "redirect.not_allowed").With("status", string(p.Status))
}
